"""POST /api/v1/messenger/accounts/{accountId}/voice-files: fresh links to voice messages (never stored)."""

from typing import Annotated

from avito_service.api import ApiModel, Envelope, PathAccountId, any_role, doc, ok, rest_app, rest_handler
from avito_service.messenger import service as messenger
from pydantic import Field, StringConstraints

app = rest_app()

VoiceId = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_.:~=+/-]+$")]


class VoiceFilesRequest(ApiModel):
    voiceIds: Annotated[
        list[VoiceId],
        Field(min_length=1, max_length=100, description="content.voice.voice_id of voice messages (1-100)"),
    ]


@app.post(
    "/api/v1/messenger/accounts/<accountId>/voice-files",
    summary="Links to voice messages' audio, fresh from Avito (valid an hour; ids Avito does not know are left out)",
    tags=["Messenger"],
    responses=doc(Envelope[dict[str, str]], 400, 404, 502, 504),
    middlewares=[any_role],
)
def voice_files(accountId: PathAccountId, body: VoiceFilesRequest):
    return ok(messenger.voice_files(accountId, body.voiceIds))


lambda_handler = rest_handler(app)
