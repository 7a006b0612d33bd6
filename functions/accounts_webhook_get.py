"""GET /api/v1/accounts/{id}/webhook: Avito's subscriptions for the account and whether ours is active (admin)."""

from avito_service.api import AccountId, Envelope, admin_only, doc, install_error_handlers, ok, rest_handler
from avito_service.cors import cors_config
from avito_service.webhooks import subscriptions
from aws_lambda_powertools.event_handler import APIGatewayRestResolver

app = APIGatewayRestResolver(enable_validation=True, cors=cors_config())
install_error_handlers(app)


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
