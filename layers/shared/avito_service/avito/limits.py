"""Avito's per-account rate limits, kept in DynamoDB so that every container (API functions, the keep-alive
worker, the job worker) draws from the same budget.

Avito documents limits per account, not per caller: the items list 25 calls a minute and the CPA balance one a
minute (``../shared/avito-api.md``), CPA's phones from chats 5 (cpa.json), call tracking's calls 5 and its
recordings 50 a minute (calltracking.json);
the stats call's 200 ids are a batch size (``AvitoApi.item_stats``). Every other endpoint has no documented limit,
but a 429 with ``Retry-After`` from any endpoint is remembered here, so other containers wait too instead of
running into the same 429.

Why not a library: ``pyrate-limiter`` (already pinned, via schemathesis) has in-memory, SQLite, Redis and
Postgres buckets but no DynamoDB one, and its buckets assume a store with server-side scripts or row locks;
the few lines below do the same with a DynamoDB conditional write.

Algorithm: a **sliding log** per account and endpoint (item ``<accountId>#<endpoint>``): the times of the last
``limit`` calls and a version number. A call may go when fewer than ``limit`` calls are logged within the
window (plus a small safety margin for clock differences); it is logged with a conditional write on the
version, so two containers never both take the last slot. A call is logged when it is sent and logged again
with the time its answer came back (:meth:`AvitoLimits.answered`): Avito counts a call when it arrives, which is
somewhere in between, so a slot is held until a window after the answer. Logged only at the send, a call that
travelled slowly (a busy machine, a slow proxy) could arrive inside the window of a later call that travelled
fast, and Avito would count one too many. This guarantees "never more than ``limit``
calls in any window", which a fixed-window counter (up to twice the limit across a window boundary) or a
token bucket (a full bucket plus its refill within one window) does not. One key per account and endpoint:
no hot key across accounts. Items expire by ``ttl`` once their window has passed.
"""

from __future__ import annotations

import functools
import math
import threading
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from botocore.exceptions import ClientError

from avito_service import aws, clock, dynamo
from avito_service.config import get_settings
from avito_service.errors import TooManyRequests


@dataclass(frozen=True)
class Rule:
    limit: int
    period: float  # seconds


# Avito's documented per-account limits, by the client's call names (``Call.name``).
RULES: dict[str, Rule] = {
    "core.items": Rule(25, 60.0),
    "cpa.balance": Rule(1, 60.0),
    # calltracking.json ``x-rate-limiter`` (X-RateLimit-Limit is "requests a minute"): getCalls and getCallById 5,
    # getRecordByCallId 50
    "calltracking.calls": Rule(5, 60.0),
    "calltracking.call": Rule(5, 60.0),
    "calltracking.record": Rule(50, 60.0),
    # cpa.json phonesInfoFromChats: "Максимальное количество запросов в минуту - 5" (the client card, clients/cpa.py)
    "cpa.phones": Rule(5, 60.0),
}
MARGIN_SECONDS = 1.0  # added to each window: our clocks and Avito's differ a little
MIN_MARGIN_SECONDS = 0.1  # the margin's floor when the windows are scaled down (tests)
MAX_CONFLICTS = 50


class BudgetExhausted(TooManyRequests):
    """Avito's budget for this account and endpoint is used up for longer than the caller may wait."""

    def __init__(self, endpoint: str, retry_in: float, rule: Rule | None) -> None:
        if rule is not None:
            what = f"Avito allows {rule.limit} such request{'s' if rule.limit > 1 else ''} per minute for an account"
        else:
            what = "Avito asked us to slow down for this account"
        super().__init__(f"{what}; try again in {max(1, math.ceil(retry_in))} s.")
        self.endpoint = endpoint
        self.retry_in = retry_in


@dataclass(frozen=True)
class Slot:
    """A call's place in an account's budget: seconds waited for it, and the time logged (None: no limit)."""

    waited: float
    logged_at: float | None


def _logged(moment: float) -> float:
    """A time as the log stores it (milliseconds), so a slot finds its own entry again."""
    return round(moment, 3)


@dataclass
class _State:
    calls: list[float]
    blocked_until: float
    version: int


class _Store(Protocol):
    def read(self, key: str) -> _State: ...
    def write(self, key: str, state: _State, expected_version: int, expires: float) -> bool: ...
    def block(self, key: str, until: float, expires: float) -> None: ...


class DynamoStore:
    """``AvitoLimitsTable``: ``pk`` = ``<accountId>#<endpoint>``; ``calls``, ``ver``, ``blockedUntil``, ``ttl``."""

    def __init__(self, table_name: str) -> None:
        self._table_name = table_name

    @property
    def _table(self) -> Any:
        return aws.table(self._table_name)  # cached by aws; looked up each time so tests can reset it

    def read(self, key: str) -> _State:
        item = self._table.get_item(Key={"pk": key}, ConsistentRead=True).get("Item") or {}
        return _State(
            calls=[float(c) for c in item.get("calls") or []],
            blocked_until=float(item.get("blockedUntil") or 0),
            version=int(item.get("ver") or 0),
        )

    def write(self, key: str, state: _State, expected_version: int, expires: float) -> bool:
        condition = "attribute_not_exists(ver)" if expected_version == 0 else "ver = :expected"
        values: dict[str, Any] = {
            ":calls": [Decimal(str(_logged(c))) for c in state.calls],
            ":ver": expected_version + 1,
            ":ttl": int(expires),
        }
        if expected_version:
            values[":expected"] = expected_version
        try:
            self._table.update_item(
                Key={"pk": key},
                UpdateExpression="SET calls = :calls, ver = :ver, #ttl = :ttl",
                ConditionExpression=condition,
                ExpressionAttributeNames={"#ttl": "ttl"},
                ExpressionAttributeValues=values,
            )
        except ClientError as exc:
            if dynamo.condition_failed(exc):
                return False
            raise
        return True

    def block(self, key: str, until: float, expires: float) -> None:
        try:
            self._table.update_item(
                Key={"pk": key},
                UpdateExpression="SET blockedUntil = :until, #ttl = :ttl",
                ConditionExpression="attribute_not_exists(blockedUntil) OR blockedUntil < :until",
                ExpressionAttributeNames={"#ttl": "ttl"},
                ExpressionAttributeValues={":until": Decimal(str(round(until, 3))), ":ttl": int(expires)},
            )
        except ClientError as exc:
            if not dynamo.condition_failed(exc):
                raise  # a later block is already recorded otherwise


class MemoryStore:
    """The same state in this process only: used when no table is configured (scripts, a bare client)."""

    def __init__(self) -> None:
        self._states: dict[str, _State] = {}
        self._lock = threading.Lock()

    def read(self, key: str) -> _State:
        with self._lock:
            state = self._states.get(key) or _State([], 0.0, 0)
            return _State(list(state.calls), state.blocked_until, state.version)

    def write(self, key: str, state: _State, expected_version: int, expires: float) -> bool:
        with self._lock:
            current = self._states.get(key)
            if (current.version if current else 0) != expected_version:
                return False
            blocked = current.blocked_until if current else 0.0
            self._states[key] = _State(list(state.calls), blocked, expected_version + 1)
            return True

    def block(self, key: str, until: float, expires: float) -> None:
        with self._lock:
            state = self._states.setdefault(key, _State([], 0.0, 0))
            state.blocked_until = max(state.blocked_until, until)


class AvitoLimits:
    """Take a slot before each Avito call (:meth:`acquire`); remember a 429's ``Retry-After`` (:meth:`retry_after`)."""

    def __init__(self, store: _Store, *, time_scale: float = 1.0) -> None:
        self._store = store
        self.time_scale = time_scale
        self.margin = max(MARGIN_SECONDS * time_scale, MIN_MARGIN_SECONDS) if time_scale < 1 else MARGIN_SECONDS

    def rule(self, endpoint: str) -> Rule | None:
        rule = RULES.get(endpoint)
        return Rule(rule.limit, rule.period * self.time_scale) if rule else None

    def acquire(self, account_id: str, endpoint: str, max_wait: float) -> Slot:
        """Wait (at most ``max_wait`` seconds, drawn from the caller's deadline) for a slot and take it.

        Returns the slot (the seconds waited, the time logged); raises :class:`BudgetExhausted` without waiting
        when the slot is further away. Call :meth:`answered` with the slot once the call is over.
        """
        key = f"{account_id}#{endpoint}"
        rule = self.rule(endpoint)
        waited = 0.0
        for _ in range(MAX_CONFLICTS):
            state = self._store.read(key)
            now = clock.now()
            wait = max(0.0, state.blocked_until - now)
            if rule is not None:
                window = rule.period + self.margin
                recent = sorted(c for c in state.calls if c > now - window)
                if len(recent) >= rule.limit:
                    wait = max(wait, recent[-rule.limit] + window - now)
            if wait > 0:
                if wait > max_wait - waited:
                    raise BudgetExhausted(endpoint, wait, rule)
                clock.sleep(wait)
                waited += wait
                continue
            if rule is None:
                return Slot(waited, None)
            taken = _State([*recent, _logged(now)][-rule.limit :], state.blocked_until, state.version)
            if self._store.write(key, taken, state.version, now + window + 60):
                return Slot(waited, _logged(now))
        raise BudgetExhausted(endpoint, 1.0, rule)  # extreme contention: let the caller come back

    def answered(self, account_id: str, endpoint: str, slot: Slot) -> None:
        """The call of ``slot`` is over (answered, failed or timed out): its slot is held until a window from now."""
        rule = self.rule(endpoint)
        if rule is None or slot.logged_at is None:
            return
        key = f"{account_id}#{endpoint}"
        for _ in range(MAX_CONFLICTS):
            state = self._store.read(key)
            if slot.logged_at not in state.calls:
                return  # pushed out of the log by later calls: nothing to extend
            now = _logged(max(clock.now(), slot.logged_at))
            calls = list(state.calls)
            calls[calls.index(slot.logged_at)] = now
            updated = _State(sorted(calls), state.blocked_until, state.version)
            if self._store.write(key, updated, state.version, now + rule.period + self.margin + 60):
                return
        # extreme contention: the slot keeps its send time, as before answers were logged

    def blocked_for(self, account_id: str, endpoint: str) -> float:
        """Seconds until a remembered 429's ``Retry-After`` for the account's endpoint ends (0: none now)."""
        return max(0.0, self._store.read(f"{account_id}#{endpoint}").blocked_until - clock.now())

    def retry_after(self, account_id: str, endpoint: str, seconds: float) -> None:
        """Avito answered 429 with ``Retry-After: seconds``: nobody calls this endpoint for the account until then."""
        if seconds <= 0:
            return
        until = clock.now() + seconds
        self._store.block(f"{account_id}#{endpoint}", until, until + 60)


_memory = MemoryStore()


@functools.cache
def _limits_for(table_name: str, time_scale: float) -> AvitoLimits:
    store: _Store = DynamoStore(table_name) if table_name else _memory
    return AvitoLimits(store, time_scale=time_scale)


def shared_limits() -> AvitoLimits:
    """The limits of this deployment (``AVITO_LIMITS_TABLE``; this process only when unset)."""
    settings = get_settings()
    return _limits_for(settings.avito_limits_table, settings.avito_limits_time_scale)


def clear_cache() -> None:
    _limits_for.cache_clear()
    _memory._states.clear()
