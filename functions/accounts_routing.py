"""GET (any role) and PUT (admin) /api/v1/accounts/{id}/routing: the account's auto-assignment and its waiting
alerts' thresholds (contract, "Chat workflow")."""

from avito_service.api import (
    AccountId,
    Envelope,
    admin_only,
    any_role,
    current_caller,
    doc,
    ok,
    rest_app,
    rest_handler,
)
from avito_service.audit import service as audit
from avito_service.workflow import routing
from avito_service.workflow.models import Routing, RoutingIn

app = rest_app()


@app.get(
    "/api/v1/accounts/<id>/routing",
    summary="An account's routing and waiting alerts",
    tags=["Chat workflow"],
    responses=doc(Envelope[Routing], 404),
    middlewares=[any_role],
)
def get_routing(id: AccountId):
    return ok(routing.get_routing(id))


@app.put(
    "/api/v1/accounts/<id>/routing",
    summary="Set an account's routing and waiting alerts",
    description="`mode`: off, round_robin or least_busy (a new chat goes to an available operator who may see the "
    "account); `maxOpenPerOperator` 1-200; `waitAlertMinutes`: 1-3 thresholds (default [5, 15, 30]).",
    tags=["Chat workflow"],
    responses=doc(Envelope[Routing], 400, 404),
    middlewares=[admin_only],
)
def put_routing(id: AccountId, body: RoutingIn):
    saved = routing.put_routing(id, body)
    caller = current_caller(app)
    audit.record(caller.sub, caller.name, "account.routing", f"account:{id}", saved.model_dump(mode="json"))
    return ok(saved)


lambda_handler = rest_handler(app)
