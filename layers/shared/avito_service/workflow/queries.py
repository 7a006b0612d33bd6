"""What other parts of the service read of the chat workflow (the reports' "now" and figures), as public
functions, so they never reach into the workflow store's keys and indexes:

- :func:`oldest_waiting`: the chat of some accounts that has needed a reply the longest (the sparse
  ``awaitingReply`` index, oldest first: the console's "needs a reply" list, the waiting alerts' clock);
- :func:`away_users`: which users set ``away`` (``PUT /me/presence``);
- :func:`routings`: the accounts' routing items (mode, cap, ``waitAlertMinutes``; absent: never set).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from avito_service.config import get_settings
from avito_service.messenger import inbox
from avito_service.workflow import store

AWAITING_INDEX = inbox.ShardedIndex(
    store.AWAITING, "awaitPk", store.await_pk, "awaiting", sort_attr="awaitSk", ascending=True
)


def oldest_waiting(accounts: frozenset[str]) -> dict[str, Any] | None:
    """The chat item of ``accounts`` that has needed a reply the longest, or None (none waits, or no account):
    the index's 16 shards in parallel with a limit of 1, only these accounts' chats."""
    if not accounts:
        return None
    items, _ = inbox.page(get_settings().messenger_table, AWAITING_INDEX, 1, None, only=accounts)
    return items[0] if items else None


def away_users(user_ids: Iterable[str]) -> set[str]:
    """Which of ``user_ids`` set ``away``."""
    return store.away_users(sorted(set(user_ids)))


def routings(account_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The accounts' routing items by account id (``accountId``, ``waitAlertMinutes`` and the rest as
    ``PUT .../routing`` stored them); an account that never had one is absent."""
    return store.get_routings(sorted(set(account_ids)))
