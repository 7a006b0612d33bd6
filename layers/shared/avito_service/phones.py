"""Russian phone numbers in free text, normalised to ``+7XXXXXXXXXX``.

Recognised: ``+7 912 345-67-89``, ``8 (912) 345-67-89``, ``89123456789``, ``+79123456789``, ``7 912 3456789``,
and a bare ten-digit ``9123456789`` (a mobile number without its country code) only when the text also says
it is a number (``тел``, ``телефон``, ``номер``, ``звоните``, ``whatsapp``, ``phone``...): without that
context ten digits are as likely an item id or a sum. Digits glued to more digits are never a phone.

Hand-written rather than ``phonenumbers``: that library's metadata is ~40 MB unpacked for every country's
formats, and this service needs one country's four spellings.
"""

from __future__ import annotations

import re

_SEP = r"[\s\-\u2010-\u2015.]*"  # spaces, hyphens, dashes, dots between groups
_PREFIXED = re.compile(
    rf"(?<![\d+])(?:\+\s*7|8|7){_SEP}\(?{_SEP}(\d{{3}}){_SEP}\)?{_SEP}(\d{{3}}){_SEP}(\d{{2}}){_SEP}(\d{{2}})(?!\d)"
)
_BARE = re.compile(rf"(?<![\d+])\(?(9\d{{2}})\)?{_SEP}(\d{{3}}){_SEP}(\d{{2}}){_SEP}(\d{{2}})(?!\d)")
_CONTEXT = re.compile(
    r"тел|номер|звон|позвон|whats\s*app|ватсап|вотсап|viber|вайбер|телеграм|telegram|phone|mobile|моб\.?|сот\.?|связ",
    re.IGNORECASE,
)


def normalise(digits: str) -> str | None:
    """``+7XXXXXXXXXX`` for 11 digits starting 7 or 8, or 10 digits; None otherwise."""
    only = re.sub(r"\D", "", digits)
    if len(only) == 11 and only[0] in "78":
        return "+7" + only[1:]
    if len(only) == 10:
        return "+7" + only
    return None


def find_phones(text: str | None) -> list[str]:
    """Every phone number in ``text``, normalised, in order of appearance, without repeats."""
    if not text:
        return []
    found: dict[str, int] = {}
    taken: list[tuple[int, int]] = []
    for match in _PREFIXED.finditer(text):
        number = "+7" + "".join(match.groups())
        found.setdefault(number, match.start())
        taken.append(match.span())
    if _CONTEXT.search(text):
        for match in _BARE.finditer(text):
            if any(start <= match.start() < end for start, end in taken):
                continue
            found.setdefault("+7" + "".join(match.groups()), match.start())
    return sorted(found, key=found.__getitem__)
