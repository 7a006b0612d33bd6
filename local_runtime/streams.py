"""DynamoDB stream event sources: read each table's stream from moto and invoke the function with batches.

Honoured from the template: ``Stream`` (``!GetAtt Table.StreamArn``), ``StartingPosition`` (LATEST or
TRIM_HORIZON), ``BatchSize``, ``MaximumBatchingWindowInSeconds``, ``FunctionResponseTypes:
[ReportBatchItemFailures]`` (a batch is retried from its lowest failed sequence number, as Lambda does),
``MaximumRetryAttempts`` (-1: until it succeeds) and ``Enabled``. ``BisectBatchOnFunctionError``,
``MaximumRecordAgeInSeconds``, ``FilterCriteria`` and destinations are not emulated (a notice says so).

Each poll asks for a fresh shard iterator after the last record handed to the function, instead of
following ``NextShardIterator``: moto replaces a table's stream shard object when it rolls back a cancelled
transaction (it restores a copy of the table), and iterators taken before keep reading the old object.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from local_runtime.functions import FunctionSpec
from local_runtime.intrinsics import Resolver, StackContext
from local_runtime.template import TABLE_TYPE, TemplateError
from local_runtime.workers import InvocationResult, RuntimeStoppedError

POLL_SECONDS = 0.2  # Lambda polls a shard about four times a second
MAX_GET_RECORDS = 1000  # GetRecords limit
_IGNORED = ("BisectBatchOnFunctionError", "MaximumRecordAgeInSeconds", "FilterCriteria", "DestinationConfig")


@dataclass(frozen=True)
class StreamEventSource:
    function_id: str
    event_name: str
    table_id: str
    table_name: str
    starting_position: str
    batch_size: int
    batching_window_seconds: float
    report_batch_item_failures: bool
    maximum_retry_attempts: int  # -1: no limit

    @property
    def key(self) -> str:
        return f"{self.function_id}.{self.event_name}"


def load_stream_sources(specs: dict[str, FunctionSpec], resolver: Resolver) -> list[StreamEventSource]:
    """Every enabled `Type: DynamoDB` event whose Stream is a stream of one of the template's tables."""
    stream_arns = {
        str(resolver.resolve({"Fn::GetAtt": [lid, "StreamArn"]})): lid
        for lid in resolver.template.ids_of_type(TABLE_TYPE)
        if resolver.is_active(lid)
    }
    sources = []
    for function_id, spec in specs.items():
        for event_name, event in spec.events.items():
            if event.get("Type") != "DynamoDB":
                continue
            where = f"{function_id}.Events.{event_name}"
            props = resolver.resolve(event.get("Properties") or {}, where)
            if str(props.get("Enabled", True)).lower() == "false":
                continue
            table_id = stream_arns.get(str(props.get("Stream")))
            if table_id is None:
                raise TemplateError(f"{where}: Stream {props.get('Stream')} is not a stream of this template's tables")
            if "StreamSpecification" not in resolver.template.properties(table_id):
                raise TemplateError(f"{where}: table {table_id} has no StreamSpecification")
            position = str(props.get("StartingPosition", "LATEST"))
            if position not in ("LATEST", "TRIM_HORIZON"):
                raise TemplateError(f"{where}: StartingPosition {position} is not supported locally")
            for name in _IGNORED:
                if name in props:
                    print(f"[local_runtime] {where}: {name} is not emulated locally", file=sys.stderr)
            sources.append(
                StreamEventSource(
                    function_id=function_id,
                    event_name=event_name,
                    table_id=table_id,
                    table_name=resolver.table_name(table_id),
                    starting_position=position,
                    batch_size=int(props.get("BatchSize", 100)),
                    batching_window_seconds=float(props.get("MaximumBatchingWindowInSeconds", 0)),
                    report_batch_item_failures="ReportBatchItemFailures" in (props.get("FunctionResponseTypes") or []),
                    maximum_retry_attempts=int(props.get("MaximumRetryAttempts", -1)),
                )
            )
    return sources


def lambda_record(record: dict[str, Any], stream_arn: str, region: str) -> dict[str, Any]:
    """A GetRecords record as Lambda hands it to a function (times as epoch seconds, the stream's ARN)."""
    stream = dict(record["dynamodb"])
    created = stream.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        stream["ApproximateCreationDateTime"] = int(created.timestamp())
    return {
        "eventID": record["eventID"],
        "eventName": record["eventName"],
        "eventVersion": record.get("eventVersion", "1.1"),
        "eventSource": "aws:dynamodb",
        "awsRegion": region,
        "dynamodb": stream,
        "eventSourceARN": stream_arn,
    }


@dataclass
class _Shard:
    """Where one shard is read from: after ``last_sequence`` (None: from TRIM_HORIZON)."""

    shard_id: str
    last_sequence: str | None = None
    pending: list[dict[str, Any]] = field(default_factory=list)  # read, not yet handed over successfully
    attempts: int = 0


class StreamPoller:
    """One thread per event source, reading its table's stream shards and invoking the function."""

    def __init__(
        self,
        sources: list[StreamEventSource],
        invoke: Callable[[str, Any], InvocationResult],
        client_factory: Callable[[str], Any],
        context: StackContext,
    ) -> None:
        self.sources = sources
        self._invoke = invoke
        self._client_factory = client_factory
        self._context = context
        self._stopped = threading.Event()
        self._threads: list[threading.Thread] = []
        self.stream_arns: dict[str, str] = {}  # source key -> the stream's real ARN

    def start(self) -> None:
        """Take each source's starting position now (so LATEST means "from when the stack started"), then poll."""
        for source in self.sources:
            streams = self._client_factory("dynamodbstreams")
            stream_arn = self._client_factory("dynamodb").describe_table(TableName=source.table_name)["Table"][
                "LatestStreamArn"
            ]
            self.stream_arns[source.key] = stream_arn
            shards = [
                _Shard(shard["ShardId"])
                for shard in streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]
            ]
            if source.starting_position == "LATEST":
                for shard in shards:
                    shard.last_sequence = self._last_sequence(streams, stream_arn, shard)
            thread = threading.Thread(
                target=self._run, args=(source, stream_arn, shards), name=f"stream-{source.key}", daemon=True
            )
            self._threads.append(thread)
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stopped.set()

    def join(self, timeout: float) -> None:
        for thread in self._threads:
            thread.join(timeout=timeout)

    def _iterator(self, streams: Any, stream_arn: str, shard: _Shard) -> str:
        position: dict[str, str] = {"ShardIteratorType": "TRIM_HORIZON"}
        if shard.last_sequence is not None:
            position = {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": shard.last_sequence}
        answer = streams.get_shard_iterator(StreamArn=stream_arn, ShardId=shard.shard_id, **position)
        return str(answer["ShardIterator"])

    def _last_sequence(self, streams: Any, stream_arn: str, shard: _Shard) -> str | None:
        last = shard.last_sequence
        while True:
            probe = _Shard(shard.shard_id, last)
            records = streams.get_records(ShardIterator=self._iterator(streams, stream_arn, probe), Limit=1000)[
                "Records"
            ]
            if not records:
                return last
            last = records[-1]["dynamodb"]["SequenceNumber"]

    def _run(self, source: StreamEventSource, stream_arn: str, shards: list[_Shard]) -> None:
        streams = self._client_factory("dynamodbstreams")
        while not self._stopped.is_set():
            try:
                busy = False
                for shard in shards:
                    busy = self._poll(streams, source, stream_arn, shard) or busy
                if not busy:
                    self._stopped.wait(POLL_SECONDS)
            except RuntimeStoppedError:
                return
            except Exception as error:
                if self._stopped.is_set():
                    return
                print(f"[local_runtime] stream poller {source.key}: {error}", file=sys.stderr)
                self._stopped.wait(1)

    def _read(self, streams: Any, stream_arn: str, shard: _Shard, limit: int) -> list[dict[str, Any]]:
        after = shard.pending[-1]["dynamodb"]["SequenceNumber"] if shard.pending else shard.last_sequence
        probe = _Shard(shard.shard_id, after)
        answer = streams.get_records(ShardIterator=self._iterator(streams, stream_arn, probe), Limit=limit)
        return list(answer.get("Records", []))

    def _poll(self, streams: Any, source: StreamEventSource, stream_arn: str, shard: _Shard) -> bool:
        """Hand one batch of ``shard`` to the function; True when there was a batch."""
        if len(shard.pending) < source.batch_size:
            window_ends = time.monotonic() + source.batching_window_seconds
            while not self._stopped.is_set():
                want = min(MAX_GET_RECORDS, source.batch_size - len(shard.pending))
                shard.pending.extend(self._read(streams, stream_arn, shard, want))
                if not shard.pending or len(shard.pending) >= source.batch_size or time.monotonic() >= window_ends:
                    break
                self._stopped.wait(POLL_SECONDS)
        if not shard.pending or self._stopped.is_set():
            return False
        batch = shard.pending[: source.batch_size]
        event = {"Records": [lambda_record(record, stream_arn, self._context.region) for record in batch]}
        result = self._invoke(source.function_id, event)
        failed_from = _first_failed(result, batch, source.report_batch_item_failures)
        if failed_from is None:
            self._advance(shard, len(batch))
            return True
        shard.attempts += 1
        limit = source.maximum_retry_attempts
        if 0 <= limit < shard.attempts:
            print(
                f"[local_runtime] stream {source.key}: dropping {len(batch) - failed_from} record(s) after "
                f"{limit} retries",
                file=sys.stderr,
            )
            self._advance(shard, len(batch))
            return True
        self._advance(shard, failed_from, keep_attempts=True)  # the records before the failure are done
        self._stopped.wait(min(5.0, 0.2 * 2**shard.attempts))
        return True

    @staticmethod
    def _advance(shard: _Shard, count: int, *, keep_attempts: bool = False) -> None:
        if count:
            shard.last_sequence = shard.pending[count - 1]["dynamodb"]["SequenceNumber"]
            del shard.pending[:count]
        if not keep_attempts:
            shard.attempts = 0


def _first_failed(result: InvocationResult, batch: list[dict[str, Any]], partial: bool) -> int | None:
    """Index of the first record to retry (0: the whole batch), or None when the batch succeeded."""
    if not result.ok:
        return 0
    if not partial:
        return None
    payload = result.payload
    failures = payload.get("batchItemFailures") if isinstance(payload, dict) else None
    if not failures:
        return None
    positions = {record["dynamodb"]["SequenceNumber"]: index for index, record in enumerate(batch)}
    indexes = []
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if identifier not in positions:
            return 0  # malformed or unknown identifier: Lambda retries the whole batch
        indexes.append(positions[identifier])
    return min(indexes)


__all__ = ["StreamEventSource", "StreamPoller", "lambda_record", "load_stream_sources"]
