"""An account's automatic replies as the contract shows them, and the body that changes them."""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field, StrictBool, StringConstraints, model_validator

from avito_service.base import Model
from avito_service.working_hours import WorkingHoursSpec

TEXT_MAX = 1000  # what the service's own send accepts (POST .../send)

Text = Annotated[str, StringConstraints(max_length=TEXT_MAX)]


class AutoReply(Model):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    enabled: StrictBool = False
    text: Text = Field(default="", description="the message sent; needs a non-space character when enabled")

    @model_validator(mode="after")
    def _text_when_enabled(self) -> AutoReply:
        if self.enabled and not self.text.strip():
            raise ValueError("an enabled automatic reply needs a text")
        return self


class AutoReplies(Model):
    """``GET /accounts/{id}/auto-replies``: an account that never set them has both replies off."""

    accountId: str
    greeting: AutoReply = Field(description="answers a chat's first incoming message")
    outOfHours: AutoReply = Field(
        description="answers an incoming message outside working hours, once per chat per non-working period "
        "(instead of the greeting when both would answer)"
    )
    workingHours: WorkingHoursSpec
    updatedAt: str | None = None
    updatedBy: str | None = Field(default=None, description="user id of the last change")


class AutoRepliesUpdate(Model):
    """``PUT``: the parts given replace the stored ones; a part left out stays as it is."""

    model_config = ConfigDict(extra="forbid", defer_build=True, json_schema_extra={"minProperties": 1})

    greeting: AutoReply = Field(default=None, json_schema_extra=lambda schema: schema.pop("default", None))
    outOfHours: AutoReply = Field(default=None, json_schema_extra=lambda schema: schema.pop("default", None))
    workingHours: WorkingHoursSpec = Field(default=None, json_schema_extra=lambda schema: schema.pop("default", None))
