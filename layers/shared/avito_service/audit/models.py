"""An audit entry as ``GET /api/v1/audit`` answers it."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from avito_service.base import Model


class AuditEntry(Model):
    at: str = Field(description="when (ISO 8601 UTC)")
    userId: str = Field(description="who: the user's id (Cognito sub) or an HS256 token's sub")
    userName: str | None
    action: str = Field(description="what, e.g. account.update, user.create, webhook.subscribe")
    target: str = Field(description="the changed object, e.g. account:<id>, user:<id>")
    details: dict[str, Any] = Field(description="what changed; never a secret (secret fields are named, not shown)")
