"""Keep the search index up to date from MessengerTable's stream (partial batch responses).

Each record replaces the index entries of its item's old image by those of its new image (``SearchIndex.replace``:
deterministic keys, so a record processed twice, or a batch retried from a failed record, writes the same
entries again and deletes nothing twice: replays are idempotent). Lambda retries a shard's records in order from
the first failed one, so a message's insert is never replayed after its deletion. Only what is searchable moves
the index: a chat item updated for a new message (its ``updatedAt``, unread count, last message) has the same
documents before and after and writes nothing.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from avito_service.observability import logger, metrics
from avito_service.search.documents import documents
from avito_service.search.store import search_index


def index_record(record: DynamoDBRecord) -> tuple[int, int]:
    stream = record.dynamodb
    old_image, new_image = (stream.old_image or None, stream.new_image or None) if stream else (None, None)
    old_docs, new_docs = documents(old_image), documents(new_image)
    if old_docs == new_docs:
        return 0, 0
    return search_index().replace(old_docs, new_docs)


def handle_batch(event: dict[str, Any], context: Any) -> dict[str, Any]:
    processor = BatchProcessor(event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False)
    written = [0, 0]

    def handle(record: DynamoDBRecord) -> None:
        puts, deletes = index_record(record)
        written[0] += puts
        written[1] += deletes

    response = process_partial_response(event=event, record_handler=handle, processor=processor, context=context)
    if written != [0, 0]:
        metrics.add_metric(name="SearchEntriesWritten", unit="Count", value=written[0] + written[1])
        logger.info("Search index updated", extra={"puts": written[0], "deletes": written[1]})
    return response
