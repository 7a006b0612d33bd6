"""GET/PUT /api/v1/me/presence: the caller's own ``away`` / ``available`` (auto-assignment skips an away operator);
the console reads it back so its presence switch shows the stored state after a reload or in another browser."""

from avito_service import clock
from avito_service.api import Envelope, any_role, current_caller, doc, ok, rest_app, rest_handler
from avito_service.workflow import store
from avito_service.workflow.models import Presence, PresenceIn

app = rest_app()


@app.get(
    "/api/v1/me/presence",
    summary="One's presence",
    description="`available` (the default, also when never set) or `away`, as set with PUT.",
    tags=["Chat workflow"],
    responses=doc(Envelope[Presence]),
    middlewares=[any_role],
)
def get_presence():
    caller = current_caller(app)
    away = caller.sub in store.away_users([caller.sub])
    return ok(Presence(userId=caller.sub, status="away" if away else "available"))


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
