"""WebSocket ``$disconnect``: forget the connection (its ``ttl`` covers a ``$disconnect`` that never runs); when it
was the user's last one, arm the offline grace period (workflow/presence.py)."""

from typing import Any

from avito_service.live import store as connections
from avito_service.observability import logger, metrics
from avito_service.workflow import presence


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    connection_id = event["requestContext"]["connectionId"]
    closed = connections.close_connection(connection_id)
    armed = presence.on_disconnect(str(closed["sub"])) if closed and closed.get("sub") else False
    logger.info("WebSocket disconnected", extra={"connection_id": connection_id, "offline_grace_armed": armed})
    return {"statusCode": 200}
