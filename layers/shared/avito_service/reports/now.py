"""The reports' "now": chats waiting, the longest wait, operators available, for the accounts reported. Read through
indexes, never by scanning:

- **chats waiting**: the figures' per-account counter (``store.waiting``, the summary's ``waitingNow``);
- **longest wait**: the workflow's oldest waiting chat of the accounts reported
  (``workflow.queries.oldest_waiting``: the console's "needs a reply" list, oldest first), so it is the wait the
  inbox and the waiting alerts show;
- **operators available** as auto-assignment counts them (``workflow.assignment``): users with the operator role
  who have a live WebSocket connection that may see one of the accounts and have not set ``away``. The
  connections come from ConnectionsTable's ``byRole`` index (the operators' partition: a few dozen small items),
  ``away`` from the workflow (``workflow.queries.away_users``).
"""

from __future__ import annotations

from collections.abc import Iterable

from boto3.dynamodb.conditions import Key

from avito_service import aws, clock, dynamo
from avito_service.config import get_settings
from avito_service.reports.models import Now
from avito_service.workflow import queries as workflow

BY_ROLE = "byRole"
OPERATOR = "operator"


def live_operators(accounts: frozenset[str], *, now: float) -> set[str]:
    """Operators with an unexpired connection that may see one of ``accounts``."""
    table = aws.table(get_settings().connections_table)
    items = dynamo.query_all(
        table.query,
        IndexName=BY_ROLE,
        KeyConditionExpression=Key("role").eq(OPERATOR),
        ProjectionExpression="#sub, allowedAccountIds, #ttl",
        ExpressionAttributeNames={"#sub": "sub", "#ttl": "ttl"},
    )
    found: set[str] = set()
    for item in items:
        allowed = item.get("allowedAccountIds")
        if int(item.get("ttl", 0)) <= now or not item.get("sub"):
            continue  # expired: API Gateway closed it (its $disconnect missed), TTL removes it later
        if allowed is None or accounts.intersection(str(a) for a in allowed):
            found.add(str(item["sub"]))
    return found


def available_operators(accounts: frozenset[str], *, now: float) -> set[str]:
    online = live_operators(accounts, now=now)
    return online - workflow.away_users(online)


def now_of(accounts: Iterable[str], waiting: int) -> Now:
    """The "now" of the accounts reported; ``waiting`` is their counted chats waiting."""
    reported = frozenset(accounts)
    at = clock.now()
    oldest = workflow.oldest_waiting(reported)
    since = str(oldest["awaitingReplySince"]) if oldest and oldest.get("awaitingReplySince") else None
    return Now(
        at=clock.iso(at),
        waiting=waiting,
        longestWaitSeconds=max(0, round(at - clock.from_iso(since))) if since else None,
        longestWaitSince=since,
        longestWaitAccountId=str(oldest["accountId"]) if since and oldest else None,
        longestWaitChatId=str(oldest["chatId"]) if since and oldest else None,
        operatorsAvailable=len(available_operators(reported, now=at)) if reported else 0,
    )
