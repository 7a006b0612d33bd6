"""Which accounts a caller may see: the one place search, the client card and the templates ask.

The ``people`` branch (issue 24) adds per-operator account scoping (an HS256 token's ``accountIds`` claim,
a Cognito user's assigned accounts). Until it lands this is deliberately narrow: admins and directors see
every account; an operator sees every account too, unless the authorizer's context carries ``accountIds``
(a JSON list or a comma-separated string), which then limits them. That branch's helper replaces the body
of :func:`visible_account_ids`; its callers stay as they are.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from avito_service.roles import Role

EVERY_ACCOUNT = None  # the answer for a caller nobody limited


def account_ids_claim(value: Any) -> frozenset[str] | None:
    """The ``accountIds`` of an authorizer context (list, JSON list or comma list); None when absent."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except ValueError:
                return frozenset()  # unreadable: the safe answer is "no account"
        else:
            value = [part for part in text.split(",") if part.strip()]
    if not isinstance(value, list | tuple):
        return frozenset()
    return frozenset(str(v).strip() for v in value if str(v).strip())


def visible_account_ids(role: str, context: Mapping[str, Any] | None = None) -> frozenset[str] | None:
    """The account ids the caller may see, or None for "every account" (admins, directors, unlimited operators)."""
    if role in {Role.ADMIN.value, Role.DIRECTOR.value}:
        return EVERY_ACCOUNT
    return account_ids_claim((context or {}).get("accountIds"))


def may_see(visible: frozenset[str] | None, account_id: str) -> bool:
    return visible is None or account_id in visible


def authorizer_context(app: Any) -> Mapping[str, Any]:
    """The REST authorizer's context of the request ``app`` (a Powertools resolver) is handling."""
    return app.current_event.request_context.authorizer.get_context() or {}
