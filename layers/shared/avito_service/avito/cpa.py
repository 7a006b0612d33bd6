"""Avito CPA's ``phonesInfoFromChats`` (cpa.json): the phone numbers Avito found in an account's target chats.

Beside ``client.py`` as a subclass of :class:`AvitoApi`: the same proxy, token, deadline and per-account limits
(``limits.RULES["cpa.phones"]``: 5 a minute, the document's "Максимальное количество запросов в минуту - 5").

``POST /cpa/v1/phonesInfoFromChats`` (header ``X-Source``) ``{dateTimeFrom, offset, limit}`` ->
``{total, results: [{id, date, phone_number, pricePenny, group, url}]}``. A result names no chat and no user:
``date`` is the time the message was sent ("Время отправки сообщения"), which the client card matches against
the stored messages (``clients/cpa.py``). A 402 or 403 is :class:`CpaNotAvailable` (the key or tariff has no CPA).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from avito_service.avito.client import AvitoApi, Call
from avito_service.avito.errors import AvitoError

PHONES_PAGE = 100  # the document gives no maximum for ``limit``; 100 like call tracking's pages
# cpa.json's examples carry Moscow's offset ("2023-04-05T12:36:33+03:00"); a time without one is read as Moscow's
MOSCOW = timezone(timedelta(hours=3))


class CpaNotAvailable(AvitoError):
    """402/403 from CPA: the account's key or tariff has no access to it."""

    code = "cpa_not_available"


def parse_cpa_time(value: Any) -> int | None:
    """A result's ``date`` as whole Unix seconds, or None when it is not a time.

    cpa.json shows RFC 3339 times with an offset (``2023-04-05T12:36:33+03:00``, and ``2021-01-02T15:04:05Z`` for
    ``dateTimeFrom``); ``datetime.fromisoformat`` reads both (and fractions of a second, which are dropped: stored
    messages keep Avito's whole-second ``created``). No offset: Moscow time, as in every example."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=MOSCOW)
    return int(parsed.timestamp() // 1)


def rfc3339(seconds: int) -> str:
    """``2021-01-02T15:04:05Z``: the shape of cpa.json's ``dateTimeFrom`` example."""
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class CpaApi(AvitoApi):
    def phones_from_chats(self, date_from: str, *, offset: int = 0, limit: int = PHONES_PAGE) -> dict[str, Any]:
        """One page: ``{total, results}`` (results as Avito sent them; the caller validates each)."""
        try:
            body = self.request(
                "POST",
                "/cpa/v1/phonesInfoFromChats",
                Call("cpa.phones"),
                json={"dateTimeFrom": date_from, "offset": offset, "limit": limit},
                headers={"X-Source": self.settings.x_source},
            )
        except AvitoError as error:
            if error.http_status in (402, 403) and not isinstance(error, CpaNotAvailable):
                raise CpaNotAvailable(
                    f"This Avito account has no access to CPA (Avito answered HTTP {error.http_status}).",
                    http_status=error.http_status,
                    avito_code=error.avito_code,
                    avito_message=error.avito_message,
                    endpoint=error.endpoint,
                ) from None
            raise
        body = body if isinstance(body, dict) else {}
        results = body.get("results")
        return {
            "total": body.get("total"),
            "results": [r for r in results if isinstance(r, dict)] if isinstance(results, list) else [],
        }
