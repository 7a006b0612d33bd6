"""Quick replies as the contract shows them, and the bodies that create and change them."""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field, StrictBool, StringConstraints

from avito_service.base import Model

TITLE_MAX = 100
TEXT_MAX = 2000  # Avito's own message limit is far above; a quick reply longer than this is a letter
PERSONAL_MAX = 200  # personal templates per user
SHARED_MAX = 500  # shared templates of the whole service
PLACEHOLDERS = ("client_name", "item_title", "item_price", "operator_name", "account_name")

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=TITLE_MAX, pattern=r"\S")]
Text = Annotated[str, StringConstraints(min_length=1, max_length=TEXT_MAX)]


class _Body(Model):
    model_config = ConfigDict(extra="forbid", defer_build=True)


class Template(Model):
    id: str
    title: str
    text: str = Field(description="may hold {client_name}, {item_title}, {item_price}, {operator_name}, {account_name}")
    shared: bool = Field(description="true: every user sees it (admins and directors change it); false: the owner's")
    ownerId: str | None = Field(description="the owner's user id (`sub`) of a personal template; null when shared")
    createdAt: str
    updatedAt: str


class TemplateCreate(_Body):
    title: Title
    text: Text
    shared: StrictBool = False  # JSON true/false only: 0, 1 and "yes" are 422


class TemplateUpdate(_Body):
    """A partial change; whether a template is shared is fixed when it is created (delete and create to move it)."""

    # absent means unchanged; null is refused (a template always has a title and a text)
    title: Title = Field(default=None, json_schema_extra=lambda schema: schema.pop("default", None))
    text: Text = Field(default=None, json_schema_extra=lambda schema: schema.pop("default", None))


class Rendered(Model):
    text: str = Field(description="the template's text with its placeholders filled in for the chat")
