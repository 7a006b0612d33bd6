"""DynamoDB's wire format and item sizes, and an in-memory AccountsTable behind botocore (what the tick calls)."""

from __future__ import annotations

import json
import math
import re
import types
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from avito_service.dynamo import from_wire

# --- DynamoDB wire format, item sizes ----------------------------------------------------------------------------
from benchmarks.eternal.constants import PAGE_BYTES


def value_size(value: dict[str, Any]) -> int:
    """Bytes DynamoDB counts for one attribute value (wire format)."""
    ((kind, raw),) = value.items()
    if kind == "S":
        return len(raw.encode())
    if kind == "N":
        digits = raw.lstrip("-").replace(".", "").strip("0") or "0"
        return (len(digits) + 1) // 2 + 1
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "M":
        return 3 + sum(len(k.encode()) + value_size(v) for k, v in raw.items())
    if kind == "L":
        return 3 + sum(1 + value_size(v) for v in raw)
    if kind == "SS":
        return sum(len(s.encode()) for s in raw)
    return len(str(raw))


def item_size(item: dict[str, Any] | None) -> int:
    return sum(len(k.encode()) + value_size(v) for k, v in (item or {}).items())


def _plain(value: dict[str, Any]) -> Any:
    return from_wire({"value": value})["value"]


# --- an in-memory AccountsTable behind botocore --------------------------------------------------------------------

_KEY_TERM = re.compile(r"^\(*\s*(#?\w+)\s*(=|<=|<|>=|>)\s*(:\w+)\s*\)*$")
_COND_TERM = re.compile(
    r"^\(*\s*(?:(attribute_exists|attribute_not_exists)\s*\(\s*(#?\w+)\s*\)|(#?\w+)\s*(=|<>)\s*(:\w+))\s*\)*$"
)
_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


class Unsupported(NotImplementedError):
    """The double was asked for something it does not implement: fail loudly rather than answer wrongly."""


def _split_and(expression: str) -> list[str]:
    return [t.strip() for t in re.split(r"\s+AND\s+", expression.strip())]


class AccountsTableDouble:
    """AccountsTable for the tick: Query on a GSI (key conditions =, <, <=, >, >=) and conditional UpdateItem
    (SET/ADD/REMOVE of plain values; conditions attribute_exists, attribute_not_exists, =, <> joined by AND).

    Request units: Query = ceil(bytes of the page's index entries / 4 KB) x 0.5 (GSI reads are eventually
    consistent); UpdateItem = ceil(max(old, new) / 1 KB) on the table plus, per GSI, one write per 1 KB of the new
    index entry when a projected attribute changed, two (delete + put) when its key changed.
    """

    def __init__(self, table_name: str, properties: dict[str, Any], clock: Any) -> None:
        self.table_name = table_name
        keys = {k["KeyType"]: k["AttributeName"] for k in properties["KeySchema"]}
        self.hash_key, self.range_key = keys["HASH"], keys["RANGE"]
        self.indexes: dict[str, dict[str, Any]] = {}
        for gsi in properties.get("GlobalSecondaryIndexes", []):
            gkeys = {k["KeyType"]: k["AttributeName"] for k in gsi["KeySchema"]}
            projection = gsi.get("Projection", {})
            self.indexes[gsi["IndexName"]] = {
                "hash": gkeys["HASH"],
                "range": gkeys.get("RANGE"),
                "type": projection.get("ProjectionType", "ALL"),
                "include": set(projection.get("NonKeyAttributes", [])),
            }
        self.items: dict[tuple[str, str], dict[str, Any]] = {}
        self.stats: Counter[str] = Counter()
        self.clock = clock
        self._parser: Any = None

    # seeding and inspection
    def put_wire(self, item: dict[str, Any]) -> None:
        self.items[(item[self.hash_key]["S"], item[self.range_key]["S"])] = item

    def get_plain(self, pk: str, sk: str) -> dict[str, Any] | None:
        item = self.items.get((pk, sk))
        return {k: _plain(v) for k, v in item.items()} if item else None

    # botocore plumbing
    def install(self, client: Any) -> None:
        from botocore import parsers

        self._parser = parsers.create_parser(client.meta.service_model.metadata["protocol"])
        client.meta.events.register("before-call.dynamodb", self._before_call, unique_id="eo-bench-accounts-double")

    def uninstall(self, client: Any) -> None:
        client.meta.events.unregister("before-call.dynamodb", unique_id="eo-bench-accounts-double")

    def _before_call(self, model: Any, params: dict[str, Any], request_signer: Any, **_: Any) -> Any:
        request = json.loads(params.get("body") or b"{}")
        if request.get("TableName") != self.table_name:
            return None  # another table: moto answers
        handlers = {"Query": self._query, "UpdateItem": self._update}
        if model.name not in handlers:
            raise Unsupported(f"the AccountsTable double does not implement {model.name}")
        sign(model, params, request_signer)
        self.clock.wait(model.name)
        self.stats[f"{model.name}.calls"] += 1
        status, payload = handlers[model.name](request)
        return respond(self._parser, model, status, payload)

    # index helpers
    def _in_index(self, item: dict[str, Any] | None, index: str) -> bool:
        spec = self.indexes[index]
        return bool(item) and spec["hash"] in item and (spec["range"] is None or spec["range"] in item)

    def _project(self, item: dict[str, Any], index: str) -> dict[str, Any]:
        spec = self.indexes[index]
        if spec["type"] == "ALL":
            return item
        keep = {self.hash_key, self.range_key, spec["hash"], spec["range"]}
        if spec["type"] == "INCLUDE":
            keep |= spec["include"]
        return {k: v for k, v in item.items() if k in keep}

    def _index_key(self, item: dict[str, Any], index: str) -> tuple[Any, ...]:
        spec = self.indexes[index]
        return (json.dumps(item.get(spec["hash"])), json.dumps(item.get(spec["range"])))

    # Query
    def _query(self, request: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        index = request.get("IndexName")
        if index not in self.indexes or request.get("FilterExpression"):
            raise Unsupported(f"Query on {index!r} with {sorted(request)}")
        spec = self.indexes[index]
        names = request.get("ExpressionAttributeNames", {})
        values = request.get("ExpressionAttributeValues", {})
        conditions: dict[str, tuple[str, Any]] = {}
        for term in _split_and(request["KeyConditionExpression"]):
            match = _KEY_TERM.match(term)
            if not match:
                raise Unsupported(f"key condition {term!r}")
            conditions[names.get(match[1], match[1])] = (match[2], _plain(values[match[3]]))
        hash_op, hash_value = conditions.pop(spec["hash"])
        range_condition = conditions.pop(spec["range"], None)
        if hash_op != "=" or conditions:
            raise Unsupported(f"key condition {request['KeyConditionExpression']!r}")
        rows = []
        for key, item in self.items.items():
            if not self._in_index(item, index) or _plain(item[spec["hash"]]) != hash_value:
                continue
            sort_value = _plain(item[spec["range"]])
            if range_condition and not _OPS[range_condition[0]](sort_value, range_condition[1]):
                continue
            rows.append((sort_value, key, item))
        rows.sort(key=lambda row: (row[0], row[1]), reverse=request.get("ScanIndexForward") is False)
        start = request.get("ExclusiveStartKey")
        if start:  # a position, not an item: the item itself may have moved since (claimed)
            marker = (_plain(start[spec["range"]]), (start[self.hash_key]["S"], start[self.range_key]["S"]))
            if request.get("ScanIndexForward") is False:
                rows = [row for row in rows if (row[0], row[1]) < marker]
            else:
                rows = [row for row in rows if (row[0], row[1]) > marker]
        limit = request.get("Limit")
        page, size = [], 0
        for _, _, item in rows:
            projected = self._project(item, index)
            entry_size = item_size(projected)
            if page and size + entry_size > PAGE_BYTES:
                break
            page.append(projected)
            size += entry_size
            if limit and len(page) == limit:
                break
        answer: dict[str, Any] = {"Items": page, "Count": len(page), "ScannedCount": len(page)}
        if len(page) < len(rows):
            last = page[-1]
            answer["LastEvaluatedKey"] = {
                k: last[k] for k in (self.hash_key, self.range_key, spec["hash"], spec["range"])
            }
        self.stats["Query.pages"] += 1
        self.stats["Query.items"] += len(page)
        self.stats["Query.bytes"] += size
        self.stats["RRU.x2"] += max(1, math.ceil(size / 4096))  # in half units (0.5 RRU per 4 KB, eventual)
        return 200, answer

    # UpdateItem
    def _update(self, request: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        key = request["Key"]
        table_key = (key[self.hash_key]["S"], key[self.range_key]["S"])
        old = self.items.get(table_key)
        names = request.get("ExpressionAttributeNames", {})
        values = request.get("ExpressionAttributeValues", {})
        if request.get("ConditionExpression") and not self._condition(
            request["ConditionExpression"], old, names, values
        ):
            self.stats["UpdateItem.condition_failed"] += 1
            self.stats["WRU"] += max(1, math.ceil(item_size(old) / 1024))  # a failed conditional write is billed
            return 400, {
                "__type": "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException",
                "message": "The conditional request failed",
            }
        new = dict(old) if old else dict(key)
        self._apply(request.get("UpdateExpression", ""), new, names, values)
        table_units = max(1, math.ceil(max(item_size(old), item_size(new)) / 1024))
        index_units = 0
        for index in self.indexes:
            before = self._project(old, index) if old and self._in_index(old, index) else None
            after = self._project(new, index) if self._in_index(new, index) else None
            if before == after:
                continue
            if before and after and self._index_key(before, index) == self._index_key(after, index):
                units = math.ceil(item_size(after) / 1024)  # a projected attribute changed
            else:  # the index key changed (delete + put), or the item entered or left the index
                units = (math.ceil(item_size(before) / 1024) if before else 0) + (
                    math.ceil(item_size(after) / 1024) if after else 0
                )
            self.stats[f"WRU.{index}"] += units
            index_units += units
        self.items[table_key] = new
        self.stats["WRU"] += table_units + index_units
        self.stats["WRU.table"] += table_units
        answer = {"Attributes": new} if request.get("ReturnValues") == "ALL_NEW" else {}
        return 200, answer

    @staticmethod
    def _condition(expression: str, item: dict[str, Any] | None, names: dict[str, str], values: dict[str, Any]) -> bool:
        for term in _split_and(expression):
            match = _COND_TERM.match(term)
            if not match:
                raise Unsupported(f"condition {term!r}")
            if match[1]:
                present = bool(item) and names.get(match[2], match[2]) in item
                if present != (match[1] == "attribute_exists"):
                    return False
                continue
            attr = names.get(match[3], match[3])
            current = _plain(item[attr]) if item and attr in item else None
            equal = current is not None and current == _plain(values[match[5]])
            if equal != (match[4] == "="):
                return False
        return True

    @staticmethod
    def _apply(expression: str, item: dict[str, Any], names: dict[str, str], values: dict[str, Any]) -> None:
        parts = re.split(r"\b(SET|ADD|REMOVE)\b", expression)
        if parts[0].strip():
            raise Unsupported(f"update expression {expression!r}")
        for keyword, body in zip(parts[1::2], parts[2::2], strict=True):
            for clause in (c.strip() for c in body.split(",")):
                if keyword == "SET":
                    match = re.fullmatch(r"(#?\w+)\s*=\s*(:\w+)", clause)
                    if not match:
                        raise Unsupported(f"SET {clause!r}")
                    item[names.get(match[1], match[1])] = values[match[2]]
                elif keyword == "ADD":
                    match = re.fullmatch(r"(#?\w+)\s+(:\w+)", clause)
                    if not match:
                        raise Unsupported(f"ADD {clause!r}")
                    attr = names.get(match[1], match[1])
                    total = Decimal(item[attr]["N"]) if attr in item else Decimal(0)
                    item[attr] = {"N": str(total + Decimal(values[match[2]]["N"]))}
                else:
                    item.pop(names.get(clause, clause), None)


def sign(model: Any, params: dict[str, Any], request_signer: Any) -> None:
    """Sign the request as botocore would before sending it (its CPU cost is part of a real call)."""
    from botocore.awsrequest import create_request_object

    request = create_request_object(params)
    request_signer.sign(model.name, request)
    request.prepare()


def respond(parser: Any, model: Any, status: int, payload: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """An HTTP answer as botocore's parser sees it; the client raises ClientError for status >= 300."""
    body = json.dumps(payload).encode()
    http = types.SimpleNamespace(status_code=status, headers={}, content=body, raw=None)
    raw = {"body": body, "headers": {"x-amzn-requestid": "bench"}, "status_code": status}
    return http, parser.parse(raw, model.output_shape)
