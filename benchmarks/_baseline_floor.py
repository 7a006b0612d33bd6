"""The cold-start floor of a REST function here: the baseline handler with Powertools' request validation on
(``enable_validation=True``) and one route taking a pydantic body model.

Every REST function validates its input with pydantic at the edge, as the service requires: this is the least
such a function can import. Each REST function is measured against it (target <= 1.15x), and it against the
bare baseline, in the same run.
"""

from typing import Annotated

import boto3  # noqa: F401 - imported like the functions do
from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.openapi.params import Body
from pydantic import BaseModel, Field

app = APIGatewayRestResolver(enable_validation=True)
logger = Logger()


class Ping(BaseModel):
    text: str = Field(min_length=1, max_length=100)


@app.post("/ping")
def ping(body: Annotated[Ping, Body()]) -> dict:
    return {"ok": True, "text": body.text}


def lambda_handler(event: dict, context: object) -> dict:
    return app.resolve(event, context)
