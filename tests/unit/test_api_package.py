"""The HTTP layer's shape (issue 23): every REST handler builds its resolver with ``rest_app()``, which always
carries request validation, the CORS config and the contract's error mapping; the domain packages never import
the HTTP layer."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
from avito_service import api
from avito_service.api import rest_app
from avito_service.api.cors import SettingsCORSConfig
from avito_service.errors import NotFound
from avito_service.openapi import rest_modules
from pydantic import BaseModel

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = ROOT / "functions"
PACKAGE = ROOT / "layers" / "shared" / "avito_service"
# The REST functions: every handler module with routes on ``app`` but the webhook receiver (a Function URL).


def _rest_modules() -> list[Path]:
    return [
        path
        for path in sorted(FUNCTIONS.glob("*.py"))
        if "@app." in path.read_text(encoding="utf-8") and "LambdaFunctionUrlResolver" not in path.read_text()
    ]


def _module_level_app(path: Path) -> ast.expr | None:
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "app" for t in node.targets):
            return node.value
    return None


def test_every_rest_handler_uses_rest_app_and_builds_no_resolver_itself() -> None:
    rest = _rest_modules()
    assert len(rest) > 30
    for path in rest:
        app = _module_level_app(path)
        assert isinstance(app, ast.Call) and getattr(app.func, "id", None) == "rest_app", path.name
        calls = {getattr(n.func, "id", None) for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, ast.Call)}
        assert "APIGatewayRestResolver" not in calls and "install_error_handlers" not in calls, path.name


def test_the_openapi_merge_reads_every_rest_handler_but_the_docs() -> None:
    merged = {path.stem for path in rest_modules(FUNCTIONS)}
    expected = {path.stem for path in _rest_modules()} - {"docs"}
    assert merged == expected


def test_rest_app_validates_and_carries_cors_and_the_error_mapping() -> None:
    app = rest_app()
    assert app._enable_validation is True
    assert isinstance(app._cors, SettingsCORSConfig)

    @app.get("/things/<thing>")
    def thing(thing: str):
        raise NotFound("No such thing.")

    event = {
        "httpMethod": "GET",
        "path": "/things/x",
        "resource": "/things/{thing}",
        "pathParameters": {"thing": "x"},
        "headers": {},
        "multiValueHeaders": {},
        "requestContext": {"requestId": "r-1", "authorizer": {}},
        "isBase64Encoded": False,
        "body": None,
    }
    answer = app.resolve(event, None)
    assert answer["statusCode"] == 404
    assert json.loads(answer["body"]) == {
        "success": False,
        "error": {"code": "not_found", "message": "No such thing.", "details": []},
    }
    unknown = app.resolve({**event, "path": "/nothing", "resource": "/nothing", "pathParameters": None}, None)
    assert unknown["statusCode"] == 404 and json.loads(unknown["body"])["error"]["message"] == "No such endpoint."


class Change(BaseModel):
    name: str | None = None


@pytest.mark.parametrize(
    ("body", "status"), [('[{}, ["P"], 7]', 422), ("[]", 422), ('"text"', 422), ("7", 422), ("{}", 200)]
)
def test_a_json_body_that_is_not_an_object_is_refused(body: str, status: int) -> None:
    """Powertools validates ``[{}, ...]`` as its first element; an all-optional change then passed as empty."""
    app = rest_app()

    @app.put("/things")
    def change(body: Change):
        return {"ok": True}

    event = {
        "httpMethod": "PUT",
        "path": "/things",
        "resource": "/things",
        "headers": {"content-type": "application/json"},
        "multiValueHeaders": {},
        "requestContext": {"requestId": "r-1", "authorizer": {}},
        "isBase64Encoded": False,
        "body": body,
    }
    answer = app.resolve(event, None)
    assert answer["statusCode"] == status, answer["body"]
    if status == 422:
        assert json.loads(answer["body"])["error"]["details"] == [
            {"field": "body", "message": "The request body must be a JSON object."}
        ]


def test_rest_app_without_validation_is_only_for_the_docs() -> None:
    assert rest_app(validation=False)._enable_validation is False
    uses = [p.stem for p in FUNCTIONS.glob("*.py") if "rest_app(validation=False)" in p.read_text()]
    assert uses == ["docs"]


@pytest.mark.parametrize("name", api.__all__)
def test_every_name_handlers_import_is_exported_by_the_package(name: str) -> None:
    assert getattr(api, name) is not None


def test_domain_packages_never_import_the_http_layer() -> None:
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.is_relative_to(PACKAGE / "api") or path.name == "openapi.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for name in names:
                relative = path.relative_to(PACKAGE)
                assert not name.startswith("avito_service.api"), relative
                assert not name.startswith("aws_lambda_powertools.event_handler"), relative
