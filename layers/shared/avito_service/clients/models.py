"""The client card as the contract shows it."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from avito_service.base import Model
from avito_service.calls.models import TrackedCall

PhoneSource = Literal["message", "cpa"]


class CardItem(Model):
    id: str
    title: str | None = None
    url: str | None = None
    price: str | None = Field(default=None, description="as Avito shows it, e.g. '12 500 ₽'")
    city: str | None = Field(default=None, description="from the item's address on Avito (its region part)")


class OtherChat(Model):
    accountId: str
    chatId: str
    itemTitle: str | None = None
    lastMessageAt: str | None = None


class ClientCard(Model):
    clientName: str | None = None
    clientUserId: str | None = None
    phones: list[str] = Field(description="numbers found in the client's messages, +7XXXXXXXXXX, newest first")
    phoneSources: list[PhoneSource] = Field(
        default_factory=list,
        description="where each of `phones` (same position) comes from: `message` (written in a message) or `cpa` "
        "(Avito CPA's phonesInfoFromChats found it in a message of this chat sent in the same second; shown only "
        "when the account's key allows CPA)",
    )
    item: CardItem | None = None
    otherChats: list[OtherChat] = Field(description="the same Avito user's chats on the other accounts the caller sees")
    calls: list[TrackedCall] = Field(
        default_factory=list,
        description="call tracking's calls from one of the card's phones on the accounts the caller sees, newest "
        "first (a recording: GET /accounts/{accountId}/calls/{id}/record)",
    )
