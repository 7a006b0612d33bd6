"""GET /api/v1/oauth/callback?code=&state=: where Avito sends the account owner after consent (no token: the
single-use state is the credential). Answers a small Russian page: 200 when the account is connected, 400 for a
used, expired or unknown state (nothing created), the upstream status when Avito failed."""

from typing import Annotated

from avito_service.api import doc, rest_app, rest_handler
from avito_service.audit import service as audit
from avito_service.errors import ServiceError
from avito_service.oauth import pages, service
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

app = rest_app()

Param = Annotated[str | None, Query(max_length=2048)]
PAGE = {"content": {"text/html": {"schema": {"type": "string"}}}}


@app.get(
    "/api/v1/oauth/callback",
    summary="Consent callback: creates the account from the owner's consent (no token)",
    description="Avito's redirect after the owner consented on a link from `POST /api/v1/accounts/connect-link`. "
    "A valid `state` creates the account (`authType: oauth`; an owner already connected gets the new consent) "
    "and answers a page that says so; a used, expired or unknown `state` is 400 and creates nothing.",
    tags=["Accounts"],
    responses={
        **doc(dict, 422, 429, public=True),
        200: {"description": "The account is connected (an HTML page)", **PAGE},
        400: {"description": "Used, expired or unknown state, or no consent (an HTML page)", **PAGE},
        409: {"description": "Consent links are not configured (an HTML page)", **PAGE},
        502: {"description": "Avito refused or failed the code exchange (an HTML page)", **PAGE},
        504: {"description": "Avito did not answer in time (an HTML page)", **PAGE},
    },
)
def callback(code: Param = None, state: Param = None, error: Param = None):
    try:
        connected = service.complete(code, state, error)
    except ServiceError as failure:
        return Response(failure.status, pages.CONTENT_TYPE, pages.refused(failure.code), pages.HEADERS)
    account = connected.account
    action = "account.connect" if connected.created else "account.reconnect"
    audit.record(connected.created_by or "oauth", None, action, f"account:{account.id}", {"name": account.name})
    page = pages.connected(account.name, reconnected=not connected.created)
    return Response(200, pages.CONTENT_TYPE, page, pages.HEADERS)


lambda_handler = rest_handler(app)
