"""PUT /api/v1/accounts/{id}: partial update with optimistic locking on ``version`` (admin only)."""

from avito_service.accounts import service
from avito_service.accounts.models import Account, AccountUpdate
from avito_service.api import AccountId, Envelope, admin_only, current_caller, doc, ok, rest_app, rest_handler
from avito_service.audit import service as audit
from avito_service.avito import tokens as _avito_tokens  # noqa: F401 - at init: a change of credentials forgets the token

app = rest_app()


@app.put(
    "/api/v1/accounts/<id>",
    summary="Update an account (partial; null clears a field)",
    tags=["Accounts"],
    responses=doc(Envelope[Account], 400, 404, 409),
    middlewares=[admin_only],
)
def update_account(id: AccountId, body: AccountUpdate):
    account = service.update_account(id, body)
    audited("account.update", f"account:{id}", body.model_dump(mode="json", exclude_unset=True))
    return ok(account)


def audited(action: str, target: str, details: dict | None = None) -> None:
    caller = current_caller(app)
    audit.record(caller.sub, caller.name, action, target, details)


lambda_handler = rest_handler(app)
