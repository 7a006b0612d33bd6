"""Reading and changing an account's automatic replies (the HTTP handlers call these)."""

from __future__ import annotations

from typing import Any

from avito_service.accounts.store import account_store
from avito_service.autoreplies.models import AutoReplies, AutoRepliesUpdate, AutoReply
from avito_service.autoreplies.store import auto_reply_store
from avito_service.errors import ValidationFailed
from avito_service.working_hours import WorkingHoursSpec

PARTS = ("greeting", "outOfHours", "workingHours")


def _defaults() -> dict[str, Any]:
    return {
        "greeting": AutoReply().model_dump(mode="json"),
        "outOfHours": AutoReply().model_dump(mode="json"),
        "workingHours": WorkingHoursSpec().model_dump(mode="json"),
    }


def settings_of(account_id: str) -> AutoReplies:
    """The account's settings as stored, or the defaults (both replies off, Mon-Fri 09:00-21:00 Moscow time).
    No account check: the consumer calls this for accounts whose messages it sees."""
    stored = auto_reply_store().settings(account_id) or {}
    return AutoReplies.model_validate({**_defaults(), **stored, "accountId": account_id})


def get_auto_replies(account_id: str) -> AutoReplies:
    account_store().existing(account_id)  # 404 account_not_found for an unknown (or deleted) account
    return settings_of(account_id)


def update_auto_replies(account_id: str, body: AutoRepliesUpdate, *, by: str) -> tuple[AutoReplies, dict[str, Any]]:
    """Replace the parts ``body`` gives; returns the new settings and what changed (for the audit log)."""
    given = [part for part in PARTS if part in body.model_fields_set]
    if not given:
        raise ValidationFailed("Give at least one of greeting, outOfHours, workingHours.")
    account_store().existing(account_id)
    current = settings_of(account_id).model_dump(mode="json", include=set(PARTS))
    changes = {part: getattr(body, part).model_dump(mode="json") for part in given}
    updated = {**current, **changes}
    updated_at = auto_reply_store().put_settings(account_id, updated, by=by)
    return AutoReplies.model_validate(
        {**updated, "accountId": account_id, "updatedAt": updated_at, "updatedBy": by}
    ), changes
