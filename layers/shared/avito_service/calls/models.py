"""Shapes of call tracking's calls (Avito's ``calltracking.json`` ``Call`` in the service's API form)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import Field

from avito_service.base import Model


class TrackedCall(Model):
    id: str = Field(description="Avito's callId")
    accountId: str
    callTime: str = Field(description="when the call was made (ISO 8601 UTC)")
    callerPhone: str = Field(description="the buyer's phone (Avito's buyerPhone)")
    sellerPhone: str
    virtualPhone: str = Field(description="the tracking number the call came through")
    talkDuration: int = Field(description="seconds of conversation")
    waitingDuration: float = Field(description="seconds before an answer")
    itemId: str | None = Field(default=None, description="the item called about (dynamic tracking numbers only)")


class RecordingLink(Model):
    url: str = Field(description="GET it (no Authorization header) for the audio; relative to the API's base URL")
    expiresAt: str


def utc_iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def call_from_avito(account_id: str, raw: dict[str, Any]) -> TrackedCall:
    """One of ``getCalls``' calls; raises ValueError/KeyError/TypeError for one that lacks what we need."""
    moment = datetime.fromisoformat(str(raw["callTime"]).replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    item_id = raw.get("itemId")
    return TrackedCall(
        id=str(int(raw["callId"])),
        accountId=account_id,
        callTime=utc_iso(moment),
        callerPhone=str(raw.get("buyerPhone") or ""),
        sellerPhone=str(raw.get("sellerPhone") or ""),
        virtualPhone=str(raw.get("virtualPhone") or ""),
        talkDuration=int(raw.get("talkDuration") or 0),
        waitingDuration=float(raw.get("waitingDuration") or 0),
        itemId=str(int(item_id)) if item_id is not None else None,
    )
