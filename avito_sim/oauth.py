# ruff: noqa: RUF001 - Russian text for the account owner: Cyrillic letters are meant
"""Avito's consent flow for partner apps (``authorization.json``, tag ApplicationAccess), as the simulator plays it.

- ``GET /oauth?response_type=code&client_id=&scope=&state=``: the consent page. The simulator's signed-in Avito
  user (:attr:`OAuthState.consenting_user`) consents at once: a 302 to the app's registered redirect URI (a
  ``redirect_uri`` other than the registered one is a 400 page) with
  ``code`` (single use, 10 minutes) and the ``state`` it was given. An unknown app, or no signed-in user, is a
  400 page; a user who refuses (:attr:`OAuthState.refuse`) is sent back with ``error=access_denied``.
- ``POST /token`` ``grant_type=authorization_code`` (``client_id``, ``client_secret``, ``code``) and
  ``grant_type=refresh_token`` (``client_id``, ``client_secret``, ``refresh_token``) answer ``access_token``,
  ``expires_in``, ``refresh_token``, ``scope``, ``token_type``. Each refresh rotates the refresh token: the old
  one is refused from then on (400 ``invalid_grant``), as is every token of a withdrawn consent.
- :meth:`OAuthState.withdraw` (the owner withdraws consent in Avito's settings): the app's refresh tokens for that
  user are refused and its access tokens answer 403.

State lives on the simulator and is changed under its lock (the handlers run under it).
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from .errors import ApiError

if TYPE_CHECKING:
    from .server import AvitoSimulator

CODE_SECONDS = 600
SCOPES = frozenset(
    {
        "messenger:read",
        "messenger:write",
        "user_balance:read",
        "job:write",
        "job:cv",
        "job:vacancy",
        "job:applications",
        "user_operations:read",
        "user:read",
        "autoload:reports",
        "items:info",
        "items:apply_vas",
        "short_term_rent:read",
        "short_term_rent:write",
        "stats:read",
    }
)


@dataclass
class App:
    client_id: str
    client_secret: str
    redirect_uri: str


@dataclass
class Grant:
    """What a code or a refresh token stands for."""

    client_id: str
    user_id: int
    scope: str
    expires_at: float = float("inf")


@dataclass
class OAuthState:
    apps: dict[str, App] = field(default_factory=dict)
    codes: dict[str, Grant] = field(default_factory=dict)
    refresh_tokens: dict[str, Grant] = field(default_factory=dict)
    consenting_user: int | None = None  # the Avito user signed in on the consent page
    refuse: bool = False  # the user presses "refuse" instead
    withdrawn: set[tuple[str, int]] = field(default_factory=set)  # (app client id, user id)
    refreshes: int = 0  # refresh_token grants answered 200
    refused_refreshes: int = 0


def consent_page(sim: AvitoSimulator, query: dict[str, str]) -> tuple[int, str, dict[str, str]]:
    """``GET /oauth``: (status, HTML body, headers)."""
    state: OAuthState = sim.oauth
    with sim._lock:
        app = state.apps.get(query.get("client_id", ""))
        if query.get("response_type") != "code" or app is None:
            return 400, _page("Приложение не найдено или ссылка неверна."), {}
        if query.get("redirect_uri", app.redirect_uri) != app.redirect_uri:  # only the registered one, as OAuth says
            return 400, _page("Адрес возврата не совпадает с зарегистрированным для приложения."), {}
        scope = query.get("scope", "")
        if any(s not in SCOPES for s in scope.split(",") if s):
            return 400, _page("Неизвестные права в ссылке."), {}
        user_id = state.consenting_user
        if user_id is None or user_id not in sim._accounts:
            return 400, _page("Войдите в Авито, чтобы выдать доступ."), {}
        params: dict[str, Any] = {}
        if state.refuse:
            params["error"] = "access_denied"
        else:
            code = secrets.token_urlsafe(18)
            state.codes[code] = Grant(app.client_id, user_id, scope, time.time() + CODE_SECONDS)
            state.withdrawn.discard((app.client_id, user_id))  # consenting again gives access again
            params["code"] = code
        if "state" in query:
            params["state"] = query["state"]
    return 302, _page("Доступ выдан, возвращаем вас в приложение."), {"Location": _with_query(app.redirect_uri, params)}


def token_grant(sim: AvitoSimulator, form: dict[str, Any]) -> dict[str, Any]:
    """``POST /token`` for ``authorization_code`` and ``refresh_token`` (called under the simulator's lock)."""
    state: OAuthState = sim.oauth
    app = state.apps.get(str(form.get("client_id") or ""))
    if app is None or not secrets.compare_digest(app.client_secret, str(form.get("client_secret") or "")):
        raise ApiError(400, body={"error": "invalid_client", "error_description": "invalid client_id or client_secret"})
    if form.get("grant_type") == "authorization_code":
        grant = state.codes.pop(str(form.get("code") or ""), None)  # single use
        if grant is None or grant.client_id != app.client_id or grant.expires_at <= time.time():
            raise ApiError(400, body={"error": "invalid_grant", "error_description": "invalid or used code"})
    else:
        grant = state.refresh_tokens.get(str(form.get("refresh_token") or ""))
        if grant is None or grant.client_id != app.client_id or (app.client_id, grant.user_id) in state.withdrawn:
            state.refused_refreshes += 1
            raise ApiError(400, body={"error": "invalid_grant", "error_description": "invalid refresh token"})
        del state.refresh_tokens[str(form["refresh_token"])]  # rotation: the old one is refused from now on
        state.refreshes += 1
    token = sim._issue(grant.user_id, app=app.client_id)
    refresh = secrets.token_urlsafe(30)
    state.refresh_tokens[refresh] = Grant(app.client_id, grant.user_id, grant.scope)
    return {
        "access_token": token.value,
        "expires_in": sim.token_ttl,
        "refresh_token": refresh,
        "scope": grant.scope,
        "token_type": "Bearer",
    }


def withdraw(sim: AvitoSimulator, user_id: int, client_id: str) -> None:
    with sim._lock:
        sim.oauth.withdrawn.add((client_id, user_id))
        for token in sim._tokens.values():
            if token.user_id == user_id and token.app == client_id:
                token.revoked = True


def _with_query(url: str, params: dict[str, Any]) -> str:
    parts = urlsplit(url)
    query = "&".join(filter(None, [parts.query, urlencode(params)]))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def _page(text: str) -> str:
    return f'<!doctype html><html lang="ru"><meta charset="utf-8"><title>Авито</title><p>{text}</p></html>'
