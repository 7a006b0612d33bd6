"""Creating accounts in tests through the service, as the API does (secret in Secrets Manager, item in the table)."""

from __future__ import annotations

from typing import Any

from avito_service.accounts import service
from avito_service.accounts.models import AccountCreate


def create_account(**fields: Any) -> str:
    """A new account's id. ``fields`` are ``AccountCreate``'s (camelCase); ``name``, ``clientId`` and
    ``clientSecret`` have defaults, a ``None`` leaves the field out (``userId=None``: Avito's user id unknown), and a
    numeric ``userId`` is passed as the string the API takes."""
    body = {"name": "Shop", "clientId": "cid", "clientSecret": "s3cret", **fields}
    body = {name: value for name, value in body.items() if value is not None}
    if "userId" in body:
        body["userId"] = str(body["userId"])
    return service.create_account(AccountCreate(**body)).id
