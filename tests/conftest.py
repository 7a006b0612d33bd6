"""Shared fixtures: a clean environment per test and AWS (moto) with resources built from template.yaml."""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from moto import mock_aws

from local_runtime.resources import create_resources
from local_runtime.template import load_template
from tests.support import iam
from tests.support.caches import reset_caches

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"
# Every AWS call a handler makes is checked against its function's statements in template.yaml (moto enforces
# no IAM): installed before any test module imports a handler. See tests/support/iam.py.
IAM = iam.install(TEMPLATE)
JWT_TEST_KEY = "test-signing-key-0123456789abcdef0123456789abcdef"
USERS_ENV = {
    "USERS_TABLE": "UsersTable",
    "AUDIT_TABLE": "AuditTable",
    "USER_POOL_ID": "UserPool",
    "USER_POOL_CLIENT_ID": "UserPoolClient",
}
MANAGEMENT_URL = "https://testwsapi.execute-api.us-east-1.amazonaws.com/prod"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in list(os.environ):
        if name.startswith(("AWS_", "POWERTOOLS_")) or name in {
            "ACCOUNTS_TABLE",
            "MESSENGER_TABLE",
            "JWT_SECRET_ARN",
            "AVITO_LIMITS_TABLE",
            "JOBS_TABLE",
            "JOBS_QUEUE_URL",
            "CONNECTIONS_TABLE",
            "WEBSOCKET_MANAGEMENT_URL",
            "TOKENS_TABLE",
            "IDEMPOTENCY_TABLE",
            "USERS_TABLE",
            "AUDIT_TABLE",
            "USER_POOL_ID",
            "USER_POOL_CLIENT_ID",
            "COGNITO_JWKS_URL",
            "TEMPLATES_TABLE",
            "SEARCH_TABLE",
            "TOKENS_KEY_ID",
        }:
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "AvitoService")
    monkeypatch.setenv("PROXY_NETWORKS", "local")  # the tests' proxies listen on loopback, as in the local runtime
    monkeypatch.setenv("ACCOUNT_SECRETS_PREFIX", "avito-service-test/accounts/")
    reset_caches()
    yield
    reset_caches()


@pytest.fixture(autouse=True)
def iam_check() -> Iterator[None]:
    """Fails the test when a handler made an AWS call its function's template policies do not allow."""
    IAM.take_violations()
    yield
    violations = IAM.take_violations()
    if violations:
        listed = "\n".join(f"  {line}" for line in dict.fromkeys(violations))
        pytest.fail(f"AWS calls template.yaml does not allow (IAM, tests/support/iam.py):\n{listed}", pytrace=False)


_MOTO_WRITE_LOCK = threading.RLock()


def _atomic(method: Any) -> Any:
    def locked(*args: Any, **kwargs: Any) -> Any:
        with _MOTO_WRITE_LOCK:
            return method(*args, **kwargs)

    return locked


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """moto with the template's tables, queues and secrets; the functions' table env vars point at them.

    moto checks a write's condition and applies it in separate steps, so concurrent threads can both pass
    a condition that real DynamoDB (atomic per item, serializable transactions) lets only one pass; and it
    builds an answer from the live item after the write (``ReturnValues``, GetItem), so a concurrent write
    can change the item while it is serialized ("dictionary changed size during iteration"). Whole moto
    DynamoDB requests are serialized here to give moto DynamoDB's semantics; the code under test is unchanged.
    """
    from moto.dynamodb.responses import DynamoHandler

    from local_runtime import moto_fast_tx, moto_streams

    monkeypatch.setattr(DynamoHandler, "call_action", _atomic(DynamoHandler.call_action))
    moto_fast_tx.install()  # transactions cost O(items named), not O(table): see local_runtime/moto_fast_tx.py
    moto_streams.install()  # an UpdateItem that creates its item: one INSERT record (local_runtime/moto_streams.py)
    with mock_aws():
        created = create_resources(load_template(TEMPLATE))
        monkeypatch.setenv("ACCOUNTS_TABLE", created["AccountsTable"])
        monkeypatch.setenv("MESSENGER_TABLE", created["MessengerTable"])
        monkeypatch.setenv("TOKENS_TABLE", created["TokensTable"])
        monkeypatch.setenv("TOKENS_KEY_ID", created["TokensKey"])
        monkeypatch.setenv("IDEMPOTENCY_TABLE", created["IdempotencyTable"])
        monkeypatch.setenv("JWT_SECRET_ARN", created["JwtSecret"])
        if "ConnectionsTable" in created:
            monkeypatch.setenv("CONNECTIONS_TABLE", created["ConnectionsTable"])
            monkeypatch.setenv("WEBSOCKET_MANAGEMENT_URL", MANAGEMENT_URL)  # moto's apigatewaymanagementapi
        if "KeepAliveQueue" in created:
            monkeypatch.setenv("KEEPALIVE_QUEUE_URL", created["KeepAliveQueue"])
        monkeypatch.setenv("AVITO_LIMITS_TABLE", created["AvitoLimitsTable"])
        monkeypatch.setenv("JOBS_TABLE", created["JobsTable"])
        monkeypatch.setenv("JOBS_QUEUE_URL", created["JobsQueue"])
        for env_name, logical_id in USERS_ENV.items():
            if logical_id in created:
                monkeypatch.setenv(env_name, created[logical_id])
        for logical_id, variable in (
            ("TemplatesTable", "TEMPLATES_TABLE"),
            ("SearchTable", "SEARCH_TABLE"),
            ("ReportsTable", "REPORTS_TABLE"),
            ("AutoRepliesTable", "AUTO_REPLIES_TABLE"),
        ):
            if logical_id in created:
                monkeypatch.setenv(variable, created[logical_id])
        if "CleanupQueue" in created:
            monkeypatch.setenv("CLEANUP_QUEUE_URL", created["CleanupQueue"])
        import boto3

        boto3.client("secretsmanager").put_secret_value(SecretId=created["JwtSecret"], SecretString=JWT_TEST_KEY)
        reset_caches()
        yield created


@pytest.fixture
def captured_logs() -> Iterator[io.StringIO]:
    """Every JSON log line the service writes during the test (the formatted lines, extras included)."""
    from avito_service.observability import logger

    buffer = io.StringIO()
    handler = logger.registered_handler
    previous = handler.setStream(buffer)
    try:
        yield buffer
    finally:
        handler.setStream(previous)
