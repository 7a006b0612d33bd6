"""The HTTP layer every REST handler shares (the domain packages never import it).

- :mod:`.app`: ``rest_app()`` (the resolver: validation, CORS, the error mapping) and ``rest_handler(app)`` (the
  Lambda entry point: log context, metrics, the request's time budget);
- :mod:`.responses`: the contract's envelopes (``ok``, ``Envelope``, ``Page``), its error shape and ``doc(...)``,
  a route's OpenAPI responses;
- :mod:`.parameters`: path and query parameters (``AccountId``, ``ChatId``, ``Limit``, ``Cursor``...);
- :mod:`.errors`: domain errors, validation errors and the unexpected -> the contract's error shape;
- :mod:`.once`: ``answer_once``, the ``Idempotency-Key`` wiring of an operation that must not happen twice;
- :mod:`.roles`: the caller and the ``require_role`` middleware (``admin_only``, ``supervisors``, ``any_role``) and
  the per-operator account scope (``check_route_scope``).

A handler module::

    app = rest_app()

    @app.get("/api/v1/...", responses=doc(Envelope[Model], 404), middlewares=[any_role])
    def route(...): return ok(service.call(...))

    lambda_handler = rest_handler(app)

Every name is importable from ``avito_service.api`` itself.
"""

from avito_service.api.app import no_store, rest_app, rest_handler
from avito_service.api.errors import install_error_handlers, validation_error_response
from avito_service.api.once import answer_once
from avito_service.api.parameters import (
    AVITO_ID_PATTERN,
    AccountId,
    ChatAccountId,
    ChatId,
    Cursor,
    Limit,
    MessageId,
    PathAccountId,
    StoredChatId,
    UserId,
    idempotency_key_header,
)
from avito_service.api.responses import (
    Envelope,
    ErrorDetail,
    ErrorEnvelope,
    FieldErrorOut,
    Page,
    doc,
    error_response,
    ok,
)
from avito_service.api.roles import (
    Caller,
    admin_only,
    any_role,
    check_route_roles,
    check_route_scope,
    current_caller,
    require_role,
    supervisors,
)
from avito_service.base import ApiModel

__all__ = [
    "AVITO_ID_PATTERN",
    "AccountId",
    "ApiModel",
    "Caller",
    "ChatAccountId",
    "ChatId",
    "Cursor",
    "Envelope",
    "ErrorDetail",
    "ErrorEnvelope",
    "FieldErrorOut",
    "Limit",
    "MessageId",
    "Page",
    "PathAccountId",
    "StoredChatId",
    "UserId",
    "admin_only",
    "answer_once",
    "any_role",
    "check_route_roles",
    "check_route_scope",
    "current_caller",
    "doc",
    "error_response",
    "idempotency_key_header",
    "install_error_handlers",
    "no_store",
    "ok",
    "require_role",
    "rest_app",
    "rest_handler",
    "supervisors",
    "validation_error_response",
]
