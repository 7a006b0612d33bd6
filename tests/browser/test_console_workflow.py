"""The chat workflow in Chromium (issue 25): two operators in two browsers on the queue ("Новые"); one takes a
chat and it leaves the other's queue live, and shows in the taker's "Мои". A waiting chat's timer turns amber and
red at its account's thresholds (the page's clock moved, not waited for) with a chime each; the open chat's buttons
follow the state machine (transfer, release, close, reopen with the service's state checked); two operators taking
at once: one wins, the other is told who; tags and notes after a reload; a colleague's note live in an open chat;
the presence switch; routing for admins only; bulk close for directors."""

# ruff: noqa: RUF001 - the console speaks Russian
from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
import requests
from avito_service.auth import mint
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select, WebDriverWait

from avito_sim import AvitoSimulator
from local_runtime import LocalStack
from tests.browser.conftest import FURNITURE_USER, TECH_USER, Seeded, api, sign_in
from tests.browser.test_console import chat_ids
from tests.support.browser import all_of, chromium, click, click_in_page, page_errors, tid, visible, wait_for

pytestmark = pytest.mark.browser


@pytest.fixture
def second(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    driver = chromium(tmp_path_factory.mktemp("chromium-second"))
    yield driver
    assert page_errors(driver) == []
    driver.quit()


def sign_in_as(driver: WebDriver, stack: LocalStack, sub: str) -> None:
    assert stack.jwt_secret
    token = mint(stack.jwt_secret, sub=sub, role="operator")
    driver.get(f"{stack.api_url}/console/#token={token}")
    visible(driver, tid("who"))
    visible(driver, tid("live-state") + '[data-state="live"]')


def queue(driver: WebDriver) -> list[str]:
    click(driver, tid("tab-new"))
    return wait_for(driver, lambda d: chat_ids(d) or None, "the queue of new chats")


def test_a_chat_one_operator_takes_leaves_the_others_queue_live(
    page: WebDriver, second: WebDriver, stack: LocalStack, seeded: Seeded
) -> None:
    sign_in_as(page, stack, "op-anna")
    sign_in_as(second, stack, "op-boris")
    taken = queue(page)[0]
    assert taken in queue(second)
    click(page, f"{tid('chat-item', chatId=taken)} {tid('take')}")
    wait_for(second, lambda d: taken not in chat_ids(d), "the taken chat leaves the other operator's queue, live")
    wait_for(page, lambda d: taken not in chat_ids(d), "and the taker's queue")
    click(page, tid("tab-mine"))
    wait_for(page, lambda d: chat_ids(d) == [taken], "it is the taker's")
    status = visible(page, f"{tid('chat-item', chatId=taken)} {tid('chat-status')}")
    assert status.get_attribute("data-status") == "open" and status.text == "В работе"


# --- the clock in the page ----------------------------------------------------------------------------------
# Thresholds are whole minutes, so the tests move the page's clock (Date.now) instead of waiting: a script installed
# before the console's own (CDP Page.addScriptToEvaluateOnNewDocument) adds an offset the test sets.
CLOCK = """
(() => {
  const real = Date.now.bind(Date);
  let offset = 0;
  window.__shiftClock = (ms) => { offset += ms; };
  Date.now = () => real() + offset;
})();
"""


def shift_clock(driver: WebDriver, seconds: float) -> None:
    driver.execute_script("window.__shiftClock(arguments[0])", int(seconds * 1000))


def admin_api(stack: LocalStack, method: str, path: str, status: int = 200, **kwargs: Any) -> Any:
    return api(stack, method, path, status=status, **kwargs)


def as_user(stack: LocalStack, sub: str, role: str, method: str, path: str, *, status: int = 200, **kw: Any) -> Any:
    assert stack.jwt_secret
    headers = {"Authorization": "Bearer " + mint(stack.jwt_secret, sub=sub, role=role)}
    response = requests.request(method, f"{stack.api_url}/api/v1{path}", headers=headers, timeout=60, **kw)
    assert response.status_code == status, response.text
    return response.json().get("data")


def stored(stack: LocalStack, account_id: str, chat_id: str) -> dict[str, Any]:
    return admin_api(stack, "GET", f"/chats/{chat_id}", params={"accountId": account_id})


def open_chat(driver: WebDriver, stack: LocalStack, account_id: str, chat_id: str) -> None:
    driver.get(f"{stack.api_url}/console/#/inbox/{account_id}/{chat_id}")
    visible(driver, tid("wf-status"))


def buttons(driver: WebDriver) -> set[str]:
    """The workflow actions the open chat offers now."""
    return {
        (b.get_attribute("data-testid") or "").removeprefix("wf-")
        for b in all_of(driver, f"{tid('workflow')} button")
        if b.is_displayed()
    }


def offers(driver: WebDriver, expected: set[str], why: str) -> None:
    wait_for(driver, lambda d: buttons(d) == expected, f"{why}: {expected}, not {buttons(driver)}")


def test_a_waiting_chats_timer_turns_amber_then_red_at_the_accounts_thresholds_with_a_chime(
    page: WebDriver, stack: LocalStack, seeded: Seeded
) -> None:
    tech = seeded.account_id(TECH_USER)
    # Олег wrote about an hour before the browser fixtures were seeded, which may be many minutes before this test
    # starts on a busy machine: the thresholds are set from how long he has waited now, not from a fixed hour.
    since = stored(stack, tech, "u2i-b-oleg")["awaitingReplySince"]
    waited = time.time() - datetime.fromisoformat(since.replace("Z", "+00:00")).timestamp()
    first = int(waited // 60) + 10
    second = first + 10
    routing = {"mode": "off", "waitAlertMinutes": [second, first]}  # unsorted on purpose: the console sorts them
    admin_api(stack, "PUT", f"/accounts/{tech}/routing", json=routing)
    page.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": CLOCK})
    sign_in_as(page, stack, "op-timer")
    timer = tid("wait-timer", chatId="u2i-b-oleg")
    visible(page, timer)  # nobody answered Олег
    thresholds = f"{first},{second}"
    wait_for(page, lambda d: visible(d, timer).get_attribute("data-thresholds") == thresholds, "the thresholds")
    assert visible(page, timer).get_attribute("data-level") == "none"
    seconds = int(visible(page, timer).get_attribute("data-seconds") or 0)
    assert (first - 11) * 60 < seconds < first * 60
    width = visible(page, timer).size["width"]
    mute = visible(page, tid("mute"))
    chimes = int(mute.get_attribute("data-chimes") or 0)

    shift_clock(page, first * 60 + 2 - seconds)  # 2 s past the first threshold
    wait_for(page, lambda d: visible(d, timer).get_attribute("data-level") == "amber", "amber at the first")
    alert = f"{tech}/u2i-b-oleg#{first}"
    wait_for(page, lambda d: visible(d, tid("mute")).get_attribute("data-last-alert") == alert, "")
    assert int(visible(page, tid("mute")).get_attribute("data-chimes") or 0) > chimes
    assert visible(page, timer).text.startswith(f"{first // 60}:{first % 60:02d}:")
    chimes = int(visible(page, tid("mute")).get_attribute("data-chimes") or 0)

    shift_clock(page, 10 * 60)
    wait_for(page, lambda d: visible(d, timer).get_attribute("data-level") == "red", "red at the second")
    alert = f"{tech}/u2i-b-oleg#{second}"
    wait_for(page, lambda d: visible(d, tid("mute")).get_attribute("data-last-alert") == alert, "")
    # once per threshold: the chime counter also counts other chats' alerts and new messages (a real schedule of
    # another chat may fire meanwhile), so "once" is read from the console's list of the alerts it chimed for
    assert int(visible(page, tid("mute")).get_attribute("data-chimes") or 0) > chimes
    chimed = (visible(page, tid("mute")).get_attribute("data-alerts") or "").split()
    assert [a for a in chimed if a.startswith(f"{tech}/u2i-b-oleg#")] == [
        f"{tech}/u2i-b-oleg#{m}" for m in (first, second)
    ]
    assert abs(visible(page, timer).size["width"] - width) <= 1  # no layout jump as it ticks
    # the open chat shows the same timer; a chat answered last (Анна's furniture chat is answered? no: xss is)
    click(page, f"{tid('chat-item', chatId='u2i-b-oleg')} a")
    wait_for(page, lambda d: visible(d, tid("wf-timer")).get_attribute("data-level") == "red", "red in the open chat")
    assert not [t for t in all_of(page, tid("wait-timer", chatId="u2i-b-xss")) if t.is_displayed()]  # answered


def test_transfer_release_close_and_reopen_through_the_buttons(
    page: WebDriver, stack: LocalStack, seeded: Seeded
) -> None:
    furniture = seeded.account_id(FURNITURE_USER)
    email = f"olga-{uuid.uuid4().hex[:6]}@example.com"
    body = {"email": email, "name": "Ольга Смирнова", "role": "operator", "accountIds": [furniture]}
    olga = admin_api(stack, "POST", "/users", json=body, status=201)
    elsewhere = {"email": f"x-{uuid.uuid4().hex[:6]}@example.com", "name": "Пётр Техников", "role": "operator"}
    admin_api(stack, "POST", "/users", json={**elsewhere, "accountIds": [seeded.account_id(TECH_USER)]}, status=201)
    sign_in(page, stack, "director")
    chat = "u2i-b-rich"
    open_chat(page, stack, furniture, chat)
    assert stored(stack, furniture, chat)["status"] == "new"
    offers(page, {"claim", "transfer", "close", "no-reply-needed"}, "a new chat")

    click(page, tid("wf-claim"))
    wait_for(page, lambda d: stored(stack, furniture, chat)["status"] == "open", "claimed")
    assert stored(stack, furniture, chat)["assignee"]["userId"] == "director@example.com"
    offers(page, {"transfer", "release", "close", "no-reply-needed"}, "the director's open chat")

    click(page, tid("wf-transfer"))
    choice = visible(page, tid("transfer-user"))
    names = [o.text for o in choice.find_elements(By.TAG_NAME, "option")]
    assert any("Ольга Смирнова" in n for n in names) and not any("Пётр" in n for n in names)  # may see the account
    Select(choice).select_by_value(olga["id"])
    click(page, tid("transfer-confirm"))
    wait_for(page, lambda d: (stored(stack, furniture, chat)["assignee"] or {}).get("userId") == olga["id"], "given")
    wait_for(page, lambda d: "Ольга Смирнова" in visible(d, tid("wf-assignee")).text, "shown as Olga's")

    click(page, tid("wf-release"))
    wait_for(page, lambda d: stored(stack, furniture, chat)["status"] == "new", "released")
    assert stored(stack, furniture, chat)["assignee"] is None
    wait_for(page, lambda d: visible(d, tid("wf-status")).get_attribute("data-status") == "new", "shown new")

    click(page, tid("wf-close"))
    wait_for(page, lambda d: stored(stack, furniture, chat)["status"] == "closed", "closed")
    assert stored(stack, furniture, chat)["awaitingReplySince"] is None
    offers(page, {"reopen"}, "a closed chat")
    assert not [t for t in all_of(page, tid("wf-timer")) if t.is_displayed()]

    click(page, tid("wf-reopen"))
    wait_for(page, lambda d: stored(stack, furniture, chat)["status"] == "open", "reopened")
    assert stored(stack, furniture, chat)["assignee"]["userId"] == "director@example.com"
    offers(page, {"transfer", "release", "close"}, "reopened, nothing awaited")


def test_two_operators_take_the_same_chat_one_wins_the_other_is_told_who(
    page: WebDriver, second: WebDriver, stack: LocalStack, seeded: Seeded
) -> None:
    tech = seeded.account_id(TECH_USER)
    chat = "u2i-b-igor"
    assert stored(stack, tech, chat)["status"] == "new"
    sign_in_as(page, stack, "op-vera")
    sign_in_as(second, stack, "op-gleb")
    for driver in (page, second):
        open_chat(driver, stack, tech, chat)
        offers(driver, {"claim", "close", "no-reply-needed"}, "an operator on a new chat")
    # both press "Взять" at once: clicked from inside each page, one after the other, so both requests go out
    click_in_page(page, tid("wf-claim"))
    click_in_page(second, tid("wf-claim"))
    winner = wait_for(page, lambda d: (stored(stack, tech, chat)["assignee"] or {}).get("userId"), "one took it")
    assert winner in {"op-vera", "op-gleb"}
    loser = second if winner == "op-vera" else page
    notice = wait_for(
        loser, lambda d: "уже взял" in visible(d, tid("chat-notice")).text and visible(d, tid("chat-notice")), "told"
    )
    assert winner in notice.text and "error" in (notice.get_attribute("class") or "")
    # the loser's chat is read again: the winner has it, the loser may not take, close or release it
    wait_for(loser, lambda d: visible(d, tid("wf-assignee")).get_attribute("data-user-id") == winner, "refreshed")
    offers(loser, {"no-reply-needed"}, "another operator's open chat")


def test_taking_from_the_queue_at_once_the_loser_is_told_who_and_the_chat_leaves_the_queue(
    page: WebDriver, second: WebDriver, stack: LocalStack, seeded: Seeded
) -> None:
    tech = seeded.account_id(TECH_USER)
    chat = "u2i-b-oleg"
    assert stored(stack, tech, chat)["status"] == "new"
    sign_in_as(page, stack, "op-lena")
    sign_in_as(second, stack, "op-mark")
    take = f"{tid('chat-item', chatId=chat)} {tid('take')}"
    for driver in (page, second):
        click(driver, tid("tab-new"))
        visible(driver, take)
    # the lists re-render as data arrives, so each button is found and clicked in one script (never stale)
    click_in_page(page, take)
    click_in_page(second, take)
    winner = wait_for(page, lambda d: (stored(stack, tech, chat)["assignee"] or {}).get("userId"), "one took it")
    loser = second if winner == "op-lena" else page
    wait_for(loser, lambda d: chat not in chat_ids(d), "the chat leaves the loser's queue")
    status = wait_for(loser, lambda d: "уже взял" in (text := visible(d, tid("inbox-status")).text) and text, "told")
    assert status == f"Чат уже взял(а) {winner}. Состояние чата обновлено."


def test_a_tag_and_a_note_are_shown_after_a_reload(page: WebDriver, stack: LocalStack, seeded: Seeded) -> None:
    furniture = seeded.account_id(FURNITURE_USER)
    chat = "u2i-b-xss"
    sign_in_as(page, stack, "op-tagger")
    open_chat(page, stack, furniture, chat)
    visible(page, tid("tag-input")).send_keys("перезвонить", Keys.ENTER)
    visible(page, tid("tag", tag="перезвонить"))
    visible(page, tid("tag-input")).send_keys("опт")
    click(page, tid("tag-add"))
    visible(page, tid("tag", tag="опт"))
    wait_for(page, lambda d: stored(stack, furniture, chat)["tags"] == ["перезвонить", "опт"], "stored")
    visible(page, tid("note-input")).send_keys("Клиент просил перезвонить после 18:00")
    click(page, tid("note-add"))
    visible(page, tid("note"))
    notes = admin_api(stack, "GET", f"/chats/{chat}/notes", params={"accountId": furniture})
    assert [(n["text"], n["author"]["userId"]) for n in notes] == [
        ("Клиент просил перезвонить после 18:00", "op-tagger")
    ]
    assert "перезвонить после" not in visible(page, tid("messages")).text  # a note is not a message

    page.refresh()
    visible(page, tid("tag", tag="перезвонить"))
    note = visible(page, tid("note"))
    assert visible(page, tid("note-text")).text == "Клиент просил перезвонить после 18:00"
    assert "op-tagger" in note.find_element(By.CSS_SELECTOR, tid("note-author")).text
    click(page, f"{tid('tag', tag='опт')} {tid('tag-remove')}")
    wait_for(page, lambda d: stored(stack, furniture, chat)["tags"] == ["перезвонить"], "removed")
    wait_for(page, lambda d: not all_of(d, tid("tag", tag="опт")), "and gone from the chat")


def test_a_note_a_colleague_adds_shows_in_the_open_chat_without_a_reload(
    page: WebDriver, second: WebDriver, stack: LocalStack, seeded: Seeded
) -> None:
    """Notes live: the avito-chat-note frame appends a colleague's note to the chat open in another browser."""
    furniture = seeded.account_id(FURNITURE_USER)
    chat = "u2i-b-rich"
    sign_in_as(page, stack, "op-writer")
    sign_in_as(second, stack, "op-reader")
    for driver in (page, second):
        open_chat(driver, stack, furniture, chat)
        wait_for(driver, lambda d: all_of(d, f"{tid('notes')} li"), "the chat's notes read (or 'no notes')")
    second.execute_script("window.__notReloaded = true")
    text = f"Перезвонить завтра в 10:00, {uuid.uuid4().hex[:6]}"

    def written(driver: WebDriver) -> list[Any]:
        notes = all_of(driver, tid("note"))
        return [n for n in notes if n.find_element(By.CSS_SELECTOR, tid("note-text")).text == text]

    visible(page, tid("note-input")).send_keys(text)
    click(page, tid("note-add"))
    (seen,) = wait_for(second, lambda d: written(d) or None, "the colleague's note in the open chat, live")
    assert "op-writer" in seen.find_element(By.CSS_SELECTOR, tid("note-author")).text
    assert second.execute_script("return window.__notReloaded === true")  # no reload, no reopening
    wait_for(page, lambda d: len(written(d)) == 1, "the writer's own note, once (its answer and the frame)")
    time.sleep(1)  # the frame reaches the writer's page too: still once
    assert len(written(page)) == 1 and len(written(second)) == 1


def test_the_presence_switch_is_stored_and_shown_after_a_reload(
    page: WebDriver, stack: LocalStack, seeded: Seeded
) -> None:
    sign_in_as(page, stack, "op-presence")
    switch = tid("presence")
    wait_for(page, lambda d: visible(d, switch).get_attribute("data-status") == "available", "available at first")
    assert visible(page, switch).text == "На месте"
    click(page, switch)
    wait_for(page, lambda d: visible(d, switch).get_attribute("data-status") == "away", "away")
    assert visible(page, switch).text == "Отошёл"
    assert as_user(stack, "op-presence", "operator", "GET", "/me/presence")["status"] == "away"
    page.refresh()
    wait_for(page, lambda d: visible(d, switch).get_attribute("data-status") == "away", "still away after a reload")
    click(page, switch)
    wait_for(page, lambda d: visible(d, switch).get_attribute("data-status") == "available", "back")
    assert as_user(stack, "op-presence", "operator", "GET", "/me/presence")["status"] == "available"


def test_routing_is_saved_by_an_admin_with_the_apis_refusals_shown_and_hidden_from_an_operator(
    page: WebDriver, stack: LocalStack, seeded: Seeded
) -> None:
    furniture = seeded.account_id(FURNITURE_USER)
    sign_in(page, stack, "admin", "#/accounts")
    click(page, f"{tid('account-row', accountId=furniture)} {tid('routing-open')}")
    Select(visible(page, tid("routing-mode"))).select_by_value("least_busy")
    for testid, value in (("routing-cap", "3"), ("routing-threshold-1", "2"), ("routing-threshold-2", "4")):
        field = visible(page, tid(testid))
        field.clear()
        field.send_keys(value)
    visible(page, tid("routing-threshold-3")).clear()
    click(page, tid("routing-save"))
    wait_for(page, lambda d: "сохранено" in visible(d, tid("routing-result")).text, "saved")
    routing = admin_api(stack, "GET", f"/accounts/{furniture}/routing")
    assert routing == {
        "accountId": furniture,
        "mode": "least_busy",
        "maxOpenPerOperator": 3,
        "waitAlertMinutes": [2, 4],
    }

    field = visible(page, tid("routing-cap"))
    field.clear()
    field.send_keys("500")  # the API allows 1-200
    click(page, tid("routing-save"))
    errors = visible(page, tid("routing-errors"))
    assert "Не больше открытых чатов на оператора" in errors.text
    assert "Не сохранено" in visible(page, tid("routing-result")).text
    assert admin_api(stack, "GET", f"/accounts/{furniture}/routing")["maxOpenPerOperator"] == 3

    page.get("about:blank")  # the next sign-in loads the console afresh, as someone else
    sign_in(page, stack, "operator", "#/accounts")
    visible(page, tid("account-row", accountId=furniture))
    assert not all_of(page, tid("routing-open"))
    as_user(stack, "op-x", "operator", "PUT", f"/accounts/{furniture}/routing", status=403, json={"mode": "off"})


def test_the_services_waiting_alert_frame_chimes(
    page: WebDriver, stack: LocalStack, seeded: Seeded, sim: AvitoSimulator
) -> None:
    """avito-chat-waiting alone chimes: the operator is on "Мои" (nothing of theirs), so no timer of the page is
    running for the chat; the service's one-time schedule fires at the account's 1-minute threshold."""
    furniture = seeded.account_id(FURNITURE_USER)
    chat = "u2i-b-xss"
    admin_api(stack, "PUT", f"/accounts/{furniture}/routing", json={"mode": "off", "waitAlertMinutes": [1]})
    sign_in_as(page, stack, "op-frames")
    click(page, tid("tab-mine"))
    wait_for(page, lambda d: visible(d, tid("inbox-summary")).get_attribute("data-chats") == "0", "nothing of mine")
    chimes = int(visible(page, tid("mute")).get_attribute("data-chimes") or 0)
    sim.add_message(FURNITURE_USER, chat, f"{chat}-late", "Вы тут?", direction="in", created=int(time.time()))
    admin_api(stack, "GET", f"/messenger/accounts/{furniture}/chats/{chat}/messages", params={"limit": 100})
    assert stored(stack, furniture, chat)["awaitingReplySince"]  # the client waits from now
    # the new message chimes at once (avito-notification); the alert a minute later chimes once more
    before = chimes
    chimes = wait_for(page, lambda d: (n := chimes_of(d)) > before and n, "the new message's chime")
    alert = f"{furniture}/{chat}#1"
    WebDriverWait(page, 120).until(  # the threshold is a minute: this waits for the frame, which comes then
        lambda d: d.find_element(By.CSS_SELECTOR, tid("mute")).get_attribute("data-last-alert") == alert,
        "the avito-chat-waiting frame of the first threshold",
    )
    assert chimes_of(page) == chimes + 1


def chimes_of(driver: WebDriver) -> int:
    return int(visible(driver, tid("mute")).get_attribute("data-chimes") or 0)


def test_a_director_closes_ticked_chats_at_once_and_an_operator_has_no_checkboxes(
    page: WebDriver, stack: LocalStack, seeded: Seeded
) -> None:
    sign_in_as(page, stack, "op-bulk")
    visible(page, tid("chat-item"))
    assert not all_of(page, tid("select-chat"))
    page.get("about:blank")  # the next sign-in loads the console afresh, as someone else
    sign_in(page, stack, "director")
    click(page, tid("tab-all"))
    picked = ["u2i-b-xss", "u2i-b-oleg"]
    for chat in picked:
        click(page, f"{tid('chat-item', chatId=chat)} {tid('select-chat')}")
    wait_for(page, lambda d: visible(d, tid("bulk-close")).text == "Закрыть 2 чата", "the button counts them")
    click(page, tid("bulk-close"))
    for chat in picked:
        user = FURNITURE_USER if chat == "u2i-b-xss" else TECH_USER
        wait_for(page, lambda d, c=chat, u=user: stored(stack, seeded.account_id(u), c)["status"] == "closed", chat)
        status = f"{tid('chat-item', chatId=chat)} {tid('chat-status')}"
        wait_for(page, lambda d, s=status: visible(d, s).get_attribute("data-status") == "closed", "shown closed")
    assert "Закрыто 2 чата" in visible(page, tid("inbox-status")).text
