"""Reports (issue 27): a generated month of a 13-operator call centre (9 accounts, 20,000 messages a day) against
moto in-process: summary for the month, a dialogs page and a day's CSV through the handlers, as a director; the
write cost per message measured on the real stream consumer; the figures' storage per month.

The month: each day ~2,900 chats of ~7 messages (client messages in bursts of 1-2, 10 % of chats greeted by an
automatic reply, operators answering after a log-normal wait with a 2-minute median, 8 % of chats from Avito's own
app with no operator), 08:00-23:30 Moscow time, 9 accounts with 13 operators. Its figures are computed by the same
``figures.apply`` the consumer runs and written as the consumer would write them (day items with the ADDed
counters, each chat's tally), straight into moto's table objects (600,000 transactions through moto's HTTP layer
would take an hour and measure moto). The consumer itself runs on a sample of real stream records, counting the
items and bytes of its transactions: the write request units per message.

``--dynamodb dynalite``: the month is written with BatchWriteItem into dynalite (a local DynamoDB in Node,
``benchmarks/_dynalite.py``) and every measured handler's DynamoDB request goes there, so the wall time is not moto
serialising rows; Secrets Manager stays on moto, and so does the consumer's cost (transactions, which dynalite
lacks). build_month computes the items; ``writer`` gives the one writer they go through for either store.

``--before COMMIT``: the summary is also measured with that commit's ``reports/service.py`` and ``store.py`` (from
git), one call of each in turn, so a change is compared on one machine load. ``PROFILE=path.prof``: one summary
from the roll-ups under cProfile (its figure reads in the profiled thread), printed and kept for
``python -m benchmarks.profile_split path.prof``.

Run: ``PYTHONPATH=.:layers/shared:functions .venv/bin/python -m benchmarks.reports [--dynamodb dynalite]``
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime
from typing import Any

from benchmarks._common import create_account, moto_stack, percentile, quiet_output, table, write_results

WRU_PRICE = 0.625 / 1_000_000  # DynamoDB on demand, us-east-1 (November 2024): per write request unit
GB_MONTH = 0.25  # DynamoDB standard storage, per GB-month
PITR_GB_MONTH = 0.20
DAY0 = datetime(2026, 11, 1, tzinfo=UTC).timestamp() - 3 * 3600  # 2026-11-01 00:00 Moscow


def _serialize(item: dict[str, Any]) -> dict[str, Any]:
    from boto3.dynamodb.types import TypeSerializer

    serializer = TypeSerializer()
    return {k: serializer.serialize(v) for k, v in item.items()}


def item_size(item: dict[str, Any]) -> int:
    """DynamoDB's item size: attribute names plus values (strings as UTF-8, numbers ~ digits/2 + 1)."""
    size = 0
    for name, value in item.items():
        size += len(name.encode())
        if isinstance(value, str):
            size += len(value.encode())
        elif isinstance(value, bool) or value is None:
            size += 1
        elif isinstance(value, int | float):
            size += len(str(value)) // 2 + 1
        elif isinstance(value, set | list):
            size += 3 + sum(len(str(v).encode()) + 1 for v in value)
        elif isinstance(value, dict):
            size += 3 + item_size(value)
    return size


# --- where the month's items go: moto's table objects, or dynalite with BatchWriteItem -----------------------------

STORE: dict[str, str | None] = {"dynalite": None}  # dynalite's endpoint when the run is against dynalite


class MotoWriter:
    """Items straight into moto's table objects (no request, no serialising an answer: 600,000 messages' figures
    through moto's HTTP layer would take an hour and measure moto)."""

    def __init__(self, table_name: str) -> None:
        self.table = moto_table(table_name)

    def put(self, item: dict[str, Any]) -> None:
        from moto.dynamodb.models.dynamo_type import DynamoType, Item

        attrs = _serialize(item)
        hash_key, range_key = DynamoType(attrs["pk"]), DynamoType(attrs["sk"])
        self.table.items[hash_key][range_key] = Item(hash_key, range_key, attrs)

    def close(self) -> None:
        pass


def writer(table_name: str) -> Any:
    """The chosen store's writer of ``table_name``: ``put(item)`` each item, then ``close()``. With dynalite,
    BatchWriteItem (25 items a request, 4 requests in flight)."""
    from benchmarks._dynalite import BatchWriter

    endpoint = STORE["dynalite"]
    return BatchWriter(endpoint, table_name) if endpoint else MotoWriter(table_name)


def _dynalite_version() -> str:
    from benchmarks._dynalite import version

    return version()


def put(target: Any, item: dict[str, Any]) -> None:
    """The one way build_month writes an item: into the writer of ``writer``."""
    target.put(item)


def moto_table(name: str) -> Any:
    from moto.dynamodb.models import dynamodb_backends

    return dynamodb_backends["123456789012"]["us-east-1"].get_table(name)


def copy_to_dynalite(created: dict[str, str], leave_out: tuple[str, ...]) -> dict[str, int]:
    """Every table's items on moto (the accounts created through the service, ...) copied into dynalite's table
    of the same name, but ``leave_out``'s; the items copied per table."""
    from avito_service import aws

    copied = {}
    for logical_id, name in created.items():
        if not logical_id.endswith("Table") or logical_id in leave_out:
            continue
        target = writer(name)
        scan: dict[str, Any] = {}
        while True:
            page = aws.table(name).scan(**scan)
            for item in page["Items"]:
                put(target, item)
            if "LastEvaluatedKey" not in page:
                break
            scan["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        target.close()
        if target.items:
            copied[logical_id] = target.items
    return copied


# --- the generated conversations --------------------------------------------------------------------------------


def conversations(rng: random.Random, accounts: list[str], operators: list[dict[str, str]], per_day: int, days: int):
    """Messages (dicts like MessengerTable's items) of ``days`` days, ~``per_day`` a day, in time order per chat."""
    serial = 0
    for day in range(days):
        start_of_day = DAY0 + day * 86400
        produced = 0
        while produced < per_day:
            serial += 1
            account = accounts[serial % len(accounts)]
            chat = f"u2i-bench-{serial}"
            staff = [op for op in operators if account in op["accounts"]] or operators
            operator = rng.choice(staff)
            at = start_of_day + rng.uniform(8 * 3600, 23.5 * 3600)
            from_app = rng.random() < 0.08
            messages: list[dict[str, Any]] = []
            rounds = rng.choice((1, 2, 2, 3, 3, 4))
            for round_no in range(rounds):
                for _ in range(rng.choice((1, 1, 2))):
                    messages.append({"direction": "in", "at": at})
                    at += rng.uniform(5, 40)
                if round_no == 0 and rng.random() < 0.1:
                    messages.append({"direction": "out", "at": at + 2, "automatic": True})
                at += rng.lognormvariate(math.log(120), 1.2)
                sender = None if from_app else {"userId": operator["userId"], "name": operator["name"]}
                messages.append({"direction": "out", "at": at, "sentBy": sender})
                at += rng.lognormvariate(math.log(300), 1.0)
            for n, message in enumerate(messages):
                yield {
                    "id": f"{chat}-m{n}",
                    "accountId": account,
                    "chatId": chat,
                    "direction": message["direction"],
                    "createdAt": message["at"],
                    "automatic": message.get("automatic", False),
                    "sentBy": message.get("sentBy"),
                    "clientName": f"Клиент {serial}",
                }
            produced += len(messages)


def build_month(args: argparse.Namespace, created: dict[str, str], accounts: list[str], operators: list[dict]) -> dict:
    from avito_service import clock
    from avito_service.reports import figures
    from avito_service.reports.store import NOW_PK, TALLY_SK, day_pk, month_of, month_pk, tally_pk

    rng = random.Random(args.seed)
    reports = writer(created["ReportsTable"])
    tallies: dict[tuple[str, str], figures.Tally] = {}
    extra: dict[tuple[str, str], dict[str, Any]] = {}
    day_items: dict[tuple[str, str], dict[str, Any]] = {}
    month_items: dict[tuple[str, str], dict[str, Any]] = {}  # the roll-ups the consumer ADDs beside the days
    waiting: dict[str, int] = {}
    messages = 0
    started = time.perf_counter()
    for raw in conversations(rng, accounts, operators, args.messages_per_day, args.days):
        messages += 1
        sent_by = raw["sentBy"]
        facts = figures.MessageFacts(
            raw["id"],
            raw["accountId"],
            raw["chatId"],
            raw["direction"] == "in",
            raw["createdAt"],
            automatic=raw["automatic"],
            sender=figures.Sender(sent_by["userId"], sent_by["name"]) if sent_by else None,
        )
        key = (raw["accountId"], raw["chatId"])
        effect = figures.apply(tallies.get(key, figures.Tally()), facts, calendar=None, slow_after_seconds=300)
        tallies[key] = effect.tally
        info = extra.setdefault(key, {"clientName": raw["clientName"], "operators": set()})
        if effect.first_response_seconds is not None:
            info["firstResponseSeconds"] = round(effect.first_response_seconds)
        if effect.operator is not None:
            info["operators"].add(effect.operator.user_id)
        for day, counters in effect.account_adds.items():
            item = day_items.setdefault((day_pk(raw["accountId"]), f"{day}#A"), {"date": day})
            month = month_items.setdefault((month_pk(raw["accountId"]), f"{month_of(day)}#A"), {"month": day[:7]})
            month["n"] = month.get("n", 0) + 1  # the consumer: one effect falls on one day
            for attr, amount in counters.items():
                item[attr] = item.get(attr, 0) + amount
                month[attr] = month.get(attr, 0) + amount
        if effect.operator is not None:
            who = {"userId": effect.operator.user_id, "name": effect.operator.name}
            for day, counters in effect.operator_adds.items():
                sk = f"{day}#O#{effect.operator.user_id}"
                item = day_items.setdefault((day_pk(raw["accountId"]), sk), {"date": day, **who})
                month = month_items.setdefault(
                    (month_pk(raw["accountId"]), f"{month_of(day)}#O#{effect.operator.user_id}"),
                    {"month": day[:7], **who},
                )
                month["n"] = month.get("n", 0) + 1
                for attr, amount in counters.items():
                    item[attr] = item.get(attr, 0) + amount
                    month[attr] = month.get(attr, 0) + amount
        waiting[raw["accountId"]] = waiting.get(raw["accountId"], 0) + effect.waiting_delta
    sizes = {"tally": 0, "day": 0, "month": 0}
    for (account, chat), tally in tallies.items():
        info = extra[(account, chat)]
        item = {
            "pk": tally_pk(account, chat),
            "sk": TALLY_SK,
            "accountId": account,
            "chatId": chat,
            "clientName": info["clientName"],
            "messagesIn": tally.messages_in,
            "messagesOut": tally.messages_out,
            "version": tally.messages_in + tally.messages_out,
            "dialogAccount": account,
            "dialogSk": f"{clock.iso(tally.last_message_at)}#{chat}",
            "firstMessageAt": clock.iso(tally.first_message_at),
            "lastMessageAt": clock.iso(tally.last_message_at),
        }
        if tally.first_in_at is not None:
            item["firstInAt"] = clock.iso(tally.first_in_at)
        if tally.first_response_at is not None:
            item["firstResponseAt"] = clock.iso(tally.first_response_at)
            item["firstResponseSeconds"] = info.get("firstResponseSeconds", 0)
        if tally.awaiting_since is not None:
            item["awaitingSince"] = clock.iso(tally.awaiting_since)
        if info["operators"]:
            item["operators"] = info["operators"]
        put(reports, item)
        sizes["tally"] += item_size(item) + 100  # + the byAccountActivity index's copy overhead
    for (pk, sk), values in day_items.items():
        item = {"pk": pk, "sk": sk, **values}
        put(reports, item)
        sizes["day"] += item_size(item)
    for (pk, sk), values in month_items.items():
        item = {"pk": pk, "sk": sk, **values}
        put(reports, item)
        sizes["month"] += item_size(item)
    for account, count in waiting.items():
        put(reports, {"pk": NOW_PK, "sk": account, "waiting": count})
    month_waiting = [
        (account, chat, tally.awaiting_since) for (account, chat), tally in tallies.items() if tally.awaiting_since
    ]
    reports.close()
    return {
        "waiting_chats": month_waiting,
        "messages": messages,
        "chats": len(tallies),
        "day_items": len(day_items),
        "tally_bytes": sizes["tally"] * 2,  # the table's item and the index's copy
        "day_bytes": sizes["day"],
        "month_items": len(month_items),
        "month_bytes": sizes["month"],
        "build_seconds": round(time.perf_counter() - started, 1),
    }


def seed_now(created: dict[str, str], waiting: list[tuple[str, str, float]], operators: list[dict]) -> None:
    """What the "now" reads: the waiting chats as the workflow marks them (its awaitingReply index), the 13
    operators' connections (two tabs for some, every fourth one away), a director's."""
    from avito_service import aws, clock
    from avito_service.auth import Identity
    from avito_service.live.store import open_connection
    from avito_service.messenger.items import chat_pk, inbox_shard
    from avito_service.workflow.store import await_pk, set_away

    with aws.table(created["MessengerTable"]).batch_writer() as batch:
        for account, chat, since in waiting:
            since_iso = clock.iso(since)
            batch.put_item(
                Item={
                    "pk": chat_pk(account, chat),
                    "sk": "CHAT",
                    "accountId": account,
                    "chatId": chat,
                    "status": "new",
                    "awaitingReplySince": since_iso,
                    "awaitPk": await_pk(inbox_shard(account, chat)),
                    "awaitSk": f"{since_iso}#{account}#{chat}",
                }
            )
    hour = int(clock.now()) + 3600
    for n, operator in enumerate(operators):
        for tab in range(1 + n % 2):
            identity = Identity(operator["userId"], "operator", hour, account_ids=frozenset(operator["accounts"]))
            open_connection(f"c-{n}-{tab}", identity)
        if n % 4 == 0:
            set_away(operator["userId"], True, clock.iso())
    open_connection("c-director", Identity("director-1", "director", hour))


# --- the consumer's write cost ----------------------------------------------------------------------------------


def consumer_cost(args: argparse.Namespace, accounts: list[str], operators: list[dict]) -> dict[str, Any]:
    """Real stream records of a sample through the real consumer; the transactions' items and sizes counted."""
    import reports_figures
    from avito_service import clock
    from avito_service.messenger.items import chat_pk, message_sk

    from tests.support.events import FakeContext

    rng = random.Random(args.seed + 1)
    counted = {"transactions": 0, "items": 0, "wru": 0}

    from avito_service.reports.store import ReportStore

    original = ReportStore._transaction

    def count(self: Any, *a: Any, **kw: Any) -> list[dict[str, Any]]:
        items = original(self, *a, **kw)
        counted["transactions"] += 1
        counted["items"] += len(items)
        for entry in items:
            body = next(iter(entry.values()))
            size = len(json.dumps(body, default=str).encode())  # the request's size: an upper bound of the item's
            counted["wru"] += 2 * max(1, math.ceil(size / 1024))  # transactional writes: 2 WRU per KB
        return items

    ReportStore._transaction = count  # type: ignore[method-assign]
    records = []
    sample = [
        m for _, m in zip(range(args.sample), conversations(rng, accounts, operators, args.sample, 1), strict=False)
    ]
    for n, raw in enumerate(sample):
        image = {
            "pk": chat_pk(raw["accountId"], raw["chatId"]),
            "sk": message_sk(int(raw["createdAt"]), raw["id"]),
            "id": raw["id"],
            "accountId": raw["accountId"],
            "chatId": raw["chatId"],
            "direction": raw["direction"],
            "type": "text",
            "createdAt": clock.iso(raw["createdAt"]),
            **({"automatic": True} if raw["automatic"] else {}),
            **({"sentBy": raw["sentBy"]} if raw["sentBy"] else {}),
        }
        records.append(
            {
                "eventID": f"e{n}",
                "eventName": "INSERT",
                "eventSource": "aws:dynamodb",
                "dynamodb": {
                    "NewImage": _serialize(image),
                    "SequenceNumber": str(n),
                    "StreamViewType": "NEW_AND_OLD_IMAGES",
                },
            }
        )
    started = time.perf_counter()
    for start in range(0, len(records), 100):
        answer = reports_figures.lambda_handler({"Records": records[start : start + 100]}, FakeContext())
        assert answer == {"batchItemFailures": []}, answer
    seconds = time.perf_counter() - started
    before = dict(counted)
    replay_started = time.perf_counter()
    for start in range(0, len(records), 100):
        reports_figures.lambda_handler({"Records": records[start : start + 100]}, FakeContext())
    ReportStore._transaction = original  # type: ignore[method-assign]
    return {
        "messages": len(records),
        "transactions": before["transactions"],
        "items_per_message": round(before["items"] / before["transactions"], 2),
        "wru_per_message": round(before["wru"] / before["transactions"], 2),
        "replayed_transactions_cancelled": counted["transactions"] - before["transactions"],
        "consumer_ms_per_message_moto": round(seconds / len(records) * 1000, 2),
        "replay_ms_per_message_moto": round((time.perf_counter() - replay_started) / len(records) * 1000, 2),
    }


def index_partition_reads(table_name: str, index_name: str, attr: str) -> None:
    """Make moto answer a Query of ``index_name`` from that index partition's items, as DynamoDB does (moto walks
    the whole table for every index Query: minutes per CSV on a month). The partitions are taken once, after the
    month is seeded (the measures write nothing)."""
    from moto.dynamodb.models.table import Table

    table = moto_table(table_name)
    partitions: dict[str, list[Any]] = {}
    for partition in table.items.values():
        for item in partition.values():
            key = item.attrs.get(attr)
            if key is not None:
                partitions.setdefault(key.value, []).append(item)
    original = Table.query

    def query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        name = args[6] if len(args) > 6 else kwargs.get("index_name")
        if self is table and name == index_name and hash_key is not None:
            items = partitions.get(hash_key.value, [])
            self.all_items = lambda: iter(items)  # shadows the method for this call
            try:
                return original(self, hash_key, *args, **kwargs)
            finally:
                del self.all_items
        return original(self, hash_key, *args, **kwargs)

    Table.query = query


def csv_before(day: str) -> float:
    """The CSV as it was built before (the JSON table's pages of 100 rows one after another, with the look-ahead
    for the next account's rows, every row collected, then written): the comparison in the same run."""
    from datetime import date

    from avito_service.reports import service
    from avito_service.reports.csv_export import dialogs_csv

    in_moto, requests = MOTO["spent"]["seconds"], MOTO["spent"]["calls"]
    cpu_started, moto_cpu = time.process_time(), MOTO["cpu"]["seconds"]
    started = time.perf_counter()
    first = date.fromisoformat(day)
    rows: list[Any] = []
    cursor = None
    while True:
        page, cursor = service.dialogs(service.DialogFilter(first, first), limit=100, cursor=cursor)
        rows.extend(page)
        if cursor is None:
            break
    text = dialogs_csv(rows)
    elapsed = time.perf_counter() - started
    LAST["moto"] = MOTO["spent"]["seconds"] - in_moto
    LAST["rows"] = text.count("\r\n") - 1
    LAST["requests"] = MOTO["spent"]["calls"] - requests
    LAST["cpu"] = (time.process_time() - cpu_started) - (MOTO["cpu"]["seconds"] - moto_cpu)
    return elapsed


# --- the measures -----------------------------------------------------------------------------------------------


MOTO: dict[str, Any] = {"spent": {"seconds": 0.0, "calls": 0}, "cpu": {"seconds": 0.0, "calls": 0}}


def time_moto() -> dict[str, float]:
    """The wall time of every request moto answers (parsing it, the emulated table, serialising its answer
    attribute by attribute: ~0.15 ms per attribute, emulator work a real DynamoDB does on its side)."""
    from moto.core.botocore_stubber import BotocoreStubber

    spent = {"seconds": 0.0, "calls": 0}
    original = BotocoreStubber.__call__

    def timed_call(self: Any, *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return original(self, *args, **kwargs)
        finally:
            spent["seconds"] += time.perf_counter() - started
            spent["calls"] += 1

    BotocoreStubber.__call__ = timed_call  # type: ignore[method-assign]
    return spent


def call(module: Any, path: str, query: dict[str, str], headers: dict[str, str] | None = None) -> tuple[float, Any]:
    from tests.support.events import FakeContext, api_event

    event = api_event("GET", path, query=query, role="director", sub="director-1")
    for name, value in (headers or {}).items():
        event["headers"][name] = value
        event["multiValueHeaders"][name] = [value]
    in_moto, requests = MOTO["spent"]["seconds"], MOTO["spent"]["calls"]
    cpu_started, moto_cpu = time.process_time(), MOTO["cpu"]["seconds"]
    started = time.perf_counter()
    result = module.lambda_handler(event, FakeContext())
    elapsed = time.perf_counter() - started
    assert result["statusCode"] == 200, result["body"][:300]
    LAST["moto"] = MOTO["spent"]["seconds"] - in_moto
    LAST["cpu"] = (time.process_time() - cpu_started) - (MOTO["cpu"]["seconds"] - moto_cpu)
    LAST["requests"] = MOTO["spent"]["calls"] - requests
    return elapsed, result


LAST: dict[str, float] = {"moto": 0.0, "requests": 0, "rows": 0, "cpu": 0.0}


def progress(step: str, data: Any) -> None:
    """Each measure to stderr as it is taken (a month on a shared machine runs long; stdout is silenced)."""
    print(
        json.dumps({"at": datetime.now(UTC).strftime("%H:%M:%S"), step: data}, ensure_ascii=False, default=str),
        file=sys.stderr,
        flush=True,
    )


def timed(runs: int, fn: Any) -> dict[str, float]:
    """Wall time of each run, and the service's own share: wall time minus the CPU time inside moto (parsing,
    the emulated table, serialising its answer: work a real DynamoDB does on its side)."""
    values, own, cpu = [], [], []
    for _ in range(runs):
        values.append(fn())
        own.append(values[-1] - LAST["moto"])
        cpu.append(LAST["cpu"])
    return {
        "p50_ms": round(statistics.median(values) * 1000, 1),
        "p95_ms": round(percentile(values, 95) * 1000, 1),
        "max_ms": round(max(values) * 1000, 1),
        "service_p50_ms": round(statistics.median(own) * 1000, 1),
        "service_p95_ms": round(percentile(own, 95) * 1000, 1),
        # the service's CPU time (the process's, all threads, minus moto's request handling): what a shared,
        # loaded machine does not inflate the way it inflates wall time
        "service_cpu_p50_ms": round(statistics.median(cpu) * 1000, 1),
        "service_cpu_p95_ms": round(percentile(cpu, 95) * 1000, 1),
    }


class InThisThread:
    """A ThreadPoolExecutor that runs each task when it is submitted, in the submitting thread."""

    def __init__(self, **_: Any) -> None:
        pass

    def __enter__(self) -> InThisThread:
        return self

    def __exit__(self, *_: Any) -> None:
        return None

    def submit(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        from concurrent.futures import Future

        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # handed over to whoever asks the future, as the pool does
            future.set_exception(exc)
        return future


def code_of(commit: str) -> Any:
    """The reports service of ``commit``: its ``reports/service.py`` and ``reports/store.py`` from git, as modules
    of their own (the service importing that store), so a change to the summary is measured before and after in
    one process, on one machine load. The other modules (accounts, "now", rules, dynamo) are the current ones."""
    import subprocess
    import types

    from benchmarks._common import ROOT

    def load(name: str, path: str, replace: tuple[tuple[str, str], ...] = ()) -> Any:
        show = ["git", "show", f"{commit}:layers/shared/avito_service/reports/{path}"]
        source = subprocess.run(show, cwd=ROOT, check=True, capture_output=True, text=True).stdout
        for old, new in replace:
            assert old in source, (path, old)
            source = source.replace(old, new)
        module = types.ModuleType(name)
        module.__file__ = f"{commit}:{path}"
        sys.modules[name] = module  # dataclasses look their module up
        exec(compile(source, module.__file__, "exec"), module.__dict__)  # noqa: S102 (the project's own code)
        return module

    load("reports_before_store", "store.py")
    store_import = "from avito_service.reports.store import"
    return load("reports_before_service", "service.py", ((store_import, "from reports_before_store import"),))


@contextlib.contextmanager
def code(handler: Any, service: Any) -> Any:
    """The summary handler calling ``service`` (the handler looks ``service`` up in its module at each call)."""
    current = handler.service
    handler.service = service
    try:
        yield
    finally:
        handler.service = current


def assert_same_answer(handler: Any, before: Any, query: dict[str, str], reference: dict[str, Any]) -> None:
    """The current code and ``before`` answer as ``reference`` (the "now" aside: the moment's figures)."""

    def data(result: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in json.loads(result["body"])["data"].items() if k != "now"}

    with code(handler, before):
        _, old = call(handler, "/api/v1/reports/summary", query)
    _, new = call(handler, "/api/v1/reports/summary", query)
    assert data(old) == data(reference) == data(new)


def timed_with_code(runs: int, fn: Any, handler: Any, before: Any) -> tuple[dict[str, float], dict[str, float]]:
    """``timed`` of ``fn`` with the current code and with ``before``, one run of each in turn (a load that changes
    during the measure falls on both alike): (current, before)."""
    current, old = [], []
    for _ in range(runs):
        with code(handler, before):
            old.append(timed(1, fn))
        current.append(timed(1, fn))

    def pooled(results: list[dict[str, float]]) -> dict[str, float]:
        keys = ("p50_ms", "service_p50_ms", "service_cpu_p50_ms")
        values = {key: sorted(r[key] for r in results) for key in keys}
        return {
            "p50_ms": round(statistics.median(values["p50_ms"]), 1),
            "p95_ms": round(percentile(values["p50_ms"], 95), 1),
            "max_ms": max(values["p50_ms"]),
            "service_p50_ms": round(statistics.median(values["service_p50_ms"]), 1),
            "service_p95_ms": round(percentile(values["service_p50_ms"], 95), 1),
            "service_cpu_p50_ms": round(statistics.median(values["service_cpu_p50_ms"]), 1),
            "service_cpu_p95_ms": round(percentile(values["service_cpu_p50_ms"], 95), 1),
        }

    return pooled(current), pooled(old)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--messages-per-day", type=int, default=20_000)
    parser.add_argument("--accounts", type=int, default=9)
    parser.add_argument("--operators", type=int, default=13)
    parser.add_argument("--sample", type=int, default=2_000, help="messages through the real consumer")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--csv-runs", type=int, default=3)
    parser.add_argument("--before-every-day", action="store_true", help="the old CSV on the middle day too")
    parser.add_argument("--seed", type=int, default=27)
    parser.add_argument(
        "--before",
        metavar="COMMIT",
        help="also measure the summary with the reports service and store of COMMIT (from git), alternating with "
        "the current code in the same process, and assert the same answers",
    )
    parser.add_argument(
        "--dynamodb",
        choices=("moto", "dynalite"),
        default="moto",
        help="where the month is stored and the measured handlers read: moto in-process, or dynalite (Node, a "
        "process of its own, benchmarks/_dynalite.py); the consumer's write cost is measured on moto either way",
    )
    args = parser.parse_args()

    from benchmarks.search import patch_moto
    from local_runtime import moto_fast_tx

    load_before = os.getloadavg()
    with moto_stack() as created, quiet_output(), contextlib.ExitStack() as dynalite:
        moto_fast_tx.install()  # transactions cost O(items named), not O(table)
        MOTO["cpu"] = patch_moto(partition_reads=True)  # a table Query reads only its partition, as DynamoDB does
        MOTO["spent"] = time_moto()

        os.environ["REPORTS_TABLE"] = created["ReportsTable"]
        os.environ["MESSENGER_TABLE"] = created["MessengerTable"]
        os.environ["CONNECTIONS_TABLE"] = created["ConnectionsTable"]
        import reports_dialogs
        import reports_summary

        from tests.support.caches import reset_caches

        reset_caches()
        accounts = [
            create_account(f"Аккаунт {n}", client_id=f"bench-{n}", user_id=str(1000 + n)).id
            for n in range(args.accounts)
        ]
        operators = [
            {"userId": f"op-{n}", "name": f"Оператор {n}", "accounts": set(rng_accounts)}
            for n, rng_accounts in enumerate(
                [
                    accounts[(k * 2) % len(accounts) : (k * 2) % len(accounts) + 3] or accounts
                    for k in range(args.operators)
                ]
            )
        ]
        # the consumer on moto either way: its transactions (TransactWriteItems) are what it costs, and dynalite
        # implements no transactions
        consumer = consumer_cost(args, accounts, operators)
        progress("consumer", consumer)
        if args.dynamodb == "dynalite":
            # from here every DynamoDB request goes to dynalite (boto3 takes AWS_ENDPOINT_URL_DYNAMODB as the
            # local runtime's AWS_ENDPOINT_URL); Secrets Manager and the rest stay on moto. The month's table
            # starts empty there (the consumer sample's figures stay on moto); the other tables' items (the
            # accounts) are copied over.
            from benchmarks import _dynalite

            started = time.perf_counter()
            STORE["dynalite"] = dynalite.enter_context(_dynalite.dynalite_dynamodb())
            copied = copy_to_dynalite(created, leave_out=("ReportsTable",))
            os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = STORE["dynalite"]
            reset_caches()
            seconds = round(time.perf_counter() - started, 1)
            progress("dynalite", {"endpoint": STORE["dynalite"], "copied": copied, "seconds": seconds})
        else:
            # the sample's figures are kept apart from the month's: a fresh table for the month
            moto_table(created["ReportsTable"]).items.clear()
        month = build_month(args, created, accounts, operators)
        seed_now(created, month.pop("waiting_chats"), operators)
        progress("month", month)
        if args.dynamodb == "moto":  # dynalite reads an index's partition as DynamoDB does
            index_partition_reads(created["ReportsTable"], "byAccountActivity", "dialogAccount")
        first = datetime.fromtimestamp(DAY0 + 3 * 3600, tz=UTC).date()
        last = datetime.fromtimestamp(DAY0 + 3 * 3600 + (args.days - 1) * 86400, tz=UTC).date()
        month_query = {"from": first.isoformat(), "to": last.isoformat()}
        day = datetime.fromtimestamp(DAY0 + 3 * 3600 + (args.days // 2) * 86400, tz=UTC).date().isoformat()

        _, answer = call(reports_summary, "/api/v1/reports/summary", month_query)
        totals = json.loads(answer["body"])["data"]["totals"]
        now = json.loads(answer["body"])["data"]["now"]
        progress("totals", totals)
        # before: the day items only (no roll-up marker); after: the backfill's marker is there, the operators'
        # figures of the whole month come from the month items. The same answer both ways.
        before_code = code_of(args.before) if args.before else None
        summary = lambda: call(reports_summary, "/api/v1/reports/summary", month_query)[0]  # noqa: E731
        if before_code is not None:
            assert_same_answer(reports_summary, before_code, month_query, answer)
            summary_days, summary_days_before = timed_with_code(args.runs, summary, reports_summary, before_code)
            progress("summary_month_from_days_before", summary_days_before)
        else:
            summary_days = timed(args.runs, summary)
        progress("summary_month_from_days", summary_days)
        from avito_service.reports.store import ROLLUP_DONE_SK, ROLLUP_PK

        marker = writer(created["ReportsTable"])
        put(marker, {"pk": ROLLUP_PK, "sk": ROLLUP_DONE_SK})
        marker.close()
        _, rolled = call(reports_summary, "/api/v1/reports/summary", month_query)
        same = {k: v for k, v in json.loads(rolled["body"])["data"].items() if k != "now"}
        assert same == {k: v for k, v in json.loads(answer["body"])["data"].items() if k != "now"}
        if before_code is not None:
            assert_same_answer(reports_summary, before_code, month_query, answer)
            summary_times, summary_before = timed_with_code(args.runs, summary, reports_summary, before_code)
            progress("summary_month_before", summary_before)
        else:
            summary_times = timed(args.runs, summary)
        summary_times["dynamodb_requests"] = LAST["requests"]
        progress("summary_month", summary_times)
        if os.environ.get("PROFILE"):
            import cProfile
            import pstats

            from avito_service.reports import service as summary_service

            profiler = cProfile.Profile()
            # the figure reads in this thread, so the profiler (of one thread) sees them: the CPU split, not the
            # wall time of the parallel reads
            threads, summary_service.ThreadPoolExecutor = summary_service.ThreadPoolExecutor, InThisThread
            profiler.enable()
            try:
                call(reports_summary, "/api/v1/reports/summary", month_query)
            finally:
                profiler.disable()
                summary_service.ThreadPoolExecutor = threads
            stats = pstats.Stats(profiler, stream=sys.stderr).sort_stats(os.environ.get("PROFILE_SORT", "tottime"))
            stats.print_stats(os.environ.get("PROFILE_FILTER", ""), 40)  # e.g. PROFILE_FILTER='avito_service|boto'
            if os.environ["PROFILE"].endswith(".prof"):  # PROFILE=path.prof: the stats kept for pstats/snakeviz
                stats.dump_stats(os.environ["PROFILE"])

        _, page = call(reports_dialogs, "/api/v1/reports/dialogs", {**month_query, "limit": "50"})
        cursor = json.loads(page["body"])["nextCursor"]
        first_page = timed(
            args.runs, lambda: call(reports_dialogs, "/api/v1/reports/dialogs", {**month_query, "limit": "50"})[0]
        )
        next_page = timed(
            args.runs,
            lambda: call(reports_dialogs, "/api/v1/reports/dialogs", {**month_query, "limit": "50", "cursor": cursor})[
                0
            ],
        )
        next_page["dynamodb_requests"] = LAST["requests"]
        progress("dialogs_pages", {"first": first_page, "next": next_page})
        csv_days = {"last day": last.isoformat(), "middle day": day}
        csv_results: dict[str, Any] = {}
        for label, csv_day in csv_days.items():
            csv_query = {"from": csv_day, "to": csv_day, "format": "csv"}
            _, csv_answer = call(reports_dialogs, "/api/v1/reports/dialogs", csv_query)
            after = timed(args.csv_runs, lambda q=csv_query: call(reports_dialogs, "/api/v1/reports/dialogs", q)[0])
            after["dynamodb_requests"] = LAST["requests"]
            rows = csv_answer["body"].count("\r\n") - 1
            before = None
            if label == "last day" or args.before_every_day:  # the old way on the middle day: minutes of moto
                before = timed(args.csv_runs, lambda d=csv_day: csv_before(d))
                before["dynamodb_requests"] = LAST["requests"]
                assert LAST["rows"] == rows, (LAST["rows"], rows)  # the same rows both ways
            csv_results[label] = {
                "day": csv_day,
                "rows": rows,
                "bytes": len(csv_answer["body"].encode()),
                "after": after,
                "before": before,
            }
            progress(f"csv {label}", csv_results[label])

    messages_month = args.messages_per_day * args.days
    storage_gb = (month["tally_bytes"] + month["day_bytes"] + month["month_bytes"]) / 1e9
    costs = {
        "writes_per_month_usd": round(messages_month * consumer["wru_per_message"] * WRU_PRICE, 2),
        "chat_field_copies_per_month_usd": round(month["chats"] * 2 * WRU_PRICE, 2),
        "storage_gb_after_a_month": round(storage_gb, 3),
        "storage_usd_per_month_after_a_month": round(storage_gb * (GB_MONTH + PITR_GB_MONTH), 3),
    }
    results = {
        "dynamodb": {
            "store": f"dynalite {_dynalite_version()}" if args.dynamodb == "dynalite" else "moto (in-process)",
            "load_before": [round(x, 2) for x in load_before],
            "load_after": [round(x, 2) for x in os.getloadavg()],
            "command": " ".join(sys.argv[1:]),
        },
        "month": {**month, "accounts": args.accounts, "operators": args.operators, "days": args.days},
        "totals": {
            k: totals[k]
            for k in (
                "chatsStarted",
                "chatsAnswered",
                "messagesIn",
                "messagesOut",
                "firstResponseMedianSeconds",
                "firstResponseP90Seconds",
                "waitingNow",
            )
        },
        "now": now,
        "consumer": consumer,
        "summary_month": summary_times,
        "summary_month_from_days": summary_days,
        **(
            {"before": {"commit": args.before, "summary_month": summary_before, "from_days": summary_days_before}}
            if before_code is not None
            else {}
        ),
        "dialogs_first_page": first_page,
        "dialogs_next_page": next_page,
        "csv_day": csv_results,
        "costs": costs,
    }
    keys = ("p50_ms", "p95_ms", "max_ms", "service_p50_ms", "service_p95_ms", "service_cpu_p50_ms")
    print(
        table(
            ["measure", "p50 ms", "p95 ms", "max ms", "service p50 ms", "service p95 ms", "service CPU p50 ms"],
            [
                *(
                    [
                        [
                            f"summary (month), day items, before ({args.before})",
                            *(summary_days_before[k] for k in keys),
                        ],
                        [f"summary, roll-ups, before ({args.before})", *(summary_before[k] for k in keys)],
                    ]
                    if before_code is not None
                    else []
                ),
                ["summary (month), day items", *(summary_days[k] for k in keys)],
                ["summary (month), month roll-ups", *(summary_times[k] for k in keys)],
                ["dialogs page 1", *(first_page[k] for k in keys)],
                ["dialogs page 2", *(next_page[k] for k in keys)],
                *(
                    [f"CSV of the {label} ({r['rows']} rows), {when}", *(r[when][k] for k in keys)]
                    for label, r in csv_results.items()
                    for when in ("before", "after")
                    if r[when] is not None
                ),
            ],
        )
    )
    print(
        json.dumps(
            {"month": results["month"], "consumer": consumer, "costs": costs, "totals": results["totals"], "now": now},
            indent=2,
            ensure_ascii=False,
        )
    )
    print("written to", write_results("reports" if args.dynamodb == "moto" else "reports-dynalite", results))


if __name__ == "__main__":
    main()
