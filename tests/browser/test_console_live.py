"""The console's live updates in Chromium: webhook deliveries reach the open page over the WebSocket."""

from __future__ import annotations

import uuid

import pytest
import requests
from selenium.webdriver.remote.webdriver import WebDriver

from avito_sim import AvitoSimulator
from local_runtime import LocalStack
from tests.browser.conftest import FURNITURE_USER, TECH_USER, Seeded, api, sign_in
from tests.browser.test_console import badges, chat_ids, chats, messages, open_chat, wait_for_chats
from tests.support.browser import click, tid, visible, wait_for

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def subscribed(stack: LocalStack, sim: AvitoSimulator, seeded: Seeded) -> Seeded:
    for user in (FURNITURE_USER, TECH_USER):
        assert api(stack, "POST", f"/accounts/{seeded.account_id(user)}/webhook")["subscribed"] is True
    for url in sim.subscriptions(FURNITURE_USER):  # an empty probe starts the receiver (the simulator waits 2 s)
        assert requests.post(url, json={}, timeout=60).status_code == 200
    return seeded


def live_page(page: WebDriver, stack: LocalStack, seeded: Seeded) -> None:
    sign_in(page, stack, "operator")
    wait_for_chats(page, set(seeded.chats))
    visible(page, tid("live-state") + '[data-state="live"]')


def chimes(page: WebDriver) -> int:
    return int(visible(page, tid("mute")).get_attribute("data-chimes") or 0)


def deliver(sim: AvitoSimulator, user: int, chat_id: str, text: str) -> dict:
    message, deliveries = sim.incoming_message(user, chat_id, text)
    assert deliveries and all(status == 200 for _, status in deliveries), deliveries
    return message


def test_a_webhook_message_moves_its_chat_up_with_a_badge_and_a_chime(
    page: WebDriver, stack: LocalStack, sim: AvitoSimulator, subscribed: Seeded
) -> None:
    live_page(page, stack, subscribed)
    assert chat_ids(page)[0] != "u2i-b-oleg"
    before = chimes(page)
    text = f"Ещё актуально? {uuid.uuid4().hex[:6]}"
    deliver(sim, TECH_USER, "u2i-b-oleg", text)
    wait_for(page, lambda d: chat_ids(d)[0] == "u2i-b-oleg", "the chat moves to the top without a reload")
    wait_for(page, lambda d: badges(d).get("u2i-b-oleg") == "1", "its unread badge")
    assert chats(page)[0]["preview"] == text
    wait_for(page, lambda d: chimes(d) == before + 1, "one chime")


def test_a_new_chat_appears_and_the_open_chat_gets_its_message_and_is_read(
    page: WebDriver, stack: LocalStack, sim: AvitoSimulator, subscribed: Seeded
) -> None:
    live_page(page, stack, subscribed)
    sim.add_chat(FURNITURE_USER, "u2i-b-new", item_id=5100000001, client_name="Пётр", client_user_id=610001)
    subscribed.chats["u2i-b-new"] = (FURNITURE_USER, 0)
    deliver(sim, FURNITURE_USER, "u2i-b-new", "Здравствуйте, я новый покупатель")
    wait_for(page, lambda d: "u2i-b-new" in chat_ids(d), "the new chat appears")
    # a delivery names no client: the console asks Avito for the chat once, and the name follows
    wait_for(page, lambda d: {c["id"]: c["client"] for c in chats(d)}.get("u2i-b-new") == "Пётр", "client name")

    open_chat(page, subscribed, "u2i-b-new")
    wait_for(page, lambda d: "u2i-b-new" not in badges(d), "read on open")
    message = deliver(sim, FURNITURE_USER, "u2i-b-new", "Можно фото?")
    wait_for(page, lambda d: [m for m, _, _ in messages(d)][-1:] == [message["id"]], "the message in the open chat")
    assert messages(page)[-1][1] == "in" and "Можно фото?" in messages(page)[-1][2]
    # the open chat is read again at once: a second read call at Avito, and no badge
    wait_for(page, lambda d: len([c for c in sim.chat_read_calls if c["chat_id"] == "u2i-b-new"]) >= 2, "read")
    wait_for(page, lambda d: "u2i-b-new" not in badges(d), "the open chat stays read")


def test_muted_pages_do_not_chime(page: WebDriver, stack: LocalStack, sim: AvitoSimulator, subscribed: Seeded) -> None:
    live_page(page, stack, subscribed)
    mute = visible(page, tid("mute"))
    mute.click()
    wait_for(page, lambda d: visible(d, tid("mute")).get_attribute("data-muted") == "true", "muted")
    before = chimes(page)
    deliver(sim, TECH_USER, "u2i-b-igor", "Тихое сообщение")
    wait_for(page, lambda d: chats(d)[0]["preview"] == "Тихое сообщение", "the message arrived")
    assert chimes(page) == before
    page.refresh()  # muting is remembered
    visible(page, tid("live-state") + '[data-state="live"]')
    assert visible(page, tid("mute")).get_attribute("data-muted") == "true"
    click(page, tid("mute"))
    deliver(sim, TECH_USER, "u2i-b-igor", "Громкое сообщение")
    wait_for(page, lambda d: chimes(d) == before + 1, "chimes again when unmuted")


def test_the_page_reconnects_when_the_server_drops_it(
    page: WebDriver, stack: LocalStack, sim: AvitoSimulator, subscribed: Seeded
) -> None:
    live_page(page, stack, subscribed)
    table = stack.physical_ids["ConnectionsTable"]
    items = stack.client("dynamodb").scan(TableName=table)["Items"]
    assert items, "the page's connection is stored"
    [ws_api] = stack.websocket_apis
    for item in items:  # the service drops every connection (as API Gateway does after 2 hours)
        url = f"{stack.ws_management_url}/{ws_api.api_id}/{ws_api.stage}/@connections/{item['connectionId']['S']}"
        # a connection whose page is already gone closes only after the close handshake times out (10 s)
        assert requests.delete(url, timeout=30).status_code in (200, 204, 410)
    wait_for(page, lambda d: visible(d, tid("live-state")).get_attribute("data-state") != "live", "the drop is seen")
    visible(page, tid("live-state") + '[data-state="live"]')
    deliver(sim, FURNITURE_USER, "u2i-b-xss", "После переподключения")
    wait_for(page, lambda d: chats(d)[0]["id"] == "u2i-b-xss", "updates flow again after the reconnect")
