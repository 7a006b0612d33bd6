"""The month roll-ups' backfill: month items (``store``: pk ``MONTH#<accountId>``) for figures counted before the
consumer wrote them, so that the summary may read months instead of days.

Per account and month: read the month items (their ``n``: how many transactions touched each), then sum that
month's day items (consistent reads), then put each month item as that sum with ``complete: true``, conditioned on
``n`` unchanged. A live transaction ADDs to a day and its month atomically and bumps ``n``: one that came between
the read and the put fails the condition and the month is done again from a fresh read; after a put the month
equals its days and the live ADDs keep it so. Items already ``complete`` are left alone.

Resumable and idempotent: each finished account is added to the ``ROLLUP``/``PROGRESS`` item; a run that runs out
of time stops between months and the next one goes on from the accounts not done. When every account is done the
``ROLLUP``/``DONE`` marker is written and the summary starts reading months (``store.rollup_done``). It runs from
the reports consumer's own function on an hourly schedule (template.yaml): that function already writes the
figures with exactly these grants, so the backfill adds one schedule and a Query grant, not a new function or
queue; once the marker is there a run is one GetItem.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from avito_service import dynamo
from avito_service.accounts.store import account_store
from avito_service.observability import logger
from avito_service.reports.store import (
    ROLLUP_DONE_SK,
    ROLLUP_PK,
    ROLLUP_PROGRESS_SK,
    ReportStore,
    day_pk,
    month_of,
    month_pk,
)

MONTH_ATTEMPTS = 8
_NOT_SUMMED = frozenset({"pk", "sk", "date", "userId", "name"})


class Contention(Exception):
    """A month's figures kept changing for MONTH_ATTEMPTS attempts (the next run tries again)."""


def sum_days(items: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Day items (in ``sk`` order) summed per kind (``A``, ``O#<userId>``): counters added, an operator's
    ``userId`` and latest ``name`` kept."""
    found: dict[str, dict[str, Any]] = {}
    for item in items:
        kind = str(item["sk"]).split("#", 1)[1]
        total = found.setdefault(kind, {})
        for attr, value in item.items():
            if attr in ("userId", "name"):
                total[attr] = value
            elif attr not in _NOT_SUMMED and isinstance(value, int | Decimal):
                total[attr] = total.get(attr, 0) + int(value)
    return found


def backfill_month(
    store: ReportStore, account_id: str, month: str, *, before_put: Callable[[], None] | None = None
) -> int:
    """Make the account's month items of ``month`` (``YYYY-MM``) equal to the sum of its days; the number of
    items put. ``before_put`` runs between the reads and the puts (tests: a live ADD in between)."""
    table = store._table
    for _ in range(MONTH_ATTEMPTS):
        months = {
            str(item["sk"]).split("#", 1)[1]: item
            for item in dynamo.query_all(
                table.query,
                KeyConditionExpression=Key("pk").eq(month_pk(account_id)) & Key("sk").begins_with(f"{month}#"),
                ConsistentRead=True,
            )
        }
        days = sum_days(
            dynamo.query_all(
                table.query,
                KeyConditionExpression=Key("pk").eq(day_pk(account_id))
                & Key("sk").between(f"{month}-01#", f"{month}-31#~"),
                ConsistentRead=True,
            )
        )
        if before_put is not None:
            before_put()
        put = 0
        try:
            for kind, summed in days.items():
                old = months.get(kind)
                if old is not None and old.get("complete"):
                    continue
                n = int(old.get("n", 0)) if old is not None else 0
                item = {"pk": month_pk(account_id), "sk": f"{month}#{kind}", "month": month, **summed}
                item.update(n=n, complete=True)
                if old is None:
                    condition: dict[str, Any] = {"ConditionExpression": "attribute_not_exists(pk)"}
                else:
                    condition = {
                        "ConditionExpression": "#n = :n",
                        "ExpressionAttributeNames": {"#n": "n"},
                        "ExpressionAttributeValues": {":n": n},
                    }
                table.put_item(Item=item, **condition)
                put += 1
        except ClientError as exc:
            if dynamo.condition_failed(exc):
                continue  # a live ADD came in between: read again
            raise
        return put
    raise Contention(f"account {account_id[:64]}, month {month}: the figures kept changing")


def account_months(store: ReportStore, account_id: str) -> list[str]:
    """The months the account has day items in (only their keys read)."""
    items = dynamo.query_all(
        store._table.query,
        KeyConditionExpression=Key("pk").eq(day_pk(account_id)),
        ProjectionExpression="sk",
    )
    return sorted({month_of(str(item["sk"])) for item in items})


def _account_ids() -> list[str]:
    ids: list[str] = []
    cursor = None
    while True:
        page, cursor = account_store().list_page(100, cursor)
        ids.extend(str(item["id"]) for item in page)
        if cursor is None:
            return ids


def backfill(store: ReportStore, *, out_of_time: Callable[[], bool] = lambda: False) -> bool:
    """Go on with the backfill until done (True: the marker is written) or ``out_of_time()`` (False)."""
    if store.rollup_done():
        return True
    table = store._table
    progress = table.get_item(Key={"pk": ROLLUP_PK, "sk": ROLLUP_PROGRESS_SK}, ConsistentRead=True).get("Item") or {}
    done = {str(a) for a in progress.get("accounts") or ()}
    for account_id in _account_ids():
        if account_id in done:
            continue
        for month in account_months(store, account_id):
            if out_of_time():
                logger.info("Roll-up backfill paused", extra={"accountsDone": len(done)})
                return False
            backfill_month(store, account_id, month)
        table.update_item(
            Key={"pk": ROLLUP_PK, "sk": ROLLUP_PROGRESS_SK},
            UpdateExpression="ADD accounts :a",
            ExpressionAttributeValues={":a": {account_id}},
        )
        done.add(account_id)
    table.put_item(Item={"pk": ROLLUP_PK, "sk": ROLLUP_DONE_SK, "accounts": len(done)})
    logger.info("Roll-up backfill done", extra={"accounts": len(done)})
    return True
