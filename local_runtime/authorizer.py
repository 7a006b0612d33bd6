"""TOKEN Lambda authorizer evaluation as API Gateway does it (cache, policy evaluation, context)."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from local_runtime.apigw_config import TokenAuthorizer
from local_runtime.workers import InvocationResult


@dataclass(frozen=True)
class AuthDecision:
    """Either `context` (allowed: the requestContext.authorizer dict) or a gateway response type + message."""

    context: dict[str, Any] | None = None
    response_type: str | None = None
    message: str | None = None


Invoke = Callable[[str, Any], InvocationResult]


class AuthorizerEvaluator:
    def __init__(self, invoke: Invoke) -> None:
        self._invoke = invoke
        self._cache: dict[tuple[str, str], tuple[float, dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def authorize(self, authorizer: TokenAuthorizer, token: str | None, method_arn: str) -> AuthDecision:
        if not token:
            return AuthDecision(response_type="UNAUTHORIZED", message="Unauthorized")
        if authorizer.validation_expression and not authorizer.validation_expression.fullmatch(token):
            return AuthDecision(response_type="UNAUTHORIZED", message="Unauthorized")
        response = self._cached(authorizer, token)
        if response is None:
            event = {"type": "TOKEN", "authorizationToken": token, "methodArn": method_arn}
            result = self._invoke(authorizer.function_id, event)
            if not result.ok:
                if result.payload.get("errorMessage") == "Unauthorized":
                    return AuthDecision(response_type="UNAUTHORIZED", message="Unauthorized")
                return AuthDecision(response_type="AUTHORIZER_FAILURE")
            response = result.payload
            if not _well_formed(response):
                return AuthDecision(response_type="AUTHORIZER_CONFIGURATION_ERROR")
            self._store(authorizer, token, response)
        effect = policy_effect(response["policyDocument"], method_arn)
        if effect != "Allow":
            message = "User is not authorized to access this resource"
            if effect == "Deny":
                message += " with an explicit deny"
            return AuthDecision(response_type="ACCESS_DENIED", message=message)
        context = {key: _stringify(value) for key, value in (response.get("context") or {}).items()}
        return AuthDecision(context={**context, "principalId": str(response["principalId"])})

    def _cached(self, authorizer: TokenAuthorizer, token: str) -> dict[str, Any] | None:
        with self._lock:
            entry = self._cache.get((authorizer.name, token))
            if entry and entry[0] > time.monotonic():
                return entry[1]
            return None

    def _store(self, authorizer: TokenAuthorizer, token: str, response: dict[str, Any]) -> None:
        if authorizer.ttl_seconds > 0:
            with self._lock:
                self._cache[(authorizer.name, token)] = (time.monotonic() + authorizer.ttl_seconds, response)


def _well_formed(response: Any) -> bool:
    return (
        isinstance(response, dict)
        and response.get("principalId") is not None
        and isinstance(response.get("policyDocument"), dict)
        and isinstance(response.get("context") or {}, dict)
    )


def _stringify(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _wildcard_match(pattern: str, value: str) -> bool:
    regex = "".join(".*" if char == "*" else "." if char == "?" else re.escape(char) for char in pattern)
    return re.fullmatch(regex, value) is not None


def policy_effect(policy: dict[str, Any], method_arn: str) -> str | None:
    """ "Deny" if any statement denies the call, else "Allow" if one allows it, else None (implicit deny)."""
    effects = set()
    for statement in _as_list(policy.get("Statement") or []):
        if not isinstance(statement, dict):
            continue
        actions = _as_list(statement.get("Action", []))
        if not any(_wildcard_match(str(action), "execute-api:Invoke") for action in actions):
            continue
        if any(_wildcard_match(str(resource), method_arn) for resource in _as_list(statement.get("Resource", []))):
            effects.add(str(statement.get("Effect")))
    if "Deny" in effects:
        return "Deny"
    return "Allow" if "Allow" in effects else None
