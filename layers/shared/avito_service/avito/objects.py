"""Avito's listed objects read one by one: one odd object is skipped (a warning and ``AvitoObjectSkipped``), never
the failure of the whole list, whose rest is stored and answered (reviews, calls)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from avito_service.observability import logger, metrics

UNREADABLE = (KeyError, TypeError, ValueError, OverflowError)  # what a parser of Avito's JSON raises on odd data


def parse_each[T](account_id: str, kind: str, raws: Iterable[Any], parse: Callable[[str, Any], T]) -> list[T]:
    """``parse(account_id, raw)`` of each of ``raws``; one it cannot read is left out and counted."""
    found = []
    for raw in raws:
        try:
            found.append(parse(account_id, raw))
        except UNREADABLE:
            logger.warning(f"Skipped an Avito {kind} we cannot read", extra={"account_id": account_id})
            metrics.add_metric(name="AvitoObjectSkipped", unit=MetricUnit.Count, value=1)
    return found
