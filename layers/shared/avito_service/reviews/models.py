"""Shapes of ratings, reviews and answers (Avito's ``reviews.json`` in the service's camelCase API form)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from avito_service.base import Model

ANSWER_MAX_CHARS = 1000
AnswerText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=ANSWER_MAX_CHARS)]


def iso_from_unix(value: Any) -> str | None:
    """Avito's unix seconds -> ISO 8601 UTC (None for what is not a plausible time)."""
    try:
        seconds = int(value)
        return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if seconds > 0 else None
    except (TypeError, ValueError, OverflowError, OSError):
        return None


class Rating(Model):
    isEnabled: bool = Field(description="whether Avito shows a rating for the account")
    score: float | None = Field(default=None, description="the rating, e.g. 4.3 (null when disabled)")
    reviewsCount: int | None = Field(default=None, description="active reviews")
    reviewsWithScoreCount: int | None = Field(default=None, description="active reviews that make the score")


class ReviewAnswer(Model):
    id: str
    text: str
    status: Literal["moderation", "published", "rejected"] | str = Field(description="moderation, published, rejected")
    createdAt: str | None = None
    rejectReasons: list[str] = Field(default_factory=list, description="titles of Avito's reasons, when rejected")


class Review(Model):
    id: str = Field(description="Avito's review id")
    accountId: str
    score: int = Field(description="1-5")
    stage: str = Field(description="done, fell_through, not_agree, not_communicate")
    text: str
    createdAt: str | None
    usedInScore: bool
    canAnswer: bool = Field(description="Avito accepts an answer now")
    senderName: str | None = None
    itemId: str | None = None
    itemTitle: str | None = None
    images: list[str] = Field(default_factory=list, description="links to the review's photos (largest size)")
    answer: ReviewAnswer | None = None


class AnswerRequest(Model):
    text: AnswerText = Field(description="the answer, 1-1000 characters")


class AnswerDeleted(Model):
    reviewId: str
    deleted: bool


def answer_from_avito(raw: Any) -> ReviewAnswer | None:
    if not isinstance(raw, dict) or raw.get("id") is None:
        return None
    reasons = [str(r.get("title")) for r in raw.get("reject_reasons") or [] if isinstance(r, dict) and r.get("title")]
    return ReviewAnswer(
        id=str(raw["id"]),
        text=str(raw.get("text") or ""),
        status=str(raw.get("status") or "moderation"),
        createdAt=iso_from_unix(raw.get("createdAt")),
        rejectReasons=reasons,
    )


def _largest_image(raw: Any) -> str | None:
    listed = raw.get("sizes") if isinstance(raw, dict) else None
    sizes = [s for s in listed or [] if isinstance(s, dict) and s.get("url")]

    def area(size: dict[str, Any]) -> int:
        width, _, height = str(size.get("size", "0x0")).partition("x")
        return int(width) * int(height) if width.isdigit() and height.isdigit() else 0

    return str(max(sizes, key=area)["url"]) if sizes else None


def review_from_avito(account_id: str, raw: dict[str, Any]) -> Review:
    """One of ``getReviewsV1``'s reviews; raises ValueError/KeyError/TypeError for one that lacks what we need."""
    sender = raw.get("sender") if isinstance(raw.get("sender"), dict) else None
    item = raw.get("item") if isinstance(raw.get("item"), dict) else None
    answer = answer_from_avito(raw.get("answer"))
    return Review(
        id=str(int(raw["id"])),
        accountId=account_id,
        score=int(raw.get("score") or 0),
        stage=str(raw.get("stage") or ""),
        text=str(raw.get("text") or ""),
        createdAt=iso_from_unix(raw.get("createdAt")),
        usedInScore=bool(raw.get("usedInScore")),
        canAnswer=bool(raw.get("canAnswer")) and answer is None,
        senderName=str(sender["name"]) if sender and sender.get("name") is not None else None,
        itemId=str(item["id"]) if item and item.get("id") is not None else None,
        itemTitle=str(item.get("title")) if item and item.get("title") is not None else None,
        images=[url for url in (_largest_image(i) for i in raw.get("images") or []) if url],
        answer=answer,
    )


def rating_from_avito(raw: dict[str, Any]) -> Rating:
    rating = raw.get("rating") if isinstance(raw.get("rating"), dict) else None
    enabled = bool(raw.get("isEnabled"))
    if not enabled or rating is None:
        return Rating(isEnabled=enabled)
    return Rating(
        isEnabled=True,
        score=float(rating.get("score") or 0),
        reviewsCount=int(rating.get("reviewsCount") or 0),
        reviewsWithScoreCount=int(rating.get("reviewsWithScoreCount") or 0),
    )
