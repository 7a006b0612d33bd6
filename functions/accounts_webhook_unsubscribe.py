"""DELETE /api/v1/accounts/{id}/webhook: unsubscribe the account's webhook URL at Avito (admin)."""

from avito_service.api import AccountId, Envelope, admin_only, current_caller, doc, ok, rest_app, rest_handler
from avito_service.audit import service as audit
from avito_service.webhooks import subscriptions

app = rest_app()


@app.delete(
    "/api/v1/accounts/<id>/webhook",
    summary="Unsubscribe the account's webhook URL at Avito",
    tags=["Webhooks"],
    responses=doc(Envelope[subscriptions.WebhookStatus], 404, 502, 504),
    middlewares=[admin_only],
)
def unsubscribe(id: AccountId):
    status = subscriptions.unsubscribe(id)
    audited("webhook.unsubscribe", f"account:{id}")
    return ok(status)


def audited(action: str, target: str, details: dict | None = None) -> None:
    caller = current_caller(app)
    audit.record(caller.sub, caller.name, action, target, details)


lambda_handler = rest_handler(app)
