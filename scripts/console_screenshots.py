"""``python -m scripts.console_screenshots`` (``make screenshots``): docs/console-<view>.png for the sign-in page,
the inbox, a chat, the accounts, the reviews and the answering views (quick replies and the client card in a chat,
the search, the templates, the automatic replies); ``--only reviews`` or ``--only answering`` redoes those alone.

Starts the demo (simulator + local stack on free ports, see scripts/demo.py), opens the console in headless
Chromium (tests/support/browser.py) and saves the sign-in page, then, signed in as the demo admin, the inbox, one
open chat and the accounts, in Russian (the console's default language; the pictures wait for <html lang="ru">).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

import requests
from selenium.webdriver.remote.webdriver import WebDriver

from avito_sim.demo import DEMO_USER_ID
from scripts.demo import DEMO_CHAT, setup
from tests.support.browser import all_of, chromium, tid, visible, wait_for

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def reviews(driver: WebDriver, base: str, account_id: str) -> None:
    """The "Отзывы" view of the demo account: unanswered reviews first, an answer being typed, the calls."""
    driver.set_window_size(1280, 900)
    driver.get(f"{base}#/reviews/{account_id}")
    wait_for(driver, lambda d: len(d.find_elements("css selector", tid("review"))) >= 4, "reviews")
    wait_for(driver, lambda d: d.find_elements("css selector", tid("call-row")), "calls")
    visible(driver, tid("answer-text")).send_keys("Игорь, извините за долгий ответ! Подберём удобное время.")
    driver.save_screenshot(str(DOCS / "console-reviews.png"))


def answering(driver: WebDriver, base: str, demo: Any) -> None:
    """A chat with the client card and the quick replies open, the search, the templates, the automatic replies."""
    headers = {"Authorization": f"Bearer {demo.token}"}
    api = f"{demo.stack.api_url}/api/v1"
    for title, text in (
        ("Доставка", "{client_name}, доставим «{item_title}» завтра, 10:00-18:00."),
        ("Адрес самовывоза", "Забрать можно по адресу: Москва, ул. Лесная, 5, 10:00-20:00."),
    ):
        body = {"title": title, "text": text, "shared": True}
        requests.post(f"{api}/templates", json=body, headers=headers, timeout=30)
    auto = {
        "greeting": {"enabled": True, "text": "Здравствуйте! Ответим в течение 5 минут."},
        "outOfHours": {"enabled": True, "text": "Мы работаем 9:00-21:00, ответим утром."},
    }
    requests.put(f"{api}/accounts/{demo.account['id']}/auto-replies", json=auto, headers=headers, timeout=30)
    demo.sim.incoming_message(DEMO_USER_ID, DEMO_CHAT, "Мой телефон 8 (912) 345-67-89, звоните после шести")
    driver.set_window_size(1280, 760)
    driver.get(f"{base}#/inbox/{demo.account['id']}/{DEMO_CHAT}")
    wait_for(driver, lambda d: d.find_elements("css selector", tid("card-phone")), "the client card's phone")
    visible(driver, tid("composer-input")).send_keys("/")
    wait_for(driver, lambda d: len(d.find_elements("css selector", tid("quick-reply"))) >= 2, "quick replies")
    driver.save_screenshot(str(DOCS / "console-answering-chat.png"))
    driver.get(f"{base}#/inbox")
    visible(driver, tid("search-input")).send_keys("вечером")
    wait_for(driver, lambda d: len(d.find_elements("css selector", tid("search-hit"))) >= 2, "search hits")
    driver.save_screenshot(str(DOCS / "console-search.png"))
    driver.get(f"{base}#/templates")
    wait_for(driver, lambda d: len(d.find_elements("css selector", tid("template-row"))) >= 2, "templates")
    driver.save_screenshot(str(DOCS / "console-templates.png"))
    driver.set_window_size(1280, 1100)
    driver.get(f"{base}#/auto-replies/{demo.account['id']}")
    wait_for(driver, lambda d: visible(d, tid("auto-greeting-text")).get_attribute("value"), "the settings")
    driver.save_screenshot(str(DOCS / "console-auto-replies.png"))


def main() -> int:
    only_reviews = sys.argv[1:] == ["--only", "reviews"]
    only_answering = sys.argv[1:] == ["--only", "answering"]
    demo = setup(0, 0, 0, schedule_seconds=3600)
    try:
        with tempfile.TemporaryDirectory() as profile:
            driver = chromium(Path(profile), width=1280, height=720)
            try:
                base = f"{demo.stack.api_url}/console/"
                DOCS.mkdir(exist_ok=True)
                if only_reviews or only_answering:
                    driver.get(f"{base}#token={demo.token}")
                    wait_for(driver, lambda d: d.execute_script("return document.documentElement.lang") == "ru", "ru")
                    if only_reviews:
                        reviews(driver, base, demo.account["id"])
                    else:
                        answering(driver, base, demo)
                    return 0
                driver.get(base)
                visible(driver, tid("email-input")).send_keys("operator@example.com")
                driver.save_screenshot(str(DOCS / "console-sign-in.png"))
                driver.get("about:blank")  # the #token= address below then loads the page afresh
                driver.get(f"{base}#token={demo.token}")
                wait_for(driver, lambda d: d.execute_script("return document.documentElement.lang") == "ru", "ru")
                wait_for(driver, lambda d: len(d.find_elements("css selector", tid("chat-item"))) >= 3, "chats")
                driver.save_screenshot(str(DOCS / "console-inbox.png"))
                driver.get(f"{base}#/inbox/{demo.account['id']}/{DEMO_CHAT}")
                wait_for(driver, lambda d: len(d.find_elements("css selector", tid("message"))) >= 3, "messages")
                open_item = tid("chat-item", chatId=DEMO_CHAT) + " " + tid("unread-badge")
                wait_for(driver, lambda d: not d.find_elements("css selector", open_item), "the chat marked read")
                visible(driver, tid("composer-input")).send_keys("Добрый вечер! Да, приезжайте к 19:00.")
                driver.save_screenshot(str(DOCS / "console-chat.png"))
                driver.get(f"{base}#/accounts")
                wait_for(driver, lambda d: all_of(d, tid("account-row")), "the accounts table")
                driver.save_screenshot(str(DOCS / "console-accounts.png"))
                reviews(driver, base, demo.account["id"])
                answering(driver, base, demo)
            finally:
                driver.quit()
    finally:
        demo.stop()
    views = ("sign-in", "inbox", "chat", "accounts", "reviews", "answering-chat", "search", "templates", "auto-replies")
    print(f"wrote {', '.join(str(DOCS / f'console-{view}.png') for view in views)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
