"""POST /api/v1/accounts/{id}/webhook: subscribe (or rotate) the account's secret webhook URL at Avito (admin);
``{"replaceForeign": true}`` unsubscribes other integrations' URLs first."""

from typing import Annotated

from avito_service.api import AccountId, Envelope, admin_only, current_caller, doc, ok, rest_app, rest_handler
from avito_service.audit import service as audit
from avito_service.webhooks import subscriptions
from aws_lambda_powertools.event_handler.openapi.params import Body

app = rest_app()


@app.post(
    "/api/v1/accounts/<id>/webhook",
    summary="Subscribe the account's webhook URL at Avito",
    tags=["Webhooks"],
    responses=doc(Envelope[subscriptions.WebhookStatus], 400, 404, 409, 502, 504),
    middlewares=[admin_only],
)
def subscribe(id: AccountId, body: Annotated[subscriptions.SubscribeRequest | None, Body()] = None):
    replace = (body or subscriptions.SubscribeRequest()).replaceForeign
    status = subscriptions.subscribe(id, replace_foreign=replace)
    audited("webhook.subscribe", f"account:{id}", {"replaceForeign": True} if replace else None)
    return ok(status)


def audited(action: str, target: str, details: dict | None = None) -> None:
    caller = current_caller(app)
    audit.record(caller.sub, caller.name, action, target, details)


lambda_handler = rest_handler(app)
