"""A client of Avito's API for one account, built on ``requests`` (PySocks for SOCKS proxies).

Every request of the account, the token request included, goes through the account's proxy; the
session ignores proxy environment variables so nothing can route around it.

Time: every attempt, back-off, rate-limit wait and token-lease wait draws from one budget
(``avito_service.deadline``): the request's, or the client's own for background work. A timeout is never
longer than what is left; a wait that does not fit is not started (504 ``avito_timeout`` at once). A call
with a ``reserve`` (a send, which must be stored after Avito took it) is not started unless the reserve is
left over, and its timeout leaves the reserve free.

Retries: 429 honours ``Retry-After`` (else exponential backoff with jitter); 5xx, a reset connection and
a broken body are retried only for idempotent calls; nothing is retried after a timeout (the caller
gets a 504 instead of a long wait) and a message send is never resent. A 401/403 gets one token refresh
and one retry, at most once per token: a token fetched moments ago is not refreshed again. A Messenger 403
on a fresh token is ``messenger_not_available`` and is remembered for the account (``TokenStore.deny_messenger``)
so keep-alives do not fetch a token each.

Paths: every endpoint method builds its path with :func:`avito_path`, which percent-encodes each segment
and refuses ``.``/``..`` and empty segments, so no id can change which Avito resource is addressed.
"""

from __future__ import annotations

import hashlib
import random
import ssl
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import requests
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from botocore.exceptions import ClientError
from requests.adapters import HTTPAdapter

from avito_service import clock
from avito_service.accounts.models import AccountContext, AuthType
from avito_service.avito import limits
from avito_service.avito.errors import (
    AvitoAuthError,
    AvitoError,
    AvitoTimeout,
    MessengerNotAvailable,
    OutcomeUnknown,
    ProxyFailure,
    parse_error_body,
)
from avito_service.avito.proxy import describe, proxy_url
from avito_service.avito.tokens import Token, TokenStore
from avito_service.config import Settings, get_settings
from avito_service.deadline import Deadline, DeadlineExceeded
from avito_service.deadline import current as current_deadline
from avito_service.errors import NotFound, ServiceError, ValidationFailed
from avito_service.oauth import refresh as oauth_refresh
from avito_service.observability import METRICS_NAMESPACE, logger

MAX_RETRY_AFTER = 10.0  # a longer Retry-After is not waited for inside an API request
SEND_RESERVE = 2.0  # seconds of the budget kept free after a send, for storing the sent message


@dataclass(frozen=True)
class Call:
    """What the client needs to know about one Avito call."""

    name: str  # for logs and metrics, e.g. "messenger.chats"
    idempotent: bool = True
    messenger: bool = False
    auth: bool = True
    reserve: float = 0.0  # seconds of the budget that must be left after this call (to store its result)
    raw: bool = False  # a successful answer is not JSON (a call recording): the response itself is returned


def avito_path(template: str, *segments: Any) -> str:
    """``avito_path("/messenger/v1/accounts/{}/chats/{}/read", user_id, chat_id)``: each ``{}`` is one
    percent-encoded path segment; an empty, ``.`` or ``..`` segment is refused (422) before Avito is called."""
    encoded = []
    for segment in segments:
        text = str(segment)
        if text in {"", ".", ".."}:
            raise ValidationFailed(f"'{text}' is not a valid Avito id.", code="validation_error")
        encoded.append(quote(text, safe=""))
    return template.format(*encoded)


class ProxyTlsAdapter(HTTPAdapter):
    """Trusts an extra CA bundle for the TLS connection *to* an HTTPS proxy (e.g. a private proxy CA)."""

    def __init__(self, ca_bundle: str) -> None:
        self._context = ssl.create_default_context(cafile=ca_bundle)
        super().__init__()

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        if proxy.lower().startswith("https://"):
            proxy_kwargs.setdefault("proxy_ssl_context", self._context)
        return super().proxy_manager_for(proxy, **proxy_kwargs)


class AvitoClient:
    """Avito's API on behalf of one account."""

    def __init__(
        self,
        context: AccountContext,
        *,
        settings: Settings | None = None,
        tokens: TokenStore | None = None,
        session: requests.Session | None = None,
    ) -> None:
        self.context = context
        self.settings = settings or get_settings()
        self.base_url = self.settings.avito_api_url.rstrip("/")
        self.timeout = (self.settings.avito_connect_timeout, self.settings.avito_read_timeout)
        self._tokens = tokens or TokenStore(self.settings.tokens_table, on_fetched=self._token_fetched)
        self._own_deadline: Deadline | None = None
        self.session = session or requests.Session()
        self.session.trust_env = False  # no HTTP(S)_PROXY / NO_PROXY from the environment
        if context.proxy is not None:
            url = proxy_url(context.proxy)
            self.session.proxies = {"http": url, "https": url}
            if self.settings.avito_proxy_ca_bundle:
                adapter = ProxyTlsAdapter(self.settings.avito_proxy_ca_bundle)
                self.session.mount("http://", adapter)
                self.session.mount("https://", adapter)
        self.session.headers["User-Agent"] = f"avito-service/{self.settings.service_version}"
        # The longest a call may wait for the account's shared Avito budget (limits.py); jobs set their own.
        self.limit_wait = MAX_RETRY_AFTER
        # The longest Avito took to answer one call of this client (the wire only, no waits): a resumable sync
        # starts no step that its own time budget would cut shorter than that (jobs/sync.py).
        self.slowest_answer = 0.0

    @property
    def account_id(self) -> str:
        return self.context.account.id

    @property
    def uses_proxy(self) -> bool:
        return self.context.proxy is not None

    @property
    def deadline(self) -> Deadline:
        """The request's budget; without one (background work) the client's own, opened on first use."""
        from avito_service.deadline import _current  # noqa: PLC0415 - the module's active budget

        active = _current.get()
        if active is not None:
            return active
        if self._own_deadline is None:
            self._own_deadline = current_deadline(self.settings.avito_background_budget)
        return self._own_deadline

    # --- tokens ---------------------------------------------------------------------------------------

    @property
    def oauth(self) -> bool:
        return self.context.account.authType == AuthType.OAUTH

    def _fingerprint(self) -> str:
        """Which credentials a stored token belongs to: the client id and secret, or an oauth account's consent
        (its refresh token's secret: a new consent of the same owner is a new secret, issue 28)."""
        if self.oauth:
            material = f"oauth\0{self.account_id}\0{self.context.refreshSecretArn}"
        else:
            secret = self.context.clientSecret.get_secret_value() if self.context.clientSecret else ""
            material = f"{self.context.account.clientId}\0{secret}"
        return hashlib.sha256(material.encode()).hexdigest()[:32]

    def token_grant(self, form: dict[str, str], name: str) -> dict[str, Any]:
        """``POST /token`` for a partner app's grant (``authorization_code``, ``refresh_token``), through the
        proxy. Never repeated once written: a refresh token works once. Answers access and refresh token."""
        body = self._send("POST", "/token", Call(name, idempotent=False, auth=False), data=form)
        body = body if isinstance(body, dict) else {}
        for field in ("access_token", "refresh_token"):
            if not isinstance(body.get(field), str) or not body[field]:
                raise AvitoError(f"Avito's token answer had no {field}.", endpoint=name, code="avito_bad_response")
        return body

    def fetch_token(self) -> tuple[str, int]:
        """``POST /token`` (client credentials, or an oauth account's refresh), through the proxy. Used by the
        token store only (under the account's fetch lease)."""
        if self.oauth:
            return oauth_refresh.refresh(self)
        body = self._send(
            "POST",
            "/token",
            Call("token", idempotent=True, auth=False),
            data={
                "grant_type": "client_credentials",
                "client_id": self.context.account.clientId,
                "client_secret": self.context.clientSecret.get_secret_value() if self.context.clientSecret else "",
            },
        )
        body = body if isinstance(body, dict) else {}
        token, expires_in = body.get("access_token"), body.get("expires_in")
        if not isinstance(token, str) or not token:
            raise AvitoError("Avito's token answer had no access_token.", endpoint="token")
        return token, expires_in  # the token store bounds odd lifetimes (see tokens.lifetime)

    # --- account health (contract, "Accounts stay connected"): written only when it changes ------------------

    def _token_fetched(self, token: Token) -> None:
        self._record_health({"tokenExpiresAt": clock.iso(token.expires_at)})

    def _messenger_answered(self, available: bool) -> None:
        if self.context.account.messengerAvailable is not available:
            self._record_health({"messengerAvailable": available})
            self.context.account.messengerAvailable = available

    def _record_health(self, values: dict[str, Any]) -> None:
        """Best effort: a health field that cannot be written (the account is gone, or not created yet while a
        consent completes) never fails the Avito call it describes."""
        from avito_service.accounts.service import record_fields  # noqa: PLC0415 - only when a field changes

        try:
            record_fields(self.account_id, values, bump_version=False)
        except NotFound:
            pass
        except ClientError as exc:
            logger.warning(
                "Could not record the account's health", extra={"account_id": self.account_id, "reason": str(exc)[:200]}
            )

    def access_token(self, reject: str | None = None) -> str:
        return self._token(reject).value

    def _token(self, reject: str | None = None) -> Token:
        return self._tokens.get_token(
            self.account_id, self._fingerprint(), self.fetch_token, deadline=self.deadline, reject=reject
        )

    # --- requests -------------------------------------------------------------------------------------

    def request(self, method: str, path: str, call: Call, **kwargs: Any) -> Any:
        """An authenticated call; on 401/403 one token refresh and retry, at most once per token. A Messenger
        call's outcome tells the account's ``messengerAvailable``."""
        try:
            answer = self._request(method, path, call, **kwargs)
        except MessengerNotAvailable:
            if call.messenger:
                self._messenger_answered(False)
            raise
        if call.messenger:
            self._messenger_answered(True)
        return answer

    def _request(self, method: str, path: str, call: Call, **kwargs: Any) -> Any:
        started = time.time()
        token = self._token()
        try:
            return self._send(method, path, call, token=token.value, **kwargs)
        except AvitoAuthError as first:
            if first.http_status not in (401, 403):
                raise
            if not self._should_refresh(token, first, call, started):
                if call.messenger and first.http_status == 403:
                    raise self._messenger_denied(token, first) from None
                raise
            logger.info(
                "Avito rejected the token; refreshing once",
                extra={"account_id": self.account_id, "endpoint": call.name},
            )
            fresh = self._token(reject=token.value)
            try:
                return self._send(method, path, call, token=fresh.value, **kwargs)
            except AvitoAuthError as second:
                if call.messenger and second.http_status == 403:
                    raise self._messenger_denied(fresh, second) from None
                raise

    def _should_refresh(self, token: Token, error: AvitoAuthError, call: Call, started: float) -> bool:
        """Refresh a rejected token unless it is fresh (fetched for this very call, or moments ago to replace a
        rejected one: refreshing cannot help) or Messenger is known to be denied for the account."""
        now = time.time()
        if token.fresh(now) or token.fetched_at >= started:
            return False
        if call.messenger and error.http_status == 403:
            if token.messenger_denied(now):
                return False
            stored = self._tokens.stored(self.account_id, self._fingerprint())  # another container may know
            if stored is not None and stored.messenger_denied(now):
                return False
        return True

    def _messenger_denied(self, token: Token, error: AvitoError) -> MessengerNotAvailable:
        if not token.messenger_denied(time.time()):
            self._tokens.deny_messenger(self.account_id, token)
        return _messenger_unavailable(error)

    def _send(self, method: str, path: str, call: Call, *, token: str | None = None, **kwargs: Any) -> Any:
        url = self.base_url + path
        headers = dict(kwargs.pop("headers", {}) or {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        deadline = self.deadline
        attempt = 0
        while True:
            # Not started unless the reserve is left afterwards (a send must still be stored).
            deadline.check(f"calling {call.name}", reserve=call.reserve)
            timeout = (
                deadline.cap(self.timeout[0], reserve=call.reserve),
                deadline.cap(self.timeout[1], reserve=call.reserve),
            )
            started = time.monotonic()
            try:
                response = self._within_limits(call, method, url, headers=headers, timeout=timeout, **kwargs)
            except requests.exceptions.RequestException as exc:
                error = self.transport_error(exc, call, timeout)
                if self._retryable_transport(exc, call) and attempt < self.settings.avito_max_retries:
                    attempt += 1
                    self._sleep(self._backoff(attempt), call, "connection")
                    continue
                self._metric(call, getattr(error, "code", "error"))
                raise error from None
            latency_ms = int((time.monotonic() - started) * 1000)
            if response.status_code == 429 and attempt < self.settings.avito_max_retries:
                attempt += 1
                self._sleep(self._retry_after(response, attempt), call, "429")
                continue
            if response.status_code >= 500 and call.idempotent and attempt < self.settings.avito_max_retries:
                attempt += 1
                self._sleep(self._backoff(attempt), call, str(response.status_code))
                continue
            try:
                body = self._body(response, call)
            except AvitoError as error:
                self._metric(call, error.code, latency_ms)
                logger.info(
                    "Avito call failed",
                    extra={
                        "endpoint": call.name,
                        "status": response.status_code,
                        "latency_ms": latency_ms,
                        "account_id": self.account_id,
                    },
                )
                raise
            self._metric(call, "ok", latency_ms)
            return body

    def _within_limits(self, call: Call, method: str, url: str, **kwargs: Any) -> requests.Response:
        """The request-path hook of Avito's per-account limits, shared by every container (limits.py): wait for
        the account's budget (at most ``limit_wait``, else BudgetExhausted, a 429), send, log when the answer
        came, and remember a 429's Retry-After so other containers wait too."""
        budget = limits.shared_limits()
        # the wait draws from the request's deadline too: never wait past what is left of it for the call itself
        max_wait = min(self.limit_wait, max(0.0, self.deadline.remaining() - call.reserve - 1.0))
        slot = budget.acquire(self.account_id, call.name, max_wait=max_wait)
        try:
            sent = time.monotonic()
            # never follow a redirect: a 3xx must not carry the token (or a send) anywhere but Avito's API
            response = self.session.request(method, url, allow_redirects=False, **kwargs)
            self.slowest_answer = max(self.slowest_answer, time.monotonic() - sent)
        finally:
            budget.answered(self.account_id, call.name, slot)  # the slot is held until a window after this
        if response.status_code == 429:
            header = response.headers.get("Retry-After", "").strip()
            if header.isdigit():
                budget.retry_after(self.account_id, call.name, float(header))
        return response

    def _body(self, response: requests.Response, call: Call) -> Any:
        status = response.status_code
        if status == 407 and self.uses_proxy:
            raise ProxyFailure(f"The proxy {describe(self.context.proxy)} failed: it rejected the login (HTTP 407).")
        if 300 <= status < 400:  # not followed (see _within_limits): a redirect is never an answer
            raise AvitoError(
                f"Avito answered {call.name} with a redirect (HTTP {status}); redirects are not followed.",
                http_status=status,
                endpoint=call.name,
                code="avito_bad_response",
            )
        if status >= 500 and not call.idempotent:
            raise outcome_unknown(call, f"Avito answered HTTP {status}", http_status=status)
        if call.raw and status < 400:
            return response  # the caller reads (or closes) it
        try:
            body = response.json() if response.content else None
        except ValueError:
            if status < 400 and not call.idempotent:
                raise outcome_unknown(call, "Avito's answer was not valid JSON", http_status=status) from None
            if status < 400:
                raise AvitoError(
                    f"Avito sent an answer to {call.name} that is not valid JSON.",
                    http_status=status,
                    endpoint=call.name,
                    code="avito_bad_response",
                ) from None
            body = None
        avito_code, avito_message = parse_error_body(body)
        if status < 400 and not _error_in_answer(body):
            return body
        detail = f": {avito_message}" if avito_message else ""
        kwargs = {
            "http_status": status,
            "avito_code": avito_code,
            "avito_message": avito_message,
            "endpoint": call.name,
        }
        if call.messenger and status == 402:
            raise _messenger_unavailable(AvitoError("", **kwargs))
        if status in (401, 403) or (not call.auth and status == 400):
            what = "credentials" if not call.auth else "token"
            raise AvitoAuthError(f"Avito refused the account's {what} (HTTP {status}){detail}", **kwargs)
        if status == 429:
            raise AvitoError(
                f"Avito is rate limiting this account (HTTP 429){detail}", code="avito_rate_limited", **kwargs
            )
        if status < 400:
            raise AvitoError(f"Avito reported an error for {call.name}{detail}", **kwargs)
        raise AvitoError(f"Avito answered {call.name} with HTTP {status}{detail}", **kwargs)

    def transport_error(
        self, exc: requests.exceptions.RequestException, call: Call, timeout: tuple[float, float] | None = None
    ) -> ServiceError:
        """A requests exception -> ProxyFailure, AvitoTimeout or AvitoError, with no credentials in the text."""
        proxy = describe(self.context.proxy)
        reason = self._scrub(_reason(exc))
        connect_timeout, read_timeout = timeout or self.timeout
        if not call.idempotent and (
            isinstance(exc, requests.exceptions.ReadTimeout | requests.exceptions.ChunkedEncodingError)
            or _is_reset(exc)
        ):  # the request was written: Avito may have acted on it, so it is never repeated blindly
            what = (
                f"Avito did not answer within {read_timeout:.3g} s"
                if isinstance(exc, requests.exceptions.ReadTimeout)
                else f"the connection failed ({reason})"
            )
            return outcome_unknown(call, what)
        if isinstance(exc, requests.exceptions.ReadTimeout):
            return AvitoTimeout(f"Avito did not answer {call.name} within {read_timeout:.3g} s.")
        if self.uses_proxy and isinstance(exc, requests.exceptions.ConnectTimeout):
            return ProxyFailure(f"The proxy {proxy} did not answer within {connect_timeout:.3g} s.")
        if (
            self.uses_proxy
            and isinstance(exc, requests.exceptions.ProxyError | requests.exceptions.ConnectionError)
            and not _is_reset(exc)
        ):
            return ProxyFailure(f"The proxy {proxy} failed: {reason}")
        if isinstance(exc, requests.exceptions.ConnectTimeout):
            return AvitoTimeout(f"Could not connect to Avito within {connect_timeout:.3g} s.")
        return AvitoError(f"Could not talk to Avito ({call.name}): {reason}", code="avito_unreachable")

    def _scrub(self, text: str) -> str:
        proxy = self.context.proxy
        if proxy is not None and proxy.password is not None:
            secret = proxy.password.get_secret_value()
            text = text.replace(secret, "***").replace(quote(secret, safe=""), "***")
        return text

    def _retryable_transport(self, exc: requests.exceptions.RequestException, call: Call) -> bool:
        if not call.idempotent or isinstance(exc, requests.exceptions.Timeout):
            return False
        return _is_reset(exc) or isinstance(exc, requests.exceptions.ChunkedEncodingError)

    def _backoff(self, attempt: int) -> float:
        return min(self.settings.avito_max_backoff, 0.25 * 2 ** (attempt - 1)) * (0.5 + random.random() / 2)  # noqa: S311

    def _retry_after(self, response: requests.Response, attempt: int) -> float:
        header = response.headers.get("Retry-After", "")
        if header.strip().isdigit():
            return min(float(header), MAX_RETRY_AFTER)
        return self._backoff(attempt)

    def _sleep(self, seconds: float, call: Call, reason: str) -> None:
        """Wait before a retry, if the wait and the reserve fit in the budget (else 504 now, not later)."""
        if self.deadline.remaining() - call.reserve <= seconds:
            raise DeadlineExceeded(
                f"Avito did not answer in time: {call.name} needed a retry in {seconds:.3g} s, more than is left "
                f"of this request's {self.deadline.seconds:g} s budget."
            )
        logger.info(
            "Retrying Avito call",
            extra={
                "endpoint": call.name,
                "reason": reason,
                "delay_s": round(seconds, 2),
                "account_id": self.account_id,
            },
        )
        time.sleep(seconds)

    @staticmethod
    def _metric(call: Call, outcome: str, latency_ms: int | None = None) -> None:
        """``AvitoCall`` by endpoint and outcome; ``AvitoCallLatency`` by endpoint for calls Avito answered."""
        with single_metric(name="AvitoCall", unit=MetricUnit.Count, value=1, namespace=METRICS_NAMESPACE) as m:
            m.add_dimension(name="endpoint", value=call.name)
            m.add_dimension(name="outcome", value=outcome)
        if latency_ms is not None:
            with single_metric(
                name="AvitoCallLatency", unit=MetricUnit.Milliseconds, value=latency_ms, namespace=METRICS_NAMESPACE
            ) as m:
                m.add_dimension(name="endpoint", value=call.name)


def outcome_unknown(call: Call, what: str, *, http_status: int | None = None) -> OutcomeUnknown:
    """The error of a call that may have taken effect at Avito (see ``OutcomeUnknown``)."""
    sends = "send" in call.name
    return OutcomeUnknown(
        f"Avito may or may not have {'sent the message' if sends else f'done {call.name}'}: {what} after the "
        "request reached it. Look at the chat before trying again; it is not repeated automatically.",
        http_status=http_status,
        endpoint=call.name,
        code="send_outcome_unknown" if sends else "avito_outcome_unknown",
    )


def _messenger_unavailable(error: AvitoError) -> MessengerNotAvailable:
    return MessengerNotAvailable(
        f"This Avito account has no Messenger API access (Avito answered HTTP {error.http_status}); "
        "Messenger needs a higher Avito business tariff and the company's main-account key.",
        http_status=error.http_status,
        avito_code=error.avito_code,
        avito_message=error.avito_message,
        endpoint=error.endpoint,
    )


def _is_reset(exc: BaseException) -> bool:
    text = repr(exc)
    return "ConnectionResetError" in text or "RemoteDisconnected" in text or "Connection aborted" in text


_REASONS = (
    ("407", "it rejected the login (HTTP 407)"),
    ("authentication failed", "it rejected the login"),
    ("authentication methods were rejected", "it rejected the login"),
    ("Connection closed unexpectedly", "it closed the connection (a rejected login looks like this)"),
    ("Tunnel connection failed", "it could not open a tunnel to Avito"),
    ("Connection refused", "connection refused"),
    ("timed out", "timed out"),
    ("Name or service not known", "host name not found"),
    ("nodename nor servname", "host name not found"),
    ("CERTIFICATE_VERIFY_FAILED", "its TLS certificate is not trusted"),
    ("Connection reset", "connection reset"),
    ("RemoteDisconnected", "the connection was closed without an answer"),
)


def _reason(exc: BaseException) -> str:
    """A short human reason without hosts' credentials (exception texts can carry proxy URLs)."""
    text = str(exc)
    for marker, reason in _REASONS:
        if marker.lower() in text.lower():
            return reason
    return type(exc).__name__


def _error_in_answer(body: Any) -> bool:
    """An answer that reports an error inside an HTTP 2xx: ``{"error": {...}}`` (CPA, call tracking), except call
    tracking's ``{"error": {"code": 0}}``, which its documents define as "no error" on every successful answer."""
    error = body.get("error") if isinstance(body, dict) else None
    return isinstance(error, dict) and error.get("code") != 0


def _require_ok(body: Any, endpoint: str, failure: str) -> dict[str, Any]:
    """Avito's ``{"ok": true}`` answers: ``{"ok": false}`` (or no object at all) is the failure it reports."""
    if isinstance(body, dict) and body.get("ok") is not False:
        return body
    raise AvitoError(f"{failure} (it answered ok: false).", http_status=200, endpoint=endpoint, code="avito_error")


# --- Avito endpoints ---------------------------------------------------------------------------------------


class AvitoApi(AvitoClient):
    """The Avito endpoints this service uses (see ../shared/avito-api.md for the shapes).

    Every path is built with :func:`avito_path`; answers Avito's documents allow but that mean failure
    (``{"ok": false}``) are raised as :class:`AvitoError` (502)."""

    def account_self(self) -> dict[str, Any]:
        return self.request("GET", "/core/v1/accounts/self", Call("core.self"))

    def balance(self, user_id: str) -> dict[str, Any]:
        return self.request("GET", avito_path("/core/v1/accounts/{}/balance/", user_id), Call("core.balance"))

    def cpa_balance(self) -> dict[str, Any]:
        return self.request(
            "POST", "/cpa/v3/balanceInfo", Call("cpa.balance"), json={}, headers={"X-Source": self.settings.x_source}
        )

    def items_page(self, page: int, status: str = "active", per_page: int = 100) -> list[dict[str, Any]]:
        """One 1-based page of the account's items (Avito allows 25 such calls a minute per account)."""
        body = self.request(
            "GET",
            "/core/v1/items",
            Call("core.items"),
            params={"per_page": per_page, "page": page, "status": status},
        )
        return list((body or {}).get("resources") or [])

    def items(self, status: str = "active", per_page: int = 100) -> list[dict[str, Any]]:
        """Every item with ``status``: pages until a page that is not full (Avito gives no total)."""
        found: list[dict[str, Any]] = []
        page = 1
        while True:
            resources = self.items_page(page, status, per_page)
            found.extend(resources)
            if len(resources) < per_page:
                return found
            page += 1

    def item_stats(self, user_id: str, item_ids: list[int], date_from: str, date_to: str) -> list[dict[str, Any]]:
        """Per-item daily stats (uniqViews, uniqContacts, uniqFavorites), in batches of 200 item ids."""
        result: list[dict[str, Any]] = []
        for start in range(0, len(item_ids), 200):
            body = self.request(
                "POST",
                avito_path("/stats/v1/accounts/{}/items", user_id),
                Call("stats.items"),
                json={
                    "dateFrom": date_from,
                    "dateTo": date_to,
                    "itemIds": item_ids[start : start + 200],
                    "fields": ["uniqViews", "uniqContacts", "uniqFavorites"],
                    "periodGrouping": "day",
                },
            )
            result.extend(((body or {}).get("result") or {}).get("items") or [])
        return result

    # --- messenger ---------------------------------------------------------------------------------------

    def chats(
        self,
        user_id: str,
        *,
        limit: int = 100,
        offset: int = 0,
        unread_only: bool = False,
        chat_types: str = "u2i,u2u",
    ) -> list[dict]:
        """``chat_types``: Avito's comma list (``u2i``, ``u2u``, ``a2u``); Avito alone would give only u2i."""
        params: dict[str, Any] = {"limit": limit, "offset": offset, "chat_types": chat_types}
        if unread_only:
            params["unread_only"] = "true"
        body = self.request(
            "GET",
            avito_path("/messenger/v2/accounts/{}/chats", user_id),
            Call("messenger.chats", messenger=True),
            params=params,
        )
        return list((body or {}).get("chats") or [])

    def chat(self, user_id: str, chat_id: str) -> dict[str, Any]:
        return self.request(
            "GET",
            avito_path("/messenger/v2/accounts/{}/chats/{}", user_id, chat_id),
            Call("messenger.chat", messenger=True),
        )

    def messages(self, user_id: str, chat_id: str, *, limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
        body = self.request(
            "GET",
            avito_path("/messenger/v3/accounts/{}/chats/{}/messages/", user_id, chat_id),
            Call("messenger.messages", messenger=True),
            params={"limit": limit, "offset": offset},
        )
        if isinstance(body, dict):
            body = body.get("messages")
        return list(body or [])

    def send_text(self, user_id: str, chat_id: str, text: str) -> dict[str, Any]:
        """Never retried once the request may have reached Avito (a retry could send the message twice), and
        not started unless ``SEND_RESERVE`` seconds of the budget are left to store what Avito answers."""
        return self.request(
            "POST",
            avito_path("/messenger/v1/accounts/{}/chats/{}/messages", user_id, chat_id),
            Call("messenger.send", idempotent=False, messenger=True, reserve=SEND_RESERVE),
            json={"type": "text", "message": {"text": text}},
        )

    def mark_read(self, user_id: str, chat_id: str) -> dict[str, Any]:
        body = self.request(
            "POST",
            avito_path("/messenger/v1/accounts/{}/chats/{}/read", user_id, chat_id),
            Call("messenger.read", messenger=True),
        )
        return _require_ok(body, "messenger.read", "Avito did not mark the chat read")

    # --- richer messenger (issue 15): images, voice files, deleting, blacklist -------------------------------

    def upload_image(self, user_id: str, data: bytes, *, filename: str, content_type: str) -> dict[str, Any]:
        """``uploadImages``: one image in the multipart field ``uploadfile[]``; answers ``{image_id: {size: url}}``.

        Retried like an idempotent call: a repeated upload only leaves an unused image at Avito, never a message."""
        return self.request(
            "POST",
            avito_path("/messenger/v1/accounts/{}/uploadImages", user_id),
            Call("messenger.upload_image", messenger=True),
            files={"uploadfile[]": (filename, data, content_type)},
        )

    def send_image(self, user_id: str, chat_id: str, image_id: str) -> dict[str, Any]:
        """Never retried once the request may have reached Avito (a retry could send the image twice); not started
        unless ``SEND_RESERVE`` seconds of the budget are left to store the sent message."""
        return self.request(
            "POST",
            avito_path("/messenger/v1/accounts/{}/chats/{}/messages/image", user_id, chat_id),
            Call("messenger.send_image", idempotent=False, messenger=True, reserve=SEND_RESERVE),
            json={"image_id": image_id},
        )

    def voice_files(self, user_id: str, voice_ids: list[str]) -> dict[str, str]:
        """``getVoiceFiles``: ``{voice_id: url}``, each link valid for an hour (``voice_ids`` repeated in the query)."""
        body = self.request(
            "GET",
            avito_path("/messenger/v1/accounts/{}/getVoiceFiles", user_id),
            Call("messenger.voice_files", messenger=True),
            params={"voice_ids": voice_ids},
        )
        urls = (body or {}).get("voices_urls") if isinstance(body, dict) else None
        return {str(k): str(v) for k, v in (urls or {}).items() if isinstance(v, str)}

    def delete_message(self, user_id: str, chat_id: str, message_id: str) -> dict[str, Any]:
        """``deleteMessage`` (a POST): the message becomes type ``deleted``; allowed within an hour of sending.
        Not retried once it may have reached Avito (a second delete would be refused); keeps a reserve for storing."""
        return self.request(
            "POST",
            avito_path("/messenger/v1/accounts/{}/chats/{}/messages/{}", user_id, chat_id, message_id),
            Call("messenger.delete_message", idempotent=False, messenger=True, reserve=SEND_RESERVE),
        )

    def blacklist(self, user_id: str, blocked_user_id: int, *, item_id: int | None, reason_id: int) -> None:
        """``postBlacklistV2``: block one user for the account (``reason_id`` 1 spam, 2 fraud, 3 insults, 4 other)."""
        context: dict[str, int] = {"reason_id": reason_id}
        if item_id is not None:
            context["item_id"] = item_id
        self.request(
            "POST",
            avito_path("/messenger/v2/accounts/{}/blacklist", user_id),
            Call("messenger.blacklist", messenger=True),
            json={"users": [{"user_id": blocked_user_id, "context": context}]},
        )

    def subscribe_webhook(self, url: str) -> dict[str, Any]:
        body = self.request(
            "POST", "/messenger/v3/webhook", Call("messenger.subscribe", messenger=True), json={"url": url}
        )
        return _require_ok(body, "messenger.subscribe", "Avito did not accept the webhook URL")

    def unsubscribe_webhook(self, url: str) -> dict[str, Any]:
        body = self.request(
            "POST",
            "/messenger/v1/webhook/unsubscribe",
            Call("messenger.unsubscribe", messenger=True),
            json={"url": url},
        )
        return _require_ok(body, "messenger.unsubscribe", "Avito did not remove the webhook URL")

    def subscriptions(self) -> list[dict[str, Any]]:
        body = self.request("POST", "/messenger/v1/subscriptions", Call("messenger.subscriptions", messenger=True))
        return list((body or {}).get("subscriptions") or [])

    def probe(self) -> int:
        """Reach Avito's host through the proxy, unauthenticated; any HTTP answer means the path works."""
        response = self.session.get(self.base_url + "/", timeout=self.timeout, allow_redirects=False)
        if response.status_code == 407:
            raise ProxyFailure(f"The proxy {describe(self.context.proxy)} failed: it rejected the login (HTTP 407).")
        return response.status_code
