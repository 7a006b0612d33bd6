"""Answering faster in Chromium (issue 26): an operator inserts a quick reply with "/", finds a chat by a word of an
old message in the search box above the inbox, and opens the client card beside the chat and sees the phone (and the
one Avito CPA found, marked)."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver

from avito_sim import AvitoSimulator
from local_runtime import LocalStack
from tests.browser.conftest import FURNITURE_USER, NOW, Seeded, api, sign_in
from tests.browser.test_console import open_chat_as_operator
from tests.support.browser import all_of, click, tid, visible, wait_for

pytestmark = pytest.mark.browser
CHAT = "u2i-b-marina"


@pytest.fixture(scope="module")
def marina(sim: AvitoSimulator, stack: LocalStack, seeded: Seeded) -> Seeded:
    """Марина's chat (an old message with a rare word, one with her phone), stored; a shared quick reply."""
    sim.add_chat(FURNITURE_USER, CHAT, item_id=5100000001, client_name="Марина", created=NOW - 7200, client_user_id=611)
    lines = ["Нужна антресоль к шкафу, есть такая?", "Мой телефон 8 (912) 345-67-89, звоните вечером"]
    for number, text in enumerate(lines):
        sim.add_message(FURNITURE_USER, CHAT, f"{CHAT}-m{number}", text, created=NOW - 7000 + number * 3000)
    # a number only Avito CPA knows (phonesInfoFromChats): the text hides it from the service's own patterns
    sim.add_message(
        FURNITURE_USER,
        CHAT,
        f"{CHAT}-cpa",
        "Второй номер — в моём профиле",
        created=NOW - 5500,
        cpa_phone="89037654321",
    )
    account = seeded.account_id(FURNITURE_USER)
    api(stack, "GET", f"/messenger/accounts/{account}/chats", params={"limit": 100})
    api(stack, "GET", f"/messenger/accounts/{account}/chats/{CHAT}/messages", params={"limit": 100})
    body = {"title": "Доставка", "text": "{client_name}, доставим «{item_title}» завтра.", "shared": True}
    api(stack, "POST", "/templates", json=body, status=201)
    seeded.chats[CHAT] = (FURNITURE_USER, NOW - 1000)
    return seeded


def test_an_operator_inserts_a_template_finds_a_chat_and_sees_the_clients_phone(
    page: WebDriver, stack: LocalStack, marina: Seeded
) -> None:
    open_chat_as_operator(page, stack, marina, CHAT)

    # the client card beside the chat: the phone from her message, normalised, with a copy button
    phone = visible(page, tid("client-card") + " " + tid("card-phone"))
    wait_for(page, lambda d: phone.text == "+79123456789", "the client's phone in the card")
    assert visible(page, tid("card-copy")).is_displayed()
    # the number Avito CPA found in her older message, marked as from Avito
    wait_for(
        page,
        lambda d: (
            [e.text for e in d.find_elements("css selector", tid("card-phone"))] == ["+79123456789", "+79037654321"]
        ),
        "the CPA number after the written one",
    )
    assert [e.text for e in page.find_elements("css selector", tid("card-phone-cpa"))] == ["от Avito"]
    assert "Диван угловой" in visible(page, tid("card-item")).text

    # "/" opens the quick replies; typing filters them; Enter puts the template, filled in for this chat, in place
    composer = visible(page, tid("composer-input"))
    composer.send_keys("/дост")
    option = visible(page, tid("quick-reply"))
    assert "Доставка" in option.text
    composer.send_keys(Keys.ENTER)
    wait_for(
        page,
        lambda d: composer.get_attribute("value") == "Марина, доставим «Диван угловой» завтра.",
        "the rendered quick reply in the composer",
    )
    assert not visible(page, tid("composer")).find_elements("css selector", tid("quick-reply"))  # closed

    # the search box above the inbox: a word of her first (old) message finds the chat, the word highlighted
    page.get(f"{stack.api_url}/console/#/inbox")
    search = visible(page, tid("search-input"))
    search.send_keys("антресол")
    hit = wait_for(
        page,
        lambda d: next((h for h in all_of(d, tid("search-hit")) if h.get_attribute("data-chat-id") == CHAT), None),
        "the chat found by a word of an old message (indexed from the stream)",
    )
    marks = hit.find_elements("css selector", tid("search-snippet") + " mark")
    assert [m.text for m in marks] == ["антресоль"]
    assert hit.get_attribute("data-matched") == "message"
    assert not visible(page, tid("search-results")).get_attribute("hidden")
    hit.click()
    wait_for(page, lambda d: visible(d, tid("chat-client-name")).text == "Марина", "the found chat opened")


def test_an_admin_adds_a_template_and_turns_the_greeting_on(page: WebDriver, stack: LocalStack, marina: Seeded) -> None:
    sign_in(page, stack, "admin", "#/templates")
    visible(page, tid("template-title")).send_keys("Режим работы")
    visible(page, tid("template-text")).send_keys("Мы работаем до 21:00, {client_name}.")
    click(page, tid("template-shared"))
    click(page, tid("template-save"))
    wait_for(page, lambda d: any("Режим работы" in r.text for r in all_of(d, tid("template-row"))), "the new row")
    assert any(t["title"] == "Режим работы" and t["shared"] for t in api(stack, "GET", "/templates", role="operator"))

    account = marina.account_id(FURNITURE_USER)
    page.get(f"{stack.api_url}/console/#/auto-replies/{account}")
    greeting = visible(page, tid("auto-greeting-text"))
    wait_for(page, lambda d: visible(d, tid("auto-timezone")).get_attribute("value") == "Europe/Moscow", "loaded")
    click(page, tid("auto-greeting-enabled"))
    greeting.send_keys("Здравствуйте! Ответим в течение 5 минут.")
    click(page, tid("auto-save"))
    wait_for(page, lambda d: "сохранены" in visible(d, tid("auto-notice")).text, "saved")
    stored = api(stack, "GET", f"/accounts/{account}/auto-replies", role="operator")
    assert stored["greeting"] == {"enabled": True, "text": "Здравствуйте! Ответим в течение 5 минут."}
    assert stored["workingHours"]["days"]["mon"] == ["09:00", "21:00"]  # the calendar kept as it was
    api(stack, "PUT", f"/accounts/{account}/auto-replies", json={"greeting": {"enabled": False, "text": ""}})
