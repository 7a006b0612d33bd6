"""An oauth account's refresh token: one Secrets Manager secret per account (``<prefix><accountId>/oauth``), its
value sealed like the access tokens (``avito.sealing``, bound to the account). Avito rotates the refresh token on
every refresh, so the secret's current version is the one in use: no record pins a version (the access token's
lease in TokensTable makes one container at a time refresh, ``avito.tokens``)."""

from __future__ import annotations

import json

from avito_service import aws
from avito_service.avito import sealing
from avito_service.config import get_settings

FIELD = "refreshToken"


def secret_name(account_id: str) -> str:
    return f"{get_settings().account_secrets_prefix}{account_id}/oauth"


def _document(account_id: str, refresh_token: str) -> str:
    return json.dumps({FIELD: sealing.seal(refresh_token, account_id=account_id, field=FIELD)})


def create(account_id: str, refresh_token: str) -> str:
    """Store the first refresh token; returns the secret's ARN."""
    return aws.secrets_client().create_secret(
        Name=secret_name(account_id),
        SecretString=_document(account_id, refresh_token),
        Description="Avito OAuth refresh token of one Avito Service account (sealed)",
        Tags=[{"Key": "avito-service:account-id", "Value": account_id}],
    )["ARN"]


def write(arn: str, account_id: str, refresh_token: str) -> None:
    aws.secrets_client().put_secret_value(SecretId=arn, SecretString=_document(account_id, refresh_token))


def read(arn: str, account_id: str) -> str:
    raw = aws.secrets_client().get_secret_value(SecretId=arn)["SecretString"]
    return sealing.open_sealed(str(json.loads(raw)[FIELD]), account_id=account_id, field=FIELD)
