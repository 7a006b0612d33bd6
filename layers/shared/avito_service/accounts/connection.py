"""Check an account's connection step by step: the proxy, the token, the account (``GET self``)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import requests

from avito_service import clock
from avito_service.accounts import service as accounts
from avito_service.accounts.models import ConnectionStatus, ProxyStatus
from avito_service.avito.client import AvitoApi, Call
from avito_service.avito.errors import AvitoAuthError, ProxyFailure
from avito_service.base import Model
from avito_service.errors import ServiceError
from avito_service.observability import logger


class Step(Model):
    ok: bool
    latencyMs: int | None = None
    error: str | None = None


class Steps(Model):
    proxy: Step | None
    token: Step
    account: Step


class CheckResult(Model):
    ok: bool
    connectionStatus: ConnectionStatus
    proxyStatus: ProxyStatus
    userId: str | None
    steps: Steps


def _timed(action: Callable[[], Any]) -> tuple[Step, Any, Exception | None]:
    started = time.monotonic()
    try:
        value = action()
    except (ServiceError, requests.exceptions.RequestException) as exc:
        return Step(ok=False, latencyMs=_ms(started), error=_message(exc)), None, exc
    return Step(ok=True, latencyMs=_ms(started)), value, None


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _message(exc: Exception) -> str:
    return exc.message if isinstance(exc, ServiceError) else f"{type(exc).__name__}"


def check_connection(account_id: str) -> CheckResult:
    context = accounts.load_context(account_id)
    client = AvitoApi(context)
    skipped = Step(ok=False, error="Not run: an earlier step failed.")
    proxy_step: Step | None = None
    proxy_status = ProxyStatus.NOT_CONFIGURED
    user_id = context.account.userId

    if context.proxy is not None:
        proxy_step, _, error = _timed(client.probe)
        if error is not None:
            if isinstance(error, requests.exceptions.RequestException):
                proxy_step.error = client.transport_error(error, Call("proxy.probe")).message
            steps = Steps(proxy=proxy_step, token=skipped, account=skipped)
            statuses = (ConnectionStatus.PROXY_ERROR, ProxyStatus.FAILED)
            return _failed(account_id, statuses, user_id, steps, proxy_step.error)
        proxy_status = ProxyStatus.OK

    token_step, _, error = _timed(client.access_token)
    if error is not None:
        steps = Steps(proxy=proxy_step, token=token_step, account=skipped)
        return _failed(account_id, _classify(error, proxy_status), user_id, steps, token_step.error)

    account_step, me, error = _timed(client.account_self)
    if error is not None:
        steps = Steps(proxy=proxy_step, token=token_step, account=account_step)
        return _failed(account_id, _classify(error, proxy_status), user_id, steps, account_step.error)

    avito_id = str((me or {}).get("id") or "")
    status, problem, new_user_id = ConnectionStatus.CONNECTED, None, None
    if not avito_id:
        status, problem = ConnectionStatus.API_ERROR, "Avito's account answer had no id."
    elif user_id and user_id != avito_id:
        status = ConnectionStatus.API_ERROR
        problem = (
            f"The account's userId {user_id} differs from the id Avito reports for these credentials ({avito_id})."
        )
    elif not user_id:
        new_user_id = user_id = avito_id
    if problem:
        account_step = Step(ok=False, latencyMs=account_step.latencyMs, error=problem)
    result = CheckResult(
        ok=status == ConnectionStatus.CONNECTED,
        connectionStatus=status,
        proxyStatus=proxy_status,
        userId=user_id,
        steps=Steps(proxy=proxy_step, token=token_step, account=account_step),
    )
    return _store(account_id, result, problem, new_user_id=new_user_id)


def _failed(
    account_id: str,
    statuses: tuple[ConnectionStatus, ProxyStatus],
    user_id: str | None,
    steps: Steps,
    error: str | None,
) -> CheckResult:
    """The result of a check whose last step run failed with ``error`` (the later ones skipped); stored."""
    connection_status, proxy_status = statuses
    result = CheckResult(
        ok=False, connectionStatus=connection_status, proxyStatus=proxy_status, userId=user_id, steps=steps
    )
    return _store(account_id, result, error)


def _classify(error: Exception, proxy_status: ProxyStatus) -> tuple[ConnectionStatus, ProxyStatus]:
    if isinstance(error, ProxyFailure):
        return ConnectionStatus.PROXY_ERROR, ProxyStatus.FAILED
    if isinstance(error, AvitoAuthError):
        return ConnectionStatus.AUTH_ERROR, proxy_status
    return ConnectionStatus.API_ERROR, proxy_status


def _store(account_id: str, result: CheckResult, error: str | None, *, new_user_id: str | None = None) -> CheckResult:
    values: dict[str, Any] = {
        "connectionStatus": result.connectionStatus.value,
        "proxyStatus": result.proxyStatus.value,
        "lastCheckedAt": clock.iso(),
    }
    remove: set[str] = set()
    if error:
        values["lastError"] = error
    else:
        remove.add("lastError")
    if new_user_id:
        values["userId"] = new_user_id
    accounts.record_fields(account_id, values, remove)
    logger.info("Connection checked", extra={"account_id": account_id, "status": result.connectionStatus.value})
    return result
