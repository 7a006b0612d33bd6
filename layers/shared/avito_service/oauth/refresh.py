"""Refreshing an oauth account's access token (Avito's ``refresh_token`` grant), with rotation.

Called by the Avito client as the account's token fetcher, so it runs under the account's fetch lease in
TokensTable (``avito.tokens``): one refresh at a time per account across containers, the others wait for the
stored token. Avito answers a new refresh token with every access token and refuses the old one from then on,
so the new refresh token is written to Secrets Manager *before* the access token is handed out or stored. A
refused refresh is read again once (a container whose lease ran out mid-refresh may have rotated it meanwhile),
then the account is marked ``auth_error``: its owner withdrew the consent, and only a new consent link helps.
"""

from __future__ import annotations

from typing import Any, Protocol

from avito_service.accounts.models import AccountContext, ConnectionStatus
from avito_service.accounts.service import record_fields
from avito_service.avito.errors import AvitoAuthError
from avito_service.oauth import app, refresh_tokens
from avito_service.observability import logger

REFUSED = (
    "Avito refused the account's refresh token: its owner withdrew the consent (or it was used elsewhere). "
    "Send the owner a new consent link to reconnect the account."
)


class TokenGranter(Protocol):
    context: AccountContext

    @property
    def account_id(self) -> str: ...

    def token_grant(self, form: dict[str, str], name: str) -> dict[str, Any]: ...


def refresh(client: TokenGranter) -> tuple[str, Any]:
    """(access token, expires_in) from the account's refresh token, the rotated refresh token stored first."""
    account_id, arn = client.account_id, client.context.refreshSecretArn
    if not arn:
        raise AvitoAuthError(REFUSED, endpoint="token.refresh")
    current = refresh_tokens.read(arn, account_id)
    for attempt in (1, 2):
        try:
            answer = client.token_grant(
                {
                    "grant_type": "refresh_token",
                    "client_id": app.client_id(),
                    "client_secret": app.client_secret(),
                    "refresh_token": current,
                },
                "token.refresh",
            )
        except AvitoAuthError as refused:
            latest = refresh_tokens.read(arn, account_id)
            if attempt == 1 and latest != current:  # rotated by a container whose lease ran out mid-refresh
                current = latest
                continue
            mark_refused(account_id)
            raise AvitoAuthError(REFUSED, http_status=refused.http_status, endpoint="token.refresh") from None
        refresh_tokens.write(arn, account_id, str(answer["refresh_token"]))  # before the access token is used
        logger.info("Avito access token refreshed; refresh token rotated", extra={"account_id": account_id})
        return str(answer["access_token"]), answer.get("expires_in")
    raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises


def mark_refused(account_id: str) -> None:
    logger.warning(
        "Avito refused an oauth refresh token; account needs a new consent", extra={"account_id": account_id}
    )
    record_fields(account_id, {"connectionStatus": ConnectionStatus.AUTH_ERROR.value, "lastError": REFUSED})
