"""Post the frames of MessengerTable stream records to the connections that want them.

One batch of stream records is one invocation: the open connections are read once per batch, each record's
frames go to every connection whose filter allows the frame's account, in parallel (management API calls
are ~10-30 ms round trips; a thread pool keeps 1,000 connections to a fraction of a second).

Failures (Powertools ``BatchProcessor``, partial batch responses):

- a connection that answers 410 (``GoneException``) is gone: it is removed from the table and skipped;
- a connection whose token expired (``connections.split_connections``) gets no frame: it is closed through the
  management API and removed;
- a frame that reached none of its connections for another reason (the management API down, throttled or
  not allowed) fails its record, so Lambda retries the record from there: nobody got it, so a retry
  duplicates nothing. A frame that reached some connections but not others is logged and counted
  (``FramesUndelivered``) rather than retried, which would repeat it to everyone who had it;
- a record whose image is not a chat or message this service can read is logged and skipped: retrying it
  could never succeed, and it would hold up the records behind it.
"""

from __future__ import annotations

import functools
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import ValidationError

from avito_service import aws
from avito_service.config import get_settings
from avito_service.live import store as connections
from avito_service.live.frames import Frame, UnknownItem, frames_for
from avito_service.live.store import Connection
from avito_service.messenger.items import CHAT_SK
from avito_service.observability import logger, metrics
from avito_service.workflow import alerts, assignment

POST_THREADS = 32


class FrameUndelivered(Exception):
    """A frame reached none of the connections it was for (the record is retried)."""


@functools.cache
def _pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=POST_THREADS, thread_name_prefix="fanout")


@dataclass
class Audience:
    """The open connections of one batch, minus those found gone while posting."""

    connections: list[Connection] = field(default_factory=list)
    gone: set[str] = field(default_factory=set)
    posts: int = 0
    failed: bool = False  # a record of this batch failed: Lambda retries from it, so the rest must wait

    def for_account(self, account_id: str) -> list[Connection]:
        return [c for c in self.connections if c.wants(account_id) and c.connection_id not in self.gone]


def _post(client: Any, connection_id: str, data: bytes) -> str:
    """ "ok", "gone" or the error code of one post."""
    try:
        client.post_to_connection(ConnectionId=connection_id, Data=data)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return "gone" if code == "GoneException" or status == 410 else code or str(status)
    except BotoCoreError as exc:
        return type(exc).__name__
    return "ok"


def deliver(frame: Frame, audience: Audience) -> int:
    """Post ``frame`` to its audience; returns how many connections got it. Raises FrameUndelivered."""
    targets = [c for c in audience.for_account(frame.account_id) if frame.reaches(c.sub, c.role)]
    if not targets:
        return 0
    client = aws.connections_client(get_settings().websocket_management_url)
    data = frame.encode()
    outcomes = list(_pool().map(lambda c: _post(client, c.connection_id, data), targets))
    audience.posts += len(targets)
    delivered = sum(1 for outcome in outcomes if outcome == "ok")
    gone = [target.connection_id for target, outcome in zip(targets, outcomes, strict=True) if outcome == "gone"]
    failed = {outcome for outcome in outcomes if outcome not in ("ok", "gone")}
    for connection_id in gone:
        audience.gone.add(connection_id)
        connections.close_connection(connection_id)
    if gone:
        metrics.add_metric(name="ConnectionsGone", unit="Count", value=len(gone))
    if failed:
        undelivered = len(outcomes) - delivered - len(gone)
        if delivered == 0:
            raise FrameUndelivered(f"{frame.event} reached none of {undelivered} connection(s): {sorted(failed)}")
        logger.warning("Frame missed some connections", extra={"frame": frame.event, "errors": sorted(failed)})
        metrics.add_metric(name="FramesUndelivered", unit="Count", value=undelivered)
    return delivered


def close_expired(connection_ids: list[str]) -> None:
    """Close the connections whose token ran out (or whose two hours passed) and forget them; they got no
    frame of this batch. A connection API Gateway already closed (410) is only forgotten."""
    if not connection_ids:
        return
    client = aws.connections_client(get_settings().websocket_management_url)

    def close(connection_id: str) -> None:
        try:
            client.delete_connection(ConnectionId=connection_id)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "GoneException":
                logger.warning("Could not close an expired connection", extra={"error": exc.response["Error"]})
                return  # kept: the next batch tries again
        except BotoCoreError as exc:
            logger.warning("Could not close an expired connection", extra={"error": type(exc).__name__})
            return
        connections.close_connection(connection_id)

    list(_pool().map(close, connection_ids))
    metrics.add_metric(name="ConnectionsExpired", unit="Count", value=len(connection_ids))


def announce(record: DynamoDBRecord, audience: Audience) -> int:
    """Deliver the frames of one stream record; returns the number of frames delivered to someone."""
    if audience.failed:
        # Lambda retries a stream batch from its first failed record on: announcing later records now
        # would announce them twice.
        raise FrameUndelivered("an earlier record of this batch was not delivered")
    stream = record.dynamodb
    event_name = record.event_name.name if record.event_name else ""
    try:
        # Powertools gives {} for an image the record does not have (an INSERT's old image)
        old_image, new_image = (stream.old_image or None, stream.new_image or None) if stream else (None, None)
        frames = frames_for(event_name, old_image, new_image)
        if event_name in ("INSERT", "MODIFY") and (new_image or {}).get("sk") == CHAT_SK:
            alerts.on_chat_change(old_image, new_image)  # a new waiting period arms its alert (never raises)
            assignment.on_chat_change(old_image, new_image, audience.connections)  # auto-assignment (never raises)
    except UnknownItem as exc:  # no kind of item this function knows: a writer it was not told about
        logger.error("Stream record skipped: an unknown kind of item", extra={"reason": str(exc)})
        metrics.add_metric(name="StreamRecordsSkipped", unit="Count", value=1)
        return 0
    except (ValidationError, ValueError, KeyError, TypeError) as exc:  # a chat, message or review not readable
        where = [".".join(map(str, e["loc"])) for e in exc.errors()] if isinstance(exc, ValidationError) else []
        logger.error(
            "Stream record skipped: an unreadable chat, message or review",
            extra={"reason": type(exc).__name__, "fields": where},
        )
        metrics.add_metric(name="StreamRecordsSkipped", unit="Count", value=1)
        return 0
    if not frames:
        logger.debug("Stream record announces nothing", extra={"event_name": event_name})
    announced = 0
    try:
        for frame in frames:
            if deliver(frame, audience):
                announced += 1
    except Exception:
        audience.failed = True
        raise
    return announced


def handle_batch(event: dict[str, Any], context: Any, audience: Audience | None = None) -> dict[str, Any]:
    """The fan-out function's work: announce each record of a DynamoDB stream batch."""
    if not event.get("Records"):
        return {"batchItemFailures": []}
    if audience is None:
        live, expired = connections.split_connections()
        close_expired(expired)
        audience = Audience(live)
    # A batch whose every record failed is reported like any other (Lambda retries from the first record)
    # rather than raised: the function does not end in an error for what is an outage of the management API.
    processor = BatchProcessor(event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False)
    response = process_partial_response(
        event=event, record_handler=lambda record: announce(record, audience), processor=processor, context=context
    )
    records = len(event.get("Records") or [])
    metrics.add_metric(name="FanoutPosts", unit="Count", value=audience.posts)
    logger.info(
        "Stream batch announced",
        extra={"records": records, "connections": len(audience.connections), "posts": audience.posts},
    )
    return response
