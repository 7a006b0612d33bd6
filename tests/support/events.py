"""Builders of the events Lambda receives, shaped like the real ones (and like events/*.json)."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any


@dataclass
class FakeContext:
    function_name: str = "test-function"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:test-function"
    aws_request_id: str = ""
    log_group_name: str = "/aws/lambda/test-function"
    log_stream_name: str = "2026/11/27/[$LATEST]test"

    def __post_init__(self) -> None:
        self.aws_request_id = self.aws_request_id or str(uuid.uuid4())

    def get_remaining_time_in_millis(self) -> int:
        return 29_000


def api_event(
    method: str,
    path: str,
    *,
    resource: str | None = None,
    path_parameters: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    body: Any = None,
    role: str | None = "admin",
    sub: str = "tester",
    raw_body: str | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """An API Gateway REST (payload v1) proxy event as it reaches a handler behind the JWT authorizer (``headers``
    added to the JSON request's own)."""
    text = raw_body if raw_body is not None else (json.dumps(body) if body is not None else None)
    request_id = str(uuid.uuid4())
    authorizer = {"sub": sub, "role": role, "principalId": sub} if role is not None else {}
    return {
        "resource": resource or path,
        "path": path,
        "httpMethod": method.upper(),
        "headers": {"Content-Type": "application/json", "Authorization": "Bearer x", **(headers or {})},
        "multiValueHeaders": {
            "Content-Type": ["application/json"],
            "Authorization": ["Bearer x"],
            **{name: [value] for name, value in (headers or {}).items()},
        },
        "queryStringParameters": query or None,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": path_parameters or None,
        "stageVariables": None,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "stage": "prod",
            "requestId": request_id,
            "resourcePath": resource or path,
            "httpMethod": method.upper(),
            "path": f"/prod{path}",
            "identity": {"sourceIp": "127.0.0.1"},
            "authorizer": authorizer,
        },
        "body": text,
        "isBase64Encoded": False,
    }


def call(module: Any, method: str, path: str, **kwargs: Any) -> tuple[int, dict[str, Any]]:
    """Invoke a handler module with an API event; returns (status, parsed JSON body)."""
    result = module.lambda_handler(api_event(method, path, **kwargs), FakeContext())
    body = result.get("body")
    return result["statusCode"], (json.loads(body) if body else {})


def call_route(
    module: Any, method: str, resource: str, path_parameters: dict[str, str], **kwargs: Any
) -> tuple[int, dict[str, Any]]:
    """:func:`call` for a route template: ``/api/v1/accounts/{id}`` with ``{"id": ...}`` fills in the path."""
    path = resource.format(**path_parameters)
    return call(module, method, path, resource=resource, path_parameters=path_parameters, **kwargs)
