"""Who may call a route: the caller from the authorizer's context and the ``require_role`` route middleware."""

from __future__ import annotations

import json
from collections.abc import Callable

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response

from avito_service.base import Model
from avito_service.errors import Forbidden
from avito_service.observability import logger
from avito_service.roles import ALL_ROLES, Role
from avito_service.users import scope


class Caller(Model):
    sub: str
    role: str
    accountIds: frozenset[str] | None = None  # None: every account (see users.scope)
    name: str | None = None

    @property
    def account_ids(self) -> frozenset[str] | None:
        return self.accountIds


def current_caller(app: APIGatewayRestResolver) -> Caller:
    """The caller as the authorizer described it in the request context (auth.context_of)."""
    context = app.current_event.request_context.authorizer.get_context() or {}
    sub = str(context.get("sub") or context.get("principalId") or "")
    role = str(context.get("role") or "")
    account_ids = None
    raw = context.get("accountIds")
    if role == Role.OPERATOR and raw:
        try:
            parsed = json.loads(raw) if isinstance(raw, str) else raw
        except ValueError:
            parsed = []  # unreadable: the operator sees nothing rather than everything
        account_ids = frozenset(str(i) for i in parsed) if isinstance(parsed, list) else frozenset()
    return Caller(sub=sub, role=role, accountIds=account_ids, name=str(context.get("name") or "") or None)


_PATH_LOG_KEYS = {"id": "account_id", "accountId": "account_id", "chatId": "chat_id"}


def _path_log_keys(app: APIGatewayRestResolver) -> dict[str, str]:
    """``account_id`` (and ``chat_id``) from the path, so every later log line of the request carries them."""
    params = app.current_event.path_parameters or {}
    return {key: str(params[name])[:200] for name, key in _PATH_LOG_KEYS.items() if params.get(name)}


def require_role(*roles: Role) -> Callable[..., Response]:
    """Route middleware: let only ``roles`` through (403 otherwise, also for roles the contract does not know).

    Every route has one, so it also appends the caller, role, account id and chat id to the log keys."""
    allowed = frozenset(roles)

    def middleware(app: APIGatewayRestResolver, next_middleware: Callable[..., Response]) -> Response:
        caller = _check_role(current_caller(app), allowed)
        logger.append_keys(caller=caller.sub, role=caller.role, **_path_log_keys(app))
        check_route_scope(app, caller)
        return next_middleware(app)

    middleware.allowed_roles = allowed  # type: ignore[attr-defined] - read by check_route_roles
    return middleware


def _check_role(caller: Caller, allowed: frozenset[Role]) -> Caller:
    if caller.role not in ALL_ROLES:
        raise Forbidden(f"The role '{caller.role[:40]}' is not one this service knows.")
    if caller.role not in allowed:
        raise Forbidden(f"The '{caller.role}' role may not do this; it needs: {', '.join(sorted(allowed))}.")
    return caller


def check_route_scope(app: APIGatewayRestResolver, caller: Caller | None = None) -> None:
    """Object-level authorization: an account the request names that the caller may not see is a 404
    (users.scope), checked for every route by its role middleware, before any handler code runs."""
    caller = caller or current_caller(app)
    route = app.context.get("_route")
    event = app.current_event
    scope.check_request(
        caller.account_ids, getattr(route, "path", ""), event.path_parameters, event.query_string_parameters
    )


def check_route_roles(app: APIGatewayRestResolver) -> None:
    """Raise Forbidden if the caller may not use the route being handled (its ``require_role`` middleware)."""
    route = app.context.get("_route")
    for middleware in getattr(route, "middlewares", None) or ():
        allowed = getattr(middleware, "allowed_roles", None)
        if allowed is not None:
            _check_role(current_caller(app), allowed)


admin_only = require_role(Role.ADMIN)
supervisors = require_role(Role.ADMIN, Role.DIRECTOR)
any_role = require_role(Role.ADMIN, Role.OPERATOR, Role.DIRECTOR)
