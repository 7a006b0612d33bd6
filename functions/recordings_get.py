"""GET /api/v1/recordings/{token}: the audio of a recording link (no Authorization header: the link's signed,
5-minute token is the credential, like a presigned URL, so an ``<audio>`` element can open it).

The audio is fetched from Avito through the account's proxy for this request and answered base64-encoded
(API Gateway decodes it for ``Accept: audio/mpeg``, one of the API's BinaryMediaTypes); nothing is stored."""

from typing import Annotated

from avito_service.api import doc, rest_app, rest_handler
from avito_service.calls import service
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path

app = rest_app()

LinkToken = Annotated[str, Path(min_length=20, max_length=2048, pattern=r"^[A-Za-z0-9_\-.]+$")]
AUDIO = {200: {"description": "The recording (audio/mpeg)", "content": {"audio/mpeg": {}}}}


@app.get(
    "/api/v1/recordings/<token>",
    summary="The audio of a recording link (no token header; 403 link_expired after 5 minutes)",
    tags=["Reviews and calls"],
    responses={**doc(dict, 403, 404, 422, 429, 502, 504, public=True), **AUDIO},
)
def recording(token: LinkToken):
    audio = service.recording(token)
    return Response(
        status_code=200,
        content_type=audio.content_type,
        body=audio.data,
        headers={"Cache-Control": "private, max-age=300", "Content-Disposition": "inline"},
    )


lambda_handler = rest_handler(app)
