"""The service's one OpenAPI document, merged from the handler modules' own route definitions."""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

from aws_lambda_powertools.event_handler.openapi.merge import OpenAPIMerge
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer, Server

from avito_service import __version__

TITLE = "Avito Service API"
DESCRIPTION = (
    "Run many Avito business accounts from one place: accounts with credentials in Secrets Manager and "
    "per-account proxies, Avito statistics, Messenger (live and stored), webhooks and eternal online. "
    "Every endpoint except health, openapi.json, docs and a recording link needs `Authorization: Bearer <JWT>`."
)
# Routes that need no token (API Gateway's `Auth: Authorizer: NONE` in template.yaml).
# The recording link's own token is its credential (calls/service.py), like a presigned URL.
OPEN_PATHS = frozenset(
    {
        "/api/v1/health",
        "/api/v1/recordings/{token}",
        "/api/v1/auth/login",
        "/api/v1/auth/new-password",
        "/api/v1/auth/refresh",
        "/api/v1/oauth/callback",  # Avito's redirect of the account owner; the single-use state is the credential
    }
)
# Handler modules that serve this document (not merged into it).
NOT_MERGED = frozenset({"docs.py"})


def rest_modules(functions_dir: Path) -> list[Path]:
    """The handler modules with a module-level ``app = rest_app(...)``: the REST functions.

    Powertools' own ``OpenAPIMerge.discover`` finds only ``app = APIGatewayRestResolver(...)`` written out, so
    the modules are picked here, by the same kind of look at the source, and handed to it one by one."""
    found = []
    for path in sorted(functions_dir.glob("*.py")):
        if path.name in NOT_MERGED:
            continue
        for node in ast.parse(path.read_text(encoding="utf-8"), filename=str(path)).body:
            if (
                isinstance(node, ast.Assign)
                and any(isinstance(target, ast.Name) and target.id == "app" for target in node.targets)
                and isinstance(node.value, ast.Call)
                and isinstance(node.value.func, ast.Name)
                and node.value.func.id == "rest_app"
            ):
                found.append(path.resolve())
                break
    return found


def build_document(functions_dir: Path) -> dict[str, Any]:
    merge = OpenAPIMerge(
        title=TITLE,
        version=__version__,
        description=DESCRIPTION,
        servers=[Server(url="/")],
        security_schemes={"bearerAuth": HTTPBearer(scheme="bearer", bearerFormat="JWT")},
        security=[{"bearerAuth": []}],
        on_conflict="error",
    )
    for module in rest_modules(functions_dir):
        merge.add_file(module, resolver_name="app")
    document = json.loads(merge.get_openapi_json_schema())
    for path in OPEN_PATHS & set(document.get("paths", {})):
        for operation in document["paths"][path].values():
            operation["security"] = []  # Powertools drops an empty per-route list; the contract needs it
    return document


def render(document: dict[str, Any]) -> str:
    """Canonical text of the committed copy (``openapi.json``)."""
    return json.dumps(document, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
