"""One exception family for everything that can go wrong talking to Avito (or to the account's proxy)."""

from __future__ import annotations

from typing import Any

from avito_service.errors import UpstreamError, UpstreamTimeout


class AvitoError(UpstreamError):
    """Avito answered with an error: HTTP status, Avito's own code and message (502 to our callers)."""

    code = "avito_error"

    def __init__(
        self,
        message: str,
        *,
        http_status: int | None = None,
        avito_code: Any = None,
        avito_message: str | None = None,
        endpoint: str = "",
        code: str | None = None,
    ) -> None:
        super().__init__(message, code=code)
        self.http_status = http_status
        self.avito_code = avito_code
        self.avito_message = avito_message
        self.endpoint = endpoint


class AvitoAuthError(AvitoError):
    """Avito refused the account's credentials or token."""

    code = "avito_auth_error"


class MessengerNotAvailable(AvitoError):
    """402/403 from a Messenger endpoint: the tariff or key has no Messenger access."""

    code = "messenger_not_available"


class OutcomeUnknown(AvitoError):
    """A call that is not safe to repeat (a send) was written to Avito, and then its answer was lost: a 5xx, a
    reset connection, a timeout or an unreadable answer. Avito may have acted on it, so it is never repeated
    automatically (502 ``send_outcome_unknown`` for sends)."""

    code = "send_outcome_unknown"
    outcome_unknown = True


class ProxyFailure(UpstreamError):
    """The account's proxy could not be reached, refused the login or timed out (502, ``proxy_error``)."""

    code = "proxy_error"


class AvitoTimeout(UpstreamTimeout):
    code = "avito_timeout"


def parse_error_body(body: Any) -> tuple[Any, str | None]:
    """Avito's error shapes -> (code, message).

    ``{"error": {"code", "message"}}`` (messenger, user, stats, CPA in a 200), ``{"code", "message"}`` (items),
    ``{"error": "invalid_client", "error_description": ...}`` (OAuth), or anything else.
    """
    if not isinstance(body, dict):
        return None, None
    error = body.get("error")
    if isinstance(error, dict):
        return error.get("code"), _text(error.get("message"))
    if isinstance(error, str):
        return error, _text(body.get("error_description")) or error
    if "code" in body or "message" in body:
        return body.get("code"), _text(body.get("message"))
    return None, None


def _text(value: Any) -> str | None:
    return None if value is None else str(value)[:300]
