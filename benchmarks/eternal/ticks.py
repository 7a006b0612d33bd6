"""The tick at fleet scale: SendMessageBatch capture, controllable clocks, the fleet, running and checking ticks."""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import os
import random
import time
import types
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from typing import Any

from avito_service.dynamo import to_wire

# --- SendMessageBatch capture, clocks ----------------------------------------------------------------------------
from benchmarks.eternal.constants import INTERVALS, T0
from benchmarks.eternal.table import AccountsTableDouble, respond, sign


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

    from local_runtime.moto_fast_tx import EmulatorClock

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
