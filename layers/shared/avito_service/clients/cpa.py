"""Avito CPA's phone numbers in the client card: fetched at most once a minute per account, matched by time.

A ``phonesInfoFromChats`` result names no chat and no user, only the time its message was sent (``date``), so a
result belongs to a chat when one of the chat's stored incoming messages was sent in the same second (Avito's
``created`` is whole seconds; the result's ``date`` is parsed by ``avito.cpa.parse_cpa_time``). Only matched
numbers are shown. Two chats of one account with client messages in the same second would both show the number:
Avito gives nothing else to tell them apart.

Budget (the document's 5 calls a minute per account): opening a card calls Avito at most once, and only when the
account's last fetch is over ``REFRESH_SECONDS`` old; the fetch is claimed with a conditional write, so cards
opened at once in many containers make one call, and the call also takes a slot of the shared per-account limits
(``avito/limits.py``) without waiting for one. It is made without retries and with short timeouts: a failure
leaves the card as stored. A 402/403 (the key or tariff has no CPA) is remembered for ``DENIED_SECONDS`` and the
card says nothing of CPA meanwhile.
"""

from __future__ import annotations

import dataclasses

from botocore.exceptions import BotoCoreError, ClientError

from avito_service import clock
from avito_service.accounts import service as accounts
from avito_service.avito.cpa import PHONES_PAGE, CpaApi, CpaNotAvailable, parse_cpa_time, rfc3339
from avito_service.clients import cpa_store
from avito_service.config import get_settings
from avito_service.errors import ServiceError
from avito_service.observability import logger
from avito_service.phones import normalise

REFRESH_SECONDS = 60.0
DENIED_SECONDS = 86_400.0
FIRST_LOOKBACK_SECONDS = 30 * 86_400  # the first fetch of an account reaches back 30 days
CONNECT_TIMEOUT = 2.0
READ_TIMEOUT = 3.0


def _client(account_id: str) -> CpaApi:
    settings = get_settings()
    quick = dataclasses.replace(
        settings,
        avito_max_retries=0,
        avito_connect_timeout=min(settings.avito_connect_timeout, CONNECT_TIMEOUT),
        avito_read_timeout=min(settings.avito_read_timeout, READ_TIMEOUT),
    )
    client = CpaApi(accounts.load_context(account_id), settings=quick)
    client.limit_wait = 0.0  # a card never waits for the account's budget: it shows what is stored
    return client


def refresh(account_id: str) -> bool:
    """Fetch the account's new CPA results when a minute has passed since the last fetch. False: CPA is refused
    for this account (the card shows no CPA numbers)."""
    now = clock.now()
    current = cpa_store.state(account_id)
    if current.denied_until > now:
        return False
    if current.fetched_at > now - REFRESH_SECONDS or not cpa_store.claim(account_id, now, now - REFRESH_SECONDS):
        return True
    date_from = current.date_from if current.date_from is not None else int(now) - FIRST_LOOKBACK_SECONDS
    try:
        page = _client(account_id).phones_from_chats(rfc3339(date_from), offset=current.offset, limit=PHONES_PAGE)
    except CpaNotAvailable:
        cpa_store.deny(account_id, now + DENIED_SECONDS)
        logger.info("Avito refused CPA for the account; not asked again for a day", extra={"account_id": account_id})
        return False
    except ServiceError as exc:  # the budget, a timeout, the proxy, Avito's error: the card goes on from storage
        logger.info("CPA phones not fetched", extra={"account_id": account_id, "reason": getattr(exc, "code", "error")})
        return True
    except (ClientError, BotoCoreError) as exc:  # the account's secret or token store unreadable: the same
        logger.warning("CPA phones not fetched", extra={"account_id": account_id, "reason": type(exc).__name__})
        return True
    results = page["results"]
    found: list[tuple[int, str, str]] = []
    newest = date_from
    for result in results:
        second = parse_cpa_time(result.get("date"))
        phone = normalise(str(result.get("phone_number") or ""))
        if second is None:
            continue
        newest = max(newest, second)
        if phone and result.get("id") is not None:
            found.append((second, str(result["id"])[:40], phone))
    cpa_store.save(account_id, found)
    if len(results) >= PHONES_PAGE:  # a full page: the next fetch continues after it
        cpa_store.advance(account_id, date_from, current.offset + len(results))
    else:  # caught up: the next fetch starts at the newest message seen (results seen again overwrite themselves)
        cpa_store.advance(account_id, newest, 0)
    return True


def phones_at(account_id: str, seconds: set[int]) -> dict[int, list[str]]:
    """The CPA numbers of the account's results sent in one of ``seconds``, by second."""
    if not seconds:
        return {}
    matched: dict[int, list[str]] = {}
    for second, phone in cpa_store.phones_between(account_id, min(seconds), max(seconds)):
        if second in seconds and phone not in matched.setdefault(second, []):
            matched[second].append(phone)
    return matched
