"""GET /api/v1/openapi.json and GET /api/v1/docs (Swagger UI bundled by Powertools, works offline).

The document is merged from the other handler modules in this directory on the first request.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import re
from pathlib import Path
from typing import Any

from avito_service.api import no_store, rest_app
from avito_service.observability import logger
from avito_service.openapi import build_document
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.swagger_ui import generate_swagger_html
from aws_lambda_powertools.utilities.typing import LambdaContext

app = rest_app(validation=False)

_SWAGGER_UI = Path(__import__("aws_lambda_powertools").__file__).parent / "event_handler" / "openapi" / "swagger_ui"


@functools.cache
def document_json() -> str:
    return json.dumps(build_document(Path(__file__).parent), ensure_ascii=False)


@app.get("/api/v1/openapi.json", include_in_schema=False)
def openapi_json():
    return Response(status_code=200, content_type="application/json", body=document_json())


@app.get("/api/v1/docs", include_in_schema=False)
def swagger_ui():
    js = (_SWAGGER_UI / "swagger-ui-bundle.min.js").read_text(encoding="utf-8")
    css = (_SWAGGER_UI / "swagger-ui.min.css").read_text(encoding="utf-8")
    spec = document_json().replace("</", "<\\/")
    html = generate_swagger_html(spec, js, css, None, None, persist_authorization=True)
    return Response(
        status_code=200, content_type="text/html", body=html, headers={"Content-Security-Policy": csp_for(html)}
    )


_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.S)


def csp_for(html: str) -> str:
    """A Content-Security-Policy for the page: its own inline scripts only (by their SHA-256, so an injected
    script does not run), its inline styles, images from itself or data: URLs, requests to this API only, and
    no framing (clickjacking). Swagger UI is bundled inline (it works offline), hence the hashes."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() + "'"
        for body in _INLINE_SCRIPT.findall(html)
    )
    return (
        f"default-src 'none'; script-src {hashes}; style-src 'unsafe-inline'; img-src 'self' data:; "
        "connect-src 'self'; font-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )


@logger.inject_lambda_context(correlation_id_path="requestContext.requestId", clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return no_store(app.resolve(event, context))
