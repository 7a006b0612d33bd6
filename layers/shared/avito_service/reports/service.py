"""The reports: a summary of a range of days and the dialogs table, read from the figures (never the messages).

Days are Europe/Moscow days. The summary reads each account's day items of the range (one Query per account; the
operators' figures of whole calendar months from the month roll-ups once they are backfilled) and adds them up:
counters by addition, medians and p90s from the merged histograms (``histogram``: within 9.5 %).
With ``userId`` the figures are that operator's (the replies they sent; ``chatsStarted`` and ``messagesIn`` are
not an operator's and stay 0). The dialogs table lists, per account (ordered by account name, then newest last
message first), the chats with a message in the range.
"""

from __future__ import annotations

import calendar
import operator
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from avito_service import aws, clock
from avito_service.accounts.store import account_store, deleted_account_ids
from avito_service.cursors import decode_cursor, encode_cursor
from avito_service.errors import ValidationFailed
from avito_service.reports import histogram
from avito_service.reports.figures import KINDS, REPORT_ZONE
from avito_service.reports.models import (
    AccountFigures,
    Assignee,
    DayFigures,
    DialogRow,
    OperatorFigures,
    Summary,
    Totals,
)
from avito_service.reports.now import now_of
from avito_service.reports.rules import load_rules
from avito_service.reports.store import DIALOG_KEYS, report_store
from avito_service.users.scope import account_not_found

MAX_DAYS = 366
COUNTERS = ("chatsStarted", "chatsAnswered", "messagesIn", "messagesOut", "replies", "slowReplies")
CSV_MAX_ROWS = 100_000
_QUANTILES = (
    ("fr", "firstResponseMedianSeconds", "firstResponseP90Seconds"),
    ("frw", "firstResponseMedianWorkingSeconds", "firstResponseP90WorkingSeconds"),
    ("rt", "replyMedianSeconds", "replyP90Seconds"),
    ("rtw", "replyMedianWorkingSeconds", "replyP90WorkingSeconds"),
)


FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)  # no figures outside; keeps day arithmetic in range


def check_range(date_from: date, date_to: date) -> None:
    if date_from < FIRST_DAY:
        raise ValidationFailed.on("from", f"Must be {FIRST_DAY.isoformat()} or later.")
    if date_to > LAST_DAY:
        raise ValidationFailed.on("to", f"Must be {LAST_DAY.isoformat()} or earlier.")
    if date_from > date_to:
        raise ValidationFailed.on("from", "Must not be after 'to'.")
    if (date_to - date_from).days >= MAX_DAYS:
        raise ValidationFailed.on("to", f"At most {MAX_DAYS} days at once.")


def _accounts(account_id: str | None, visible: frozenset[str] | None) -> list[tuple[str, str | None]]:
    """(id, name) of the accounts reported, by name: the one asked for, or every account the caller sees."""
    store = account_store()
    found: list[tuple[str, str | None]] = []
    if account_id is not None:
        items = store.get_many([account_id], ("id", "name"))
        if account_id not in items or (visible is not None and account_id not in visible):
            raise account_not_found(account_id)
        found = [(account_id, items[account_id].get("name"))]
    else:
        cursor = None
        while True:
            page, cursor = store.list_page(100, cursor)
            found.extend((str(item["id"]), item.get("name")) for item in page)
            if cursor is None:
                break
    gone = _deleted()
    if account_id is not None and account_id in gone:
        raise account_not_found(account_id)
    return sorted(
        ((a, n) for a, n in found if a not in gone and (visible is None or a in visible)),
        key=lambda pair: (str(pair[1] or "").casefold(), pair[0]),
    )


def _deleted() -> frozenset[str]:
    return deleted_account_ids(aws.table(account_store().table_name))


# The summary adds up a month's ~330 items (~20,000 histogram buckets) into days, accounts, operators and the
# totals: each item is read once into a record (its counters and one dense list of BUCKETS counts per kind), and
# records are added element-wise (``map(operator.add, ...)``: C loops) rather than bucket by bucket in Python.
_KIND_INDEX = {kind: n for n, kind in enumerate(KINDS)}
_BUCKET_ATTRS = {f"{kind}_{index}": (n, index) for kind, n in _KIND_INDEX.items() for index in range(histogram.BUCKETS)}
_WORKING = (_KIND_INDEX["frw"], _KIND_INDEX["rtw"])
_WALL_OF = {_KIND_INDEX["frw"]: _KIND_INDEX["fr"], _KIND_INDEX["rtw"]: _KIND_INDEX["rt"]}
_EMPTY = [0] * histogram.BUCKETS
_NOTHING: tuple[list[int], list[list[int]]] = ([0] * len(COUNTERS), [_EMPTY] * len(KINDS))

Record = tuple[list[int], list[list[int]]]  # counters (COUNTERS' order), histograms (KINDS' order, dense)


def _bucket_attr(attr: str) -> tuple[int, int] | None:
    """(kind, bucket) of a histogram attribute such as ``fr_12`` (None: not one)."""
    found = _BUCKET_ATTRS.get(attr)
    if found is None:
        kind, _, index = attr.partition("_")
        if kind in _KIND_INDEX and index.isdigit():  # never written so (bucket_of clamps): the last bucket's
            return _KIND_INDEX[kind], min(int(index), histogram.BUCKETS - 1)
    return found


def record_of(item: Mapping[str, Any]) -> Record:
    """A day or month item's counters and histograms. An item of an account without a calendar has no
    working-time histograms (``frw``/``rtw``): its wall-time ones count for both."""
    counters = [int(item.get(name, 0)) for name in COUNTERS]
    histograms = [_EMPTY] * len(KINDS)
    working = False
    for attr, value in item.items():
        if value and "_" in attr:
            found = _bucket_attr(attr)
            if found is None:
                continue
            kind, index = found
            if histograms[kind] is _EMPTY:
                histograms[kind] = [0] * histogram.BUCKETS
            histograms[kind][index] += int(value)
            working = working or kind in _WORKING
    if not working:
        for kind, wall in _WALL_OF.items():
            histograms[kind] = histograms[wall]
    return counters, histograms


def merged(records: Iterable[Record]) -> Record:
    """Records added up: counters and every histogram bucket."""
    counters = [0] * len(COUNTERS)
    histograms = [_EMPTY] * len(KINDS)
    for own_counters, own in records:
        counters = list(map(operator.add, counters, own_counters))
        for kind, counts in enumerate(own):
            if counts is not _EMPTY:
                histograms[kind] = list(map(operator.add, histograms[kind], counts))
    return counters, histograms


def values_of(record: Record) -> dict[str, Any]:
    """The figures of a (merged) record: its counters, and the medians and p90s of its histograms."""
    counters, histograms = record
    values: dict[str, Any] = dict(zip(COUNTERS, counters, strict=True))
    for kind, median, p90 in _QUANTILES:
        counts = histograms[_KIND_INDEX[kind]]
        values[median] = histogram.quantile_dense(counts, 0.5)
        values[p90] = histogram.quantile_dense(counts, 0.9)
    return values


def figures_of(items: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The summed counters and the quantiles of some day items."""
    return values_of(merged(record_of(item) for item in items))


def _days(date_from: date, date_to: date) -> Iterator[str]:
    # by ordinal: no date after date_to is ever made (9999-12-31 has none)
    for ordinal in range(date_from.toordinal(), date_to.toordinal() + 1):
        yield date.fromordinal(ordinal).isoformat()


def whole_months(date_from: date, date_to: date) -> tuple[date, date] | None:
    """The first and last day of the calendar months wholly inside [date_from, date_to] (None: no such month).
    Counted in (year, month) so that no date outside ``date``'s range is made (0001-01 and 9999-12 included)."""
    first = date_from.year * 12 + date_from.month - 1  # a month as a number
    if date_from.day != 1:
        first += 1
    last = date_to.year * 12 + date_to.month - 1
    if date_to.day != calendar.monthrange(date_to.year, date_to.month)[1]:
        last -= 1
    if first > last:
        return None
    end_year, end_month = divmod(last, 12)
    end_month += 1
    return date(first // 12, first % 12 + 1, 1), date(end_year, end_month, calendar.monthrange(end_year, end_month)[1])


FIGURE_READERS = 8  # threads reading the accounts' figure items at once (each a Query or two of ~30-40 items)


def _figure_items(
    pool: ThreadPoolExecutor, store: Any, accounts: list[str], date_from: date, date_to: date, *, user_id: str | None
) -> dict[str, list[Future[list[dict[str, Any]]]]]:
    """Each account's reads of the figure items the summary adds up, submitted to ``pool`` (the store's figure
    reads use the thread-safe low-level client: while one account's answer is parsed the next ones are on their
    way, and the "now" is read meanwhile). Once the month roll-ups are backfilled (``reports.rollup``) and the
    range holds a whole calendar month, the operators' figures of the whole months come from the month items
    (one Query per account) and the day items read are the account's own (the daily chart needs each day's
    histograms) and every item of the edge days: a month's ~1,100 operator day items become ~120 month items.
    Else (and with ``userId``, whose chart needs that operator's days anyway) every day item of the range.
    The one figure that may differ: an operator renamed within a month has the name of the month item's last write
    (the day path takes the latest day's)."""
    first, last = date_from.isoformat(), date_to.isoformat()
    months = whole_months(date_from, date_to) if user_id is None else None
    if months is None or not store.rollup_done():
        return {account: [pool.submit(store.days, account, first, last)] for account in accounts}
    edges = (months[0].isoformat(), months[1].isoformat())
    return {
        account: [
            pool.submit(store.days_filtered, account, first, last, keep="account", edges=edges),
            pool.submit(store.months, account, edges[0][:7], edges[1][:7], operators_only=True),
        ]
        for account in accounts
    }


def summary(
    date_from: date,
    date_to: date,
    *,
    account_id: str | None = None,
    user_id: str | None = None,
    visible: frozenset[str] | None = None,
) -> Summary:
    check_range(date_from, date_to)
    accounts = _accounts(account_id, visible)
    ids = [account for account, _ in accounts]
    store = report_store()
    first, last = date_from.isoformat(), date_to.isoformat()
    store.figure_client()  # its hook registered before the threads share it
    with ThreadPoolExecutor(max_workers=FIGURE_READERS, thread_name_prefix="report-figures") as pool:
        reads = _figure_items(pool, store, ids, date_from, date_to, user_id=user_id)
        # meanwhile, in this thread (the resource's reads: it is not shared between threads)
        waiting = store.waiting()
        rules = load_rules(ids)
        now = now_of(ids, sum(waiting.get(account, 0) for account in ids))
        per_account = {
            account: [item for read in futures for item in read.result()] for account, futures in reads.items()
        }
    operator_rows: list[tuple[Mapping[str, Any], Record]] = []
    by_date: dict[str, list[Record]] = {}  # the records the totals, days and accounts add up
    by_account: list[AccountFigures] = []
    for account, name in accounts:
        chosen: list[Record] = []
        for item in per_account[account]:
            is_operator = "#O#" in str(item["sk"])
            if is_operator and (user_id is None or item.get("userId") == user_id):
                record = record_of(item)
                operator_rows.append((item, record))
            elif not user_id and str(item["sk"]).endswith("#A"):
                record = record_of(item)
            else:
                continue
            if user_id or not is_operator:
                chosen.append(record)
                by_date.setdefault(str(item["date"]), []).append(record)
        by_account.append(
            AccountFigures(
                accountId=account,
                accountName=name,
                waitingNow=waiting.get(account, 0),
                slowReplySeconds=round(rules[account].slow_after_seconds),
                **values_of(merged(chosen)),
            )
        )
    day_records = {day: merged(records) for day, records in by_date.items()}
    days = [DayFigures(date=day, **values_of(day_records.get(day, _NOTHING))) for day in _days(date_from, date_to)]
    by_user: dict[str, list[Record]] = {}
    names: dict[str, tuple[str, str]] = {}
    for item, record in operator_rows:
        uid = str(item["userId"])
        by_user.setdefault(uid, []).append(record)
        # a month item's name counts as of after its month's days
        when = str(item.get("date") or f"{item.get('month')}-~")
        if item.get("name") and when >= names.get(uid, ("", ""))[0]:
            names[uid] = (when, str(item["name"]))
    by_operator = sorted(
        (
            OperatorFigures(userId=uid, name=names.get(uid, ("", None))[1], **values_of(merged(rows)))
            for uid, rows in by_user.items()
        ),
        key=lambda row: (-row.replies, str(row.name or "").casefold(), row.userId),
    )
    totals = Totals(waitingNow=sum(a.waitingNow for a in by_account), **values_of(merged(day_records.values())))
    return Summary.model_validate(
        {
            "from": first,
            "to": last,
            "totals": totals,
            "days": days,
            "byAccount": by_account,
            "byOperator": by_operator,
            # with every account, the strictest threshold: the line never hides a reply slow for one of them
            "slowReplySeconds": min((a.slowReplySeconds for a in by_account), default=None),
            "now": now,
        }
    )


# --- dialogs ---------------------------------------------------------------------------------------------------


def _window(date_from: date, date_to: date) -> tuple[str, str]:
    """[start, end) of the Moscow days as ISO UTC strings."""
    start = datetime.combine(date_from, time(0), tzinfo=REPORT_ZONE).timestamp()
    end = datetime.combine(date_to + timedelta(days=1), time(0), tzinfo=REPORT_ZONE).timestamp()
    return clock.iso(start), clock.iso(end)


def _row(item: Mapping[str, Any], account_name: str | None) -> DialogRow:
    assignee = item.get("assignee")
    tags = item.get("tags")
    return DialogRow(
        accountId=str(item["accountId"]),
        accountName=account_name,
        chatId=str(item["chatId"]),
        clientName=item.get("clientName"),
        itemTitle=item.get("itemTitle"),
        status=item.get("status"),
        assignee=Assignee(userId=str(assignee["userId"]), name=assignee.get("name"))
        if isinstance(assignee, Mapping) and assignee.get("userId")
        else None,
        startedAt=item.get("firstInAt") or item.get("firstMessageAt"),
        firstResponseSeconds=int(item["firstResponseSeconds"])
        if item.get("firstResponseSeconds") is not None
        else None,
        messagesIn=int(item.get("messagesIn", 0)),
        messagesOut=int(item.get("messagesOut", 0)),
        lastMessageAt=item.get("lastMessageAt"),
        tags=[str(t) for t in tags] if isinstance(tags, list) else [],
    )


_CURSOR_KEYS = ("acc", *DIALOG_KEYS)


@dataclass(frozen=True, slots=True)
class DialogFilter:
    """Which chats the dialogs table (or its CSV) lists: those with a message in ``date_from``..``date_to``
    (Europe/Moscow days), optionally of one account, one operator, one workflow status; ``visible`` limits the
    accounts (None: every account)."""

    date_from: date
    date_to: date
    account_id: str | None = None
    user_id: str | None = None
    status: str | None = None
    visible: frozenset[str] | None = None

    def resolve(self) -> tuple[list[tuple[str, str | None]], str, str]:
        """The range checked, then the (id, name) of the accounts listed, by name, and the window's bounds."""
        check_range(self.date_from, self.date_to)
        return _accounts(self.account_id, self.visible), *_window(self.date_from, self.date_to)


def dialogs(scope: DialogFilter, *, limit: int = 50, cursor: str | None = None) -> tuple[list[DialogRow], str | None]:
    """One page of the dialogs table and the next page's cursor."""
    accounts, since, until = scope.resolve()
    status, user_id = scope.status, scope.user_id
    order = [a for a, _ in accounts]
    names = dict(accounts)
    position, start = 0, None
    decoded = decode_cursor(cursor, required_keys=_CURSOR_KEYS)
    if decoded:
        if decoded["acc"] not in order:
            raise ValidationFailed.on("cursor", "Not a cursor of this list.")
        position = order.index(decoded["acc"])
        start = {k: decoded[k] for k in DIALOG_KEYS} if decoded["pk"] else None
        if start is not None and start["dialogAccount"] != decoded["acc"]:
            raise ValidationFailed.on("cursor", "Not a cursor of this list.")
    rows: list[DialogRow] = []
    store = report_store()
    while position < len(order):
        account = order[position]
        items, last = store.dialogs_page(
            account, since=since, until=until, status=status, user_id=user_id, limit=limit - len(rows), start=start
        )
        rows.extend(_row(item, names[account]) for item in items)
        if last is not None:
            return rows, encode_cursor({"acc": account, **last})
        position, start = position + 1, None
        if len(rows) == limit:
            filters = {"status": status, "user_id": user_id}
            while position < len(order) and not _has_rows(store, order[position], since, until, **filters):
                position += 1
            if position == len(order):
                return rows, None
            return rows, encode_cursor({"acc": order[position], **dict.fromkeys(DIALOG_KEYS, "")})
    return rows, None


def _has_rows(store: Any, account: str, since: str, until: str, **filters: Any) -> bool:
    items, _ = store.dialogs_page(account, since=since, until=until, limit=1, start=None, **filters)
    return bool(items)


def all_dialogs(scope: DialogFilter) -> Iterator[DialogRow]:
    """Every row of the table (the CSV), at most CSV_MAX_ROWS, yielded as the Query pages arrive: one pass over
    each account's index partition (pages of up to 1,000 tallies, only the row's attributes) and no look-ahead
    for the next account's rows (the pages' cursors are for the JSON table). The checks run before the first row."""
    accounts, since, until = scope.resolve()
    return _stream_rows(accounts, since, until, status=scope.status, user_id=scope.user_id)


def _stream_rows(
    accounts: list[tuple[str, str | None]], since: str, until: str, *, status: str | None, user_id: str | None
) -> Iterator[DialogRow]:
    store = report_store()
    count = 0
    for account, name in accounts:
        for item in store.dialog_items(account, since=since, until=until, status=status, user_id=user_id):
            yield _row(item, name)
            count += 1
            if count == CSV_MAX_ROWS:
                return
