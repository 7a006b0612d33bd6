"""GET /api/v1/openapi.json and GET /api/v1/docs (Swagger UI bundled by Powertools, works offline).

The document is merged from the other handler modules in this directory on the first request.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from avito_service.api import rest_app
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
    return Response(status_code=200, content_type="text/html", body=html)


@logger.inject_lambda_context(correlation_id_path="requestContext.requestId", clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
