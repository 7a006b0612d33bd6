"""The search index in ``SearchTable``: one entry per (document, word), keyed by the word's first two letters.

| access pattern                                   | key                                                          |
|--------------------------------------------------|--------------------------------------------------------------|
| an account's entries for words starting with T   | pk ``W#<accountId>#<T[:2]>``, sk begins_with ``T``           |
| (sort key)                                       | sk ``<word>#<9999999999 - unix seconds>#<chatId>#<kind>#<ref>`` |

Reading a term's range returns the exact word first (``#`` sorts before every letter and digit), each word's
entries newest first, then the longer words it prefixes. An entry keeps what a result needs without another
read: the kind, account, chat, reference, time, whether the word is a phone number's digits, and the first
200 characters of the document's text (the snippet, and the words a query's other terms must also match).

The account is part of the key, so a search reads only the partitions of the accounts the caller may see and
one account's data never answers another's query; one word prefix of one account is one partition key (hot
prefixes like ``по`` are read with a Limit, never whole).

A search reads only what it ranks by: ``sk`` (word, time, kind, reference), ``c``, ``t`` and ``ph``; the text
``x`` only when the query has several terms (the others are checked against it). A one-term query's page then
reads the texts of its (at most a page of) entries with one BatchGetItem (:meth:`SearchIndex.fill_texts`): the
ranking of one term needs no text, and a Query answer without them is a third the size (benchmarks/search.py).
``a``, ``k`` and ``r`` are still written (older readers, and the entry readable on its own) but not read.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from avito_service import aws, clock, dynamo
from avito_service.config import get_settings
from avito_service.search.documents import KINDS, SNIPPET_STORED, Document

NEWEST = 9_999_999_999


def entry_pk(account_id: str, word: str) -> str:
    return f"W#{account_id}#{word[:2]}"


def _reverse_time(at: str) -> str:
    try:
        seconds = int(clock.from_iso(at)) if at else 0
    except ValueError:
        seconds = 0
    return f"{NEWEST - max(0, min(seconds, NEWEST)):010d}"


def entries(doc: Document) -> dict[tuple[str, str], dict[str, Any]]:
    """The index entries of ``doc``, by key."""
    found = {}
    reverse = _reverse_time(doc.at)
    for word, is_phone in doc.words().items():
        key = (entry_pk(doc.account_id, word), f"{word}#{reverse}#{doc.doc_id}")
        entry = {
            "pk": key[0],
            "sk": key[1],
            "k": doc.kind,
            "a": doc.account_id,
            "c": doc.chat_id,
            "r": doc.ref,
            "t": doc.at,
            "x": doc.text[:SNIPPET_STORED],
        }
        if is_phone:
            entry["ph"] = True
        found[key] = entry
    return found


KIND_OF_LETTER = {letter: kind for kind, letter in KINDS.items()}
RANKED = "sk, c, t, ph"  # what a search ranks by (ProjectionExpression)
WITH_TEXT = RANKED + ", x"


@dataclass
class Hit:
    """One index entry read back (``text`` is "" until read: :meth:`SearchIndex.fill_texts`)."""

    word: str
    kind: str
    account_id: str
    chat_id: str
    ref: str
    at: str
    text: str
    phone: bool
    sk: str = ""

    @property
    def doc_id(self) -> tuple[str, str, str, str]:
        return (self.account_id, self.chat_id, self.kind, self.ref)


def _hit(item: dict[str, Any], account_id: str) -> Hit:
    """An entry as the low-level client returns it (AttributeValues: every attribute here is S, ``ph`` BOOL).

    The kind and reference come from the key: ``<word>#<reverse time>#<chatId>#<kind letter>#<ref>``."""

    def text(name: str) -> str:
        return str((item.get(name) or {}).get("S", ""))

    sk, chat_id = text("sk"), text("c")
    word, _, rest = sk.split("#", 2)
    letter, _, ref = rest[len(chat_id) + 1 :].partition("#")
    return Hit(
        word=word,
        kind=KIND_OF_LETTER.get(letter, "message"),
        account_id=account_id,
        chat_id=chat_id,
        ref=ref,
        at=text("t"),
        text=text("x"),
        phone=bool((item.get("ph") or {}).get("BOOL")),
        sk=sk,
    )


class SearchIndex:
    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    def _table(self) -> Any:
        return aws.table(self.table_name)

    def replace(self, old: Iterable[Document], new: Iterable[Document]) -> tuple[int, int]:
        """Make the index hold ``new`` instead of ``old``: deletes the entries only ``old`` has, puts those that
        are new or changed. Idempotent (the keys follow from the documents); returns (puts, deletes)."""
        before: dict[tuple[str, str], dict[str, Any]] = {}
        for doc in old:
            before.update(entries(doc))
        after: dict[tuple[str, str], dict[str, Any]] = {}
        for doc in new:
            after.update(entries(doc))
        deletes = [key for key in before if key not in after]
        puts = [entry for key, entry in after.items() if before.get(key) != entry]
        if not deletes and not puts:
            return 0, 0
        with self._table().batch_writer(overwrite_by_pkeys=["pk", "sk"]) as batch:
            for pk, sk in deletes:
                batch.delete_item(Key={"pk": pk, "sk": sk})
            for entry in puts:
                batch.put_item(Item=entry)
        return len(puts), len(deletes)

    def put(self, docs: Iterable[Document]) -> int:
        """Index ``docs`` (the backfill: overwrites, never deletes)."""
        return self.replace((), docs)[0]

    def lookup(self, account_id: str, term: str, limit: int, *, with_text: bool = True) -> list[Hit]:
        """At most ``limit`` entries of the account's words starting with ``term``: exact word first, newest first
        (``with_text=False``: without their texts, for a ranking that needs none)."""
        # The plain client (thread-safe, shared): a search reads up to 9 x 200 entries, and the resource's
        # conversion of every attribute was most of the search's own CPU time (benchmarks/search.py).
        answer = aws.dynamodb_low_level_client().query(
            TableName=self.table_name,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :term)",
            ExpressionAttributeValues={":pk": {"S": entry_pk(account_id, term)}, ":term": {"S": term}},
            ProjectionExpression=WITH_TEXT if with_text else RANKED,
            Limit=limit,
        )
        return [_hit(item, account_id) for item in answer["Items"]]

    def fill_texts(self, hits: list[Hit]) -> None:
        """Read the texts of ``hits`` that have none (a page: BatchGetItem, 100 keys a call)."""
        wanted: dict[tuple[str, str], list[Hit]] = {}
        for hit in hits:
            if not hit.text and hit.sk:
                wanted.setdefault((entry_pk(hit.account_id, hit.word), hit.sk), []).append(hit)
        keys = [{"pk": pk, "sk": sk} for pk, sk in wanted]
        for item in dynamo.batch_get(self.table_name, keys, projection="pk, sk, x"):
            for hit in wanted.get((item["pk"], item["sk"]), []):
                hit.text = str(item.get("x") or "")


@functools.cache
def search_index() -> SearchIndex:
    """The index of the configured SearchTable (created on first use, not at import)."""
    return SearchIndex(get_settings().search_table)
