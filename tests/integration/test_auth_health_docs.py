"""The JWT authorizer, health and the generated OpenAPI document / Swagger UI."""

from __future__ import annotations

import json
import time
from pathlib import Path

import authorizer
import health
import jwt
import pytest
from avito_service.auth import mint
from avito_service.openapi import OPEN_PATHS

import docs
from tests.conftest import JWT_TEST_KEY
from tests.support.events import FakeContext, api_event

METHOD_ARN = "arn:aws:execute-api:us-east-1:123456789012:abc123/prod/GET/api/v1/accounts"


def authorize(token: str | None) -> dict:
    event = {
        "type": "TOKEN",
        "methodArn": METHOD_ARN,
        "authorizationToken": f"Bearer {token}" if token is not None else "",
    }
    return authorizer.lambda_handler(event, FakeContext())


@pytest.mark.parametrize("role", ["admin", "operator", "director"])
def test_valid_token_for_each_role(aws_env: dict[str, str], role: str) -> None:
    answer = authorize(mint(JWT_TEST_KEY, sub="alice", role=role))
    assert answer["principalId"] == "alice"
    assert answer["context"] == {"sub": "alice", "role": role, "accountIds": "", "name": ""}
    statement = answer["policyDocument"]["Statement"][0]
    assert statement["Effect"] == "Allow"
    assert statement["Resource"] == "arn:aws:execute-api:us-east-1:123456789012:abc123/prod/*/*"


def test_unknown_role_passes_the_authorizer_and_is_refused_by_handlers(aws_env: dict[str, str]) -> None:
    assert authorize(mint(JWT_TEST_KEY, sub="bob", role="janitor"))["context"]["role"] == "janitor"


def _claims(**overrides: object) -> dict:
    claims: dict = {"sub": "alice", "role": "admin", "exp": int(time.time()) + 600}
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(lambda: jwt.encode(_claims(exp=int(time.time()) - 5), JWT_TEST_KEY, "HS256"), id="expired"),
        pytest.param(lambda: jwt.encode(_claims(), "another-key-0123456789abcdef0123456789", "HS256"), id="wrong-key"),
        pytest.param(
            lambda: jwt.encode(_claims(), JWT_TEST_KEY, "HS512"),
            id="hs512",  # the right key, another algorithm; PyJWT warns that the key is short for SHA-512
            marks=pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning"),
        ),
        pytest.param(lambda: jwt.encode(_claims(), None, "none"), id="alg-none"),
        pytest.param(lambda: jwt.encode(_claims(exp=None), JWT_TEST_KEY, "HS256"), id="no-exp"),
        pytest.param(lambda: jwt.encode(_claims(sub=None), JWT_TEST_KEY, "HS256"), id="no-sub"),
        pytest.param(lambda: jwt.encode(_claims(role=None), JWT_TEST_KEY, "HS256"), id="no-role"),
        pytest.param(lambda: jwt.encode(_claims(role=""), JWT_TEST_KEY, "HS256"), id="empty-role"),
        pytest.param(lambda: "not.a.jwt", id="garbage"),
        pytest.param(lambda: None, id="missing"),
    ],
)
def test_bad_tokens_are_unauthorized(aws_env: dict[str, str], token) -> None:
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        authorize(token())


def test_health_is_open_and_has_the_version(aws_env: dict[str, str]) -> None:
    result = health.lambda_handler(api_event("GET", "/api/v1/health", role=None), FakeContext())
    body = json.loads(result["body"])
    assert result["statusCode"] == 200 and body == {"success": True, "data": {"status": "ok", "version": "0.1.0"}}


# Routes without the bearer token: health, and a call recording's link, whose signed 5-minute token in the path
# is its credential (like a presigned URL; README "Reviews and calls").
TOKEN_FREE = OPEN_PATHS  # health, a recording's signed link, the sign-in steps


def test_openapi_covers_every_api_route_of_the_template(aws_env: dict[str, str]) -> None:
    from local_runtime.template import load_template

    result = docs.lambda_handler(api_event("GET", "/api/v1/openapi.json", role=None), FakeContext())
    document = json.loads(result["body"])
    assert document["openapi"].startswith("3.")
    documented = {(path, method.upper()) for path, ops in document["paths"].items() for method in ops}
    template = load_template(Path(__file__).resolve().parents[2] / "template.yaml")
    routes = set()
    for resource in template.document["Resources"].values():
        for event in (resource.get("Properties", {}).get("Events") or {}).values():
            if event["Type"] == "Api":
                routes.add((event["Properties"]["Path"], event["Properties"]["Method"].upper()))
    # the operator console (GET /console...) is a static page beside the API, not an API operation
    undocumented = {r for r in routes - documented if r[0].startswith("/api/v1/")} - {
        ("/api/v1/openapi.json", "GET"),
        ("/api/v1/docs", "GET"),
    }
    assert undocumented == set()
    assert documented <= routes  # nothing documented that is not served
    for path, ops in document["paths"].items():
        for method, op in ops.items():
            assert op.get("summary"), (path, method)
            assert "422" in op["responses"] or path == "/api/v1/health"
            if path not in TOKEN_FREE:
                assert op.get("security", document["security"]) == [{"bearerAuth": []}], (path, method)
    for path in TOKEN_FREE:  # these say so in the document
        assert all(op["security"] == [] for op in document["paths"][path].values()), path


def test_swagger_ui_is_served_offline(aws_env: dict[str, str]) -> None:
    result = docs.lambda_handler(api_event("GET", "/api/v1/docs", role=None), FakeContext())
    assert result["statusCode"] == 200 and result["multiValueHeaders"]["Content-Type"] == ["text/html"]
    assert "SwaggerUIBundle" in result["body"] and "https://" not in result["body"].split("<script>")[0]
