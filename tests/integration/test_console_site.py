"""The console function: its files with the right types and cache headers, nothing outside static/, config.json."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import console_site
import pytest
from avito_service.config import get_settings

from tests.support.events import FakeContext

STATIC = Path(console_site.__file__).parent / "static"


@pytest.fixture(autouse=True)
def fresh_config() -> Iterator[None]:
    console_site._config.cache_clear()
    yield
    console_site._config.cache_clear()
    get_settings.cache_clear()


def get(path: str, headers: dict[str, str] | None = None, method: str = "GET") -> dict[str, Any]:
    relative = path.removeprefix("/console").removeprefix("/")
    event = {
        "resource": "/console/{proxy+}" if relative else "/console",
        "path": path,
        "httpMethod": method,
        "headers": headers or {},
        "pathParameters": {"proxy": relative} if relative else None,
        "requestContext": {"requestId": "test-request", "stage": "prod"},
    }
    return console_site.lambda_handler(event, FakeContext())


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/console/", "text/html; charset=utf-8"),
        ("/console/js/app.js", "text/javascript; charset=utf-8"),
        ("/console/style.css", "text/css; charset=utf-8"),
        ("/console/icon.svg", "image/svg+xml; charset=utf-8"),
    ],
)
def test_files_are_served_with_their_type_an_etag_and_revalidation(path: str, content_type: str) -> None:
    answer = get(path)
    assert answer["statusCode"] == 200
    headers = answer["headers"]
    assert headers["Content-Type"] == content_type
    assert headers["Cache-Control"] == "no-cache" and headers["ETag"].startswith('"')
    relative = path.removeprefix("/console/") or "index.html"
    assert answer["body"] == (STATIC / relative).read_text(encoding="utf-8")
    again = get(path, {"If-None-Match": headers["ETag"]})
    assert again["statusCode"] == 304 and again["body"] == "" and again["headers"]["ETag"] == headers["ETag"]
    assert get(path, {"if-none-match": '"stale"'})["statusCode"] == 200


def test_every_answer_has_the_security_headers() -> None:
    for answer in (get("/console/"), get("/console/config.json"), get("/console/nope.js")):
        headers = answer["headers"]
        policy = headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy and "unsafe-inline" not in policy
        assert headers["X-Content-Type-Options"] == "nosniff" and headers["Referrer-Policy"] == "no-referrer"


def test_console_without_a_slash_redirects_so_relative_urls_work() -> None:
    answer = get("/console")
    assert answer["statusCode"] == 301 and answer["headers"]["Location"] == "console/"


@pytest.mark.parametrize(
    "path",
    [
        "/console/../template.yaml",
        "/console/js/../../console_site.py",
        "/console/console_site.py",
        "/console/.hidden.js",
        "/console/js/missing.js",
        "/console/%2e%2e/template.yaml",
        "/console/js//app.js",
        "/console/" + "a" * 300 + ".js",
    ],
)
def test_nothing_outside_the_static_files_is_served(path: str) -> None:
    answer = get(path)
    assert answer["statusCode"] == 404, path
    body = json.loads(answer["body"])
    assert body["success"] is False and body["error"]["code"] == "not_found"


def test_only_get_is_answered() -> None:
    answer = get("/console/", method="POST")
    assert answer["statusCode"] == 405 and json.loads(answer["body"])["error"]["code"] == "method_not_allowed"


def test_config_names_the_websocket_from_the_environment_and_allows_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONSOLE_WEBSOCKET_URL", "wss://abc123.execute-api.eu-central-1.amazonaws.com/prod")
    get_settings.cache_clear()
    answer = get("/console/config.json")
    assert answer["statusCode"] == 200 and answer["headers"]["Cache-Control"] == "no-store"
    config = json.loads(answer["body"])
    assert config["websocketUrl"] == "wss://abc123.execute-api.eu-central-1.amazonaws.com/prod"
    policy = answer["headers"]["Content-Security-Policy"]
    assert "connect-src 'self' wss://abc123.execute-api.eu-central-1.amazonaws.com;" in policy


@pytest.mark.parametrize("value", ["", "https://not-a-websocket.example", "javascript:alert(1)"])
def test_no_or_a_bad_websocket_url_means_no_live_updates(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("CONSOLE_WEBSOCKET_URL", value)
    get_settings.cache_clear()
    answer = get("/console/config.json")
    assert json.loads(answer["body"])["websocketUrl"] is None
    assert "connect-src 'self';" in answer["headers"]["Content-Security-Policy"]


def test_every_module_the_page_imports_is_served() -> None:
    """Each relative import in the modules resolves to a served file (a typo would break the page)."""
    import re

    for module in STATIC.glob("js/*.js"):
        for target in re.findall(r'from "(\./[^"]+)"', module.read_text(encoding="utf-8")):
            assert get(f"/console/js/{target.removeprefix('./')}")["statusCode"] == 200, (module.name, target)
