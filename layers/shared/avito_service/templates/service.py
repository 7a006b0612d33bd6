"""Quick replies: who may see and change which template, and filling a template's placeholders for a chat.

Shared templates are seen by everyone and changed by admins and directors; personal ones belong to the user
(``sub``) who made them, and nobody else sees them (another user's id answers 404, as if it did not exist).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from typing import Any

from avito_service import clock
from avito_service.errors import Conflict, Forbidden, NotFound, ValidationFailed
from avito_service.roles import Role
from avito_service.templates.models import (
    PERSONAL_MAX,
    PLACEHOLDERS,
    SHARED_MAX,
    Template,
    TemplateCreate,
    TemplateUpdate,
)
from avito_service.templates.store import LimitReached, Missing, template_store
from avito_service.users import scope

SHARED_EDITORS = frozenset({Role.ADMIN.value, Role.DIRECTOR.value})
_PLACEHOLDER = re.compile(r"\{(" + "|".join(PLACEHOLDERS) + r")\}")


def _not_found() -> NotFound:
    return NotFound("No template with this id.", code="template_not_found")


def _template(item: Mapping[str, Any]) -> Template:
    return Template(
        id=str(item["id"]),
        title=str(item["title"]),
        text=str(item["text"]),
        shared=bool(item.get("shared")),
        ownerId=item.get("ownerId"),
        createdAt=str(item["createdAt"]),
        updatedAt=str(item["updatedAt"]),
    )


def _check_shared_editor(role: str) -> None:
    if role not in SHARED_EDITORS:
        raise Forbidden("Only admins and directors may change shared templates.")


def list_templates(sub: str) -> list[Template]:
    """Shared templates, then the caller's own; each group by title (case-insensitive)."""
    store = template_store()
    shared = sorted((_template(i) for i in store.list_scope(None)), key=lambda t: (t.title.casefold(), t.id))
    own = sorted((_template(i) for i in store.list_scope(sub)), key=lambda t: (t.title.casefold(), t.id))
    return shared + own


def create_template(sub: str, role: str, body: TemplateCreate) -> Template:
    if body.shared:
        _check_shared_editor(role)
    now = clock.iso()
    owner = None if body.shared else sub
    item = {
        "id": str(uuid.uuid4()),
        "title": body.title,
        "text": body.text,
        "shared": body.shared,
        "createdAt": now,
        "updatedAt": now,
        "createdBy": sub,
        **({"ownerId": owner} if owner else {}),
    }
    try:
        template_store().create(item, owner, SHARED_MAX if body.shared else PERSONAL_MAX)
    except LimitReached:
        limit = SHARED_MAX if body.shared else PERSONAL_MAX
        raise Conflict(
            f"There are {limit} {'shared' if body.shared else 'personal'} templates already: delete one first.",
            code="template_limit_reached",
        ) from None
    return _template(item)


def find_template(sub: str, template_id: str) -> tuple[str | None, dict[str, Any]]:
    """``(owner, item)`` of a template the caller sees: their own first, then the shared ones; 404 otherwise."""
    store = template_store()
    for owner in (sub, None):
        item = store.get(owner, template_id)
        if item is not None:
            return owner, item
    raise _not_found()


def get_template(sub: str, template_id: str) -> Template:
    return _template(find_template(sub, template_id)[1])


def update_template(sub: str, role: str, template_id: str, body: TemplateUpdate) -> Template:
    changes = body.model_dump(exclude_unset=True)
    if any(value is None for value in changes.values()):
        field = next(name for name, value in changes.items() if value is None)
        raise ValidationFailed.on(field, "May not be null.")
    owner, _ = find_template(sub, template_id)
    if owner is None:
        _check_shared_editor(role)
    if not changes:
        raise ValidationFailed.on("body", "Give title and/or text to change.")
    try:
        item = template_store().update(owner, template_id, {**changes, "updatedAt": clock.iso(), "updatedBy": sub})
    except Missing:
        raise _not_found() from None
    return _template(item)


def delete_template(sub: str, role: str, template_id: str) -> None:
    owner, _ = find_template(sub, template_id)
    if owner is None:
        _check_shared_editor(role)
    try:
        template_store().delete(owner, template_id)
    except Missing:
        raise _not_found() from None


def fill(text: str, values: Mapping[str, str | None]) -> str:
    """``text`` with every known placeholder replaced by its value; a value that is missing or None becomes an
    empty string, never the placeholder. Other braces are left as they are (a price "{от 100}" is text)."""
    return _PLACEHOLDER.sub(lambda match: str(values.get(match.group(1)) or ""), text)


def render_for_chat(
    sub: str,
    template_id: str,
    account_id: str,
    chat_id: str,
    *,
    operator_name: str | None,
    visible: frozenset[str] | None,
) -> str:
    """The template's text filled in for the account's stored chat (404 for a chat the caller may not see)."""
    from avito_service.accounts import service as accounts  # noqa: PLC0415 - only render reads accounts and chats
    from avito_service.messenger.store import chat_store  # noqa: PLC0415

    template = get_template(sub, template_id)
    if not scope.can_see(visible, account_id):
        raise NotFound(f"No stored chat with id '{chat_id[:200]}'.", code="chat_not_found")
    chat = chat_store().get_chat(chat_id, account_id)
    account = accounts.get_account(account_id)
    return fill(
        template.text,
        {
            "client_name": chat.clientName,
            "item_title": chat.itemTitle,
            "item_price": chat.itemPrice,
            "operator_name": operator_name,
            "account_name": account.name,
        },
    )
