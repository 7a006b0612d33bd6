"""``Idempotency-Key`` for operations that must not happen twice (sends): Avito's answer, recorded and replayed.

``once(operation, key, fingerprint, send, store, caller=sub)`` splits an operation into the step that must never
be repeated (``send``: the call to Avito, whose answer is returned as plain JSON) and the step that may
(``store``: storing that answer, idempotent, returning the API's answer):

- ``key=None``: just ``store(send())``;
- a new key: a conditional write claims it (``in_progress``, with a lease as long as the Lambda invocation has
  left, so the lease cannot end while the request may still be running); ``send()`` runs and **its answer is
  recorded at once** (``sent``); then ``store`` runs and the API's answer is recorded (``done``, kept
  ``TTL_SECONDS``);
- the same key with the same fingerprint again: a ``done`` record's answer (or error) is replayed; a ``sent``
  record's Avito answer is stored again (``store`` only: nothing is sent) and answered;
- the same key with a different fingerprint: 422 ``idempotency_key_reused``;
- a key whose first request is still running: 409 ``idempotency_in_progress``; once its lease is over (that
  invocation ended without recording an answer), the outcome is unknown: 502 ``send_outcome_unknown``, never
  a second send.

The key is the caller's: records are keyed by (operation, the caller's ``sub``, key), so another caller's key
never replays someone else's answer.

Failures: a ``send`` failure that says Avito may have acted (``ServiceError.outcome_unknown``: a 5xx, a reset,
a timeout after the request was written) is recorded as the answer, so a retry gets the same 502 and never a
second copy; any other ``send`` failure (nothing reached Avito, or Avito refused) releases the key for a retry.
After ``sent`` is recorded the key is never released: a ``store`` failure that is a ``ServiceError`` (the answer
cannot be stored, e.g. it has no message id) is recorded as the answer; an unexpected one (DynamoDB failing)
leaves ``sent`` so that a retry stores it.

A conditional write of our own rather than Powertools' idempotency utility: Powertools derives the record's key
from the event by JMESPath, has no intermediate "sent" state, and keeps an in-progress record that a later call
takes over when it expires, while here an expired claim must never lead to a second send. Adapting its
record states and exceptions would take more code than these conditional writes.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from botocore.exceptions import ClientError

from avito_service import aws, dynamo
from avito_service.avito.errors import OutcomeUnknown
from avito_service.config import get_settings
from avito_service.deadline import current as current_deadline
from avito_service.deadline import lambda_remaining as current_lambda_remaining
from avito_service.errors import Conflict, ServiceError, ValidationFailed

HEADER = "Idempotency-Key"
TTL_SECONDS = 24 * 3600
MIN_LEASE = 5.0  # seconds a claim is held at least
LEASE_MARGIN = 5.0  # seconds a claim outlives the Lambda invocation that holds it (clock skew, the last write)
KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,255}$")  # 1-255 visible ASCII characters
IN_PROGRESS, SENT, DONE = "in_progress", "sent", "done"


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


def record_key(operation: str, caller: str, key: str) -> dict[str, str]:
    """The record's key: the operation, and a digest of the caller's ``sub`` with the key."""
    digest = hashlib.sha256(f"{caller}\0{key}".encode()).hexdigest()
    return {"pk": f"{operation}#{digest}"}


def lease_seconds() -> float:
    """How long a claim is held: the Lambda invocation's remaining time (plus a margin), so a lease never ends
    while its request may still be running; the request's budget where no Lambda context is known."""
    remaining = current_lambda_remaining()
    if remaining is None:
        remaining = current_deadline().remaining()
    return max(MIN_LEASE, remaining + LEASE_MARGIN)


def once(
    operation: str,
    key: str | None,
    fingerprint: Mapping[str, Any],
    send: Callable[[], dict],
    store: Callable[[dict], dict],
    *,
    caller: str,
    ttl_seconds: int = TTL_SECONDS,
) -> dict:
    """``send()`` at most once per (operation, caller, key), ``store`` as often as needed; see the module docstring.
    ``ttl_seconds``: how long the record (and so the "once") lasts; automatic replies keep theirs past the
    non-working period they answer."""
    if key is None:
        return store(send())
    table = aws.table(get_settings().idempotency_table)
    item_key = record_key(operation, caller, key)
    digest = fingerprint_of(fingerprint)
    owner = uuid.uuid4().hex
    now = time.time()
    try:
        table.put_item(
            Item={
                **item_key,
                "status": IN_PROGRESS,
                "fingerprint": digest,
                "owner": owner,
                "leaseUntil": int(now + lease_seconds()) + 1,
                "ttl": int(now + ttl_seconds),
            },
            ConditionExpression="attribute_not_exists(pk)",
        )
    except ClientError as exc:
        if not dynamo.condition_failed(exc):
            raise
        return _replay(table, item_key, digest, store)
    try:
        raw = send()
    except ServiceError as exc:
        if exc.outcome_unknown:
            _finish(table, item_key, _error_outcome(exc), expect=(IN_PROGRESS, owner))
        else:
            _release(table, item_key, owner)
        raise
    except BaseException:
        _release(table, item_key, owner)
        raise
    table.update_item(  # Avito's answer, recorded before anything else can fail
        Key=item_key,
        UpdateExpression="SET #s = :sent, sent = :raw",
        ConditionExpression="#o = :owner",
        ExpressionAttributeNames={"#s": "status", "#o": "owner"},
        ExpressionAttributeValues={":sent": SENT, ":raw": json.dumps(raw, ensure_ascii=False), ":owner": owner},
    )
    return _store_and_finish(table, item_key, raw, store)


def _store_and_finish(table: Any, item_key: dict[str, str], raw: dict, store: Callable[[dict], dict]) -> dict:
    try:
        answer = store(raw)
    except ServiceError as exc:  # the answer cannot be stored: the same error for every retry
        _finish(table, item_key, _error_outcome(exc), expect=(SENT, None))
        raise
    _finish(table, item_key, {"answer": answer}, expect=(SENT, None))
    return answer


def _error_outcome(exc: ServiceError) -> dict[str, Any]:
    return {"error": {"status": exc.status, "code": exc.code, "message": exc.message}}


def _release(table: Any, item_key: dict[str, str], owner: str) -> None:
    """Free the key for a retry (only our own claim: never one another request holds)."""
    try:
        table.delete_item(
            Key=item_key,
            ConditionExpression="#o = :owner AND #s = :busy",
            ExpressionAttributeNames={"#o": "owner", "#s": "status"},
            ExpressionAttributeValues={":owner": owner, ":busy": IN_PROGRESS},
        )
    except ClientError as exc:
        if not dynamo.condition_failed(exc):
            raise


def _finish(table: Any, item_key: dict[str, str], outcome: dict[str, Any], *, expect: tuple[str, str | None]) -> bool:
    """Record the final outcome if the record is still in the ``expect`` state (status, owner); False otherwise
    (another request finished it first: its outcome stands)."""
    status, owner = expect
    condition = "#s = :expected" + (" AND #o = :owner" if owner else "")
    values: dict[str, Any] = {":done": DONE, ":outcome": json.dumps(outcome, ensure_ascii=False), ":expected": status}
    names = {"#s": "status"}
    if owner:
        values[":owner"] = owner
        names["#o"] = "owner"
    try:
        table.update_item(
            Key=item_key,
            UpdateExpression="SET #s = :done, outcome = :outcome REMOVE leaseUntil",
            ConditionExpression=condition,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )
    except ClientError as exc:
        if not dynamo.condition_failed(exc):
            raise
        return False
    return True


def _replay(table: Any, item_key: dict[str, str], digest: str, store: Callable[[dict], dict]) -> dict:
    item = table.get_item(Key=item_key, ConsistentRead=True).get("Item")
    if item is None:  # released between our write and our read: the first request failed, try again
        raise Conflict("A request with this Idempotency-Key just failed; retry it.", code="idempotency_in_progress")
    if item.get("fingerprint") != digest:
        raise ValidationFailed(
            f"This {HEADER} was already used for a different request; use a new key for a new request.",
            code="idempotency_key_reused",
        )
    status = item.get("status")
    if status == SENT:  # Avito took it; storing it is what is left (idempotent)
        return _store_and_finish(table, item_key, json.loads(str(item["sent"])), store)
    if status == IN_PROGRESS:
        if int(item.get("leaseUntil", 0)) >= time.time():
            raise Conflict(
                f"A request with this {HEADER} is still being processed; retry it in a few seconds.",
                code="idempotency_in_progress",
            )
        # The first request's invocation ended without recording what Avito answered: it may have sent.
        unknown = OutcomeUnknown(
            "The first request with this Idempotency-Key ended without an answer; Avito may or may not have "
            "sent the message. Look at the chat before sending again with a new key.",
            code="send_outcome_unknown",
        )
        if _finish(table, item_key, _error_outcome(unknown), expect=(IN_PROGRESS, str(item.get("owner") or ""))):
            raise unknown
        return _replay(table, item_key, digest, store)  # it finished meanwhile
    outcome = json.loads(str(item["outcome"]))
    if "error" in outcome:
        error = outcome["error"]
        raise ServiceErrorAnswer(int(error["status"]), str(error["code"]), str(error["message"]))
    return outcome["answer"]
