"""Closing a user's WebSocket connections when their tokens are revoked (logout, disable, delete, role change).

The connections are found with a filtered Scan of ConnectionsTable (a call centre holds tens of connections,
one Scan page) and closed through the management API's DELETE @connections/{id}; API Gateway then runs
``$disconnect``, which forgets them. Each item is expired here first (``ttl`` 0: every reader skips it), so no
frame reaches a closing connection, and left for ``$disconnect`` to delete: it reads who the connection was, so
a user signed out, disabled or deleted gets the offline grace period like anyone who goes offline
(workflow/presence.py). A connection API Gateway no longer has (410) gets no ``$disconnect``: its item is deleted
here.
"""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.conditions import Attr
from botocore.exceptions import ClientError

from avito_service import aws, dynamo
from avito_service.config import get_settings
from avito_service.observability import logger


def close_user_connections(sub: str) -> int:
    """Close every open connection of ``sub``; answers how many were closed."""
    settings = get_settings()
    if not settings.connections_table or not settings.websocket_management_url:
        return 0
    table = aws.table(settings.connections_table)
    scan: dict[str, Any] = {
        "FilterExpression": Attr("sub").eq(sub),
        "ProjectionExpression": "connectionId",
    }
    ids: list[str] = []
    while True:
        page = table.scan(**scan)
        ids.extend(str(item["connectionId"]) for item in page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            break
        scan["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    client = aws.connections_client(settings.websocket_management_url)
    for connection_id in ids:
        try:
            table.update_item(
                Key={"connectionId": connection_id},
                UpdateExpression="SET #ttl = :expired",
                ConditionExpression="attribute_exists(connectionId)",
                ExpressionAttributeNames={"#ttl": "ttl"},
                ExpressionAttributeValues={":expired": 0},
            )
        except ClientError as exc:
            if not dynamo.condition_failed(exc):
                raise
            continue  # forgotten meanwhile ($disconnect ran)
        try:
            client.delete_connection(ConnectionId=connection_id)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "GoneException":
                raise
            table.delete_item(Key={"connectionId": connection_id})
    if ids:
        logger.info("WebSocket connections closed", extra={"closed": len(ids)})
    return len(ids)
