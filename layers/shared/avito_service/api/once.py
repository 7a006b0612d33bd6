"""The ``Idempotency-Key`` wiring every handler of an operation that must not happen twice shares.

``answer_once(app, operation, header, fingerprint=, post=, store=)`` validates the header (422 naming it), keys the
record by the caller's ``sub`` and runs ``avito_service.idempotency.once``: ``post`` (the call to Avito, never
repeated) at most once per key, ``store`` (storing Avito's answer, idempotent) as often as a retry needs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver

from avito_service.api.roles import current_caller


def answer_once(
    app: APIGatewayRestResolver,
    operation: str,
    idempotency_key: str | None,
    *,
    fingerprint: Mapping[str, Any],
    post: Callable[[], dict],
    store: Callable[[dict], dict],
) -> dict:
    """The API's answer of ``store(post())``, at most one ``post`` per (operation, caller, key)."""
    # Imported here: idempotency loads boto3 and the Avito errors, which the functions without a key never need.
    from avito_service.idempotency import once, validate_key  # noqa: PLC0415

    key = validate_key(idempotency_key)
    return once(operation, key, fingerprint, post, store, caller=current_caller(app).sub)
