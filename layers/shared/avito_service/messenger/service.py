"""Live Messenger: calls Avito for an account (through its proxy) and stores everything it sees."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit

from avito_service import clock
from avito_service.accounts import service as accounts
from avito_service.accounts.models import AccountContext
from avito_service.autoreplies.store import auto_reply_store
from avito_service.avito.client import AvitoApi
from avito_service.avito.errors import AvitoError, OutcomeUnknown
from avito_service.base import Model
from avito_service.errors import Conflict, NotFound
from avito_service.messenger.models import (
    BLACKLIST_REASON_IDS,
    DEFAULT_CHAT_TYPES,
    BlacklistReason,
    BlacklistResult,
    Chat,
    Direction,
    Message,
    SentBy,
    storable,
)
from avito_service.messenger.store import chat_store
from avito_service.observability import logger, metrics

if TYPE_CHECKING:  # only the images function reads uploads (and imports the multipart and filetype libraries)
    from avito_service.messenger.uploads import ImageUpload

DELETE_WINDOW_SECONDS = 3600  # Avito lets an account delete its own message within an hour of sending it
DELETE_SLACK_SECONDS = 600  # read a little more than that hour (clocks differ), never the chat's whole history


class ReadResult(Model):
    ok: bool
    chatId: str
    messageId: str
    unreadCount: int


def connect(account_id: str) -> tuple[AvitoApi, str]:
    """The account's client and its Avito user id (asked from Avito and stored when not known yet)."""
    context: AccountContext = accounts.load_context(account_id)
    client = AvitoApi(context)
    user_id = context.account.userId
    if not user_id:
        user_id = str(client.account_self()["id"])
        accounts.record_fields(account_id, {"userId": user_id})
    return client, user_id


def _storable_only(account_id: str, kind: str, raws: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Avito's objects whose times we can store; each other one is skipped with a warning (one odd object
    must not fail the whole list: the rest is stored and answered)."""
    kept = []
    for raw in raws:
        if isinstance(raw, Mapping) and raw.get("id") is not None and storable(raw):
            kept.append(raw)
            continue
        logger.warning(
            f"Skipped an Avito {kind} we cannot store",
            extra={
                "account_id": account_id,
                "avito_id": str(raw.get("id"))[:200] if isinstance(raw, Mapping) else None,
                "reason": "no id, or a time outside the years 1970-9999",
            },
        )
        metrics.add_metric(name="AvitoObjectSkipped", unit=MetricUnit.Count, value=1)
    return kept


def list_chats(
    account_id: str, *, limit: int, offset: int, unread_only: bool, chat_types: str = DEFAULT_CHAT_TYPES
) -> list[Chat]:
    client, user_id = connect(account_id)
    chats = client.chats(user_id, limit=limit, offset=offset, unread_only=unread_only, chat_types=chat_types)
    return chat_store().save_chats(account_id, user_id, _storable_only(account_id, "chat", chats))


def get_chat(account_id: str, chat_id: str) -> Chat:
    """One chat from Avito, stored as well."""
    client, user_id = connect(account_id)
    raw = client.chat(user_id, chat_id)
    if not isinstance(raw, Mapping) or raw.get("id") in (None, "") or not _storable_only(account_id, "chat", [raw]):
        raise AvitoError(
            "Avito's answer for the chat had no chat id or a time we cannot store.", endpoint="messenger.chat"
        )
    return chat_store().save_chats(account_id, user_id, [raw])[0]


def list_messages(account_id: str, chat_id: str, *, limit: int, offset: int) -> list[Message]:
    client, user_id = connect(account_id)
    messages = client.messages(user_id, chat_id, limit=limit, offset=offset)
    return chat_store().save_messages(account_id, user_id, chat_id, _storable_only(account_id, "message", messages))


def send_text(account_id: str, chat_id: str, text: str, *, sent_by: SentBy | None = None) -> Message:
    """Send once (never retried after it may have reached Avito) and store it as outgoing."""
    return store_sent(account_id, chat_id, post_text(account_id, chat_id, text, sent_by=sent_by))


def post_text(account_id: str, chat_id: str, text: str, *, sent_by: SentBy | None = None) -> dict[str, Any]:
    """The step of a send that must never be repeated: Avito's answer as plain JSON, for :func:`store_sent`
    (recorded by ``idempotency.once`` before anything is stored), with the user who sent it."""
    client, user_id = connect(account_id)
    sent = client.send_text(user_id, chat_id, text)
    return _posted(user_id, sent, sent_by)


def _posted(user_id: str, sent: Any, sent_by: SentBy | None) -> dict[str, Any]:
    # ``sentAt``: our clock when Avito answered, the message's time if Avito gave none (so storing it again on a
    # retry gives the same message, not a second one timed at the retry); ``sentBy`` rides in the idempotency
    # record with Avito's answer, so a retry that stores it stores the first request's sender
    return {
        "userId": user_id,
        "message": dict(sent) if isinstance(sent, Mapping) else sent,
        "sentAt": clock.now(),
        "sentBy": sent_by.model_dump(mode="json") if sent_by is not None else None,
    }


def store_sent(account_id: str, chat_id: str, posted: Mapping[str, Any], *, automatic: bool = False) -> Message:
    """Store a message Avito took (``post_text``/``post_image``) as outgoing; idempotent. ``automatic``: an
    automatic reply (``autoreplies.sender``), stored with ``automatic: true``."""
    sent = posted.get("message")
    if not isinstance(sent, Mapping) or sent.get("id") in (None, ""):
        raise OutcomeUnknown(
            "Avito took the message but its answer had no message id, so it cannot be stored here. Look at the "
            "chat before sending it again.",
            endpoint="messenger.send",
            code="send_outcome_unknown",
        )
    sent = dict(sent)
    if not storable(sent) or sent.get("created") in (None, ""):  # Avito took it: timed when we sent it
        if sent.get("created") not in (None, ""):
            logger.warning("Avito answered a send with a time we cannot store; using ours", extra={"chat_id": chat_id})
        sent["created"] = int(posted["sentAt"])
    sent_by = SentBy.model_validate(posted["sentBy"]) if posted.get("sentBy") else None
    message = chat_store().save_sent_message(
        account_id, chat_id, sent, user_id=str(posted["userId"]), sent_by=sent_by, automatic=automatic
    )
    logger.info("Message sent", extra={"account_id": account_id, "chat_id": chat_id, "message_id": message.id})
    return message


def mark_read(account_id: str, chat_id: str, message_id: str) -> ReadResult:
    """Avito marks the whole chat read; so does storage (the account's copy: read up to its last message)."""
    client, user_id = connect(account_id)
    client.mark_read(user_id, chat_id)
    chat = chat_store().mark_chat_read(account_id, chat_id)
    return ReadResult(ok=True, chatId=chat_id, messageId=message_id, unreadCount=chat.unreadCount if chat else 0)


# --- images, voice files, deleting, blacklist (issue 15) ----------------------------------------------------


def send_image(account_id: str, chat_id: str, image: ImageUpload, *, sent_by: SentBy | None = None) -> Message:
    """Upload the image to Avito, send it as an image message (never resent) and store it as outgoing."""
    return store_sent(account_id, chat_id, post_image(account_id, chat_id, image, sent_by=sent_by))


def sent_answer(account_id: str, chat_id: str, metric: str) -> Callable[[Mapping[str, Any]], dict[str, Any]]:
    """The ``store`` step of a send (``idempotency.once``): Avito's answer stored as the outgoing message
    (:func:`store_sent`), counted under ``metric``, as the API's JSON."""

    def store(posted: Mapping[str, Any]) -> dict[str, Any]:
        message = store_sent(account_id, chat_id, posted)
        metrics.add_metric(name=metric, unit=MetricUnit.Count, value=1)
        return message.model_dump(mode="json")

    return store


def post_image(account_id: str, chat_id: str, image: ImageUpload, *, sent_by: SentBy | None = None) -> dict[str, Any]:
    """Upload and send the image (the step never repeated); Avito's answer as plain JSON for :func:`store_sent`."""
    client, user_id = connect(account_id)
    uploaded = client.upload_image(user_id, image.data, filename=image.filename, content_type=image.content_type)
    image_id, sizes = _uploaded_image(uploaded)
    sent = client.send_image(user_id, chat_id, image_id)
    if isinstance(sent, Mapping):
        sent = dict(sent)
        sent.setdefault("type", "image")
        if not isinstance(sent.get("content"), Mapping):
            sent["content"] = {"image": {"sizes": sizes}}
    logger.info("Image sent", extra={"account_id": account_id, "chat_id": chat_id, "bytes": len(image.data)})
    return _posted(user_id, sent, sent_by)


def _uploaded_image(answer: Any) -> tuple[str, dict[str, Any]]:
    """``uploadImages`` answers ``{"<image_id>": {"WxH": url}}`` for its one image."""
    if isinstance(answer, Mapping) and len(answer) == 1:
        image_id, sizes = next(iter(answer.items()))
        if image_id and isinstance(sizes, Mapping):
            return str(image_id), dict(sizes)
    raise AvitoError("Avito's answer to the image upload had no image id.", endpoint="messenger.upload_image")


def voice_files(account_id: str, voice_ids: list[str]) -> dict[str, str]:
    """Fresh links to voice messages' audio, straight from Avito (each valid for an hour; never stored)."""
    client, user_id = connect(account_id)
    return client.voice_files(user_id, list(dict.fromkeys(voice_ids)))


def delete_message(account_id: str, chat_id: str, message_id: str) -> Message:
    """Delete the account's own message at Avito (within an hour of sending) and store it as ``deleted``.

    The rules are checked on the stored message before Avito is called; a message not stored yet is looked up
    among the chat's newest messages at Avito (a message young enough to delete is among them)."""
    store = chat_store()
    since = clock.now() - DELETE_WINDOW_SECONDS - DELETE_SLACK_SECONDS  # a deletable message is in its last hour
    message = store.get_message(account_id, chat_id, message_id, since=since)
    if message is not None:
        _check_deletable(message)
    client, user_id = connect(account_id)
    if message is None:
        newest = _storable_only(account_id, "message", client.messages(user_id, chat_id, limit=100))
        listed = store.save_messages(account_id, user_id, chat_id, newest)
        message = next((m for m in listed if m.id == message_id), None)
        if message is None:
            raise NotFound(
                f"No message '{message_id[:200]}' among this chat's newest messages at Avito; only a message "
                "sent within the last hour can be deleted.",
                code="message_not_found",
            )
        _check_deletable(message)
    if message.type == "deleted":
        return message  # deleted before: nothing to do at Avito
    try:
        client.delete_message(user_id, chat_id, message_id)
    except AvitoError as error:
        if error.http_status == 404:
            raise NotFound("Avito does not know this message in this chat.", code="message_not_found") from None
        if error.http_status in (400, 409, 422):
            raise Conflict(
                f"Avito refused to delete the message (HTTP {error.http_status}"
                + (f": {error.avito_message}" if error.avito_message else "")
                + "); only the account's own messages can be deleted, within an hour of sending.",
                code="message_not_deletable",
            ) from None
        raise
    deleted = store.mark_message_deleted(account_id, chat_id, message_id, since=since)
    logger.info("Message deleted", extra={"account_id": account_id, "chat_id": chat_id, "message_id": message_id})
    return deleted or message.model_copy(update={"type": "deleted", "text": None, "content": {}})


def _check_deletable(message: Message) -> None:
    if message.type == "deleted":
        return
    if message.direction is not Direction.OUT:
        raise Conflict(
            "This message was written by the other party; only the account's own messages can be deleted.",
            code="message_not_own",
        )
    age = clock.now() - clock.from_iso(message.createdAt)
    if age > DELETE_WINDOW_SECONDS:
        raise Conflict(
            f"This message was sent at {message.createdAt}, more than an hour ago; Avito allows deleting a "
            "message only within an hour of sending it.",
            code="message_too_old",
        )


def blacklist(account_id: str, user_id: str, *, item_id: str | None, reason: BlacklistReason) -> BlacklistResult:
    """Block an Avito user for the account (Avito's reason ids: 1 spam, 2 fraud, 3 insults, 4 other)."""
    client, account_user_id = connect(account_id)
    client.blacklist(
        account_user_id,
        int(user_id),
        item_id=int(item_id) if item_id is not None else None,
        reason_id=BLACKLIST_REASON_IDS[reason],
    )
    # Avito cannot list an account's blacklist: remembered here so automatic replies never go to the user
    auto_reply_store().block(account_id, user_id, reason=reason.value)
    logger.info("User blacklisted", extra={"account_id": account_id, "blocked_user_id": user_id, "reason": reason})
    return BlacklistResult(ok=True, userId=user_id, itemId=item_id, reason=reason)
