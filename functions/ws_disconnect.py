"""WebSocket ``$disconnect``: forget the connection (its ``ttl`` covers a ``$disconnect`` that never runs)."""

from typing import Any

from avito_service.live import store as connections
from avito_service.observability import logger


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    connection_id = event["requestContext"]["connectionId"]
    connections.close_connection(connection_id)
    logger.info("WebSocket disconnected", extra={"connection_id": connection_id})
    return {"statusCode": 200}
