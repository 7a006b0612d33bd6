"""What clients send to the workflow endpoints (validated at the edge) and what they get back."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field

from avito_service.base import Model
from avito_service.messenger.models import Assignee

Tag = Annotated[str, Field(min_length=1, max_length=32, pattern=r"\S")]
MAX_TAGS = 20
MAX_BULK = 100


class _In(Model):
    model_config = ConfigDict(extra="forbid", defer_build=True)


class TransferBody(_In):
    userId: str = Field(
        min_length=1, max_length=128, description="the new assignee: an enabled user who may see the account"
    )


class TagsBody(_In):
    tags: list[Tag] = Field(max_length=MAX_TAGS, description="1-32 characters each, at most 20 (repeats dropped)")


class NoteCreate(_In):
    text: str = Field(min_length=1, max_length=4000, pattern=r"\S")


class Note(Model):
    id: str
    text: str
    author: Assignee
    createdAt: str


def note_from_item(item: Mapping[str, Any]) -> Note:
    """A stored note item (store.add_note) as ``GET .../notes`` and the ``avito-chat-note`` frame show it."""
    return Note.model_validate({k: item[k] for k in ("id", "text", "author", "createdAt")})


class ChatRef(_In):
    accountId: str = Field(min_length=1, max_length=64)
    chatId: str = Field(min_length=1, max_length=200)


class BulkClose(_In):
    items: list[ChatRef] = Field(min_length=1, max_length=MAX_BULK)


class BulkCloseOutcome(Model):
    accountId: str
    chatId: str
    status: Literal["closed", "not_found"]


AlertMinutes = Annotated[int, Field(ge=1, le=1440)]


class RoutingIn(_In):
    mode: Literal["off", "round_robin", "least_busy"]
    maxOpenPerOperator: int | None = Field(
        default=None, ge=1, le=200, description="least_busy and round_robin skip an operator with this many open chats"
    )
    waitAlertMinutes: list[AlertMinutes] | None = Field(
        default=None, min_length=1, max_length=3, description="1-3 thresholds in minutes (default [5, 15, 30])"
    )


class Routing(Model):
    accountId: str
    mode: Literal["off", "round_robin", "least_busy"] = "off"
    maxOpenPerOperator: int | None = None
    waitAlertMinutes: list[int] = Field(default_factory=lambda: [5, 15, 30])


class PresenceIn(_In):
    status: Literal["available", "away"]


class Presence(Model):
    userId: str
    status: Literal["available", "away"]
