"""API Gateway configuration read from the template: routes, authorizers and gateway responses."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from local_runtime.functions import FunctionSpec
from local_runtime.intrinsics import Resolver, api_id
from local_runtime.template import API_TYPE, GATEWAY_RESPONSE_TYPE, TemplateError

IMPLICIT_API_ID = "ServerlessRestApi"
DEFAULT_REAUTHORIZE_SECONDS = 300

DEFAULT_INTEGRATION_TIMEOUT_MS = 29_000  # API Gateway REST's default (and, without a quota raise, maximum)

# API Gateway's built-in gateway responses: type -> (status, message).
DEFAULT_GATEWAY_RESPONSES: dict[str, tuple[int, str | None]] = {
    "UNAUTHORIZED": (401, "Unauthorized"),
    "ACCESS_DENIED": (403, "User is not authorized to access this resource"),
    "MISSING_AUTHENTICATION_TOKEN": (403, "Missing Authentication Token"),
    "AUTHORIZER_FAILURE": (500, None),
    "AUTHORIZER_CONFIGURATION_ERROR": (500, None),
    "INTEGRATION_TIMEOUT": (504, "Endpoint request timed out"),
    "INTEGRATION_FAILURE": (504, None),
    "THROTTLED": (429, "Too Many Requests"),
    "REQUEST_TOO_LARGE": (413, "Request Too Long"),
    "BAD_REQUEST_BODY": (400, "Invalid request body"),
    "BAD_REQUEST_PARAMETERS": (400, "Invalid request parameters"),
    "UNSUPPORTED_MEDIA_TYPE": (415, "Unsupported Media Type"),
    "RESOURCE_NOT_FOUND": (404, "Not Found"),
    "WAF_FILTERED": (403, "Forbidden"),
    "QUOTA_EXCEEDED": (429, "Limit Exceeded"),
    "API_CONFIGURATION_ERROR": (500, None),
    # A Lambda proxy function that fails or answers malformed: API Gateway says 502 and uses DEFAULT_5XX.
    "DEFAULT_5XX": (502, "Internal server error"),
}
_DEFAULT_FAMILY = {4: "DEFAULT_4XX", 5: "DEFAULT_5XX"}


@dataclass(frozen=True)
class Segment:
    text: str
    kind: int  # 0 literal, 1 {param}, 2 {greedy+}; lower is more specific

    @property
    def name(self) -> str:
        return self.text.strip("{}+")


@dataclass(frozen=True)
class Route:
    api_logical_id: str
    resource_path: str  # e.g. /orders/{orderId}
    method: str  # upper case, "ANY" for any
    function_id: str
    authorizer: str | None  # authorizer name, None when open
    segments: tuple[Segment, ...]
    timeout_ms: int = DEFAULT_INTEGRATION_TIMEOUT_MS  # the event's TimeoutInMillis

    @property
    def specificity(self) -> tuple[int, ...]:
        return tuple(segment.kind for segment in self.segments)

    def match(self, parts: list[str]) -> dict[str, str] | None:
        """Path parameters if the request path (split on "/") matches this route's resource path."""
        params: dict[str, str] = {}
        for index, segment in enumerate(self.segments):
            if segment.kind == 2:
                if index >= len(parts):
                    return None
                params[segment.name] = "/".join(parts[index:])
                return params
            if index >= len(parts):
                return None
            if segment.kind == 1:
                params[segment.name] = parts[index]
            elif segment.text != parts[index]:
                return None
        return params if len(parts) == len(self.segments) else None


@dataclass(frozen=True)
class TokenAuthorizer:
    name: str
    function_id: str
    header: str
    validation_expression: re.Pattern[str] | None
    ttl_seconds: int


@dataclass(frozen=True)
class GatewayResponse:
    status: int
    template: str | None
    headers: dict[str, str]


@dataclass
class ApiConfig:
    logical_id: str
    api_id: str
    authorizers: dict[str, TokenAuthorizer] = field(default_factory=dict)
    default_authorizer: str | None = None
    gateway_responses: dict[str, GatewayResponse] = field(default_factory=dict)
    cors: dict[str, str] | None = None
    # SAM's Auth.AddDefaultAuthorizerToCorsPreflight (default true): preflights go through the default authorizer.
    preflight_authorizer: str | None = None

    def gateway_response(self, response_type: str) -> tuple[int, str | None, GatewayResponse | None]:
        """(status, default message, configured response or None) for a gateway response type."""
        status, message = DEFAULT_GATEWAY_RESPONSES.get(response_type, (500, None))
        configured = self.gateway_responses.get(response_type) or self.gateway_responses.get(
            _DEFAULT_FAMILY.get(status // 100, "")
        )  # a DEFAULT_4XX/5XX response without StatusCode keeps the original status, as in API Gateway
        return (configured.status if configured and configured.status else status), message, configured


def split_path(path: str) -> list[str]:
    return [part for part in path.strip("/").split("/") if part]


def _segments(path: str) -> tuple[Segment, ...]:
    result = []
    for part in split_path(path):
        kind = 2 if part.startswith("{") and part.endswith("+}") else 1 if part.startswith("{") else 0
        result.append(Segment(part, kind))
    return tuple(result)


def load_api_configs(resolver: Resolver, runtime_ids: dict[str, str]) -> dict[str, ApiConfig]:
    """ApiConfig per AWS::Serverless::Api (plus the implicit API). `runtime_ids` maps function ARN -> logical id."""
    template = resolver.template
    configs: dict[str, ApiConfig] = {}
    api_ids = [lid for lid in template.ids_of_type(API_TYPE) if resolver.is_active(lid)]
    for logical_id in [*api_ids, IMPLICIT_API_ID]:
        if logical_id == IMPLICIT_API_ID:
            props = resolver.resolve((template.document.get("Globals") or {}).get("Api") or {}, "Globals.Api")
        else:
            props = resolver.resolve(template.api_properties(logical_id), logical_id)
        config = ApiConfig(logical_id, api_id(logical_id))
        auth = props.get("Auth") or {}
        for name, spec in (auth.get("Authorizers") or {}).items():
            config.authorizers[name] = _token_authorizer(logical_id, name, spec, runtime_ids)
        config.default_authorizer = auth.get("DefaultAuthorizer")
        if config.default_authorizer and config.default_authorizer not in config.authorizers:
            raise TemplateError(f"{logical_id}: DefaultAuthorizer {config.default_authorizer!r} is not defined")
        for response_type, spec in (props.get("GatewayResponses") or {}).items():
            config.gateway_responses[response_type] = _sam_gateway_response(spec)
        config.cors = _cors(props.get("Cors"))
        if config.cors is not None and auth.get("AddDefaultAuthorizerToCorsPreflight", True) not in (False, "false"):
            config.preflight_authorizer = config.default_authorizer
        configs[logical_id] = config
    for logical_id in template.ids_of_type(GATEWAY_RESPONSE_TYPE):
        raw_props = template.properties(logical_id)
        target = _referenced_api(raw_props.get("RestApiId"), logical_id)
        if target not in configs or not resolver.is_active(logical_id):
            continue
        props = resolver.resolve(raw_props, logical_id)
        configs[target].gateway_responses[props["ResponseType"]] = GatewayResponse(
            status=int(props.get("StatusCode") or 0),
            template=(props.get("ResponseTemplates") or {}).get("application/json"),
            headers={
                key.removeprefix("gatewayresponse.header."): str(value).strip("'")
                for key, value in (props.get("ResponseParameters") or {}).items()
                if key.startswith("gatewayresponse.header.")
            },
        )
    return configs


def _token_authorizer(api: str, name: str, spec: dict[str, Any], runtime_ids: dict[str, str]) -> TokenAuthorizer:
    where = f"{api}.Auth.Authorizers.{name}"
    if spec.get("FunctionPayloadType", "TOKEN") != "TOKEN":
        raise TemplateError(f"{where}: only TOKEN Lambda authorizers are supported locally")
    if "FunctionArn" not in spec:
        raise TemplateError(f"{where}: only Lambda authorizers (FunctionArn) are supported locally")
    function_id = runtime_ids.get(str(spec["FunctionArn"]))
    if function_id is None:
        raise TemplateError(f"{where}: FunctionArn {spec['FunctionArn']} is not a function of this template")
    identity = spec.get("Identity") or {}
    expression = identity.get("ValidationExpression")
    return TokenAuthorizer(
        name=name,
        function_id=function_id,
        header=str(identity.get("Header", "Authorization")),
        validation_expression=re.compile(expression) if expression else None,
        ttl_seconds=int(identity.get("ReauthorizeEvery", DEFAULT_REAUTHORIZE_SECONDS)),
    )


def _sam_gateway_response(spec: dict[str, Any]) -> GatewayResponse:
    templates = spec.get("ResponseTemplates") or {}
    headers = ((spec.get("ResponseParameters") or {}).get("Headers")) or {}
    return GatewayResponse(
        status=int(spec.get("StatusCode") or 0),
        template=templates.get("application/json"),
        headers={key: str(value).strip("'") for key, value in headers.items()},
    )


def _cors(spec: Any) -> dict[str, str] | None:
    if not spec:
        return None
    if isinstance(spec, str):
        spec = {"AllowOrigin": spec}
    headers = {
        "Access-Control-Allow-Origin": spec.get("AllowOrigin"),
        "Access-Control-Allow-Headers": spec.get("AllowHeaders"),
        "Access-Control-Allow-Methods": spec.get("AllowMethods"),
        "Access-Control-Max-Age": spec.get("MaxAge"),
        "Access-Control-Allow-Credentials": spec.get("AllowCredentials"),
    }
    return {
        key: str(value).strip("'").lower() if isinstance(value, bool) else str(value).strip("'")
        for key, value in headers.items()
        if value is not None
    }


def _referenced_api(rest_api_id: Any, where: str) -> str:
    if rest_api_id is None:
        return IMPLICIT_API_ID
    if isinstance(rest_api_id, dict) and isinstance(rest_api_id.get("Ref"), str):
        return rest_api_id["Ref"]
    raise TemplateError(f"{where}: RestApiId must be `!Ref <Api>`, got {json.dumps(rest_api_id)}")


def load_routes(specs: dict[str, FunctionSpec], apis: dict[str, ApiConfig]) -> list[Route]:
    """Every `Type: Api` event of every function, as a Route; fails on duplicates and unknown APIs."""
    routes: list[Route] = []
    seen: dict[tuple[str, str], str] = {}
    for function_id, spec in specs.items():
        for event_name, event in spec.events.items():
            if event.get("Type") != "Api":
                continue
            where = f"{function_id}.Events.{event_name}"
            props = event.get("Properties") or {}
            api_logical_id = _referenced_api(props.get("RestApiId"), where)
            api = apis.get(api_logical_id)
            if api is None:
                raise TemplateError(f"{where}: RestApiId {api_logical_id!r} is not an AWS::Serverless::Api")
            path, method = str(props.get("Path", "")), str(props.get("Method", "")).upper()
            if not path.startswith("/") or not method:
                raise TemplateError(f"{where}: Path (starting with /) and Method are required")
            key = ("/" + "/".join(split_path(path)), method)
            if key in seen:
                raise TemplateError(f"{where}: {method} {path} is already served by {seen[key]}")
            seen[key] = where
            authorizer = (props.get("Auth") or {}).get("Authorizer", api.default_authorizer)
            if authorizer in ("NONE", "AWS_IAM"):
                authorizer = None
            if authorizer is not None and authorizer not in api.authorizers:
                raise TemplateError(f"{where}: authorizer {authorizer!r} is not defined on {api_logical_id}")
            timeout_ms = int(props.get("TimeoutInMillis") or DEFAULT_INTEGRATION_TIMEOUT_MS)
            routes.append(
                Route(
                    api_logical_id,
                    path,
                    "ANY" if method == "ANY" else method,
                    function_id,
                    authorizer,
                    _segments(path),
                    timeout_ms,
                )
            )
    return routes
