"""Search tokenisation: Russian, Latin, digits and phone numbers; phone normalisation; snippets; ranking."""

from __future__ import annotations

import pytest
from avito_service.messenger.items import chat_pk
from avito_service.phones import find_phones, normalise
from avito_service.search import service
from avito_service.search.documents import Document, documents, ids_of_chat_pk
from avito_service.search.store import Hit, entries
from avito_service.search.store import _hit as read_back
from avito_service.search.tokens import fold, phone_words, query_terms, words

YO, YE = "\u0451", "\u0435"


def test_russian_words_are_case_folded_with_yo_as_ye() -> None:
    assert words(f"{YO}лка, {YO.upper()}ЖИК и Ещё") == [f"{YE}лка", f"{YE}жик", f"ещ{YE}"]  # "и": one letter
    assert fold("ПРИВЕТ") == "привет"


def test_latin_digits_and_mixed_words() -> None:
    assert words("iPhone15 Pro-Max, 12 500 ₽; e-mail: Anna_Petrova@Mail.RU") == [
        "iphone15",
        "pro",
        "max",
        "12",
        "500",
        "mail",
        "anna",
        "petrova",
        "ru",
    ]


def test_words_are_distinct_bounded_and_ignore_single_letters() -> None:
    assert words("да да ДА a b") == ["да"]
    assert words("x" * 100) == ["x" * 40]
    assert len(words(" ".join(f"w{n}" for n in range(100)))) == 48
    assert words(None) == [] and words("") == []


@pytest.mark.parametrize(
    "text",
    [
        "звоните 8 (912) 345-67-89",
        "+7 912 345 67 89",
        "89123456789",
        "+79123456789",
        "мой номер 9123456789",
        "тел.: 912-345-67-89",
        "WhatsApp 8-912-345-6789",
    ],
)
def test_russian_phone_formats_are_normalised(text: str) -> None:
    assert find_phones(text) == ["+79123456789"]


@pytest.mark.parametrize(
    "text",
    [
        "объявление 9123456789",  # ten bare digits without a word saying it is a number: an id, a sum
        "12345678901234",
        "цена 1 000 000",
        "+1 650 253 0000",
    ],
)
def test_digits_that_are_not_russian_phones(text: str) -> None:
    assert find_phones(text) == []


def test_several_phones_in_order_without_repeats() -> None:
    text = "+7(495)123-45-67, моб. 8 912 345 67 89, ещё раз +7 912 345-67-89"
    assert find_phones(text) == ["+74951234567", "+79123456789"]


def test_normalise() -> None:
    assert normalise("8 (912) 345-67-89") == "+79123456789"
    assert normalise("9123456789") == "+79123456789"
    assert normalise("12345") is None and normalise("59123456789") is None


def test_a_phone_gives_its_full_and_national_digits() -> None:
    assert phone_words("звоните 8 (912) 345-67-89") == ["79123456789", "9123456789"]


@pytest.mark.parametrize(
    ("query", "terms"),
    [
        ("+7 (912) 345-67-89", ["79123456789"]),
        ("8 912 345 67 89", ["79123456789"]),
        ("89123456789", ["79123456789"]),
        ("912 345", ["912", "345"]),
        ("Диван  УГЛОВОЙ", ["диван", "угловой"]),
        (f"{YO}лка", [f"{YE}лка"]),
        ("a b", []),
    ],
)
def test_query_terms(query: str, terms: list[str]) -> None:
    assert query_terms(query) == terms


def test_message_documents_index_phone_digits_and_chat_documents_do_not_follow_activity() -> None:
    message = {
        "sk": "MSG#000000000100#m1",
        "accountId": "a1",
        "chatId": "c1",
        "id": "m1",
        "type": "text",
        "text": "Звоните 8 912 345 67 89",
        "createdAt": "2026-12-01T10:00:00.000Z",
    }
    [doc] = documents(message)
    assert doc.words() == {
        "звоните": False,
        "912": False,
        "345": False,
        "67": False,
        "89": False,
        "79123456789": True,
        "9123456789": True,
    }
    assert documents({**message, "type": "deleted"}) == []
    chat = {
        "sk": "CHAT",
        "accountId": "a1",
        "chatId": "c1",
        "clientName": "Анна",
        "itemTitle": "Диван",
        "tags": ["VIP"],
        "createdAt": "2026-11-01T00:00:00.000Z",
        "updatedAt": "2026-12-01T00:00:00.000Z",
    }
    first = documents(chat)
    assert [d.kind for d in first] == ["client", "item", "tag"]
    assert documents({**chat, "updatedAt": "2026-12-02T00:00:00.000Z", "unreadCount": 3}) == first
    assert documents({"sk": "ACCOUNT", "accountId": "a1"}) == []
    # a note stored before notes carried their chat's ids is found through its key (the reindex job reads it)
    note = {"pk": "ACCOUNT#a1#CHAT#u2i-x#1", "sk": "NOTE#2026-12-01T10:00:00.000Z#n1", "id": "n1", "text": "Звонок"}
    [doc] = documents(note)
    assert (doc.account_id, doc.chat_id, doc.kind, doc.ref) == ("a1", "u2i-x#1", "note", "n1")
    assert documents({**note, "pk": "USER#u1"}) == []
    assert ids_of_chat_pk(chat_pk("5f0c-acc", "u2i-x#1")) == ("5f0c-acc", "u2i-x#1")


def test_entry_keys_sort_the_exact_word_first_and_newer_first() -> None:
    def key(word_text: str, at: str) -> str:
        doc = documents(
            {
                "sk": "MSG#1#m",
                "accountId": "a",
                "chatId": "c",
                "id": at,
                "type": "text",
                "text": word_text,
                "createdAt": at,
            }
        )[0]
        return next(iter(entries(doc)))[1]

    exact_old = key("диван", "2026-01-01T00:00:00.000Z")
    exact_new = key("диван", "2026-06-01T00:00:00.000Z")
    longer_new = key("диваны", "2026-12-01T00:00:00.000Z")
    assert sorted([longer_new, exact_old, exact_new]) == [exact_new, exact_old, longer_new]


def _hit(word: str, text: str, kind: str = "message", at: str = "2026-12-01T00:00:00.000Z", ref: str = "") -> Hit:
    return Hit(word=word, kind=kind, account_id="a", chat_id="c", ref=ref or text, at=at, text=text, phone=False)


def test_ranking_whole_words_first_then_what_matched_then_newest() -> None:
    hits = [
        _hit("диваны", "диваны в наличии", at="2026-12-05T00:00:00.000Z"),
        _hit("диван", "диван продан", at="2026-12-01T00:00:00.000Z"),
        _hit("диван", "есть диван", at="2026-12-03T00:00:00.000Z"),
        _hit("диван", "Диван угловой", kind="item", at="2026-01-01T00:00:00.000Z"),
    ]
    ranked = [hit.text for hit, _ in service.rank(hits, ["диван"])]
    assert ranked == ["Диван угловой", "есть диван", "диван продан", "диваны в наличии"]


def test_every_term_must_match_a_word_or_a_words_beginning() -> None:
    hits = [_hit("диван", "Диван угловой"), _hit("диван", "диван красный")]
    assert [h.text for h, _ in service.rank(hits, ["диван", "угл"])] == ["Диван угловой"]
    assert service.rank(hits, ["диван", "ловой"]) == []  # the middle of a word is not a match


def test_snippet_is_around_the_first_match() -> None:
    text = "Начало. " + "слово " * 40 + "здесь диван угловой, " + "хвост " * 40
    cut = service.snippet(text, ["диван"])
    assert "диван угловой" in cut and cut.startswith("…") and cut.endswith("…")
    assert len(cut) <= service.SNIPPET + 2
    assert service.snippet("Короткий текст", ["текст"]) == "Короткий текст"


@pytest.mark.parametrize(
    ("kind", "ref", "chat_id"),
    [("message", "m-1", "u2i-abc"), ("client", "", "u2i-abc"), ("tag", "срочно#vip", "u2i-x"), ("note", "n#1", "c")],
)
def test_an_entry_read_back_without_its_kind_account_and_ref_attributes(kind: str, ref: str, chat_id: str) -> None:
    """A search reads only sk, c, t, ph (and x): the kind and reference come back out of the key, even a tag's."""
    doc = Document("acc-1", chat_id, kind, ref, "Диван 8 912 345-67-89", "2026-12-01T10:00:00.000Z")
    for entry in entries(doc).values():
        read = {name: {"S": entry[name]} for name in ("sk", "c", "t", "x")}
        if entry.get("ph"):
            read["ph"] = {"BOOL": True}
        hit = read_back(read, "acc-1")
        assert (hit.kind, hit.ref, hit.chat_id, hit.account_id, hit.at) == (kind, ref, chat_id, "acc-1", doc.at)
        assert hit.word == entry["sk"].split("#", 1)[0] and hit.phone == bool(entry.get("ph"))
