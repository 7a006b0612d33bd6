"""GET /console, /console/ and /console/{proxy+}: the operator console's static files and its config.json.

The files live in ``static/`` beside this module (the function's code is this folder, so they ship with
it). The page holds no data and no secret: every API call it makes carries the operator's own token, so
these routes have no authorizer. ``config.json`` tells the page where the live-updates WebSocket is
(``CONSOLE_WEBSOCKET_URL``, set by template.yaml, so it is right deployed and locally); the REST API's
base the page derives from its own address.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from avito_service.config import get_settings
from avito_service.observability import logger
from avito_service.static_site import StaticSite, file_answer, json_answer, security_headers, websocket_origin
from aws_lambda_powertools.utilities.typing import LambdaContext

SITE = StaticSite(Path(__file__).parent / "static")
INDEX = "index.html"


@functools.cache
def _config() -> tuple[dict[str, Any], dict[str, str]]:
    settings = get_settings()
    ws_url = settings.console_websocket_url.strip() or None
    origin = websocket_origin(ws_url) if ws_url else None
    config = {"websocketUrl": ws_url if origin else None, "version": settings.service_version}
    return config, security_headers([origin] if origin else [])


def _not_found(headers: dict[str, str]) -> dict[str, Any]:
    error = {"code": "not_found", "message": "No such file in the console.", "details": []}
    return json_answer(404, {"success": False, "error": error}, headers)


@logger.inject_lambda_context(correlation_id_path="requestContext.requestId", clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    config, headers = _config()
    if event.get("httpMethod") not in ("GET", "HEAD"):
        error = {"code": "method_not_allowed", "message": "The console only answers GET.", "details": []}
        return json_answer(405, {"success": False, "error": error}, headers)
    relative = str((event.get("pathParameters") or {}).get("proxy") or "")
    if not relative:
        if not str(event.get("path") or "").endswith("/"):
            # /console -> /console/ so that the page's relative module URLs resolve below /console/
            return {"statusCode": 301, "headers": {**headers, "Location": "console/"}, "body": ""}
        relative = INDEX
    if relative == "config.json":
        return json_answer(200, config, headers)
    file = SITE.file(relative)
    if file is None:
        return _not_found(headers)
    request_headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    return file_answer(file, request_headers.get("if-none-match"), headers)
