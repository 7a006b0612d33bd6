"""The daily sync's reviews-and-calls task for one account (job kind ``sync-reviews-calls``).

New reviews are stored (``reviews.store``): an INSERT of a review newer than every stored one is announced as an
``avito-new-review`` frame by the MessengerTable stream's fan-out (``live.frames``). New calls are stored
(``calls.store``) from where the last sync stopped. An account without access to one of the two APIs (402/403,
or not client-credentials for call tracking) is not a failure: that part is skipped and said so.
"""

from __future__ import annotations

from dataclasses import dataclass

from avito_service import deadline
from avito_service.accounts import service as accounts
from avito_service.avito.inbound import CallsNotAvailable, InboundApi, ReviewsNotAvailable
from avito_service.calls import service as calls
from avito_service.config import get_settings
from avito_service.observability import logger
from avito_service.reviews import service as reviews


@dataclass
class InboundSync:
    newReviews: int = 0
    newCalls: int = 0
    avitoCalls: int = 0
    skipped: str | None = None  # what the account has no access to


def sync_account(account_id: str, *, max_wait: float, now: float | None = None) -> InboundSync:
    """One account's new reviews and calls (raises ``BudgetExhausted`` when Avito's budget is used up)."""
    result = InboundSync()
    client = InboundApi(accounts.load_context(account_id))
    client.limit_wait = max_wait
    skipped = []
    with deadline.budget(get_settings().avito_background_budget):
        try:
            new, requests = reviews.sync_new(client, account_id)
            result.newReviews, result.avitoCalls = len(new), result.avitoCalls + requests
        except ReviewsNotAvailable:
            skipped.append("reviews")
        try:
            calls.connect(account_id)  # refuses accounts that are not client-credentials
            new_calls, requests = calls.sync_new(client, account_id, now=now)
            result.newCalls, result.avitoCalls = new_calls, result.avitoCalls + requests
        except CallsNotAvailable:
            skipped.append("calls")
    result.skipped = ", ".join(skipped) or None
    logger.info(
        "Reviews and calls synced",
        extra={
            "account_id": account_id,
            "new_reviews": result.newReviews,
            "new_calls": result.newCalls,
            "avito_calls": result.avitoCalls,
            "skipped": result.skipped,
        },
    )
    return result
