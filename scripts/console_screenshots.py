"""``python -m scripts.console_screenshots`` (``make screenshots``): docs/console-<view>.png for the sign-in page,
the inbox, a chat, the accounts, the reviews and the reports (``--only reviews`` / ``--only reports``: that view
alone).

Starts the demo (simulator + local stack on free ports, see scripts/demo.py), opens the console in headless
Chromium (tests/support/browser.py) and saves the sign-in page, then, signed in as the demo admin, the inbox, one
open chat and the accounts, in Russian (the console's default language; the pictures wait for <html lang="ru">).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from selenium.webdriver.remote.webdriver import WebDriver

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


def reports(driver: WebDriver, base: str) -> None:
    """The "Отчёты" view (issue 27): the demo's figures, counted by the stack's stream consumer."""
    driver.set_window_size(1280, 1400)
    driver.get(f"{base}#/reports")
    wait_for(driver, lambda d: d.find_elements("css selector", tid("dialog-row")), "dialogs")
    wait_for(driver, lambda d: d.find_elements("css selector", tid("chart-point")), "chart points")
    driver.save_screenshot(str(DOCS / "console-reports.png"))


def main() -> int:
    only = sys.argv[2] if sys.argv[1:2] == ["--only"] and len(sys.argv) > 2 else None
    only_reviews = only == "reviews"
    demo = setup(0, 0, 0, schedule_seconds=3600)
    try:
        with tempfile.TemporaryDirectory() as profile:
            driver = chromium(Path(profile), width=1280, height=720)
            try:
                base = f"{demo.stack.api_url}/console/"
                DOCS.mkdir(exist_ok=True)
                if only in ("reviews", "reports"):
                    driver.get(f"{base}#token={demo.token}")
                    wait_for(driver, lambda d: d.execute_script("return document.documentElement.lang") == "ru", "ru")
                    if only_reviews:
                        reviews(driver, base, demo.account["id"])
                    else:
                        reports(driver, base)
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
                reports(driver, base)
            finally:
                driver.quit()
    finally:
        demo.stop()
    views = ("sign-in", "inbox", "chat", "accounts", "reviews", "reports")
    print(f"wrote {', '.join(str(DOCS / f'console-{view}.png') for view in views)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
