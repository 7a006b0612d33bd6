"""DELETE /api/v1/accounts/{id}: the account at once; its secret, chats, messages and webhook in the background."""

from avito_service.accounts import service
from avito_service.api import AccountId, Envelope, admin_only, current_caller, doc, ok, rest_app, rest_handler
from avito_service.audit import service as audit
from avito_service.base import Model

app = rest_app()


class Deleted(Model):
    id: str
    deleted: bool


@app.delete(
    "/api/v1/accounts/<id>",
    summary="Delete an account with its secret, chats and messages",
    description="The account is gone at once (nothing more is stored for it); its secret, stored chats and "
    "messages and its webhook subscription are removed in the background. Repeating the call while that "
    "cleanup runs answers the same; afterwards the id is 404.",
    tags=["Accounts"],
    responses=doc(Envelope[Deleted], 404, 409),
    middlewares=[admin_only],
)
def delete_account(id: AccountId):
    service.delete_account(id)
    audited("account.delete", f"account:{id}")
    return ok(Deleted(id=id, deleted=True))


def audited(action: str, target: str, details: dict | None = None) -> None:
    caller = current_caller(app)
    audit.record(caller.sub, caller.name, action, target, details)


lambda_handler = rest_handler(app)
