"""Lambda Function URL emulation (payload format 2.0) for every function with a FunctionUrlConfig."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime
from typing import Any

from werkzeug.wrappers import Request, Response

from local_runtime.functions import FunctionSpec
from local_runtime.template import Template, function_url_prefix
from local_runtime.workers import LambdaRuntime, RuntimeStoppedError

_TEXT_TYPES = (
    "text/",
    "application/json",
    "application/xml",
    "application/javascript",
    "application/x-www-form-urlencoded",
    "application/graphql",
    "+json",
    "+xml",
)


class FunctionUrlApp:
    """WSGI app: one Function URL at "/", or several under "/<LogicalId>/"."""

    def __init__(self, runtime: LambdaRuntime, template: Template, specs: dict[str, FunctionSpec]) -> None:
        self._runtime = runtime
        self._prefixes = {function_url_prefix(template, lid): spec for lid, spec in specs.items() if spec.function_url}

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        return self._handle(request)(environ, start_response)

    def _handle(self, request: Request) -> Response:
        for prefix, spec in sorted(self._prefixes.items(), key=lambda item: -len(item[0])):
            if request.path == prefix.rstrip("/") or request.path.startswith(prefix):
                raw_path = "/" + request.path[len(prefix) :].lstrip("/") if prefix != "/" else request.path
                return self._invoke(spec, request, raw_path)
        return Response(json.dumps({"Message": "Not Found"}), status=404, content_type="application/json")

    def _invoke(self, spec: FunctionSpec, request: Request, raw_path: str) -> Response:
        event = function_url_event(request, raw_path, spec)
        try:
            result = self._runtime.invoke(spec.logical_id, event)
        except RuntimeStoppedError:
            result = None
        if result is None or not result.ok:
            return Response(
                json.dumps({"Message": "Internal Server Error"}), status=502, content_type="application/json"
            )
        return function_url_response(result.payload)


def function_url_event(request: Request, raw_path: str, spec: FunctionSpec) -> dict[str, Any]:
    headers: dict[str, str] = {}
    for name, value in request.headers.items():
        key = name.lower()
        headers[key] = f"{headers[key]},{value}" if key in headers else value
    cookie_header = headers.pop("cookie", None)
    cookies = [cookie.strip() for cookie in cookie_header.split(";")] if cookie_header else None
    query = {key: ",".join(request.args.getlist(key)) for key in request.args}
    now = datetime.now(UTC)
    host = request.host
    url_id = uuid.uuid5(uuid.NAMESPACE_URL, spec.logical_id).hex[:26]
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": raw_path,
        "rawQueryString": request.query_string.decode("latin-1"),
        "headers": headers,
        "requestContext": {
            "accountId": "anonymous",
            "apiId": url_id,
            "domainName": host,
            "domainPrefix": host.split(".")[0],
            "http": {
                "method": request.method,
                "path": raw_path,
                "protocol": request.environ.get("SERVER_PROTOCOL", "HTTP/1.1"),
                "sourceIp": request.remote_addr or "127.0.0.1",
                "userAgent": request.headers.get("User-Agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": "$default",
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = query
    data = request.get_data()
    if data:
        content_type = headers.get("content-type", "")
        if _is_text(content_type):
            event["body"] = data.decode("utf-8", errors="replace")
        else:
            event["body"] = base64.b64encode(data).decode()
            event["isBase64Encoded"] = True
    return event


def _is_text(content_type: str) -> bool:
    media_type = content_type.split(";", maxsplit=1)[0].strip().lower()
    return bool(media_type) and any(marker in media_type for marker in _TEXT_TYPES)


def function_url_response(payload: Any) -> Response:
    """Function URL response mapping: a dict with statusCode is a response; any other value is a JSON body."""
    if not (isinstance(payload, dict) and "statusCode" in payload):
        body = payload if isinstance(payload, str) else json.dumps(payload)
        return Response(body, status=200, content_type="application/json")
    body = payload.get("body") or ""
    if not isinstance(body, str):
        body = json.dumps(body)
    data = base64.b64decode(body) if payload.get("isBase64Encoded") else body.encode()
    response = Response(data, status=int(payload["statusCode"]))
    response.headers.remove("Content-Type")
    for name, value in (payload.get("headers") or {}).items():
        response.headers.set(name, str(value))
    for cookie in payload.get("cookies") or []:
        response.headers.add("Set-Cookie", str(cookie))
    if "Content-Type" not in response.headers:
        response.headers.set("Content-Type", "application/json")
    return response
