"""SQS event source mappings: long-poll each queue and invoke the function with SQS events."""

from __future__ import annotations

import base64
import hashlib
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from local_runtime.functions import FunctionSpec
from local_runtime.intrinsics import Resolver, StackContext
from local_runtime.template import QUEUE_TYPE, TemplateError
from local_runtime.workers import InvocationResult, RuntimeStoppedError

LONG_POLL_SECONDS = 1  # short, so stop() is quick
MAX_RECEIVE = 10  # SQS ReceiveMessage limit


@dataclass(frozen=True)
class SqsEventSource:
    function_id: str
    event_name: str
    queue_id: str
    queue_url: str
    queue_arn: str
    batch_size: int
    batching_window_seconds: float
    report_batch_item_failures: bool
    concurrency: int

    @property
    def key(self) -> str:
        return f"{self.function_id}.{self.event_name}"


def load_sqs_sources(
    specs: dict[str, FunctionSpec], resolver: Resolver, queue_urls: dict[str, str]
) -> list[SqsEventSource]:
    """Every enabled `Type: SQS` event; `queue_urls` maps queue logical id -> URL (from create_resources)."""
    sources = []
    arn_to_queue = {
        resolver.queue_arn(lid): lid for lid in queue_urls if resolver.template.resource_type(lid) == QUEUE_TYPE
    }
    for function_id, spec in specs.items():
        for event_name, event in spec.events.items():
            if event.get("Type") != "SQS":
                continue
            where = f"{function_id}.Events.{event_name}"
            props = resolver.resolve(event.get("Properties") or {}, where)
            if str(props.get("Enabled", True)).lower() == "false":
                continue
            queue_id = arn_to_queue.get(str(props.get("Queue")))
            if queue_id is None:
                raise TemplateError(f"{where}: Queue {props.get('Queue')} is not an SQS queue of this template")
            if props.get("FilterCriteria"):
                print(f"[local_runtime] {where}: FilterCriteria is ignored locally", file=sys.stderr)
            sources.append(
                SqsEventSource(
                    function_id=function_id,
                    event_name=event_name,
                    queue_id=queue_id,
                    queue_url=queue_urls[queue_id],
                    queue_arn=resolver.queue_arn(queue_id),
                    batch_size=int(props.get("BatchSize", 10)),
                    batching_window_seconds=float(props.get("MaximumBatchingWindowInSeconds", 0)),
                    report_batch_item_failures="ReportBatchItemFailures" in (props.get("FunctionResponseTypes") or []),
                    concurrency=int((props.get("ScalingConfig") or {}).get("MaximumConcurrency", 1)),
                )
            )
    return sources


def sqs_record(message: dict[str, Any], source: SqsEventSource, region: str) -> dict[str, Any]:
    attributes = {key: str(value) for key, value in (message.get("Attributes") or {}).items()}
    message_attributes = {}
    for name, value in (message.get("MessageAttributes") or {}).items():
        binary = value.get("BinaryValue")
        message_attributes[name] = {
            "stringValue": value.get("StringValue"),
            "binaryValue": binary if binary is None or isinstance(binary, str) else _b64(binary),
            "stringListValues": value.get("StringListValues", []),
            "binaryListValues": [_b64(item) for item in value.get("BinaryListValues", [])],
            "dataType": value.get("DataType"),
        }
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": attributes,
        "messageAttributes": message_attributes,
        "md5OfBody": message.get("MD5OfBody") or hashlib.md5(message["Body"].encode()).hexdigest(),  # noqa: S324
        "eventSource": "aws:sqs",
        "eventSourceARN": source.queue_arn,
        "awsRegion": region,
    }


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


class SqsPoller:
    """Poller threads (MaximumConcurrency of them) per event source, deleting what the function processed."""

    def __init__(
        self,
        sources: list[SqsEventSource],
        invoke: Callable[[str, Any], InvocationResult],
        client_factory: Callable[[], Any],
        context: StackContext,
    ) -> None:
        self.sources = sources
        self._invoke = invoke
        self._client_factory = client_factory
        self._context = context
        self._stopped = threading.Event()
        self._threads: list[threading.Thread] = []
        self._state = threading.Condition()
        self._paused = False
        self._active = 0  # poller threads inside a receive (a long poll) or an invocation
        self._processing = 0  # poller threads between a receive that brought messages and their deletion

    def start(self) -> None:
        for source in self.sources:
            for index in range(max(1, source.concurrency)):
                thread = threading.Thread(
                    target=self._run, args=(source,), name=f"sqs-{source.key}-{index}", daemon=True
                )
                thread.start()
                self._threads.append(thread)

    def stop(self) -> None:
        self._stopped.set()
        with self._state:
            self._state.notify_all()

    # ------------------------------------------------------------ controls (tests step through time with these)
    def pause(self, timeout: float = 30.0) -> None:
        """Stop receiving; returns once no poller is receiving or invoking (what it had received is processed)."""
        with self._state:
            self._paused = True
            if not self._state.wait_for(lambda: self._active == 0, timeout=timeout):
                raise TimeoutError(f"SQS pollers still busy after {timeout} s")

    def resume(self) -> None:
        with self._state:
            self._paused = False
            self._state.notify_all()

    def wait_idle(self, sqs: Any, timeout: float = 60.0, step: float = 0.05) -> None:
        """Return once every source's queue has no visible and no in-flight message and no poller is invoking.

        Delayed messages (``DelaySeconds`` not yet over) are future work and do not count; a message whose
        invocation failed stays in flight until its visibility timeout, so a queue with one is not idle.
        """
        deadline = time.monotonic() + timeout
        names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        while True:
            queued = 0
            for source in self.sources:
                attributes = sqs.get_queue_attributes(QueueUrl=source.queue_url, AttributeNames=names)["Attributes"]
                queued += sum(int(attributes.get(name, 0)) for name in names)
            with self._state:
                if queued == 0 and self._processing == 0:
                    return
            if time.monotonic() > deadline:
                raise TimeoutError(f"SQS event sources not idle after {timeout} s ({queued} messages queued)")
            time.sleep(step)

    def _enter(self) -> bool:
        """Wait while paused; False when stopping."""
        with self._state:
            self._state.wait_for(lambda: not self._paused or self._stopped.is_set())
            if self._stopped.is_set():
                return False
            self._active += 1
            return True

    def _leave(self) -> None:
        with self._state:
            self._active -= 1
            self._state.notify_all()

    def join(self, timeout: float) -> None:
        for thread in self._threads:
            thread.join(timeout=timeout)

    def _run(self, source: SqsEventSource) -> None:
        sqs = self._client_factory()
        while self._enter():
            try:
                messages = self._receive_batch(sqs, source)
                if messages and not self._stopped.is_set():
                    with self._state:
                        self._processing += 1
                    try:
                        self._process(sqs, source, messages)
                    finally:
                        with self._state:
                            self._processing -= 1
            except RuntimeStoppedError:
                return
            except Exception as error:
                if self._stopped.is_set():
                    return
                print(f"[local_runtime] SQS poller {source.key}: {error}", file=sys.stderr)
                self._stopped.wait(1)
            finally:
                self._leave()

    def _receive_batch(self, sqs: Any, source: SqsEventSource) -> list[dict[str, Any]]:
        batch: list[dict[str, Any]] = []
        window_ends = time.monotonic() + source.batching_window_seconds
        while len(batch) < source.batch_size and not self._stopped.is_set() and not (self._paused and not batch):
            response = sqs.receive_message(
                QueueUrl=source.queue_url,
                MaxNumberOfMessages=min(MAX_RECEIVE, source.batch_size - len(batch)),
                WaitTimeSeconds=LONG_POLL_SECONDS,
                AttributeNames=["All"],
                MessageSystemAttributeNames=["All"],
                MessageAttributeNames=["All"],
            )
            batch.extend(response.get("Messages", []))
            if batch and time.monotonic() >= window_ends:
                break
        return batch

    def _process(self, sqs: Any, source: SqsEventSource, messages: list[dict[str, Any]]) -> None:
        event = {"Records": [sqs_record(message, source, self._context.region) for message in messages]}
        result = self._invoke(source.function_id, event)
        if not result.ok:
            return  # nothing deleted: every message becomes visible again after the visibility timeout
        failed = _failed_ids(result.payload, messages) if source.report_batch_item_failures else set()
        if failed is None:
            return  # malformed batchItemFailures: Lambda treats the whole batch as failed
        done = [message for message in messages if message["MessageId"] not in failed]
        for start in range(0, len(done), MAX_RECEIVE):
            chunk = done[start : start + MAX_RECEIVE]
            sqs.delete_message_batch(
                QueueUrl=source.queue_url,
                Entries=[
                    {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"]} for index, message in enumerate(chunk)
                ],
            )


def _failed_ids(payload: Any, messages: list[dict[str, Any]]) -> set[str] | None:
    """Message ids reported in batchItemFailures; None when the response is malformed."""
    if payload is None or not isinstance(payload, dict):
        return set()
    failures = payload.get("batchItemFailures") or []
    ids = set()
    known = {message["MessageId"] for message in messages}
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not identifier or identifier not in known:
            return None
        ids.add(identifier)
    return ids


__all__ = ["SqsEventSource", "SqsPoller", "load_sqs_sources", "sqs_record"]
