"""PUT /api/v1/me/presence: the caller sets ``away`` or ``available`` (auto-assignment skips an away operator)."""

from avito_service import clock
from avito_service.api import Envelope, any_role, current_caller, doc, ok, rest_app, rest_handler
from avito_service.workflow import store
from avito_service.workflow.models import Presence, PresenceIn

app = rest_app()


@app.put(
    "/api/v1/me/presence",
    summary="Set one's presence",
    description="`available` (the default) or `away`. Auto-assignment gives chats only to available operators: "
    "a live WebSocket connection and not away.",
    tags=["Chat workflow"],
    responses=doc(Envelope[Presence], 400),
    middlewares=[any_role],
)
def set_presence(body: PresenceIn):
    caller = current_caller(app)
    store.set_away(caller.sub, body.status == "away", clock.iso())
    return ok(Presence(userId=caller.sub, status=body.status))


lambda_handler = rest_handler(app)
