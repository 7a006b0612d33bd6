"""Account secrets (client secret, proxy password) in AWS Secrets Manager: one secret per account.

Reads are cached in memory per (secret, secretVersion): the account record carries ``secretVersion``,
bumped on every write, so a warm container never uses a stale password and never re-reads an unchanged one.

Every write is a new Secrets Manager version, and the record pins the one it stands for (``secretVersionId``,
set by the same conditional write that bumps ``secretVersion``): a write that then loses a race (a 409, or a
retry after a concurrent change) leaves an unused version behind and never changes the secret in use.
(So AWSCURRENT is the last version written, not necessarily the one in use: read through the record.)
"""

from __future__ import annotations

import json
import threading

from botocore.exceptions import ClientError

from avito_service import aws, snapstart
from avito_service.accounts.models import AccountSecrets

_cache: dict[tuple[str, int], AccountSecrets] = {}
_lock = threading.Lock()


def create(name: str, secrets: AccountSecrets, *, account_id: str) -> tuple[str, str]:
    """Create the account's secret; returns its ARN and the VersionId of the first version."""
    answer = aws.secrets_client().create_secret(
        Name=name,
        SecretString=secrets.to_json(),
        Description="Avito credentials of one Avito Service account",
        Tags=[{"Key": "avito-service:account-id", "Value": account_id}],
    )
    return answer["ARN"], answer["VersionId"]


def write(arn: str, secrets: AccountSecrets) -> str:
    """Store a new version; returns its VersionId, for the record to pin once its conditional write succeeds."""
    return aws.secrets_client().put_secret_value(SecretId=arn, SecretString=secrets.to_json())["VersionId"]


def read(arn: str, version: int = 0, version_id: str | None = None) -> AccountSecrets:
    """The secret as of the record's ``secretVersion``/``secretVersionId`` (AWSCURRENT for records without one)."""
    key = (arn, version)
    with _lock:
        cached = _cache.get(key)
    if cached is not None:
        return cached
    pinned = {"VersionId": version_id} if version_id else {}
    raw = aws.secrets_client().get_secret_value(SecretId=arn, **pinned)["SecretString"]
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


@snapstart.after_restore  # a restored SnapStart copy reads secrets afresh
def clear_cache() -> None:
    with _lock:
        _cache.clear()
