"""Ratings, reviews with answers (reviews.json) and call tracking's calls and recordings (calltracking.json).

Shapes follow Avito's documents:

* ``GET /ratings/v1/info`` -> ``{isEnabled, rating: {score, reviewsWithScoreCount, reviewsCount} | null}``
* ``GET /ratings/v1/reviews?offset=&limit=`` (both required; limit 1-50) -> ``{total, reviews: [Review]}``,
  newest first; a 400 is ``{"error": {"code": "validation", "message"}}`` (ReviewError)
* ``POST /ratings/v1/answers`` ``{reviewId, message}`` -> ``{id, createdAt}`` (the answer goes to moderation);
  ``DELETE /ratings/v1/answers/{answer_id}`` -> ``{success: true}``; 404 for an unknown review or answer
* ``POST /calltracking/v1/getCalls/`` ``{dateTimeFrom, dateTimeTo?, limit (<=100), offset}`` and
  ``POST /calltracking/v1/getCallById/`` ``{callId}``: HTTP 200 with ``error: {code, message}`` (code 0 = no error,
  1001 validation, 1004 not found)
* ``GET /calltracking/v1/getRecordByCallId/?callId=``: the audio (``audio/mpeg``), or ``{code, message}`` with
  404 (code 1004) or 425 "too early" (code 1005: the recording is not ready yet, usually up to 30 minutes)

Limits (``x-rate-limiter`` of calltracking.json, calls a minute per account): getCalls 5, getCallById 5,
getRecordByCallId 50; enforced when the simulator runs with ``rate_limits=True`` (``server.RATE_LIMITS``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from .errors import ApiError
from .models import now_ts

if TYPE_CHECKING:
    from .handlers import Context, Result

REVIEW_STAGES = ("done", "fell_through", "not_agree", "not_communicate")
REVIEWS_MAX_LIMIT = 50
CALLS_MAX_LIMIT = 100
CALLS_DEFAULT_SPAN = timedelta(days=30)  # dateTimeTo defaults to dateTimeFrom + 1 month
CALLS_MAX_SPAN = timedelta(days=92)  # and may be at most dateTimeFrom + 3 months
NO_ERROR = {"code": 0, "message": ""}
# calltracking.json ``x-rate-limiter``: calls a minute per account, by handler name
RATE_LIMITS = {"get_calls": (5, 60.0), "get_call_by_id": (5, 60.0), "get_record": (50, 60.0)}


@dataclass
class ReviewAnswer:
    answer_id: int
    text: str
    created: int
    status: str = "moderation"  # moderation, published, rejected
    reject_reasons: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self.answer_id,
            "text": self.text,
            "status": self.status,
            "createdAt": self.created,
        }
        if self.reject_reasons:
            body["reject_reasons"] = list(self.reject_reasons)
        return body


@dataclass
class Review:
    """One review of the account (a buyer's score and text), with the account's answer if any."""

    review_id: int
    score: int
    text: str
    created: int
    stage: str = "done"
    sender_name: str | None = "Покупатель"
    item_id: int | None = None
    item_title: str | None = None
    used_in_score: bool = True
    can_answer: bool = True
    answer: ReviewAnswer | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.review_id,
            "score": self.score,
            "stage": self.stage,
            "text": self.text,
            "usedInScore": self.used_in_score,
            "canAnswer": self.can_answer and self.answer is None,
            "createdAt": self.created,
            "sender": {"name": self.sender_name} if self.sender_name is not None else None,
            "item": {"id": self.item_id, "title": self.item_title or ""} if self.item_id is not None else None,
            "answer": self.answer.to_json() if self.answer else None,
            "images": [],
        }


@dataclass
class TrackedCall:
    """One call to the account's call-tracking number; ``record`` None: the recording is not ready yet."""

    call_id: int
    call_time: int
    buyer_phone: str
    seller_phone: str
    virtual_phone: str
    talk_duration: int = 60
    waiting_duration: float = 5.0
    item_id: int | None = None
    record: bytes | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "callId": self.call_id,
            "callTime": datetime.fromtimestamp(self.call_time, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "talkDuration": self.talk_duration,
            "waitingDuration": self.waiting_duration,
            "buyerPhone": self.buyer_phone,
            "sellerPhone": self.seller_phone,
            "virtualPhone": self.virtual_phone,
            "itemId": self.item_id,
        }


@dataclass
class Binary:
    """A non-JSON answer (a recording)."""

    data: bytes
    content_type: str


# ---------------------------------------------------------------- ratings and reviews


def _review_error(message: str) -> ApiError:
    return ApiError(400, message, {"error": {"code": "validation", "message": message}})


def _query_int(ctx: Context, name: str, low: int, high: int | None) -> int:
    raw = ctx.query.get(name)
    if raw is None or raw == "":
        raise _review_error(f"Field `{name}` is required")
    try:
        value = int(raw)
    except ValueError:
        raise _review_error(f"Field `{name}` is not integer") from None
    if value < low or (high is not None and value > high):
        raise _review_error(f"Field `{name}` must be between {low} and {high}")
    return value


def rating_info(ctx: Context) -> Result:
    """``GET /ratings/v1/info``: the score is the mean of the reviews used in it (one decimal)."""
    account = ctx.acc
    if not account.rating_enabled:
        return 200, {"isEnabled": False, "rating": None}
    scored = [r.score for r in account.reviews if r.used_in_score]
    score = round(sum(scored) / len(scored), 1) if scored else 0.0
    rating = {"score": score, "reviewsWithScoreCount": len(scored), "reviewsCount": len(account.reviews)}
    return 200, {"isEnabled": True, "rating": rating}


def reviews_list(ctx: Context) -> Result:
    """``GET /ratings/v1/reviews``: newest first, ``offset`` and ``limit`` (1-50) required."""
    offset = _query_int(ctx, "offset", 0, None)
    limit = _query_int(ctx, "limit", 1, REVIEWS_MAX_LIMIT)
    reviews = sorted(ctx.acc.reviews, key=lambda r: (r.created, r.review_id), reverse=True)
    return 200, {"total": len(reviews), "reviews": [r.to_json() for r in reviews[offset : offset + limit]]}


def create_answer(ctx: Context) -> Result:
    """``POST /ratings/v1/answers`` ``{reviewId, message}``: one answer per review, to moderation."""
    body = ctx.json_body()
    review_id, message = body.get("reviewId"), body.get("message")
    if isinstance(review_id, bool) or not isinstance(review_id, int):
        raise _review_error("Field `reviewId` is not integer")
    if not isinstance(message, str) or not message.strip():
        raise _review_error("Field `message` is required")
    review = next((r for r in ctx.acc.reviews if r.review_id == review_id), None)
    if review is None:
        raise ApiError(404, "review not found")
    if not review.can_answer or review.answer is not None:
        raise _review_error("the review cannot be answered")
    answer = ReviewAnswer(ctx.sim.next_id(), message, now_ts())
    review.answer = answer
    return 200, {"id": answer.answer_id, "createdAt": answer.created}


def remove_answer(ctx: Context) -> Result:
    """``DELETE /ratings/v1/answers/{answer_id}``."""
    answer_id = int(ctx.params["answer_id"])
    review = next((r for r in ctx.acc.reviews if r.answer and r.answer.answer_id == answer_id), None)
    if review is None:
        raise ApiError(404, "answer not found")
    review.answer = None
    return 200, {"success": True}


# ---------------------------------------------------------------- call tracking


def _ct_error(code: int, message: str) -> Result:
    """Call tracking reports request errors inside an HTTP 200 (``GetCallsResponse.error``)."""
    return 200, {"calls": [], "error": {"code": code, "message": message}}


def _rfc3339(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def get_calls(ctx: Context) -> Result:
    """``POST /calltracking/v1/getCalls/``: calls with ``callTime`` in [from, to], oldest first."""
    body = ctx.json_body()
    start = _rfc3339(body.get("dateTimeFrom"))
    if start is None:
        return _ct_error(1001, "dateTimeFrom: RFC3339 time required")
    end = _rfc3339(body.get("dateTimeTo")) if body.get("dateTimeTo") is not None else start + CALLS_DEFAULT_SPAN
    if end is None or end < start or end - start > CALLS_MAX_SPAN:
        return _ct_error(1001, "dateTimeTo: RFC3339 time, at most dateTimeFrom + 3 months")
    limit, offset = body.get("limit"), body.get("offset")
    for name, value, high in (("limit", limit, CALLS_MAX_LIMIT), ("offset", offset, None)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0 or (high is not None and value > high):
            return _ct_error(1001, f"{name}: integer required" + (f" (at most {high})" if high else ""))
    low, high_ts = start.timestamp(), end.timestamp()
    calls = sorted((c for c in ctx.acc.calls if low <= c.call_time <= high_ts), key=lambda c: (c.call_time, c.call_id))
    return 200, {"calls": [c.to_json() for c in calls[offset : offset + limit]], "error": dict(NO_ERROR)}


def get_call_by_id(ctx: Context) -> Result:
    """``POST /calltracking/v1/getCallById/`` ``{callId}``."""
    call_id = ctx.json_body().get("callId")
    if isinstance(call_id, bool) or not isinstance(call_id, int) or call_id < 1:
        return 200, {"call": None, "error": {"code": 1001, "message": "callId: positive integer required"}}
    found = next((c for c in ctx.acc.calls if c.call_id == call_id), None)
    if found is None:
        return 200, {"call": None, "error": {"code": 1004, "message": "call not found"}}
    return 200, {"call": found.to_json(), "error": dict(NO_ERROR)}


def get_record(ctx: Context) -> Result:
    """``GET /calltracking/v1/getRecordByCallId/?callId=``: ``audio/mpeg``, 404 (1004) or 425 (1005, not ready)."""
    raw = ctx.query.get("callId") or ""
    if not raw.isdigit():
        raise ApiError(400, body={"code": 1001, "message": "callId: integer required"})
    found = next((c for c in ctx.acc.calls if c.call_id == int(raw)), None)
    if found is None:
        raise ApiError(404, body={"code": 1004, "message": "call not found"})
    if found.record is None:
        raise ApiError(425, body={"code": 1005, "message": "call record is not ready yet"})
    return 200, Binary(found.record, "audio/mpeg")


# the routes (method, full-match path, handler, which API's access they need)
ROUTE_SPECS: tuple[tuple[str, str, Any, str], ...] = (
    ("GET", r"/ratings/v1/info/?", rating_info, "ratings"),
    ("GET", r"/ratings/v1/reviews/?", reviews_list, "ratings"),
    ("POST", r"/ratings/v1/answers/?", create_answer, "ratings"),
    ("DELETE", r"/ratings/v1/answers/(?P<answer_id>\d+)/?", remove_answer, "ratings"),
    ("POST", r"/calltracking/v1/getCalls/?", get_calls, "calltracking"),
    ("POST", r"/calltracking/v1/getCallById/?", get_call_by_id, "calltracking"),
    ("GET", r"/calltracking/v1/getRecordByCallId/?", get_record, "calltracking"),
)
