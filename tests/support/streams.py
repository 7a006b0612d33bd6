"""A DynamoDB table's moto stream as Lambda hands it to a function (one helper for every stream test).

moto serves the stream at ``STREAMS_ENDPOINT`` (botocore's default endpoint for DynamoDB Streams is not one moto's
in-process mock routes); ``local_runtime.streams.lambda_record`` turns each record into
the shape of a Lambda event record, as the local runtime's poller does.
"""

from __future__ import annotations

from typing import Any

import boto3

from local_runtime.streams import lambda_record

STREAMS_ENDPOINT = "https://streams.dynamodb.us-east-1.amazonaws.com"


class TableStream:
    """The records of ``table``'s stream: all of them (``records``), or those written since the last call
    (``new``; ``new_event`` wraps them as a Lambda event)."""

    def __init__(self, table: str) -> None:
        self.client = boto3.client("dynamodbstreams", endpoint_url=STREAMS_ENDPOINT)
        self.arn = boto3.client("dynamodb").describe_table(TableName=table)["Table"]["LatestStreamArn"]
        self.shard = self.client.describe_stream(StreamArn=self.arn)["StreamDescription"]["Shards"][0]["ShardId"]
        self.seen = 0

    def records(self) -> list[dict[str, Any]]:
        iterator = self.client.get_shard_iterator(
            StreamArn=self.arn, ShardId=self.shard, ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        found: list[dict[str, Any]] = []
        while iterator:
            page = self.client.get_records(ShardIterator=iterator, Limit=1000)
            found.extend(lambda_record(record, self.arn, "us-east-1") for record in page["Records"])
            if not page["Records"]:
                break
            iterator = page.get("NextShardIterator")
        return found

    def new(self) -> list[dict[str, Any]]:
        found = self.records()
        records, self.seen = found[self.seen :], len(found)
        return records

    def new_event(self) -> dict[str, Any]:
        return {"Records": self.new()}
