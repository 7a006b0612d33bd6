"""API Gateway WebSocket APIs (``AWS::ApiGatewayV2::Api`` with ``ProtocolType: WEBSOCKET``) and their
management API (``@connections``), served from the template's routes, integrations and route responses.

- The WebSocket server (the ``websockets`` library, threaded) serves one API at ``/``, several at
  ``/<LogicalId>/``. ``$connect`` runs before the handshake completes: a non-2xx ``statusCode`` (or a failed
  invocation, 500) refuses it with that status and no connection is kept.
- Each message is routed by the API's ``RouteSelectionExpression`` (``$request.body.<field>``), falling back
  to ``$default``; a route with a ``RouteResponse`` (two-way) sends the integration's ``body`` back.
- After the socket closes, ``$disconnect`` runs (its answer is ignored, as API Gateway ignores it).
- The management API (``POST``/``GET``/``DELETE /<apiId>/<stage>/@connections/<id>``) is a plain HTTP server:
  ``https://<apiId>.execute-api.<region>.amazonaws.com`` in a function's environment is replaced by its URL
  (see ``Resolver.localize``), so ``boto3.client("apigatewaymanagementapi", endpoint_url=...)`` works
  unchanged. A connection that is not open answers 410 ``GoneException``, as API Gateway does.

Events have API Gateway's WebSocket shapes (``requestContext`` with ``routeKey``, ``eventType``
CONNECT/MESSAGE/DISCONNECT, ``connectionId``, ``domainName``, ``stage``, ``apiId``...; ``queryStringParameters``
and headers on connect). Like API Gateway (which supports neither), compression and server pings are off.
"""

from __future__ import annotations

import base64
import json
import os
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request as WsRequest
from websockets.http11 import Response as WsResponse
from websockets.sync.server import Server, ServerConnection, serve
from werkzeug.wrappers import Request, Response

from local_runtime.intrinsics import Resolver, StackContext, api_id
from local_runtime.template import (
    WS_API_TYPE,
    WS_INTEGRATION_TYPE,
    WS_ROUTE_RESPONSE_TYPE,
    WS_ROUTE_TYPE,
    WS_STAGE_TYPE,
    TemplateError,
)
from local_runtime.workers import InvocationResult, LambdaRuntime, RuntimeStoppedError, UnknownFunctionError

MAX_MESSAGE_BYTES = 128 * 1024  # API Gateway's WebSocket message limit
_FUNCTION_IN_URI = re.compile(r"functions/(?P<arn>arn:[^/]+)/invocations")
_TARGET = re.compile(r"^integrations/(?P<id>.+)$")
_MANAGEMENT_PATH = re.compile(r"^/(?P<api>[^/]+)/(?P<stage>[^/]+)/@connections/(?P<id>[^/]+)/?$")


@dataclass(frozen=True)
class WsRoute:
    route_key: str
    function_id: str | None  # None: a route without a Lambda proxy integration
    two_way: bool


@dataclass(frozen=True)
class WebSocketApi:
    logical_id: str
    api_id: str
    stage: str
    selection: str  # e.g. $request.body.action
    routes: dict[str, WsRoute] = field(default_factory=dict)

    def route_for(self, body: str | bytes) -> WsRoute | None:
        key = _selection_value(self.selection, body)
        if key is not None and key in self.routes:
            return self.routes[key]
        return self.routes.get("$default")


def _selection_value(expression: str, body: str | bytes) -> str | None:
    if not expression.startswith("$request.body."):
        return None
    try:
        value: Any = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    for part in expression.removeprefix("$request.body.").split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value if isinstance(value, str) else None


def load_websocket_apis(resolver: Resolver, runtime: LambdaRuntime) -> list[WebSocketApi]:
    """Every WebSocket API of the template with its stage and routes."""
    template = resolver.template
    apis = []
    for lid in template.ids_of_type(WS_API_TYPE):
        props = resolver.resolve(template.properties(lid), lid)
        if not resolver.is_active(lid) or props.get("ProtocolType") != "WEBSOCKET":
            continue
        own = api_id(lid)

        def belongs(resource_id: str, own_id: str = own) -> bool:
            return (
                resolver.is_active(resource_id)
                and resolver.resolve(template.properties(resource_id).get("ApiId"), resource_id) == own_id
            )

        stages = [sid for sid in template.ids_of_type(WS_STAGE_TYPE) if belongs(sid)]
        if not stages:
            raise TemplateError(f"{lid}: a WebSocket API needs an AWS::ApiGatewayV2::Stage")
        stage = str(resolver.resolve(template.properties(stages[0])["StageName"], stages[0]))
        two_way = {
            str(resolver.resolve(template.properties(rid).get("RouteId"), rid))
            for rid in template.ids_of_type(WS_ROUTE_RESPONSE_TYPE)
            if belongs(rid)
        }
        routes = {}
        for rid in template.ids_of_type(WS_ROUTE_TYPE):
            if not belongs(rid):
                continue
            route = resolver.resolve(template.properties(rid), rid)
            key = str(route["RouteKey"])
            routes[key] = WsRoute(key, _route_function(resolver, runtime, rid, route), rid in two_way)
        apis.append(WebSocketApi(lid, own, stage, str(props.get("RouteSelectionExpression", "")), routes))
    return apis


def _route_function(resolver: Resolver, runtime: LambdaRuntime, route_id: str, route: dict[str, Any]) -> str | None:
    match = _TARGET.match(str(route.get("Target", "")))
    if not match:
        return None
    integration_id = match.group("id")
    if resolver.template.resource_type(integration_id) != WS_INTEGRATION_TYPE:
        raise TemplateError(f"{route_id}: Target {route['Target']} is not an integration of this template")
    integration = resolver.resolve(resolver.template.properties(integration_id), integration_id)
    if integration.get("IntegrationType") != "AWS_PROXY":
        raise TemplateError(f"{integration_id}: only AWS_PROXY (Lambda proxy) integrations run locally")
    uri = _FUNCTION_IN_URI.search(str(integration.get("IntegrationUri", "")))
    if not uri:
        raise TemplateError(f"{integration_id}: IntegrationUri does not name a Lambda function")
    try:
        return runtime.resolve_id(uri.group("arn"))
    except UnknownFunctionError:
        raise TemplateError(f"{integration_id}: {uri.group('arn')} is not a function of this template") from None


def management_prefix(context: StackContext, api: str) -> str:
    """The AWS endpoint prefix of an API's management API (replaced by the local server's URL)."""
    return f"https://{context.execute_api_host(api)}"


@dataclass
class _Connection:
    connection_id: str
    api: WebSocketApi
    socket: ServerConnection | None
    connected_at: float
    source_ip: str
    user_agent: str
    last_active: float


def _new_connection_id() -> str:
    # API Gateway's ids look like "L0SM9cOFvHcCIhw=": 11 random bytes, URL-safe base64.
    return base64.urlsafe_b64encode(os.urandom(11)).decode()


def _now_ms() -> int:
    return int(time.time() * 1000)


class WebSocketGateway:
    """The WebSocket server (bound on construction, so port 0 is known early) and its open connections."""

    def __init__(self, host: str, port: int, context: StackContext) -> None:
        self._context = context
        self._runtime: LambdaRuntime | None = None
        self._apis: dict[str, WebSocketApi] = {}
        self._lock = threading.Lock()
        self._open: dict[str, _Connection] = {}
        self._handshakes: dict[ServerConnection, _Connection] = {}
        self._server: Server = serve(
            self._session,
            host,
            port,
            process_request=self._connect,
            compression=None,
            ping_interval=None,
            max_size=MAX_MESSAGE_BYTES,
        )
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.socket.getsockname()[1])

    @property
    def url(self) -> str:
        return f"ws://{self._server.socket.getsockname()[0]}:{self.port}"

    def start(self, runtime: LambdaRuntime, apis: list[WebSocketApi]) -> None:
        self._runtime = runtime
        self._apis = {"/" if len(apis) == 1 else f"/{api.logical_id}/": api for api in apis}
        self._thread = threading.Thread(target=self._server.serve_forever, name="websocket", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=2)
        else:
            self._server.socket.close()
        with self._lock:
            sockets = [c.socket for c in self._open.values() if c.socket is not None]
        for sock in sockets:
            sock.close()

    def url_of(self, api: WebSocketApi) -> str:
        prefix = next(prefix for prefix, known in self._apis.items() if known is api)
        return self.url + prefix

    # ------------------------------------------------------------ connections
    def _api_for(self, path: str) -> WebSocketApi | None:
        for prefix, api in sorted(self._apis.items(), key=lambda item: -len(item[0])):
            if path == prefix.rstrip("/") or path.startswith(prefix):
                return api
        return None

    def _connect(self, sock: ServerConnection, request: WsRequest) -> WsResponse | None:
        """process_request: run ``$connect``; a response refuses the handshake."""
        path = urlsplit(request.path).path or "/"
        api = self._api_for(path)
        if api is None or self._runtime is None:
            return sock.respond(404, "Not Found\n")
        remote = sock.remote_address
        now = time.time()
        connection = _Connection(
            connection_id=_new_connection_id(),
            api=api,
            socket=sock,
            connected_at=now,
            source_ip=str(remote[0]) if remote else "127.0.0.1",
            user_agent=request.headers.get("User-Agent", ""),
            last_active=now,
        )
        route = api.routes.get("$connect")
        if route is not None and route.function_id is not None:
            event = self._event(connection, "$connect", "CONNECT")
            query = parse_qs(urlsplit(request.path).query, keep_blank_values=True)
            headers: dict[str, str] = {}
            for name, value in request.headers.raw_items():
                headers[name] = f"{headers[name]},{value}" if name in headers else value
            event["headers"] = headers
            event["multiValueHeaders"] = {name: value.split(",") for name, value in headers.items()}
            if query:
                event["queryStringParameters"] = {key: values[-1] for key, values in query.items()}
                event["multiValueQueryStringParameters"] = query
            result = self._invoke(route.function_id, event)
            status, body, content_type = _proxy_answer(result)
            if not 200 <= status < 300:
                response = sock.respond(status, body)
                if content_type:
                    del response.headers["Content-Type"]
                    response.headers["Content-Type"] = content_type
                return response
        with self._lock:
            self._handshakes[sock] = connection
        return None

    def _session(self, sock: ServerConnection) -> None:
        with self._lock:
            connection = self._handshakes.pop(sock)
            self._open[connection.connection_id] = connection
        try:
            for message in sock:
                connection.last_active = time.time()
                self._message(connection, message)
        except ConnectionClosed:
            pass
        finally:
            with self._lock:
                self._open.pop(connection.connection_id, None)
            self._disconnect(connection, sock)

    def _message(self, connection: _Connection, message: str | bytes) -> None:
        route = connection.api.route_for(message)
        sock = connection.socket
        if sock is None:
            return
        if route is None or route.function_id is None:
            sock.send(json.dumps({"message": "Forbidden", "connectionId": connection.connection_id}))
            return
        event = self._event(connection, route.route_key, "MESSAGE")
        event["requestContext"]["messageId"] = _new_connection_id()
        event["body"] = message if isinstance(message, str) else base64.b64encode(message).decode()
        event["isBase64Encoded"] = not isinstance(message, str)
        result = self._invoke(route.function_id, event)
        if result is None or not result.ok:
            error = {"message": "Internal server error", "connectionId": connection.connection_id}
            sock.send(json.dumps(error))
            return
        if route.two_way:
            _, body, _ = _proxy_answer(result)
            if body:
                sock.send(body)

    def _disconnect(self, connection: _Connection, sock: ServerConnection) -> None:
        route = connection.api.routes.get("$disconnect")
        if route is None or route.function_id is None:
            return
        event = self._event(connection, "$disconnect", "DISCONNECT")
        event["requestContext"]["disconnectStatusCode"] = sock.close_code or 1006
        event["requestContext"]["disconnectReason"] = sock.close_reason or ""
        self._invoke(route.function_id, event)

    def _invoke(self, function_id: str, event: dict[str, Any]) -> InvocationResult | None:
        if self._runtime is None:
            return None
        try:
            return self._runtime.invoke(function_id, event)
        except RuntimeStoppedError:
            return None

    def _event(self, connection: _Connection, route_key: str, event_type: str) -> dict[str, Any]:
        now = datetime.now(UTC)
        api = connection.api
        return {
            "requestContext": {
                "routeKey": route_key,
                "eventType": event_type,
                "extendedRequestId": uuid.uuid4().hex[:16],
                "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
                "messageDirection": "IN",
                "stage": api.stage,
                "connectedAt": int(connection.connected_at * 1000),
                "requestTimeEpoch": int(now.timestamp() * 1000),
                "identity": {"sourceIp": connection.source_ip, "userAgent": connection.user_agent},
                "requestId": uuid.uuid4().hex[:16],
                "domainName": self._context.execute_api_host(api.api_id),
                "connectionId": connection.connection_id,
                "apiId": api.api_id,
            },
            "isBase64Encoded": False,
        }

    # ------------------------------------------------------------ management API
    def manage(self, api: str, stage: str, connection_id: str, method: str, data: bytes) -> tuple[int, Any]:
        """One management API call: (status, JSON body or None)."""
        if not any(known.api_id == api and known.stage == stage for known in self._apis.values()):
            return 403, {"message": "Forbidden"}
        with self._lock:
            connection = self._open.get(connection_id)
        if connection is None or connection.socket is None:
            return 410, None
        if method == "GET":
            return 200, {  # the wire names of GetConnection (boto3 shows them as ConnectedAt, Identity, ...)
                "connectedAt": _iso(connection.connected_at),
                "identity": {"sourceIp": connection.source_ip, "userAgent": connection.user_agent},
                "lastActiveAt": _iso(connection.last_active),
            }
        if method == "DELETE":
            connection.socket.close()
            return 204, None
        if len(data) > MAX_MESSAGE_BYTES:
            return 413, {"message": "Message too long"}
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        try:
            connection.socket.send(data if text is None else text)
        except ConnectionClosed:
            return 410, None  # closing: its $disconnect is on the way
        return 200, None

    def open_connection_ids(self) -> list[str]:
        with self._lock:
            return list(self._open)


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _proxy_answer(result: InvocationResult | None) -> tuple[int, str, str | None]:
    """(status, body, content type) of a Lambda proxy answer; a failed invocation is a 500."""
    if result is None or not result.ok:
        return 500, '{"message": "Internal server error"}', "application/json"
    payload = result.payload
    if not isinstance(payload, dict):
        return 200, "" if payload is None else json.dumps(payload), None
    body = payload.get("body")
    if body is not None and not isinstance(body, str):
        body = json.dumps(body)
    if body and payload.get("isBase64Encoded"):
        body = base64.b64decode(body).decode("utf-8", errors="replace")
    headers = {str(k).lower(): str(v) for k, v in (payload.get("headers") or {}).items()}
    return int(payload.get("statusCode", 200)), body or "", headers.get("content-type")


class ManagementApp:
    """WSGI app of the management API; errors are shaped like API Gateway's (``x-amzn-ErrorType``)."""

    _ERRORS = {403: "ForbiddenException", 410: "GoneException", 413: "PayloadTooLargeException"}

    def __init__(self, gateway: WebSocketGateway) -> None:
        self._gateway = gateway

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        match = _MANAGEMENT_PATH.match(request.path)
        if match is None or request.method not in ("POST", "GET", "DELETE"):
            response = Response(json.dumps({"message": "Not Found"}), status=404, content_type="application/json")
            return response(environ, start_response)
        status, body = self._gateway.manage(
            match.group("api"), match.group("stage"), match.group("id"), request.method, request.get_data()
        )
        headers = {"x-amzn-RequestId": str(uuid.uuid4())}
        if status in self._ERRORS:
            headers["x-amzn-ErrorType"] = self._ERRORS[status]
            body = body or {"message": self._ERRORS[status].removesuffix("Exception")}
        text = json.dumps(body) if body is not None else ""
        response = Response(text, status=status, headers=headers, content_type="application/json")
        return response(environ, start_response)
