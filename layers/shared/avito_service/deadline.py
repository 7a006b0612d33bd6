"""One time budget per unit of work: every Avito call, retry, back-off and wait of a request draws from it.

A synchronous request gets ``REQUEST_BUDGET`` seconds (``AVITO_REQUEST_BUDGET``, default 20 s, well under API
Gateway's 29 s cut-off and the function timeout); when the Lambda context says less time is left, the budget
shrinks to fit. Background work (workers, jobs) opens its own budget with :func:`budget`. Code that talks to
Avito asks :func:`current` for the active one; with none active it gets a fresh background budget, so nothing
ever waits without bound.

Running out raises :class:`DeadlineExceeded`: the contract's 504. Time is read through :data:`monotonic`, which
tests replace with a clock they control.
"""

from __future__ import annotations

import contextlib
import contextvars
import time
from collections.abc import Callable, Iterator
from typing import Any

from avito_service.errors import UpstreamTimeout

# Time source of every budget; a test sets its own clock here (never sleep to make time pass).
monotonic: Callable[[], float] = time.monotonic

LAMBDA_MARGIN = 2.0  # seconds kept back from the Lambda context's remaining time, for writing the answer


class DeadlineExceeded(UpstreamTimeout):
    """The request's time budget ran out before Avito answered (504)."""

    code = "avito_timeout"


class Deadline:
    """A budget of ``seconds`` from now on the module's clock."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expires_at = monotonic() + seconds

    def remaining(self) -> float:
        return max(0.0, self.expires_at - monotonic())

    def check(self, what: str, *, reserve: float = 0.0, needs: float = 0.0) -> float:
        """The seconds left beyond ``reserve``; DeadlineExceeded when fewer than ``needs`` (or none) are left."""
        left = self.remaining() - reserve
        if left <= 0 or left < needs:
            raise DeadlineExceeded(
                f"Avito did not answer in time: this request's {self.seconds:g} s budget ran out before {what}."
            )
        return left

    def cap(self, timeout: float, *, reserve: float = 0.0) -> float:
        """``timeout`` shortened to what is left of the budget (beyond ``reserve``)."""
        return max(0.001, min(timeout, self.remaining() - reserve))


_current: contextvars.ContextVar[Deadline | None] = contextvars.ContextVar("avito_deadline", default=None)
# Wall-clock time (epoch seconds) at which the running Lambda invocation is cut off, when a handler said so.
_lambda_ends_at: contextvars.ContextVar[float | None] = contextvars.ContextVar("lambda_ends_at", default=None)


def current(default_seconds: float | None = None) -> Deadline:
    """The active budget; with none active, a new background budget of ``default_seconds`` (opened here)."""
    active = _current.get()
    if active is not None:
        return active
    from avito_service.config import get_settings  # noqa: PLC0415 - settings are read on first use only

    return Deadline(default_seconds if default_seconds is not None else get_settings().avito_background_budget)


@contextlib.contextmanager
def budget(seconds: float) -> Iterator[Deadline]:
    """Run the block under a budget of ``seconds`` (a budget already active and shorter wins)."""
    outer = _current.get()
    deadline = Deadline(seconds)
    if outer is not None and outer.expires_at < deadline.expires_at:
        deadline = outer
    token = _current.set(deadline)
    try:
        yield deadline
    finally:
        _current.reset(token)


@contextlib.contextmanager
def request(context: Any, configured: float) -> Iterator[Deadline]:
    """A synchronous request: its budget (:func:`request_seconds`), and the Lambda's own end remembered for
    :func:`lambda_remaining` (what a lease that must outlive the invocation is sized by)."""
    remaining = _remaining_seconds(context)
    token = _lambda_ends_at.set(time.time() + remaining if remaining is not None else None)
    try:
        with budget(request_seconds(context, configured)) as active:
            yield active
    finally:
        _lambda_ends_at.reset(token)


def lambda_remaining() -> float | None:
    """Seconds until the running Lambda invocation is cut off (wall clock), or None outside a request."""
    ends_at = _lambda_ends_at.get()
    return None if ends_at is None else max(0.0, ends_at - time.time())


def _remaining_seconds(context: Any) -> float | None:
    remaining_ms = getattr(context, "get_remaining_time_in_millis", None)
    if not callable(remaining_ms):
        return None
    try:
        return float(remaining_ms()) / 1000
    except (TypeError, ValueError):
        return None


def request_seconds(context: Any, configured: float) -> float:
    """The budget of a synchronous request: ``configured``, or less when the Lambda has less time left."""
    remaining_ms = getattr(context, "get_remaining_time_in_millis", None)
    if callable(remaining_ms):
        try:
            left = float(remaining_ms()) / 1000 - LAMBDA_MARGIN
        except (TypeError, ValueError):
            return configured
        if left > 0:
            return min(configured, left)
    return configured
