"""EventBridge schedule (every 5 minutes): plan the next window's keep-alives as delayed SQS messages.

The one function with X-Ray tracing (Powertools Tracer, botocore patched): its run time grows with the due
accounts (one query page per 1 MB, one conditional update per account, one SendMessageBatch per 10), and a
trace shows which of those dominates. It is not user-facing, so the Tracer's cold-start cost (about half
the baseline handler's import time, see README "Observability") is paid by nobody waiting.
"""

from typing import Any

from avito_service.observability import logger, metrics
from avito_service.online import schedule
from aws_lambda_powertools import Tracer

tracer = Tracer(patch_modules=["botocore"])


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    result = schedule.tick()
    tracer.put_annotation(key="AccountsDue", value=result.accounts_read)
    tracer.put_annotation(key="KeepAlivesPlanned", value=len(result.keep_alives))
    return {"accountsDue": result.accounts_read, "keepAlivesPlanned": len(result.keep_alives)}
