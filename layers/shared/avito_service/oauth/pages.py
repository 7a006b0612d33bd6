# ruff: noqa: RUF001 - Russian text for the account owner: Cyrillic letters are meant
"""The small pages the consent callback answers the account owner's browser with (Russian: the owner is an Avito
seller in Russia, not a user of the console). Every value is escaped; the page loads nothing and runs nothing."""

from __future__ import annotations

import html

HEADERS = {
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",  # the callback's address held the code and the state
    "X-Content-Type-Options": "nosniff",
}
CONTENT_TYPE = "text/html; charset=utf-8"


def _page(title: str, *paragraphs: str) -> str:
    body = "".join(f"<p>{html.escape(text)}</p>" for text in paragraphs)
    return (
        '<!doctype html><html lang="ru"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title></head><body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )


def connected(name: str, *, reconnected: bool) -> str:
    what = "снова подключён" if reconnected else "подключён"
    return _page(
        "Готово",
        f"Аккаунт «{name}» {what} к сервису колл-центра.",
        "Эту страницу можно закрыть. Отозвать доступ можно в любой момент в настройках Авито.",
    )


def refused(code: str) -> str:
    reasons = {
        "invalid_state": "Эта ссылка уже использована, устарела или неверна.",
        "consent_refused": "Доступ на Авито не был выдан.",
    }
    return _page(
        "Не удалось подключить аккаунт",
        reasons.get(code, "Авито не подтвердил доступ. Попробуйте ещё раз чуть позже."),
        "Попросите у колл-центра новую ссылку для подключения.",
    )
