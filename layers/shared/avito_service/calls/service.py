"""Call tracking for one account: calls from Avito (stored), and short-lived links to recordings.

Recordings are never stored. ``GET .../calls/{callId}/record`` asks Avito whether the recording exists (the
answer's headers only, the audio is not read) and answers a link ``/api/v1/recordings/<token>`` valid for
``LINK_SECONDS``; the token is a JWT (HS256) naming the account and the call, signed with a key derived from the
service's JWT secret for this one purpose, so it is no API token and an API token is no link. Opening the link
fetches the audio from Avito through the account's proxy and answers it in the same response: the audio lives
only in that function's memory for that request.

Every function loads the account through :func:`connect` (``accounts.load_context``): the one place where
per-operator account scoping applies to this domain.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

from avito_service import clock
from avito_service.accounts import service as accounts
from avito_service.auth import signing_key
from avito_service.avito.inbound import CALLS_PAGE_MAX, CallsNotAvailable, InboundApi, Recording
from avito_service.avito.objects import parse_each
from avito_service.calls.models import RecordingLink, TrackedCall, call_from_avito, utc_iso
from avito_service.calls.store import call_store
from avito_service.cursors import decode_cursor, encode_cursor
from avito_service.errors import Forbidden

LINK_SECONDS = 300
LINK_AUDIENCE = "avito-service/recording"
RECORDINGS_PATH = "/api/v1/recordings/"
MAX_SPAN = timedelta(days=92)  # Avito: dateTimeTo at most dateTimeFrom + 3 months
SYNC_FIRST_WINDOW = timedelta(days=1)  # the first daily sync of an account looks back a day
SYNC_MAX_PAGES = 10  # 1,000 calls a day per account; call tracking allows 5 calls a minute


class LinkRefused(Forbidden):
    code = "link_expired"


def connect(account_id: str) -> InboundApi:
    """The account's client; 502 ``calls_not_available`` for an account that is not client-credentials (Avito's
    call tracking accepts only the client-credentials grant, calltracking.json ``security``)."""
    context = accounts.load_context(account_id)
    auth_type = str(getattr(context.account, "authType", None) or "client_credentials")
    if auth_type != "client_credentials":
        raise CallsNotAvailable(
            "Avito's call tracking works only for accounts connected with a client id and secret "
            f"(this one is {auth_type}).",
            endpoint="calltracking.calls",
        )
    return InboundApi(context)


def _calls(account_id: str, raws: list[Any]) -> list[TrackedCall]:
    return parse_each(account_id, "call", raws, call_from_avito)


def list_calls(
    account_id: str, start: datetime, end: datetime, limit: int, cursor: str | None
) -> tuple[list[TrackedCall], str | None]:
    """A page of the calls made in [start, end], oldest first (Avito's order); stored as well."""
    position = decode_cursor(cursor, required_keys=("offset",))
    offset = int(position["offset"]) if position else 0
    raws = connect(account_id).calls_page(utc_iso(start), utc_iso(end), limit=limit, offset=offset)
    calls = _calls(account_id, raws)
    call_store().save(account_id, calls)
    return calls, encode_cursor({"offset": offset + len(raws)}) if len(raws) >= limit else None


# --- recordings ------------------------------------------------------------------------------------------


def _link_key() -> bytes:
    return hmac.new(signing_key().encode(), b"avito-service recording links v1", hashlib.sha256).digest()


def recording_link(account_id: str, call_id: str, *, now: float | None = None) -> RecordingLink:
    """A link to the call's recording, valid ``LINK_SECONDS`` (404 ``recording_not_found`` when Avito has none)."""
    connect(account_id).call_record(int(call_id), check_only=True)
    moment = clock.now() if now is None else now
    expires = int(moment) + LINK_SECONDS
    token = jwt.encode(
        {"acc": account_id, "call": str(int(call_id)), "exp": expires, "aud": LINK_AUDIENCE}, _link_key(), "HS256"
    )
    return RecordingLink(url=f"{RECORDINGS_PATH}{token}", expiresAt=clock.iso(expires).replace(".000Z", "Z"))


def recording(token: str) -> Recording:
    """The audio a link names, fetched from Avito now (403 ``link_expired`` for an expired or forged link)."""
    try:
        claims = jwt.decode(token, _link_key(), algorithms=["HS256"], audience=LINK_AUDIENCE)
        account_id, call_id = str(claims["acc"]), int(claims["call"])
    except (jwt.PyJWTError, KeyError, TypeError, ValueError):
        raise LinkRefused("This recording link has expired or is not valid; ask for a new one.") from None
    return connect(account_id).call_record(call_id)


# --- the daily sync --------------------------------------------------------------------------------------


def sync_new(client: InboundApi, account_id: str, *, now: float | None = None) -> tuple[int, int]:
    """Store the calls made since the last sync (a day back the first time). Returns (new calls, Avito calls)."""
    end = datetime.fromtimestamp(clock.now() if now is None else now, tz=UTC)
    since = call_store().synced_until(account_id)
    start = datetime.fromisoformat(since.replace("Z", "+00:00")) if since else end - SYNC_FIRST_WINDOW
    start = max(start, end - MAX_SPAN)
    new = requests = 0
    for number in range(SYNC_MAX_PAGES):
        raws = client.calls_page(utc_iso(start), utc_iso(end), limit=CALLS_PAGE_MAX, offset=number * CALLS_PAGE_MAX)
        requests += 1
        new += call_store().save(account_id, _calls(account_id, raws))
        if len(raws) < CALLS_PAGE_MAX:
            break
    call_store().mark_synced(account_id, utc_iso(end))
    return new, requests
