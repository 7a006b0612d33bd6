"""AuditTable: one partition ``AUDIT``, sort key ``<at>#<entry id>``; read newest first.

A call centre's changes are a few hundred a day, far below one partition's 1,000 writes/s; one partition
keeps "newest first, paginated" a single Query.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from boto3.dynamodb.conditions import Key

from avito_service import aws
from avito_service.config import get_settings
from avito_service.cursors import decode_cursor, encode_cursor
from avito_service.errors import ValidationFailed

PK = "AUDIT"


def _table() -> Any:
    return aws.table(get_settings().audit_table)


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def put(entry: dict[str, Any], entry_id: str) -> None:
    item = json.loads(json.dumps(entry), parse_float=Decimal)  # DynamoDB takes numbers as Decimal
    _table().put_item(Item={"pk": PK, "sk": f"{entry['at']}#{entry_id}", **item})


def page(limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
    query: dict[str, Any] = {"KeyConditionExpression": Key("pk").eq(PK), "ScanIndexForward": False, "Limit": limit}
    start = decode_cursor(cursor, required_keys=("pk", "sk"))
    if start:
        if start["pk"] != PK:
            raise ValidationFailed.on("cursor", "Not a cursor of this list.")
        query["ExclusiveStartKey"] = start
    answer = _table().query(**query)
    items = [{k: _plain(v) for k, v in item.items() if k not in ("pk", "sk")} for item in answer["Items"]]
    return items, encode_cursor(answer.get("LastEvaluatedKey"))
