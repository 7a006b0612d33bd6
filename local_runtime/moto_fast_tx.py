"""moto tweak for the local runtime, the tests and the benchmarks: item-level rollback for TransactWriteItems.

moto 5.x snapshots every table a transaction touches with ``copy.deepcopy(table)`` before applying it, so
each transaction costs O(items in the table) and a long webhook run becomes quadratic: the benchmark would
measure the emulator, not the service, and the local stack's one moto process spent its time copying tables (at
a few new chats a second every webhook POST timed out). This patch snapshots only the items the transaction
names and restores those on cancellation, which is the same observable behaviour. Nothing in the app is changed.

The same observable behaviour includes the tables' streams: stock moto restores a whole table (its stream
included), DynamoDB writes no stream record for a canceled transaction. moto applies a transaction's items one
by one before it finds one whose condition fails, and restoring them item by item would leave stream records of
writes that never happened (e.g. a message whose id's guard then failed: an ``avito-new-message`` for a copy
never stored); so a canceled transaction's records are dropped as well.
"""

from __future__ import annotations

import copy
import time
import types
from typing import Any

from moto.core.botocore_stubber import BotocoreStubber
from moto.dynamodb import models as ddb_models
from moto.dynamodb.models.table import Table

_ORIGINAL = ddb_models.DynamoDBBackend.transact_write_items
_real_deepcopy = copy.deepcopy


def _deepcopy_except_tables(obj: Any, memo: Any = None) -> Any:
    return obj if isinstance(obj, Table) else _real_deepcopy(obj, memo)


def _key_of(backend: Any, op_type: str, op: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    table_name = op.get("TableName")
    if not table_name or table_name not in backend.tables:
        return None
    if op_type != "Put":
        return table_name, op["Key"]
    table = backend.get_table(table_name)
    attrs = op["Item"]
    key = {table.hash_key_attr: attrs[table.hash_key_attr]}
    if table.range_key_attr is not None:
        key[table.range_key_attr] = attrs[table.range_key_attr]
    return table_name, key


def _transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
    saved = []
    streams = {}  # table name -> its stream shard and how many records it held before this transaction
    for entry in transact_items:
        op_type, op = next(iter(entry.items()))
        found = _key_of(self, op_type, op) if isinstance(op, dict) else None
        if found:
            table_name, key = found
            current = self.get_item(table_name, key)
            saved.append((table_name, key, current.to_json()["Attributes"] if current else None))
            shard = getattr(self.get_table(table_name), "stream_shard", None)
            if shard is not None and table_name not in streams:
                streams[table_name] = (shard, len(shard.items))
    try:
        _ORIGINAL(self, transact_items)
    except Exception:
        for table_name, key, attrs in reversed(saved):
            if attrs is None:
                if self.get_item(table_name, key) is not None:
                    self.delete_item(table_name, key)
            else:
                self.put_item(table_name, attrs)
        for shard, length in streams.values():
            del shard.items[length:]  # no record of a canceled transaction (nor of its rollback)
        raise


def install() -> None:
    """Patch moto in this process (idempotent)."""
    if ddb_models.DynamoDBBackend.transact_write_items is _transact_write_items:
        return
    ddb_models.copy = types.SimpleNamespace(deepcopy=_deepcopy_except_tables)  # type: ignore[attr-defined]
    ddb_models.DynamoDBBackend.transact_write_items = _transact_write_items  # type: ignore[method-assign]


class EmulatorClock:
    """Time spent inside moto (the botocore stubber that answers every AWS call in-process).

    The stubber is called at botocore's ``before-send``, after the request was built, validated, serialised
    and signed, and its answer is parsed by botocore afterwards: all of that stays on the service's side.
    ``seconds`` is wall time, ``cpu_seconds`` this process's CPU time (robust on a loaded machine);
    ``operations`` counts calls by ``X-Amz-Target`` operation (e.g. ``TransactWriteItems``)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.cpu_seconds = 0.0
        self.calls = 0
        self.operations: dict[str, int] = {}
        self.inside = False  # whether a call is inside moto right now (for attributing GC passes)

    def install(self) -> EmulatorClock:
        original = BotocoreStubber.__call__
        clock = self

        def timed_call(stub: Any, event_name: str, request: Any, **kwargs: Any) -> Any:
            t0, c0 = time.perf_counter(), time.process_time()
            clock.inside = True
            try:
                return original(stub, event_name, request, **kwargs)
            finally:
                clock.inside = False
                clock.seconds += time.perf_counter() - t0
                clock.cpu_seconds += time.process_time() - c0
                clock.calls += 1
                target = request.headers.get("X-Amz-Target") or b""
                target = target.decode() if isinstance(target, bytes) else str(target)
                operation = target.rpartition(".")[2] or event_name.rpartition(".")[2]
                clock.operations[operation] = clock.operations.get(operation, 0) + 1

        BotocoreStubber.__call__ = timed_call  # type: ignore[method-assign]
        return self
