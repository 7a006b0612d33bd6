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
_INTERNAL_ERROR = {"message": "Internal server error"}


def _json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status=status, headers=headers or {}, content_type="application/json")


def _contract_error(status: int, code: str, message: str) -> Response:
    return _json_response(status, {"success": False, "error": {"code": code, "message": message}})


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
        if route is None:
            if path_known and request.method == "OPTIONS":
                cors = self._cors_for(request.path)
                if cors is not None:
                    return Response(status=200, headers=cors)
            if path_known:
                return _contract_error(405, "method_not_allowed", f"Method {request.method} not allowed")
            return _contract_error(404, "not_found", f"No route for {request.method} {request.path}")
        api = self._apis[route.api_logical_id]
        authorizer_context: dict[str, Any] | None = None
        if route.authorizer is not None:
            authorizer = api.authorizers[route.authorizer]
            method_arn = self._context.arn(
                "execute-api", f"{api.api_id}/{STAGE}/{request.method}/{request.path.lstrip('/')}"
            )
            decision = self._authorizers.authorize(authorizer, request.headers.get(authorizer.header), method_arn)
            if decision.context is None:
                return self._gateway_response(api, str(decision.response_type), decision.message, request_id)
            authorizer_context = decision.context
        event = self._rest_event(
            request, route, api, path_params, request_id=request_id, authorizer_context=authorizer_context
        )
        result = self._invoke(route.function_id, event)
        response = _proxy_response(result) if result.ok else None
        if response is None:
            return _json_response(502, _INTERNAL_ERROR, {"x-amzn-RequestId": request_id})
        response.headers.setdefault("x-amzn-RequestId", request_id)
        return response

    def _cors_for(self, path: str) -> dict[str, str] | None:
        for route in self._routes:
            if route.match(split_path(path)) is not None and self._apis[route.api_logical_id].cors:
                return self._apis[route.api_logical_id].cors
        return None

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
        headers = {
            "x-amzn-RequestId": request_id,
            "x-amzn-ErrorType": "UnauthorizedException"
            if status == 401
            else "AccessDeniedException"
            if status == 403
            else "InternalServerErrorException",
        }
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
