"""Path and query parameters shared by the REST handlers (validated by Powertools before a handler runs)."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Header, Path, Query

AccountId = Annotated[str, Path(min_length=1, max_length=64, description="the account's id")]
PathAccountId = Annotated[str, Path(min_length=1, max_length=64, description="the account's id")]
# Avito ids: letters, digits and ``_~.:-``, not starting with a dot (so ``.`` and ``..`` are refused); every id is
# percent-encoded again on its way to Avito (avito.client.avito_path).
AVITO_ID_PATTERN = r"^[A-Za-z0-9_~:\-][A-Za-z0-9_~.:\-]*$"
ChatId = Annotated[
    str,
    Path(
        min_length=1,
        max_length=200,
        pattern=AVITO_ID_PATTERN,
        description="Avito chat id: letters, digits and _~.:- (not starting with a dot)",
    ),
]
MessageId = Annotated[
    str,
    Path(
        min_length=1,
        max_length=200,
        pattern=AVITO_ID_PATTERN,
        description="Avito message id: letters, digits and _~.:- (not starting with a dot)",
    ),
]
# A stored chat's id (``/api/v1/chats/{chatId}``): any id a delivery or a listing stored, so no pattern here.
# A console user's id (Cognito's sub, or an HS256 token's subject): users_get/update/delete.
UserId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9-]+$", description="the user's id")]
StoredChatId = Annotated[str, Path(min_length=1, max_length=200, description="Avito's chat id (u2i-..., u2u-...)")]
ChatAccountId = Annotated[
    str | None,
    Query(
        alias="accountId",
        min_length=1,
        max_length=64,
        description="the account whose copy of the chat is meant; required when several accounts hold the chat id",
    ),
]
Limit = Annotated[int, Query(ge=1, le=100, description="page size (1-100)")]
Cursor = Annotated[str | None, Query(max_length=2048, description="nextCursor of the previous page")]


def idempotency_key_header(same_request: str, another: str | None = None) -> Any:
    """The optional ``Idempotency-Key`` header of a route, as its OpenAPI document states it.

    ``same_request`` names what a retry must repeat ("body", "image"), ``another`` what makes a reuse of the key a
    422 (default: another ``same_request``). The pattern is what ``validate_key`` enforces.
    """
    # Imported here: idempotency loads boto3, which the functions without an Idempotency-Key never need.
    from avito_service.idempotency import HEADER, KEY_PATTERN  # noqa: PLC0415

    return Annotated[
        str | None,
        Header(
            alias=HEADER,
            pattern=KEY_PATTERN.pattern,
            description=(
                f"optional, 1-255 visible ASCII characters: a retry with the same key and the same {same_request} "
                "returns the first answer and never sends twice; the same key with another "
                f"{another or same_request} is 422 idempotency_key_reused, a key whose first request is still "
                "running is 409 idempotency_in_progress (kept 24 h)"
            ),
        ),
    ]


# --- the reports (GET /reports/summary, /reports/dialogs) ------------------------------------------------------


def iso_day(value: object) -> object:
    """A date as YYYY-MM-DD only (pydantic alone also reads "0" or "1.5e9" as a Unix time)."""
    import re  # noqa: PLC0415 - only the handlers with a date parameter need it

    if isinstance(value, str) and not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        raise ValueError("Expected a date as YYYY-MM-DD")
    return value


ReportAccount = Annotated[
    str | None, Query(alias="accountId", min_length=1, max_length=64, description="only this account")
]
ReportUser = Annotated[
    str | None,
    Query(alias="userId", min_length=1, max_length=64, pattern=r"^[A-Za-z0-9-]+$", description="only this operator"),
]
