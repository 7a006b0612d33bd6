"""Words of a text as the search index keeps them, and of a query as the search looks them up.

One normal form for both: Unicode NFKC, case-folded, ``ё`` (U+0451) as U+0435; a word is a run of letters and
digits (any script: Russian and English alike, ``iPhone15`` is one word). Phone numbers found in a text also give the
normalised number's digits (``79123456789``) and its ten national digits (``9123456789``), so ``+7 912 345-67-89``,
``8 912 ...`` and ``912345`` all find a message that wrote the number any of those ways.
"""

from __future__ import annotations

import re
import unicodedata

from avito_service.phones import find_phones, normalise

MIN_WORD = 2  # shorter words are not indexed (and not looked up)
MAX_WORD = 40  # longer runs are cut (a URL's tail, a hash): a prefix of 40 is as good as the whole
MAX_WORDS = 48  # distinct words indexed per document: bounds the writes of one long message
_WORD = re.compile(r"[^\W_]+")


def fold(text: str) -> str:
    """The normal form searches compare: NFKC, case-folded, U+0451 (yo) -> U+0435 (ye)."""
    return unicodedata.normalize("NFKC", text).casefold().replace("\u0451", "\u0435")


def words(text: str | None) -> list[str]:
    """The distinct words of ``text`` in order, folded, 2-40 characters (at most MAX_WORDS)."""
    if not text:
        return []
    seen: dict[str, None] = {}
    for match in _WORD.finditer(fold(text)):
        word = match.group()[:MAX_WORD]
        if len(word) >= MIN_WORD:
            seen.setdefault(word, None)
    return list(seen)[:MAX_WORDS]


def phone_words(text: str | None) -> list[str]:
    """The digits of every phone number in ``text``: ``79123456789`` and ``9123456789`` for each."""
    found: list[str] = []
    for number in find_phones(text):
        digits = number[1:]
        found.extend([digits, digits[1:]])
    return found


def query_terms(query: str) -> list[str]:
    """The terms of a search query: its words, with a query that is a phone number as that number's digits.

    ``+7 (912) 345-67-89`` and ``8 912 345 67 89`` become ``79123456789``; ``912 345`` stays two terms (each a
    prefix of the number's groups as written, and ``912`` a prefix of its ten national digits)."""
    stripped = re.sub(r"[\s\-()+.]", "", query)
    if stripped.isdigit() and (number := normalise(stripped)) is not None:
        return [number[1:]]
    return words(query)
