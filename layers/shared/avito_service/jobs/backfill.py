"""History on connect: store every chat of an account active in the last ``days`` days, with its messages.

A ``backfill`` job has one task; its state is a :class:`BackfillCursor` saved in the task after every step, so a
killed worker's redelivered message resumes where the last step ended (a step repeated after a crash stores
nothing twice: chats are upserts, messages are stored at most once by key).

Steps:

- ``list``: one page of Avito's chat listing (100 chats, newest activity first; ``offset`` at most 1,000, Avito's
  bound) a step: the page's chats are stored, and the ids of those active since the window's start are kept as
  one page item in JobsTable. The listing ends with a short page, a chat older than the window, or Avito's
  last offset. New activity during the backfill moves a chat to the front, which shifts the rest to later
  offsets: a chat may be seen twice (harmless), never skipped.
- ``messages``: one chat a step: its messages, 100 a call, newest first, until the page reaches before the
  window's start or is short. Stored as history (no announcement, ``ChatStore.save_messages``).

Progress is the job's ``done``/``total`` in chats (``JobStore.set_progress``). Avito documents no Messenger
limit but may answer 429: the client waits out a short ``Retry-After`` itself; a longer one (remembered for every
container by ``avito/limits.py``), or 429s that outlast the client's retries, pause the task: its cursor is saved
as of the last finished step and it continues in a message delayed until Avito's ``Retry-After`` ends
(``jobs/runner.py``). The step Avito refused is done again whole, so nothing is skipped, and what it had stored is
not stored twice. A task that pauses ``MAX_STALLS`` times in a row without finishing a step fails with the
reason.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from pydantic import Field

from avito_service import clock, deadline
from avito_service.accounts import service as accounts
from avito_service.avito.client import AvitoApi
from avito_service.base import Model
from avito_service.config import get_settings
from avito_service.jobs.store import JobStore
from avito_service.messenger.models import chat_from_avito
from avito_service.messenger.store import chat_store
from avito_service.observability import logger

PAGE = 100  # Avito's largest chats and messages page
MAX_OFFSET = 1000  # Avito's largest chats offset
MAX_MESSAGE_PAGES = 50  # a chat's history is read at most this far back (5,000 messages)
DEFAULT_DAYS, MAX_DAYS = 30, 365
SHOW_EVERY = 5  # chats between updates of the job's done/total


class BackfillCursor(Model):
    since: int = Field(description="the window's start (unix seconds), fixed when the task first ran")
    phase: Literal["list", "messages", "done"] = "list"
    listOffset: int = 0
    pages: int = 0  # listing pages kept
    total: int = 0  # chats in the window
    nextChat: int = 0  # chats done
    messages: int = 0  # messages seen (stored or already there)
    calls: int = 0  # Avito calls made (for logs and the benchmark)
    errors: int = 0  # consecutive failed attempts
    stalls: int = 0  # pauses in a row for Avito's 429 without a chat (or listing page) done in between


def start_cursor(days: int, now: float | None = None) -> BackfillCursor:
    return BackfillCursor(since=int((clock.now() if now is None else now) - days * 86400))


class Progress:
    """Where the task's state goes after each step: the task's cursor, the job's counts, the chat-id pages."""

    def __init__(self, store: JobStore, job_id: str, account_id: str, save: Callable[[BackfillCursor], None]) -> None:
        self.store, self.job_id, self.account_id, self.save = store, job_id, account_id, save
        self._page: tuple[int, list[str]] | None = None  # the page of chat ids being worked on (read once)
        self._shown = -1  # chats done as the job last showed

    def put_page(self, page: int, chat_ids: list[str]) -> None:
        self.store.put_chat_page(self.job_id, self.account_id, page, chat_ids)

    def page(self, page: int) -> list[str]:
        if self._page is None or self._page[0] != page:
            self._page = (page, self.store.chat_page(self.job_id, self.account_id, page))
        return self._page[1]

    def checkpoint(self, cursor: BackfillCursor) -> None:
        """The cursor after every step (a killed worker redoes at most one chat); the job's counts every
        ``SHOW_EVERY`` chats and at the end of each phase (one write fewer per chat)."""
        self.save(cursor)
        if cursor.phase != "messages" or cursor.nextChat - self._shown >= SHOW_EVERY:
            self.store.set_progress(self.job_id, cursor.nextChat, cursor.total)
            self._shown = cursor.nextChat


def run(account_id: str, cursor: BackfillCursor, progress: Progress, ends_at: float) -> bool:
    """Run steps until done (True) or until ``ends_at`` (``clock.now()`` seconds; False: continue later).
    Avito errors propagate (the runner retries or fails the task)."""
    item = accounts.get_item(account_id)
    context = accounts.context_from_item(item)
    user_id = context.account.userId
    if not user_id:
        from avito_service.online.keepalive import NO_USER_ID, KeepAliveFailed  # noqa: PLC0415 - one message

        raise KeepAliveFailed(NO_USER_ID)
    client = AvitoApi(context)
    while cursor.phase != "done":
        if clock.now() >= ends_at:
            return False
        with deadline.budget(min(get_settings().avito_background_budget, ends_at - clock.now())):  # one step's
            if cursor.phase == "list":
                _list_step(client, account_id, str(user_id), cursor, progress)
            else:
                _messages_step(client, account_id, str(user_id), cursor, progress)
        cursor.errors = cursor.stalls = 0
        progress.checkpoint(cursor)
    return True


def _list_step(client: AvitoApi, account_id: str, user_id: str, cursor: BackfillCursor, progress: Progress) -> None:
    raws = client.chats(user_id, limit=PAGE, offset=cursor.listOffset)
    cursor.calls += 1
    recent = [r for r in raws if _updated(account_id, user_id, r) >= cursor.since]
    if recent:
        chat_store().save_chats(account_id, user_id, recent)
        progress.put_page(cursor.pages, [str(r["id"]) for r in recent])
        cursor.pages += 1
        cursor.total += len(recent)
    cursor.listOffset += PAGE
    if len(raws) < PAGE or len(recent) < len(raws) or cursor.listOffset > MAX_OFFSET:
        cursor.phase = "messages" if cursor.total else "done"
        logger.info("Backfill listed its chats", extra={"account_id": account_id, "chats": cursor.total})


def _updated(account_id: str, user_id: str, raw: dict[str, Any]) -> int:
    chat = chat_from_avito(account_id, user_id, raw)
    return int(clock.from_iso(chat.updatedAt or chat.createdAt or clock.iso()))


def _messages_step(client: AvitoApi, account_id: str, user_id: str, cursor: BackfillCursor, progress: Progress) -> None:
    page, index = divmod(cursor.nextChat, PAGE)
    chat_ids = progress.page(page)
    if index < len(chat_ids):
        chat_id = chat_ids[index]
        for number in range(MAX_MESSAGE_PAGES):
            raws = client.messages(user_id, chat_id, limit=PAGE, offset=number * PAGE)
            cursor.calls += 1
            in_window = [r for r in raws if int(r.get("created") or 0) >= cursor.since]
            if in_window:
                chat_store().save_messages(account_id, user_id, chat_id, in_window)
                cursor.messages += len(in_window)
            if len(raws) < PAGE or len(in_window) < len(raws):
                break
    cursor.nextChat += 1
    if cursor.nextChat >= cursor.total:
        cursor.phase = "done"
