"""Background cleanup of deleted accounts: CleanupQueue records (one pass each), and a schedule that re-queues
every cleanup still pending (see avito_service/accounts/cleanup.py)."""

from typing import Any

from avito_service.accounts import cleanup as account_cleanup
from avito_service.observability import logger, metrics
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord


def _record(record: SQSRecord) -> bool:
    return account_cleanup.handle_message(record.body)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if "Records" in event:
        processor = BatchProcessor(EventType.SQS, raise_on_entire_batch_failure=False, logger=logger)
        return process_partial_response(event=event, record_handler=_record, processor=processor, context=context)
    return {"queued": account_cleanup.queue_pending()}  # the scheduled sweep
