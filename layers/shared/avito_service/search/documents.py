"""What of a MessengerTable item is searchable: its documents (no I/O here).

| item                      | documents                                                           |
|---------------------------|---------------------------------------------------------------------|
| a chat (sk ``CHAT``)      | ``client`` (clientName), ``item`` (itemTitle), one ``tag`` per tag  |
| a message (sk ``MSG#``)   | ``message`` (its text; with the digits of any phone number in it)   |
| a note (sk ``NOTE#``)     | ``note`` (its text)                                                 |

A chat's documents carry the chat's ``createdAt`` as their time, not ``updatedAt``: every message moves
``updatedAt``, and an index key that held it would be rewritten for every message of the chat. Tags and notes
are the chat workflow's (contract "Chat workflow"): a chat item's ``tags`` list and note items under the chat's
key with sk ``NOTE#...`` and ``text``; they are indexed as soon as such items are stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from avito_service.search import tokens

SNIPPET_STORED = 200  # characters of a document's text each index entry keeps (the snippet, multi-word checks)
KINDS = {"message": "m", "client": "c", "item": "i", "tag": "t", "note": "n"}


@dataclass(frozen=True)
class Document:
    account_id: str
    chat_id: str
    kind: str  # message, client, item, tag, note
    ref: str  # message id, note id, tag text; "" for client and item
    text: str
    at: str  # ISO time: the message's or note's, the chat's creation for chat documents

    @property
    def doc_id(self) -> str:
        return f"{self.chat_id}#{KINDS[self.kind]}#{self.ref}"

    def words(self) -> dict[str, bool]:
        """Indexed word -> whether it is a phone number's digits."""
        found = dict.fromkeys(tokens.words(self.text), False)
        if self.kind in {"message", "note"}:
            found.update(dict.fromkeys(tokens.phone_words(self.text), True))
        return found


def ids_of_chat_pk(pk: str) -> tuple[str, str] | None:
    """``(account_id, chat_id)`` of a chat's partition key, None for any other key: the inverse of
    ``messenger.items.chat_pk`` (written here so the indexer does not import the messenger's models for it; a unit
    test holds the two together)."""
    prefix, _, rest = pk.partition("#")
    account_id, marker, chat_id = rest.partition("#CHAT#")
    return (account_id, chat_id) if prefix == "ACCOUNT" and marker and account_id and chat_id else None


def documents(item: Mapping[str, Any] | None) -> list[Document]:
    """The documents of one MessengerTable item (plain Python values), [] for anything else."""
    if not item:
        return []
    sk, account_id, chat_id = str(item.get("sk", "")), item.get("accountId"), item.get("chatId")
    if (not account_id or not chat_id) and sk.startswith("NOTE#"):
        # notes stored before they carried their chat's ids (workflow.store.add_note): the ids are in the key
        account_id, chat_id = ids_of_chat_pk(str(item.get("pk", ""))) or (None, None)
    if not account_id or not chat_id:
        return []
    account_id, chat_id = str(account_id), str(chat_id)
    if sk == "CHAT":
        at = str(item.get("createdAt") or item.get("updatedAt") or "")
        docs = []
        if item.get("clientName"):
            docs.append(Document(account_id, chat_id, "client", "", str(item["clientName"]), at))
        if item.get("itemTitle"):
            docs.append(Document(account_id, chat_id, "item", "", str(item["itemTitle"]), at))
        for tag in item.get("tags") or []:
            if isinstance(tag, str) and tag:
                docs.append(Document(account_id, chat_id, "tag", tokens.fold(tag)[:64], tag, at))
        return docs
    if sk.startswith("MSG#"):
        text = item.get("text")
        if not isinstance(text, str) or not text or item.get("type") == "deleted":
            return []
        return [Document(account_id, chat_id, "message", str(item.get("id", "")), text, str(item.get("createdAt", "")))]
    if sk.startswith("NOTE#"):
        text = item.get("text")
        if not isinstance(text, str) or not text:
            return []
        note_id = str(item.get("id") or sk.removeprefix("NOTE#"))
        return [Document(account_id, chat_id, "note", note_id, text, str(item.get("createdAt", "")))]
    return []
