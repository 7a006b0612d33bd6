"""POST and DELETE /api/v1/accounts/{id}/reviews/{reviewId}/answer: answer a review, or remove the answer.

Every role: operators answer clients all day, and a quick answer to a bad review is part of that work (README,
"Reviews and calls").

An answer changes Avito's state and Avito keeps one per review, so it is never sent twice: the Avito call is not
retried once it may have arrived (502 ``avito_outcome_unknown``), and an ``Idempotency-Key`` header makes a
client's retry safe (the same key with the same text answers the first answer; ``avito_service.idempotency``).
"""

from typing import Annotated

from avito_service.api import (
    AccountId,
    Envelope,
    answer_once,
    any_role,
    doc,
    idempotency_key_header,
    ok,
    rest_app,
    rest_handler,
)
from avito_service.reviews import service
from avito_service.reviews.models import AnswerDeleted, AnswerRequest, ReviewAnswer
from aws_lambda_powertools.event_handler.openapi.params import Path

app = rest_app()

IdempotencyKey = idempotency_key_header("text")
ReviewId = Annotated[str, Path(pattern=r"^[1-9][0-9]{0,18}$", description="Avito's review id (digits)")]


@app.post(
    "/api/v1/accounts/<id>/reviews/<reviewId>/answer",
    summary="Answer a review (Avito moderates it first; one answer per review)",
    tags=["Reviews and calls"],
    responses=doc(Envelope[ReviewAnswer], 400, 404, 409, 429, 502, 504),
    middlewares=[any_role],
)
def answer_review(id: AccountId, reviewId: ReviewId, body: AnswerRequest, idempotency_key: IdempotencyKey = None):
    answer = answer_once(
        app,
        "reviews.answer",
        idempotency_key,
        fingerprint={"accountId": id, "reviewId": reviewId, "text": body.text},
        post=lambda: service.post_answer(id, reviewId, body.text),
        store=lambda posted: service.store_answer(id, reviewId, body.text, posted).model_dump(mode="json"),
    )
    return ok(answer)


@app.delete(
    "/api/v1/accounts/<id>/reviews/<reviewId>/answer",
    summary="Remove the account's answer to a review (404 answer_not_found when it has none)",
    tags=["Reviews and calls"],
    responses=doc(Envelope[AnswerDeleted], 404, 429, 502, 504),
    middlewares=[any_role],
)
def delete_answer(id: AccountId, reviewId: ReviewId):
    service.delete_answer(id, reviewId)
    return ok(AnswerDeleted(reviewId=reviewId, deleted=True))


lambda_handler = rest_handler(app)
