"""The chat workflow in Chromium (issue 25): two operators in two browsers on the queue ("Новые"); one takes a
chat and it leaves the other's queue live, and shows in the taker's "Мои"."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from avito_service.auth import mint
from selenium.webdriver.remote.webdriver import WebDriver

from local_runtime import LocalStack
from tests.browser.conftest import Seeded
from tests.browser.test_console import chat_ids
from tests.support.browser import chromium, click, page_errors, tid, visible, wait_for

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
    assert status.get_attribute("data-status") == "open" and status.text == "В работе"  # noqa: RUF001 - Russian
