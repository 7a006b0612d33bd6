"""Pointing the shared package at a test's Avito simulator, the same way in every test file."""

from __future__ import annotations

import pytest

from avito_sim import AvitoSimulator
from tests.support.caches import reset_caches


def use_simulator(sim: AvitoSimulator, monkeypatch: pytest.MonkeyPatch) -> AvitoSimulator:
    """Avito is ``sim`` from now on: the package's caches are reset (so the new ``AVITO_API_URL`` is read), the
    tokens held in memory are forgotten, and the simulator forgets earlier tests' requests and injected faults."""
    from avito_service.avito import tokens as avito_tokens

    monkeypatch.setenv("AVITO_API_URL", sim.base_url)
    reset_caches()
    avito_tokens.forget_in_memory()
    sim.clear_requests()
    sim.clear_faults()
    return sim
