"""Issue 13 items 1, 2, 3, 12 and 13 for the Avito client: deadlines, Idempotency-Key, 403 storms,
webhook rotation, strict ids and encoded paths, and the answers Avito's documents allow
(``avito_sim.faults.ODD_ANSWERS``).

Every case runs real handlers against the simulator over HTTP. Time is a clock the test controls
(``deadline.monotonic``, ``webhooks.tokens.monotonic``); nothing waits for a wall-clock window.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import accounts_create
import accounts_stats_history
import accounts_sync_stats
import accounts_webhook_subscribe
import accounts_webhook_unsubscribe
import messenger_chats
import messenger_messages
import messenger_read
import messenger_send
import pytest
from avito_service import aws, deadline, idempotency
from avito_service.accounts import service
from avito_service.accounts.models import AccountCreate, AccountSecrets
from avito_service.avito import tokens as avito_tokens
from avito_service.avito.client import AvitoApi, avito_path
from avito_service.config import get_settings
from avito_service.errors import Conflict, ValidationFailed
from avito_service.messenger import service as messenger
from avito_service.webhooks import tokens as webhook_tokens
from pydantic import ValidationError as PydanticValidationError

from avito_sim import AvitoSimulator
from avito_sim.faults import ODD_ANSWERS
from tests.support.accounts import create_account
from tests.support.caches import reset_caches
from tests.support.events import FakeContext, api_event, call, call_route

USER_ID = 7070
DENIED_USER = 7071
TOKEN = r"^/token$"
SEND = r"^/messenger/v1/accounts/\d+/chats/[^/]+/messages$"
CHATS = r"^/messenger/v2/accounts/\d+/chats$"


class Clock:
    """A monotonic clock that moves only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture(scope="module")
def sim() -> Iterator[AvitoSimulator]:
    simulator = AvitoSimulator()
    simulator.start()
    simulator.add_account("h-cid", "h-secret", USER_ID, name="Hardened", balance_real=10.0)
    simulator.add_account("d-cid", "d-secret", DENIED_USER, name="No messenger", messenger=False)
    for item_id in (1, 2):
        simulator.add_item(USER_ID, item_id, f"Item {item_id}")
    simulator.add_chat(USER_ID, "u2i-h1", item_id=1, item_title="Item 1", client_user_id=9301)
    simulator.add_message(USER_ID, "u2i-h1", "hm1", "hello")
    simulator.add_message(USER_ID, "u2i-h1", "hm2", "from the far future", created=2**62)
    simulator.add_message(USER_ID, "u2i-h1", "hm3", "and again")
    yield simulator
    simulator.stop()


@pytest.fixture
def avito(sim: AvitoSimulator, aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> AvitoSimulator:
    monkeypatch.setenv("AVITO_API_URL", sim.base_url)
    monkeypatch.setenv("AVITO_READ_TIMEOUT", "2")
    monkeypatch.setenv("AVITO_CONNECT_TIMEOUT", "2")
    monkeypatch.setenv("AVITO_MAX_BACKOFF", "0.05")
    monkeypatch.setenv("WEBHOOK_BASE_URL", "https://hooks.example.test")
    reset_caches()
    avito_tokens.forget_in_memory()
    webhook_tokens.forget_verified()
    sim.clear_requests()
    sim.clear_faults()
    sim.latency = 0.0
    return sim


def new_account(client_id: str = "h-cid", secret: str = "h-secret", user_id: int = USER_ID) -> str:  # noqa: S107
    return create_account(name="Hardened", clientId=client_id, clientSecret=secret, userId=user_id)


def send(account_id: str, text: str, key: str | None = None, chat_id: str = "u2i-h1") -> tuple[int, dict[str, Any]]:
    resource = "/api/v1/messenger/accounts/{accountId}/chats/{chatId}/send"
    params = {"accountId": account_id, "chatId": chat_id}
    event = api_event("POST", resource.format(**params), resource=resource, path_parameters=params, body={"text": text})
    if key is not None:
        event["headers"]["Idempotency-Key"] = key
        event["multiValueHeaders"]["Idempotency-Key"] = [key]
    result = messenger_send.lambda_handler(event, FakeContext())
    return result["statusCode"], json.loads(result["body"])


# --- item 2: one deadline per request ---------------------------------------------------------------------------


def test_a_retry_after_longer_than_the_budget_is_a_504_at_once(avito: AvitoSimulator) -> None:
    client = AvitoApi(service.load_context(new_account()))
    client.account_self()  # token fetched
    avito.clear_requests()
    avito.add_fault(r"^/core/v1/accounts/self$", status=429, retry_after=8, times=None)
    with deadline.budget(3.0), pytest.raises(deadline.DeadlineExceeded) as raised:
        client.account_self()
    assert raised.value.status == 504 and "budget" in raised.value.message
    assert avito.count("GET", r"^/core/v1/accounts/self$") == 1  # no wait, no second attempt


def test_the_token_lease_wait_draws_from_the_budget(avito: AvitoSimulator, monkeypatch: pytest.MonkeyPatch) -> None:
    account_id = new_account()
    clock = Clock()
    monkeypatch.setattr(deadline, "monotonic", clock)
    monkeypatch.setattr(avito_tokens.time, "sleep", clock.advance)  # each wait step moves the test's clock
    # another container holds the fetch lease and never finishes
    aws.table(get_settings().tokens_table).put_item(
        Item={"accountId": account_id, "leaseUntil": int(avito_tokens.time.time()) + 15, "leaseOwner": "someone-else"}
    )
    client = AvitoApi(service.load_context(account_id))
    with deadline.budget(2.0), pytest.raises(deadline.DeadlineExceeded) as raised:
        client.account_self()
    assert raised.value.status == 504 and "token" in raised.value.message
    assert avito.count("POST", TOKEN) == 0
    assert clock.now - 1000.0 <= 2.0 + avito_tokens.WAIT_STEP  # waited the budget, not the 15 s lease


def test_a_send_is_not_started_without_time_left_to_store_it(
    avito: AvitoSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    account_id = new_account()
    monkeypatch.setenv("AVITO_REQUEST_BUDGET", "1.5")  # less than the send's 2 s reserve for storing
    reset_caches()
    status, body = send(account_id, "never half-done")
    assert status == 504 and body["error"]["code"] == "avito_timeout", body
    assert avito.count("POST", SEND) == 0  # Avito never saw it, so nothing can be sent but unstored
    assert avito.sent_messages(USER_ID) == []


def test_background_work_gets_its_own_budget(avito: AvitoSimulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AVITO_BACKGROUND_BUDGET", "3")
    reset_caches()
    client = AvitoApi(service.load_context(new_account()))
    assert client.deadline.seconds == 3.0 and client.deadline is client.deadline  # one budget for its calls
    with deadline.budget(1.0) as outer:
        assert client.deadline is outer  # inside a request, the request's budget


# --- item 2: Idempotency-Key -----------------------------------------------------------------------------------


def test_a_send_retried_with_the_same_key_is_sent_once(avito: AvitoSimulator) -> None:
    account_id = new_account()
    first = send(account_id, "only once", key="order-42-reply")
    assert first[0] == 200, first
    again = send(account_id, "only once", key="order-42-reply")
    assert again == first  # the first answer, replayed
    assert len(avito.sent_messages(USER_ID)) == 1 and avito.count("POST", SEND) == 1

    reused = send(account_id, "something else", key="order-42-reply")
    assert reused[0] == 422 and reused[1]["error"]["code"] == "idempotency_key_reused"
    assert avito.count("POST", SEND) == 1

    assert send(account_id, "no key")[0] == 200 and send(account_id, "no key")[0] == 200
    assert avito.count("POST", SEND) == 3  # without a key every request sends


@pytest.mark.parametrize("key", ["", "has space", "x" * 256, "кириллица", "tab\there"])
def test_a_malformed_idempotency_key_is_422(avito: AvitoSimulator, key: str) -> None:
    status, body = send(new_account(), "hi", key=key)
    # header names are case-insensitive: the document's pattern check names it in lower case, the handler as sent
    assert status == 422 and body["error"]["details"][0]["field"].lower() == "idempotency-key", body
    assert avito.count("POST", SEND) == 0


def test_a_send_that_timed_out_after_reaching_avito_is_not_sent_again(
    avito: AvitoSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AVITO_READ_TIMEOUT", "0.5")
    reset_caches()
    account_id = new_account()
    avito.add_fault(SEND, "POST", action="delay_after_effect", delay=1.0, times=1)
    first = send(account_id, "maybe sent", key="k-timeout")
    assert first[0] == 502 and first[1]["error"]["code"] == "send_outcome_unknown", first
    again = send(account_id, "maybe sent", key="k-timeout")
    assert again == first  # the same failure, not a second copy at Avito
    assert avito.count("POST", SEND) == 1


def test_a_send_avito_refused_frees_its_key(avito: AvitoSimulator) -> None:
    account_id = new_account()
    avito.add_fault(SEND, "POST", status=400, body={"error": {"code": 400, "message": "bad"}}, times=1)
    assert send(account_id, "retry me", key="k-fail")[0] == 502
    assert send(account_id, "retry me", key="k-fail")[0] == 200  # Avito refused it: the retry sends
    assert len(avito.sent_messages(USER_ID)) == 1


def test_a_key_still_in_progress_is_409(aws_env: dict[str, str]) -> None:
    def inner() -> dict:
        return idempotency.once("test.op", "k-busy", {"n": 1}, lambda: {"never": True}, dict, caller="c")

    with pytest.raises(Conflict) as raised:
        idempotency.once("test.op", "k-busy", {"n": 1}, inner, dict, caller="c")
    assert raised.value.code == "idempotency_in_progress"
    assert idempotency.once("test.op", "k-busy", {"n": 1}, lambda: {"n": 1}, dict, caller="c") == {"n": 1}
    assert idempotency.once("test.op", "k-busy", {"n": 1}, lambda: {"n": 2}, dict, caller="c") == {"n": 1}
    with pytest.raises(ValidationFailed):
        idempotency.once("test.op", "k-busy", {"n": 2}, lambda: {"n": 2}, dict, caller="c")


# --- item 3: 403 token storms ----------------------------------------------------------------------------------


def test_messenger_403_fetches_one_token_not_one_per_call(avito: AvitoSimulator) -> None:
    account_id = new_account("d-cid", "d-secret", DENIED_USER)
    path = f"/api/v1/messenger/accounts/{account_id}/chats"
    for _ in range(6):  # keep-alives and listings of an account without Messenger access
        status, body = call(
            messenger_chats,
            "GET",
            path,
            resource="/api/v1/messenger/accounts/{accountId}/chats",
            path_parameters={"accountId": account_id},
            role="operator",
        )
        assert status == 502 and body["error"]["code"] == "messenger_not_available", body
    assert avito.count("POST", TOKEN) == 1  # the first token only: a 403 on it is not "refresh and retry"
    assert avito.count("GET", CHATS) == 6

    # another container (empty memory) learns it from the shared marker: no token fetch either
    avito_tokens.forget_in_memory()
    status, _ = call(
        messenger_chats,
        "GET",
        path,
        resource="/api/v1/messenger/accounts/{accountId}/chats",
        path_parameters={"accountId": account_id},
        role="operator",
    )
    assert status == 502 and avito.count("POST", TOKEN) == 1


def test_a_revoked_token_is_refreshed_once_then_a_403_is_final(avito: AvitoSimulator) -> None:
    client = AvitoApi(service.load_context(new_account()))
    client.chats(str(USER_ID))
    avito.revoke_tokens()
    client.chats(str(USER_ID))  # one refresh, and the call succeeds
    assert avito.count("POST", TOKEN) == 2
    avito.add_fault(CHATS, "GET", 403, times=None)
    for _ in range(3):
        with pytest.raises(Exception, match="Messenger") as raised:
            client.chats(str(USER_ID))
        assert raised.value.code == "messenger_not_available"
    assert avito.count("POST", TOKEN) == 2  # the fresh token is not refreshed again, per call


# --- item 13: odd answers the documents allow -------------------------------------------------------------------


@pytest.mark.parametrize("name", ["token_expires_negative", "token_expires_fractional", "token_expires_absurd"])
def test_an_odd_expires_in_does_not_make_every_call_fetch_a_token(avito: AvitoSimulator, name: str) -> None:
    avito.add_fault(**ODD_ANSWERS[name])
    client = AvitoApi(service.load_context(new_account()))
    for _ in range(4):
        client.account_self()
    assert avito.count("POST", TOKEN) == 1


def test_a_short_page_of_items_is_the_last(avito: AvitoSimulator) -> None:
    client = AvitoApi(service.load_context(new_account()))
    assert len(client.items(per_page=5)) == 2
    assert avito.count("GET", r"^/core/v1/items$") == 1  # no extra call for an empty page


def test_read_answering_ok_false_is_a_502(avito: AvitoSimulator) -> None:
    account_id = new_account()
    avito.add_fault(**ODD_ANSWERS["read_not_ok"])
    resource = "/api/v1/messenger/accounts/{accountId}/chats/{chatId}/messages/{messageId}/read"
    status, body = call_route(
        messenger_read,
        "POST",
        resource,
        {"accountId": account_id, "chatId": "u2i-h1", "messageId": "hm1"},
        role="operator",
    )
    assert status == 502 and "ok: false" in body["error"]["message"], body


def test_unsubscribe_answering_ok_false_is_a_502(avito: AvitoSimulator) -> None:
    account_id = new_account()
    resource = "/api/v1/accounts/{id}/webhook"
    assert call_route(accounts_webhook_subscribe, "POST", resource, {"id": account_id})[0] == 200
    avito.add_fault(**ODD_ANSWERS["unsubscribe_not_ok"])
    status, body = call_route(accounts_webhook_unsubscribe, "DELETE", resource, {"id": account_id})
    assert status == 502 and "ok: false" in body["error"]["message"], body


def test_a_balance_no_one_can_store_is_a_clear_502(avito: AvitoSimulator) -> None:
    account_id = new_account()
    avito.add_fault(**ODD_ANSWERS["balance_beyond_storage"])
    status, body = call_route(
        accounts_sync_stats, "POST", "/api/v1/accounts/{id}/sync-stats", {"id": account_id}, body={"days": 7}
    )
    assert status == 502 and body["error"]["code"] == "avito_bad_response" and "balance" in body["error"]["message"]
    assert service.get_account(account_id).balanceReal is None  # nothing half-stored


def test_one_message_from_beyond_the_year_9999_does_not_fail_the_list(avito: AvitoSimulator) -> None:
    account_id = new_account()
    resource = "/api/v1/messenger/accounts/{accountId}/chats/{chatId}/messages"
    status, body = call_route(
        messenger_messages, "GET", resource, {"accountId": account_id, "chatId": "u2i-h1"}, role="operator"
    )
    assert status == 200, body
    ids = {m["id"] for m in body["data"]}
    assert {"hm1", "hm3"} <= ids and "hm2" not in ids  # the odd one skipped (and logged), the rest answered


# --- item 12: strict ids, encoded paths, pagination -----------------------------------------------------------------


@pytest.mark.parametrize("chat_id", [".", "..", ".hidden"])
def test_dot_chat_ids_are_refused_before_avito(avito: AvitoSimulator, chat_id: str) -> None:
    status, body = send(new_account(), "hi", chat_id=chat_id)
    assert status == 422 and body["error"]["details"][0]["field"] == "chatId", body
    assert avito.count("POST", SEND) == 0


def test_every_path_segment_is_percent_encoded() -> None:
    assert avito_path("/a/{}/b/{}", "x/../y", "q?#%") == "/a/x%2F..%2Fy/b/q%3F%23%25"
    for bad in (".", "..", ""):
        with pytest.raises(ValidationFailed):
            avito_path("/a/{}", bad)


def test_stats_history_is_paginated(avito: AvitoSimulator) -> None:
    account_id = new_account()
    for day in ("2026-11-01", "2026-11-02", "2026-11-03"):
        service.account_store().put_snapshot(
            account_id,
            day,
            {
                "date": day,
                "syncedAt": f"{day}T00:00:00.000Z",
                "days": 1,
                "adsCount": 0,
                "viewsCount": 0,
                "contactsCount": 0,
                "favoritesCount": 0,
                "viewsToday": 0,
                "contactsToday": 0,
            },
        )
    resource = "/api/v1/accounts/{id}/stats/history"
    query = {"from": "2026-11-01", "to": "2026-11-30", "limit": "2"}
    status, first = call_route(accounts_stats_history, "GET", resource, {"id": account_id}, query=query)
    assert status == 200 and [s["date"] for s in first["data"]] == ["2026-11-01", "2026-11-02"]
    assert first["nextCursor"]
    status, second = call_route(
        accounts_stats_history, "GET", resource, {"id": account_id}, query={**query, "cursor": first["nextCursor"]}
    )
    assert status == 200 and [s["date"] for s in second["data"]] == ["2026-11-03"]
    other = new_account("h-cid-2", "x")
    status, body = call_route(
        accounts_stats_history, "GET", resource, {"id": other}, query={**query, "cursor": first["nextCursor"]}
    )
    assert status == 422 and body["error"]["details"][0]["field"] == "cursor"


def test_stats_history_pages_hold_50_by_default(avito: AvitoSimulator) -> None:
    """Issue 22 item 13: the default page is 50 snapshots, and a page of exactly 50 with nothing after it has no
    cursor (the limit+1 rule)."""
    account_id = new_account()
    days = [f"2026-{month:02d}-{day:02d}" for month in (9, 10) for day in range(1, 31)][:51]
    for day in days:
        figures = dict.fromkeys(("adsCount", "viewsCount", "contactsCount", "favoritesCount"), 0)
        snapshot = {"date": day, "syncedAt": f"{day}T00:00:00.000Z", "days": 1, "viewsToday": 0, "contactsToday": 0}
        service.account_store().put_snapshot(account_id, day, {**snapshot, **figures})
    resource = "/api/v1/accounts/{id}/stats/history"
    query = {"from": days[0], "to": days[-1]}
    status, first = call_route(accounts_stats_history, "GET", resource, {"id": account_id}, query=query)
    assert status == 200 and len(first["data"]) == 50 and first["nextCursor"], first.get("error")
    status, last = call_route(
        accounts_stats_history, "GET", resource, {"id": account_id}, query={"to": days[-2], "from": days[0]}
    )
    assert len(last["data"]) == 50 and last["nextCursor"] is None  # exactly 50: no empty page after it


# --- item 1: webhook rotation in two phases ------------------------------------------------------------------------


def _our_urls(avito: AvitoSimulator, account_id: str) -> list[str]:
    return [u for u in avito.subscriptions(USER_ID) if f"/{account_id}/" in u]


def _accepted(account_id: str, token: str) -> bool:
    return webhook_tokens.verified_account(account_id, token) is not None


def test_a_failed_subscribe_changes_nothing(avito: AvitoSimulator) -> None:
    account_id = new_account()
    resource = "/api/v1/accounts/{id}/webhook"
    assert call_route(accounts_webhook_subscribe, "POST", resource, {"id": account_id})[0] == 200
    old_url = _our_urls(avito, account_id)[0]
    old_token = old_url.rsplit("/", 1)[1]
    before = service.get_item(account_id)

    for fault in (
        {"path_regex": r"^/messenger/v3/webhook$", "status": 500, "times": None},
        ODD_ANSWERS["subscribe_not_ok"],
    ):
        avito.add_fault(**fault)
        status, _ = call_route(accounts_webhook_subscribe, "POST", resource, {"id": account_id})
        assert status == 502
        avito.clear_faults()
        after = service.get_item(account_id)
        assert after.get("webhookTokenHash") == before["webhookTokenHash"] and "webhookPendingHash" not in after
        webhook_tokens.forget_verified()
        assert _accepted(account_id, old_token)  # deliveries to the still-subscribed URL keep working
        assert _our_urls(avito, account_id) == [old_url]


def test_the_old_secret_works_until_avito_confirmed_the_new_url(
    avito: AvitoSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    account_id = new_account()
    resource = "/api/v1/accounts/{id}/webhook"
    assert call_route(accounts_webhook_subscribe, "POST", resource, {"id": account_id})[0] == 200
    old_token = _our_urls(avito, account_id)[0].rsplit("/", 1)[1]

    seen: dict[str, bool] = {}
    real_subscribe = AvitoApi.subscribe_webhook

    def subscribe_and_look(self: AvitoApi, url: str) -> dict:
        # while Avito is confirming the new URL, both secrets are accepted
        webhook_tokens.forget_verified()
        seen["old"] = _accepted(account_id, old_token)
        seen["new"] = _accepted(account_id, url.rsplit("/", 1)[1])
        return real_subscribe(self, url)

    monkeypatch.setattr(AvitoApi, "subscribe_webhook", subscribe_and_look)
    assert call_route(accounts_webhook_subscribe, "POST", resource, {"id": account_id})[0] == 200
    assert seen == {"old": True, "new": True}
    assert len(_our_urls(avito, account_id)) == 1  # the old URL was unsubscribed
    new_token = _our_urls(avito, account_id)[0].rsplit("/", 1)[1]
    assert not _accepted(account_id, old_token) and _accepted(account_id, new_token)


def test_a_container_that_verified_the_old_secret_stops_accepting_it_within_the_window(
    avito: AvitoSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock()
    monkeypatch.setattr(webhook_tokens, "monotonic", clock)
    account_id = new_account()
    old = webhook_tokens.issue_token(account_id)
    webhook_tokens.promote(account_id, old)
    assert _accepted(account_id, old)  # this container remembers the hashes now
    new = webhook_tokens.issue_token(account_id)
    webhook_tokens.promote(account_id, new)  # as another container's confirmed subscribe does
    webhook_tokens._verified[account_id] = (
        clock() + webhook_tokens.VERIFIED_SECONDS,
        (webhook_tokens._digest(old),),
        {"id": account_id, "userId": str(USER_ID)},
    )
    assert _accepted(account_id, old)  # (its memory says so, for now)
    clock.advance(webhook_tokens.VERIFIED_SECONDS)
    assert not _accepted(account_id, old)
    assert _accepted(account_id, new)


# --- item 12: error mapping and secrets in validation errors --------------------------------------------------------


def _send_event(account_id: str, content_type: str, body: str) -> dict[str, Any]:
    resource = "/api/v1/messenger/accounts/{accountId}/chats/{chatId}/send"
    params = {"accountId": account_id, "chatId": "u2i-h1"}
    event = api_event("POST", resource.format(**params), resource=resource, path_parameters=params, raw_body=body)
    event["headers"]["Content-Type"] = content_type
    event["multiValueHeaders"]["Content-Type"] = [content_type]
    return event


def test_an_internal_value_error_is_a_500_and_only_a_media_type_a_415(
    avito: AvitoSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    account_id = new_account()

    def broken(*_: Any, **__: Any) -> Any:
        raise ValueError("an internal bug")

    monkeypatch.setattr(messenger, "post_text", broken)
    form = '--X\r\nContent-Disposition: form-data; name="text"\r\n\r\nhi\r\n--X--\r\n'
    event = _send_event(account_id, "multipart/form-data; boundary=X", form)
    event["body"], event["isBase64Encoded"] = base64.b64encode(form.encode()).decode(), True
    result = messenger_send.lambda_handler(event, FakeContext())
    body = json.loads(result["body"])
    assert result["statusCode"] == 500 and body["error"]["code"] == "internal_error", body

    result = messenger_send.lambda_handler(_send_event(account_id, "multipart/form-data", "text=hi"), FakeContext())
    assert result["statusCode"] == 415 and json.loads(result["body"])["error"]["code"] == "unsupported_media_type"


def test_a_malformed_secret_never_reaches_an_error_or_a_log(aws_env: dict[str, str], captured_logs: Any) -> None:
    secret = "TOP-SECRET-" + "s" * 600  # longer than allowed
    with pytest.raises(PydanticValidationError) as raised:
        AccountCreate(name="n", clientId="c", clientSecret=secret)
    assert "TOP-SECRET" not in str(raised.value)
    with pytest.raises(PydanticValidationError) as raised:
        AccountSecrets.model_validate({"clientSecret": 12345678, "proxyPassword": ["TOP-SECRET-list"]})
    assert "TOP-SECRET" not in str(raised.value) and "12345678" not in str(raised.value)
    status, body = call(
        accounts_create,
        "POST",
        "/api/v1/accounts",
        body={"name": "n", "clientId": "c", "clientSecret": secret, "proxyPassword": "TOP-SECRET-pass" * 30},
    )
    assert status == 422 and "TOP-SECRET" not in json.dumps(body)
    assert "TOP-SECRET" not in captured_logs.getvalue()
