"""MessengerTable stream -> the search index (SearchTable), with partial batch responses."""

from typing import Any

from avito_service.observability import logger, metrics
from avito_service.search import indexer


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return indexer.handle_batch(event, context)
