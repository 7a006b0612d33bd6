"""Issue 22 item 13: deleting a message reads only its last hour of the chat, not the chat's whole history."""

from __future__ import annotations

import time
from typing import Any

import pytest
from avito_service import aws
from avito_service.accounts.store import account_key
from avito_service.config import get_settings
from avito_service.messenger.store import chat_store

ACCOUNT, CHAT = "acc-del-window", "u2i-del-window"


def test_finding_a_deletable_message_reads_only_the_last_hour(
    aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    aws.table(get_settings().accounts_table).put_item(Item={**account_key(ACCOUNT), "id": ACCOUNT})
    now = int(time.time())
    history = [
        {"id": f"old-{i}", "created": now - 86400 + i, "type": "text", "content": {"text": "x"}} for i in range(150)
    ]
    recent = {"id": "recent", "created": now - 60, "type": "text", "content": {"text": "y"}}
    chat_store().save_messages(ACCOUNT, "7", CHAT, [*history, recent])
    table = aws.table(get_settings().messenger_table)
    scanned: list[int] = []
    real = table.query

    def counted(**kwargs: Any) -> Any:
        answer = real(**kwargs)
        scanned.append(answer["ScannedCount"])
        return answer

    monkeypatch.setattr(table, "query", counted)
    since = now - 3600 - 600
    assert chat_store().get_message(ACCOUNT, CHAT, "recent", since=since).id == "recent"
    assert sum(scanned) == 1  # the one message of the last hour, not 151
    assert chat_store().get_message(ACCOUNT, CHAT, "old-3", since=since) is None  # too old to delete anyway
    assert chat_store().get_message(ACCOUNT, CHAT, "old-3").id == "old-3"  # still stored
