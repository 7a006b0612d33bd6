"""WebSocket ``$default``: the client's frames (``ping``, ``subscribe``); the answer goes back on the same
connection as the route's response (two-way route), so answering costs no management API call."""

import json
from typing import Any

from avito_service.live import actions
from avito_service.observability import logger


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    connection_id = event["requestContext"]["connectionId"]
    logger.append_keys(connection_id=connection_id)
    answer = actions.handle(connection_id, event.get("body"))
    if answer["event"] == "error":
        logger.info("Client frame refused", extra={"code": answer["data"]["code"]})
    return {"statusCode": 200, "body": json.dumps(answer, ensure_ascii=False)}
