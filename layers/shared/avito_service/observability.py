"""Logger and Metrics, created once per process and shared by every module.

Logs are JSON lines with the correlation id and the Lambda request id (``inject_lambda_context``);
``account_id`` is appended per request. A formatter redacts secret-looking keys as a second line of
defence: code never logs secrets on purpose, and this makes an accident visible instead of harmful.
"""

from __future__ import annotations

import threading
import warnings
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import AmazonCloudWatchEMFProvider

from avito_service import snapstart  # noqa: F401 - every function imports this module: SnapStart hooks registered

SERVICE_NAME = "avito-service"
METRICS_NAMESPACE = "AvitoService"

SENSITIVE_KEYS = frozenset(
    {
        "clientsecret",
        "client_secret",
        "proxypassword",
        "proxy_password",
        "password",
        "access_token",
        "accesstoken",
        "token",
        "authorization",
        "secret",
        "secretstring",
        "webhooktoken",
    },
)
REDACTED = "***"


def redact(value: Any) -> Any:
    """Copy of ``value`` with the values of secret-looking keys replaced, at any depth."""
    if isinstance(value, dict):
        return {k: REDACTED if str(k).lower() in SENSITIVE_KEYS else redact(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    return value


class RedactingFormatter(LambdaPowertoolsFormatter):
    def serialize(self, log: dict[str, Any]) -> str:
        return super().serialize(redact(log))


# Most requests add no metric, and Powertools' `log_metrics` warns about each such flush ("No application metrics
# to publish"): a line of noise in every container's log, locally and in CloudWatch alike. Nothing is lost by
# hiding it: a function that must always emit metrics would use `raise_on_empty_metrics` instead.
warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)


class ThreadSafeEMFProvider(AmazonCloudWatchEMFProvider):
    """Powertools' CloudWatch EMF provider with one lock around every read and write of its shared sets.

    Powertools' Metrics is not thread-safe: ``add_metric`` reads a metric's value list, appends and stores it back,
    and flushes (serialise, print, clear) when a list reaches 100 values, so two threads adding the same metric lose
    values, and a flush racing an add drops or repeats them. The keep-alive worker, the WebSocket fan-out, the inbox
    and the search reads run code that emits metrics (``AvitoTokenFetched``, ``KeepAliveDone``...) on pool threads;
    every such call goes through this lock (re-entrant: ``add_metric`` flushes from inside itself)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lock = threading.RLock()

    def add_metric(self, *args: Any, **kwargs: Any) -> None:
        with self._lock:
            super().add_metric(*args, **kwargs)

    def add_dimension(self, *args: Any, **kwargs: Any) -> None:
        with self._lock:
            super().add_dimension(*args, **kwargs)

    def add_metadata(self, *args: Any, **kwargs: Any) -> None:
        with self._lock:
            super().add_metadata(*args, **kwargs)

    def serialize_metric_set(self, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            return super().serialize_metric_set(*args, **kwargs)

    def flush_metrics(self, *args: Any, **kwargs: Any) -> None:
        with self._lock:
            super().flush_metrics(*args, **kwargs)

    def clear_metrics(self) -> None:
        with self._lock:
            super().clear_metrics()


def _metrics() -> Metrics:
    """Powertools' Metrics over :class:`ThreadSafeEMFProvider`, sharing Metrics' class-wide sets as its own
    provider would (so a ``Metrics()`` made elsewhere, e.g. by a Powertools utility, still adds to the same blob)."""
    shared = Metrics(namespace=METRICS_NAMESPACE, service=SERVICE_NAME)
    shared.provider = ThreadSafeEMFProvider(
        namespace=METRICS_NAMESPACE,
        service=SERVICE_NAME,
        metric_set=shared.metric_set,
        dimension_set=shared.dimension_set,
        metadata_set=shared.metadata_set,
        default_dimensions=shared.default_dimensions,
    )
    return shared


logger = Logger(service=SERVICE_NAME, logger_formatter=RedactingFormatter())
metrics = _metrics()
