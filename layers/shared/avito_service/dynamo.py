"""One way to talk to DynamoDB: paging, "condition failed", update expressions and type conversion.

Every store (``*/store.py``, ``avito/tokens.py``, ``avito/limits.py``, ``idempotency.py``) uses these instead of
writing its own loop or check:

- :func:`query_all` / :func:`scan_all`: every item of a query or scan, page after page;
- :func:`query_page`: one page of a paginated list by the limit+1 rule (ask for one item more than ``limit``, so
  the last page has no cursor), its cursor the key of the page's last item;
- :func:`batch_get`: the items of many keys of one table (BatchGetItem, 100 keys a call, ``UnprocessedKeys``
  asked again);
- :func:`condition_failed` / :func:`cancellation_codes`: whether a write lost its condition, alone or in a
  transaction, and which item of a transaction did;
- :func:`update_expression`: ``SET``/``ADD``/``REMOVE`` and plain conditions with generated placeholders
  (``#n0``, ``:v0``), for the writes whose fields are only known at run time; fixed ones write their expression
  out, and key conditions use boto3's ``Key`` (``boto3.dynamodb.conditions``);
- :func:`to_python` / :func:`to_dynamo`: the resource's ``Decimal`` numbers to ``int``/``float`` and back (boto3
  refuses floats); :func:`to_wire` / :func:`from_wire`: Python values to the low-level client's AttributeValues and
  back (the thread-safe client, where the resource's are not).

Why hand-written: boto3's resource layer pages nothing for ``query``/``scan`` (only its paginators do, on the
low-level client, which gives AttributeValues and no limit+1 page) and reports a failed condition only as a
``ClientError`` code; boto3 has no helper for BatchGetItem's 100-key limit and its ``UnprocessedKeys`` (its
``batch_writer`` is for writes only); these few functions are what every store needed around it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from avito_service import aws
from avito_service.cursors import decode_cursor, encode_cursor
from avito_service.errors import ValidationFailed

CONDITION_FAILED = "ConditionalCheckFailedException"
TRANSACTION_CANCELED = "TransactionCanceledException"
ITEM_CONDITION_FAILED = "ConditionalCheckFailed"  # the per-item code inside a cancelled transaction


# --- paging ------------------------------------------------------------------------------------------------


def query_all(query: Callable[..., dict[str, Any]], **request: Any) -> Iterator[dict[str, Any]]:
    """Every item of ``query(**request)`` (a table's or client's ``query``), following ``LastEvaluatedKey``."""
    yield from _all_pages(query, request)


def scan_all(scan: Callable[..., dict[str, Any]], **request: Any) -> Iterator[dict[str, Any]]:
    """Every item of ``scan(**request)``, following ``LastEvaluatedKey``."""
    yield from _all_pages(scan, request)


def _all_pages(call: Callable[..., dict[str, Any]], request: dict[str, Any]) -> Iterator[dict[str, Any]]:
    while True:
        page = call(**request)
        yield from page.get("Items") or ()
        if not page.get("LastEvaluatedKey"):
            return
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def first_items(
    query: Callable[..., dict[str, Any]],
    count: int,
    *,
    convert: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    keep: Callable[[dict[str, Any]], bool] | None = None,
    **request: Any,
) -> tuple[list[dict[str, Any]], bool]:
    """Up to ``count`` items of the query (asking ``count`` at a time) and whether more may follow; each item is
    ``convert``-ed first and left out unless ``keep`` takes it (so ``count`` counts kept items)."""
    request["Limit"] = count
    items: list[dict[str, Any]] = []
    while True:
        page = query(**request)
        found = page.get("Items") or ()
        if convert is not None:
            found = map(convert, found)
        items.extend(item for item in found if keep is None or keep(item))
        if len(items) >= count:
            return items[:count], len(items) > count or bool(page.get("LastEvaluatedKey"))
        if not page.get("LastEvaluatedKey"):
            return items, False
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def query_page(
    query: Callable[..., dict[str, Any]],
    request: dict[str, Any],
    *,
    limit: int,
    cursor: str | None,
    key_attrs: tuple[str, ...],
    belongs: Callable[[dict[str, Any]], bool] = lambda _start: True,
    convert: Callable[[dict[str, Any]], dict[str, Any]] = lambda item: item,
    refusal: str = "Not a cursor of this list.",
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of a list and the next page's cursor (None on the last page), by the limit+1 rule.

    ``key_attrs`` are the table's and the index's key attributes (what ``ExclusiveStartKey`` needs): the cursor
    holds them, taken from the page's last item. A cursor that lacks them, or that ``belongs`` refuses (another
    list's cursor), is a 422 on ``cursor``. ``convert`` turns each item into what the caller returns."""
    start = decode_cursor(cursor, required_keys=key_attrs)
    if start:
        if not belongs(start):
            raise ValidationFailed.on("cursor", refusal)
        request["ExclusiveStartKey"] = start
    items, _ = first_items(query, limit + 1, **request)
    if len(items) <= limit:
        return [convert(i) for i in items], None
    page = items[:limit]
    return [convert(i) for i in page], encode_cursor({attr: _cursor_value(page[-1][attr]) for attr in key_attrs})


def _cursor_value(value: Any) -> Any:
    return to_python(value)  # a cursor is JSON: a Decimal key (a number) goes as int/float, back as Decimal


# --- batch reads -------------------------------------------------------------------------------------------

BATCH_GET_KEYS = 100  # DynamoDB's limit of keys per BatchGetItem
UNPROCESSED_ROUNDS = 8  # calls per chunk before giving up on keys DynamoDB keeps handing back
UNPROCESSED_BACKOFF = 0.05  # seconds before the first retry of unprocessed keys, doubled each round (at most 1 s)


class UnprocessedKeysLeft(RuntimeError):
    """DynamoDB kept handing keys back (``UnprocessedKeys``: throttled or over its size limit) round after round."""


def batch_get(
    table_name: str,
    keys: Iterable[Mapping[str, Any]],
    *,
    projection: str | None = None,
    names: Mapping[str, str] | None = None,
    consistent: bool = False,
) -> list[dict[str, Any]]:
    """The items of ``keys`` (Python values) in ``table_name`` that exist, as Python values (numbers as Decimal,
    like the resource), in no particular order.

    BatchGetItem, ``BATCH_GET_KEYS`` keys a call (a key given twice is asked once: DynamoDB refuses duplicates);
    ``UnprocessedKeys`` are asked again after a short, doubling pause, at most ``UNPROCESSED_ROUNDS`` calls per
    chunk, then :class:`UnprocessedKeysLeft`. ``projection``/``names``: the ``ProjectionExpression`` and its
    ``ExpressionAttributeNames``; ``consistent``: strongly consistent reads.

    The plain client (thread-safe and shared; the resource's client deep-copies and converts every request and
    answer): the keys go out through :func:`to_wire` and the items come back through :func:`from_wire`, which is
    what the resource does for them."""
    unique: dict[tuple[Any, ...], dict[str, Any]] = {}
    for key in keys:
        wire = to_wire(key)
        unique.setdefault(_key_identity(wire), wire)
    wanted = list(unique.values())
    shape: dict[str, Any] = {}
    if projection:
        shape["ProjectionExpression"] = projection
    if names:
        shape["ExpressionAttributeNames"] = dict(names)
    if consistent:
        shape["ConsistentRead"] = True
    found: list[dict[str, Any]] = []
    for start in range(0, len(wanted), BATCH_GET_KEYS):
        request: dict[str, Any] = {table_name: {**shape, "Keys": wanted[start : start + BATCH_GET_KEYS]}}
        for round_ in range(UNPROCESSED_ROUNDS):
            if round_:
                time.sleep(min(UNPROCESSED_BACKOFF * 2 ** (round_ - 1), 1.0))  # throttled: wait before asking again
            answer = aws.dynamodb_low_level_client().batch_get_item(RequestItems=request)
            found.extend(from_wire(item) for item in answer.get("Responses", {}).get(table_name, ()))
            request = answer.get("UnprocessedKeys") or {}
            if not request:
                break
        else:
            left = len(request.get(table_name, {}).get("Keys", ()))
            raise UnprocessedKeysLeft(
                f"BatchGetItem on {table_name}: {left} key(s) still unprocessed after {UNPROCESSED_ROUNDS} calls"
            )
    return found


def _key_identity(wire: Mapping[str, Any]) -> tuple[Any, ...]:
    """A hashable form of a key's AttributeValues (key attributes are S, N or B: all hashable)."""
    return tuple(sorted((name, kind, value) for name, av in wire.items() for kind, value in av.items()))


# --- conditions --------------------------------------------------------------------------------------------


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code") or "")


def cancellation_codes(exc: ClientError) -> list[str]:
    """Per item of a cancelled transaction, its code (``"None"`` for items that were fine); [] otherwise."""
    if error_code(exc) != TRANSACTION_CANCELED:
        return []
    return [str(reason.get("Code") or "None") for reason in exc.response.get("CancellationReasons") or ()]


def condition_failed(exc: ClientError, *, any_cancellation: bool = False) -> bool:
    """A write's condition did not hold: a single write's, or one item's of a transaction.

    ``any_cancellation``: every cancelled transaction counts (also one cancelled by a concurrent transaction on
    the same items), for callers that retry from a fresh read either way."""
    code = error_code(exc)
    if code == CONDITION_FAILED:
        return True
    if code == TRANSACTION_CANCELED:
        return any_cancellation or ITEM_CONDITION_FAILED in cancellation_codes(exc)
    return False


# --- expressions -------------------------------------------------------------------------------------------


@dataclass
class Expression:
    """Builds an update (and its condition) with generated placeholders: ``#n0``... for names, ``:v0``... for
    values, so any attribute name (reserved words included) and any value are safe."""

    names: dict[str, str] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)
    _name_of: dict[str, str] = field(default_factory=dict)

    def name(self, attr: str) -> str:
        if attr not in self._name_of:
            placeholder = f"#n{len(self._name_of)}"
            self._name_of[attr] = placeholder
            self.names[placeholder] = attr
        return self._name_of[attr]

    def value(self, value: Any) -> str:
        placeholder = f":v{len(self.values)}"
        self.values[placeholder] = value
        return placeholder

    def render(self, update: str | None = None, condition: str | None = None) -> dict[str, Any]:
        """The keyword arguments of ``update_item`` (or of a transaction's ``Update``)."""
        request: dict[str, Any] = {}
        if update:
            request["UpdateExpression"] = update
        if condition:
            request["ConditionExpression"] = condition
        if self.names:
            request["ExpressionAttributeNames"] = dict(self.names)
        if self.values:
            request["ExpressionAttributeValues"] = dict(self.values)
        return request


def update_expression(
    *,
    set_values: Mapping[str, Any] | None = None,
    add: Mapping[str, Any] | None = None,
    remove: set[str] | frozenset[str] | None = None,
    conditions: list[str] | None = None,
    expression: Expression | None = None,
) -> dict[str, Any]:
    """``SET a = :v, ... ADD b :v ... REMOVE c`` (an attribute both set and removed is set), with ``conditions``
    joined by AND (written with ``expression.name()``/``.value()`` of the same ``expression``)."""
    expression = expression or Expression()
    set_values, add, remove = set_values or {}, add or {}, remove or set()
    parts = []
    if set_values:
        parts.append("SET " + ", ".join(f"{expression.name(k)} = {expression.value(v)}" for k, v in set_values.items()))
    if add:
        parts.append("ADD " + ", ".join(f"{expression.name(k)} {expression.value(v)}" for k, v in add.items()))
    removes = sorted(set(remove) - set(set_values))
    if removes:
        parts.append("REMOVE " + ", ".join(expression.name(k) for k in removes))
    return expression.render(" ".join(parts), " AND ".join(conditions or ()) or None)


# --- types -------------------------------------------------------------------------------------------------

_SERIALIZER = TypeSerializer()
_DESERIALIZER = TypeDeserializer()


def to_python(value: Any) -> Any:
    """The resource's Decimals back to ints (whole numbers) and floats, at any depth."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: to_python(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_python(v) for v in value]
    return value


def to_dynamo(value: Any) -> Any:
    """Floats to Decimals, at any depth (boto3 refuses floats)."""
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {k: to_dynamo(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_dynamo(v) for v in value]
    return value


def to_wire(values: Mapping[str, Any]) -> dict[str, Any]:
    """Python values -> the low-level client's AttributeValues (what the resource would send for them)."""
    return {name: _SERIALIZER.serialize(value) for name, value in values.items()}


def from_wire(item: Mapping[str, Any]) -> dict[str, Any]:
    """The low-level client's AttributeValues -> Python values (numbers as Decimal, like the resource)."""
    return {name: _DESERIALIZER.deserialize(value) for name, value in item.items()}
