"""Account secrets (client secret, proxy password) in AWS Secrets Manager: one secret per account.

Reads are cached in memory per (secret, secretVersion): the account record carries ``secretVersion``,
bumped on every write, so a warm container never uses a stale password and never re-reads an unchanged one.
"""

from __future__ import annotations

import json
import threading

from botocore.exceptions import ClientError

from avito_service import aws
from avito_service.accounts.models import AccountSecrets

_cache: dict[tuple[str, int], AccountSecrets] = {}
_lock = threading.Lock()


def create(name: str, secrets: AccountSecrets, *, account_id: str) -> str:
    """Create the account's secret; returns its ARN."""
    answer = aws.secrets_client().create_secret(
        Name=name,
        SecretString=secrets.to_json(),
        Description="Avito credentials of one Avito Service account",
        Tags=[{"Key": "avito-service:account-id", "Value": account_id}],
    )
    return answer["ARN"]


def write(arn: str, secrets: AccountSecrets) -> None:
    aws.secrets_client().put_secret_value(SecretId=arn, SecretString=secrets.to_json())


def read(arn: str, version: int = 0) -> AccountSecrets:
    key = (arn, version)
    with _lock:
        cached = _cache.get(key)
    if cached is not None:
        return cached
    raw = aws.secrets_client().get_secret_value(SecretId=arn)["SecretString"]
    secrets = AccountSecrets.model_validate(json.loads(raw))
    with _lock:
        for stale in [k for k in _cache if k[0] == arn]:
            del _cache[stale]
        _cache[key] = secrets
    return secrets


def delete(arn: str) -> None:
    """Delete at once (no recovery window): a deleted account's credentials must not linger. Idempotent."""
    with _lock:
        for stale in [k for k in _cache if k[0] == arn]:
            del _cache[stale]
    try:
        aws.secrets_client().delete_secret(SecretId=arn, ForceDeleteWithoutRecovery=True)
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ResourceNotFoundException":
            raise


def clear_cache() -> None:
    with _lock:
        _cache.clear()
