"""The cold-start baseline: a bare Powertools REST handler with one route (what an empty function costs)."""

import boto3  # noqa: F401 - imported like the functions do
from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver

app = APIGatewayRestResolver()
logger = Logger()


@app.get("/ping")
def ping() -> dict:
    return {"ok": True}


def lambda_handler(event: dict, context: object) -> dict:
    return app.resolve(event, context)
