"""API Gateway REST API (Lambda proxy integration, payload v1) emulation plus the Lambda Invoke API."""

from __future__ import annotations

import base64
import json
import re
import threading
import uuid
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from werkzeug.wrappers import Request, Response

from local_runtime.apigw_config import ApiConfig, Route, split_path
from local_runtime.authorizer import AuthorizerEvaluator
from local_runtime.intrinsics import StackContext
from local_runtime.workers import InvocationResult, LambdaRuntime, RuntimeStoppedError, UnknownFunctionError

STAGE = "local"
_INVOKE_PATH = re.compile(r"^/2015-03-31/functions/(?P<name>[^/]+)/invocations/?$")
_ERROR_TYPES = {  # x-amzn-ErrorType by gateway response type
    "UNAUTHORIZED": "UnauthorizedException",
    "ACCESS_DENIED": "AccessDeniedException",
    "MISSING_AUTHENTICATION_TOKEN": "MissingAuthenticationTokenException",
    "THROTTLED": "TooManyRequestsException",
    "REQUEST_TOO_LARGE": "RequestTooLargeException",
}


def _json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status=status, headers=headers or {}, content_type="application/json")


class ApiGatewayApp:
    """WSGI app serving every `Type: Api` route of the template, and POST /2015-03-31/functions/*/invocations."""

    def __init__(
        self, runtime: LambdaRuntime, apis: dict[str, ApiConfig], routes: list[Route], context: StackContext
    ) -> None:
        self._runtime = runtime
        self._apis = apis
        self._routes = routes
        self._context = context
        self._authorizers = AuthorizerEvaluator(runtime.invoke)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        invoke_match = _INVOKE_PATH.match(request.path)
        if invoke_match and request.method == "POST":
            response = self._invoke_api(request, invoke_match.group("name"))
        else:
            response = self._proxy(request)
        return response(environ, start_response)

    # ------------------------------------------------------------ Invoke API
    def _invoke_api(self, request: Request, function_ref: str) -> Response:
        raw = request.get_data(as_text=True)
        try:
            event = json.loads(raw) if raw.strip() else {}
        except json.JSONDecodeError:
            return _json_response(
                400,
                {"Type": "User", "Message": "Could not parse request body into json"},
                {"x-amzn-ErrorType": "InvalidRequestContentException"},
            )
        try:
            function_id = self._runtime.resolve_id(function_ref)
        except UnknownFunctionError as error:
            return _json_response(
                404, {"Type": "User", "Message": str(error.args[0])}, {"x-amzn-ErrorType": "ResourceNotFoundException"}
            )
        invocation_type = request.headers.get("X-Amz-Invocation-Type", "RequestResponse")
        if invocation_type == "DryRun":
            return Response(status=204)
        if invocation_type == "Event":
            threading.Thread(target=self._runtime.invoke, args=(function_id, event), daemon=True).start()
            return Response(status=202)
        result = self._invoke(function_id, event)
        headers = {"X-Amz-Executed-Version": "$LATEST", "x-amzn-RequestId": result.request_id}
        if not result.ok:
            headers["X-Amz-Function-Error"] = "Unhandled"
        return _json_response(200, result.payload, headers)

    def _invoke(self, function_id: str, event: Any) -> InvocationResult:
        try:
            return self._runtime.invoke(function_id, event)
        except RuntimeStoppedError:
            return InvocationResult("", False, {"errorType": "Runtime.Stopped", "errorMessage": "runtime stopping"})

    # ------------------------------------------------------------ REST proxy
    def _find_route(self, path: str, method: str) -> tuple[Route | None, dict[str, str], bool]:
        """(route, path params, path_known) for the most specific resource path matching `path`."""
        parts = split_path(path)
        by_resource: dict[str, list[tuple[Route, dict[str, str]]]] = defaultdict(list)
        for route in self._routes:
            params = route.match(parts)
            if params is not None:
                by_resource[route.resource_path].append((route, params))
        if not by_resource:
            return None, {}, False
        best = min(by_resource.values(), key=lambda candidates: candidates[0][0].specificity)
        for wanted in (method, "ANY"):
            for route, params in best:
                if route.method == wanted:
                    return route, params, True
        return None, {}, True

    def _proxy(self, request: Request) -> Response:
        request_id = str(uuid.uuid4())
        route, path_params, path_known = self._find_route(request.path, request.method)
        # SAM's Cors adds an OPTIONS method to every path without one; it wins over an ANY method there.
        if path_known and request.method == "OPTIONS" and (route is None or route.method == "ANY"):
            preflight = self._preflight(request, request_id)
            if preflight is not None:
                return preflight
        if route is None:
            # API Gateway answers a path or method it has no route for with MISSING_AUTHENTICATION_TOKEN.
            api = self._api_for(request.path)
            return self._gateway_response(api, "MISSING_AUTHENTICATION_TOKEN", None, request_id)
        api = self._apis[route.api_logical_id]
        authorizer_context: dict[str, Any] | None = None
        if route.authorizer is not None:
            denied, authorizer_context = self._authorize(request, api, route.authorizer, request_id)
            if denied is not None:
                return denied
        event = self._rest_event(
            request, route, api, path_params, request_id=request_id, authorizer_context=authorizer_context
        )
        result = self._invoke_within(route, event)
        if result is None:  # the function is still running, as it would be in Lambda; the caller is answered
            return self._gateway_response(api, "INTEGRATION_TIMEOUT", None, request_id)
        response = _proxy_response(result) if result.ok else None
        if response is None:
            return self._gateway_response(api, "DEFAULT_5XX", None, request_id)
        response.headers.setdefault("x-amzn-RequestId", request_id)
        return response

    def _authorize(
        self, request: Request, api: ApiConfig, authorizer_name: str, request_id: str
    ) -> tuple[Response | None, dict[str, Any] | None]:
        """(gateway response, None) when the authorizer refuses, else (None, the authorizer's context)."""
        authorizer = api.authorizers[authorizer_name]
        method_arn = self._context.arn(
            "execute-api", f"{api.api_id}/{STAGE}/{request.method}/{request.path.lstrip('/')}"
        )
        decision = self._authorizers.authorize(authorizer, request.headers.get(authorizer.header), method_arn)
        if decision.context is None:
            return self._gateway_response(api, str(decision.response_type), decision.message, request_id), None
        return None, decision.context

    def _invoke_within(self, route: Route, event: Any) -> InvocationResult | None:
        """The function's result, or None when it takes longer than the route's integration timeout."""
        done = threading.Event()
        outcome: list[InvocationResult] = []

        def run() -> None:
            outcome.append(self._invoke(route.function_id, event))
            done.set()

        threading.Thread(target=run, name=f"invoke-{route.function_id}", daemon=True).start()
        if not done.wait(route.timeout_ms / 1000):
            return None
        remember = getattr(self._runtime, "remember_invocation", None)
        if remember is not None:  # the console names the route's function, not the authorizer run on this thread
            remember(route.function_id, outcome[0])
        return outcome[0]

    def _api_for(self, path: str) -> ApiConfig:
        """The API serving the longest known prefix of `path` (the only API, in the usual one-API template)."""
        parts = split_path(path)
        best: tuple[int, str] | None = None
        for route in self._routes:
            shared = 0
            for segment, part in zip(route.segments, parts, strict=False):
                if segment.kind == 0 and segment.text != part:
                    break
                shared += 1
            if best is None or shared > best[0]:
                best = (shared, route.api_logical_id)
        logical_id = best[1] if best else next(iter(self._apis))
        return self._apis[logical_id]

    def _preflight(self, request: Request, request_id: str) -> Response | None:
        """SAM `Cors`: an OPTIONS method on every path (a MOCK integration), answered with the configured headers."""
        routes = [r for r in self._routes if r.match(split_path(request.path)) is not None]
        best = min(routes, key=lambda r: r.specificity)
        api = self._apis[best.api_logical_id]
        if api.cors is None:
            return None
        if api.preflight_authorizer is not None:
            denied, _ = self._authorize(request, api, api.preflight_authorizer, request_id)
            if denied is not None:
                return denied
        headers = dict(api.cors)
        if "Access-Control-Allow-Methods" not in headers:  # SAM lists the path's own methods
            methods = {r.method for r in routes if r.resource_path == best.resource_path}
            if "ANY" in methods:
                methods = {"DELETE", "GET", "HEAD", "PATCH", "POST", "PUT"}
            headers["Access-Control-Allow-Methods"] = ",".join(sorted(methods | {"OPTIONS"}))
        headers["x-amzn-RequestId"] = request_id
        return Response("{}", status=200, headers=headers, content_type="application/json")

    def _gateway_response(self, api: ApiConfig, response_type: str, message: str | None, request_id: str) -> Response:
        status, default_message, configured = api.gateway_response(response_type)
        message = message or default_message
        message_string = json.dumps(message)
        if configured and configured.template:
            body = (
                configured.template.replace("$context.error.messageString", message_string)
                .replace("$context.error.message", message or "")
                .replace("$context.error.responseType", response_type)
                .replace("$context.requestId", request_id)
                .replace("$context.extendedRequestId", request_id)
            )
        else:
            body = '{"message":' + message_string + "}"
        error_type = _ERROR_TYPES.get(
            response_type, "BadRequestException" if status < 500 else "InternalServerErrorException"
        )
        headers = {"x-amzn-RequestId": request_id, "x-amzn-ErrorType": error_type}
        headers.update(configured.headers if configured else {})
        return Response(body, status=status, headers=headers, content_type="application/json")

    def _rest_event(
        self,
        request: Request,
        route: Route,
        api: ApiConfig,
        path_params: dict[str, str],
        *,
        request_id: str,
        authorizer_context: dict[str, Any] | None,
    ) -> dict[str, Any]:
        source_ip = request.remote_addr or "127.0.0.1"
        header_pairs = [
            *request.headers.items(),
            ("X-Forwarded-For", source_ip),
            ("X-Forwarded-Port", str(request.environ.get("SERVER_PORT", ""))),
            ("X-Forwarded-Proto", request.scheme),
        ]
        multi_headers: dict[str, list[str]] = defaultdict(list)
        for name, value in header_pairs:
            multi_headers[name].append(value)
        multi_query = {key: request.args.getlist(key) for key in request.args}
        body, is_base64 = _request_body(request, binary=api.is_binary(request.headers.get("Content-Type")))
        now = datetime.now(UTC)
        request_context: dict[str, Any] = {
            "accountId": self._context.account_id,
            "apiId": api.api_id,
            "stage": STAGE,
            "requestId": request_id,
            "extendedRequestId": request_id,
            "resourceId": uuid.uuid5(uuid.NAMESPACE_URL, route.resource_path).hex[:6],
            "resourcePath": route.resource_path,
            "httpMethod": request.method,
            "path": f"/{STAGE}{request.path}",
            "protocol": request.environ.get("SERVER_PROTOCOL", "HTTP/1.1"),
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "requestTimeEpoch": int(now.timestamp() * 1000),
            "domainName": request.host,
            "domainPrefix": request.host.split(".")[0],
            "identity": {
                "sourceIp": source_ip,
                "userAgent": request.headers.get("User-Agent"),
                "accessKey": None,
                "accountId": None,
                "caller": None,
                "cognitoAuthenticationProvider": None,
                "cognitoAuthenticationType": None,
                "cognitoIdentityId": None,
                "cognitoIdentityPoolId": None,
                "principalOrgId": None,
                "user": None,
                "userArn": None,
                "apiKey": None,
                "apiKeyId": None,
                "clientCert": None,
            },
        }
        if authorizer_context is not None:
            request_context["authorizer"] = authorizer_context
        return {
            "resource": route.resource_path,
            "path": request.path,
            "httpMethod": request.method,
            "headers": {name: values[-1] for name, values in multi_headers.items()},
            "multiValueHeaders": dict(multi_headers),
            "queryStringParameters": {key: values[-1] for key, values in multi_query.items()} or None,
            "multiValueQueryStringParameters": multi_query or None,
            "pathParameters": path_params or None,
            "stageVariables": None,
            "requestContext": request_context,
            "body": body,
            "isBase64Encoded": is_base64,
        }


def _request_body(request: Request, *, binary: bool) -> tuple[str | None, bool]:
    """The event's ``body`` and ``isBase64Encoded``: base64 for the API's binary media types, like API Gateway;
    text otherwise (and base64 for a body that is not UTF-8, which API Gateway would pass mangled)."""
    data = request.get_data()
    if not data:
        return None, False
    if binary:
        return base64.b64encode(data).decode(), True
    try:
        return data.decode("utf-8"), False
    except UnicodeDecodeError:
        return base64.b64encode(data).decode(), True


def _proxy_response(result: InvocationResult) -> Response | None:
    """HTTP response for a Lambda proxy result, or None if it is malformed (API Gateway answers 502)."""
    payload = result.payload
    if not isinstance(payload, dict) or not isinstance(payload.get("statusCode"), int):
        return None
    body = payload.get("body")
    if body is not None and not isinstance(body, str):
        return None
    data = base64.b64decode(body) if body and payload.get("isBase64Encoded") else (body or "").encode()
    response = Response(data, status=int(payload["statusCode"]))
    response.headers.remove("Content-Type")
    for name, values in (payload.get("multiValueHeaders") or {}).items():
        for value in values:
            response.headers.add(name, str(value))
    for name, value in (payload.get("headers") or {}).items():
        response.headers.set(name, str(value))
    if "Content-Type" not in response.headers:
        response.headers.set("Content-Type", "application/json")
    return response
