"""MessengerTable's stream -> automatic replies (partial batch responses).

Only inserted message items can call for a reply (a stored message is inserted once; a repeated delivery or a
listing that sees it again writes nothing, and a record Lambda hands over twice is answered from the send's
idempotency record). A record whose send hit Avito's limits or a timeout before anything was sent fails alone
and is retried; the records after it in the shard wait for it, as Lambda keeps a shard's order.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord, DynamoDBRecordEventName

from avito_service import deadline
from avito_service.autoreplies import sender
from avito_service.config import get_settings


def handle_record(record: DynamoDBRecord, lambda_context: Any = None) -> str | None:
    if record.event_name is not DynamoDBRecordEventName.INSERT or record.dynamodb is None:
        return None
    image = record.dynamodb.new_image
    if not sender.incoming_of(image):
        return None
    with deadline.request(lambda_context, get_settings().avito_request_budget):
        return sender.answer(image)


def handle_batch(event: dict[str, Any], context: Any) -> dict[str, Any]:
    processor = BatchProcessor(event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False)
    return process_partial_response(
        event=event,
        record_handler=lambda record: handle_record(record, context),
        processor=processor,
        context=context,
    )
