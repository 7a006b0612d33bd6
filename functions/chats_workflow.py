"""The chat workflow (contract, "Chat workflow"): claim, transfer, release, close, reopen, no reply needed, tags,
notes of one stored chat, and bulk close. Every role may use them on the accounts it sees (an operator's other
accounts answer 404); transfer and release need the assignee, a director or an admin (403); bulk close needs a
director or an admin."""

from avito_service.api import (
    ChatAccountId,
    Cursor,
    Envelope,
    Limit,
    Page,
    StoredChatId,
    any_role,
    current_caller,
    doc,
    ok,
    rest_app,
    rest_handler,
    supervisors,
)
from avito_service.messenger.models import Chat
from avito_service.workflow import service
from avito_service.workflow.models import BulkClose, BulkCloseOutcome, Note, NoteCreate, TagsBody, TransferBody

app = rest_app()
TAGS = ["Chat workflow"]
CHAT = "/api/v1/chats/<chatId>"


def _who():
    caller = current_caller(app)
    return service.actor_of(caller.sub, caller.name, caller.role), caller.account_ids


@app.post(
    f"{CHAT}/claim",
    summary="Take a chat",
    description="The chat becomes `open` with the caller as its assignee. One winner: when someone else has it, "
    "409 `chat_taken` naming them; claiming a chat one already has is 200; a closed chat is 409 `chat_closed`.",
    tags=TAGS,
    responses=doc(Envelope[Chat], 404, 409),
    middlewares=[any_role],
)
def claim(chatId: StoredChatId, account_id: ChatAccountId = None):
    actor, only = _who()
    return ok(service.claim(actor, chatId, account_id, only))


@app.post(
    f"{CHAT}/transfer",
    summary="Give a chat to another user",
    description="The assignee, a director or an admin (403 otherwise); the target must be an enabled user who may "
    "see the account (422 on `userId` otherwise).",
    tags=TAGS,
    responses=doc(Envelope[Chat], 400, 404, 409),
    middlewares=[any_role],
)
def transfer(chatId: StoredChatId, body: TransferBody, account_id: ChatAccountId = None):
    actor, only = _who()
    return ok(service.transfer(actor, chatId, account_id, only, body.userId))


@app.post(
    f"{CHAT}/release",
    summary="Put a chat back in the queue",
    description="`status: new`, no assignee. The assignee, a director or an admin (403 otherwise).",
    tags=TAGS,
    responses=doc(Envelope[Chat], 404, 409),
    middlewares=[any_role],
)
def release(chatId: StoredChatId, account_id: ChatAccountId = None):
    actor, only = _who()
    return ok(service.release(actor, chatId, account_id, only))


@app.post(
    f"{CHAT}/close",
    summary="Close a chat",
    description="`status: closed` (the assignee is kept) and nothing awaited. Another operator's open chat: 403. "
    "The client's next message makes it `new` again.",
    tags=TAGS,
    responses=doc(Envelope[Chat], 404),
    middlewares=[any_role],
)
def close(chatId: StoredChatId, account_id: ChatAccountId = None):
    actor, only = _who()
    return ok(service.close(actor, chatId, account_id, only))


@app.post(
    f"{CHAT}/reopen",
    summary="Reopen a closed chat",
    description="A closed chat becomes `open` with the caller as assignee; a chat that is not closed is 409 "
    "`chat_not_closed`.",
    tags=TAGS,
    responses=doc(Envelope[Chat], 404, 409),
    middlewares=[any_role],
)
def reopen(chatId: StoredChatId, account_id: ChatAccountId = None):
    actor, only = _who()
    return ok(service.reopen(actor, chatId, account_id, only))


@app.post(
    f"{CHAT}/no-reply-needed",
    summary="Mark a chat as needing no reply",
    description="Clears `awaitingReplySince` without sending anything.",
    tags=TAGS,
    responses=doc(Envelope[Chat], 404),
    middlewares=[any_role],
)
def no_reply_needed(chatId: StoredChatId, account_id: ChatAccountId = None):
    actor, only = _who()
    return ok(service.no_reply_needed(actor, chatId, account_id, only))


@app.put(
    f"{CHAT}/tags",
    summary="Set a chat's tags",
    description="The whole list: 1-32 characters each, at most 20; repeats are dropped.",
    tags=TAGS,
    responses=doc(Envelope[Chat], 400, 404),
    middlewares=[any_role],
)
def set_tags(chatId: StoredChatId, body: TagsBody, account_id: ChatAccountId = None):
    actor, only = _who()
    return ok(service.set_tags(actor, chatId, account_id, only, body.tags))


@app.get(
    f"{CHAT}/notes",
    summary="A chat's internal notes",
    description="Oldest first, paginated. Notes are internal and never reach Avito.",
    tags=TAGS,
    responses=doc(Page[Note], 404),
    middlewares=[any_role],
)
def list_notes(chatId: StoredChatId, account_id: ChatAccountId = None, limit: Limit = 50, cursor: Cursor = None):
    _, only = _who()
    notes, next_cursor = service.notes(chatId, account_id, only, limit, cursor)
    return ok(notes, next_cursor=next_cursor)


@app.post(
    f"{CHAT}/notes",
    summary="Add an internal note",
    description="`{text}` (1-4000 characters); never sent to Avito.",
    tags=TAGS,
    responses=doc(Envelope[Note], 400, 404, status=201, description="Created"),
    middlewares=[any_role],
)
def add_note(chatId: StoredChatId, body: NoteCreate, account_id: ChatAccountId = None):
    actor, only = _who()
    return ok(service.add_note(actor, chatId, account_id, only, body.text), status=201)


@app.post(
    "/api/v1/chats/close",
    summary="Close many chats",
    description="Director, admin: up to 100 `{accountId, chatId}`; each answers `closed` or `not_found` (not "
    "stored, or of an account the caller may not see).",
    tags=TAGS,
    responses=doc(Envelope[list[BulkCloseOutcome]], 400),
    middlewares=[supervisors],
)
def close_many(body: BulkClose):
    actor, only = _who()
    return ok(service.close_many(actor, body.items, only))


lambda_handler = rest_handler(app)
