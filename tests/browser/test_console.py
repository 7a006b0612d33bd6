"""The operator console in a real browser (Chromium), against the local runtime and the Avito simulator."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver

from avito_sim import AvitoSimulator
from local_runtime import LocalStack
from tests.browser.conftest import FURNITURE_USER, TECH_USER, XSS_NAME, Seeded, api, bearer, sign_in
from tests.support.browser import all_of, click, tid, visible, wait_for

pytestmark = pytest.mark.browser


# The lists are re-rendered as updates arrive, so they are read in one script run (no stale elements).
_CHATS_JS = """return [...document.querySelectorAll('[data-testid="chat-item"]')].map((el) => ({
  id: el.dataset.chatId, account: el.dataset.accountId,
  badge: el.querySelector('[data-testid="unread-badge"]')?.textContent ?? null,
  preview: el.querySelector('[data-testid="chat-preview"]').textContent,
  tag: el.querySelector('[data-testid="chat-account"]').textContent,
  client: el.querySelector('[data-testid="chat-client"]').textContent}))"""
_MESSAGES_JS = """return [...document.querySelectorAll('[data-testid="message"]')].map((el) =>
  [el.dataset.messageId, el.dataset.direction, el.innerText])"""


def chats(driver: WebDriver) -> list[dict[str, str | None]]:
    return driver.execute_script(_CHATS_JS)


def chat_ids(driver: WebDriver) -> list[str]:
    return [chat["id"] or "" for chat in chats(driver)]


def badges(driver: WebDriver) -> dict[str, str]:
    """chat id -> the text of its unread badge, for the chats that show one."""
    return {chat["id"] or "": chat["badge"] or "" for chat in chats(driver) if chat["badge"] is not None}


def wait_for_chats(driver: WebDriver, expected: set[str]) -> list[str]:
    def listed(d: WebDriver) -> list[str] | None:
        ids = chat_ids(d)
        return ids if expected <= set(ids) else None

    return wait_for(driver, listed, f"chats {expected}")


def open_chat(driver: WebDriver, seeded: Seeded, chat_id: str) -> None:
    user, _ = seeded.chats[chat_id]
    click(driver, tid("chat-item", chatId=chat_id) + " a")
    wait_for(driver, lambda d: seeded.account_id(user) in d.current_url and chat_id in d.current_url, "chat route")


def open_chat_as_operator(driver: WebDriver, stack: LocalStack, seeded: Seeded, chat_id: str) -> None:
    """Sign in as an operator, wait for the chat in the inbox and open it."""
    sign_in(driver, stack, "operator")
    wait_for_chats(driver, {chat_id})
    open_chat(driver, seeded, chat_id)


def messages(driver: WebDriver) -> list[tuple[str, str, str]]:
    """(message id, direction, text) of the open chat's messages, top to bottom."""
    return [tuple(row) for row in driver.execute_script(_MESSAGES_JS)]


# --- the page itself ---------------------------------------------------------------------------------------


def test_sign_in_from_the_address_removes_the_token(page: WebDriver, stack: LocalStack) -> None:
    token = bearer(stack, "operator")["Authorization"].removeprefix("Bearer ")
    page.get(f"{stack.api_url}/console/#token={token}")
    who = visible(page, tid("who"))
    assert who.get_attribute("data-role") == "operator" and "operator@example.com" in who.text
    assert token not in page.current_url and "token=" not in page.current_url
    assert page.current_url.endswith("/console/#/inbox")
    assert page.execute_script("return location.hash") == "#/inbox"


def test_make_run_prints_a_link_that_signs_in_an_admin(
    page: WebDriver, stack: LocalStack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from local_runtime.cli import _print_summary

    _print_summary(stack, str(tmp_path / "template.yaml"))  # the generated key goes to tmp_path/.local
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("Operator console")]
    [link] = [line.split(": ", 1)[1] for line in lines]
    assert link.startswith(f"{stack.api_url}/console/#token=")
    page.get(link)
    assert visible(page, tid("who")).get_attribute("data-role") == "admin"
    assert "token=" not in page.current_url


def test_sign_in_by_pasting_a_token_and_a_bad_one_is_refused(page: WebDriver, stack: LocalStack) -> None:
    page.get(f"{stack.api_url}/console/")
    click(page, tid("token-toggle"))  # the token form is folded under the e-mail and password form
    visible(page, tid("token-input")).send_keys("not-a-jwt")
    click(page, tid("sign-in-submit"))
    assert "Это не JWT" in visible(page, tid("sign-in-error")).text
    field = visible(page, tid("token-input"))
    field.clear()
    field.send_keys(bearer(stack, "admin")["Authorization"].removeprefix("Bearer "))
    click(page, tid("sign-in-submit"))
    assert visible(page, tid("who")).get_attribute("data-role") == "admin"
    page.refresh()  # the session survives a reload
    assert visible(page, tid("who")).get_attribute("data-role") == "admin"
    click(page, tid("sign-out"))
    visible(page, tid("login-form"))


def test_a_token_the_service_refuses_signs_out_with_a_message(page: WebDriver, stack: LocalStack) -> None:
    from avito_service.auth import mint

    forged = mint("not-the-service-key-0123456789abcdef0123456789", sub="mallory@example.com", role="admin")
    page.get(f"{stack.api_url}/console/#token={forged}")
    assert visible(page, tid("sign-in-error")).text == "Сеанс завершён, войдите снова."
    assert page.execute_script("return localStorage.length") == 0


# --- inbox -------------------------------------------------------------------------------------------------


def test_inbox_shows_every_accounts_chats_newest_first_with_unread_badges(
    page: WebDriver, stack: LocalStack, seeded: Seeded
) -> None:
    sign_in(page, stack, "operator")
    expected = sorted(seeded.chats, key=lambda chat_id: -seeded.chats[chat_id][1])
    assert wait_for_chats(page, set(expected)) == expected
    assert badges(page) == {chat_id: str(n) for chat_id, n in seeded.unread.items() if n}

    # the rows come with the chats; each account's name fills in once the account list has loaded too
    def named(d: WebDriver) -> dict[str, dict[str, str | None]] | None:
        rows = {chat["id"]: chat for chat in chats(d)}
        return rows if all(chat["tag"] for chat in rows.values()) else None

    listed = wait_for(page, named, "account names on every chat")
    assert listed["u2i-b-anna"]["tag"] == "Мебель для дома" and listed["u2i-b-igor"]["tag"] == "Техника"
    assert listed["u2i-b-anna"]["account"] == seeded.account_id(FURNITURE_USER)
    assert listed["u2i-b-anna"]["preview"] == "Можно сегодня?"


def test_inbox_filters_by_account_and_unread(page: WebDriver, stack: LocalStack, seeded: Seeded) -> None:
    sign_in(page, stack, "operator")
    wait_for_chats(page, set(seeded.chats))
    tech = seeded.account_id(TECH_USER)
    select = visible(page, tid("filter-account"))
    wait_for(page, lambda d: len(select.find_elements(By.CSS_SELECTOR, "option")) == 3, "account options")
    select.find_element(By.CSS_SELECTOR, f'option[value="{tech}"]').click()
    tech_chats = {c for c, (user, _) in seeded.chats.items() if user == TECH_USER}
    wait_for(page, lambda d: set(chat_ids(d)) == tech_chats, "only the Техника chats")
    click(page, tid("filter-unread"))
    wait_for(page, lambda d: chat_ids(d) == ["u2i-b-igor"], "only the unread Техника chat")
    select.find_element(By.CSS_SELECTOR, 'option[value=""]').click()
    unread = {c for c, n in seeded.unread.items() if n}
    wait_for(page, lambda d: set(chat_ids(d)) == unread, "every unread chat")


def test_server_strings_are_shown_as_text_never_run(page: WebDriver, stack: LocalStack, seeded: Seeded) -> None:
    sign_in(page, stack, "operator")
    wait_for_chats(page, {"u2i-b-xss"})
    assert {chat["id"]: chat["client"] for chat in chats(page)}["u2i-b-xss"] == XSS_NAME
    assert all_of(page, tid("chat-item") + " img") == []
    open_chat(page, seeded, "u2i-b-xss")
    wait_for(page, lambda d: any("<b>не жирный</b>" in text for _, _, text in messages(d)), "the message as text")
    assert visible(page, tid("chat-client-name")).text == XSS_NAME
    assert page.find_elements(By.CSS_SELECTOR, "[data-testid=messages] b") == []
    assert page.execute_script("return window.__pwned") is None


# --- chat --------------------------------------------------------------------------------------------------


def test_opening_a_chat_shows_messages_oldest_first_and_marks_it_read(
    page: WebDriver, stack: LocalStack, sim: AvitoSimulator, seeded: Seeded
) -> None:
    sign_in(page, stack, "operator")
    wait_for_chats(page, {"u2i-b-anna"})
    assert badges(page)["u2i-b-anna"] == "2"
    open_chat(page, seeded, "u2i-b-anna")
    expected = [(f"u2i-b-anna-m{n}", d) for n, d in enumerate(["in", "out", "in", "in"])]
    wait_for(page, lambda d: [(m, direction) for m, direction, _ in messages(d)] == expected, "4 messages in order")
    assert messages(page)[0][2].startswith("Здравствуйте!")
    wait_for(page, lambda d: "u2i-b-anna" not in badges(d), "the badge goes when the chat is read")
    wait_for(page, lambda d: any(c["chat_id"] == "u2i-b-anna" for c in sim.chat_read_calls), "read at Avito")
    stored = api(
        stack, "GET", "/chats/u2i-b-anna", role="operator", params={"accountId": seeded.account_id(FURNITURE_USER)}
    )
    assert stored["unreadCount"] == 0


def test_rich_messages_are_rendered_safely(page: WebDriver, stack: LocalStack, seeded: Seeded) -> None:
    open_chat_as_operator(page, stack, seeded, "u2i-b-rich")
    image = visible(page, tid("message-image"))
    assert image.get_attribute("src").endswith("/img/640.jpg")  # the smallest size at least 320 wide
    links = [a.get_attribute("href") for a in all_of(page, tid("link"))]
    assert links == ["https://habr.com/ru/"]  # the javascript: link is shown as text, not as a link
    assert any("bad link" in text for _, _, text in messages(page))
    item = visible(page, tid("item-link"))
    assert item.text == "Кресло" and item.get_attribute("href") == "https://www.avito.ru/item/1"
    assert "5 000 ₽" in visible(page, tid("message-item")).text
    place = visible(page, tid("location-link"))
    assert place.text == "Варшавское шоссе" and "mlat=55.6" in place.get_attribute("href")
    assert any(text.startswith("Пропущенный звонок") for _, _, text in messages(page))


def test_send_a_text_with_enter_reaches_avito(
    page: WebDriver, stack: LocalStack, sim: AvitoSimulator, seeded: Seeded
) -> None:
    open_chat_as_operator(page, stack, seeded, "u2i-b-oleg")
    wait_for(page, messages, "the chat's messages")
    text = f"Здравствуйте, Олег! {datetime.now(UTC):%H%M%S%f}"
    box = visible(page, tid("composer-input"))
    box.send_keys(text)
    box.send_keys(Keys.ENTER)
    wait_for(
        page, lambda d: any(direction == "out" and text in t for _, direction, t in messages(d)), "sent message shown"
    )
    assert box.get_attribute("value") == ""
    sent = [m for m in sim.sent_messages(TECH_USER) if m["chat_id"] == "u2i-b-oleg"]
    assert [m["text"] for m in sent] == [text]
    # the inbox shows it as the chat's last message, and the chat moved to the top
    wait_for(page, lambda d: chat_ids(d)[0] == "u2i-b-oleg", "the chat moves to the top")
    assert chats(page)[0]["preview"] == f"Вы: {text}"


def test_an_empty_message_is_not_sent(page: WebDriver, stack: LocalStack, sim: AvitoSimulator, seeded: Seeded) -> None:
    open_chat_as_operator(page, stack, seeded, "u2i-b-igor")
    before = len(sim.sent_messages())
    visible(page, tid("composer-input")).send_keys("   ")
    click(page, tid("send"))
    wait_for(page, messages, "the chat's messages")
    assert len(sim.sent_messages()) == before


# --- accounts and statistics -------------------------------------------------------------------------------

ADMIN_ONLY = ("eternal-online-toggle", "online-interval", "webhook-subscribe", "check-all", "sync-all")


def account_row(driver: WebDriver, account_id: str) -> str:
    return f'[data-testid="account-row"][data-account-id="{account_id}"]'


def test_an_operator_sees_the_accounts_but_no_admin_actions(page: WebDriver, stack: LocalStack, seeded: Seeded) -> None:
    sign_in(page, stack, "operator", "#/accounts")
    visible(page, tid("accounts-table"))
    wait_for(page, lambda d: len(all_of(d, tid("account-row"))) == 2, "two account rows")
    for name in ADMIN_ONLY:
        assert all_of(page, tid(name)) == [], name
    assert len(all_of(page, tid("check-connection"))) == 2 and len(all_of(page, tid("sync-stats"))) == 2
    status = page.find_element(
        By.CSS_SELECTOR, account_row(page, seeded.account_id(TECH_USER)) + " " + tid("connection-status")
    )
    assert status.get_attribute("data-value") == "connected"


def test_an_admin_checks_syncs_and_switches_eternal_online_and_the_webhook(
    page: WebDriver, stack: LocalStack, sim: AvitoSimulator, seeded: Seeded
) -> None:
    sign_in(page, stack, "admin", "#/accounts")
    account_id = seeded.account_id(FURNITURE_USER)
    row = account_row(page, account_id)
    visible(page, row)
    for name in ADMIN_ONLY:
        assert all_of(page, tid(name)), name

    click(page, f"{row} {tid('check-connection')}")
    wait_for(page, lambda d: "подключён" in visible(d, tid("accounts-notice")).text, "check result")

    click(page, f"{row} {tid('sync-stats')}")
    wait_for(page, lambda d: "статистика обновлена" in visible(d, tid("accounts-notice")).text, "sync result")
    assert api(stack, "GET", f"/accounts/{account_id}")["lastSyncAt"]

    interval = visible(page, f"{row} {tid('online-interval')}")
    interval.clear()
    interval.send_keys("120")
    click(page, f"{row} {tid('eternal-online-toggle')}")
    wait_for(page, lambda d: "каждые 120 с" in visible(d, tid("accounts-notice")).text, "online on")  # noqa: RUF001
    account = api(stack, "GET", f"/accounts/{account_id}")
    assert account["eternalOnlineEnabled"] is True and account["onlineKeepAliveInterval"] == 120
    click(page, f"{row} {tid('eternal-online-toggle')}")
    wait_for(page, lambda d: "вечный онлайн выключен" in visible(d, tid("accounts-notice")).text, "eternal online off")
    assert api(stack, "GET", f"/accounts/{account_id}")["eternalOnlineEnabled"] is False

    click(page, f"{row} {tid('webhook-subscribe')}")
    wait_for(page, lambda d: "вебхук подключён" in visible(d, tid("accounts-notice")).text, "subscribed")
    assert [url.startswith(stack.webhook_url) for url in sim.subscriptions(FURNITURE_USER)] == [True]
    wait_for(page, lambda d: visible(d, f"{row} {tid('webhook-status')}").text == "Подписан", "status badge")


def test_the_statistics_chart_plots_views_and_contacts_per_day(
    page: WebDriver, stack: LocalStack, sim: AvitoSimulator, seeded: Seeded
) -> None:
    account_id = seeded.account_id(TECH_USER)
    today = datetime.now(UTC).date().isoformat()
    sim.account(TECH_USER).items[5200000001].stats[today] = (42, 7, 1)
    api(stack, "POST", f"/accounts/{account_id}/sync-stats", json={"days": 7})
    [snapshot] = api(stack, "GET", f"/accounts/{account_id}/stats/history")
    sign_in(page, stack, "operator", f"#/stats/{account_id}")
    chart = visible(page, tid("stats-chart"))
    points = wait_for(page, lambda d: all_of(d, tid("chart-point")), "chart points")
    values = {
        p.get_attribute("data-series"): (p.get_attribute("data-day"), p.get_attribute("data-value")) for p in points
    }
    assert values == {
        "views": (snapshot["date"], str(snapshot["viewsToday"])),
        "contacts": (snapshot["date"], str(snapshot["contactsToday"])),
    }
    assert chart.tag_name == "svg" and chart.get_attribute("data-days") == "1"
    rows = visible(page, tid("stats-table")).find_elements(By.CSS_SELECTOR, "tbody tr")
    cells = [
        [r.get_attribute("data-day")] + [td.text for td in r.find_elements(By.CSS_SELECTOR, "td")[1:3]] for r in rows
    ]
    assert cells == [[snapshot["date"], str(snapshot["viewsToday"]), str(snapshot["contactsToday"])]]
    day = rows[0].find_element(By.CSS_SELECTOR, "time")
    assert day.get_attribute("datetime") == snapshot["date"] and day.text.endswith(" г.")  # noqa: RUF001


def test_an_admin_checks_every_account_as_a_background_job(page: WebDriver, stack: LocalStack, seeded: Seeded) -> None:
    sign_in(page, stack, "admin", "#/accounts")
    click(page, tid("check-all"))
    notice = wait_for(
        page, lambda d: (n := visible(d, tid("accounts-notice")).text) and "успешно" in n and n, "the job's outcome"
    )
    assert notice == "Проверка всех аккаунтов: успешно 2, с ошибкой 0."  # noqa: RUF001


def test_an_admin_loads_history_and_replaces_a_foreign_webhook(
    page: WebDriver, stack: LocalStack, sim: AvitoSimulator, seeded: Seeded
) -> None:
    """Issue 28: **Загрузить историю** runs the backfill job and shows its chats; the webhook guard's warning is
    shown on the row and **Заменить чужие подписки** removes the other integration's URL."""
    account_id = seeded.account_id(TECH_USER)
    sign_in(page, stack, "admin", "#/accounts")
    row = account_row(page, account_id)
    click(page, f"{row} {tid('backfill')}")
    wait_for(page, lambda d: "история загружена" in visible(d, tid("accounts-notice")).text, "backfill done")
    assert not all_of(page, tid("webhook-warning"))

    foreign = "https://crm.other.example/hook/SECRET"
    sim.account(TECH_USER).subscriptions.append(foreign)
    answer = api(stack, "GET", f"/accounts/{account_id}/webhook")  # what the daily check also records
    assert answer["foreign"] == ["https://crm.other.example…"]
    page.refresh()
    warning = visible(page, f"{row} {tid('webhook-warning')}")
    assert "другая интеграция" in warning.text and "SECRET" not in page.page_source
    click(page, f"{row} {tid('webhook-replace-foreign')}")
    wait_for(page, lambda d: "чужие подписки сняты" in visible(d, tid("accounts-notice")).text, "replaced")
    assert foreign not in sim.subscriptions(TECH_USER)
    assert api(stack, "GET", f"/accounts/{account_id}").get("webhookWarning") is None
