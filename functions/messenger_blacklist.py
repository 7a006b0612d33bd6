"""POST /api/v1/messenger/accounts/{accountId}/blacklist: block an Avito user for the account."""

from typing import Annotated

from avito_service.api import ApiModel, Envelope, PathAccountId, any_role, doc, ok, rest_app, rest_handler
from avito_service.messenger import service as messenger
from avito_service.messenger.models import BlacklistReason, BlacklistResult
from pydantic import Field, StringConstraints

app = rest_app()

# Avito's user and item ids are int64 (addBlacklistRequestBody): positive decimals of up to 18 digits fit.
AvitoId = Annotated[str, StringConstraints(pattern=r"^[1-9][0-9]{0,17}$")]


class BlacklistRequest(ApiModel):
    userId: AvitoId = Field(description="Avito user id to block (decimal)")
    itemId: AvitoId | None = Field(default=None, description="the item the user wrote about (optional)")
    reason: BlacklistReason = Field(description="mapped to Avito's reason_id: spam 1, fraud 2, insults 3, other 4")


@app.post(
    "/api/v1/messenger/accounts/<accountId>/blacklist",
    summary="Block an Avito user for this account",
    tags=["Messenger"],
    responses=doc(Envelope[BlacklistResult], 400, 404, 502, 504),
    middlewares=[any_role],
)
def blacklist(accountId: PathAccountId, body: BlacklistRequest):
    return ok(messenger.blacklist(accountId, body.userId, item_id=body.itemId, reason=body.reason))


lambda_handler = rest_handler(app)
