"""``Idempotency-Key`` for operations that must not happen twice (sends): the first answer, replayed.

``once(operation, key, fingerprint, produce)``:

- ``key=None``: just ``produce()``;
- a new key: a conditional write claims it (``in_progress``, with a lease as long as the request's time budget),
  ``produce()`` runs, and its answer is stored (``done``) for ``TTL_SECONDS``;
- the same key with the same fingerprint again: the stored answer, without calling ``produce``;
- the same key with a different fingerprint: 422 ``idempotency_key_reused``;
- a key whose first request is still running: 409 ``idempotency_in_progress``.

When ``produce`` fails, the claim is released so the caller may retry with the same key, unless the error says
the operation may have taken effect anyway (``ServiceError.outcome_unknown``: a send whose answer timed out).
Then that error is stored as the answer: a retry with the key gets the same error and never sends a second copy.

A conditional write of our own rather than Powertools' idempotency utility: Powertools derives the record's key
from the event by JMESPath and keeps an in-progress record until the Lambda's whole remaining time runs out, while
``once`` is called from inside a handler with an explicit operation, key and fingerprint (the images endpoint
reuses it with its own), bounds the lease by the request's own budget, must store certain failures as answers,
and must map each outcome to the contract's error codes. That is about sixty lines here against adapting
Powertools' record states and exceptions to all four.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable, Mapping
from typing import Any

from botocore.exceptions import ClientError

from avito_service import aws, dynamo
from avito_service.config import get_settings
from avito_service.deadline import current as current_deadline
from avito_service.errors import Conflict, ServiceError, ValidationFailed

HEADER = "Idempotency-Key"
TTL_SECONDS = 24 * 3600
MIN_LEASE = 5.0  # seconds a claim is held at least (a crashed request frees its key after its lease)
KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,255}$")  # 1-255 visible ASCII characters
IN_PROGRESS, DONE = "in_progress", "done"


def validate_key(value: str | None) -> str | None:
    """The header's value, or None when absent; 422 naming the header when it is not 1-255 visible ASCII."""
    if value is None:
        return None
    if not KEY_PATTERN.match(value):
        raise ValidationFailed.on(HEADER, "Must be 1-255 visible ASCII characters (no spaces).")
    return value


def fingerprint_of(values: Mapping[str, Any]) -> str:
    canonical = json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


class ServiceErrorAnswer(ServiceError):
    """A stored failure, raised again for a retry with the same key."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message, code=code)
        self.status = status


def once(operation: str, key: str | None, fingerprint: Mapping[str, Any], produce: Callable[[], dict]) -> dict:
    """``produce()`` at most once per (operation, key); see the module docstring."""
    if key is None:
        return produce()
    table = aws.table(get_settings().idempotency_table)
    record_key = {"pk": f"{operation}#{key}"}
    digest = fingerprint_of(fingerprint)
    now = time.time()
    lease = max(MIN_LEASE, current_deadline().remaining())
    try:
        table.put_item(
            Item={
                **record_key,
                "status": IN_PROGRESS,
                "fingerprint": digest,
                "leaseUntil": int(now + lease) + 1,
                "ttl": int(now + TTL_SECONDS),
            },
            ConditionExpression="attribute_not_exists(pk) OR (#s = :busy AND leaseUntil < :now)",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":busy": IN_PROGRESS, ":now": int(now)},
        )
    except ClientError as exc:
        if not dynamo.condition_failed(exc):
            raise
        return _replay(table.get_item(Key=record_key, ConsistentRead=True).get("Item"), digest)
    try:
        answer = produce()
    except ServiceError as exc:
        if exc.outcome_unknown:
            _finish(table, record_key, {"error": {"status": exc.status, "code": exc.code, "message": exc.message}})
        else:
            table.delete_item(Key=record_key)
        raise
    except BaseException:
        table.delete_item(Key=record_key)
        raise
    _finish(table, record_key, {"answer": answer})
    return answer


def _finish(table: Any, record_key: dict[str, str], outcome: dict[str, Any]) -> None:
    table.update_item(
        Key=record_key,
        UpdateExpression="SET #s = :done, outcome = :outcome REMOVE leaseUntil",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":done": DONE, ":outcome": json.dumps(outcome, ensure_ascii=False)},
    )


def _replay(item: Mapping[str, Any] | None, digest: str) -> dict:
    if item is None:  # released between our write and our read: the first request failed, try again
        raise Conflict("A request with this Idempotency-Key just failed; retry it.", code="idempotency_in_progress")
    if item.get("fingerprint") != digest:
        raise ValidationFailed(
            f"This {HEADER} was already used for a different request; use a new key for a new request.",
            code="idempotency_key_reused",
        )
    if item.get("status") != DONE:
        raise Conflict(
            f"A request with this {HEADER} is still being processed; retry it in a few seconds.",
            code="idempotency_in_progress",
        )
    outcome = json.loads(str(item["outcome"]))
    if "error" in outcome:
        error = outcome["error"]
        raise ServiceErrorAnswer(int(error["status"]), str(error["code"]), str(error["message"]))
    return outcome["answer"]
