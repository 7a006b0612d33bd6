"""GET /api/v1/accounts/{id}/calls/{callId}/record: a 5-minute link to the call's recording (any role).

404 ``recording_not_found`` while Avito has none yet (recordings come up to 30 minutes after a call)."""

from typing import Annotated

from avito_service.api import AccountId, Envelope, any_role, doc, ok, rest_app, rest_handler
from avito_service.calls import service
from avito_service.calls.models import RecordingLink
from aws_lambda_powertools.event_handler.openapi.params import Path

app = rest_app()

CallId = Annotated[str, Path(pattern=r"^[1-9][0-9]{0,18}$", description="Avito's callId (digits)")]


@app.get(
    "/api/v1/accounts/<id>/calls/<callId>/record",
    summary="A short-lived link to the call's recording (never stored; 404 while Avito has none yet)",
    tags=["Reviews and calls"],
    responses=doc(Envelope[RecordingLink], 404, 429, 502, 504),
    middlewares=[any_role],
)
def record_link(id: AccountId, callId: CallId):
    return ok(service.recording_link(id, callId))


lambda_handler = rest_handler(app)
