"""Reference: the baseline handler with Powertools' request validation on (``enable_validation=True``).

Every REST function validates its input with pydantic through Powertools, as the service requires; this is
what that alone costs over the bare baseline (it imports pydantic and Powertools' OpenAPI models).
"""

import boto3  # noqa: F401 - imported like the functions do
from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver

app = APIGatewayRestResolver(enable_validation=True)
logger = Logger()


@app.get("/ping")
def ping() -> dict:
    return {"ok": True}


def lambda_handler(event: dict, context: object) -> dict:
    return app.resolve(event, context)
