"""The console's dictionaries (console/static/js/i18n/*.js) and its modules, read as text: both languages have the
same keys and placeholders, Russian has its plural forms, every key the modules ask for exists and every key is
asked for, and no user-visible sentence is left in a module outside the dictionaries."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

STATIC = Path(__file__).resolve().parents[2] / "console" / "static"
JS = STATIC / "js"
LANGUAGES = ("ru", "en")
PLURAL_FORMS = {"ru": {"one", "few", "many", "other"}, "en": {"one", "other"}}
CYRILLIC = re.compile("[\u0400-\u04ff]")
PLACEHOLDER = re.compile(r"\{(\w+)\}")
# Values that are the same in both languages: names of the languages, formats made only of placeholders, codes.
LANGUAGE_NEUTRAL = {"lang.ru", "lang.en", "lang.ru.name", "lang.en.name", "accounts.cpa"}


def dictionary(language: str) -> dict[str, str | dict[str, str]]:
    text = (JS / "i18n" / f"{language}.js").read_text(encoding="utf-8")
    match = re.search(r"^export default (\{.*\});\s*\Z", text, re.S | re.M)
    assert match, f"{language}.js: `export default {{...}};` with a JSON object, and nothing after it"
    return json.loads(match.group(1))


def forms(value: str | dict[str, str]) -> list[str]:
    return list(value.values()) if isinstance(value, dict) else [value]


def modules() -> dict[str, str]:
    """The console's modules but the dictionaries: name -> source."""
    return {path.name: path.read_text(encoding="utf-8") for path in sorted(JS.glob("*.js"))}


# --- a small JavaScript lexer: string literals (and template literals' text parts) with what precedes them ---

_REGEX_AFTER = set("(,=:[!&|?{};+-*%<>~^") | {""}


def literals(source: str) -> list[tuple[str, str]]:
    """(text, the code before it on its line) for every string literal; a template literal gives its text with
    each ${...} replaced by a space; comments and regular expressions are skipped."""
    found: list[tuple[str, str]] = []
    i, n = 0, len(source)
    last = ""  # the last significant character, to tell a regular expression from a division

    def line_before(at: int) -> str:
        return source[source.rfind("\n", 0, at) + 1 : at]

    while i < n:
        c = source[i]
        if source.startswith("//", i):
            i = source.find("\n", i)
            i = n if i < 0 else i
        elif source.startswith("/*", i):
            i = source.index("*/", i) + 2
        elif c in "\"'":
            j, text = i + 1, []
            while source[j] != c:
                if source[j] == "\\":
                    text.append(source[j + 1])
                    j += 2
                else:
                    text.append(source[j])
                    j += 1
            found.append(("".join(text), line_before(i)))
            i, last = j + 1, c
        elif c == "`":
            j, text, depth = i + 1, [], 0
            while depth or source[j] != "`":
                if source[j] == "\\":
                    j += 2
                elif source.startswith("${", j) and not depth:
                    depth, j = 1, j + 2
                    text.append(" ")
                elif depth and source[j] == "{":
                    depth, j = depth + 1, j + 1
                elif depth and source[j] == "}":
                    depth, j = depth - 1, j + 1
                else:
                    if not depth:
                        text.append(source[j])
                    j += 1
            found.append(("".join(text), line_before(i)))
            i, last = j + 1, "`"
        elif c == "/" and last in _REGEX_AFTER:
            j, in_class = i + 1, False
            while in_class or source[j] != "/":
                if source[j] == "\\":
                    j += 1
                elif source[j] == "[":
                    in_class = True
                elif source[j] == "]":
                    in_class = False
                j += 1
            i, last = j + 1, "/"
        else:
            if not c.isspace():
                last = c if not (c.isalnum() or c in "_$)]") else "a"
            i += 1
    return found


# --- the dictionaries ----------------------------------------------------------------------------------------


def test_both_dictionaries_have_the_same_keys_and_placeholders() -> None:
    ru, en = dictionary("ru"), dictionary("en")
    assert sorted(set(ru) - set(en)) == [] and sorted(set(en) - set(ru)) == []
    for key in ru:
        ru_names = {name for text in forms(ru[key]) for name in PLACEHOLDER.findall(text)}
        en_names = {name for text in forms(en[key]) for name in PLACEHOLDER.findall(text)}
        assert ru_names == en_names, key
        assert isinstance(ru[key], dict) == isinstance(en[key], dict), f"{key}: plural in one language only"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_text_is_filled_and_plurals_have_the_languages_forms(language: str) -> None:
    for key, value in dictionary(language).items():
        assert all(text.strip() for text in forms(value)), key
        if isinstance(value, dict):
            assert set(value) == PLURAL_FORMS[language], key
            assert all("{count}" in text for text in value.values()), key


def test_russian_texts_are_russian_and_english_texts_english() -> None:
    ru, en = dictionary("ru"), dictionary("en")
    for key in ru:
        only_placeholders = all(not re.sub(PLACEHOLDER, "", text).strip(" .:·…()") for text in forms(ru[key]))
        if key in LANGUAGE_NEUTRAL or only_placeholders:
            continue
        assert all(CYRILLIC.search(text) for text in forms(ru[key])), f"ru {key}: {ru[key]!r}"
        assert not any(CYRILLIC.search(text) for text in forms(en[key])), f"en {key}: {en[key]!r}"
        assert ru[key] != en[key], key


def test_russian_plural_forms_follow_the_grammar() -> None:
    """The forms written for 1 / 2-4 / 5-20 (CLDR's one / few / many) end as Russian needs them."""
    ru = dictionary("ru")
    assert ru["inbox.chatCount"] == {
        "one": "{count} чат",
        "few": "{count} чата",
        "many": "{count} чатов",
        "other": "{count} чата",
    }
    unread = ru["inbox.unreadCount"]
    assert unread["one"].endswith("непрочитанное сообщение") and unread["few"].endswith("непрочитанных сообщения")
    assert unread["many"].endswith("непрочитанных сообщений")


# --- the modules ---------------------------------------------------------------------------------------------

_KEY_CALL = re.compile(r"\b(?:t|has)\(\s*([\"'`])((?:(?!\1).)*)\1", re.S)


def used_keys() -> tuple[set[str], set[str]]:
    """Keys the modules name literally, and the prefixes of keys they build (t(`live.${state}`))."""
    exact, prefixes = set(), set()
    for source in modules().values():
        for _, key in _KEY_CALL.findall(source):
            if "${" in key:
                prefixes.add(key.split("${", 1)[0])
            else:
                exact.add(key)
    return exact, prefixes


def test_every_key_the_modules_use_exists_and_every_key_is_used() -> None:
    keys = set(dictionary("ru"))
    exact, prefixes = used_keys()
    assert sorted(exact - keys) == []
    for prefix in prefixes:
        assert any(key.startswith(prefix) for key in keys), prefix
    # keys chosen by a variable name their prefix in a module (label("accounts.connection", status), ...)
    sources = "\n".join(modules().values())
    unused = [
        key
        for key in keys
        if key not in exact
        and not any(key.startswith(p) for p in prefixes)
        and f'"{key.rsplit(".", 1)[0]}"' not in sources
    ]
    assert unused == []


# Code words that look like prose but are not shown: HTTP headers and keys the page compares with.
NOT_SHOWN = {
    "Enter",
    "Escape",
    "Tab",
    "Accept",
    "Authorization",
    "Bearer",
    "Content-Type",
    "Idempotency-Key",
    "GET",
    "HEAD",
    "POST",
}
# Shown, but the same in every language: the start of a JWT as the token field's placeholder.
NEUTRAL_TEXT = {"eyJhbGciOiJIUzI1NiIs…"}
# What a literal may follow and still be no user text: CSS classes, selectors, element names.
CODE_CONTEXT = re.compile(r"(class:\s*|rel:\s*|className\s*=\s*|querySelector(All)?\(|classList\.\w+\(|CSS\.escape\()$")
SHOWN_CONTEXT = re.compile(r"(textContent\s*=|title:|placeholder:|\"aria-label\":|alt:|new Error\()\s*$")
PROSE = re.compile(r"[A-Za-z]{2,}[,.:;!?…]?\s+[A-Za-z]{2,}|^[A-Z][a-z]+\b")


def test_the_modules_hold_no_user_visible_text() -> None:
    """Every sentence, label and word the page shows comes from t(); the modules hold only code words."""
    offenders = []
    for name, source in modules().items():
        if name == "i18n.js":
            continue
        for text, before in literals(source):
            stripped = text.strip()
            if stripped in NEUTRAL_TEXT:
                continue
            russian = bool(CYRILLIC.search(text))
            shown = bool(SHOWN_CONTEXT.search(before) and re.search(r"[A-Za-z]", text))
            prose = bool(stripped not in NOT_SHOWN and not CODE_CONTEXT.search(before) and PROSE.search(text))
            if russian or shown or prose:
                offenders.append((name, text))
    assert offenders == []


def test_the_lexer_finds_hard_coded_text() -> None:
    """The check above would catch the strings it is for (so an empty list means something)."""
    sample = """
      // "Not a literal in a comment"
      const re = /"[^"]*"/g;
      el.textContent = "Loading chats…";
      h("button", { class: "ghost small" }, "Send");
      h("p", {}, `Not sent: ${error.message}`);
      h("p", {}, t("chat.send"));
      const x = a / b; const y = "Входящие";
    """
    texts = [text for text, _ in literals(sample)]
    assert texts == [
        *("Loading chats…", "button", "ghost small", "Send", "p", "Not sent:  ", "p", "chat.send", "Входящие"),
    ]
    assert next(before for text, before in literals(sample) if text == "ghost small").endswith("class: ")


def test_the_page_starts_in_russian() -> None:
    html = (STATIC / "index.html").read_text(encoding="utf-8")
    assert '<html lang="ru">' in html and "<title>Консоль Авито</title>" in html
    assert "<script>" not in html  # the CSP allows no inline script; the modules do everything
