"""The simulator's ratings, reviews, answers, calls and recordings, against Avito's reviews.json and
calltracking.json (the required fields and types of each schema, the documented errors and limits)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import requests

from avito_sim import AvitoSimulator

USER = 5001
NO_RATINGS = 5002
PAYWALLED = 5003
NOW = int(time.time())
# required properties per schema (reviews.json Review, ReviewAnswer, Rating; calltracking.json Call)
REVIEW_REQUIRED = {"id": int, "score": int, "stage": str, "text": str, "usedInScore": bool, "canAnswer": bool}
ANSWER_REQUIRED = {"id": int, "text": str, "status": str, "createdAt": int}
CALL_REQUIRED = {
    "callId": int,
    "callTime": str,
    "talkDuration": int,
    "waitingDuration": (int, float),
    "buyerPhone": str,
    "sellerPhone": str,
    "virtualPhone": str,
}


@pytest.fixture(scope="module")
def sim() -> Iterator[AvitoSimulator]:
    with AvitoSimulator() as simulator:
        simulator.add_account("c-1", "s-1", USER, phone="79005550101")
        simulator.add_account("c-2", "s-2", NO_RATINGS, ratings="403", calltracking="403")
        simulator.add_account("c-3", "s-3", PAYWALLED, ratings="402", calltracking="402")
        simulator.add_review(
            USER, 5, "Отличный продавец", review_id=11, created=NOW - 300, item_id=7, item_title="Диван"
        )
        simulator.add_review(USER, 2, "Продавец не приехал", review_id=12, created=NOW - 200, stage="fell_through")
        simulator.add_review(USER, 4, "Хорошо", review_id=13, created=NOW - 100, answer="Спасибо!")
        simulator.add_call(USER, "79161234567", call_id=21, call_time=NOW - 3600, record=b"ID3-mp3-bytes")
        simulator.add_call(USER, "79167654321", call_id=22, call_time=NOW - 60)
        yield simulator


def headers(sim: AvitoSimulator, user_id: int = USER) -> dict[str, str]:
    return {"Authorization": f"Bearer {sim.issue_token(user_id)}"}


def call(sim: AvitoSimulator, method: str, path: str, user_id: int = USER, **kwargs: Any) -> requests.Response:
    return requests.request(method, f"{sim.base_url}{path}", headers=headers(sim, user_id), timeout=10, **kwargs)


def check_required(obj: dict[str, Any], required: dict[str, Any]) -> None:
    for name, kind in required.items():
        assert isinstance(obj[name], kind), (name, obj)
        assert not isinstance(obj[name], bool) or kind is bool, name


def rfc3339(ts: int) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_rating_info_follows_get_rating_info_response(sim: AvitoSimulator) -> None:
    info = call(sim, "GET", "/ratings/v1/info").json()
    assert info == {"isEnabled": True, "rating": {"score": 3.7, "reviewsWithScoreCount": 3, "reviewsCount": 3}}


def test_reviews_page_newest_first_with_answer(sim: AvitoSimulator) -> None:
    page = call(sim, "GET", "/ratings/v1/reviews", params={"offset": 0, "limit": 2}).json()
    assert page["total"] == 3
    assert [r["id"] for r in page["reviews"]] == [13, 12]
    for review in page["reviews"]:
        check_required(review, REVIEW_REQUIRED)
        assert review["stage"] in ("done", "fell_through", "not_agree", "not_communicate")
    answered = page["reviews"][0]
    check_required(answered["answer"], ANSWER_REQUIRED)
    assert answered["answer"]["status"] in ("moderation", "published", "rejected")
    assert answered["canAnswer"] is False
    rest = call(sim, "GET", "/ratings/v1/reviews", params={"offset": 2, "limit": 2}).json()
    assert [r["id"] for r in rest["reviews"]] == [11]
    assert rest["reviews"][0]["item"] == {"id": 7, "title": "Диван"}


@pytest.mark.parametrize(
    "params", [{"offset": 0}, {"limit": 5}, {"offset": 0, "limit": 51}, {"offset": -1, "limit": 5}]
)
def test_reviews_offset_and_limit_are_required_and_bounded(sim: AvitoSimulator, params: dict[str, int]) -> None:
    answer = call(sim, "GET", "/ratings/v1/reviews", params=params)
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "validation"  # ReviewError


def test_answer_create_and_remove(sim: AvitoSimulator) -> None:
    created = call(sim, "POST", "/ratings/v1/answers", json={"reviewId": 12, "message": "Извините!"})
    assert created.status_code == 200, created.text
    body = created.json()
    assert set(body) == {"id", "createdAt"} and isinstance(body["id"], int)
    review = next(r for r in sim.reviews(USER) if r["id"] == 12)
    assert review["answer"]["text"] == "Извините!" and review["answer"]["status"] == "moderation"
    again = call(sim, "POST", "/ratings/v1/answers", json={"reviewId": 12, "message": "ещё"})
    assert again.status_code == 400
    assert call(sim, "POST", "/ratings/v1/answers", json={"reviewId": 999, "message": "x"}).status_code == 404
    removed = call(sim, "DELETE", f"/ratings/v1/answers/{body['id']}")
    assert removed.json() == {"success": True}
    assert next(r for r in sim.reviews(USER) if r["id"] == 12)["answer"] is None
    assert call(sim, "DELETE", f"/ratings/v1/answers/{body['id']}").status_code == 404


def test_get_calls_in_window_with_error_code_zero(sim: AvitoSimulator) -> None:
    body = {"dateTimeFrom": rfc3339(NOW - 7200), "dateTimeTo": rfc3339(NOW), "limit": 100, "offset": 0}
    answer = call(sim, "POST", "/calltracking/v1/getCalls/", json=body).json()
    assert answer["error"] == {"code": 0, "message": ""}
    assert [c["callId"] for c in answer["calls"]] == [21, 22]
    for found in answer["calls"]:
        check_required(found, CALL_REQUIRED)
    assert answer["calls"][0]["sellerPhone"] == "79005550101"
    narrow = call(sim, "POST", "/calltracking/v1/getCalls/", json={**body, "dateTimeTo": rfc3339(NOW - 600)}).json()
    assert [c["callId"] for c in narrow["calls"]] == [21]
    paged = call(sim, "POST", "/calltracking/v1/getCalls/", json={**body, "limit": 1, "offset": 1}).json()
    assert [c["callId"] for c in paged["calls"]] == [22]


def test_get_calls_errors_come_inside_a_200(sim: AvitoSimulator) -> None:
    too_long = {
        "dateTimeFrom": rfc3339(NOW - 200 * 86400),
        "dateTimeTo": rfc3339(NOW),
        "limit": 10,
        "offset": 0,
    }
    answer = call(sim, "POST", "/calltracking/v1/getCalls/", json=too_long)
    assert answer.status_code == 200
    assert answer.json()["error"]["code"] == 1001
    no_limit = call(sim, "POST", "/calltracking/v1/getCalls/", json={"dateTimeFrom": rfc3339(NOW), "offset": 0})
    assert no_limit.json()["error"]["code"] == 1001
    by_id = call(sim, "POST", "/calltracking/v1/getCallById/", json={"callId": 21}).json()
    assert by_id["call"]["callId"] == 21 and by_id["error"]["code"] == 0
    missing = call(sim, "POST", "/calltracking/v1/getCallById/", json={"callId": 99}).json()
    assert missing["error"]["code"] == 1004


def test_recording_audio_not_ready_and_unknown(sim: AvitoSimulator) -> None:
    ready = call(sim, "GET", "/calltracking/v1/getRecordByCallId/", params={"callId": 21})
    assert ready.status_code == 200
    assert ready.headers["Content-Type"] == "audio/mpeg"
    assert ready.content == b"ID3-mp3-bytes"
    assert int(ready.headers["Content-Length"]) == len(b"ID3-mp3-bytes")
    early = call(sim, "GET", "/calltracking/v1/getRecordByCallId/", params={"callId": 22})
    assert early.status_code == 425
    assert early.json() == {"code": 1005, "message": "call record is not ready yet"}  # GetCallRecordError
    unknown = call(sim, "GET", "/calltracking/v1/getRecordByCallId/", params={"callId": 99})
    assert unknown.status_code == 404 and unknown.json()["code"] == 1004


@pytest.mark.parametrize(("user_id", "status"), [(NO_RATINGS, 403), (PAYWALLED, 402)])
def test_accounts_without_access(sim: AvitoSimulator, user_id: int, status: int) -> None:
    assert call(sim, "GET", "/ratings/v1/info", user_id).status_code == status
    assert call(sim, "GET", "/ratings/v1/reviews", user_id, params={"offset": 0, "limit": 5}).status_code == status
    body = {"dateTimeFrom": rfc3339(NOW - 60), "limit": 10, "offset": 0}
    assert call(sim, "POST", "/calltracking/v1/getCalls/", user_id, json=body).status_code == status
    record = call(sim, "GET", "/calltracking/v1/getRecordByCallId/", user_id, params={"callId": 21})
    assert record.status_code == status


def test_call_tracking_limit_five_a_minute() -> None:
    with AvitoSimulator(rate_limits=True, time_scale=0.05) as limited:  # a 3-second "minute"
        limited.add_account("c", "s", 1)
        body = {"dateTimeFrom": rfc3339(NOW - 60), "limit": 10, "offset": 0}
        statuses = [call(limited, "POST", "/calltracking/v1/getCalls/", 1, json=body).status_code for _ in range(6)]
        assert statuses == [200] * 5 + [429]
        assert limited.rate_limited == 1
        time.sleep(3.1)
        assert call(limited, "POST", "/calltracking/v1/getCalls/", 1, json=body).status_code == 200
