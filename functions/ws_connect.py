"""WebSocket ``$connect``: the ``?token=`` JWT is checked as the REST authorizer checks it (one verifier,
``avito_service.auth.authenticate``); a bad token is refused at the handshake with 401, an unknown role with
403, and nothing is stored. An accepted connection is stored with its caller and role (never the token).

A Cognito user's record is read afresh here (not from the authorizer's 25 s cache): a socket closed because the
user signed out or was disabled (``live.revocation``) cannot reconnect with a token revoked a moment ago."""

import json
from typing import Any

from avito_service.auth import InvalidToken, authenticate
from avito_service.live import store as connections
from avito_service.observability import logger, metrics


def _refuse(status: int, code: str, message: str) -> dict[str, Any]:
    body = {"success": False, "error": {"code": code, "message": message, "details": []}}
    return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    connection_id = event["requestContext"]["connectionId"]
    token = (event.get("queryStringParameters") or {}).get("token")
    try:
        identity = authenticate(token, fresh=True)
    except InvalidToken as exc:
        logger.info("WebSocket token rejected", extra={"reason": str(exc)})
        metrics.add_metric(name="TokenRejected", unit="Count", value=1)
        return _refuse(401, "unauthorized", "Missing, expired or invalid token: connect with ?token=<JWT>.")
    logger.append_keys(caller=identity.sub, role=identity.role, connection_id=connection_id)
    if not identity.known_role:
        return _refuse(403, "forbidden", f"The role '{identity.role[:40]}' is not one this service knows.")
    connections.open_connection(connection_id, identity)
    logger.info("WebSocket connected")
    metrics.add_metric(name="WebSocketConnected", unit="Count", value=1)
    return {"statusCode": 200}
