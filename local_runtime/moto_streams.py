"""moto tweak for the local runtime and the tests: one stream record for an UpdateItem that creates its item.

DynamoDB writes one ``INSERT`` record, with the item as the update left it, when an UpdateItem (alone or in a
transaction) creates an item. moto 5.x creates the item first with its key alone through ``Table.put_item``,
which records an ``INSERT`` of the bare key, and then records the finished item as a second ``INSERT``. A stream
consumer then sees a chat with no fields (the fan-out logs "an unreadable chat" and counts
``StreamRecordsSkipped``, which on AWS would never happen). This patch keeps that first ``put_item`` out of the
stream, so the record is the one DynamoDB writes. Nothing in the app is changed.
"""

from __future__ import annotations

from typing import Any

from moto.dynamodb import models as ddb_models

_ORIGINAL = ddb_models.DynamoDBBackend.update_item


def _update_item(self: Any, table_name: str, key: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
    table = self.get_table(table_name)
    if table.stream_shard is None or table.get_item(*self.get_keys_value(table, key)) is not None:
        return _ORIGINAL(self, table_name, key, *args, **kwargs)
    put_item = table.put_item

    def put_bare_key(*put_args: Any, **put_kwargs: Any) -> Any:
        shard, table.stream_shard = table.stream_shard, None
        try:
            return put_item(*put_args, **put_kwargs)
        finally:
            table.stream_shard = shard

    table.put_item = put_bare_key  # this call's only (moto's DynamoDB requests are serialized, here and in tests)
    try:
        return _ORIGINAL(self, table_name, key, *args, **kwargs)
    finally:
        del table.put_item


def install() -> None:
    """Patch moto in this process (idempotent)."""
    if ddb_models.DynamoDBBackend.update_item is not _update_item:
        ddb_models.DynamoDBBackend.update_item = _update_item  # type: ignore[method-assign]
