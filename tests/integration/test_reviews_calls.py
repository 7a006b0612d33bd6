"""Reviews, rating, answers, calls and recordings: each endpoint through its handler against moto and the simulator
over HTTP, with Avito's faults (402/403 for accounts without access, 429, a recording that is not ready)."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from typing import Any

import calls_list
import calls_record
import pytest
import recordings_get
import reviews_answer
import reviews_list
import reviews_rating
from avito_service.accounts import service as accounts
from avito_service.accounts.cleanup import clean_up
from avito_service.aws import table
from avito_service.calls import service as calls_service
from avito_service.calls.store import calls_pk
from avito_service.config import get_settings
from avito_service.live.frames import frames_for
from avito_service.reviews import daily
from avito_service.reviews.store import partition, put_once, review_key, review_store, reviews_pk

from avito_sim import AvitoSimulator
from tests.support.accounts import create_account
from tests.support.caches import reset_caches
from tests.support.events import FakeContext, api_event, call, call_route

USER, NO_ACCESS, PAYWALLED = 7101, 7102, 7103
NOW = int(time.time())
AUDIO = b"ID3\x04" + bytes(range(256)) * 4


@pytest.fixture(scope="module")
def sim() -> Iterator[AvitoSimulator]:
    with AvitoSimulator() as simulator:
        simulator.add_account("rc-1", "s", USER)
        simulator.add_account("rc-2", "s", NO_ACCESS, ratings="403", calltracking="403")
        simulator.add_account("rc-3", "s", PAYWALLED, ratings="402", calltracking="402")
        for index in range(60):
            simulator.add_review(
                USER, 1 + index % 5, f"Отзыв {index}", review_id=100 + index, created=NOW - 9000 + index
            )
        simulator.add_review(USER, 5, "Спасибо", review_id=500, created=NOW - 100, answer="И вам спасибо")
        simulator.add_call(USER, "79161234567", call_id=900, call_time=NOW - 3600, record=AUDIO)
        simulator.add_call(USER, "79167654321", call_id=901, call_time=NOW - 120)  # recording not ready yet
        yield simulator


@pytest.fixture
def avito(sim: AvitoSimulator, aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> AvitoSimulator:
    monkeypatch.setenv("AVITO_API_URL", sim.base_url)
    monkeypatch.setenv("AVITO_READ_TIMEOUT", "2")
    monkeypatch.setenv("AVITO_MAX_RETRIES", "0")
    reset_caches()
    review_store.cache_clear()
    sim.clear_faults()
    sim.clear_requests()
    return sim


def account(client_id: str = "rc-1") -> str:
    return create_account(clientId=client_id, clientSecret="s")


def get(module: Any, resource: str, params: dict[str, str], role: str = "operator", **kwargs: Any) -> Any:
    return call_route(module, "GET", resource, params, role=role, **kwargs)


def test_rating_for_every_role(avito: AvitoSimulator) -> None:
    account_id = account()
    for role in ("operator", "director", "admin"):
        status, body = get(reviews_rating, "/api/v1/accounts/{id}/rating", {"id": account_id}, role=role)
        assert status == 200, body
        assert body["data"]["isEnabled"] is True and body["data"]["reviewsCount"] == 61
    status, body = get(reviews_rating, "/api/v1/accounts/{id}/rating", {"id": "nope"})
    assert status == 404


def test_reviews_paginated_and_stored(avito: AvitoSimulator) -> None:
    account_id = account()
    resource = "/api/v1/accounts/{id}/reviews"
    status, first = get(reviews_list, resource, {"id": account_id}, query={"limit": "55"})
    assert status == 200, first
    ids = [r["id"] for r in first["data"]]
    assert ids[0] == "500" and len(ids) == 55 and first["nextCursor"]
    assert first["data"][0]["answer"]["text"] == "И вам спасибо" and first["data"][0]["canAnswer"] is False
    assert avito.count("GET", r"^/ratings/v1/reviews") == 2  # Avito's pages hold at most 50
    status, rest = get(reviews_list, resource, {"id": account_id}, query={"limit": "55", "cursor": first["nextCursor"]})
    assert [r["id"] for r in rest["data"]] == ["105", "104", "103", "102", "101", "100"] and rest["nextCursor"] is None
    assert set(review_store().stored(account_id)) == {*ids, "105", "104", "103", "102", "101", "100"}
    bad = get(reviews_list, resource, {"id": account_id}, query={"cursor": "not-a-cursor"})
    assert bad[0] == 422 and bad[1]["error"]["details"][0]["field"] == "cursor"


def test_answer_and_delete_answer(avito: AvitoSimulator) -> None:
    account_id = account()
    get(reviews_list, "/api/v1/accounts/{id}/reviews", {"id": account_id})
    resource = "/api/v1/accounts/{id}/reviews/{reviewId}/answer"
    params = {"id": account_id, "reviewId": "159"}
    status, body = call_route(reviews_answer, "POST", resource, params, body={"text": "  Спасибо!  "}, role="operator")
    assert status == 200, body
    assert body["data"]["text"] == "Спасибо!" and body["data"]["status"] == "moderation"
    assert next(r for r in avito.reviews(USER) if r["id"] == 159)["answer"]["text"] == "Спасибо!"
    stored = review_store().get(account_id, "159")
    assert stored is not None and stored.answer is not None and stored.canAnswer is False
    again = call_route(reviews_answer, "POST", resource, params, body={"text": "ещё"}, role="operator")
    assert again[0] == 502 and again[1]["error"]["code"] == "avito_error"  # Avito: one answer per review
    status, body = call_route(reviews_answer, "DELETE", resource, params, role="operator")
    assert status == 200 and body["data"] == {"reviewId": "159", "deleted": True}
    assert next(r for r in avito.reviews(USER) if r["id"] == 159)["answer"] is None
    gone = call_route(reviews_answer, "DELETE", resource, params, role="operator")
    assert gone[0] == 404 and gone[1]["error"]["code"] == "answer_not_found"


@pytest.mark.parametrize("fault", [{"status": 500}, {"status": 503}, {"action": "reset"}])
def test_an_answer_that_may_have_reached_avito_is_never_repeated(
    avito: AvitoSimulator, monkeypatch: pytest.MonkeyPatch, fault: dict[str, Any]
) -> None:
    """A POST of an answer changes Avito's state: a 5xx or a reset after the request was written is 502
    ``avito_outcome_unknown`` at once, however many retries the client allows idempotent calls, and a retry of
    the request with its Idempotency-Key replays that outcome instead of answering the review again."""
    monkeypatch.setenv("AVITO_MAX_RETRIES", "3")
    reset_caches()
    account_id = account()
    avito.add_fault(r"^/ratings/v1/answers$", "POST", times=None, **fault)
    resource = "/api/v1/accounts/{id}/reviews/{reviewId}/answer"
    params = {"id": account_id, "reviewId": "158"}
    headers = {"Idempotency-Key": "answer-158-1"}
    first = call_route(reviews_answer, "POST", resource, params, body={"text": "Спасибо"}, headers=headers)
    assert first[0] == 502 and first[1]["error"]["code"] == "avito_outcome_unknown", first
    assert avito.count("POST", r"^/ratings/v1/answers$") == 1  # never retried by the client
    avito.clear_faults()
    again = call_route(reviews_answer, "POST", resource, params, body={"text": "Спасибо"}, headers=headers)
    assert again == first
    assert avito.count("POST", r"^/ratings/v1/answers$") == 1  # nor by the client's client


def test_an_answer_retried_with_its_idempotency_key_is_given_once(avito: AvitoSimulator) -> None:
    """The answer reached Avito but its HTTP answer was lost on the way to the console: the console's retry with
    the same key gets the first answer (not Avito's "one answer per review" refusal); another text with the same
    key is 422, another caller's key is its own."""
    account_id = account()
    resource = "/api/v1/accounts/{id}/reviews/{reviewId}/answer"
    params = {"id": account_id, "reviewId": "157"}
    headers = {"Idempotency-Key": "answer-157-1"}
    first = call_route(reviews_answer, "POST", resource, params, body={"text": "Спасибо"}, headers=headers)
    assert first[0] == 200 and first[1]["data"]["text"] == "Спасибо", first
    again = call_route(reviews_answer, "POST", resource, params, body={"text": "Спасибо"}, headers=headers)
    assert again == first
    assert avito.count("POST", r"^/ratings/v1/answers$") == 1
    other = call_route(reviews_answer, "POST", resource, params, body={"text": "Другой"}, headers=headers)
    assert other[0] == 422 and other[1]["error"]["code"] == "idempotency_key_reused", other
    bad = call_route(reviews_answer, "POST", resource, params, body={"text": "x"}, headers={"Idempotency-Key": " "})
    assert bad[0] == 422 and bad[1]["error"]["details"][0]["field"].lower() == "idempotency-key", bad
    assert avito.count("POST", r"^/ratings/v1/answers$") == 1


@pytest.mark.parametrize("text", ["", "   ", "x" * 1001])
def test_answer_text_is_validated(avito: AvitoSimulator, text: str) -> None:
    params = {"id": account(), "reviewId": "150"}
    status, body = call_route(
        reviews_answer, "POST", "/api/v1/accounts/{id}/reviews/{reviewId}/answer", params, body={"text": text}
    )
    assert status == 422 and body["error"]["details"][0]["field"] == "text"
    assert avito.count("POST", r"^/ratings/v1/answers") == 0


def test_delete_finds_an_answer_given_elsewhere(avito: AvitoSimulator) -> None:
    """The answer to review 500 was given in Avito's app: the service finds its id in Avito's list."""
    account_id = account()
    params = {"id": account_id, "reviewId": "500"}
    status, body = call_route(reviews_answer, "DELETE", "/api/v1/accounts/{id}/reviews/{reviewId}/answer", params)
    assert status == 200, body
    assert avito.count("DELETE", r"^/ratings/v1/answers/\d+$") == 1


@pytest.mark.parametrize(("client_id", "status"), [("rc-2", 403), ("rc-3", 402)])
def test_accounts_without_access(avito: AvitoSimulator, client_id: str, status: int) -> None:
    account_id = account(client_id)
    answer = get(reviews_rating, "/api/v1/accounts/{id}/rating", {"id": account_id})
    assert answer[0] == 502 and answer[1]["error"]["code"] == "reviews_not_available", answer
    answer = get(reviews_list, "/api/v1/accounts/{id}/reviews", {"id": account_id})
    assert answer[0] == 502 and answer[1]["error"]["code"] == "reviews_not_available"
    answer = get(calls_list, "/api/v1/accounts/{id}/calls", {"id": account_id})
    assert answer[0] == 502 and answer[1]["error"]["code"] == "calls_not_available"
    assert f"HTTP {status}" in answer[1]["error"]["message"]
    answer = get(calls_record, "/api/v1/accounts/{id}/calls/{callId}/record", {"id": account_id, "callId": "900"})
    assert answer[0] == 502 and answer[1]["error"]["code"] == "calls_not_available"


def test_avito_429_is_a_429_after_the_retries(avito: AvitoSimulator, monkeypatch: pytest.MonkeyPatch) -> None:
    account_id = account()
    avito.add_fault(r"^/ratings/v1/info", status=429, retry_after=30, times=None)
    status, body = get(reviews_rating, "/api/v1/accounts/{id}/rating", {"id": account_id})
    assert status in (429, 502) and body["success"] is False
    # the Retry-After is remembered: the next call is refused at once without reaching Avito
    before = avito.count("GET", r"^/ratings/v1/info")
    status, body = get(reviews_rating, "/api/v1/accounts/{id}/rating", {"id": account_id})
    assert status == 429 and body["error"]["code"] == "too_many_requests", body
    assert avito.count("GET", r"^/ratings/v1/info") == before


def test_calls_window_paging_and_validation(avito: AvitoSimulator) -> None:
    account_id = account()
    resource = "/api/v1/accounts/{id}/calls"
    status, body = get(calls_list, resource, {"id": account_id}, query={"limit": "1"})
    assert status == 200, body
    assert [c["id"] for c in body["data"]] == ["900"] and body["nextCursor"]
    first = body["data"][0]
    assert first["callerPhone"] == "79161234567" and first["callTime"].endswith("Z")
    status, body = get(calls_list, resource, {"id": account_id}, query={"limit": "1", "cursor": body["nextCursor"]})
    assert [c["id"] for c in body["data"]] == ["901"]
    sent = avito.requests[-1].body
    assert sent["offset"] == 1 and sent["limit"] == 1 and sent["dateTimeFrom"].endswith("Z")
    too_long = get(calls_list, resource, {"id": account_id}, query={"from": "2026-01-01T00:00:00Z", "to": "2026-06-01"})
    assert too_long[0] == 422 and too_long[1]["error"]["details"][0]["field"] == "to"
    backwards = get(calls_list, resource, {"id": account_id}, query={"from": "2026-06-01", "to": "2026-05-01"})
    assert backwards[0] == 422
    assert get(calls_list, resource, {"id": account_id}, query={"from": "yesterday"})[0] == 422
    for edge in ({"from": "9999-12-31T00:00:00Z"}, {"to": "0001-01-02T00:00:00Z"}):
        assert get(calls_list, resource, {"id": account_id}, query=edge)[0] == 422, edge
    alone = get(calls_list, resource, {"id": account_id}, query={"from": "2026-01-01T00:00:00Z"})
    assert alone[0] == 200, alone  # `to` defaults to 92 days after an old `from`
    assert avito.requests[-1].body["dateTimeTo"] == "2026-04-03T00:00:00Z"


def test_call_tracking_429_keeps_avitos_five_a_minute(avito: AvitoSimulator) -> None:
    account_id = account()
    resource = "/api/v1/accounts/{id}/calls"
    statuses = [get(calls_list, resource, {"id": account_id})[0] for _ in range(6)]
    assert statuses[:5] == [200] * 5
    assert statuses[5] == 429  # the sixth in a minute waits for no slot inside a request: 429 at once
    assert avito.count("POST", r"^/calltracking/v1/getCalls") == 5


def test_recording_link_audio_and_not_ready(avito: AvitoSimulator) -> None:
    account_id = account()
    resource = "/api/v1/accounts/{id}/calls/{callId}/record"
    status, body = get(calls_record, resource, {"id": account_id, "callId": "900"})
    assert status == 200, body
    url = body["data"]["url"]
    assert url.startswith("/api/v1/recordings/") and body["data"]["expiresAt"].endswith("Z")
    token = url.rsplit("/", 1)[1]
    event = api_event("GET", url, resource="/api/v1/recordings/{token}", path_parameters={"token": token}, role=None)
    event["headers"]["Accept"] = "audio/mpeg"
    result = recordings_get.lambda_handler(event, FakeContext())
    assert result["statusCode"] == 200 and result["isBase64Encoded"] is True
    assert base64.b64decode(result["body"]) == AUDIO
    headers = result.get("multiValueHeaders") or {}
    assert headers.get("Content-Type") == ["audio/mpeg"]
    not_ready = get(calls_record, resource, {"id": account_id, "callId": "901"})
    assert not_ready[0] == 404 and not_ready[1]["error"]["code"] == "recording_not_found"
    assert "yet" in not_ready[1]["error"]["message"]
    unknown = get(calls_record, resource, {"id": account_id, "callId": "999"})
    assert unknown[0] == 404


def test_recording_link_refuses_forged_and_expired_tokens(avito: AvitoSimulator) -> None:
    account_id = account()
    old = calls_service.recording_link(account_id, "900", now=time.time() - 3600)
    token = old.url.rsplit("/", 1)[1]
    for bad in (token, token[:-4] + "AAAA", "a" * 40):
        status, body = call(
            recordings_get,
            "GET",
            f"/api/v1/recordings/{bad}",
            resource="/api/v1/recordings/{token}",
            path_parameters={"token": bad},
            role=None,
        )
        assert status == 403 and body["error"]["code"] == "link_expired", body


def test_daily_sync_stores_new_reviews_and_calls_and_announces_only_new_reviews(avito: AvitoSimulator) -> None:

    account_id = account()
    first = daily.sync_account(account_id, max_wait=0)
    assert (first.newReviews, first.newCalls, first.skipped) == (61, 2, None)  # every page had new ones; both calls
    messenger = table(get_settings().messenger_table)
    old_item = messenger.get_item(Key=review_key(account_id, "500"))["Item"]
    assert frames_for("INSERT", None, old_item) == []  # the first fill is history, not news
    avito.add_review(USER, 1, "Ужасно", review_id=777, created=NOW + 5)
    try:
        second = daily.sync_account(account_id, max_wait=0)
        assert (second.newReviews, second.newCalls) == (1, 0)
        item = messenger.get_item(Key=review_key(account_id, "777"))["Item"]
        [frame] = frames_for("INSERT", None, item)
        assert frame.event == "avito-new-review" and frame.account_id == account_id
        assert frame.data["review"]["text"] == "Ужасно" and frame.data["review"]["score"] == 1
    finally:
        avito.account(USER).reviews = [r for r in avito.account(USER).reviews if r.review_id != 777]


def test_daily_sync_skips_what_an_account_cannot_use(avito: AvitoSimulator) -> None:

    result = daily.sync_account(account("rc-2"), max_wait=0)
    assert (result.newReviews, result.newCalls, result.skipped) == (0, 0, "reviews, calls")


def test_deleting_an_account_removes_its_stored_reviews_and_calls(avito: AvitoSimulator) -> None:
    account_id = account()
    daily.sync_account(account_id, max_wait=0)
    assert partition(reviews_pk(account_id)) and partition(calls_pk(account_id))
    accounts.delete_account(account_id)
    clean_up(account_id, now=time.time() + 120)
    assert partition(reviews_pk(account_id)) == [] and partition(calls_pk(account_id)) == []
    gone = {"pk": reviews_pk(account_id), "sk": "REVIEW#1", "accountId": account_id, "reviewJson": "{}"}
    assert put_once(gone, account_id) is False  # nothing is written for a deleted account
    assert partition(reviews_pk(account_id)) == []
