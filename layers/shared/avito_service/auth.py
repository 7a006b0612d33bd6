"""Token verification, shared by the REST API's TOKEN authorizer and the WebSocket API's ``$connect``.

Two kinds of token are accepted (contract, "People and sign-in"):

- **Cognito access tokens** of the service's user pool: RS256, checked against the pool's published keys
  (fetched once per container and cached, see :class:`_PoolKeys`), the pool's issuer, the app client
  (``client_id``) and ``token_use: access``. The role is the user's Cognito group. The user's record in
  UsersTable then decides: a disabled user, or a token issued before the user's ``tokensValidAfter`` (set on
  logout, disable and role change), is refused; an operator is limited to their assigned accounts.
- **HS256 tokens** of the first round, signed with the service's JWT secret (the call centre's own auth
  service): ``sub``, ``exp`` and ``role`` required, and now refused when ``exp`` is more than 24 h after
  ``iat`` (or after now, without ``iat``). An ``accountIds`` claim (a list) limits an operator.

Any other algorithm (``none`` included), a bad signature, a foreign pool or app client is a 401.
:func:`authenticate` is the one check both entry points make; what they do with an unknown role differs
only in where the 403 is given (REST: by the handler, in the contract's error shape; WebSocket: at the
handshake).
"""

from __future__ import annotations

import functools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jwt
from aws_lambda_powertools.utilities import parameters

from avito_service import snapstart
from avito_service.config import get_settings
from avito_service.roles import ALL_ROLES, Role
from avito_service.users.state import UserState

ALGORITHM = "HS256"
COGNITO_ALGORITHM = "RS256"
SECRET_CACHE_SECONDS = 300
REQUIRED_CLAIMS = ("sub", "exp", "role")
MAX_HS256_LIFETIME = 24 * 3600  # contract: an HS256 token living longer than a day is refused
MAX_ACCOUNT_IDS = 100  # as many as an operator can be assigned (DynamoDB IN takes 100 values)
# The user's record (enabled, tokensValidAfter, accountIds) is re-read at most this often per container. With
# the authorizer's cache (ReauthorizeEvery: 30 in template.yaml) a logout or a disable takes effect within
# USER_CACHE_SECONDS + 30 s <= 60 s, the contract's bound.
USER_CACHE_SECONDS = 25.0
# Cognito groups, strongest first: a user in several groups gets the strongest role.
_GROUP_ORDER = (Role.ADMIN, Role.DIRECTOR, Role.OPERATOR)
# A restored SnapStart copy reads the signing key afresh (a rotation may have happened while it was cached).
snapstart.after_restore(parameters.clear_caches)


class InvalidToken(Exception):
    """The token is missing, malformed, expired, badly signed, revoked or lacks a required claim."""


@dataclass(frozen=True)
class Identity:
    sub: str
    role: str
    exp: int
    account_ids: frozenset[str] | None = None  # None: not limited (admin, director, or an unlimited operator)
    name: str | None = None
    kind: str = "hs256"  # or "cognito"

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


def _account_ids(value: Any) -> frozenset[str] | None:
    if value is None:
        return None
    if not isinstance(value, list) or len(value) > MAX_ACCOUNT_IDS or not all(isinstance(v, str) for v in value):
        raise InvalidToken("accountIds must be a list of account ids")
    return frozenset(value)


def verify(token: str, key: str, *, now: float | None = None) -> Identity:
    """An HS256 token of the first round, with the 24 h lifetime cap."""
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            options={"require": list(REQUIRED_CLAIMS), "verify_exp": True},
        )
    except jwt.PyJWTError as exc:
        raise InvalidToken(type(exc).__name__) from None
    sub, role = claims.get("sub"), claims.get("role")
    if not isinstance(sub, str) or not sub or not isinstance(role, str) or not role:
        raise InvalidToken("sub and role must be non-empty strings")
    exp, iat = claims["exp"], claims.get("iat")
    if not isinstance(exp, int | float) or (iat is not None and not isinstance(iat, int | float)):
        raise InvalidToken("exp and iat must be numbers")
    start = iat if iat is not None else (time.time() if now is None else now)
    if exp - start > MAX_HS256_LIFETIME:
        raise InvalidToken("the token lives longer than 24 hours")
    limited = _account_ids(claims.get("accountIds")) if role == Role.OPERATOR else None
    return Identity(sub=sub, role=role, exp=int(exp), account_ids=limited)


# --- Cognito ---------------------------------------------------------------------------------------------


class _PoolKeys(jwt.PyJWKClient):
    """PyJWKClient (its key cache and its one refresh on an unknown key id), fetching with ``requests``, the
    HTTP library the layer already carries (moto answers it in the in-process tests, and locally the URL is
    moto's). Keys are kept for a day: Cognito rotates them rarely and an unknown ``kid`` refetches at once."""

    def fetch_data(self) -> Any:
        import requests  # noqa: PLC0415 - only containers that see a Cognito token pay for the import

        answer = requests.get(self.uri, timeout=self.timeout)
        answer.raise_for_status()
        return answer.json()


@functools.cache
def pool_keys(jwks_url: str) -> _PoolKeys:
    return _PoolKeys(jwks_url, lifespan=24 * 3600, timeout=5, cooldown_duration=60)


def pool_issuer(pool_id: str) -> str:
    """The pool's ``iss``: ``https://cognito-idp.<region>.amazonaws.com/<pool id>`` (the id starts with the region)."""
    region = pool_id.split("_", 1)[0]
    return f"https://cognito-idp.{region}.amazonaws.com/{pool_id}"


def _role_of(groups: Any) -> str:
    names = set(groups) if isinstance(groups, list) else set()
    return next((str(role) for role in _GROUP_ORDER if role in names), "")


UserLookup = Callable[[str], "UserState | None"]


class _UserCache:
    """The user's state per container, re-read after USER_CACHE_SECONDS (see the module docstring)."""

    def __init__(self) -> None:
        self._entries: dict[str, tuple[float, UserState | None]] = {}
        self._lock = threading.Lock()

    def get(self, sub: str, lookup: UserLookup, *, fresh: bool = False) -> UserState | None:
        """The cached state, or a read of it (always a read when ``fresh``; the cache keeps what it read)."""
        now = time.monotonic()
        with self._lock:
            entry = self._entries.get(sub)
        if entry and entry[0] > now and not fresh:
            return entry[1]
        state = lookup(sub)
        with self._lock:
            self._entries[sub] = (now + USER_CACHE_SECONDS, state)
        return state

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


user_cache = _UserCache()


def _default_lookup(sub: str) -> UserState | None:
    from avito_service.users import store  # noqa: PLC0415 - users.store imports this module; only for Cognito

    return store.auth_state(sub)


def verify_cognito(token: str, *, lookup: UserLookup | None = None, fresh: bool = False) -> Identity:
    """A Cognito access token of the pool; ``fresh`` reads the user's record now rather than from the cache (the
    WebSocket handshake: a socket a revocation closed must not reconnect on a state cached before it)."""
    settings = get_settings()
    pool_id, client_id = settings.user_pool_id, settings.user_pool_client_id
    if not pool_id or not client_id:
        raise InvalidToken("no user pool is configured")
    issuer = pool_issuer(pool_id)
    jwks_url = settings.cognito_jwks_url or f"{issuer}/.well-known/jwks.json"
    try:
        key = pool_keys(jwks_url).get_signing_key_from_jwt(token)
        claims = jwt.decode(
            token,
            key.key,
            algorithms=[COGNITO_ALGORITHM],
            issuer=issuer,
            options={"require": ["sub", "exp", "iat", "token_use", "client_id"], "verify_aud": False},
        )
    except jwt.PyJWKClientConnectionError as exc:
        raise InvalidToken("the pool's keys could not be fetched") from exc
    except jwt.PyJWTError as exc:
        raise InvalidToken(type(exc).__name__) from None
    if claims.get("token_use") != "access":
        raise InvalidToken("not an access token")
    if claims.get("client_id") != client_id:
        raise InvalidToken("issued to another app client")
    sub = claims["sub"]
    if not isinstance(sub, str) or not sub:
        raise InvalidToken("sub must be a non-empty string")
    role = _role_of(claims.get("cognito:groups"))
    state = user_cache.get(sub, lookup or _default_lookup, fresh=fresh)
    if state is not None:
        if not state.enabled:
            raise InvalidToken("the user is disabled")
        if int(claims["iat"]) < state.tokens_valid_after:
            raise InvalidToken("the token was revoked (logout, disable or role change)")
    limited = None
    if role == Role.OPERATOR:
        limited = state.account_ids if state is not None else frozenset()
    return Identity(
        sub=sub,
        role=role,
        exp=int(claims["exp"]),
        account_ids=limited,
        name=state.name if state is not None else None,
        kind="cognito",
    )


def authenticate(token: str | None, *, lookup: UserLookup | None = None, fresh: bool = False) -> Identity:
    """The caller behind ``token`` (the bare JWT): a Cognito access token of the pool, or an HS256 token.

    Raises InvalidToken for a missing, malformed, expired, revoked or badly signed token."""
    if not token or not token.strip():
        raise InvalidToken("no token")
    token = token.strip()
    try:
        algorithm = jwt.get_unverified_header(token).get("alg")
    except jwt.PyJWTError as exc:
        raise InvalidToken(type(exc).__name__) from None
    if algorithm == COGNITO_ALGORITHM:
        return verify_cognito(token, lookup=lookup, fresh=fresh)
    if algorithm == ALGORITHM:
        return verify(token, signing_key())
    raise InvalidToken("unsupported algorithm")


def context_of(identity: Identity) -> dict[str, str]:
    """The authorizer context handed to the handlers (strings only, as API Gateway requires)."""
    limited = "" if identity.account_ids is None else json.dumps(sorted(identity.account_ids))
    return {"sub": identity.sub, "role": identity.role, "accountIds": limited, "name": identity.name or ""}


def mint(
    key: str,
    *,
    sub: str,
    role: str,
    ttl_seconds: int = 12 * 3600,
    now: float | None = None,
    account_ids: list[str] | None = None,
) -> str:
    """Sign a token (used by ``make token``, the demo and tests; the service itself never mints tokens)."""
    issued = int(now if now is not None else time.time())
    claims: dict[str, Any] = {"sub": sub, "role": role, "iat": issued, "exp": issued + ttl_seconds}
    if account_ids is not None:
        claims["accountIds"] = account_ids
    return jwt.encode(claims, key, algorithm=ALGORITHM)
