"""GET /api/v1/accounts/{id}/webhook: Avito's subscriptions for the account and whether ours is active (admin)."""

from avito_service.api import AccountId, Envelope, admin_only, doc, ok, rest_app, rest_handler
from avito_service.webhooks import subscriptions

app = rest_app()


@app.get(
    "/api/v1/accounts/<id>/webhook",
    summary="Webhook subscriptions at Avito (our secret masked)",
    tags=["Webhooks"],
    responses=doc(Envelope[subscriptions.WebhookStatus], 404, 502, 504),
    middlewares=[admin_only],
)
def webhook_status(id: AccountId):
    return ok(subscriptions.status(id))


lambda_handler = rest_handler(app)
