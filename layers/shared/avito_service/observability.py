"""Logger and Metrics, created once per process and shared by every module.

Logs are JSON lines with the correlation id and the Lambda request id (``inject_lambda_context``);
``account_id`` is appended per request. A formatter redacts secret-looking keys as a second line of
defence: code never logs secrets on purpose, and this makes an accident visible instead of harmful.
"""

from __future__ import annotations

import warnings
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

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

logger = Logger(service=SERVICE_NAME, logger_formatter=RedactingFormatter())
metrics = Metrics(namespace=METRICS_NAMESPACE, service=SERVICE_NAME)
