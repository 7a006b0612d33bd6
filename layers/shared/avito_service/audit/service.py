"""Recording changes: ``record`` is called by every handler that changes accounts, users, assignments, webhooks
or eternal online, after the change succeeded. Details never hold a secret: a field whose name says it is
one (secret, password, token) is recorded as ``"(changed)"``, never with its value."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from typing import Any

from avito_service import clock
from avito_service.audit import store
from avito_service.audit.models import AuditEntry

_SECRET_NAME = re.compile(r"secret|password|token", re.IGNORECASE)
MAX_DETAIL_TEXT = 500


def _clean(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): ("(changed)" if _SECRET_NAME.search(str(k)) else _clean(v)) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_clean(v) for v in (sorted(value) if isinstance(value, set | frozenset) else value)]
    if isinstance(value, str):
        return value[:MAX_DETAIL_TEXT]
    if isinstance(value, bool | int | float) or value is None:
        return value
    return str(value)[:MAX_DETAIL_TEXT]


def record(
    actor_id: str,
    actor_name: str | None,
    action: str,
    target: str,
    details: Mapping[str, Any] | None = None,
    *,
    now: float | None = None,
) -> AuditEntry:
    entry = AuditEntry(
        at=clock.iso(now),
        userId=actor_id,
        userName=actor_name,
        action=action,
        target=target,
        details=_clean(details or {}),
    )
    store.put(entry.model_dump(mode="json"), uuid.uuid4().hex)
    return entry


def entries(limit: int, cursor: str | None) -> tuple[list[AuditEntry], str | None]:
    items, next_cursor = store.page(limit, cursor)
    return [AuditEntry.model_validate(item) for item in items], next_cursor
