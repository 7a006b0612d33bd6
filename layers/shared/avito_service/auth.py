"""JWT verification, shared by the REST API's TOKEN authorizer and the WebSocket API's ``$connect``.

HS256 only; ``sub``, ``exp`` and ``role`` are required. The signing key lives in Secrets Manager and is
read through Powertools parameters with a cache, so a warm function does not call Secrets Manager.
:func:`authenticate` is the one check both entry points make; what they do with an unknown role differs
only in where the 403 is given (REST: by the handler, in the contract's error shape; WebSocket: at the
handshake).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import jwt
from aws_lambda_powertools.utilities import parameters

from avito_service import snapstart
from avito_service.config import get_settings
from avito_service.roles import ALL_ROLES

ALGORITHM = "HS256"
SECRET_CACHE_SECONDS = 300
REQUIRED_CLAIMS = ("sub", "exp", "role")
MAX_TOKEN_LIFETIME = 24 * 3600  # seconds from iat to exp at most (contract, third round)
# A restored SnapStart copy reads the signing key afresh (a rotation may have happened while it was cached).
snapstart.after_restore(parameters.clear_caches)


class InvalidToken(Exception):
    """The token is missing, malformed, expired, badly signed or lacks a required claim."""


@dataclass(frozen=True)
class Identity:
    sub: str
    role: str
    exp: int

    @property
    def known_role(self) -> bool:
        """True for the contract's three roles; anything else is a 403 (never a 401: the token itself is good)."""
        return self.role in ALL_ROLES


def signing_key() -> str:
    return parameters.get_secret(get_settings().jwt_secret_arn, max_age=SECRET_CACHE_SECONDS)


def bearer_token(header_value: str | None) -> str:
    scheme, _, token = (header_value or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidToken("expected 'Bearer <token>'")
    return token.strip()


def verify(token: str, key: str) -> Identity:
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            options={"require": list(REQUIRED_CLAIMS), "verify_exp": True},
        )
    except jwt.PyJWTError as exc:
        raise InvalidToken(type(exc).__name__) from None
    _check_lifetime(claims)
    sub, role = claims.get("sub"), claims.get("role")
    if not isinstance(sub, str) or not sub or not isinstance(role, str) or not role:
        raise InvalidToken("sub and role must be non-empty strings")
    return Identity(sub=sub, role=role, exp=int(claims["exp"]))


def _check_lifetime(claims: dict) -> None:
    """An HS256 token may live at most ``MAX_TOKEN_LIFETIME`` after its ``iat`` (after now without one): a leaked
    long-lived token is refused however far its ``exp`` lies."""
    issued = claims.get("iat")
    start = float(issued) if isinstance(issued, int | float) and not isinstance(issued, bool) else time.time()
    if float(claims["exp"]) - start > MAX_TOKEN_LIFETIME:
        raise InvalidToken("exp is more than 24 h after iat")


def authenticate(token: str | None) -> Identity:
    """The caller behind ``token`` (the bare JWT), checked against the service's signing key.

    Raises InvalidToken for a missing, malformed, expired or badly signed token."""
    if not token or not token.strip():
        raise InvalidToken("no token")
    return verify(token.strip(), signing_key())


def mint(key: str, *, sub: str, role: str, ttl_seconds: int = 12 * 3600, now: float | None = None) -> str:
    """Sign a token (used by ``make token``, the demo and tests; the service itself never mints tokens)."""
    issued = int(now if now is not None else time.time())
    return jwt.encode({"sub": sub, "role": role, "iat": issued, "exp": issued + ttl_seconds}, key, algorithm=ALGORITHM)
