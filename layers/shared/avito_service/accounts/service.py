"""Account use cases: create, read, list, update and delete, with secrets kept in Secrets Manager.

The handlers call these functions; they raise the domain errors of ``avito_service.errors``.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import SecretStr

from avito_service import aws, clock
from avito_service.accounts import vault
from avito_service.accounts.models import (
    DEFAULT_INTERVAL,
    PROXY_FIELDS,
    Account,
    AccountContext,
    AccountCreate,
    AccountSecrets,
    AccountUpdate,
    AuthType,
    ConnectionStatus,
    ProxySettings,
    ProxyStatus,
    check_proxy,
)
from avito_service.accounts.store import LIST_PK, ONLINE_PK, Change, ConditionFailed, account_store
from avito_service.config import get_settings
from avito_service.errors import Conflict, FieldError, NotFound, ValidationFailed
from avito_service.observability import logger

UPDATE_ATTEMPTS = 5
CREDENTIAL_FIELDS = frozenset({"clientId", "clientSecret"})


def secret_name(account_id: str) -> str:
    return f"{get_settings().account_secrets_prefix}{account_id}"


def _proxy_status(proxy_type: Any) -> str:
    return (ProxyStatus.UNKNOWN if proxy_type else ProxyStatus.NOT_CONFIGURED).value


def _dump(value: Any) -> Any:
    return value.value if hasattr(value, "value") else value


def create_account(body: AccountCreate, *, now: float | None = None) -> Account:
    """Write the secret, then the record; if the record cannot be written, the secret is deleted again."""
    account_id = str(uuid.uuid4())
    created = clock.iso(now)
    secrets = AccountSecrets(clientSecret=body.clientSecret, proxyPassword=body.proxyPassword)
    item: dict[str, Any] = {
        "pk": f"ACCOUNT#{account_id}",
        "sk": "PROFILE",
        "id": account_id,
        "name": body.name,
        "clientId": body.clientId,
        "hasClientSecret": True,
        "hasProxyPassword": body.proxyPassword is not None,
        "connectionStatus": ConnectionStatus.UNKNOWN.value,
        "proxyStatus": _proxy_status(body.proxyType),
        "eternalOnlineEnabled": body.eternalOnlineEnabled,
        "onlineKeepAliveInterval": body.onlineKeepAliveInterval,
        "isOnline": False,
        "webhookSubscribed": False,
        "version": 1,
        "secretVersion": 1,
        "createdAt": created,
        "updatedAt": created,
        "listPk": LIST_PK,
        "listSk": f"{created}#{account_id}",
    }
    for name in ("userId", "proxyType", "proxyHost", "proxyPort", "proxyLogin"):
        if getattr(body, name) is not None:
            item[name] = _dump(getattr(body, name))
    if body.eternalOnlineEnabled:
        item.update(onlinePk=ONLINE_PK, nextDueAt=int(clock.now() if now is None else now))

    repo = account_store()
    if repo.client_owner(body.clientId):
        raise Conflict("An account with this clientId already exists.", code="duplicate_client_id")
    item["secretArn"], item["secretVersionId"] = vault.create(secret_name(account_id), secrets, account_id=account_id)
    try:
        repo.create(item)
    except BaseException as exc:
        vault.delete(item["secretArn"])
        if isinstance(exc, ConditionFailed):
            raise Conflict("An account with this clientId already exists.", code="duplicate_client_id") from None
        raise
    logger.info("Account created", extra={"account_id": account_id})
    return Account.from_item(item)


def get_item(account_id: str) -> dict[str, Any]:
    return account_store().existing(account_id)


def get_account(account_id: str) -> Account:
    return Account.from_item(get_item(account_id))


def list_accounts(
    limit: int, cursor: str | None, *, only: frozenset[str] | None = None
) -> tuple[list[Account], str | None]:
    """Accounts in creation order; ``only`` (a limited operator's accounts, users.scope) leaves the others out."""
    if only is not None and not only:
        return [], None
    items, next_cursor = account_store().list_page(limit, cursor, only=only)
    return [Account.from_item(i) for i in items], next_cursor


def update_account(account_id: str, body: AccountUpdate, *, now: float | None = None) -> Account:
    """Partial update. Retried on a lost race over the same fields; a stale ``version`` is a 409.

    An account connected by a consent link (``authType: oauth``) that is given a client id and secret together
    is an account with keys from then on (CPA and call tracking need them): its refresh token is dropped."""
    changes = body.changes()
    for _ in range(UPDATE_ATTEMPTS):
        current = get_item(account_id)
        if body.version is not None and int(current["version"]) != body.version:
            raise _stale(current)
        oauth = current.get("authType") == AuthType.OAUTH.value
        if oauth and CREDENTIAL_FIELDS & changes.keys() and not changes.keys() >= CREDENTIAL_FIELDS:
            raise ValidationFailed(
                "This account was connected by its owner's consent: give clientId and clientSecret together "
                "to switch it to API keys.",
                details=[FieldError(name, "needed with the other one") for name in sorted(CREDENTIAL_FIELDS)],
            )
        try:
            # a copy per attempt: an attempt drops what equals the item it read, which a retry must re-check
            return Account.from_item(_apply_update(current, dict(changes), body.version, now))
        except ConditionFailed:
            latest = account_store().get(account_id)
            if latest is None:
                raise NotFound(f"No account with id '{account_id[:64]}'.", code="account_not_found") from None
            if body.version is not None and int(latest["version"]) != body.version:
                raise _stale(latest) from None
            owner = account_store().client_owner(changes["clientId"]) if "clientId" in changes else None
            if owner and owner != account_id:
                raise Conflict("An account with this clientId already exists.", code="duplicate_client_id") from None
    raise Conflict("The account kept changing while we updated it; try again.", code="concurrent_update")


def _stale(current: dict[str, Any]) -> Conflict:
    return Conflict(
        f"The account was changed by someone else (it is now at version {int(current['version'])}); "
        "read it again and retry.",
        code="stale_version",
    )


def _apply_update(current: dict[str, Any], changes: dict[str, Any], version: int | None, now: float | None) -> dict:
    change = Change(expected_version=version)
    set_values, remove = change.set_values, change.remove
    timestamp = clock.now() if now is None else now

    # Proxy: validate the merged settings, and condition the write on the proxy fields we read.
    proxy_changes = {k: v for k, v in changes.items() if k in PROXY_FIELDS}
    if "proxyType" in proxy_changes and proxy_changes["proxyType"] is None:
        proxy_changes = dict.fromkeys(PROXY_FIELDS)  # clearing the type removes the whole proxy
    if proxy_changes:
        merged = {name: current.get(name) for name in PROXY_FIELDS if name != "proxyPassword"}
        merged["proxyPassword"] = "set" if current.get("hasProxyPassword") else None
        merged.update({k: (_dump(v) if not isinstance(v, SecretStr) else "set") for k, v in proxy_changes.items()})
        check_proxy(merged)
        for name in ("proxyType", "proxyHost", "proxyPort", "proxyLogin", "hasProxyPassword"):
            change.expected_values[name] = current.get(name)
        for name, value in proxy_changes.items():
            if name == "proxyPassword":
                continue
            if value is None:
                remove.add(name)
            else:
                set_values[name] = _dump(value)
        set_values["proxyStatus"] = _proxy_status(merged["proxyType"])
        set_values["connectionStatus"] = ConnectionStatus.UNKNOWN.value

    for name in ("name", "userId"):
        if name in changes:
            if changes[name] is None:
                remove.add(name)
            else:
                set_values[name] = changes[name]
    if "clientId" in changes and changes["clientId"] == current["clientId"]:
        del changes["clientId"]
    if CREDENTIAL_FIELDS & changes.keys():
        set_values["connectionStatus"] = ConnectionStatus.UNKNOWN.value
        _keys_instead_of_consent(current, change)
    if "clientId" in changes:
        set_values["clientId"] = changes["clientId"]

    replan = _apply_online_settings(current, changes, change, timestamp)

    # Secrets: rewrite the account's secret when the client secret or proxy password changes.
    if "clientSecret" in changes or "proxyPassword" in proxy_changes:
        secrets = vault.read(current["secretArn"], int(current.get("secretVersion", 0)), current.get("secretVersionId"))
        if "clientSecret" in changes:
            secrets = secrets.model_copy(update={"clientSecret": changes["clientSecret"]})
        if "proxyPassword" in proxy_changes:
            secrets = secrets.model_copy(update={"proxyPassword": proxy_changes["proxyPassword"]})
        set_values["secretVersionId"] = vault.write(current["secretArn"], secrets)  # in use once the write below wins
        set_values["hasProxyPassword"] = secrets.proxyPassword is not None
        set_values["secretVersion"] = int(current.get("secretVersion", 0)) + 1
        change.expected_values["secretVersion"] = current.get("secretVersion")

    if not set_values and not remove and not changes:
        return current  # nothing to change: the version stays
    set_values["updatedAt"] = clock.iso(timestamp)
    new_client = changes.get("clientId")
    item = account_store().update(current["id"], change, new_client_id=new_client, old_client_id=current["clientId"])
    _after_update(current, changes, replan=replan, now=timestamp, dropped=remove)
    logger.info("Account updated", extra={"account_id": current["id"], "fields": sorted(changes)})
    return item


def _keys_instead_of_consent(current: dict[str, Any], change: Change) -> None:
    """An oauth account given keys (update_account checked both came) is an account with keys from now on."""
    if current.get("authType") == AuthType.OAUTH.value:
        change.set_values.update(authType=AuthType.CLIENT_CREDENTIALS.value, hasClientSecret=True)
        change.remove.add("refreshSecretArn")


def _after_update(
    current: dict[str, Any], changes: dict[str, Any], *, replan: bool, now: float, dropped: set[str]
) -> None:
    """What follows a stored update: forget the cached token of old credentials (and an oauth account's refresh
    token once it has keys), plan keep-alives anew."""
    account_id = str(current["id"])
    if "refreshSecretArn" in dropped and current.get("refreshSecretArn"):
        vault.delete(str(current["refreshSecretArn"]))  # the consent's refresh token is no longer used
    if CREDENTIAL_FIELDS & changes.keys():
        # Imported here: of the many functions that import this module only an update of the credentials needs
        # the Avito token store, and it brings the token sealing's cryptography (AES-GCM), which AccountsGet,
        # AccountsList, StatsHistory, OnlineDisable and the job starters never use (issue 22, cold starts);
        # accounts_update imports it at init, so its cold start (and SnapStart snapshot) still holds it.
        from avito_service.avito import tokens as avito_tokens  # noqa: PLC0415

        avito_tokens.forget_token(account_id)  # the cached Avito token belongs to the old credentials
    if replan:
        # Imported here: only a change of the interval needs the planner (and its SQS client).
        from avito_service.online.schedule import plan_account  # noqa: PLC0415

        plan_account(account_id, now=now)


def _apply_online_settings(current: dict[str, Any], changes: dict[str, Any], change: Change, now: float) -> bool:
    """Put the eternal-online changes into ``change``; True when keep-alives must be planned anew at once.

    A changed interval of an enabled account takes effect at once: a new generation (keep-alives planned for
    the old interval are skipped by the worker) and ``nextDueAt`` now, planned right after the write
    (``online.schedule.plan_account``), not at the next tick or the old interval's next due time (3600 s -> 60 s
    used to leave the account without a keep-alive for up to an hour)."""
    was_enabled = bool(current.get("eternalOnlineEnabled"))
    enabled = bool(changes.get("eternalOnlineEnabled", was_enabled))
    old_interval = int(current.get("onlineKeepAliveInterval") or DEFAULT_INTERVAL)
    interval_changed = "onlineKeepAliveInterval" in changes and int(changes["onlineKeepAliveInterval"]) != old_interval
    if "onlineKeepAliveInterval" in changes:
        change.set_values["onlineKeepAliveInterval"] = changes["onlineKeepAliveInterval"]
    if "eternalOnlineEnabled" in changes:
        change.set_values["eternalOnlineEnabled"] = enabled
    if enabled and (not was_enabled or interval_changed):
        change.set_values.update(onlinePk=ONLINE_PK, nextDueAt=int(now))
        change.add["onlineGeneration"] = 1  # keep-alives planned under older settings are skipped
        return True
    if not enabled and was_enabled:
        change.remove.update({"onlinePk", "nextDueAt"})
        change.add["onlineGeneration"] = 1
    return False


def delete_account(account_id: str, *, now: float | None = None) -> None:
    """Delete the account at once and queue the cleanup of everything it had (``avito_service.accounts.cleanup``).

    One transaction removes the account and its clientId marker and records a cleanup marker: from then on
    every writer's condition check fails, so nothing new is written for it, every read of stored data leaves it
    out (``messenger.store``: the cleanup markers name the hidden accounts), and the marker keeps the cleanup
    alive whatever happens next (the cleanup function's schedule re-queues every marker it finds). A second
    DELETE of the same id is the contract's 404, whether its cleanup is still running or done."""
    repo = account_store()
    item = repo.get(account_id)
    if item is None:
        raise NotFound(f"No account with id '{account_id[:64]}'.", code="account_not_found")
    try:
        repo.delete_to_cleanup(item, now=clock.now() if now is None else now)
    except ConditionFailed:
        if repo.cleanup_marker(account_id) is not None:  # another DELETE won the race: this one is the second
            raise NotFound(f"No account with id '{account_id[:64]}'.", code="account_not_found") from None
        raise Conflict("The account changed while it was deleted; try again.", code="concurrent_update") from None
    logger.info("Account deleted", extra={"account_id": account_id})
    queue_cleanup(account_id)


def queue_cleanup(account_id: str, *, delay_seconds: int = 0) -> bool:
    """Ask the cleanup worker to clean up a deleted account; False (logged) when SQS refused: the marker stays,
    and the cleanup function's schedule queues it again."""
    try:
        aws.sqs_client().send_message(
            QueueUrl=get_settings().cleanup_queue_url,
            MessageBody=json.dumps({"accountId": account_id}),
            DelaySeconds=max(0, min(delay_seconds, 900)),
        )
    except (ClientError, BotoCoreError) as exc:
        logger.warning("Could not queue an account cleanup", extra={"account_id": account_id, "reason": str(exc)[:200]})
        return False
    return True


def load_context(account_id: str) -> AccountContext:
    """The account with its secrets, for talking to Avito on its behalf."""
    item = get_item(account_id)
    return context_from_item(item)


def context_from_item(item: dict[str, Any]) -> AccountContext:
    account = Account.from_item(item)
    secrets = vault.read(item["secretArn"], int(item.get("secretVersion", 0)), item.get("secretVersionId"))
    proxy = None
    if account.proxyType and account.proxyHost and account.proxyPort:
        proxy = ProxySettings(
            type=account.proxyType,
            host=account.proxyHost,
            port=account.proxyPort,
            login=account.proxyLogin,
            password=secrets.proxyPassword,
        )
    return AccountContext(
        account=account, clientSecret=secrets.clientSecret, proxy=proxy, refreshSecretArn=item.get("refreshSecretArn")
    )


def record_fields(
    account_id: str,
    set_values: dict[str, Any],
    remove: set[str] | None = None,
    *,
    bump_version: bool = True,
    now: float | None = None,
) -> Account:
    """Store operational fields (connection status, stats, online state) on the account."""
    values = {**set_values, "updatedAt": clock.iso(now)}
    change = Change(set_values=values, remove=remove or set(), bump_version=bump_version)
    try:
        return Account.from_item(account_store().update(account_id, change))
    except ConditionFailed:
        raise NotFound(f"No account with id '{account_id[:64]}'.", code="account_not_found") from None
