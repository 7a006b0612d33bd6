"""Issue 22 item 12: security edges. Real handlers in-process with moto; the Avito simulator over HTTP."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import time
from collections.abc import Iterator
from typing import Any

import accounts_create
import authorizer
import health
import jwt
import pytest
from avito_service.accounts import service
from avito_service.avito import tokens as avito_tokens
from avito_service.avito.client import AvitoApi
from avito_service.avito.errors import AvitoError

import docs
from avito_sim import AvitoSimulator
from tests.conftest import JWT_TEST_KEY, reset_caches
from tests.support.accounts import create_account
from tests.support.events import FakeContext, api_event, call

USER_ID = 7373


@pytest.fixture(scope="module")
def sim() -> Iterator[AvitoSimulator]:
    simulator = AvitoSimulator()
    simulator.start()
    simulator.add_account("s-cid", "s-secret", USER_ID, name="Edges")
    yield simulator
    simulator.stop()


def create(proxy_host: str) -> tuple[int, dict[str, Any]]:
    client_id = f"c-{time.monotonic_ns()}"
    body = {"name": "P", "clientId": client_id, "clientSecret": "s", "proxyType": "http", "proxyHost": proxy_host}
    return call(accounts_create, "POST", "/api/v1/accounts", body={**body, "proxyPort": 3128})


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("93.184.215.14", (201, 201, 201)),
        ("proxy.example.com", (201, 201, 201)),
        ("10.1.2.3", (422, 201, 201)),
        ("192.168.0.10", (422, 201, 201)),
        ("172.20.0.1", (422, 201, 201)),
        ("100.64.1.1", (422, 201, 201)),
        ("fd12::1", (422, 201, 201)),
        ("127.0.0.1", (422, 422, 201)),
        ("localhost", (422, 422, 201)),
        ("::1", (422, 422, 201)),
        ("169.254.10.10", (422, 422, 201)),
        ("fe80::1", (422, 422, 201)),
        ("169.254.169.254", (422, 422, 422)),  # metadata: never
        ("fd00:ec2::254", (422, 422, 422)),
        ("::ffff:169.254.169.254", (422, 422, 422)),
        ("metadata.google.internal", (422, 422, 422)),
    ],
)
def test_proxy_hosts_by_network(
    aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, host: str, expected: tuple[int, int, int]
) -> None:
    """422 or 201 in the modes public, private and local."""
    for mode, status_wanted in zip(("public", "private", "local"), expected, strict=True):
        monkeypatch.setenv("PROXY_NETWORKS", mode)
        reset_caches()
        status, body = create(host)
        assert status == status_wanted, (mode, host, body)
        if status == 422:
            assert body["error"]["details"][0]["field"] == "proxyHost", body


def test_avito_redirects_are_never_followed(sim: AvitoSimulator, aws_env: dict[str, str], monkeypatch) -> None:
    monkeypatch.setenv("AVITO_API_URL", sim.base_url)
    reset_caches()
    avito_tokens.forget_in_memory()
    sim.clear_requests()
    account_id = create_account(name="Edges", clientId="s-cid", clientSecret="s-secret", userId=USER_ID)
    client = AvitoApi(service.load_context(account_id))
    client.access_token()  # the token first, so the redirect is what the next call meets
    sim.add_fault(r"^/core/v1/accounts/self$", status=302, headers={"Location": f"{sim.base_url}/elsewhere"})
    with pytest.raises(AvitoError) as raised:
        client.account_self()
    assert raised.value.http_status == 302 and raised.value.code == "avito_bad_response"
    assert sim.count(None, r"^/elsewhere") == 0  # the token never went where the redirect pointed


def test_api_answers_are_never_cached(aws_env: dict[str, str]) -> None:
    ok = health.lambda_handler(api_event("GET", "/api/v1/health", role=None), FakeContext())
    failed = accounts_create.lambda_handler(api_event("POST", "/api/v1/accounts", raw_body="{"), FakeContext())
    for result in (ok, failed):
        assert result["multiValueHeaders"]["Cache-Control"] == ["no-store"], result


@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_a_deeply_nested_body_is_400_not_500(aws_env: dict[str, str], depth: int) -> None:
    for body in ("[" * depth + "]" * depth, '{"a":' * depth + "1" + "}" * depth):
        result = accounts_create.lambda_handler(api_event("POST", "/api/v1/accounts", raw_body=body), FakeContext())
        answer = json.loads(result["body"])
        assert result["statusCode"] in (400, 422) and result["statusCode"] != 500, answer
        if depth == 100_000:
            assert (result["statusCode"], answer["error"]["code"]) == (400, "malformed_json")


def _token(**claims: Any) -> str:
    return jwt.encode({"sub": "s", "role": "admin", **claims}, JWT_TEST_KEY, algorithm="HS256")


def _authorized(token: str) -> bool:
    try:
        authorizer.lambda_handler({"authorizationToken": f"Bearer {token}", "methodArn": "arn"}, FakeContext())
    except Exception as exc:  # the authorizer raises "Unauthorized" (API Gateway's 401)
        if "Unauthorized" not in str(exc):
            raise
        return False
    return True


def test_hs256_tokens_living_longer_than_24_hours_are_401(aws_env: dict[str, str]) -> None:
    now = int(time.time())
    assert _authorized(_token(iat=now, exp=now + 24 * 3600))
    assert not _authorized(_token(iat=now, exp=now + 24 * 3600 + 1))
    assert not _authorized(_token(iat=now - 3600, exp=now + 30 * 24 * 3600))
    assert _authorized(_token(exp=now + 3600))  # no iat: measured from now
    assert not _authorized(_token(exp=now + 25 * 3600))


def test_swagger_ui_has_a_content_security_policy(aws_env: dict[str, str]) -> None:
    result = docs.lambda_handler(api_event("GET", "/api/v1/docs", role=None), FakeContext())
    assert result["statusCode"] == 200
    [csp] = result["multiValueHeaders"]["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["default-src"] == "'none'" and directives["frame-ancestors"] == "'none'"
    scripts = re.findall(r"<script>(.*?)</script>", result["body"], re.S)
    assert len(scripts) == 2
    allowed = set(directives["script-src"].split())
    assert "'unsafe-inline'" not in allowed
    for script in scripts:  # the page's own scripts run, and nothing else would
        assert "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'" in allowed
