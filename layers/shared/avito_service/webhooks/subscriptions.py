"""Webhook subscriptions at Avito: subscribe the account's secret URL, unsubscribe it, report what Avito has.

Subscribing first learns the account's Avito user id from Avito (``self``) and stores it (409 when a stored one
differs), since every delivery is checked against it. Subscribing issues a new 256-bit token (only its hash is
stored), so subscribing again rotates the secret, in two phases (see ``webhooks.tokens``); our earlier URLs for
the account are unsubscribed once Avito confirmed the new one. Avito's ``{"ok": false}`` is a failure (502).
Answers and logs show URLs masked. A deployment without ``WEBHOOK_BASE_URL`` answers a logged 500.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from pydantic import ConfigDict, Field

from avito_service.accounts import service as accounts
from avito_service.avito.client import AvitoApi
from avito_service.base import Model
from avito_service.config import get_settings
from avito_service.errors import Conflict, ServiceError
from avito_service.observability import logger
from avito_service.webhooks.tokens import (
    PENDING_HASH_FIELD,
    TOKEN_HASH_FIELD,
    abandon,
    forget_verified,
    issue_token,
    mask_url,
    promote,
    token_matches,
    webhook_path,
)

WARNING_FIELD = "webhookWarning"


class Subscription(Model):
    url: str
    version: str | None = None


class WebhookStatus(Model):
    subscribed: bool
    url: str | None
    subscriptions: list[Subscription]
    foreign: list[str] = Field(
        default_factory=list,
        description="other URLs subscribed for the account (another integration may take its deliveries), "
        "masked to scheme and host",
    )


class SubscribeRequest(Model):
    """Optional body of ``POST /api/v1/accounts/{id}/webhook``."""

    model_config = ConfigDict(extra="forbid")

    replaceForeign: bool = Field(default=False, description="unsubscribe the other URLs (`foreign`) first")


class WebhookNotConfigured(ServiceError):
    """The deployment has no ``WEBHOOK_BASE_URL``: our fault, not the caller's (a logged 500)."""

    status, code = 500, "webhook_not_configured"


def _base_url() -> str:
    base = get_settings().webhook_base_url.rstrip("/")
    if not base:
        logger.error("WEBHOOK_BASE_URL is not set: webhooks cannot be subscribed or checked")
        raise WebhookNotConfigured(
            "The service has no public webhook URL configured (WEBHOOK_BASE_URL); tell its operator."
        )
    return base


def learn_user_id(account_id: str, item: Mapping[str, Any], client: AvitoApi) -> str:
    """The account's Avito user id as Avito says (``self``), stored when the account had none; 409
    ``user_id_mismatch`` when the stored one differs (every delivery would otherwise be refused)."""
    avito_id = str(client.account_self()["id"])
    stored = item.get("userId")
    if stored in (None, ""):
        accounts.record_fields(account_id, {"userId": avito_id})
        logger.info("Avito user id learnt", extra={"account_id": account_id})
    elif str(stored) != avito_id:
        raise Conflict(
            f"The account's stored Avito user id ({stored}) is not the one its keys belong to ({avito_id}); "
            "correct userId before subscribing, or every delivery would be refused.",
            code="user_id_mismatch",
        )
    return avito_id


def _ours(url: str, account_id: str) -> bool:
    return url.startswith(f"{_base_url()}/{account_id}/")


def _token_of(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1]


def mask_foreign(url: str) -> str:
    """Another integration's URL as answers and logs show it: scheme and host only (its path or query may
    hold that integration's secret), e.g. ``https://hooks.example.com…``."""
    scheme, sep, rest = url.partition("://")
    host = rest.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0].rsplit("@", 1)[-1] if sep else ""
    return f"{scheme}://{host}…" if sep and host else "…"


def split_subscriptions(account_id: str, listed: list[dict[str, Any]], item: Mapping[str, Any]) -> tuple[list, list]:
    """``(active, foreign)``: our URL Avito lists with the account's current token, and every URL that is not
    ours (another integration's). Our own older URLs are neither (``subscribe`` unsubscribes them)."""
    active, foreign = [], []
    for sub in listed:
        url = str(sub.get("url", ""))
        if not _ours(url, account_id):
            foreign.append(sub)
        elif token_matches(item, _token_of(url)):
            active.append(sub)
    return active, foreign


class WebhookWarning(StrEnum):
    """``webhookWarning`` on the account: what the console warns about (see ``webhooks.guard``)."""

    OURS_MISSING = "ours_missing"  # we subscribed, and Avito no longer lists our URL
    FOREIGN = "foreign"  # another integration's URL is subscribed for the account


def warning_of(item: Mapping[str, Any], active: list, foreign: list) -> WebhookWarning | None:
    if item.get(TOKEN_HASH_FIELD) and not active:
        return WebhookWarning.OURS_MISSING
    return WebhookWarning.FOREIGN if foreign else None


def record_warning(account_id: str, item: Mapping[str, Any], warning: WebhookWarning | None) -> None:
    """Store the account's ``webhookWarning`` when it changed (removed when there is none)."""
    if (item.get(WARNING_FIELD) or None) == (warning.value if warning else None):
        return
    if warning is None:
        accounts.record_fields(account_id, {}, {WARNING_FIELD}, bump_version=False)
    else:
        accounts.record_fields(account_id, {WARNING_FIELD: warning.value}, bump_version=False)


def _shown(account_id: str, sub: dict[str, Any]) -> str:
    url = str(sub.get("url", ""))
    return mask_url(url) if _ours(url, account_id) else mask_foreign(url)


def status(account_id: str) -> WebhookStatus:
    item = accounts.get_item(account_id)
    client = AvitoApi(accounts.context_from_item(item))
    listed = client.subscriptions()
    active, foreign = split_subscriptions(account_id, listed, item)
    subscribed = bool(active)
    if subscribed != bool(item.get("webhookSubscribed")):
        accounts.record_fields(account_id, {"webhookSubscribed": subscribed})
    record_warning(account_id, item, warning_of(item, active, foreign))
    shown = [Subscription(url=_shown(account_id, s), version=_version(s)) for s in listed]
    return WebhookStatus(
        subscribed=subscribed,
        url=mask_url(str(active[0]["url"])) if active else None,
        subscriptions=shown,
        foreign=[mask_foreign(str(s.get("url", ""))) for s in foreign],
    )


def subscribe(account_id: str, *, replace_foreign: bool = False) -> WebhookStatus:
    """Rotate in two phases: the new token is accepted alongside the old one until Avito confirmed the new URL;
    only then is it the account's token, and our other URLs are unsubscribed. A failed subscribe changes nothing.
    ``replace_foreign``: every other integration's URL is unsubscribed first (Avito may keep one subscription
    per account, and a foreign one takes the deliveries)."""
    item = accounts.get_item(account_id)
    client = AvitoApi(accounts.context_from_item(item))
    base = _base_url()
    learn_user_id(account_id, item, client)  # deliveries are checked against it: known before Avito sends any
    if replace_foreign:
        _, foreign = split_subscriptions(account_id, client.subscriptions(), item)
        for sub in foreign:
            client.unsubscribe_webhook(str(sub["url"]))
            logger.info(
                "Foreign webhook unsubscribed",
                extra={"account_id": account_id, "url": mask_foreign(str(sub["url"]))},
            )
    token = issue_token(account_id)  # pending: accepted alongside the current token
    url = base + webhook_path(account_id, token)
    try:
        client.subscribe_webhook(url)
    except BaseException:
        abandon(account_id, token)  # the URL Avito still posts to keeps working
        raise
    promote(account_id, token)  # from here on only the new URL is accepted
    accounts.record_fields(account_id, {"webhookSubscribed": True})
    for old in client.subscriptions():
        old_url = str(old.get("url", ""))
        if _ours(old_url, account_id) and old_url != url:
            try:
                client.unsubscribe_webhook(old_url)
            except ServiceError as exc:  # the old URL is refused already; the status lists what Avito still has
                logger.warning(
                    "Could not unsubscribe an old webhook URL",
                    extra={"account_id": account_id, "url": mask_url(old_url), "reason": exc.message},
                )
    logger.info("Webhook subscribed", extra={"account_id": account_id, "url": mask_url(url)})
    return status(account_id)


def unsubscribe(account_id: str) -> WebhookStatus:
    item = accounts.get_item(account_id)
    client = AvitoApi(accounts.context_from_item(item))
    for sub in client.subscriptions():
        if _ours(str(sub.get("url", "")), account_id):
            client.unsubscribe_webhook(str(sub["url"]))
    accounts.record_fields(account_id, {"webhookSubscribed": False}, {TOKEN_HASH_FIELD, PENDING_HASH_FIELD})
    forget_verified(account_id)
    logger.info("Webhook unsubscribed", extra={"account_id": account_id})
    return status(account_id)


def _version(subscription: dict[str, Any]) -> str | None:
    value = subscription.get("version")
    return None if value is None else str(value)


def unsubscribe_deleted(item: Mapping[str, Any]) -> None:
    """Unsubscribe every URL of ours for a deleted account, from the copy of it its cleanup keeps (the account
    record is gone). Idempotent; Avito or proxy failures are raised (the cleanup retries, then gives up)."""
    account_id = str(item["id"])
    client = AvitoApi(accounts.context_from_item(dict(item)))
    for sub in client.subscriptions():
        if _ours(str(sub.get("url", "")), account_id):
            client.unsubscribe_webhook(str(sub["url"]))
    forget_verified(account_id)
    logger.info("Webhook of a deleted account unsubscribed", extra={"account_id": account_id})
