"""MessengerTable stream -> the reports' figures (ReportsTable), with partial batch responses.

A new message item (INSERT of an ``sk`` ``MSG#...``) is counted once (``store.count_message``: its ``SEEN`` marker
makes a replayed record a no-op; its transaction ADDs to the day and the month items alike); a chat item's change
copies the dialog row's fields (client, item, status, assignee, tags) to the tally. Message changes (read marks,
deletions) move no figure. Records of one chat share a shard, so Lambda hands them over in order; a failed record
is retried from there on (ReportBatchItemFailures).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from avito_service import dynamo
from avito_service.observability import logger, metrics
from avito_service.reports import figures
from avito_service.reports.rules import AccountRules, load_rules
from avito_service.reports.store import CHAT_FIELDS, report_store


def _images(record: DynamoDBRecord) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    stream = record.dynamodb
    if stream is None:
        return None, None
    old, new = stream.old_image or None, stream.new_image or None
    return (dynamo.to_python(old) if old else None), (dynamo.to_python(new) if new else None)


def handle_record(record: DynamoDBRecord, rules: dict[str, AccountRules]) -> bool:
    """Apply one record; True when a message was counted now."""
    old, new = _images(record)
    if not new:
        return False
    sk = str(new.get("sk", ""))
    if sk.startswith("MSG#") and old is None:
        message = figures.MessageFacts.from_item(new)
        account_rules = rules.get(message.account_id) or load_rules([message.account_id])[message.account_id]
        rules[message.account_id] = account_rules

        def apply(tally: figures.Tally) -> figures.Effect:
            return figures.apply(
                tally,
                message,
                calendar=account_rules.calendar,
                slow_after_seconds=account_rules.slow_after_seconds,
            )

        return report_store().count_message(message, apply) is not None
    changed = old is None or any(old.get(name) != new.get(name) for name in CHAT_FIELDS)
    if sk == "CHAT" and new.get("accountId") and new.get("chatId") and changed:
        report_store().copy_chat_fields(str(new["accountId"]), str(new["chatId"]), new)
    return False


def handle_batch(event: dict[str, Any], context: Any) -> dict[str, Any]:
    processor = BatchProcessor(event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False)
    accounts = sorted(
        {
            str(image["accountId"]["S"])
            for record in event.get("Records") or ()
            if (image := (record.get("dynamodb") or {}).get("NewImage"))
            and "S" in image.get("accountId", {})
            and str(image.get("sk", {}).get("S", "")).startswith("MSG#")
        }
    )
    rules = load_rules(accounts)
    counted = [0]

    def handle(record: DynamoDBRecord) -> None:
        counted[0] += handle_record(record, rules)

    response = process_partial_response(event=event, record_handler=handle, processor=processor, context=context)
    if counted[0]:
        metrics.add_metric(name="ReportMessagesCounted", unit="Count", value=counted[0])
        logger.debug("Report figures updated", extra={"messages": counted[0]})
    return response
