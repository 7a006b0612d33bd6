"""What the authorizer needs from a user's record: a module of its own, with no JWT library behind it, so the
users store (and every function that reads users) does not import PyJWT and, through it, ``cryptography``."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class UserState:
    """What the authorizer needs from a user's record (``users.store`` reads it)."""

    enabled: bool
    tokens_valid_after: int
    account_ids: frozenset[str]
    name: str | None
