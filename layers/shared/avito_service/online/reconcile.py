"""Nothing missed: compare Avito's chats with storage and fetch messages only for the chats that changed.

A webhook delivery can be lost (Avito gave up, another integration took it, our endpoint was down); this finds
such messages within 10 minutes for every account with a webhook or eternal online (contract: "Nothing missed").

One pass for an account:

1. Avito's chat listing, newest activity first, 100 a page (the keep-alive's own listing when it runs one:
   ``keepalive.keep_alive_item`` passes it, so an eternal-online account costs no extra call). A further page
   is read only while a whole page changed (at most ``MAX_PAGES``).
2. The stored chats of that page in one BatchGetItem. A chat is *changed* when Avito's ``last_message`` is not
   the stored ``lastMessage`` (by id) and is not older than it. An unchanged chat costs nothing more: no message
   fetch and no write ("keep-alives skip unchanged chats").
3. For each changed chat: its messages, newest first, 100 a call, until a page reaches the stored last message
   (one call in the usual case of a few missed messages; at most ``MAX_MESSAGE_PAGES``). They are stored at most
   once (message keys), and a new incoming unread one is announced on the WebSocket once, as a delivery would be
   (``ChatStore.save_messages``). A chat that is not stored at all is fetched (and announced) when its last
   message is newer than the previous pass (``reconciledAt`` less ``SLACK``): a new chat whose first delivery was
   lost. Older unknown chats are stored without their messages (that is the backfill's job).
4. The changed chats' details (item, client) are stored from the listing.

The scheduled reconciler (``online.reconciler``, every 5 minutes) runs a pass for each account with a webhook or
eternal online whose last pass is older than ``DUE_SECONDS``; the keep-alive runs one as part of its call.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from avito_service import clock
from avito_service.avito.client import AvitoApi
from avito_service.messenger.store import chat_store
from avito_service.observability import logger

PAGE = 100  # Avito's largest chats and messages page
MAX_PAGES = 3  # chat listing pages a pass reads at most (300 chats changed within minutes: a backfill's job)
MAX_MESSAGE_PAGES = 5  # message pages a changed chat is read back at most
SLACK = 120  # seconds: a chat unknown to storage is fetched when active since the last pass less this
RECONCILED_FIELD = "reconciledAt"  # unix seconds of the account's last pass


@dataclass
class ReconcileResult:
    listed: int = 0  # chats Avito listed
    changed: list[str] = field(default_factory=list)  # chats whose messages were fetched
    seen: int = 0  # messages read from Avito for changed chats (each stored at most once)
    calls: int = 0  # Avito calls made by the pass (the listing included when the pass made it)
    at: int = 0


def _last(raw: Mapping[str, Any]) -> tuple[str, int] | None:
    last = raw.get("last_message") or {}
    if not last.get("id"):
        return None
    return str(last["id"]), int(last.get("created") or 0)


def reconcile(
    account_id: str,
    user_id: str,
    client: AvitoApi,
    *,
    previous: int | None,
    first_page: list[dict[str, Any]] | None = None,
    now: float | None = None,
) -> ReconcileResult:
    """One pass for the account (see the module docstring). ``previous``: the last pass's ``reconciledAt`` (None:
    never); ``first_page``: a listing of the newest ``PAGE`` chats made already (the keep-alive's)."""
    result = ReconcileResult(at=int(clock.now() if now is None else now))
    offset = 0
    page = first_page
    for _ in range(MAX_PAGES):
        if page is None:
            page = client.chats(user_id, limit=PAGE, offset=offset)
            result.calls += 1
        result.listed += len(page)
        before = len(result.changed)
        _compare(account_id, user_id, page, previous, result, client)
        if len(result.changed) - before < len(page) or len(page) < PAGE:
            break  # some chat of this page was unchanged: the older ones are too (newest activity first)
        offset += PAGE
        page = None
    if result.changed:
        logger.info(
            "Reconciled missed messages",
            extra={"account_id": account_id, "chats": len(result.changed), "messages": result.seen},
        )
    return result


def _compare(  # noqa: PLR0917 - one page's comparison, its inputs and where the outcome goes
    account_id: str,
    user_id: str,
    page: list[dict[str, Any]],
    previous: int | None,
    result: ReconcileResult,
    client: AvitoApi,
) -> None:
    """Fetch the page's changed chats' messages and store them, and the changed chats' details."""
    store = chat_store()
    stored = {c.id: c for c in store.stored_chats(account_id, [str(r.get("id")) for r in page if r.get("id")])}
    to_save = []
    for raw in page:
        chat_id, last = str(raw.get("id") or ""), _last(raw)
        if not chat_id:
            continue
        known = stored.get(chat_id)
        if known is None:
            to_save.append(raw)
            if last is not None and previous is not None and last[1] >= previous - SLACK:
                _fetch(account_id, user_id, chat_id, None, client, result, announce_new_chat=True)
            continue
        if last is None or known.lastMessage is None:
            if last is not None:
                to_save.append(raw)
                _fetch(account_id, user_id, chat_id, None, client, result)
            continue
        stored_created = int(clock.from_iso(known.lastMessage.createdAt))
        if last[0] == known.lastMessage.id or last[1] < stored_created:
            continue  # unchanged (or Avito's listing is behind what we stored): nothing to do
        to_save.append(raw)
        _fetch(account_id, user_id, chat_id, stored_created, client, result)
    if to_save:
        store.save_chats(account_id, user_id, to_save)


def _fetch(  # noqa: PLR0917 - a chat, how far it is stored, and where the outcome goes
    account_id: str,
    user_id: str,
    chat_id: str,
    stored_created: int | None,
    client: AvitoApi,
    result: ReconcileResult,
    *,
    announce_new_chat: bool = False,
) -> None:
    result.changed.append(chat_id)
    store = chat_store()
    for number in range(MAX_MESSAGE_PAGES):
        raws = client.messages(user_id, chat_id, limit=PAGE, offset=number * PAGE)
        result.calls += 1
        if raws:
            store.save_messages(account_id, user_id, chat_id, raws, announce_new_chat=announce_new_chat)
            result.seen += len(raws)
        reached = stored_created is not None and any(int(r.get("created") or 0) <= stored_created for r in raws)
        if len(raws) < PAGE or reached:
            return
