"""The background cleanup of a deleted account: its stored chats and messages, webhook, secret and leftovers.

``DELETE /accounts/{id}`` removes the account and records a cleanup marker in one transaction
(``accounts.service.delete_account``), then queues ``{"accountId"}`` on ``CleanupQueue``. From that moment
no writer can write for the account (each checks it exists in the same write), so what is left is bounded,
and this worker removes it, each step idempotent, in an order that survives a failure at any point:

1. the webhook subscription at Avito (needs the account's credentials, so before the secret; Avito failing
   is retried ``WEBHOOK_ATTEMPTS`` times, then given up and logged: deliveries to a deleted account's URL
   get 404 and store nothing anyway);
2. chats and messages (``ChatStore.delete_account_data``: found through the ``byAccount`` index), stored
   reviews and calls (their own partitions, ``reviews.store``/``calls.store``);
3. the secret (deleted at once, no recovery window);
4. leftovers under the account's key (snapshots, a cached token).

``byAccount`` is eventually consistent: a chat written just before the delete may reach it a moment later.
So the marker goes only after a pass that found nothing to delete and started at least ``SETTLE_SECONDS``
after the delete; until then the worker queues the account again (with a delay). A failed pass is retried
by SQS (then the dead-letter queue); the function's schedule re-queues every marker still there, so no
cleanup is lost, whatever fails. Queued keep-alives of the account are not removable from SQS one by one:
the keep-alive worker skips them, because the account is gone.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import Field

from avito_service import clock
from avito_service.accounts import service as accounts
from avito_service.accounts import vault
from avito_service.avito import tokens as avito_tokens
from avito_service.base import Model
from avito_service.calls.store import calls_pk
from avito_service.clients.cpa_store import cpa_pk
from avito_service.errors import ServiceError
from avito_service.messenger.store import chat_store
from avito_service.observability import logger
from avito_service.reviews.store import delete_partition, reviews_pk
from avito_service.webhooks.subscriptions import unsubscribe_deleted

SETTLE_SECONDS = 60  # well past the index's propagation delay (typically well under a second)
WEBHOOK_ATTEMPTS = 3


class CleanupRequest(Model):
    accountId: str = Field(min_length=1, max_length=64)


class CleanupIncomplete(Exception):
    """This pass could not finish (a step failed and will be retried): the SQS record fails and comes back."""


def clean_up(account_id: str, *, now: float | None = None) -> bool:
    """One pass over a deleted account's data; True when nothing is left (the marker is gone)."""
    repo = accounts.account_store()
    marker = repo.cleanup_marker(account_id)
    if marker is None:
        return True  # finished earlier: a repeated or late message
    started = clock.now() if now is None else now
    account: dict[str, Any] = dict(marker["account"])
    if account.get("webhookSubscribed") and not marker.get("webhookDone"):
        _unsubscribe(account_id, account, int(marker.get("webhookAttempts", 0)))
    deleted = chat_store().delete_account_data(account_id)
    deleted += delete_partition(reviews_pk(account_id)) + delete_partition(calls_pk(account_id))
    deleted += delete_partition(cpa_pk(account_id))  # the client card's CPA phones (clients/cpa_store.py)
    for secret in ("secretArn", "refreshSecretArn"):  # its credentials; an oauth account's refresh token (issue 28)
        if account.get(secret):
            vault.delete(str(account[secret]))
    deleted += repo.delete_leftovers(account_id)
    avito_tokens.forget_token(account_id)  # its cached Avito token and Messenger-denied marker (TokensTable)
    waited = started - float(marker["deletedAt"])
    if deleted == 0 and waited >= SETTLE_SECONDS:
        repo.delete_cleanup_marker(account_id)
        logger.info("Deleted account cleaned up", extra={"account_id": account_id})
        return True
    delay = max(1, int(SETTLE_SECONDS - waited) + 1)
    if not accounts.queue_cleanup(account_id, delay_seconds=delay):
        raise CleanupIncomplete(f"could not queue the next cleanup pass of account {account_id}")
    logger.info("Deleted account cleanup pass", extra={"account_id": account_id, "deleted": deleted})
    return False


def _unsubscribe(account_id: str, account: dict[str, Any], attempts: int) -> None:
    repo = accounts.account_store()
    try:
        unsubscribe_deleted(account)
    except ServiceError as exc:
        if attempts + 1 < WEBHOOK_ATTEMPTS:
            repo.update_cleanup_marker(account_id, {"webhookAttempts": attempts + 1})
            raise CleanupIncomplete(f"webhook unsubscribe failed ({exc.code}); retried") from None
        logger.warning(
            "Gave up unsubscribing the webhook of a deleted account",
            extra={"account_id": account_id, "reason": exc.message[:200]},
        )
    repo.update_cleanup_marker(account_id, {"webhookDone": True})


def handle_message(body: str) -> bool:
    """One SQS record of ``CleanupQueue``."""
    request = CleanupRequest.model_validate(json.loads(body))
    return clean_up(request.accountId)


def queue_pending() -> int:
    """The schedule's sweep: queue every cleanup still pending (one whose message was lost or dead-lettered)."""
    markers = accounts.account_store().cleanup_markers()
    queued = sum(1 for marker in markers if accounts.queue_cleanup(str(marker["accountId"])))
    if markers:
        logger.info("Pending account cleanups queued", extra={"pending": len(markers), "queued": queued})
    return queued
