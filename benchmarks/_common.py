"""Helpers shared by the benchmarks: paths, Lambda-like environment, moto setup, tables and JSON output."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from tests.support.caches import reset_caches

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"
RESULTS = Path(__file__).resolve().parent / "results"
CODE_FOLDERS = (".", "layers/shared", "functions", "console")  # the repository, the layer, the CodeUri folders
PYTHONPATH = os.pathsep.join(str(ROOT / p) for p in CODE_FOLDERS)
JWT_KEY = "bench-signing-key-0123456789abcdef0123456789abcdef"

# What the template's Globals give every function, plus what the Lambda runtime sets itself.
LAMBDA_ENV = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_LAMBDA_FUNCTION_NAME": "bench-function",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
    "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
    "POWERTOOLS_SERVICE_NAME": "avito-service",
    "POWERTOOLS_METRICS_NAMESPACE": "AvitoService",
    "POWERTOOLS_LOG_LEVEL": "INFO",  # the template's default LogLevel
    "ACCOUNTS_TABLE": "bench-AccountsTable",
    "MESSENGER_TABLE": "bench-MessengerTable",
    "AVITO_API_URL": "https://api.avito.ru",
    "ACCOUNT_SECRETS_PREFIX": "bench/accounts/",
    "SERVICE_VERSION": "0.1.0",
}

# What a benchmark that runs the service in-process against moto sets first (the seeding of jobs_sync,
# reviews_calls_sync and avito_limits): fake credentials, quiet Powertools, no metrics.
MOTO_RUN_ENV = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "ACCOUNT_SECRETS_PREFIX": "bench/accounts/",
}


def use_moto_env(**extra: str) -> None:
    """This process as a benchmark against moto (``MOTO_RUN_ENV``, then ``extra``)."""
    os.environ.update({**MOTO_RUN_ENV, **extra})


def machine() -> dict[str, Any]:
    return {
        "nproc": os.cpu_count(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (values in any order)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), round(pct / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def summary_ms(seconds: Sequence[float]) -> dict[str, float]:
    ms = [s * 1000 for s in seconds]
    return {
        "n": len(ms),
        "p50_ms": round(statistics.median(ms), 3),
        "p99_ms": round(percentile(ms, 99), 3),
        "mean_ms": round(statistics.fmean(ms), 3),
        "max_ms": round(max(ms), 3),
    }


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def write_results(name: str, data: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps({"benchmark": name, "machine": machine(), **data}, indent=2, ensure_ascii=False))
    return path


def set_lambda_env(**extra: str) -> None:
    """Make this process look like a function: Globals env, quiet logs, no emulator endpoint left over."""
    for name in list(os.environ):
        if name.startswith(("AWS_", "POWERTOOLS_")):
            del os.environ[name]
    os.environ.update(LAMBDA_ENV)
    os.environ.update(extra)


def apply_created(created: dict[str, str]) -> None:
    """Point the package at the created stack: every variable the template sets to a resource's ``!Ref``."""
    from local_runtime.template import load_template

    for name, logical_id in load_template(TEMPLATE).resource_env().items():
        if logical_id in created:
            os.environ[name] = created[logical_id]


@contextlib.contextmanager
def moto_stack() -> Iterator[dict[str, str]]:
    """In-process moto with the template's resources (like the ``aws_env`` test fixture)."""
    import boto3
    from moto import mock_aws

    from local_runtime.resources import create_resources
    from local_runtime.template import load_template

    set_lambda_env()
    with mock_aws():
        created = create_resources(load_template(TEMPLATE))
        apply_created(created)
        boto3.client("secretsmanager").put_secret_value(SecretId=created["JwtSecret"], SecretString=JWT_KEY)
        reset_caches()
        yield created
    reset_caches()


@contextlib.contextmanager
def quiet_output() -> Iterator[None]:
    """Send the service's JSON logs and EMF metrics to /dev/null (Lambda writes them to a pipe, not a tty)."""
    from avito_service.observability import logger

    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        handler = logger.registered_handler
        previous = handler.setStream(sink)
        try:
            yield
        finally:
            handler.setStream(previous)


def create_account(name: str = "Bench shop", client_id: str = "bench-client", user_id: str = "1001", **kw: Any) -> Any:
    from avito_service.accounts import service
    from avito_service.accounts.models import AccountCreate

    body = AccountCreate(name=name, clientId=client_id, clientSecret="bench-secret", userId=user_id, **kw)
    return service.create_account(body)


def run(cmd: Sequence[str], env: dict[str, str] | None = None, timeout: float = 120) -> str:
    return subprocess.run(cmd, env=env, capture_output=True, text=True, check=True, timeout=timeout, cwd=ROOT).stdout
