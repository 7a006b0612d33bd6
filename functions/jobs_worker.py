"""SQS worker of background jobs: run each task of the batch from its stored cursor.

A task that waits for Avito's budget, or that would outlast this invocation, goes back on the queue as a
delayed message (no Lambda time is spent sleeping); an unexpected error fails only its own record (partial
batch response), which SQS retries and finally moves to the dead-letter queue.
"""

import json
from typing import Any

from avito_service.jobs import runner
from avito_service.observability import logger, metrics

SAFETY_SECONDS = 30.0  # left at the end of an invocation for the last checkpoint and the continuation message


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    failures = []
    for record in event.get("Records") or []:
        try:
            message = json.loads(record["body"])
            if "setup" in message:  # a bulk job's set-up step: a page of accounts becomes tasks
                logger.info("Job set-up step ran", extra={"outcome": runner.set_up(message["jobId"], message["setup"])})
                continue
            seconds = context.get_remaining_time_in_millis() / 1000 - SAFETY_SECONDS
            if seconds <= 0:
                runner.enqueue(message["jobId"], [(int(message["order"]), message["accountId"])])
                continue
            logger.append_keys(job_id=message.get("jobId"), account_id=message.get("accountId"))
            outcome = runner.run_task(message, seconds)
            logger.info("Job task ran", extra={"outcome": outcome})
        except Exception:
            logger.exception("Job task failed; SQS will retry it")
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}
