"""POST /api/v1/accounts/connect-link: a consent link for an account's owner (admin only)."""

from avito_service.api import Envelope, admin_only, current_caller, doc, ok, rest_app, rest_handler
from avito_service.audit import service as audit
from avito_service.oauth import service
from avito_service.oauth.models import ConnectLink, ConnectLinkCreate

app = rest_app()


@app.post(
    "/api/v1/accounts/connect-link",
    summary="Create a consent link (OAuth) for an account's owner",
    description="A link to Avito's consent page with a single-use `state` valid 24 h. When the owner consents, "
    "Avito sends them to `GET /api/v1/oauth/callback`, which creates the account (`authType: oauth`). "
    "409 `oauth_not_configured` until the partner app's client id and secret are set.",
    tags=["Accounts"],
    responses=doc(Envelope[ConnectLink], 400, 409, 422),
    middlewares=[admin_only],
)
def create_connect_link(body: ConnectLinkCreate):
    caller = current_caller(app)
    link = service.create_link(body, created_by=caller.sub)
    details = body.model_dump(mode="json", exclude_unset=True) | {"expiresAt": link.expiresAt}
    audit.record(caller.sub, caller.name, "account.connect_link", "accounts", details)  # never the link or state
    return ok(link)


lambda_handler = rest_handler(app)
