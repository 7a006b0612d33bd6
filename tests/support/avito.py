"""Pointing the shared package at a test's Avito simulator, the same way in every test file."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pytest

from avito_sim import AvitoSimulator
from tests.support.caches import reset_caches


def use_simulator(
    sim: AvitoSimulator,
    monkeypatch: pytest.MonkeyPatch,
    *,
    env: Mapping[str, str] | None = None,
    resets: bool = False,
    emptied: Iterable[int] = (),
) -> AvitoSimulator:
    """Avito is ``sim`` from now on: the package's caches are reset (so the new ``AVITO_API_URL`` is read), the
    tokens held in memory are forgotten, and the simulator forgets earlier tests' requests and injected faults.

    ``env``: more environment variables, set before the caches are reset. ``resets``: the simulator's switches
    that a test of a module-scoped simulator may have flipped go back to their defaults (no throttle, 429s with
    Retry-After, ``rate_limited`` counted from 0, no deliveries dropped nor recorded as dropped, subscriptions
    not replacing each other). ``emptied``: these simulator accounts (Avito user ids) lose their chats and
    webhook subscriptions."""
    from avito_service.avito import tokens as avito_tokens

    for name, value in (env or {}).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AVITO_API_URL", sim.base_url)
    reset_caches()
    avito_tokens.forget_in_memory()
    sim.clear_requests()
    sim.clear_faults()
    if resets:
        sim.throttle(0, 60.0)
        sim.throttle_retry_after = True
        sim.rate_limited = 0
        sim.drop_deliveries = 0
        sim.dropped_deliveries.clear()
        sim.one_subscription_per_account = False
    for user_id in emptied:
        sim.account(user_id).subscriptions.clear()
        sim.account(user_id).chats.clear()
    return sim
