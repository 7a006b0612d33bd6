"""``GET /chats`` with the chat workflow's filters (contract, "Chat workflow"): status, assignee, "needs a reply"
and tag, besides the account and unread filters of the plain inbox. A read of its own module: the chat list's
function imports neither the workflow's transitions nor the audit log (benchmarks/cold_start.py)."""

from __future__ import annotations

from typing import Any

from avito_service.messenger import inbox
from avito_service.messenger.items import chat_from_item
from avito_service.messenger.models import Chat
from avito_service.messenger.store import ALL_CHATS, chat_store
from avito_service.users import scope
from avito_service.workflow import store
from avito_service.workflow.queries import AWAITING_INDEX


def _index_for(status: str | None, assignee: str | None, awaiting: bool) -> inbox.ShardedIndex:
    """The index that answers the most selective filter: "needs a reply" (oldest first), an assignee, a status;
    otherwise every chat by activity (a tag alone: the activity index, filtered)."""
    if awaiting:
        return AWAITING_INDEX
    if assignee == store.NOBODY:
        return inbox.ShardedIndex(
            store.BY_ASSIGNEE, "assigneePk", lambda s: store.assignee_pk(None, s), "assignee-none"
        )
    if assignee is not None:
        return inbox.ShardedIndex(
            store.BY_ASSIGNEE, "assigneePk", lambda _s: store.assignee_pk(assignee), f"assignee:{assignee}", shards=1
        )
    if status is not None:
        return inbox.ShardedIndex(store.BY_STATUS, "statusPk", lambda s: store.status_pk(status, s), f"status:{status}")
    return ALL_CHATS


def list_chats(
    *,
    caller_id: str,
    account_id: str | None,
    unread_only: bool,
    status: str | None,
    assignee: str | None,
    awaiting: bool,
    tag: str | None,
    limit: int,
    cursor: str | None,
    only: frozenset[str] | None,
) -> tuple[list[Chat], str | None]:
    """``GET /chats`` with the workflow's filters (any of them): one index answers the most selective one, the
    others (and ``accountId``, ``unreadOnly``) filter what it reads. ``assignee``: ``me``, ``none`` or a user id."""
    if status is None and assignee is None and not awaiting and tag is None:
        return chat_store().list_chats(account_id, unread_only, limit, cursor, only)
    who = {"me": caller_id, "none": store.NOBODY}.get(assignee, assignee) if assignee is not None else None
    if account_id is not None:
        if not scope.can_see(only, account_id):
            return [], None
        only = frozenset({account_id})

    def keep(item: dict[str, Any]) -> bool:
        holder = (item.get("assignee") or {}).get("userId") or store.NOBODY
        return (
            (status is None or item.get("status", "new") == status)
            and (who is None or holder == who)
            and (not awaiting or bool(item.get("awaitingReplySince")))
            and (tag is None or tag in (item.get("tags") or ()))
            and (not unread_only or int(item.get("unreadCount", 0)) > 0)
        )

    index = _index_for(status, who, awaiting)
    items, next_cursor = inbox.page(
        chat_store().table_name, index, limit, cursor, hidden=chat_store().hidden_accounts(), only=only, keep=keep
    )
    return [chat_from_item(i) for i in items], next_cursor
