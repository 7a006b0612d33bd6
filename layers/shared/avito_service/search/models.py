"""Search results as the contract shows them."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from avito_service.base import Model

Matched = Literal["message", "client", "item", "tag", "note", "phone"]


class SearchResult(Model):
    accountId: str
    chatId: str
    clientName: str | None = None
    itemTitle: str | None = None
    matched: Matched = Field(
        description="what matched: a message's text, the client's name, the item's title, a tag, "
        "a note, or a phone number in a message"
    )
    snippet: str = Field(description="the matching text around its first match (at most ~160 characters)")
    messageId: str | None = Field(default=None, description="the matching message, when a message matched")
    at: str = Field(description="the message's or note's time; the chat's creation for client, item and tag matches")
