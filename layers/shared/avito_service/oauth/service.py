"""Consent links (contract, "Accounts stay connected"): an admin asks for a link, the account's owner opens it at
Avito and consents, Avito sends the browser to ``GET /oauth/callback?code=&state=``, which creates the account
(``authType: "oauth"``) or, for an owner whose account is already here (a reconnect after ``auth_error``), gives
that account its new consent.

The callback, in the order that keeps the rotating refresh token safe:

1. takes the state (one conditional delete: used, expired and unknown states are refused, nothing is created);
2. exchanges the code at Avito (``authorization_code``), once;
3. stores the refresh token (Secrets Manager, sealed) before the access token is used, then the access token
   (TokensTable, sealed, under the account's fetch lease);
4. asks Avito who consented (``/core/v1/accounts/self``) and creates the account, clientId ``oauth:<userId>`` (one
   account per Avito user), or moves the consent to the existing one.
"""

from __future__ import annotations

import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from avito_service import clock
from avito_service.accounts import vault
from avito_service.accounts.models import (
    DEFAULT_INTERVAL,
    Account,
    AccountContext,
    AccountSecrets,
    AuthType,
    ConnectionStatus,
    ProxyStatus,
)
from avito_service.accounts.service import get_item, record_fields, secret_name
from avito_service.accounts.store import LIST_PK, ConditionFailed, account_store
from avito_service.avito import tokens as avito_tokens
from avito_service.avito.client import AvitoApi
from avito_service.config import get_settings
from avito_service.deadline import current as current_deadline
from avito_service.errors import BadRequest
from avito_service.oauth import app, refresh_tokens, store
from avito_service.oauth.models import DEFAULT_SCOPES, ConnectLink, ConnectLinkCreate
from avito_service.observability import logger

STATE_SECONDS = 24 * 3600


class BadState(BadRequest):
    """A used, expired, unknown or missing state (400, ``invalid_state``)."""

    code = "invalid_state"


class ConsentRefused(BadRequest):
    """The owner refused at Avito, or Avito sent no code (400, ``consent_refused``)."""

    code = "consent_refused"


@dataclass(frozen=True)
class Connected:
    account: Account
    created: bool  # False: an existing account of the same Avito user got the new consent
    created_by: str | None  # who asked for the link (for the audit log)


def create_link(body: ConnectLinkCreate, *, created_by: str, now: float | None = None) -> ConnectLink:
    app.require_configured()
    settings = get_settings()
    issued = time.time() if now is None else now
    expires_at = int(issued + STATE_SECONDS)
    state = secrets.token_urlsafe(32)  # 256 bits, only its digest is stored
    scopes = [scope.value for scope in (body.scopes or DEFAULT_SCOPES)]
    store.put_state(state, {"name": body.name, "scopes": scopes, "createdBy": created_by}, expires_at=expires_at)
    query = {
        "response_type": "code",
        "pro_users_flow": "true",
        "client_id": app.client_id(),
        "scope": ",".join(scopes),
        "state": state,
    }
    if settings.oauth_redirect_url:
        query["redirect_uri"] = settings.oauth_redirect_url
    url = f"{settings.avito_oauth_url}?{urlencode(query, safe=':,')}"
    logger.info("Consent link created", extra={"expires_at": expires_at})
    return ConnectLink(url=url, expiresAt=clock.iso(expires_at))


def complete(code: str | None, state: str | None, error: str | None = None, *, now: float | None = None) -> Connected:
    """The callback: the account created (or reconnected) from the owner's consent; BadState / ConsentRefused."""
    at = time.time() if now is None else now
    pending = store.take_state(state, now=int(at)) if state else None
    if pending is None:
        raise BadState("This link was already used, has expired or is not ours; ask for a new one.")
    if error or not code:
        raise ConsentRefused("The account's owner did not give access at Avito; ask for a new link.")
    app.require_configured()
    account_id = str(uuid.uuid4())
    name = str(pending["name"])
    context = _pending_context(account_id, name, at)
    client = AvitoApi(context)
    answer = client.token_grant(
        {
            "grant_type": "authorization_code",
            "client_id": app.client_id(),
            "client_secret": app.client_secret(),
            "code": code,
        },
        "token.authorization_code",
    )
    # The refresh token first (each refresh rotates it), then the access token, then the first use.
    context.refreshSecretArn = refresh_tokens.create(account_id, str(answer["refresh_token"]))
    _store_access_token(client, str(answer["access_token"]), answer.get("expires_in"))
    try:
        user_id = str(client.account_self()["id"])
        owner = account_store().client_owner(_client_id(user_id))
        if owner is not None:
            return Connected(_reconnect(owner, client, answer, at), created=False, created_by=pending.get("createdBy"))
        account = _create(account_id, name, user_id, context.refreshSecretArn, at)
    except BaseException:
        vault.delete(context.refreshSecretArn)
        avito_tokens.forget_token(account_id)
        raise
    logger.info("Account connected by consent", extra={"account_id": account_id})
    return Connected(account, created=True, created_by=pending.get("createdBy"))


def _client_id(user_id: str) -> str:
    return f"oauth:{user_id}"


def _pending_context(account_id: str, name: str, at: float) -> AccountContext:
    stamp = clock.iso(at)
    account = Account(
        id=account_id,
        name=name,
        clientId="oauth:pending",
        authType=AuthType.OAUTH,
        version=1,
        createdAt=stamp,
        updatedAt=stamp,
    )
    return AccountContext(account=account)


def _store_access_token(client: AvitoApi, access_token: str, expires_in: Any) -> avito_tokens.Token:
    """Store a token Avito just gave (through the token store's lease, as a fetch would)."""
    return client._tokens.get_token(
        client.account_id,
        client._fingerprint(),
        lambda: (access_token, expires_in),
        deadline=current_deadline(get_settings().avito_request_budget),
    )


def _create(account_id: str, name: str, user_id: str, refresh_arn: str, at: float) -> Account:
    created = clock.iso(at)
    token = avito_tokens.TokenStore().remembered(account_id, _oauth_fingerprint(account_id, refresh_arn))
    item: dict[str, Any] = {
        "pk": f"ACCOUNT#{account_id}",
        "sk": "PROFILE",
        "id": account_id,
        "name": name,
        "clientId": _client_id(user_id),
        "userId": user_id,
        "authType": AuthType.OAUTH.value,
        "refreshSecretArn": refresh_arn,
        "hasClientSecret": False,
        "hasProxyPassword": False,
        "connectionStatus": ConnectionStatus.CONNECTED.value,
        "proxyStatus": ProxyStatus.NOT_CONFIGURED.value,
        "lastCheckedAt": created,
        "eternalOnlineEnabled": False,
        "onlineKeepAliveInterval": DEFAULT_INTERVAL,
        "isOnline": False,
        "webhookSubscribed": False,
        "version": 1,
        "secretVersion": 1,
        "createdAt": created,
        "updatedAt": created,
        "listPk": LIST_PK,
        "listSk": f"{created}#{account_id}",
    }
    if token is not None:
        item["tokenExpiresAt"] = clock.iso(token.expires_at)
    # the account's own secret, as every account has (a proxy password may be set later); no client secret
    item["secretArn"], item["secretVersionId"] = vault.create(
        secret_name(account_id), AccountSecrets(), account_id=account_id
    )
    try:
        account_store().create(item)
    except BaseException as exc:
        vault.delete(item["secretArn"])
        if isinstance(exc, ConditionFailed):  # the same owner consented twice at once: the other callback won
            raise BadState("This Avito account was connected by another link at the same moment.") from None
        raise
    return Account.from_item(item)


def _oauth_fingerprint(account_id: str, refresh_arn: str) -> str:
    context = _pending_context(account_id, "", 0)
    context.refreshSecretArn = refresh_arn
    return AvitoApi(context)._fingerprint()


def _reconnect(account_id: str, client: AvitoApi, answer: dict[str, Any], at: float) -> Account:
    """The owner consented again (after ``auth_error``): the existing account takes the new refresh token."""
    current = get_item(account_id)
    arn = current.get("refreshSecretArn")
    if arn:
        refresh_tokens.write(str(arn), account_id, str(answer["refresh_token"]))
    else:  # an account that had keys: it is an oauth account from now on
        arn = refresh_tokens.create(account_id, str(answer["refresh_token"]))
    avito_tokens.forget_token(account_id)
    vault.delete(str(client.context.refreshSecretArn))  # the callback's own copy
    avito_tokens.forget_token(client.account_id)
    context = AccountContext(account=Account.from_item(current).model_copy(update={"authType": AuthType.OAUTH}))
    context.refreshSecretArn = str(arn)
    token = _store_access_token(AvitoApi(context), str(answer["access_token"]), answer.get("expires_in"))
    logger.info("Account reconnected by consent", extra={"account_id": account_id})
    return record_fields(
        account_id,
        {
            "authType": AuthType.OAUTH.value,
            "refreshSecretArn": str(arn),
            "connectionStatus": ConnectionStatus.CONNECTED.value,
            "lastCheckedAt": clock.iso(at),
            "tokenExpiresAt": clock.iso(token.expires_at),
        },
        {"lastError"},
    )
