"""``python -m scripts.console_screenshots`` (``make screenshots``): docs/console-<view>.png for the sign-in page,
the inbox, a chat, the accounts, the reviews, the users, the reports and the answering views (quick replies
and the client card in a chat, the search, the templates, the automatic replies), the chat workflow (timers, actions,
tags and notes; routing); ``--only reviews`` / ``reports`` / ``answering`` / ``workflow`` / ``people`` (the sign-in
page, the users page and who sent each message) / ``connect`` (the health cards, a consent link, a backfill's
progress) redoes those alone.

Starts the demo (simulator + local stack on free ports, see scripts/demo.py), opens the console in headless
Chromium (tests/support/browser.py) and saves the sign-in page with the demo's first admin typed in, then signs in
through that form with the admin's password and saves the inbox, one open chat, the accounts, the reviews and the
users page (a few invited users first), in Russian (the console's default language; the pictures wait for
<html lang="ru">).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests
from selenium.webdriver.remote.webdriver import WebDriver

from avito_sim.demo import DEMO_USER_ID
from scripts.demo import DEMO_CHAT, Demo, setup
from tests.support.browser import all_of, chromium, click, tid, visible, wait_for

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


FIRST_PASSWORD, OLGA_PASSWORD = "Screenshot-First-1", "Screenshot-Olga-1"
# Users the users page shows besides the admin: (e-mail, name, role, on the demo account, enabled).
PEOPLE = (
    ("olga.smirnova@example.com", "Ольга Смирнова", "operator", True, True),
    ("kirill.ivanov@example.com", "Кирилл Иванов", "operator", True, True),
    ("timur.aliev@example.com", "Тимур Алиев", "operator", False, False),
    ("marina.petrova@example.com", "Марина Петрова", "director", False, True),
)


def sign_in_page(driver: WebDriver, base: str, demo: Demo) -> None:
    """The sign-in page with the demo admin's e-mail and password typed in; then signs in through it."""
    driver.get(base)
    wait_for(driver, lambda d: d.execute_script("return document.documentElement.lang") == "ru", "ru")
    visible(driver, tid("email-input")).send_keys(demo.admin["email"])
    visible(driver, tid("password-input")).send_keys(demo.admin["password"])
    driver.save_screenshot(str(DOCS / "console-sign-in.png"))
    click(driver, tid("login-submit"))
    visible(driver, tid("who"))


def users(driver: WebDriver, base: str, demo: Demo) -> None:
    """The users page after the admin invited a few people (one of them disabled)."""
    api = demo.stack.api_url + "/api/v1"
    headers = {"Authorization": f"Bearer {demo.token}"}
    for email, name, role, assigned, enabled in PEOPLE:
        body = {
            "email": email,
            "name": name,
            "role": role,
            "accountIds": [demo.account["id"]] if assigned else [],
            "temporaryPassword": FIRST_PASSWORD,
        }
        created = requests.post(f"{api}/users", json=body, headers=headers, timeout=30)
        created.raise_for_status()
        if not enabled:
            user_id = created.json()["data"]["id"]
            disabled = requests.put(f"{api}/users/{user_id}", json={"enabled": False}, headers=headers, timeout=30)
            disabled.raise_for_status()
    driver.set_window_size(1280, 720)
    driver.get(f"{base}#/users")
    wait_for(driver, lambda d: len(d.find_elements("css selector", tid("user-row"))) == len(PEOPLE) + 1, "users")
    driver.save_screenshot(str(DOCS / "console-users.png"))


def operator_token(api: str, email: str) -> str:
    """The invited operator's access token: the first sign-in and its new-password step, as the console does."""
    challenge = requests.post(f"{api}/auth/login", json={"email": email, "password": FIRST_PASSWORD}, timeout=30)
    challenge.raise_for_status()
    body = {"email": email, "session": challenge.json()["data"]["session"], "newPassword": OLGA_PASSWORD}
    tokens = requests.post(f"{api}/auth/new-password", json=body, timeout=30)
    tokens.raise_for_status()
    return tokens.json()["data"]["accessToken"]


def sent_by(driver: WebDriver, base: str, demo: Demo) -> None:
    """A chat where an operator and the admin answered: each outgoing message with its sender's name under it."""
    api = demo.stack.api_url + "/api/v1"
    send = f"{api}/messenger/accounts/{demo.account['id']}/chats/{DEMO_CHAT}/send"
    olga = {"Authorization": "Bearer " + operator_token(api, PEOPLE[0][0])}
    admin = {"Authorization": f"Bearer {demo.token}"}
    for headers, text in ((olga, "Здравствуйте! Да, диван в наличии."), (admin, "Доставим завтра до 18:00.")):
        requests.post(send, json={"text": text}, headers=headers, timeout=30).raise_for_status()
        time.sleep(1.1)  # Avito's times are whole seconds: one second apart, they show in the order sent
    driver.set_window_size(1280, 720)
    driver.get("about:blank")
    driver.get(f"{base}#/inbox/{demo.account['id']}/{DEMO_CHAT}")
    stored = len(requests.get(f"{api}/chats/{DEMO_CHAT}/messages", headers=admin, timeout=30).json()["data"])
    wait_for(driver, lambda d: len(d.find_elements("css selector", tid("message"))) >= stored, "every message")
    wait_for(driver, lambda d: len(d.find_elements("css selector", tid("message-sender"))) >= 2, "the senders")
    open_item = tid("chat-item", chatId=DEMO_CHAT) + " " + tid("unread-badge")
    wait_for(driver, lambda d: not d.find_elements("css selector", open_item), "the chat marked read")
    driver.save_screenshot(str(DOCS / "console-sent-by.png"))


def reports(driver: WebDriver, base: str) -> None:
    """The "Отчёты" view (issue 27): "now", the demo's figures counted by the stack's stream consumer, the
    threshold line."""
    driver.set_window_size(1280, 1500)
    driver.get(f"{base}#/reports")
    wait_for(driver, lambda d: d.find_elements("css selector", tid("dialog-row")), "dialogs")
    wait_for(driver, lambda d: d.find_elements("css selector", tid("chart-point")), "chart points")
    wait_for(driver, lambda d: d.find_elements("css selector", tid("now-longestWaitSeconds")), "the now panel")
    wait_for(driver, lambda d: d.find_elements("css selector", tid("chart-threshold")), "the threshold line")
    driver.save_screenshot(str(DOCS / "console-reports.png"))


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
    # a number only Avito CPA reports (phonesInfoFromChats): the card marks it «от Avito»
    demo.sim.incoming_message(DEMO_USER_ID, DEMO_CHAT, "Или на рабочий, он есть в профиле", cpa_phone="89037654321")
    driver.set_window_size(1280, 760)
    # the card asks Avito CPA at most once a minute per account: the chat may have been opened moments ago
    for _ in range(10):
        driver.get(f"{base}#/inbox/{demo.account['id']}/{DEMO_CHAT}")
        wait_for(driver, lambda d: d.find_elements("css selector", tid("card-phone")), "the client card's phones")
        if driver.find_elements("css selector", tid("card-phone-cpa")):
            break
        time.sleep(10)
        driver.get(f"{base}#/templates")
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


# --- issue 28 (connect3): the health cards, a consent link, a backfill in progress --------------------------

CONNECT_PARAMETERS = {  # a partner app, so the console can make consent links (the screenshot needs no consent)
    "AvitoAppClientId": "demo-partner-app",
    "AvitoOAuthUrl": "https://avito.ru/oauth",
    "OAuthRedirectUrl": "https://api.example.com/api/v1/oauth/callback",
}


def connect(driver: WebDriver, base: str, demo: Demo) -> None:
    """docs/console-health.png (an account whose keys Avito refuses, its card saying what to do),
    docs/console-connect-link.png (a consent link made for an owner), docs/console-backfill.png (a backfill's
    progress, the simulator slowed so it is caught half-way)."""
    api = demo.stack.api_url + "/api/v1"
    headers = {"Authorization": f"Bearer {demo.token}"}
    body = {"name": "Магазин у дома", "clientId": "revoked-client-id", "clientSecret": "revoked-secret"}  # noqa: RUF001
    refused = requests.post(f"{api}/accounts", json=body, headers=headers, timeout=30)
    refused.raise_for_status()
    refused_id = refused.json()["data"]["id"]
    requests.post(f"{api}/accounts/{refused_id}/check-connection", headers=headers, timeout=60)
    driver.set_window_size(1280, 1000)
    driver.get("about:blank")
    driver.get(f"{base}#/accounts")
    card = visible(driver, tid("health-card", accountId=refused_id))
    wait_for(driver, lambda d: card.find_elements("css selector", tid("health-problem")), "the card's problem")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", card)
    driver.save_screenshot(str(DOCS / "console-health.png"))

    driver.execute_script("window.scrollTo(0, 0)")
    click(driver, tid("connect-by-link"))
    visible(driver, tid("connect-link-name")).send_keys("Салон «Диваны на Лесной»")
    click(driver, tid("connect-link-create"))
    wait_for(driver, lambda d: visible(d, tid("connect-link-url")).get_attribute("value"), "the link")
    driver.save_screenshot(str(DOCS / "console-connect-link.png"))

    demo.sim.latency = 1.5  # Avito answering slowly: the backfill's progress stays on screen
    try:
        driver.get("about:blank")
        driver.get(f"{base}#/accounts")
        click(driver, tid("account-row", accountId=demo.account["id"]) + " " + tid("backfill"))
        wait_for(driver, lambda d: " из " in visible(d, tid("accounts-notice")).text, "the progress")
        driver.save_screenshot(str(DOCS / "console-backfill.png"))
    finally:
        demo.sim.latency = 0.0


def workflow(driver: WebDriver, base: str, demo: Any) -> None:
    """The chat workflow (issue 25): the list with waiting timers (amber past the account's first threshold, red past
    the second), an open chat taken through its button with tags and an internal note, two chats ticked for bulk
    close; then the account's routing and thresholds as an admin sets them."""
    headers = {"Authorization": f"Bearer {demo.token}"}
    api = f"{demo.stack.api_url}/api/v1"
    account = demo.account["id"]
    # the demo's buyers have waited about 1.5, 3.5, 5.5, ... hours: thresholds that make the first two amber
    routing = {"mode": "least_busy", "maxOpenPerOperator": 8, "waitAlertMinutes": [90, 240]}
    requests.put(f"{api}/accounts/{account}/routing", json=routing, headers=headers, timeout=30).raise_for_status()
    chat = "u2i-demo0001"
    driver.set_window_size(1280, 760)
    driver.get("about:blank")
    driver.get(f"{base}#/inbox/{account}/{chat}")
    click(driver, tid("tab-all"))
    wait_for(driver, lambda d: len(all_of(d, tid("wait-timer") + '[data-level="red"]')) >= 2, "red timers")
    wait_for(driver, lambda d: all_of(d, tid("wait-timer") + '[data-level="amber"]'), "amber timers")
    click(driver, tid("wf-claim"))
    wait_for(driver, lambda d: visible(d, tid("wf-status")).get_attribute("data-status") == "open", "taken")
    for tag in ("доставка", "перезвонить"):
        visible(driver, tid("tag-input")).send_keys(tag + "\n")
        visible(driver, tid("tag", tag=tag))
    visible(driver, tid("note-input")).send_keys("Просит доставку в субботу, подъезд без лифта.")
    click(driver, tid("note-add"))
    visible(driver, tid("note"))
    for ticked in ("u2i-demo0002", "u2i-demo0003"):
        click(driver, f"{tid('chat-item', chatId=ticked)} {tid('select-chat')}")
    visible(driver, tid("bulk-close"))
    click(driver, tid("chat-client-name"))  # the focus leaves the note's field
    driver.save_screenshot(str(DOCS / "console-workflow.png"))
    driver.set_window_size(1280, 900)
    driver.get(f"{base}#/accounts")
    click(driver, f"{tid('account-row', accountId=account)} {tid('routing-open')}")
    wait_for(driver, lambda d: visible(d, tid("routing-threshold-2")).get_attribute("value") == "240", "routing")
    driver.execute_script("document.querySelector('.table-wrap').scrollLeft = 0; window.scrollTo(0, 0)")
    driver.save_screenshot(str(DOCS / "console-routing.png"))


def main() -> int:
    only = sys.argv[2] if sys.argv[1:2] == ["--only"] and len(sys.argv) > 2 else None
    only_reviews = only == "reviews"
    only_people = only == "people"
    demo = setup(0, 0, 0, schedule_seconds=3600, parameters=CONNECT_PARAMETERS)
    try:
        with tempfile.TemporaryDirectory() as profile:
            driver = chromium(Path(profile), width=1280, height=720)
            try:
                base = f"{demo.stack.api_url}/console/"
                DOCS.mkdir(exist_ok=True)
                if only in ("reviews", "reports", "answering", "workflow"):
                    driver.get(f"{base}#token={demo.console_token}")
                    wait_for(driver, lambda d: d.execute_script("return document.documentElement.lang") == "ru", "ru")
                    if only_reviews:
                        reviews(driver, base, demo.account["id"])
                    else:
                        {
                            "reports": lambda: reports(driver, base),
                            "answering": lambda: answering(driver, base, demo),
                            "workflow": lambda: workflow(driver, base, demo),
                        }[only]()
                    return 0
                sign_in_page(driver, base, demo)
                if only == "connect":
                    connect(driver, base, demo)
                    return 0
                if only_people:
                    users(driver, base, demo)
                    sent_by(driver, base, demo)
                    return 0
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
                users(driver, base, demo)
                sent_by(driver, base, demo)
                reports(driver, base)
                answering(driver, base, demo)
                connect(driver, base, demo)
                workflow(driver, base, demo)
            finally:
                driver.quit()
    finally:
        demo.stop()
    views = (
        "sign-in",
        "inbox",
        "chat",
        "accounts",
        "reviews",
        "users",
        "sent-by",
        "reports",
        "answering-chat",
        "search",
        "templates",
        "auto-replies",
        "health",
        "connect-link",
        "backfill",
        "workflow",
        "routing",
    )
    print(f"wrote {', '.join(str(DOCS / f'console-{view}.png') for view in views)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
