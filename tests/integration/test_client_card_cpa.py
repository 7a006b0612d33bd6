"""The client card's Avito CPA numbers (phonesInfoFromChats): matched to the chat by the second its message was
sent, fetched at most once a minute per account however many cards open at once, within the shared limits,
refused accounts remembered for a day; against the simulator over HTTP and moto."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import chats_client
import pytest
from avito_service import clock
from avito_service.accounts import service as accounts
from avito_service.accounts.cleanup import clean_up
from avito_service.avito import limits
from avito_service.avito.cpa import parse_cpa_time
from avito_service.clients import cpa, cpa_store
from avito_service.clients import service as card_service
from avito_service.messenger.store import chat_store

from avito_sim import AvitoSimulator
from tests.support.accounts import create_account
from tests.support.avito import use_simulator
from tests.support.events import FakeContext, api_event

USER, REFUSED, PAYWALLED, OTHER = 7301, 7302, 7303, 7304
CLIENT = 880_001
T = int(time.time()) - 3600  # within the first fetch's 30 days
CPA_PATH = r"/cpa/v1/phonesInfoFromChats"


@pytest.fixture(scope="module")
def sim() -> Iterator[AvitoSimulator]:
    with AvitoSimulator() as simulator:
        simulator.add_account("cpa-1", "s", USER)
        simulator.add_account("cpa-2", "s", REFUSED, cpa="403")
        simulator.add_account("cpa-3", "s", PAYWALLED, cpa="402")
        simulator.add_account("cpa-4", "s", OTHER)
        yield simulator


@pytest.fixture
def avito(sim: AvitoSimulator, aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> AvitoSimulator:
    use_simulator(sim, monkeypatch)
    for account in sim._accounts.values():
        account.chats.clear()
    return sim


def both(sim: AvitoSimulator, account_id: str, user: int, chat_id: str, messages: list[tuple[str, str, int, Any]]):
    """The same chat and client messages at Avito and in storage (``(id, text, created, cpa_phone)``)."""
    sim.add_chat(user, chat_id, client_user_id=CLIENT, client_name="Анна", created=T - 100)
    raws = []
    for message_id, text, created, cpa_phone in messages:
        sim.add_message(user, chat_id, message_id, text, created=created, cpa_phone=cpa_phone)
        raws.append(
            {"id": message_id, "author_id": CLIENT, "created": created, "type": "text", "content": {"text": text}}
        )
    chat_store().save_chats(
        account_id,
        str(user),
        [{"id": chat_id, "created": T - 100, "updated": T, "users": [{"id": user}, {"id": CLIENT, "name": "Анна"}]}],
    )
    chat_store().save_messages(account_id, str(user), chat_id, raws)


def card(chat_id: str, account_id: str, *, scope: list[str] | None = None) -> tuple[int, Any]:
    event = api_event(
        "GET",
        f"/api/v1/chats/{chat_id}/client",
        resource="/api/v1/chats/{chatId}/client",
        path_parameters={"chatId": chat_id},
        query={"accountId": account_id},
        role="operator",
    )
    if scope is not None:
        event["requestContext"]["authorizer"]["accountIds"] = json.dumps(scope)
    result = chats_client.lambda_handler(event, FakeContext())
    return result["statusCode"], json.loads(result["body"])


def later(monkeypatch: pytest.MonkeyPatch, seconds: float) -> None:
    monkeypatch.setattr(clock, "now", lambda: time.time() + seconds)


def test_the_documents_time_shapes_parse_to_the_second() -> None:
    assert parse_cpa_time("2023-04-05T12:36:33+03:00") == 1680687393  # cpa.json's OpenApiChat.date example
    assert parse_cpa_time("2021-01-02T15:04:05Z") == 1609599845  # its dateTimeFrom example
    assert parse_cpa_time("2023-04-05T12:36:33.750+03:00") == 1680687393  # fractions dropped, not rounded
    assert parse_cpa_time("2023-04-05T12:36:33") == 1680687393  # no offset: Moscow, like every example
    assert parse_cpa_time("yesterday") is None and parse_cpa_time(None) is None and parse_cpa_time("") is None


def test_a_number_only_avito_found_is_matched_by_the_second_of_its_message(avito: AvitoSimulator) -> None:
    a = create_account(clientId="cpa-1", clientSecret="s", userId=str(USER))
    # Avito read a number the text spells out (no pattern of ours finds it); another message writes one
    both(
        avito,
        a,
        USER,
        "u2i-cpa-1",
        [
            (
                "m1",
                "звоните: восемь девятьсот шестьдесят восемь, сто двадцать три, сорок пять, шестьдесят семь",
                T,
                "89681234567",
            ),
            ("m2", "или +7 912 345-67-89", T + 10, None),
        ],
    )
    # another chat of the account, its message 5 s later: its number is not this chat's
    both(avito, a, USER, "u2i-cpa-2", [("m3", "мой номер - в профиле", T + 5, "89990001122")])
    # a message Avito has but the service never stored: its number matches no stored message and is shown nowhere
    avito.add_message(USER, "u2i-cpa-2", "m4", "тел 8 900 555 44 33", created=T + 7)

    status, body = card("u2i-cpa-1", a)
    assert status == 200, body
    data = body["data"]
    assert data["phones"] == ["+79123456789", "+79681234567"]  # newest message first
    assert data["phoneSources"] == ["message", "cpa"]  # m2's number is written (Avito also reports it)
    assert avito.count("POST", CPA_PATH) == 1
    sent = next(r for r in avito.requests if r.path.startswith("/cpa/")).body
    assert sent["offset"] == 0 and sent["limit"] == 100 and sent["dateTimeFrom"].endswith("Z")

    status, body = card("u2i-cpa-2", a)  # within the minute: from storage, no second call
    assert status == 200 and body["data"]["phones"] == ["+79990001122"] and body["data"]["phoneSources"] == ["cpa"]
    assert "+79005554433" not in body["data"]["phones"]
    assert avito.count("POST", CPA_PATH) == 1

    kept = sorted(phone for _, phone in cpa_store.phones_between(a, T - 10, T + 10))
    assert kept == ["+79005554433", "+79123456789", "+79681234567", "+79990001122"]  # every result Avito gave


def test_a_refused_key_is_remembered_for_a_day_and_the_card_says_nothing_of_cpa(
    avito: AvitoSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    for client_id, user in (("cpa-2", REFUSED), ("cpa-3", PAYWALLED)):
        account_id = create_account(clientId=client_id, clientSecret="s", userId=str(user))
        both(
            avito,
            account_id,
            user,
            f"u2i-refused-{user}",
            [("r1", "номер 8 912 000 11 22", T, None), ("r2", "и ещё", T + 1, "89160000000")],
        )
        before = avito.count("POST", CPA_PATH)
        status, body = card(f"u2i-refused-{user}", account_id)
        assert status == 200, body
        assert body["data"]["phones"] == ["+79120001122"] and body["data"]["phoneSources"] == ["message"]
        calls = avito.count("POST", CPA_PATH) - before
        assert 1 <= calls <= 2  # the 403/402, and at most one retry with a fresh token (a stale one may be at fault)
        assert cpa_store.state(account_id).denied_until >= time.time() + cpa.DENIED_SECONDS - 60
        later(monkeypatch, 3600)  # an hour on: still refused, Avito not asked
        status, body = card(f"u2i-refused-{user}", account_id)
        assert body["data"]["phoneSources"] == ["message"] and avito.count("POST", CPA_PATH) - before == calls
        later(monkeypatch, cpa.DENIED_SECONDS + 120)  # a day on: asked again
        card(f"u2i-refused-{user}", account_id)
        assert avito.count("POST", CPA_PATH) - before > calls
        monkeypatch.setattr(clock, "now", time.time)


def test_cards_opened_at_once_call_avito_once_a_minute(avito: AvitoSimulator, monkeypatch: pytest.MonkeyPatch) -> None:
    a = create_account(clientId="cpa-1", clientSecret="s", userId=str(USER))
    both(avito, a, USER, "u2i-busy", [("b1", "8 903 111 22 33", T, None), ("b2", "...", T + 3, "89031112244")])
    with ThreadPoolExecutor(8) as pool:
        cards = list(pool.map(lambda _: card_service.client_card("u2i-busy", a, None), range(16)))
    assert avito.count("POST", CPA_PATH) == 1
    assert all(c.phones[:1] == ["+79031112244"] or c.phones == ["+79031112233"] for c in cards)
    assert card_service.client_card("u2i-busy", a, None).phoneSources == ["cpa", "message"]
    later(monkeypatch, cpa.REFRESH_SECONDS + 1)
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda _: card_service.client_card("u2i-busy", a, None), range(16)))
    assert avito.count("POST", CPA_PATH) == 2  # a minute later: one more


def test_the_shared_budget_is_never_waited_for(avito: AvitoSimulator) -> None:
    """Five calls this minute already (another container, a job): the card does not call and does not wait."""
    a = create_account(clientId="cpa-1", clientSecret="s", userId=str(USER))
    both(avito, a, USER, "u2i-budget", [("k1", "...", T, "89035550000")])
    budget = limits.shared_limits()
    for _ in range(5):
        budget.acquire(a, "cpa.phones", max_wait=0)
    started = time.monotonic()
    status, body = card("u2i-budget", a)
    assert status == 200 and body["data"]["phones"] == [] and time.monotonic() - started < 5
    assert avito.count("POST", CPA_PATH) == 0


def test_scoping_other_accounts_and_cleanup(avito: AvitoSimulator) -> None:
    a = create_account(clientId="cpa-1", clientSecret="s", userId=str(USER))
    b = create_account(clientId="cpa-4", clientSecret="s", userId=str(OTHER))
    both(avito, a, USER, "u2i-a", [("s1", "...", T, "89161230000")])
    both(avito, b, OTHER, "u2i-b", [("s2", "...", T, None)])  # same second, another account
    status, _ = card("u2i-a", a, scope=[b])  # not the caller's account: 404, and Avito is not asked
    assert status == 404 and avito.count("POST", CPA_PATH) == 0
    assert card("u2i-a", a)[1]["data"]["phones"] == ["+79161230000"]
    status, body = card("u2i-b", b)  # account A's result at the same second is not B's
    assert status == 200 and body["data"]["phones"] == []
    assert cpa_store.phones_between(a, T - 10, T + 10)
    accounts.delete_account(a)
    clean_up(a, now=time.time() + 120)
    assert cpa_store.phones_between(a, T - 10, T + 10) == [] and cpa_store.state(a).fetched_at == 0
