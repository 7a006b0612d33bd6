"""AuditTable: one partition ``AUDIT``, sort key ``<at>#<entry id>``; read newest first.

A call centre's changes are a few hundred a day, far below one partition's 1,000 writes/s; one partition
keeps "newest first, paginated" a single Query.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from boto3.dynamodb.conditions import Key

from avito_service import aws, dynamo
from avito_service.config import get_settings

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
    """A page of the entries, newest first, by the limit+1 rule (``dynamo.query_page``)."""
    return dynamo.query_page(
        _table().query,
        {"KeyConditionExpression": Key("pk").eq(PK), "ScanIndexForward": False},
        limit=limit,
        cursor=cursor,
        key_attrs=("pk", "sk"),
        belongs=lambda start: start["pk"] == PK,
        convert=lambda item: {k: _plain(v) for k, v in item.items() if k not in ("pk", "sk")},
    )
