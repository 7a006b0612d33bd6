"""CORS and API Gateway's own answers through the local runtime, all configured by template.yaml.

The stack runs with ``CORS_ALLOW_ORIGINS`` set to one origin (the template's ``AllowedOrigins``): preflights
are answered without a token from the API's ``Cors``, the functions name the allowed origin (Powertools
``CORSConfig``) and give a refused one no CORS header, and the gateway's 401/404 (and the functions' 403)
come in the contract's error shape with the origin, so the browser front end can read them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from avito_service.auth import mint

from avito_sim import AvitoSimulator
from local_runtime import LocalStack
from tests.support.stack import loopback_stack

pytestmark = pytest.mark.e2e

FRONT = "https://cc.example.com"
OTHER = "https://evil.example.net"
TIMEOUT = 60  # a cold start of a function on a busy machine


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    simulator = AvitoSimulator()
    simulator.start()
    log_file = tmp_path_factory.mktemp("cors-logs") / "local.log"
    local = loopback_stack(simulator.base_url, Path(log_file), env={"CORS_ALLOW_ORIGINS": FRONT}, schedule_seconds=3600)
    local.start()
    yield local
    local.stop()
    simulator.stop()


def bearer(stack: LocalStack, role: str) -> dict[str, str]:
    assert stack.jwt_secret
    return {"Authorization": "Bearer " + mint(stack.jwt_secret, sub="cors@example.com", role=role)}


def assert_contract_error(response: requests.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is False and body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]


@pytest.mark.parametrize(
    ("path", "methods"),
    [
        ("/api/v1/accounts", "GET,OPTIONS,POST"),
        ("/api/v1/accounts/some-id", "DELETE,GET,OPTIONS,PUT"),
        ("/api/v1/messenger/accounts/a1/chats/c1/send", "OPTIONS,POST"),
    ],
)
def test_preflight_needs_no_token_and_allows_the_routes_methods(stack: LocalStack, path: str, methods: str) -> None:
    preflight = {
        "Origin": FRONT,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type,idempotency-key",
    }
    response = requests.options(stack.api_url + path, headers=preflight, timeout=TIMEOUT)
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == FRONT
    assert response.headers["Access-Control-Allow-Methods"] == methods
    allowed = {h.strip().lower() for h in response.headers["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "content-type", "idempotency-key"} <= allowed


def test_allowed_origin_is_named_on_every_function_answer(stack: LocalStack) -> None:
    health = requests.get(f"{stack.api_url}/api/v1/health", headers={"Origin": FRONT}, timeout=TIMEOUT)
    assert health.status_code == 200
    assert health.headers["Access-Control-Allow-Origin"] == FRONT and health.headers["Vary"] == "Origin"
    listed = requests.get(
        f"{stack.api_url}/api/v1/accounts", headers={"Origin": FRONT, **bearer(stack, "admin")}, timeout=TIMEOUT
    )
    assert listed.status_code == 200 and listed.headers["Access-Control-Allow-Origin"] == FRONT
    missing = requests.get(
        f"{stack.api_url}/api/v1/accounts/no-such-account",
        headers={"Origin": FRONT, **bearer(stack, "admin")},
        timeout=TIMEOUT,
    )
    assert_contract_error(missing, 404, "account_not_found")
    assert missing.headers["Access-Control-Allow-Origin"] == FRONT


def test_refused_origin_gets_no_allow_origin_from_the_functions(stack: LocalStack) -> None:
    health = requests.get(f"{stack.api_url}/api/v1/health", headers={"Origin": OTHER}, timeout=TIMEOUT)
    assert health.status_code == 200 and "Access-Control-Allow-Origin" not in health.headers
    listed = requests.get(
        f"{stack.api_url}/api/v1/accounts", headers={"Origin": OTHER, **bearer(stack, "admin")}, timeout=TIMEOUT
    )
    assert listed.status_code == 200 and "Access-Control-Allow-Origin" not in listed.headers
    # API Gateway's own answers cannot choose per request: they name the one configured origin, never the
    # refused one, so the browser still refuses to show them to that page.
    preflight = requests.options(
        f"{stack.api_url}/api/v1/accounts",
        headers={"Origin": OTHER, "Access-Control-Request-Method": "GET"},
        timeout=TIMEOUT,
    )
    assert preflight.headers["Access-Control-Allow-Origin"] == FRONT


def test_gateway_401_carries_the_origin_in_the_contract_shape(stack: LocalStack) -> None:
    for headers in ({}, {"Authorization": "Bearer not-a-jwt"}):
        response = requests.get(
            f"{stack.api_url}/api/v1/accounts", headers={"Origin": FRONT, **headers}, timeout=TIMEOUT
        )
        assert_contract_error(response, 401, "unauthorized")
        assert response.headers["Access-Control-Allow-Origin"] == FRONT
        assert response.json()["error"]["requestId"] == response.headers["x-amzn-RequestId"]


def test_403_for_a_role_carries_the_origin(stack: LocalStack) -> None:
    response = requests.post(
        f"{stack.api_url}/api/v1/accounts",
        headers={"Origin": FRONT, **bearer(stack, "operator")},
        json={},
        timeout=TIMEOUT,
    )
    assert_contract_error(response, 403, "forbidden")
    assert response.headers["Access-Control-Allow-Origin"] == FRONT


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/no-such-route"),
        ("GET", "/nothing/here"),
        ("PATCH", "/api/v1/accounts"),
        ("DELETE", "/api/v1/chats"),
    ],
)
def test_unknown_route_or_method_is_a_contract_404_with_the_origin(stack: LocalStack, method: str, path: str) -> None:
    response = requests.request(
        method, stack.api_url + path, headers={"Origin": FRONT, **bearer(stack, "admin")}, timeout=TIMEOUT
    )
    assert_contract_error(response, 404, "not_found")
    assert response.json()["error"]["requestId"] == response.headers["x-amzn-RequestId"]
    assert response.headers["Access-Control-Allow-Origin"] == FRONT
