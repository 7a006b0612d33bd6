"""Reference: the baseline handler plus Powertools Tracer patching botocore (X-Ray SDK), for the tracing decision."""

import boto3  # noqa: F401 - imported like the functions do
from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.event_handler import APIGatewayRestResolver

app = APIGatewayRestResolver()
logger = Logger()
tracer = Tracer(patch_modules=["botocore"])


@app.get("/ping")
def ping() -> dict:
    return {"ok": True}


@tracer.capture_lambda_handler
def lambda_handler(event: dict, context: object) -> dict:
    return app.resolve(event, context)
