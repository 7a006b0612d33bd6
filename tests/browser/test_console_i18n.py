"""The console's languages in Chromium: Russian by default, English by a switch remembered in the browser, Russian
plural forms, and times in the user's time zone (Europe/Moscow) on a 24-hour clock.

Chromium runs with ``--lang=en-US`` in the machine's time zone (UTC here), so a Russian page and Moscow times
come from the console itself, not from the browser's defaults."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from avito_sim import AvitoSimulator
from local_runtime import LocalStack
from tests.browser.conftest import FURNITURE_USER, TECH_USER, XSS_NAME, Seeded, api, bearer, sign_in
from tests.browser.test_console import badges, open_chat, wait_for_chats
from tests.support.browser import click, tid, visible, wait_for

pytestmark = pytest.mark.browser

MOSCOW = ZoneInfo("Europe/Moscow")
YEAR = datetime.now(MOSCOW).year
OLD_MESSAGE = datetime(YEAR, 1, 2, 13, 5, tzinfo=UTC)  # 16:05 in Moscow, "4:05 PM" on a 12-hour clock
# chat id -> unread messages, added to the seeded 2 (Анна) and 1 (Игорь)
PLURAL_CHATS = {"u2i-b-five": (TECH_USER, 5), "u2i-b-twentyone": (FURNITURE_USER, 21)}
TIME_CHAT = "u2i-b-time"


@pytest.fixture(scope="module")
def more(sim: AvitoSimulator, stack: LocalStack, seeded: Seeded) -> Seeded:
    """Chats with 5 and 21 unread messages, and one with a message at a known time, stored like the others."""
    now = int(time.time())
    for number, (chat_id, (user, unread)) in enumerate(PLURAL_CHATS.items()):
        item = 5100000001 if user == FURNITURE_USER else 5200000001
        started = now - 3 * 3600 - unread * 60
        sim.add_chat(user, chat_id, item_id=item, client_name=f"Покупатель {number}", created=started)
        for n in range(unread):
            sim.add_message(user, chat_id, f"{chat_id}-m{n}", f"Вопрос {n + 1}", created=started + (n + 1) * 60)
        seeded.chats[chat_id] = (user, started + unread * 60)
        seeded.unread[chat_id] = unread
    old = int(OLD_MESSAGE.timestamp())
    sim.add_chat(FURNITURE_USER, TIME_CHAT, item_id=5100000001, client_name="Зинаида", created=old - 60)
    sim.add_message(FURNITURE_USER, TIME_CHAT, f"{TIME_CHAT}-old", "Январское", created=old, is_read=True)
    sim.add_message(FURNITURE_USER, TIME_CHAT, f"{TIME_CHAT}-new", "Сегодняшнее", created=now - 60, is_read=True)
    seeded.chats[TIME_CHAT] = (FURNITURE_USER, now - 60)
    seeded.unread[TIME_CHAT] = 0
    for user in (FURNITURE_USER, TECH_USER):
        account = seeded.account_id(user)
        listed = api(stack, "GET", f"/messenger/accounts/{account}/chats", params={"limit": 100})
        for chat in listed:
            if chat["id"] in (*PLURAL_CHATS, TIME_CHAT):
                path = f"/messenger/accounts/{account}/chats/{chat['id']}/messages"
                api(stack, "GET", path, params={"limit": 100})
    return seeded


def html_lang(driver: WebDriver) -> str:
    return driver.execute_script("return document.documentElement.lang")


def nav_texts(driver: WebDriver) -> list[str]:
    visible(driver, tid("nav-inbox"))
    return [visible(driver, tid(name)).text for name in ("nav-inbox", "nav-accounts", "nav-stats")]


def switch_to(driver: WebDriver, language: str) -> None:
    click(driver, tid(f"language-{language}"))
    wait_for(driver, lambda d: html_lang(d) == language, f"the page in {language}")


# --- the language ----------------------------------------------------------------------------------------------


def test_the_console_opens_in_russian(page: WebDriver, stack: LocalStack, more: Seeded) -> None:
    page.get(f"{stack.api_url}/console/")
    assert visible(page, tid("login-submit")).text == "Войти"
    assert html_lang(page) == "ru" and page.title == "Консоль Авито"
    assert visible(page, tid("language-ru")).get_attribute("aria-pressed") == "true"

    page.get("about:blank")  # sign_in's #token= address then loads the page afresh
    sign_in(page, stack, "operator")
    assert nav_texts(page) == ["Входящие", "Аккаунты", "Статистика"]
    assert visible(page, tid("sign-out")).text == "Выйти"
    assert visible(page, tid("mute")).text == "Звук вкл."
    assert visible(page, tid("who")).text == "operator@example.com · оператор"
    visible(page, tid("filter-account") + " option")
    all_accounts = page.find_element(By.CSS_SELECTOR, tid("filter-account") + ' option[value=""]')
    assert all_accounts.text == "Все аккаунты"  # noqa: RUF001
    wait_for(page, lambda d: d.title.endswith("Входящие · Консоль Авито"), "the title in Russian")
    assert html_lang(page) == "ru"


def test_the_switch_turns_it_english_and_is_remembered(page: WebDriver, stack: LocalStack, more: Seeded) -> None:
    sign_in(page, stack, "operator")
    wait_for_chats(page, {"u2i-b-anna"})
    switch_to(page, "en")
    assert nav_texts(page) == ["Inbox", "Accounts", "Statistics"]
    assert visible(page, tid("sign-out")).text == "Sign out"
    assert visible(page, tid("who")).text == "operator@example.com · operator"
    wait_for_chats(page, {"u2i-b-anna"})  # the views were drawn again and reloaded their data
    assert page.execute_script("return localStorage.getItem('avito-console.language')") == "en"

    page.refresh()
    assert nav_texts(page) == ["Inbox", "Accounts", "Statistics"] and html_lang(page) == "en"
    click(page, tid("sign-out"))  # the sign-in page keeps the language too
    assert visible(page, tid("login-submit")).text == "Sign in"

    switch_to(page, "ru")
    assert visible(page, tid("login-submit")).text == "Войти"
    page.refresh()
    assert visible(page, tid("login-submit")).text == "Войти" and html_lang(page) == "ru"


# --- plural forms ------------------------------------------------------------------------------------------------

RUSSIAN_UNREAD = {
    1: "1 непрочитанное сообщение",
    2: "2 непрочитанных сообщения",
    5: "5 непрочитанных сообщений",
    21: "21 непрочитанное сообщение",
}
ENGLISH_UNREAD = {1: "1 unread message", 2: "2 unread messages", 5: "5 unread messages", 21: "21 unread messages"}
_BADGES_JS = """return Object.fromEntries([...document.querySelectorAll('[data-testid="chat-item"]')]
  .map((el) => [el.dataset.chatId, el.querySelector('[data-testid="unread-badge"]')?.title ?? null]))"""


def badge_titles(driver: WebDriver) -> dict[str, str | None]:
    return driver.execute_script(_BADGES_JS)


def summary(driver: WebDriver) -> str:
    return visible(driver, tid("inbox-summary")).text


def test_plural_forms_of_1_2_5_21_unread(page: WebDriver, stack: LocalStack, more: Seeded) -> None:
    sign_in(page, stack, "operator")
    wait_for_chats(page, set(more.chats))
    by_count = {"u2i-b-igor": 1, "u2i-b-anna": 2, "u2i-b-five": 5, "u2i-b-twentyone": 21}
    assert {chat: badges(page)[chat] for chat in by_count} == {chat: str(n) for chat, n in by_count.items()}
    titles = badge_titles(page)
    assert {chat: titles[chat] for chat in by_count} == {chat: RUSSIAN_UNREAD[n] for chat, n in by_count.items()}
    # the list's counts: every chat, then the unread ones of one account
    assert summary(page) == f"{len(more.chats)} чатов · 29 непрочитанных сообщений"
    click(page, tid("filter-unread"))
    wait_for(page, lambda d: summary(d) == "4 чата · 29 непрочитанных сообщений", "4 unread chats")
    select = visible(page, tid("filter-account"))
    wait_for(page, lambda d: len(select.find_elements(By.CSS_SELECTOR, "option")) == 3, "account options")
    select.find_element(By.CSS_SELECTOR, f'option[value="{more.account_id(FURNITURE_USER)}"]').click()
    wait_for(page, lambda d: summary(d) == "2 чата · 23 непрочитанных сообщения", "Мебель's unread chats")
    select.find_element(By.CSS_SELECTOR, f'option[value="{more.account_id(TECH_USER)}"]').click()
    wait_for(page, lambda d: summary(d) == "2 чата · 6 непрочитанных сообщений", "Техника's unread chats")

    switch_to(page, "en")
    wait_for(page, lambda d: summary(d) == "2 chats · 6 unread messages", "the counts in English")
    wait_for_chats(page, {"u2i-b-igor", "u2i-b-five"})
    titles = badge_titles(page)
    assert (titles["u2i-b-igor"], titles["u2i-b-five"]) == (ENGLISH_UNREAD[1], ENGLISH_UNREAD[5])


# --- times ---------------------------------------------------------------------------------------------------------

_TIMES_JS = """return Object.fromEntries([...document.querySelectorAll('[data-testid="message"]')].map((el) => {
  const time = el.querySelector('time'); return [el.dataset.messageId, [time.textContent, time.title]]; }))"""


def message_times(driver: WebDriver) -> dict[str, list[str]]:
    return driver.execute_script(_TIMES_JS)


def test_times_are_moscow_times_on_a_24_hour_clock(page: WebDriver, stack: LocalStack, more: Seeded) -> None:
    assert page.execute_script("return Intl.DateTimeFormat().resolvedOptions().timeZone") != "Europe/Moscow"
    sign_in(page, stack, "operator")
    wait_for_chats(page, {TIME_CHAT})
    open_chat(page, more, TIME_CHAT)
    ids = {f"{TIME_CHAT}-old", f"{TIME_CHAT}-new"}
    times = wait_for(page, lambda d: (found := message_times(d)) and ids <= set(found) and found, "two messages")

    today_in_moscow = datetime.now(MOSCOW).date()
    old_text, old_title = times[f"{TIME_CHAT}-old"]
    assert old_title == f"2 янв. {YEAR} г., 16:05"  # noqa: RUF001 (13:05 UTC is 16:05 in Moscow)
    assert old_text == ("16:05" if today_in_moscow == OLD_MESSAGE.astimezone(MOSCOW).date() else "2 янв.")
    [sent] = [m for m in api(stack, "GET", f"/chats/{TIME_CHAT}/messages") if m["id"] == f"{TIME_CHAT}-new"]
    sent_at = datetime.fromisoformat(sent["createdAt"]).astimezone(MOSCOW)
    new_text, new_title = times[f"{TIME_CHAT}-new"]
    assert new_text == sent_at.strftime("%H:%M")  # today: the time alone, in Moscow
    assert new_title.endswith(sent_at.strftime(", %H:%M"))
    assert not re.search(r"AM|PM", old_title + new_title)

    switch_to(page, "en")
    old_title = wait_for(page, lambda d: message_times(d).get(f"{TIME_CHAT}-old", [None, None])[1], "English times")
    assert old_title == f"2 Jan {YEAR}, 16:05"


# --- nothing left in English -------------------------------------------------------------------------------------

# Latin words the Russian page may show: names and codes that are the same in every language.
LATIN_ALLOWED = {"JWT", "CPA", "ID", "RU", "EN", "English", "Enter", "Shift", "Avito", "Service", "Lenovo"}
_TEXTS_JS = """const texts = [document.title];
const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
for (let node = walker.nextNode(); node; node = walker.nextNode()) {
  if (!node.parentElement.closest('noscript')) texts.push(node.textContent);
}
for (const el of document.querySelectorAll('[title], [placeholder], [aria-label], [alt]')) {
  for (const name of ['title', 'placeholder', 'aria-label', 'alt']) {
    if (el.hasAttribute(name)) texts.push(el.getAttribute(name));
  }
}
for (const el of document.querySelectorAll('svg title')) texts.push(el.textContent);
return texts;"""


def english_words(driver: WebDriver) -> set[str]:
    """Latin words in the page's text and its titles, placeholders and labels; data (names, e-mails) and the token
    field's placeholder (the start of a JWT) left out."""
    text = " ".join(driver.execute_script(_TEXTS_JS)).replace(XSS_NAME, " ").replace("eyJhbGciOiJIUzI1NiIs…", " ")
    text = re.sub(r"\S+@\S+", " ", text)
    return set(re.findall(r"[A-Za-z]{2,}", text)) - LATIN_ALLOWED


def test_the_russian_console_shows_no_english(page: WebDriver, stack: LocalStack, more: Seeded) -> None:
    """Every view (and the block dialog) in Russian: no English word anywhere in the page's text or labels."""
    page.get(f"{stack.api_url}/console/")
    click(page, tid("token-toggle"))
    visible(page, tid("token-input"))
    assert english_words(page) == set()

    page.get("about:blank")
    sign_in(page, stack, "admin")
    wait_for_chats(page, set(more.chats))
    open_chat(page, more, "u2i-b-oleg")
    wait_for(page, lambda d: d.find_elements(By.CSS_SELECTOR, tid("message")), "the chat's messages")
    visible(page, tid("composer-input"))
    assert english_words(page) == set()
    click(page, tid("blacklist"))
    visible(page, tid("blacklist-dialog"))
    assert english_words(page) == set()
    page.find_element(By.CSS_SELECTOR, tid("blacklist-dialog") + " button.ghost").click()

    page.get(f"{stack.api_url}/console/#/accounts")
    wait_for(page, lambda d: len(d.find_elements(By.CSS_SELECTOR, tid("account-row"))) == 2, "two account rows")
    visible(page, tid("eternal-online-toggle"))
    assert english_words(page) == set()

    account_id = more.account_id(TECH_USER)
    api(stack, "POST", f"/accounts/{account_id}/sync-stats", json={"days": 2})
    page.get(f"{stack.api_url}/console/#/stats/{account_id}")
    wait_for(page, lambda d: d.find_elements(By.CSS_SELECTOR, tid("chart-point")), "chart points")
    assert english_words(page) == set()


def test_the_token_link_still_signs_in_and_the_page_says_it_in_russian(page: WebDriver, stack: LocalStack) -> None:
    token = bearer(stack, "operator")["Authorization"].removeprefix("Bearer ")
    page.get(f"{stack.api_url}/console/#token={token}")
    assert visible(page, tid("who")).get_attribute("data-role") == "operator"
    page.get("about:blank")
    page.get(f"{stack.api_url}/console/#token=not-a-jwt")
    assert visible(page, tid("sign-in-error")).text == "Это не JWT: в нём должно быть три части, разделённые точками."
    visible(page, tid("token-input"))  # the token form opens for a bad link
