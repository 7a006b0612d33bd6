"""Eternal online at fleet scale: the tick, the worker and the keep-alive lag for 10,000 accounts.

Fleet: ``--accounts`` enabled accounts, intervals 60/120/300/900/3600 s in equal shares, each with a random phase
(first ``nextDueAt`` uniform in ``[T0, T0 + interval)``), plus ``--disabled`` disabled accounts. The items have the
shape and size of real account items (``accounts/service.py``, ``online/service.py``, stats/webhook/proxy fields).

Measured
--------
1. Tick in moto: ``--moto-accounts`` enabled accounts (default 2,000, plus disabled ones in the same proportion)
   in the template's AccountsTable in moto (in-process ``mock_aws``) and the real ``schedule.tick(now=T0)`` once,
   then the same fleet and tick against the double below (cross-check). Wall time here is mostly moto's (its GSI
   query scans the whole table; an UpdateItem costs 5-15 ms of emulator time): 10,000 + 10,000 takes ~4 min.
2. Simulated hour: the real ``schedule.tick(now=T0 + k*300)``, k = 0..11, with AccountsTable served by an
   in-memory double behind botocore (a ``before-call`` hook: boto3/botocore still build, validate, serialise and
   sign every request and parse every answer). The double implements only what the tick calls -- Query on the
   sparse GSI ``byOnlineDue`` (template projection, 1 MB pages) and the claim's conditional UpdateItem -- and
   counts request units with DynamoDB's rules, index writes included. moto alone would need ~80,000 UpdateItems
   at 5-15 ms of emulator time each for one hour. SendMessageBatch is answered by a botocore stub that records
   the entries (moto's SQS rescans the whole queue on every message: quadratic at 200,000 messages).
3. Worker: the real ``online_worker.lambda_handler`` (Powertools batch processor, 8 threads) on SQS events of
   ``BatchSize`` records, one invocation after another, in this process; DynamoDB and Secrets Manager are a moto
   server in its own process (real HTTP round trips), Avito is the simulator in another process (50 ms latency).
   ``--worker-accounts`` real accounts (secrets in moto, 0-3 unread chats each), a warm-up pass (token fetch, secret
   read, first chat store), then ``--worker-sample`` keep-alives.

Modelled (assumptions in ``ASSUMPTIONS``, printed and written to the JSON)
-------------------------------------------------------------------------
- Lambda time of the tick: its own CPU time x ``--lambda-cpu-factor`` (a 512 MB function gets 512/1769 of a
  vCPU) plus an assumed round trip per AWS call. A controllable clock (``schedule.time``) makes the tick see that
  time, so the DelaySeconds it computes are what it would compute in Lambda.
- Lag: a discrete-event model of SQS + the Lambda event source: each keep-alive becomes visible at the moment
  the tick sent it + DelaySeconds; batches of up to BatchSize wait at most MaximumBatchingWindowInSeconds; at most
  MaximumConcurrency invocations at once; each invocation takes a measured worker profile (scaled up when the
  measured CPU x factor says a 512 MB function would be CPU-bound).
- Cost: list prices in ``PRICES`` times the counts above, 30 days.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import heapq
import itertools
import json
import math
import multiprocessing as mp
import os
import random
import re
import statistics
import sys
import threading
import time
import types
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from typing import Any

from benchmarks._common import (
    TEMPLATE,
    apply_created,
    moto_stack,
    percentile,
    quiet_output,
    reset_caches,
    set_lambda_env,
    table,
    write_results,
)

T0 = 1_800_000_000  # simulated start of the hour (unix s), as in tests/integration/test_eternal_online.py
INTERVALS = (60, 120, 300, 900, 3600)
TARGET_S = 15.0  # "every enabled account gets keep-alives at its own interval within about +-15 s"
SIM_UID0 = 7_100_000
PAGE_BYTES = 1024 * 1024
HOURS_PER_MONTH = 24 * 30

PRICES = {
    "source": "AWS list prices, us-east-1, as published in 2025 (on-demand, arm64, no free tier, no discounts)",
    "lambda_per_gb_s_arm64": 0.0000133334,
    "lambda_per_1m_requests": 0.20,
    "sqs_standard_per_1m_requests": 0.40,
    "dynamodb_on_demand_per_1m_rru": 0.125,
    "dynamodb_on_demand_per_1m_wru": 0.625,
    "secrets_manager_per_secret_month": 0.40,
    "secrets_manager_per_10k_api_calls": 0.05,
    "cloudwatch_logs_per_gb_ingested": 0.50,
}

ASSUMPTIONS = {
    "rtt_s": {"Query": 0.020, "UpdateItem": 0.005, "GetItem": 0.005, "SendMessageBatch": 0.010},
    "lambda_cpu_factor": round(1769 / 512, 2),
    "sqs_delay_exact": "a message becomes receivable exactly DelaySeconds after SendMessageBatch returns",
    "invoke_overhead_s": 0.02,
    "lambda_platform_log_bytes_per_invocation": 300,
    "worker_container_lifetime_h": 2.0,
    "steady_state_chat_update_index_writes": 0,
}


# --- DynamoDB wire format, item sizes ----------------------------------------------------------------------------


def _serializer() -> Any:
    from boto3.dynamodb.types import TypeSerializer

    return TypeSerializer()


def _deserializer() -> Any:
    from boto3.dynamodb.types import TypeDeserializer

    return TypeDeserializer()


def to_wire(item: dict[str, Any]) -> dict[str, Any]:
    ser = _serializer()
    return {k: ser.serialize(v) for k, v in item.items()}


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
    return _deserializer().deserialize(value)


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


# --- SendMessageBatch capture, clocks ----------------------------------------------------------------------------


class SqsCapture:
    """Answers SendMessageBatch with success and records each entry with the (tick-relative) time it was sent."""

    def __init__(self) -> None:
        self.clock: Any = None
        self.tick_now = 0
        self.rows: list[tuple[str, int, int, int, float, int]] = []  # account, plannedAt, gen, delay, sent, now
        self.calls = 0
        self._parser: Any = None
        self._entries: list[dict[str, Any]] = []

    def install(self, client: Any) -> None:
        from botocore import parsers

        self._parser = parsers.create_parser(client.meta.service_model.metadata["protocol"])
        client.meta.events.register("before-parameter-build.sqs.SendMessageBatch", self._params, unique_id="eo-p")
        client.meta.events.register("before-call.sqs.SendMessageBatch", self._call, unique_id="eo-c")

    def begin(self, tick_now: int, clock: Any) -> None:
        self.tick_now, self.clock, self.rows, self.calls = tick_now, clock, [], 0

    def _params(self, params: dict[str, Any], **_: Any) -> None:
        self._entries = [dict(e) for e in params["Entries"]]

    def _call(self, model: Any, params: dict[str, Any], request_signer: Any, **_: Any) -> Any:
        sign(model, params, request_signer)
        self.clock.wait(model.name)
        sent = self.clock.now()
        self.calls += 1
        successful = []
        for entry in self._entries:
            body = json.loads(entry["MessageBody"])
            self.rows.append(
                (
                    body["accountId"],
                    int(body["plannedAt"]),
                    int(body["generation"]),
                    int(entry.get("DelaySeconds", 0)),
                    sent,
                    self.tick_now,
                )
            )
            digest = hashlib.md5(entry["MessageBody"].encode(), usedforsecurity=False).hexdigest()
            successful.append({"Id": entry["Id"], "MessageId": str(uuid.uuid4()), "MD5OfMessageBody": digest})
        return respond(self._parser, model, 200, {"Successful": successful, "Failed": []})


class TickClock:
    """Seconds since the tick started: measured (wall) or modelled for Lambda (own CPU x factor + round trips)."""

    def __init__(self, cpu_factor: float | None = None, rtt: dict[str, float] | None = None) -> None:
        self.cpu_factor, self.rtt = cpu_factor, rtt or {}
        self.start()

    def start(self) -> None:
        self._wall0, self._cpu0, self.waited = time.perf_counter(), time.thread_time(), 0.0

    def wait(self, operation: str) -> None:
        self.waited += self.rtt.get(operation, 0.0)

    def now(self) -> float:
        if self.cpu_factor is None:
            return time.perf_counter() - self._wall0
        return (time.thread_time() - self._cpu0) * self.cpu_factor + self.waited


@contextlib.contextmanager
def tick_sees(clock: TickClock) -> Iterator[None]:
    """Let ``schedule`` measure elapsed time on ``clock`` (only matters if it reads ``time.monotonic``)."""
    from avito_service.online import schedule

    had = "time" in vars(schedule)
    saved = vars(schedule).get("time")
    schedule.time = types.SimpleNamespace(  # type: ignore[attr-defined]
        monotonic=clock.now, perf_counter=clock.now, time=time.time, sleep=time.sleep
    )
    try:
        yield
    finally:
        if had:
            schedule.time = saved  # type: ignore[attr-defined]
        else:
            delattr(schedule, "time")


# --- the fleet -------------------------------------------------------------------------------------------------


def fleet_item(account_id: str, n: int, interval: int, next_due: int | None) -> dict[str, Any]:
    """A fully populated account item (proxy, stats, webhook, online state) as the service writes it."""
    created = "2026-06-01T08:00:00.000Z"
    item: dict[str, Any] = {
        "pk": f"ACCOUNT#{account_id}",
        "sk": "PROFILE",
        "id": account_id,
        "name": f"Shop {n:05d} - call centre fleet",
        "clientId": f"{n:05d}-{account_id[:18]}",
        "hasClientSecret": True,
        "hasProxyPassword": True,
        "connectionStatus": "connected",
        "proxyStatus": "ok",
        "eternalOnlineEnabled": next_due is not None,
        "onlineKeepAliveInterval": interval,
        "isOnline": True,
        "webhookSubscribed": True,
        "webhookTokenHash": hashlib.sha256(account_id.encode()).hexdigest(),
        "version": 12,
        "secretVersion": 2,
        "createdAt": created,
        "updatedAt": "2026-11-27T08:00:00.000Z",
        "listPk": "ACCOUNTS",
        "listSk": f"{created}#{account_id}",
        "userId": str(100_000_000 + n),
        "proxyType": "http",
        "proxyHost": f"proxy-{n % 50:02d}.example.net",
        "proxyPort": 8000 + n % 1000,
        "proxyLogin": f"user{n:05d}",
        "secretArn": f"arn:aws:secretsmanager:us-east-1:123456789012:secret:avito-service/accounts/{account_id}-AbCdEf",
        "lastCheckedAt": "2026-11-27T07:00:00.000Z",
        "lastOnlineCheck": "2026-11-27T07:59:00.000Z",
        "lastSyncAt": "2026-11-27T06:00:00.000Z",
        "balanceReal": 1_234_500,
        "balanceBonus": 0,
        "cpaBalance": 0,
        "adsCount": 42,
        "viewsCount": 12_345,
        "contactsCount": 321,
        "favoritesCount": 87,
        "viewsToday": 456,
        "contactsToday": 12,
    }
    if next_due is not None:
        item.update(onlinePk="ONLINE", nextDueAt=next_due, onlineGeneration=1)
    else:
        item["onlineGeneration"] = 2  # enabled once, then disabled
    return item


def build_fleet(enabled: int, disabled: int, seed: int, intervals: Sequence[int] = INTERVALS) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    items = []
    for n in range(enabled + disabled):
        account_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        interval = intervals[n % len(intervals)]
        next_due = T0 + rng.randrange(interval) if n < enabled else None
        items.append(fleet_item(account_id, n, interval, next_due))
    return items


def aligned_fleet_moments(fleet: list[dict[str, Any]], ticks: int, window: int) -> list[tuple[str, int, int]]:
    """Keep-alive moments if every account had been enabled at the same second (phase 0): planned by the same
    ``plan_window`` the tick uses. Used only by the lag model."""
    from avito_service.online.schedule import plan_window

    moments = []
    for item in fleet:
        if "nextDueAt" not in item:
            continue
        due = T0
        for k in range(ticks):
            now = T0 + k * window
            planned, due = plan_window(due, item["onlineKeepAliveInterval"], now, now + window)
            moments.extend((item["id"], m, item["onlineKeepAliveInterval"]) for m in planned)
    return moments


# --- running ticks -------------------------------------------------------------------------------------------------


def run_tick(now: int, clock: TickClock, sqs: SqsCapture, double: AccountsTableDouble | None) -> tuple[dict, list]:
    from avito_service.online import schedule

    before = Counter(double.stats) if double else Counter()
    sqs.begin(now, clock)
    wall0, cpu0 = time.perf_counter(), time.thread_time()
    clock.start()
    with tick_sees(clock):
        result = schedule.tick(now=now)
    elapsed = clock.now()
    wall, cpu = time.perf_counter() - wall0, time.thread_time() - cpu0
    if len(sqs.rows) != len(result.keep_alives):
        raise AssertionError(f"{len(result.keep_alives)} keep-alives planned but {len(sqs.rows)} sent")
    info: dict[str, Any] = {
        "now": now,
        "wall_s": round(wall, 3),
        "cpu_s": round(cpu, 3),
        "clock_s": round(elapsed, 3),
        "accounts_read": result.accounts_read,
        "accounts_planned": result.accounts_planned,
        "accounts_taken": result.accounts_taken,
        "keep_alives": len(result.keep_alives),
        "send_message_batch_calls": sqs.calls,
        "enqueue_failures": result.enqueue_failures,
        "first_send_s": round(min((r[4] for r in sqs.rows), default=0.0), 3),
        "last_send_s": round(max((r[4] for r in sqs.rows), default=0.0), 3),
    }
    if double:
        delta = Counter(double.stats)
        delta.subtract(before)
        info.update(
            query_pages=delta["Query.pages"],
            items_read=delta["Query.items"],
            index_bytes_read=delta["Query.bytes"],
            rru=delta["RRU.x2"] / 2,
            update_calls=delta["UpdateItem.calls"],
            wru=delta["WRU"],
            wru_table=delta["WRU.table"],
            wru_indexes=delta["WRU"] - delta["WRU.table"],
        )
    return info, list(sqs.rows)


def check_plans(rows: list[tuple], fleet: list[dict[str, Any]], hours: float) -> dict[str, Any]:
    """Per account: moments exactly ``interval`` apart, 3600/interval per hour (+-1), never twice, never early."""
    enabled = {i["id"]: int(i["onlineKeepAliveInterval"]) for i in fleet if "nextDueAt" in i}
    moments: dict[str, list[int]] = defaultdict(list)
    early = 0
    delays = Counter()
    for account_id, planned, _gen, delay, sent, now in rows:
        moments[account_id].append(planned)
        if now + sent + delay < planned - 1:  # visible more than a second before its moment
            early += 1
        delays[min(delay // 60, 15)] += 1
    wrong_count = wrong_spacing = duplicates = 0
    for account_id, interval in enabled.items():
        got = sorted(moments.get(account_id, []))
        if abs(len(got) - round(3600 * hours / interval)) > 1:
            wrong_count += 1
        if len(set(got)) != len(got):
            duplicates += 1
        if any(b - a != interval for a, b in itertools.pairwise(got)):
            wrong_spacing += 1
    return {
        "enabled_accounts": len(enabled),
        "accounts_with_keep_alives": len(set(moments) & set(enabled)),
        "keep_alives": len(rows),
        "count_violations": wrong_count,
        "spacing_violations": wrong_spacing,
        "duplicate_moments": duplicates,
        "keep_alives_for_disabled_accounts": sum(len(v) for k, v in moments.items() if k not in enabled),
        "visible_early_by_more_than_1s": early,
        "delay_seconds_histogram_by_minute": {f"{k}-{k + 1} min": v for k, v in sorted(delays.items())},
    }


def moto_tick(
    fleet: list[dict[str, Any]], sqs: SqsCapture, created: dict[str, str], table_properties: dict[str, Any], client: Any
) -> dict[str, Any]:
    """The fleet in moto's AccountsTable and one real tick at T0 (wall clock); then the same fleet and tick
    against the double: both must plan the same keep-alives and leave the same ``nextDueAt``."""
    from avito_service.accounts import service
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    from tests.support.moto_fast_tx import EmulatorClock

    backend = dynamodb_backends[DEFAULT_ACCOUNT_ID][os.environ["AWS_DEFAULT_REGION"]]
    t0 = time.perf_counter()
    for item in fleet:  # straight into moto's backend: seeding through the API would take minutes
        backend.put_item(created["AccountsTable"], to_wire(item))
    seeded = time.perf_counter() - t0
    emulator = EmulatorClock().install()
    calls0, seconds0 = emulator.calls, emulator.seconds
    info, moto_rows = run_tick(T0, TickClock(), sqs, None)
    info.update(
        table_items=len(fleet),
        enabled=sum(1 for i in fleet if "nextDueAt" in i),
        seed_s=round(seeded, 1),
        aws_calls=emulator.calls - calls0,
        time_inside_moto_s=round(emulator.seconds - seconds0, 1),
    )
    sample = random.Random(1).sample([i for i in fleet if "nextDueAt" in i], min(300, len(fleet)))
    in_moto = {i["id"]: int(service.account_store().get(i["id"])["nextDueAt"]) for i in sample}

    double = AccountsTableDouble(created["AccountsTable"], table_properties, TickClock())
    for item in fleet:
        double.put_wire(to_wire(item))
    double.install(client)
    try:
        double_info, double_rows = run_tick(T0, TickClock(), sqs, double)
    finally:
        double.uninstall(client)
    in_double = {a: int(double.get_plain(f"ACCOUNT#{a}", "PROFILE")["nextDueAt"]) for a in in_moto}
    info["crosscheck"] = {
        "same_keep_alives_planned": {r[:3] for r in moto_rows} == {r[:3] for r in double_rows},
        "same_items_read": info["accounts_read"] == double_info["accounts_read"],
        "keep_alives": [len(moto_rows), len(double_rows)],
        "sampled_accounts": len(in_moto),
        "next_due_at_mismatches": sum(1 for a in in_moto if in_moto[a] != in_double[a]),
    }
    return info


# --- the worker ----------------------------------------------------------------------------------------------------


def simulator_main(conn: Any, accounts: int, latency: float) -> None:
    """Child process: the Avito simulator with ``accounts`` accounts (0-3 unread chats each)."""
    from avito_sim import AvitoSimulator

    sim = AvitoSimulator(latency=latency)
    for n in range(accounts):
        user_id = SIM_UID0 + n
        sim.add_account(f"eo-bench-{n}", f"eo-secret-{n}", user_id, name=f"Shop {n}")
        for c in range(n % 4):
            chat_id = f"u2i-eo-{n}-{c}"
            sim.add_chat(user_id, chat_id, item_id=5000 + c, item_title=f"Sofa {c}", client_name="Anna")
            sim.add_message(user_id, chat_id, f"m-eo-{n}-{c}", "Is it still for sale?")
    conn.send(sim.start())
    while True:
        command = conn.recv()
        if command[0] == "count":
            conn.send(sim.count(command[1], command[2]))
        else:
            break
    sim.stop()


class CountingSink:
    """Where the function's stdout goes (JSON logs, EMF metrics): counts the bytes CloudWatch would ingest."""

    def __init__(self) -> None:
        self.bytes = 0
        self._lock = threading.Lock()

    def write(self, text: str) -> int:
        with self._lock:
            self.bytes += len(text.encode())
        return len(text)

    def flush(self) -> None:
        pass


class CallCounter:
    """Counts AWS calls per (service, operation, table) and per thread; times each call."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.seconds: dict[str, list[float]] = defaultdict(list)
        self.local = threading.local()
        self._lock = threading.Lock()

    def install(self, client: Any, tables: dict[str, str]) -> None:
        service = client.meta.service_model.service_id.hyphenize()

        def before(model: Any, params: dict[str, Any], **_: Any) -> None:
            label = f"{service}.{model.name}"
            if service == "dynamodb":
                request = json.loads(params.get("body") or b"{}")
                names = {request.get("TableName")} | set(request.get("RequestItems", {}))
                label += "(" + ",".join(sorted(tables.get(n, str(n)) for n in names if n)) + ")"
            self.local.started = (label, time.perf_counter())
            self.local.count = getattr(self.local, "count", 0) + 1
            with self._lock:
                self.calls[label] += 1

        def after(**_: Any) -> None:
            label, started = self.local.started
            took = time.perf_counter() - started
            self.local.aws_seconds = getattr(self.local, "aws_seconds", 0.0) + took
            with self._lock:
                self.seconds[label].append(took)

        client.meta.events.register(f"before-call.{service}", before, unique_id=f"eo-count-{service}")
        client.meta.events.register(f"after-call.{service}", after, unique_id=f"eo-count-after-{service}")


def sqs_event(messages: list[dict[str, Any]], start: int) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": f"msg-{start + n}",
                "receiptHandle": f"rh-{start + n}",
                "body": json.dumps(m),
                "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": str(int(time.time() * 1000))},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:KeepAliveQueue",
                "awsRegion": "us-east-1",
            }
            for n, m in enumerate(messages)
        ]
    }


def measure_worker(args: argparse.Namespace, settings: dict[str, Any]) -> dict[str, Any]:
    from local_runtime.moto_process import MotoProcess
    from local_runtime.template import create_resources, load_template

    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    simulator = ctx.Process(target=simulator_main, args=(child, args.worker_accounts, args.sim_latency), daemon=True)
    simulator.start()
    moto = MotoProcess()
    moto.spawn()
    try:
        endpoint = moto.wait_ready()
        sim_url = parent.recv()
        set_lambda_env(
            AWS_ENDPOINT_URL=endpoint,
            AVITO_API_URL=sim_url,
            AVITO_MAX_RETRIES="1",  # the worker's template environment
            AWS_LAMBDA_FUNCTION_NAME="online-worker",
            AWS_LAMBDA_FUNCTION_MEMORY_SIZE=str(settings["worker_memory_mb"]),
        )
        created = create_resources(load_template(TEMPLATE), endpoint)
        apply_created(created)
        reset_caches()
        return _run_worker(args, settings, created, parent)
    finally:
        with contextlib.suppress(Exception):
            parent.send(("stop",))
        simulator.join(timeout=5)
        moto.stop()


def _run_worker(args: argparse.Namespace, settings: dict[str, Any], created: dict[str, str], sim: Any) -> dict:
    import online_worker
    from avito_service import aws
    from avito_service.accounts import service
    from avito_service.accounts.models import AccountCreate
    from avito_service.avito import tokens
    from avito_service.observability import logger
    from avito_service.online import worker

    from tests.support.events import FakeContext

    tokens.forget_in_memory()
    account_ids = []
    with quiet_output():
        for n in range(args.worker_accounts):
            body = AccountCreate(
                name=f"Shop {n}",
                clientId=f"eo-bench-{n}",
                clientSecret=f"eo-secret-{n}",
                userId=str(SIM_UID0 + n),
                eternalOnlineEnabled=True,
                onlineKeepAliveInterval=INTERVALS[n % len(INTERVALS)],
            )
            account_ids.append(service.create_account(body).id)

    counter = CallCounter()
    tables = {created["AccountsTable"]: "Accounts", created["MessengerTable"]: "Messenger"}
    counter.install(aws.dynamodb_resource().meta.client, tables)
    counter.install(aws.secrets_client(), tables)

    records: list[dict[str, Any]] = []
    state = {"start": 0.0}
    original = worker.handle_record

    def timed(record: Any) -> Any:
        begin, calls0 = time.perf_counter(), getattr(counter.local, "count", 0)
        aws0 = getattr(counter.local, "aws_seconds", 0.0)
        outcome = "error"
        try:
            outcome = str(original(record))
            return outcome
        finally:
            end = time.perf_counter()
            records.append(
                {
                    "start": begin - state["start"],
                    "end": end - state["start"],
                    "seconds": end - begin,
                    "aws_calls": getattr(counter.local, "count", 0) - calls0,
                    "aws_seconds": getattr(counter.local, "aws_seconds", 0.0) - aws0,
                    "outcome": outcome,
                }
            )

    batch = settings["batch_size"]
    context = FakeContext(function_name="online-worker", memory_limit_in_mb=settings["worker_memory_mb"])
    sink = CountingSink()

    def run(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        invocations = []
        for start in range(0, len(messages), batch):
            event = sqs_event(messages[start : start + batch], start)
            records.clear()
            log0 = sink.bytes
            cpu0 = time.process_time()
            state["start"] = time.perf_counter()
            answer = online_worker.lambda_handler(event, context)
            wall = time.perf_counter() - state["start"]
            invocations.append(
                {
                    "records": len(event["Records"]),
                    "wall_s": wall,
                    "cpu_s": time.process_time() - cpu0,
                    "log_bytes": sink.bytes - log0,
                    "failures": len(answer.get("batchItemFailures", [])),
                    "ends": sorted(r["end"] for r in records),
                    "record_seconds": [r["seconds"] for r in records],
                    "record_aws_calls": [r["aws_calls"] for r in records],
                    "records_detail": sorted(
                        (r["start"], r["seconds"], r["aws_calls"], r["aws_seconds"]) for r in records
                    ),
                    "outcomes": Counter(r["outcome"] for r in records),
                }
            )
        return invocations

    planned_at = int(time.time())
    warm = [{"accountId": a, "plannedAt": planned_at, "generation": 0} for a in account_ids]
    rng = random.Random(args.seed)
    sample = [
        {"accountId": account_ids[n % len(account_ids)], "plannedAt": planned_at, "generation": 0}
        for n in range(args.worker_sample)
    ]
    rng.shuffle(sample)
    worker.handle_record = timed
    handler = logger.registered_handler
    previous = handler.setStream(sink)
    try:
        with contextlib.redirect_stdout(sink):  # type: ignore[type-var]
            warm_up = run(warm)
            counter.calls.clear()
            counter.seconds.clear()
            t0 = time.perf_counter()
            measured = run(sample)
            total_wall = time.perf_counter() - t0
    finally:
        worker.handle_record = original
        handler.setStream(previous)
    calls, seconds = Counter(counter.calls), {k: list(v) for k, v in counter.seconds.items()}
    sim.send(("count", "GET", r"^/messenger/v2/accounts/\d+/chats$"))
    chats_calls = sim.recv()
    sim.send(("count", "POST", r"^/token$"))
    token_calls = sim.recv()
    chat_sizes = [
        item_size(to_wire(i)) for i in aws.table(created["MessengerTable"]).scan(Limit=50)["Items"] if i["sk"] == "CHAT"
    ]
    account_sizes = [item_size(to_wire(service.account_store().get(a))) for a in account_ids[:20]]
    return summarise_worker(
        args,
        measured=measured,
        warm_up=warm_up,
        calls=calls,
        seconds=seconds,
        total_wall=total_wall,
        chats_calls=chats_calls,
        token_calls=token_calls,
        chat_sizes=chat_sizes,
        account_sizes=account_sizes,
    )


def summarise_worker(
    args: argparse.Namespace,
    *,
    measured: list[dict[str, Any]],
    warm_up: list[dict[str, Any]],
    calls: Counter[str],
    seconds: dict[str, list[float]],
    total_wall: float,
    chats_calls: int,
    token_calls: int,
    chat_sizes: list[int],
    account_sizes: list[int],
) -> dict[str, Any]:
    keep_alives = sum(i["records"] for i in measured)
    walls = [i["wall_s"] for i in measured]
    cpus = [i["cpu_s"] for i in measured]
    services = [s for i in measured for s in i["record_seconds"]]
    outcomes: Counter[str] = Counter()
    for i in measured:
        outcomes.update(i["outcomes"])
    from avito_service.online.worker import MAX_PARALLEL

    factor = args.lambda_cpu_factor
    full = [i for i in measured if i["records"] == max(x["records"] for x in measured)]
    lambda_profiles = [lambda_invocation(i, MAX_PARALLEL, ASSUMPTIONS["rtt_s"]["GetItem"], factor) for i in full]
    modelled = [p["wall_s"] for p in lambda_profiles]
    ddb_seconds = [s for label, values in seconds.items() if label.startswith("dynamodb") for s in values]
    return {
        "accounts": args.worker_accounts,
        "keep_alives": keep_alives,
        "invocations": len(measured),
        "warm_up_invocations": len(warm_up),
        "simulator_latency_s": args.sim_latency,
        "outcomes": dict(outcomes),
        "batch_item_failures": sum(i["failures"] for i in measured),
        "wall_s_total": round(total_wall, 2),
        "invocation_wall_ms": {"p50": ms(statistics.median(walls)), "p99": ms(percentile(walls, 99))},
        "invocation_cpu_ms": {"p50": ms(statistics.median(cpus)), "p99": ms(percentile(cpus, 99))},
        "invocation_modelled_lambda_ms": {
            "p50": ms(statistics.median(modelled)),
            "p99": ms(percentile(modelled, 99)),
            "mean": ms(statistics.fmean(modelled)),
        },
        "cpu_bound_share_at_512mb": round(sum(1 for p in lambda_profiles if p["cpu_bound"]) / len(full), 3),
        "keep_alive_service_ms": {
            "p50": ms(statistics.median(services)),
            "p99": ms(percentile(services, 99)),
            "max": ms(max(services)),
        },
        "keep_alives_per_s_per_invocation": round(keep_alives / sum(walls), 1),
        "keep_alives_per_s_per_invocation_modelled": round(
            sum(len(p["ends"]) for p in lambda_profiles) / sum(modelled), 1
        ),
        "aws_calls_per_keep_alive": {k: round(v / keep_alives, 3) for k, v in sorted(calls.items())},
        "dynamodb_call_ms_to_moto_server": {
            "p50": ms(statistics.median(ddb_seconds)) if ddb_seconds else None,
            "p99": ms(percentile(ddb_seconds, 99)) if ddb_seconds else None,
        },
        "log_bytes_per_invocation": round(statistics.fmean(i["log_bytes"] for i in measured)),
        "simulator_chat_listings": chats_calls,
        "simulator_token_requests": token_calls,
        "account_item_bytes": round(statistics.fmean(account_sizes)),
        "chat_item_bytes": round(statistics.fmean(chat_sizes)) if chat_sizes else 0,
        "unread_chats_per_keep_alive": round(
            sum((n % args.worker_accounts) % 4 for n in range(args.worker_sample)) / max(args.worker_sample, 1), 2
        ),
        "profiles": {
            "measured": [{"ends": i["ends"], "wall_s": i["wall_s"]} for i in full],
            "lambda": lambda_profiles,
        },
    }


def lambda_invocation(invocation: dict[str, Any], parallel: int, rtt: float, cpu_factor: float) -> dict[str, Any]:
    """One measured invocation as a 512 MB Lambda would run it: each keep-alive's time with the moto server's
    answer times replaced by ``rtt`` per call, re-run on ``parallel`` threads; then stretched if its CPU time x
    ``cpu_factor`` exceeds that (CPU-bound)."""
    detail = invocation["records_detail"]
    first = detail[0][0]
    tail = invocation["wall_s"] - max(start + took for start, took, *_ in detail)
    threads = [first] * parallel
    ends = []
    for _start, took, calls, aws_seconds in detail:
        begin = heapq.heappop(threads)
        end = begin + max(took - aws_seconds, 0.0) + calls * rtt
        ends.append(end)
        heapq.heappush(threads, end)
    wall = max(ends) + max(tail, 0.0)
    cpu = invocation["cpu_s"] * cpu_factor
    scale = max(1.0, cpu / wall)
    return {"ends": sorted(e * scale for e in ends), "wall_s": wall * scale, "cpu_bound": scale > 1.0}


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


# --- lag model -----------------------------------------------------------------------------------------------------


def simulate_lag(
    keep_alives: list[tuple[str, float, float, int]],
    profiles: list[tuple[list[float], float]],
    *,
    concurrency: int,
    batch: int,
    window: float,
    overhead: float,
    seed: int,
) -> dict[str, Any]:
    """keep_alives: (account, planned_at, visible_at, interval). Returns lag and backlog figures."""
    order = sorted(keep_alives, key=lambda k: k[2])
    rng = random.Random(seed)
    free = [order[0][2]] * concurrency if order else []
    heapq.heapify(free)
    done: list[tuple[str, float, float, int]] = []  # account, planned, completed, interval
    events: list[tuple[float, int]] = []
    batches: Counter[int] = Counter()
    durations: list[float] = []
    busy: list[tuple[float, int]] = []
    i, n = 0, len(order)
    while i < n:
        slot_free = heapq.heappop(free)
        first = max(slot_free, order[i][2])
        full_at = order[i + batch - 1][2] if i + batch - 1 < n else math.inf
        ready = max(first, min(first + window, full_at))
        j = i
        while j < n and j - i < batch and order[j][2] <= ready:
            j += 1
        ends, duration = rng.choice(profiles)
        k = j - i
        if k < len(ends):
            duration = ends[k - 1] + (duration - ends[-1])
            ends = ends[:k]
        start = ready + overhead
        for m in range(k):
            account, planned, visible, interval = order[i + m]
            done.append((account, planned, start + ends[m], interval))
            events.append((visible, 1))
            events.append((start, -1))
        busy.append((start, 1))
        busy.append((start + duration, -1))
        batches[k] += 1
        durations.append(duration)
        heapq.heappush(free, start + duration)
        i = j
    lags = [c - p for _, p, c, _ in done]
    gaps: list[float] = []
    by_account: dict[str, list[tuple[float, int]]] = defaultdict(list)
    for account, _p, completed, interval in done:
        by_account[account].append((completed, interval))
    for runs in by_account.values():
        runs.sort()
        gaps.extend(abs(b[0] - a[0] - a[1]) for a, b in itertools.pairwise(runs))
    return {
        "keep_alives": len(done),
        "lag_s": {
            "p50": round(statistics.median(lags), 2),
            "p99": round(percentile(lags, 99), 2),
            "max": round(max(lags), 2),
            "mean": round(statistics.fmean(lags), 2),
        },
        "within_15s": round(sum(1 for v in lags if abs(v) <= TARGET_S) / len(lags), 4),
        "interval_error_s": {
            "p50": round(statistics.median(gaps), 2) if gaps else None,
            "p99": round(percentile(gaps, 99), 2) if gaps else None,
            "max": round(max(gaps), 2) if gaps else None,
            "within_15s": round(sum(1 for g in gaps if g <= TARGET_S) / len(gaps), 4) if gaps else None,
        },
        "peak_backlog": peak(events),
        "peak_concurrency": peak(busy),
        "invocations": sum(batches.values()),
        "mean_batch": round(len(done) / max(sum(batches.values()), 1), 2),
        "mean_invocation_s": round(statistics.fmean(durations), 4),
    }


def peak(events: list[tuple[float, int]]) -> int:
    level = top = 0
    for _, delta in sorted(events, key=lambda e: (e[0], e[1])):  # at equal times, leave before arriving
        level += delta
        top = max(top, level)
    return top


def worker_profiles(worker: dict[str, Any], kind: str) -> list[tuple[list[float], float]]:
    """Invocation profiles (completion offsets, duration): ``measured`` here or modelled for ``lambda``."""
    return [(p["ends"], p["wall_s"]) for p in worker["profiles"][kind]]


# --- cost model ----------------------------------------------------------------------------------------------------


def monthly_cost(
    hour: dict[str, Any],
    worker: dict[str, Any],
    lag: dict[str, Any],
    settings: dict[str, Any],
    *,
    accounts: int,
    account_bytes: int,
) -> dict[str, Any]:
    """Monthly cost of the fleet; account writes priced at the fleet's item size (``account_bytes``)."""
    p = PRICES
    per_hour = {k: v * 12 / len(hour["ticks"]) for k, v in hour["totals"].items()}
    ka_month = per_hour["keep_alives"] * HOURS_PER_MONTH
    ticks_month = 12 * HOURS_PER_MONTH  # rate(5 minutes)
    tick_s = statistics.fmean(t["clock_s"] for t in hour["ticks"])
    worker_invocations = ka_month / lag["mean_batch"]
    worker_s = lag["mean_invocation_s"]
    lambda_requests = ticks_month + worker_invocations
    gb_s = ticks_month * tick_s * settings["tick_memory_mb"] / 1024
    gb_s += worker_invocations * worker_s * settings["worker_memory_mb"] / 1024
    sqs_requests = per_hour["send_message_batch_calls"] * HOURS_PER_MONTH + 2 * worker_invocations
    calls = worker["aws_calls_per_keep_alive"]
    account_rru = math.ceil(account_bytes / 4096)  # consistent GetItem: 1 RRU per 4 KB
    account_wru = 2 * math.ceil(account_bytes / 1024)  # table + byCreatedAt (projection ALL: every change)
    chat_wru = math.ceil(max(worker["chat_item_bytes"], 1) / 1024)
    worker_rru = sum(v for k, v in calls.items() if k.startswith("dynamodb.GetItem")) * account_rru
    worker_wru = calls.get("dynamodb.UpdateItem(Accounts)", 0) * account_wru
    worker_wru += calls.get("dynamodb.UpdateItem(Messenger)", 0) * chat_wru
    rru_month = per_hour["rru"] * HOURS_PER_MONTH + worker_rru * ka_month
    wru_month = per_hour["wru"] * HOURS_PER_MONTH + worker_wru * ka_month
    containers = max(1, lag["peak_concurrency"])
    secret_reads = containers * accounts * HOURS_PER_MONTH / ASSUMPTIONS["worker_container_lifetime_h"]
    log_gb = (
        (worker["log_bytes_per_invocation"] + ASSUMPTIONS["lambda_platform_log_bytes_per_invocation"])
        * worker_invocations
        / 2**30
    )
    lines = [  # (item, quantity, unit price, price as published)
        ("Lambda requests (tick + worker)", lambda_requests, p["lambda_per_1m_requests"] / 1e6, "$0.20 / 1M"),
        ("Lambda GB-s (arm64)", gb_s, p["lambda_per_gb_s_arm64"], "$0.0000133334 / GB-s"),
        (
            "SQS requests (send batches, receive, delete batches)",
            sqs_requests,
            p["sqs_standard_per_1m_requests"] / 1e6,
            "$0.40 / 1M",
        ),
        ("DynamoDB read request units", rru_month, p["dynamodb_on_demand_per_1m_rru"] / 1e6, "$0.125 / 1M"),
        ("DynamoDB write request units", wru_month, p["dynamodb_on_demand_per_1m_wru"] / 1e6, "$0.625 / 1M"),
        ("Secrets Manager GetSecretValue", secret_reads, p["secrets_manager_per_10k_api_calls"] / 1e4, "$0.05 / 10k"),
        ("CloudWatch Logs ingestion (GB)", log_gb, p["cloudwatch_logs_per_gb_ingested"], "$0.50 / GB"),
        ("Secrets Manager secrets stored", accounts, p["secrets_manager_per_secret_month"], "$0.40 / secret"),
    ]
    items = [
        {"item": name, "quantity": qty, "unit_price": price, "price": label, "usd": qty * price}
        for name, qty, price, label in lines
    ]
    return {
        "keep_alives_per_month": ka_month,
        "tick_invocations_per_month": ticks_month,
        "tick_modelled_s": round(tick_s, 2),
        "worker_invocations_per_month": worker_invocations,
        "worker_modelled_s": worker_s,
        "account_item_bytes": account_bytes,
        "per_keep_alive": {"worker_rru": worker_rru, "worker_wru": round(worker_wru, 3)},
        "per_hour_tick": {"rru": per_hour["rru"], "wru": per_hour["wru"]},
        "worker_containers_assumed": containers,
        "items": items,
        "total_usd": sum(i["usd"] for i in items),
        "total_without_secret_storage_usd": sum(i["usd"] for i in items[:-1]),
    }


# --- settings from the template ------------------------------------------------------------------------------------


def template_settings() -> dict[str, Any]:
    from local_runtime.template import load_template

    template = load_template(TEMPLATE)
    defaults = (template.document.get("Globals") or {}).get("Function") or {}
    worker = template.resource("OnlineWorkerFunction")["Properties"]
    tick = template.resource("OnlineTickFunction")["Properties"]
    source = worker["Events"]["Queue"]["Properties"]
    scaling = source.get("ScalingConfig") or {}
    return {
        "tick_memory_mb": int(tick.get("MemorySize", defaults.get("MemorySize", 128))),
        "tick_timeout_s": int(tick.get("Timeout", defaults.get("Timeout", 3))),
        "window_s": int(tick["Environment"]["Variables"].get("SCHEDULE_WINDOW_SECONDS", 300)),
        "worker_memory_mb": int(worker.get("MemorySize", defaults.get("MemorySize", 128))),
        "worker_timeout_s": int(worker.get("Timeout", defaults.get("Timeout", 3))),
        "batch_size": int(source.get("BatchSize", 10)),
        "batching_window_s": float(source.get("MaximumBatchingWindowInSeconds", 0)),
        "max_concurrency": int(scaling.get("MaximumConcurrency") or worker.get("ReservedConcurrentExecutions") or 1000),
        "accounts_table": template.resource("AccountsTable")["Properties"],
    }


# --- main ----------------------------------------------------------------------------------------------------------


def tick_part(args: argparse.Namespace, settings: dict[str, Any]) -> dict[str, Any]:
    from avito_service import aws
    from avito_service.online import worker as worker_module

    rtt = ASSUMPTIONS["rtt_s"]
    window = settings["window_s"]
    fleet = build_fleet(args.accounts, args.disabled, args.seed)
    out: dict[str, Any] = {"max_parallel": worker_module.MAX_PARALLEL}
    with moto_stack() as created:
        sqs = SqsCapture()
        sqs.install(aws.sqs_client())
        client = aws.dynamodb_resource().meta.client
        if args.moto_accounts:
            moto_fleet = build_fleet(
                args.moto_accounts, args.moto_accounts * args.disabled // max(args.accounts, 1), 11
            )
            print(f"[moto] {len(moto_fleet)} items, tick(now=T0) in moto and against the double ...", flush=True)
            with quiet_output():
                out["moto_tick"] = moto_tick(moto_fleet, sqs, created, settings["accounts_table"], client)
            print(f"[moto] {out['moto_tick']}", flush=True)

        wire = [to_wire(i) for i in fleet]

        lambda_clock = TickClock(args.lambda_cpu_factor, rtt)
        double = AccountsTableDouble(created["AccountsTable"], settings["accounts_table"], lambda_clock)
        for item in wire:
            double.put_wire(item)
        double.install(client)
        ticks, rows = [], []
        try:
            with quiet_output():
                for k in range(args.ticks):
                    info, tick_rows = run_tick(T0 + k * window, lambda_clock, sqs, double)
                    ticks.append(info)
                    rows.extend(tick_rows)
                    print(f"[hour] tick {k}: {info}", file=sys.__stdout__, flush=True)
        finally:
            double.uninstall(client)
        totals = Counter()
        for t in ticks:
            totals.update({k: v for k, v in t.items() if isinstance(v, int | float) and k != "now"})
        out["hour"] = {"ticks": ticks, "totals": dict(totals), "checks": check_plans(rows, fleet, args.ticks / 12)}
        out["scaling"] = scaling_runs(args, settings, created=created, client=client, sqs=sqs, fleet=fleet, rtt=rtt)
        out["rows"] = rows
        out["fleet"] = fleet
    return out


def scaling_runs(
    args: argparse.Namespace,
    settings: dict[str, Any],
    *,
    created: dict[str, str],
    client: Any,
    sqs: SqsCapture,
    fleet: list[dict[str, Any]],
    rtt: dict[str, float],
) -> list[dict[str, Any]]:
    """One tick at T0 for fleets of other shapes: items read follows the due accounts, not the table size."""
    small = max(args.accounts // 10, 1)
    shapes = [
        (f"{small:,} enabled (mixed)", build_fleet(small, 0, args.seed)),
        (f"{args.accounts:,} enabled (mixed)", [i for i in fleet if "nextDueAt" in i]),
        (f"{args.accounts:,} enabled (mixed) + {args.disabled:,} disabled", fleet),
        (f"{args.accounts:,} enabled, all 3600 s", build_fleet(args.accounts, 0, args.seed, intervals=(3600,))),
    ]
    results = []
    for label, items in shapes:
        clock = TickClock(args.lambda_cpu_factor, rtt)
        double = AccountsTableDouble(created["AccountsTable"], settings["accounts_table"], clock)
        for item in items:
            double.put_wire(to_wire(item))
        double.install(client)
        try:
            with quiet_output():
                info, _ = run_tick(T0, clock, sqs, double)
        finally:
            double.uninstall(client)
        info.update(label=label, table_items=len(items), enabled=sum(1 for i in items if "nextDueAt" in i))
        results.append(info)
        print(f"[scaling] {label}: read {info['accounts_read']}, {info['clock_s']} s modelled", flush=True)
    return results


def lag_part(args: argparse.Namespace, settings: dict[str, Any], ticks: dict, worker: dict) -> dict[str, Any]:
    fleet = ticks["fleet"]
    intervals = {i["id"]: int(i["onlineKeepAliveInterval"]) for i in fleet}
    planned = [(r[0], float(r[1]), r[5] + r[4] + r[3], intervals[r[0]]) for r in ticks["rows"]]
    common = {
        "concurrency": args.concurrency or settings["max_concurrency"],
        "batch": settings["batch_size"],
        "window": settings["batching_window_s"],
        "overhead": ASSUMPTIONS["invoke_overhead_s"],
        "seed": args.seed,
    }
    lambda_profiles = worker_profiles(worker, "lambda")
    measured_profiles = worker_profiles(worker, "measured")
    aligned = [
        (a, float(m), float(m), iv) for a, m, iv in aligned_fleet_moments(fleet, args.ticks, settings["window_s"])
    ]
    scenarios = {
        "random phases, tick + worker modelled for Lambda": simulate_lag(planned, lambda_profiles, **common),
        "random phases, worker as measured here": simulate_lag(planned, measured_profiles, **common),
        "random phases, tick sends instantly (worker-side lag only)": simulate_lag(
            [(a, p, p, iv) for a, p, _, iv in planned], lambda_profiles, **common
        ),
        "all accounts in phase (enabled at the same second), tick sends instantly": simulate_lag(
            aligned, lambda_profiles, **common
        ),
    }
    return {"parameters": common, "scenarios": scenarios}


def report(
    args: argparse.Namespace, settings: dict[str, Any], *, ticks: dict, worker: dict, lag: dict, cost: dict
) -> None:
    hour, w, concurrency = ticks["hour"], worker, lag["parameters"]["concurrency"]

    def mean(key: str, chosen: list[dict[str, Any]]) -> float:
        return statistics.fmean(t[key] for t in chosen)

    tick_rows = [
        (
            label,
            f"{mean('accounts_read', chosen):.0f}",
            f"{mean('query_pages', chosen):.1f}",
            f"{mean('rru', chosen):.1f}",
            f"{mean('update_calls', chosen):.0f}",
            f"{mean('wru', chosen):.0f}",
            f"{mean('keep_alives', chosen):.0f}",
            f"{mean('send_message_batch_calls', chosen):.0f}",
            f"{mean('wall_s', chosen):.1f}",
            f"{mean('clock_s', chosen):.1f}",
            f"{mean('first_send_s', chosen):.1f} / {mean('last_send_s', chosen):.1f}",
        )
        for label, chosen in (("tick 0", hour["ticks"][:1]), (f"mean of {len(hour['ticks'])}", hour["ticks"]))
    ]
    c = hour["checks"]
    sections: list[tuple[str, list[str], list[Sequence[Any]]]] = [
        (
            f"## Tick: {args.accounts:,} enabled + {args.disabled:,} disabled accounts, intervals {INTERVALS} s, "
            "AccountsTable double",
            [
                "ticks",
                "items read (due)",
                "query pages",
                "RRU",
                "claims (UpdateItem)",
                "WRU",
                "keep-alives",
                "SendMessageBatch",
                "wall here s",
                "Lambda s (modelled)",
                "first / last send s (modelled)",
            ],
            tick_rows,
        ),
        (
            "Items read per tick against table size (one tick at T0 each)",
            ["fleet", "items in table", "items read", "RRU", "claims", "keep-alives", "Lambda s (modelled)"],
            [
                (
                    x["label"],
                    x["table_items"],
                    x["accounts_read"],
                    x["rru"],
                    x["update_calls"],
                    x["keep_alives"],
                    x["clock_s"],
                )
                for x in ticks["scaling"]
            ],
        ),
        (
            f"Planning over the simulated hour ({len(hour['ticks'])} ticks)",
            [
                "enabled",
                "keep-alives",
                "count != 3600/interval (+-1)",
                "spacing != interval",
                "duplicates",
                "for disabled accounts",
                "visible > 1 s early",
            ],
            [
                (
                    c["enabled_accounts"],
                    c["keep_alives"],
                    c["count_violations"],
                    c["spacing_violations"],
                    c["duplicate_moments"],
                    c["keep_alives_for_disabled_accounts"],
                    c["visible_early_by_more_than_1s"],
                )
            ],
        ),
    ]
    if ticks.get("moto_tick"):
        m = ticks["moto_tick"]
        x = m["crosscheck"]
        sections.append(
            (
                "Tick 0 in moto (in-process mock_aws, wall clock) and the same tick against the double",
                [
                    "items in table",
                    "enabled",
                    "items read",
                    "keep-alives",
                    "wall s",
                    "inside moto s",
                    "same keep-alives as the double",
                    "nextDueAt mismatches (sample)",
                ],
                [
                    (
                        m["table_items"],
                        m["enabled"],
                        m["accounts_read"],
                        m["keep_alives"],
                        m["wall_s"],
                        m["time_inside_moto_s"],
                        x["same_keep_alives_planned"] and x["same_items_read"],
                        f"{x['next_due_at_mismatches']} / {x['sampled_accounts']}",
                    )
                ],
            )
        )
    sections.append(
        (
            f"## Worker: {w['keep_alives']} keep-alives over {w['accounts']} accounts, batches of "
            f"{settings['batch_size']}, {ticks['max_parallel']} threads, Avito simulator latency "
            f"{w['simulator_latency_s']} s",
            [
                "",
                "invocation p50 / p99 ms",
                "keep-alives/s per invocation",
                f"at concurrency {concurrency}",
            ],
            [
                (
                    "measured here (moto server DynamoDB p50 " + f"{w['dynamodb_call_ms_to_moto_server']['p50']} ms)",
                    f"{w['invocation_wall_ms']['p50']} / {w['invocation_wall_ms']['p99']}",
                    w["keep_alives_per_s_per_invocation"],
                    f"{w['keep_alives_per_s_per_invocation'] * concurrency:.0f}",
                ),
                (
                    "modelled for Lambda 512 MB (DynamoDB 5 ms, CPU x "
                    + f"{args.lambda_cpu_factor}; CPU-bound {w['cpu_bound_share_at_512mb']:.0%})",
                    f"{w['invocation_modelled_lambda_ms']['p50']} / {w['invocation_modelled_lambda_ms']['p99']}",
                    w["keep_alives_per_s_per_invocation_modelled"],
                    f"{w['keep_alives_per_s_per_invocation_modelled'] * concurrency:.0f}",
                ),
            ],
        )
    )
    sections.append(
        (
            "Per keep-alive (measured)",
            [
                "service time p50 / p99 ms",
                "CPU per invocation p50 ms",
                "AWS calls",
                "log bytes / invocation",
                "outcomes",
            ],
            [
                (
                    f"{w['keep_alive_service_ms']['p50']} / {w['keep_alive_service_ms']['p99']}",
                    w["invocation_cpu_ms"]["p50"],
                    ", ".join(f"{k} {v}" for k, v in w["aws_calls_per_keep_alive"].items()),
                    w["log_bytes_per_invocation"],
                    w["outcomes"],
                )
            ],
        )
    )
    sections.append(
        (
            "## Lag over the simulated hour (Messenger call done - planned moment; discrete-event model)",
            [
                "scenario",
                "keep-alives",
                "p50 s",
                "p99 s",
                "max s",
                "within 15 s",
                "interval error p99 s",
                "peak backlog",
                "peak concurrency",
                "mean batch",
            ],
            [
                (
                    name,
                    s["keep_alives"],
                    s["lag_s"]["p50"],
                    s["lag_s"]["p99"],
                    s["lag_s"]["max"],
                    f"{s['within_15s']:.2%}",
                    s["interval_error_s"]["p99"],
                    s["peak_backlog"],
                    s["peak_concurrency"],
                    s["mean_batch"],
                )
                for name, s in lag["scenarios"].items()
            ],
        )
    )
    sections.append(
        (
            f"## Monthly cost, {args.accounts:,} accounts, 30 days ({PRICES['source']})",
            ["item", "per month", "price", "USD / month"],
            [
                (
                    i["item"],
                    f"{i['quantity']:,.0f}" if i["quantity"] >= 100 else f"{i['quantity']:.1f}",
                    i["price"],
                    f"{i['usd']:,.2f}",
                )
                for i in cost["items"]
            ]
            + [
                ("**total**", "", "", f"**{cost['total_usd']:,.2f}**"),
                ("total without storing the secrets", "", "", f"{cost['total_without_secret_storage_usd']:,.2f}"),
            ],
        )
    )
    for title, headers, rows in sections:
        print(f"\n{title}\n")
        print(table(headers, rows))


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=10_000, help="enabled accounts")
    parser.add_argument("--disabled", type=int, default=10_000, help="disabled accounts in the same table")
    parser.add_argument("--ticks", type=int, default=12, help="ticks to simulate (12 = one hour)")
    parser.add_argument("--worker-accounts", type=int, default=100)
    parser.add_argument("--worker-sample", type=int, default=1000, help="keep-alives run through the worker")
    parser.add_argument("--sim-latency", type=float, default=0.05)
    parser.add_argument("--concurrency", type=int, default=0, help="worker concurrency (default: the template's)")
    parser.add_argument("--lambda-cpu-factor", type=float, default=ASSUMPTIONS["lambda_cpu_factor"])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--moto-accounts",
        type=int,
        default=2000,
        help="enabled accounts (plus disabled in the same proportion) for the tick in moto and its cross-check "
        "against the double; 0 skips it (10000 takes ~4 min here)",
    )
    parser.add_argument("--results-name", default="eternal_online", help="benchmarks/results/<name>.json")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    settings = template_settings()
    ticks = tick_part(args, settings)
    print("[worker] measuring ...", flush=True)
    worker = measure_worker(args, settings)
    lag = lag_part(args, settings, ticks, worker)
    cost = monthly_cost(
        ticks["hour"],
        worker,
        lag["scenarios"]["random phases, tick + worker modelled for Lambda"],
        settings,
        accounts=args.accounts,
        account_bytes=round(statistics.fmean(item_size(to_wire(i)) for i in ticks["fleet"] if "nextDueAt" in i)),
    )
    report(args, settings, ticks=ticks, worker=worker, lag=lag, cost=cost)
    runtime = time.perf_counter() - started
    print(f"\n(total run time {runtime:.0f} s)")
    data = {
        "arguments": vars(args),
        "template": {k: v for k, v in settings.items() if k != "accounts_table"},
        "assumptions": ASSUMPTIONS,
        "prices": PRICES,
        "moto_tick": ticks.get("moto_tick"),
        "hour": ticks["hour"],
        "scaling": ticks["scaling"],
        "worker": {k: v for k, v in worker.items() if k != "profiles"},
        "lag": lag,
        "cost": cost,
        "run_time_s": round(runtime, 1),
    }
    write_results(args.results_name, data)
    return data


if __name__ == "__main__":
    main()
