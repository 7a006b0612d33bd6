"""The chat workflow's operations (contract, "Chat workflow"): claim, transfer, release, close, reopen, no reply
needed, tags, notes and bulk close (the inbox's workflow filters are listing.py). Each change is one transition of
the machine (machine.py) written under the chat's ``wfVersion`` (store.py); the caller's scope is checked before
anything is read (an operator's unassigned account is a 404, users.scope) and every change goes to the audit log."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from avito_service import clock
from avito_service.audit import service as audit
from avito_service.errors import NotFound, ValidationFailed
from avito_service.messenger.items import chat_from_item
from avito_service.messenger.models import Assignee, Chat
from avito_service.messenger.store import chat_store
from avito_service.roles import Role
from avito_service.users import scope
from avito_service.users import store as users
from avito_service.workflow import machine, store
from avito_service.workflow.machine import Actor, Person, State
from avito_service.workflow.models import BulkCloseOutcome, ChatRef, Note, note_from_item

WorkflowStep = Callable[[State], State]


def actor_of(user_id: str, name: str | None, role: str) -> Actor:
    return Actor(Person(user_id, name), role)


def _target(chat_id: str, account_id: str | None, only: frozenset[str] | None) -> str:
    """The account whose copy of the chat is meant (404 ``chat_not_found`` / 422 ``accountId`` as for reads)."""
    return chat_store().owner_of(chat_id, account_id, only=only)


def _change(  # noqa: PLR0917 - one call shape for every single-chat transition
    actor: Actor,
    action: str,
    chat_id: str,
    account_id: str | None,
    only: frozenset[str] | None,
    event: machine.Event,
    details: dict[str, Any] | None = None,
) -> Chat:
    owner = _target(chat_id, account_id, only)
    before, after, item = store.transition(owner, chat_id, lambda state: machine.apply(state, event), by=actor.person)
    if after != before:
        audit.record(
            actor.person.user_id,
            actor.person.name,
            f"chat.{action}",
            f"chat:{owner}/{chat_id}",
            {"status": after.status.value, "assignee": after.assignee.user_id if after.assignee else None}
            | (details or {}),
        )
    return chat_from_item(item)


def claim(actor: Actor, chat_id: str, account_id: str | None, only: frozenset[str] | None) -> Chat:
    return _change(actor, "claim", chat_id, account_id, only, machine.Claim(actor))


def release(actor: Actor, chat_id: str, account_id: str | None, only: frozenset[str] | None) -> Chat:
    return _change(actor, "release", chat_id, account_id, only, machine.Release(actor))


def close(actor: Actor, chat_id: str, account_id: str | None, only: frozenset[str] | None) -> Chat:
    return _change(actor, "close", chat_id, account_id, only, machine.Close(actor, clock.iso()))


def reopen(actor: Actor, chat_id: str, account_id: str | None, only: frozenset[str] | None) -> Chat:
    return _change(actor, "reopen", chat_id, account_id, only, machine.Reopen(actor))


def no_reply_needed(actor: Actor, chat_id: str, account_id: str | None, only: frozenset[str] | None) -> Chat:
    return _change(actor, "no_reply_needed", chat_id, account_id, only, machine.NoReplyNeeded(actor, clock.iso()))


def set_tags(actor: Actor, chat_id: str, account_id: str | None, only: frozenset[str] | None, tags: list[str]) -> Chat:
    event = machine.SetTags(actor, tuple(tags))
    return _change(actor, "tags", chat_id, account_id, only, event, {"tags": list(dict.fromkeys(tags))})


def transfer(actor: Actor, chat_id: str, account_id: str | None, only: frozenset[str] | None, user_id: str) -> Chat:
    owner = _target(chat_id, account_id, only)
    target = users.get(user_id)
    if target is None or not target.get("enabled", True):
        raise ValidationFailed.on("userId", "No enabled user with this id.")
    may_see = target.get("role") in (Role.ADMIN, Role.DIRECTOR) or owner in set(target.get("accountIds") or ())
    if not may_see:
        raise ValidationFailed.on("userId", "This user may not see the chat's account.")
    person = Person(str(target["id"]), target.get("name") or target.get("email"))
    return _change(actor, "transfer", chat_id, owner, only, machine.Transfer(actor, person), {"to": person.user_id})


def close_many(actor: Actor, items: list[ChatRef], only: frozenset[str] | None) -> list[BulkCloseOutcome]:
    """Close each chat (director, admin); a chat that is not stored, or of an account the caller may not see,
    is ``not_found`` and the rest go on."""
    outcomes = []
    now = clock.iso()
    for ref in items:
        closed = scope.can_see(only, ref.accountId)
        if closed:
            try:
                before, after, _ = store.transition(
                    ref.accountId, ref.chatId, lambda s: machine.apply(s, machine.Close(actor, now)), by=actor.person
                )
            except NotFound:
                closed = False
            else:
                if after != before:
                    audit.record(
                        actor.person.user_id, actor.person.name, "chat.close", f"chat:{ref.accountId}/{ref.chatId}"
                    )
        outcomes.append(
            BulkCloseOutcome(accountId=ref.accountId, chatId=ref.chatId, status="closed" if closed else "not_found")
        )
    return outcomes


# --- notes -------------------------------------------------------------------------------------------------


def add_note(actor: Actor, chat_id: str, account_id: str | None, only: frozenset[str] | None, text: str) -> Note:
    owner = _target(chat_id, account_id, only)
    if store.get_chat_item(owner, chat_id) is None:
        raise store.chat_not_found(chat_id)
    note = Note(
        id=store.new_note_id(),
        text=text,
        author=Assignee(userId=actor.person.user_id, name=actor.person.name),
        createdAt=clock.iso(),
    )
    store.add_note(owner, chat_id, note.model_dump(mode="json"))
    audit.record(actor.person.user_id, actor.person.name, "chat.note", f"chat:{owner}/{chat_id}", {"note": note.id})
    return note


def notes(
    chat_id: str, account_id: str | None, only: frozenset[str] | None, limit: int, cursor: str | None
) -> tuple[list[Note], str | None]:
    owner = _target(chat_id, account_id, only)
    if store.get_chat_item(owner, chat_id) is None:
        raise store.chat_not_found(chat_id)
    items, next_cursor = store.list_notes(owner, chat_id, limit, cursor)
    return [note_from_item(i) for i in items], next_cursor
