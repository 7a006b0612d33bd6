"""Avito's ratings and reviews (``reviews.json``) and call tracking (``calltracking.json``) for one account.

Beside ``client.py`` (which is large) as a subclass of :class:`AvitoApi`: the same proxy, token, deadline, retries
and per-account limits (``limits.RULES``: call tracking's calls 5 a minute, recordings 50 a minute).

Faults: a 402 or 403 that a fresh token does not cure means the account has no access to that API (its tariff or
key): :class:`ReviewsNotAvailable` / :class:`CallsNotAvailable` (502, like ``messenger_not_available``). A call
whose recording Avito does not have yet (425, code 1005; "usually up to 30 minutes") or at all (404) is
:class:`RecordingNotFound` (404).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from avito_service.avito.client import SEND_RESERVE, AvitoApi, Call, avito_path
from avito_service.avito.errors import AvitoError
from avito_service.errors import NotFound, UpstreamError

REVIEWS_PAGE_MAX = 50  # getReviewsV1: limit 1-50
CALLS_PAGE_MAX = 100  # getCalls: limit at most 100
# The most audio one answer carries: a Lambda answer is at most 6 MB, base64 makes 4 bytes of 3 (see
# calls/service.py). At the 64 kbit/s of phone-call MP3s this is about 9 minutes.
RECORDING_MAX_BYTES = 4 * 1024 * 1024 + 256 * 1024


class ReviewsNotAvailable(AvitoError):
    """402/403 from the ratings API: the account's tariff or key has no access to reviews."""

    code = "reviews_not_available"


class CallsNotAvailable(AvitoError):
    """402/403 from call tracking (or an account that is not client-credentials): no access to calls."""

    code = "calls_not_available"


class RecordingNotFound(NotFound):
    """Avito has no recording of the call yet (425) or none at all (404)."""

    code = "recording_not_found"


class RecordingTooLarge(UpstreamError):
    code = "recording_too_large"


@dataclass(frozen=True)
class Recording:
    content_type: str
    data: bytes


def _denied(kind: type[AvitoError], what: str, error: AvitoError) -> AvitoError:
    return kind(
        f"This Avito account has no access to {what} (Avito answered HTTP {error.http_status}); it needs a tariff "
        "that includes it and the company's main-account key.",
        http_status=error.http_status,
        avito_code=error.avito_code,
        avito_message=error.avito_message,
        endpoint=error.endpoint,
    )


def _guard[T](kind: type[AvitoError], what: str, call: Callable[[], T]) -> T:
    try:
        return call()
    except AvitoError as error:
        if error.http_status in (402, 403) and not isinstance(error, kind):
            raise _denied(kind, what, error) from None
        raise


class InboundApi(AvitoApi):
    """Ratings, reviews with answers, calls and recordings of the account."""

    # --- ratings and reviews -------------------------------------------------------------------------------

    def _ratings(self, method: str, path: str, call: Call, **kwargs: Any) -> Any:
        return _guard(ReviewsNotAvailable, "ratings and reviews", lambda: self.request(method, path, call, **kwargs))

    def rating_info(self) -> dict[str, Any]:
        """``getRatingsInfoV1``: ``{isEnabled, rating: {score, reviewsWithScoreCount, reviewsCount} | null}``."""
        return self._ratings("GET", "/ratings/v1/info", Call("ratings.info")) or {}

    def reviews_page(self, offset: int, limit: int = REVIEWS_PAGE_MAX) -> dict[str, Any]:
        """``getReviewsV1``: ``{total, reviews}``, newest first (``limit`` 1-50)."""
        body = self._ratings(
            "GET", "/ratings/v1/reviews", Call("ratings.reviews"), params={"offset": offset, "limit": limit}
        )
        body = body if isinstance(body, dict) else {}
        return {"total": int(body.get("total") or 0), "reviews": list(body.get("reviews") or [])}

    def create_review_answer(self, review_id: int, text: str) -> dict[str, Any]:
        """``createReviewAnswerV1``: ``{id, createdAt}``. Never retried once it may have reached Avito (a review has
        one answer: a repeat would be refused), and not started unless a reserve is left to store the answer."""
        body = self._ratings(
            "POST",
            "/ratings/v1/answers",
            Call("ratings.answer", idempotent=False, reserve=SEND_RESERVE),
            json={"reviewId": review_id, "message": text},
        )
        if not isinstance(body, dict) or body.get("id") is None:
            raise AvitoError("Avito's answer to the review had no id.", endpoint="ratings.answer")
        return body

    def remove_review_answer(self, answer_id: int) -> None:
        """``removeReviewAnswerV1``; Avito answers ``{success}``: ``false`` is a failure."""
        body = self._ratings(
            "DELETE",
            avito_path("/ratings/v1/answers/{}", int(answer_id)),
            Call("ratings.remove_answer", idempotent=False, reserve=SEND_RESERVE),
        )
        if not isinstance(body, dict) or body.get("success") is not True:
            raise AvitoError(
                "Avito did not remove the answer (it answered success: false).", endpoint="ratings.remove_answer"
            )

    # --- call tracking --------------------------------------------------------------------------------------

    def calls_page(self, date_from: str, date_to: str, *, limit: int = CALLS_PAGE_MAX, offset: int = 0) -> list[dict]:
        """``get_calls``: calls whose ``callTime`` is in [date_from, date_to] (RFC 3339, at most 3 months apart)."""
        body = _guard(
            CallsNotAvailable,
            "call tracking",
            lambda: self.request(
                "POST",
                "/calltracking/v1/getCalls/",
                Call("calltracking.calls"),
                json={"dateTimeFrom": date_from, "dateTimeTo": date_to, "limit": limit, "offset": offset},
            ),
        )
        return list((body or {}).get("calls") or []) if isinstance(body, dict) else []

    def call_record(self, call_id: int, *, check_only: bool = False) -> Recording:
        """``get_record_by_call_id``: the audio (``check_only``: only whether Avito has it; the body is not read).

        Raises :class:`RecordingNotFound` (not ready yet, or unknown) and :class:`RecordingTooLarge`."""

        def fetch() -> Any:
            return self.request(
                "GET",
                "/calltracking/v1/getRecordByCallId/",
                Call("calltracking.record", raw=True),
                params={"callId": int(call_id)},
                stream=True,
            )

        try:
            response = _guard(CallsNotAvailable, "call tracking", fetch)
        except AvitoError as error:
            if error.http_status in (404, 425):
                ready = "yet (Avito makes recordings available up to 30 minutes after a call)"
                raise RecordingNotFound(
                    f"Avito has no recording of call {int(call_id)} {ready if error.http_status == 425 else 'at all'}."
                ) from None
            raise
        content_type = response.headers.get("Content-Type", "audio/mpeg").split(";")[0].strip() or "audio/mpeg"
        with response:
            if check_only:
                return Recording(content_type, b"")
            data = bytearray()
            for chunk in response.iter_content(64 * 1024):
                data.extend(chunk)
                if len(data) > RECORDING_MAX_BYTES:
                    raise RecordingTooLarge(
                        f"The recording of call {int(call_id)} is larger than the {RECORDING_MAX_BYTES // 1024} KB "
                        "one answer can carry."
                    )
        return Recording(content_type, bytes(data))
