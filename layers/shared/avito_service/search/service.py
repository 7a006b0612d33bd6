"""Searching the index: the terms, which accounts, ranking, pages, snippets and the chats' current names.

A query's terms must all match (each a whole word or a word's prefix) in one document: a message, a note, the
client's name, the item's title or a tag. The longest term is looked up in the index (the most selective);
the others are checked against the words the entries keep. Each account the caller may see is read in
parallel, at most ``CANDIDATES`` entries each. Results rank by how many terms matched a whole word, then by
what matched (phone, client, item, tag, note, message), then newest first.

Pages are offsets into that ranking (the ranking is recomputed per page: the index is read again, so a page
reflects the index as it is then); at most ``CANDIDATES`` per account can be ranked, which is the price of
never reading a hot prefix whole (a one-word query ranks the newest ``CANDIDATES`` per account of each word
it prefixes, the exact word first).
"""

from __future__ import annotations

import functools
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from avito_service import dynamo
from avito_service.cursors import decode_cursor, encode_cursor
from avito_service.errors import ValidationFailed
from avito_service.messenger.items import CHAT_SK, chat_pk
from avito_service.search import tokens
from avito_service.search.models import SearchResult
from avito_service.search.store import Hit, search_index
from avito_service.users import scope

CANDIDATES = 200  # index entries read per account per search
SNIPPET = 160
KIND_RANK = {"phone": 0, "client": 1, "item": 2, "tag": 3, "note": 4, "message": 5}
READ_THREADS = 9


@functools.cache
def _pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=READ_THREADS, thread_name_prefix="search")


def _every_account_id() -> list[str]:
    from avito_service.accounts import service as accounts  # noqa: PLC0415 - only a caller seeing every account

    ids: list[str] = []
    cursor: str | None = None
    while True:
        page, cursor = accounts.list_accounts(100, cursor)
        ids.extend(account.id for account in page)
        if not cursor:
            return ids


def _accounts(visible: frozenset[str] | None, account_id: str | None) -> list[str]:
    if account_id is not None:
        scope.require_account(visible, account_id)
        return [account_id]
    return sorted(visible) if visible is not None else _every_account_id()


def _matches(hit: Hit, terms: list[str]) -> tuple[bool, int]:
    """(every term matches a word of the document, how many match a whole word)."""
    doc_words = set(tokens.words(hit.text)) | {hit.word}
    if hit.phone or hit.kind in {"message", "note"}:
        doc_words |= set(tokens.phone_words(hit.text))
    exact = 0
    for term in terms:
        if term in doc_words:
            exact += 1
        elif not any(word.startswith(term) for word in doc_words):
            return False, 0
    return True, exact


def rank(hits: list[Hit], terms: list[str]) -> list[tuple[Hit, str]]:
    """The matching documents, best first then newest, each once, with what matched."""
    best: dict[tuple[str, str, str, str], tuple[int, Hit, str]] = {}
    for hit in hits:
        ok, exact = _matches(hit, terms)
        if not ok:
            continue
        matched = "phone" if hit.phone else hit.kind
        current = best.get(hit.doc_id)
        if current is None or (exact, -KIND_RANK[matched]) > (current[0], -KIND_RANK[current[2]]):
            best[hit.doc_id] = (exact, hit, matched)
    ordered = sorted(best.values(), key=lambda entry: entry[1].at, reverse=True)
    ordered.sort(key=lambda entry: (-entry[0], KIND_RANK[entry[2]]))
    return [(hit, matched) for _, hit, matched in ordered]


def snippet(text: str, terms: list[str]) -> str:
    """About SNIPPET characters of ``text`` around the first place a term appears."""
    folded = tokens.fold(text)
    start = 0
    if len(folded) == len(text):  # folding kept the positions (it does for Russian and English)
        places = [folded.find(term) for term in terms]
        places = [p for p in places if p >= 0]
        start = min(places) if places else 0
    begin = max(0, start - SNIPPET // 3)
    if begin:
        space = text.find(" ", begin, start)
        begin = space + 1 if space >= 0 else begin
    piece = text[begin : begin + SNIPPET].strip()
    return ("…" if begin else "") + piece + ("…" if begin + SNIPPET < len(text) else "")


def _chats(keys: list[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Any]]:
    """The current chat items of ``keys`` (BatchGetItem, 100 at a time): names change after indexing."""
    from avito_service.config import get_settings  # noqa: PLC0415

    items = dynamo.batch_get(
        get_settings().messenger_table,
        [{"pk": chat_pk(a, c), "sk": CHAT_SK} for a, c in keys],
        projection="accountId, chatId, clientName, itemTitle",
    )
    return {(str(item["accountId"]), str(item["chatId"])): item for item in items}


def search(
    query: str, *, visible: frozenset[str] | None, account_id: str | None, limit: int, cursor: str | None
) -> tuple[list[SearchResult], str | None]:
    """One page of results for ``query`` over the accounts the caller may see (``visible``; None: every one)."""
    start = decode_cursor(cursor, required_keys=("offset",))
    offset = int(start["offset"]) if start else 0
    if offset < 0:
        raise ValidationFailed.on("cursor", "Not a cursor this service issued.")
    terms = tokens.query_terms(query)
    if not terms:
        return [], None
    driver = max(terms, key=len)
    index = search_index()
    account_ids = _accounts(visible, account_id)
    # one term: the ranking needs no texts, so only the page's are read (beside its chats); several: the other
    # terms are checked against each entry's text
    with_text = len(terms) > 1
    hits: list[Hit] = []
    for found in _pool().map(lambda a: index.lookup(a, driver, CANDIDATES, with_text=with_text), account_ids):
        hits.extend(found)
    ranked = rank(hits, terms)
    page = ranked[offset : offset + limit]
    texts = None if with_text else _pool().submit(index.fill_texts, [hit for hit, _ in page])
    chats = _chats([(hit.account_id, hit.chat_id) for hit, _ in page])
    if texts is not None:
        texts.result()
    results = []
    for hit, matched in page:
        chat = chats.get((hit.account_id, hit.chat_id))
        if chat is None:  # the chat is gone (its account deleted): the index follows shortly
            continue
        results.append(
            SearchResult(
                accountId=hit.account_id,
                chatId=hit.chat_id,
                clientName=chat.get("clientName"),
                itemTitle=chat.get("itemTitle"),
                matched=matched,  # type: ignore[arg-type]
                snippet=snippet(hit.text, terms),
                messageId=hit.ref if hit.kind == "message" else None,
                at=hit.at,
            )
        )
    more = offset + limit < len(ranked)
    return results, encode_cursor({"offset": offset + limit}) if more else None
