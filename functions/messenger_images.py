"""POST /api/v1/messenger/accounts/{accountId}/chats/{chatId}/images: send an image (multipart field ``file``).

The body is read by ``avito_service.messenger.uploads`` (size before parsing, type by the bytes), not by
Powertools' validation: the route declares its multipart body for the OpenAPI document only.

An ``Idempotency-Key`` header makes a retry safe: the same key with the same image (by its SHA-256) for the same
account and chat answers the first answer and never sends the image twice (``avito_service.idempotency``).
"""

import hashlib

from avito_service.api import (
    ChatId,
    Envelope,
    PathAccountId,
    answer_once,
    any_role,
    current_caller,
    doc,
    idempotency_key_header,
    ok,
    rest_app,
    rest_handler,
)
from avito_service.messenger import service as messenger
from avito_service.messenger.models import Message, SentBy
from avito_service.messenger.uploads import FILE_FIELD, MAX_IMAGE_BYTES, read_image_upload

app = rest_app()

IdempotencyKey = idempotency_key_header("image", "image or chat")

REQUEST_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": [FILE_FIELD],
                "properties": {
                    FILE_FIELD: {
                        "type": "string",
                        "format": "binary",
                        "minLength": 1,  # an empty file is refused (422): the document says so
                        "description": f"one JPEG, PNG, GIF, HEIC or BMP image, at most {MAX_IMAGE_BYTES} bytes "
                        "(recognised by its bytes, not its name)",
                    }
                },
            }
        }
    },
}


@app.post(
    "/api/v1/messenger/accounts/<accountId>/chats/<chatId>/images",
    summary="Send an image (uploaded to Avito through the account's proxy, stored as outgoing)",
    tags=["Messenger"],
    responses=doc(
        Envelope[Message],
        404,
        409,
        413,
        415,
        502,
        504,
        descriptions={415: "The body is not multipart/form-data, or the file is not a JPEG, PNG, GIF, HEIC or BMP"},
    ),
    middlewares=[any_role],
    openapi_extensions={"requestBody": REQUEST_BODY},
)
def images(accountId: PathAccountId, chatId: ChatId, idempotency_key: IdempotencyKey = None):
    caller = current_caller(app)
    event = app.current_event
    image = read_image_upload(
        event.body, is_base64=event.is_base64_encoded, content_type=event.headers.get("content-type")
    )
    fingerprint = {"accountId": accountId, "chatId": chatId, "imageSha256": hashlib.sha256(image.data).hexdigest()}
    answer = answer_once(
        app,
        "messenger.images",
        idempotency_key,
        fingerprint=fingerprint,
        post=lambda: messenger.post_image(
            accountId, chatId, image, sent_by=SentBy(userId=caller.sub, name=caller.name)
        ),
        store=messenger.sent_answer(accountId, chatId, "ImageSent"),
    )
    return ok(answer)


lambda_handler = rest_handler(app)
