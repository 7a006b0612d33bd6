"""MessengerTable stream -> the reports' figures (ReportsTable), with partial batch responses; on its hourly
schedule, the month roll-ups' backfill until it is done (``reports.rollup``)."""

from typing import Any

from avito_service.observability import logger, metrics
from avito_service.reports import consumer, rollup
from avito_service.reports.store import report_store

BACKFILL_RESERVE_MS = 10_000  # stop between months with this much of the invocation left


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if event.get("detail-type") == "Scheduled Event":
        done = rollup.backfill(
            report_store(), out_of_time=lambda: context.get_remaining_time_in_millis() < BACKFILL_RESERVE_MS
        )
        return {"rollupDone": done}
    return consumer.handle_batch(event, context)
