"""DELETE /api/v1/accounts/{id}/webhook: unsubscribe the account's webhook URL at Avito (admin)."""

from avito_service.api import AccountId, Envelope, admin_only, doc, ok, rest_app, rest_handler
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
    return ok(subscriptions.unsubscribe(id))


lambda_handler = rest_handler(app)
