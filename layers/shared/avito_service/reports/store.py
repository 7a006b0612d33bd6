"""The figures in ``ReportsTable`` (keys ``pk``/``sk``), written only by the stream consumer.

| item                                  | key                                                           |
|---------------------------------------|---------------------------------------------------------------|
| a chat's tally (and its dialog row)   | pk ``CHAT#<accountId>#<chatId>``, sk ``TALLY``               |
| a message already counted (48 h TTL)  | pk ``CHAT#<accountId>#<chatId>``, sk ``SEEN#<messageId>``    |
| an account's figures of a day         | pk ``DAY#<accountId>``, sk ``<YYYY-MM-DD>#A``                 |
| an operator's figures of a day        | pk ``DAY#<accountId>``, sk ``<YYYY-MM-DD>#O#<userId>``        |
| an account's figures of a month       | pk ``MONTH#<accountId>``, sk ``<YYYY-MM>#A``                  |
| an operator's figures of a month      | pk ``MONTH#<accountId>``, sk ``<YYYY-MM>#O#<userId>``         |
| the month roll-ups' backfill          | pk ``ROLLUP``, sk ``DONE`` (finished) / ``PROGRESS``           |
| an account's chats needing a reply    | pk ``NOW``, sk ``<accountId>`` (``waiting``)                  |
| an account's dialogs, newest first    | GSI ``byAccountActivity``: ``dialogAccount``, ``dialogSk``    |

**Exactly once.** A message is counted in one transaction: the ``SEEN`` marker (put only when absent), the tally
(only at the version it was read at) and the ``ADD``s of the day and ``NOW`` counters. A stream record seen again
(a retried batch, a replayed shard) finds its marker and the whole transaction is cancelled: nothing counts twice.
Beside every day ``ADD`` the same counters are ``ADD``ed to the day's month item (and ``n`` +1, the count of
transactions that touched it: the backfill's check, ``reports.rollup``), in the same transaction, so a month item
always equals the sum of its days. One message's effect falls on one day (the message's Moscow day), so a
transaction has at most 7 items (marker, tally, account day and month, operator day and month, ``NOW``), far
under TransactWriteItems' 100.
The marker lives 48 h (TTL): a stream keeps records 24 h, so no replay outlives it. A tally changed under us (two
records of one chat in flight) is read again and the message re-applied.

A day's range of one account is one Query (``between``); a month of 9 accounts with 13 operators is ~9 queries of
~150 small items (operators' days) or, once the roll-ups are backfilled, the account's days and the months'
operator items (``reports.service``).
"""

from __future__ import annotations

import base64
import functools
import json
import threading
import time
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError

from avito_service import aws, clock, dynamo
from avito_service.config import get_settings
from avito_service.reports.figures import Effect, MessageFacts, Tally

TALLY_SK = "TALLY"
SEEN_PREFIX = "SEEN#"
NOW_PK = "NOW"
ROLLUP_PK = "ROLLUP"
ROLLUP_DONE_SK = "DONE"
ROLLUP_PROGRESS_SK = "PROGRESS"
BY_ACCOUNT_ACTIVITY = "byAccountActivity"
SEEN_TTL_SECONDS = 48 * 3600
WRITE_ATTEMPTS = 8
DIALOG_KEYS = ("pk", "sk", "dialogAccount", "dialogSk")
# What a stored chat item gives the dialog row (status, assignee, tags: the workflow's fields, when present).
CHAT_FIELDS = ("clientName", "itemTitle", "status", "assignee", "tags")
# What a dialog row reads of a tally (the CSV's projection).
ROW_FIELDS = (
    "accountId",
    "chatId",
    *CHAT_FIELDS,
    "firstInAt",
    "firstMessageAt",
    "firstResponseSeconds",
    "messagesIn",
    "messagesOut",
    "lastMessageAt",
)


class Contention(Exception):
    """A chat's tally kept changing for WRITE_ATTEMPTS attempts."""


def tally_pk(account_id: str, chat_id: str) -> str:
    return f"CHAT#{account_id}#{chat_id}"


def day_pk(account_id: str) -> str:
    return f"DAY#{account_id}"


def month_pk(account_id: str) -> str:
    return f"MONTH#{account_id}"


def month_of(day: str) -> str:
    """``YYYY-MM`` of a ``YYYY-MM-DD`` day."""
    return day[:7]


def _iso(value: float | None) -> str | None:
    return None if value is None else clock.iso(value)


def _seconds(value: Any) -> float | None:
    return None if not value else clock.from_iso(str(value))


def tally_of(item: Mapping[str, Any] | None) -> Tally:
    if not item:
        return Tally()
    return Tally(
        first_in_at=_seconds(item.get("firstInAt")),
        first_response_at=_seconds(item.get("firstResponseAt")),
        awaiting_since=_seconds(item.get("awaitingSince")),
        messages_in=int(item.get("messagesIn", 0)),
        messages_out=int(item.get("messagesOut", 0)),
        last_message_at=_seconds(item.get("lastMessageAt")),
        first_message_at=_seconds(item.get("firstMessageAt")),
        version=int(item.get("version", 0)),
    )


class ReportStore:
    def __init__(self, table_name: str) -> None:
        self.table_name = table_name
        self._rollup_done = False

    @property
    def _table(self) -> Any:
        return aws.table(self.table_name)

    # --- writes (the stream consumer) ------------------------------------------------------------------------

    def get_tally(self, account_id: str, chat_id: str) -> dict[str, Any] | None:
        key = {"pk": tally_pk(account_id, chat_id), "sk": TALLY_SK}
        return self._table.get_item(Key=key, ConsistentRead=True).get("Item")

    def count_message(self, message: MessageFacts, apply: Any) -> Effect | None:
        """Count ``message`` once: ``apply(tally) -> Effect``. None when it was counted before."""
        for _ in range(WRITE_ATTEMPTS):
            item = self.get_tally(message.account_id, message.chat_id)
            tally = tally_of(item)
            effect = apply(tally)
            try:
                aws.dynamodb_client().transact_write_items(TransactItems=self._transaction(message, tally, effect))
            except ClientError as exc:
                codes = dynamo.cancellation_codes(exc)
                if codes and codes[0] == dynamo.ITEM_CONDITION_FAILED:
                    return None  # the SEEN marker is there: counted before
                if dynamo.condition_failed(exc, any_cancellation=True):
                    time.sleep(0.01)
                    continue  # the tally moved (or a concurrent transaction): read again
                raise
            return effect
        raise Contention(f"chat {message.chat_id[:64]}: the tally kept changing")

    def _transaction(self, message: MessageFacts, old: Tally, effect: Effect) -> list[dict[str, Any]]:
        pk = tally_pk(message.account_id, message.chat_id)
        new = effect.tally
        items: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self.table_name,
                    "Item": {
                        "pk": pk,
                        "sk": SEEN_PREFIX + message.message_id,
                        "ttl": int(clock.now()) + SEEN_TTL_SECONDS,
                    },
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            }
        ]
        expression = dynamo.Expression()
        values: dict[str, Any] = {
            "accountId": message.account_id,
            "chatId": message.chat_id,
            "messagesIn": new.messages_in,
            "messagesOut": new.messages_out,
            "version": old.version + 1,
            "dialogAccount": message.account_id,
            "dialogSk": f"{_iso(new.last_message_at)}#{message.chat_id}",
        }
        for name, value in (
            ("firstInAt", new.first_in_at),
            ("firstResponseAt", new.first_response_at),
            ("awaitingSince", new.awaiting_since),
            ("lastMessageAt", new.last_message_at),
            ("firstMessageAt", new.first_message_at),
        ):
            if value is not None:
                values[name] = _iso(value)
        if effect.first_response_seconds is not None:
            values["firstResponseSeconds"] = round(effect.first_response_seconds)
        remove = {"awaitingSince"} if new.awaiting_since is None else set()
        add = {"operators": {effect.operator.user_id}} if effect.operator is not None else None
        condition = (
            f"attribute_not_exists({expression.name('version')})"
            if old.version == 0
            else f"{expression.name('version')} = {expression.value(old.version)}"
        )
        items.append(
            {
                "Update": {
                    "TableName": self.table_name,
                    "Key": {"pk": pk, "sk": TALLY_SK},
                    **dynamo.update_expression(
                        set_values=values, add=add, remove=remove, conditions=[condition], expression=expression
                    ),
                }
            }
        )
        account = message.account_id
        for day, counters in effect.account_adds.items():
            items.append(self._add(day_pk(account), f"{day}#A", counters, {"date": day}))
        items.extend(self._month_adds(account, "A", effect.account_adds, {}))
        if effect.operator is not None:
            operator = effect.operator
            who = {"userId": operator.user_id, **({"name": operator.name} if operator.name else {})}
            for day, counters in effect.operator_adds.items():
                items.append(self._add(day_pk(account), f"{day}#O#{operator.user_id}", counters, {"date": day, **who}))
            items.extend(self._month_adds(account, f"O#{operator.user_id}", effect.operator_adds, who))
        if effect.waiting_delta:
            items.append(self._add(NOW_PK, message.account_id, {"waiting": effect.waiting_delta}, {}))
        return items

    def _month_adds(
        self, account_id: str, kind: str, adds: Mapping[str, Mapping[str, int]], fixed: Mapping[str, Any]
    ) -> Iterator[dict[str, Any]]:
        """The month items' ADDs of some day ADDs (days of one month summed), each with ``n`` +1."""
        months: dict[str, dict[str, int]] = {}
        for day, counters in adds.items():
            total = months.setdefault(month_of(day), {"n": 1})
            for attr, amount in counters.items():
                total[attr] = total.get(attr, 0) + amount
        for month, counters in months.items():
            yield self._add(month_pk(account_id), f"{month}#{kind}", counters, {"month": month, **fixed})

    def _add(self, pk: str, sk: str, counters: Mapping[str, int], fixed: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "Update": {
                "TableName": self.table_name,
                "Key": {"pk": pk, "sk": sk},
                **dynamo.update_expression(set_values=dict(fixed) or None, add=dict(counters)),
            }
        }

    def copy_chat_fields(self, account_id: str, chat_id: str, chat: Mapping[str, Any]) -> None:
        """The dialog row's client, item and workflow fields from the chat item (idempotent SETs; the message
        counting never writes these, so neither overwrites the other)."""
        values = {name: chat[name] for name in CHAT_FIELDS if chat.get(name) not in (None, "")}
        values.update(accountId=account_id, chatId=chat_id)
        remove = {name for name in ("status", "assignee", "tags") if name not in values}
        self._table.update_item(
            Key={"pk": tally_pk(account_id, chat_id), "sk": TALLY_SK},
            **dynamo.update_expression(set_values=values, remove=remove),
        )

    # --- reads (the reports) ---------------------------------------------------------------------------------

    # The summary's figure items: read through the low-level client (thread-safe, so the summary reads the
    # accounts in parallel; the resource is per thread and a new one costs ~0.3 s) and converted by
    # ``figure_item`` (whole numbers as int: no Decimal per histogram bucket, no deep copy of the answer).

    def days(self, account_id: str, date_from: str, date_to: str) -> list[dict[str, Any]]:
        """The account's and its operators' day items from ``date_from`` to ``date_to`` (inclusive)."""
        return self._figure_query(day_pk(account_id), f"{date_from}#", f"{date_to}#~")

    def days_filtered(
        self,
        account_id: str,
        date_from: str,
        date_to: str,
        *,
        keep: str,
        user_id: str | None = None,
        edges: tuple[str, str] | None = None,
    ) -> list[dict[str, Any]]:
        """Day items of the range that the month path needs, filtered in DynamoDB (a filter cannot name the sort
        key: ``userId`` and ``date`` tell the items apart): ``keep="operator"`` that operator's items only;
        ``keep="account"`` the account's items, and every item of a day outside ``edges`` (the first and last
        day of the whole months, whose operators' figures come from the month items)."""
        names = {"#u": "userId"}
        values: dict[str, Any] = {}
        if keep == "operator":
            condition = "#u = :u"
            values[":u"] = user_id
        else:
            condition = "attribute_not_exists(#u)"
            if edges is not None:
                names["#d"] = "date"  # a reserved word
                condition += " OR #d < :e0 OR #d > :e1"
                values.update({":e0": edges[0], ":e1": edges[1]})
        return self._figure_query(
            day_pk(account_id), f"{date_from}#", f"{date_to}#~", filters=(condition, names, values)
        )

    def months(self, account_id: str, month_from: str, month_to: str, *, operators_only: bool) -> list[dict]:
        """The account's month items from ``month_from`` to ``month_to`` (``YYYY-MM``, inclusive)."""
        filters = ("attribute_exists(#u)", {"#u": "userId"}, {}) if operators_only else None
        return self._figure_query(month_pk(account_id), f"{month_from}#", f"{month_to}#~", filters=filters)

    def _figure_query(
        self, pk: str, low: str, high: str, *, filters: tuple[str, dict[str, str], dict[str, Any]] | None = None
    ) -> list[dict[str, Any]]:
        """The items of partition ``pk`` with ``low`` <= sk <= ``high`` (every page), passing ``filters``
        (expression, its names, its values)."""
        names = {"#pk": "pk", "#sk": "sk"}
        values: dict[str, Any] = {":pk": pk, ":lo": low, ":hi": high}
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "#pk = :pk AND #sk BETWEEN :lo AND :hi",
        }
        if filters is not None:
            request["FilterExpression"] = filters[0]
            names.update(filters[1])
            values.update(filters[2])
        request["ExpressionAttributeNames"] = names
        request["ExpressionAttributeValues"] = dynamo.to_wire(values)
        client = self.figure_client()
        _AS_SENT.wanted = True
        try:
            return [figure_item(item) for item in dynamo.query_all(client.query, **request)]
        finally:
            _AS_SENT.wanted = False

    @staticmethod
    def figure_client() -> Any:
        """The shared low-level client, with the hook of the figure reads (``_items_as_sent``) registered once per
        client. The summary calls it before its reading threads start: the hook is then in place before the
        client is used by more than one thread (botocore's event registry is not meant to change mid-request)."""
        client = aws.dynamodb_low_level_client()
        if getattr(client, "_avito_items_as_sent", False):
            return client
        with _REGISTERING:
            if not getattr(client, "_avito_items_as_sent", False):
                client.meta.events.register("before-parse.dynamodb.Query", _items_as_sent)
                client._avito_items_as_sent = True
        return client

    def rollup_done(self) -> bool:
        """Whether the month roll-ups' backfill has finished (``reports.rollup``): until then the months are
        incomplete and the summary reads day items only. Once done it stays done (the marker is never removed),
        so a True is kept for the store's life: one GetItem less per summary in a warm container."""
        if self._rollup_done:
            return True
        item = self._table.get_item(Key={"pk": ROLLUP_PK, "sk": ROLLUP_DONE_SK}).get("Item")
        self._rollup_done = bool(item)
        return self._rollup_done

    def waiting(self) -> dict[str, int]:
        """Chats needing a reply now, per account."""
        items = dynamo.query_all(self._table.query, KeyConditionExpression=Key("pk").eq(NOW_PK))
        return {str(i["sk"]): max(0, int(i.get("waiting", 0))) for i in items}

    def dialog_items(
        self, account_id: str, *, since: str, until: str, status: str | None, user_id: str | None
    ) -> Iterator[dict[str, Any]]:
        """Every tally of the account's chats active in [since, until), newest last message first (the CSV): Query
        pages without a ``Limit``, so each is as large as DynamoDB allows (1 MB read, ~1,700 tallies of ~0.6 KB;
        the JSON table's pages read ``limit + 1``), answering only the row's attributes."""
        # "#p" placeholders: boto3 names the conditions' attributes "#n0"..., which these must not collide with
        names = {f"#p{n}": name for n, name in enumerate(ROW_FIELDS)}
        request: dict[str, Any] = {
            "IndexName": BY_ACCOUNT_ACTIVITY,
            "KeyConditionExpression": Key("dialogAccount").eq(account_id) & Key("dialogSk").gte(since),
            "FilterExpression": self._dialog_filter(until, status, user_id),
            "ProjectionExpression": ", ".join(names),
            "ExpressionAttributeNames": names,
            "ScanIndexForward": False,
        }
        return dynamo.query_all(self._table.query, **request)

    @staticmethod
    def _dialog_filter(until: str, status: str | None, user_id: str | None) -> Any:
        filters = Attr("firstMessageAt").lt(until)
        if status:
            filters = filters & Attr("status").eq(status)
        if user_id:
            filters = filters & (Attr("operators").contains(user_id) | Attr("assignee.userId").eq(user_id))
        return filters

    def dialogs_page(
        self,
        account_id: str,
        *,
        since: str,
        until: str,
        status: str | None,
        user_id: str | None,
        limit: int,
        start: dict[str, Any] | None,
    ) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        """Up to ``limit`` tallies of the account's chats active in [since, until), newest last message first,
        and the key to go on from (None when the account has no more)."""
        condition = Key("dialogAccount").eq(account_id) & Key("dialogSk").gte(since)
        filters = self._dialog_filter(until, status, user_id)
        request: dict[str, Any] = {
            "IndexName": BY_ACCOUNT_ACTIVITY,
            "KeyConditionExpression": condition,
            "FilterExpression": filters,
            "ScanIndexForward": False,
        }
        if start:
            request["ExclusiveStartKey"] = start
        items: list[dict[str, Any]] = []
        while True:
            request["Limit"] = max(limit - len(items), 1) + 1
            page = self._table.query(**request)
            for item in page.get("Items") or ():
                if len(items) == limit:
                    return items, {k: items[-1][k] for k in DIALOG_KEYS}
                items.append(item)
            last = page.get("LastEvaluatedKey")
            if not last:
                return items, None
            request["ExclusiveStartKey"] = last


# A month's summary reads ~330 figure items of ~65 attributes. botocore's parser walks every AttributeValue
# through its shape model (~6 us each: ~60 % of the summary's CPU, benchmarks/README.md "reports"), yet a Query's
# items in DynamoDB's JSON already are the AttributeValues the low-level client returns (only a binary value differs:
# base64 text, not bytes; ``figure_item`` decodes it). So the figure reads take ``Items`` from the JSON as sent, in
# botocore's own hook for a customised parse (``before-parse``: what the parser gives is updated with
# ``customized_response_dict``); botocore parses the rest (counts, LastEvaluatedKey). Only in a thread that asked
# (``_AS_SENT``): the shared client's other queries are parsed as usual. An error answer is never touched.
_AS_SENT = threading.local()
_REGISTERING = threading.Lock()


def _items_as_sent(response_dict: dict[str, Any], customized_response_dict: dict[str, Any], **_: Any) -> None:
    if not getattr(_AS_SENT, "wanted", False) or response_dict.get("status_code", 500) >= 300:
        return
    body = response_dict.get("body")
    answer = json.loads(body) if body else None
    if not isinstance(answer, dict) or not isinstance(answer.get("Items"), list):
        return
    customized_response_dict["Items"] = answer.pop("Items")
    response_dict["body"] = json.dumps(answer).encode()


def figure_item(wire: Mapping[str, Any]) -> dict[str, Any]:
    """A day or month item from its AttributeValues (as the low-level client gives them, or as sent:
    ``_items_as_sent``): numbers as int (every figure is a whole count: counters, histogram buckets, ``n``),
    strings as str, anything else as the resource would give it. Hand-written rather than ``dynamo.from_wire``
    (TypeDeserializer: a Decimal per number, ~1 us each) because a month's summary converts ~20,000 buckets."""
    item: dict[str, Any] = {}
    for name, value in wire.items():
        if "N" in value:
            try:
                item[name] = int(value["N"])
            except ValueError:  # not a whole number: none is written, but never lose one
                item[name] = Decimal(value["N"])
        elif "S" in value:
            item[name] = value["S"]
        else:
            item[name] = dynamo.from_wire({name: _binary_decoded(value)})[name]
    return item


def _binary_decoded(value: Mapping[str, Any]) -> Mapping[str, Any]:
    """An AttributeValue with its binary values as bytes (as sent they are base64 text), at any depth."""
    if isinstance(value.get("B"), str):
        return {"B": base64.b64decode(value["B"])}
    if "BS" in value:
        return {"BS": [base64.b64decode(v) if isinstance(v, str) else v for v in value["BS"]]}
    if "M" in value:
        return {"M": {k: _binary_decoded(v) for k, v in value["M"].items()}}
    if "L" in value:
        return {"L": [_binary_decoded(v) for v in value["L"]]}
    return value


@functools.cache
def report_store() -> ReportStore:
    """The store of the configured ReportsTable (created on first use, not at import)."""
    return ReportStore(get_settings().reports_table)
