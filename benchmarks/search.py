# ruff: noqa: RUF001 - the vocabulary is Russian text
"""Search latency (issue 26): p50/p95 of ``search.service.search`` over 9 accounts, against moto in-process.

The data: ``--chats`` chats spread over ``--accounts`` accounts (each chat's client name and item title indexed)
and ``--messages`` messages of 3-16 words drawn from a Zipf-distributed Russian vocabulary of a marketplace's
chats (5 % carry a phone number), indexed exactly as the stream consumer indexes them (``documents`` ->
``store.entries``: the first 2,000 documents' entries are checked against ``entries`` key for key and attribute
for attribute). Chat items go into MessengerTable, since a search reads the page's chats.

How the index gets into moto: **straight into moto's backend, not through its API** (2,000,000 messages are
~16 M entries: at moto's ~1,500 PutItems a second on this machine that is three hours, and what is measured is
the search, not the writes). moto keeps an item as an ``Item`` of ``DynamoType`` objects (~1.5 KB each: 16 M of
them need ~24 GB), so the SearchTable's partitions are held compactly (:class:`CompactIndex`: one 8-byte number
per entry, sorted by sort key, each document's text once) and moto's ``Table.query`` / ``Table.get_item`` for that
table materialise as moto ``Item`` objects only the entries a request can return: the ``begins_with`` range of the
partition, at most ``Limit`` + 1 of them (found by binary search: DynamoDB seeks its B-tree the same way). The rest
of each request is moto's own: parsing, the key condition, the Limit and LastEvaluatedKey, the
ProjectionExpression and the JSON answer, and botocore's side.

The queries: common words, rare words, two-letter prefixes (the hottest partitions), two-word queries, client
names, item words and phone numbers in three spellings; each timed end to end (``search()`` as the handler
calls it, admin scope: all 9 accounts read in parallel) after a warm-up.

moto's Query scans its whole table for every query (``Table.query`` walks ``all_items()``), so stock moto
measures the emulator. Unless ``--stock-moto`` (only with ``--no-compact``), a query of MessengerTable reads only
its own partition (``items[hash_key]``, what DynamoDB does). The CPU time spent inside moto (each DynamoDB request
from parsing to its JSON answer) is measured separately, so the service's own share is reported too: it is what a
Lambda pays, with botocore's request and answer handling.

``--with-texts`` reads every entry's text with the Query (the search before 2026-12-07), for comparison.

Run: ``PYTHONPATH=.:layers/shared:functions .venv/bin/python -m benchmarks.search --messages 2000000``
"""

from __future__ import annotations

import argparse
import random
import resource
import statistics
import threading
import time
from collections.abc import Iterator
from typing import Any

from benchmarks._common import create_account, moto_stack, percentile, quiet_output, table, write_results

VOCABULARY = [
    "здравствуйте",
    "добрый",
    "день",
    "вечер",
    "спасибо",
    "пожалуйста",
    "да",
    "нет",
    "ещё",
    "актуально",
    "продаётся",
    "объявление",
    "цена",
    "торг",
    "можно",
    "посмотреть",
    "сегодня",
    "завтра",
    "когда",
    "где",
    "адрес",
    "доставка",
    "самовывоз",
    "оплата",
    "перевод",
    "наличные",
    "карта",
    "скидка",
    "размер",
    "цвет",
    "состояние",
    "новый",
    "новая",
    "отличное",
    "хорошее",
    "б/у",
    "гарантия",
    "чек",
    "коробка",
    "документы",
    "фото",
    "видео",
    "ещё",
    "диван",
    "угловой",
    "кровать",
    "шкаф",
    "стол",
    "стул",
    "комод",
    "матрас",
    "кресло",
    "тумба",
    "полка",
    "зеркало",
    "люстра",
    "холодильник",
    "стиральная",
    "машина",
    "телевизор",
    "ноутбук",
    "телефон",
    "айфон",
    "iphone",
    "samsung",
    "xiaomi",
    "наушники",
    "планшет",
    "велосипед",
    "самокат",
    "коляска",
    "детская",
    "куртка",
    "пальто",
    "ботинки",
    "кроссовки",
    "платье",
    "сумка",
    "часы",
    "шины",
    "диски",
    "запчасти",
    "квартира",
    "комната",
    "аренда",
    "дом",
    "дача",
    "участок",
    "гараж",
    "ремонт",
    "услуги",
    "мастер",
    "работа",
    "вакансия",
    "подскажите",
    "скажите",
    "пришлите",
    "отправьте",
    "позвоните",
    "напишите",
    "номер",
    "телефон",
    "удобно",
    "время",
    "приеду",
    "заберу",
    "мкад",
    "метро",
    "центр",
    "район",
    "москва",
    "питер",
    "казань",
    "екатеринбург",
    "новосибирск",
    "подъезд",
    "этаж",
    "лифт",
    "хорошо",
    "отлично",
    "договорились",
    "жду",
    "буду",
    "через",
    "час",
    "минут",
    "рублей",
    "тысяч",
    "последняя",
    "окончательная",
    "почему",
    "сколько",
    "какой",
    "какая",
    "какие",
    "который",
    "есть",
    "нету",
    "было",
    "будет",
    "осталось",
    "забронировать",
    "резерв",
    "вы",
    "вам",
    "вас",
    "мы",
    "нам",
    "наш",
    "ваш",
    "это",
    "этот",
    "эта",
    "тот",
    "так",
    "как",
    "что",
    "чем",
    "для",
    "при",
    "про",
    "без",
    "над",
    "под",
    "из",
    "от",
    "до",
    "по",
    "на",
    "the",
    "price",
    "available",
    "still",
    "delivery",
    "pickup",
    "thanks",
    "hello",
    "photo",
    "condition",
    "new",
    "used",
]
NAMES = [
    "Анна",
    "Мария",
    "Елена",
    "Ольга",
    "Наталья",
    "Ирина",
    "Татьяна",
    "Светлана",
    "Юлия",
    "Екатерина",
    "Александр",
    "Сергей",
    "Андрей",
    "Дмитрий",
    "Алексей",
    "Михаил",
    "Иван",
    "Николай",
    "Павел",
    "Владимир",
    "Артём",
    "Максим",
    "Никита",
    "Егор",
    "Кирилл",
    "John",
    "Alex",
    "Kate",
]
SURNAMES = [
    "Иванов",
    "Петров",
    "Смирнов",
    "Кузнецов",
    "Попов",
    "Соколов",
    "Лебедев",
    "Козлов",
    "Новиков",
    "Морозов",
    "Волков",
    "Зайцев",
]
ITEMS = [
    "Диван угловой",
    "Шкаф-купе",
    "iPhone 13 Pro",
    "Холодильник Bosch",
    "Велосипед горный",
    "Коляска 2в1",
    "Стол обеденный",
]
QUERIES = {
    "common word": ["здравствуйте", "цена", "доставка", "актуально"],
    "rare word": ["люстра", "гарантия", "забронировать", "подъезд"],
    "2-letter prefix": ["пр", "по", "до", "ди"],
    "3-letter prefix": ["дос", "хол", "кро", "айф"],
    "two words": ["диван угловой", "цена торг", "можно посмотреть", "стиральная машина"],
    "client name": ["Анна", "Кузнецов", "john", "Екатерина Морозова"],
    "phone": ["+7 912 345-67-89", "89161234567", "8 (926) 000-11-22", "912345"],  # + one from the data (build)
    "english": ["iphone", "price available", "samsung"],
}

# --- moto: partition reads, and the time spent inside Query -------------------------------------------------

_LOCK = threading.RLock()


def patch_moto(partition_reads: bool) -> dict[str, float]:
    """Count the CPU time moto spends on DynamoDB requests (parsing, the backend, serialising its answer: all of it
    emulator work a real DynamoDB does elsewhere), and optionally make a table Query read only its partition (the
    local runtime's patch, ``local_runtime.moto_process.partition_reads``). Install it before
    :func:`patch_compact`, which hands its tables' items to the partition reads' Query."""
    from moto.dynamodb.responses import DynamoHandler

    from local_runtime.moto_process import partition_reads as read_partitions

    spent = {"seconds": 0.0, "calls": 0}
    original_call = DynamoHandler.call_action
    if partition_reads:
        read_partitions()

    def call_action(self: Any) -> Any:
        with _LOCK:  # moto is not thread-safe (the test suite serialises it the same way)
            started = time.thread_time()
            try:
                return original_call(self)
            finally:
                spent["seconds"] += time.thread_time() - started
                spent["calls"] += 1

    DynamoHandler.call_action = call_action
    return spent


class CompactIndex:
    """SearchTable's entries in little memory: per partition key an ``array('Q')`` of ``word id << 32 | document``
    (bit 63: the word is a phone number's digits), sorted like the sort keys; each document's fields once."""

    PHONE = 1 << 63

    def __init__(self) -> None:
        from array import array

        self._array = array
        self.words: list[str] = []
        self._word_ids: dict[str, int] = {}
        self.doc_account: list[str] = []
        self.doc_chat: list[str] = []
        self.doc_kind: list[str] = []
        self.doc_ref: list[str] = []
        self.doc_at: list[str] = []
        self.doc_reverse: list[str] = []
        self.doc_text: list[str] = []
        self.parts: dict[str, Any] = {}
        self.entries = 0

    def add(self, doc: Any) -> int:
        """Index one document as ``store.entries`` would; returns its number of entries."""
        from avito_service.search.documents import SNIPPET_STORED
        from avito_service.search.store import _reverse_time, entry_pk

        number = len(self.doc_chat)
        self.doc_account.append(doc.account_id)
        self.doc_chat.append(doc.chat_id)
        self.doc_kind.append(doc.kind)
        self.doc_ref.append(doc.ref)
        self.doc_at.append(doc.at)
        self.doc_reverse.append(_reverse_time(doc.at))
        self.doc_text.append(doc.text[:SNIPPET_STORED])
        found = doc.words()
        for word, is_phone in found.items():
            word_id = self._word_ids.get(word)
            if word_id is None:
                word_id = self._word_ids[word] = len(self.words)
                self.words.append(word)
            part = self.parts.get(key := entry_pk(doc.account_id, word))
            if part is None:
                part = self.parts[key] = self._array("Q")
            part.append((self.PHONE if is_phone else 0) | word_id << 32 | number)
        self.entries += len(found)
        return len(found)

    def sk(self, packed: int) -> str:
        from avito_service.search.documents import KINDS

        number = packed & 0xFFFFFFFF
        word = self.words[(packed >> 32) & 0x7FFFFFFF]
        kind = self.doc_kind[number]
        return f"{word}#{self.doc_reverse[number]}#{self.doc_chat[number]}#{KINDS[kind]}#{self.doc_ref[number]}"

    def attributes(self, pk: str, packed: int) -> dict[str, Any]:
        """The entry as ``store.entries`` writes it."""
        number = packed & 0xFFFFFFFF
        entry = {
            "pk": pk,
            "sk": self.sk(packed),
            "k": self.doc_kind[number],
            "a": self.doc_account[number],
            "c": self.doc_chat[number],
            "r": self.doc_ref[number],
            "t": self.doc_at[number],
            "x": self.doc_text[number],
        }
        if packed & self.PHONE:
            entry["ph"] = True
        return entry

    def sort(self) -> None:
        for key, part in self.parts.items():
            ordered = sorted(part, key=self.sk)
            self.parts[key] = self._array("Q", ordered)

    def range(self, pk: str, prefix: str, count: int) -> list[dict[str, Any]]:
        """The first ``count`` entries of partition ``pk`` whose sort key starts with ``prefix``."""
        import bisect

        part = self.parts.get(pk)
        if part is None:
            return []
        found = []
        for position in range(bisect.bisect_left(part, prefix, key=self.sk), len(part)):
            if len(found) >= count or not self.sk(part[position]).startswith(prefix):
                break
            found.append(self.attributes(pk, part[position]))
        return found

    def get(self, pk: str, sk: str) -> dict[str, Any] | None:
        import bisect

        part = self.parts.get(pk)
        if part is None:
            return None
        position = bisect.bisect_left(part, sk, key=self.sk)
        if position < len(part) and self.sk(part[position]) == sk:
            return self.attributes(pk, part[position])
        return None


def _item(attributes: dict[str, Any]) -> Any:
    from moto.dynamodb.models.dynamo_type import DynamoType, Item

    attrs = _ddb(attributes)
    return Item(DynamoType(attrs["pk"]), DynamoType(attrs["sk"]), attrs)


def patch_compact() -> None:
    """moto's Query and GetItem of a table holding a :class:`CompactIndex` (``table.compact``): only the entries a
    request can return become moto items (the begins_with range up to Limit + 1; the one key asked for)."""
    from moto.dynamodb.models.table import Table

    query, get_item = Table.query, Table.get_item

    def compact_query(
        self: Any, hash_key: Any, range_comparison: Any, range_objs: Any, limit: Any, *args: Any, **kwargs: Any
    ) -> Any:
        compact = getattr(self, "compact", None)
        exclusive_start = args[0] if args else kwargs.get("exclusive_start_key")
        forward = args[1] if len(args) > 1 else kwargs.get("scan_index_forward", True)
        if compact is None or range_comparison != "BEGINS_WITH" or exclusive_start or not forward or not limit:
            if compact is not None:
                raise NotImplementedError("the benchmark's compact index answers forward begins_with Queries only")
            return query(self, hash_key, range_comparison, range_objs, limit, *args, **kwargs)
        items = [_item(a) for a in compact.range(hash_key.value, range_objs[0].value, limit + 1)]
        self.all_items = lambda: iter(items)  # moto applies the condition, Limit, projection to these
        try:
            return query(self, hash_key, range_comparison, range_objs, limit, *args, **kwargs)
        finally:
            del self.all_items

    def compact_get_item(self: Any, hash_key: Any, range_key: Any = None, projection_expression: Any = None) -> Any:
        compact = getattr(self, "compact", None)
        if compact is None:
            return get_item(self, hash_key, range_key, projection_expression)
        found = compact.get(hash_key.value, range_key.value)
        if found is None:
            return None
        item = _item(found)
        return item.project(projection_expression) if projection_expression else item

    Table.query = compact_query
    Table.get_item = compact_get_item


def moto_table(name: str) -> Any:
    from moto.dynamodb.models import dynamodb_backends

    return dynamodb_backends["123456789012"]["us-east-1"].get_table(name)


def _ddb(item: dict[str, Any]) -> dict[str, Any]:
    return {k: ({"BOOL": v} if isinstance(v, bool) else {"S": str(v)}) for k, v in item.items()}


def put(table: Any, item: dict[str, Any]) -> None:
    """Store ``item`` in a moto table object as its put_item would, without the request's validation."""
    from moto.dynamodb.models.dynamo_type import DynamoType, Item

    attrs = _ddb(item)
    hash_key, range_key = DynamoType(attrs["pk"]), DynamoType(attrs["sk"])
    table.items[hash_key][range_key] = Item(hash_key, range_key, attrs)


# --- data ------------------------------------------------------------------------------------------------------


def zipf_weights(n: int, s: float = 1.07) -> list[float]:
    return [1 / (rank**s) for rank in range(1, n + 1)]


def phone(rng: random.Random) -> str:
    digits = f"9{rng.randrange(10**9):09d}"
    spelling = rng.randrange(3)
    if spelling == 0:
        return f"+7 {digits[:3]} {digits[3:6]}-{digits[6:8]}-{digits[8:]}"
    if spelling == 1:
        return f"8 ({digits[:3]}) {digits[3:6]}-{digits[6:8]}-{digits[8:]}"
    return "8" + digits


def message_text(rng: random.Random, weights: list[float], phones: list[str]) -> str:
    words = rng.choices(VOCABULARY, weights=weights, k=rng.randint(3, 16))
    if rng.random() < 0.05:
        phones.append(phone(rng))
        words += ["мой", "номер", phones[-1]]
    if rng.random() < 0.1:
        words.append(str(rng.choice([500, 1000, 2500, 15000, 120000])))
    return " ".join(words).capitalize()


def _check(compact: CompactIndex, docs: list[Any]) -> None:
    """The compact index holds exactly what ``store.entries`` writes for these documents."""
    from avito_service.search.store import entries

    for doc in docs:
        for (pk, sk), entry in entries(doc).items():
            assert compact.get(pk, sk) == entry, (pk, sk)


def _cache_path(args: argparse.Namespace) -> Any:
    from pathlib import Path

    return Path(args.cache_dir) / f"search-{args.accounts}-{args.chats}-{args.messages}-{args.seed}.pickle"


def _save(args: argparse.Namespace, accounts: list[str], compact: CompactIndex, phones: list[str], count: int) -> None:
    """Keep the built index for later runs (``--cache-dir``): building 2 M messages takes most of an hour here."""
    import pickle

    if not args.cache_dir:
        return
    compact._array = None  # a module is not picklable
    state = {"accounts": accounts, "compact": compact, "phones": phones, "message_entries": count}
    with open(_cache_path(args), "wb") as sink:
        pickle.dump(state, sink, protocol=pickle.HIGHEST_PROTOCOL)
    from array import array

    compact._array = array


def _load(args: argparse.Namespace, accounts: list[str]) -> dict[str, Any] | None:
    """A saved index, its account ids replaced by this run's (moto gives new accounts new ids)."""
    import pickle
    from array import array

    if not args.cache_dir or not _cache_path(args).exists():
        return None
    with open(_cache_path(args), "rb") as source:
        state = pickle.load(source)  # noqa: S301 - our own file, written by _save
    compact: CompactIndex = state["compact"]
    compact._array = array
    rename = dict(zip(state["accounts"], accounts, strict=True))
    compact.doc_account = [rename[a] for a in compact.doc_account]
    parts = {}
    for key, part in compact.parts.items():
        _, account, prefix = key.split("#", 2)
        parts[f"W#{rename[account]}#{prefix}"] = part
    compact.parts = parts
    return state


def build(args: argparse.Namespace, created: dict[str, str]) -> dict[str, Any]:
    import sys

    from avito_service import clock
    from avito_service.search.documents import Document, documents

    rng = random.Random(args.seed)
    weights = zipf_weights(len(VOCABULARY))
    accounts = [
        create_account(f"Shop {n}", client_id=f"bench-{n}", user_id=str(1000 + n)).id for n in range(args.accounts)
    ]
    search_table, messenger = moto_table(created["SearchTable"]), moto_table(created["MessengerTable"])
    messenger.stream_shard = None  # no stream consumer runs here; the shard would only hold 100,000 records
    compact = CompactIndex() if args.compact else None
    checked: list[Any] = []
    cached = _load(args, accounts) if args.compact else None
    if cached is not None:
        compact = cached["compact"]

    def index(doc: Any) -> int:
        if cached is not None:
            return 0  # already in the cached index
        if compact is not None:
            if len(checked) < 2000:
                checked.append(doc)
            return compact.add(doc)
        from avito_service.search.store import entries

        found = entries(doc).values()
        for entry in found:
            put(search_table, entry)
        return len(found)

    started = time.perf_counter()
    t0 = 1_780_000_000
    chats: list[tuple[str, str, int]] = []
    written = 0
    for n in range(args.chats):
        account_id, chat_id = accounts[n % len(accounts)], f"u2i-bench-{n}"
        created_at = t0 + n * 60
        name = f"{rng.choice(NAMES)} {rng.choice(SURNAMES)}" if rng.random() < 0.6 else rng.choice(NAMES)
        item = {
            "pk": f"ACCOUNT#{account_id}#CHAT#{chat_id}",
            "sk": "CHAT",
            "accountId": account_id,
            "chatId": chat_id,
            "id": chat_id,
            "clientName": name,
            "itemTitle": rng.choice(ITEMS),
            "createdAt": clock.iso(created_at),
            "updatedAt": clock.iso(created_at),
        }
        put(messenger, item)
        for doc in documents(item):
            written += index(doc)
        chats.append((account_id, chat_id, created_at))
    message_entries = 0
    phones: list[str] = []
    for n in range(args.messages if cached is None else 0):
        account_id, chat_id, created_at = chats[rng.randrange(len(chats))]
        at = clock.iso(created_at + rng.randrange(1, 30 * 86400))
        doc = Document(account_id, chat_id, "message", f"m{n}", message_text(rng, weights, phones), at)
        message_entries += index(doc)
        if n and n % 200_000 == 0:
            print(f"  {n:,} messages, {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    written += message_entries
    if cached is not None:
        phones, written, message_entries = cached["phones"], compact.entries, cached["message_entries"]
        search_table.compact = compact
        partitions = {key: len(part) for key, part in compact.parts.items()}
    elif compact is not None:
        compact.sort()
        _check(compact, checked)
        search_table.compact = compact
        _save(args, accounts, compact, phones, message_entries)
        partitions = {key: len(part) for key, part in compact.parts.items()}
    else:
        partitions = {key: len(items) for key, items in search_table.items.items()}
    if phones:
        QUERIES["phone"].append(phones[len(phones) // 2])  # a number some message wrote
    return {
        "accounts": accounts,
        "entries": written,
        "entries_per_message": message_entries / max(1, args.messages),
        "largest_partition": max(partitions.values()),
        "partitions": len(partitions),
        "build_seconds": time.perf_counter() - started,
    }


# --- measuring -------------------------------------------------------------------------------------------------


def queries(rounds: int) -> Iterator[tuple[str, str]]:
    for _ in range(rounds):
        for kind, texts in QUERIES.items():
            for text in texts:
                yield kind, text


def measure(args: argparse.Namespace, spent: dict[str, float], accounts: list[str]) -> dict[str, Any]:
    from avito_service.search import service

    for _, text in queries(1):  # warm-up: pools, caches, the first import of everything
        service.search(text, visible=None, account_id=None, limit=20, cursor=None)
    results: dict[str, list[tuple[float, float, float, int]]] = {}
    scoped: list[float] = []
    for kind, text in queries(args.rounds):
        before, cpu = spent["seconds"], time.process_time()
        started = time.perf_counter()
        page, _ = service.search(text, visible=None, account_id=None, limit=20, cursor=None)
        elapsed = time.perf_counter() - started
        in_moto = spent["seconds"] - before
        results.setdefault(kind, []).append((elapsed, time.process_time() - cpu - in_moto, in_moto, len(page)))
        started = time.perf_counter()
        service.search(text, visible=frozenset(accounts[:2]), account_id=None, limit=20, cursor=None)
        scoped.append(time.perf_counter() - started)
    return {"by_kind": results, "scoped": scoped}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--accounts", type=int, default=9)
    parser.add_argument("--chats", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=300_000)
    parser.add_argument("--rounds", type=int, default=8, help="times each query is timed")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--stock-moto", action="store_true", help="moto's own Query (walks the whole table)")
    parser.add_argument(
        "--no-compact", dest="compact", action="store_false", help="SearchTable entries as moto items (small sizes)"
    )
    parser.add_argument("--cache-dir", default="", help="keep / reuse the built index in this folder")
    parser.add_argument("--with-texts", action="store_true", help="every Query reads the entries' texts (as before)")
    parser.add_argument("--results-name", default="search")
    args = parser.parse_args()
    spent = patch_moto(partition_reads=not args.stock_moto)
    patch_compact()
    if args.with_texts:
        from avito_service.search.store import SearchIndex

        lookup = SearchIndex.lookup
        SearchIndex.lookup = lambda self, a, term, limit, with_text=True: lookup(self, a, term, limit, with_text=True)
    with moto_stack() as created, quiet_output():
        import os

        os.environ["SEARCH_TABLE"] = created["SearchTable"]
        from avito_service.config import get_settings

        get_settings.cache_clear()
        built = build(args, created)
        measured = measure(args, spent, built["accounts"])
    rows, summary = [], {}
    every = [v for values in measured["by_kind"].values() for v in values]
    for kind, values in [*measured["by_kind"].items(), ("all queries", every)]:
        wall = [v[0] * 1000 for v in values]
        service_cpu = [v[1] * 1000 for v in values]
        moto_cpu = [v[2] * 1000 for v in values]
        entry = {
            "n": len(wall),
            "p50_ms": round(statistics.median(wall), 1),
            "p95_ms": round(percentile(wall, 95), 1),
            "service_cpu_p50_ms": round(statistics.median(service_cpu), 1),
            "service_cpu_p95_ms": round(percentile(service_cpu, 95), 1),
            "moto_cpu_p50_ms": round(statistics.median(moto_cpu), 1),
            "mean_results": round(statistics.fmean(v[3] for v in values), 1),
        }
        summary[kind] = entry
        rows.append([kind, *entry.values()])
    scoped = [t * 1000 for t in measured["scoped"]]
    rows.append(
        [
            "all, operator with 2 accounts",
            len(scoped),
            round(statistics.median(scoped), 1),
            round(percentile(scoped, 95), 1),
            round(max(scoped), 1),
            None,
            None,
            None,
        ]
    )
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"\n{args.accounts} accounts, {args.chats:,} chats, {args.messages:,} messages -> {built['entries']:,} index "
        f"entries ({built['entries_per_message']:.2f} per message), {built['partitions']:,} partitions, largest "
        f"{built['largest_partition']:,}; built in {built['build_seconds']:.0f} s; max RSS {rss_mb:,.0f} MB; "
        f"{'stock moto' if args.stock_moto else 'moto reading one partition per Query'}\n"
    )
    print(
        table(
            [
                "queries",
                "n",
                "wall p50 ms",
                "wall p95 ms",
                "service CPU p50",
                "service CPU p95",
                "moto CPU p50",
                "results",
            ],
            rows,
        )
    )
    path = write_results(
        args.results_name,
        {
            "args": vars(args),
            "built": {k: v for k, v in built.items() if k != "accounts"},
            "max_rss_mb": round(rss_mb),
            "summary": summary,
            "scoped_2_accounts": {
                "p50_ms": round(statistics.median(scoped), 1),
                "p95_ms": round(percentile(scoped, 95), 1),
            },
        },
    )
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
