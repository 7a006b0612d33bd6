"""A local stack against the Avito simulator with two seeded accounts, and a Chromium to drive the console."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
from avito_service.auth import mint
from selenium.webdriver.remote.webdriver import WebDriver

from avito_sim import AvitoSimulator
from local_runtime import LocalStack
from tests.support.browser import chromium, page_errors, visible
from tests.support.stack import loopback_stack

FURNITURE_USER, TECH_USER = 8101, 8102
XSS_NAME = '<img src=x onerror="window.__pwned=1">Мария'
NOW = int(time.time())


@dataclass
class Seeded:
    """What the simulator holds: account user ids and client ids, chats by id -> (user id, last activity)."""

    accounts: dict[int, dict[str, Any]] = field(default_factory=dict)  # user id -> the API's account
    chats: dict[str, tuple[int, int]] = field(default_factory=dict)
    unread: dict[str, int] = field(default_factory=dict)

    def account_id(self, user_id: int) -> str:
        return self.accounts[user_id]["id"]


def _seed(sim: AvitoSimulator, seeded: Seeded) -> None:
    sim.add_account("furniture-client", "furniture-secret", FURNITURE_USER, name="Мебель для дома")
    sim.add_account("tech-client", "tech-secret", TECH_USER, name="Техника")
    sim.add_item(FURNITURE_USER, 5100000001, "Диван угловой", stats={})
    sim.add_item(TECH_USER, 5200000001, "Ноутбук Lenovo", stats={})

    def chat(
        user: int, chat_id: str, name: str, minutes_ago: int, lines: list[tuple[str, str]], *, unread: int
    ) -> None:
        started = NOW - minutes_ago * 60 - len(lines) * 60
        item = 5100000001 if user == FURNITURE_USER else 5200000001
        sim.add_chat(
            user, chat_id, item_id=item, client_name=name, created=started, client_user_id=600000 + len(seeded.chats)
        )
        for number, (direction, text) in enumerate(lines):
            sim.add_message(
                user,
                chat_id,
                f"{chat_id}-m{number}",
                text,
                direction=direction,
                created=started + (number + 1) * 60,
                is_read=number < len(lines) - unread,
            )
        seeded.chats[chat_id] = (user, started + len(lines) * 60)
        seeded.unread[chat_id] = unread

    chat(
        FURNITURE_USER,
        "u2i-b-anna",
        "Анна",
        5,
        [("in", "Здравствуйте!"), ("out", "Добрый день"), ("in", "Диван ещё есть?"), ("in", "Можно сегодня?")],
        unread=2,
    )
    chat(TECH_USER, "u2i-b-igor", "Игорь", 15, [("in", "Ноутбук продаётся?")], unread=1)
    chat(FURNITURE_USER, "u2i-b-xss", XSS_NAME, 30, [("in", "<b>не жирный</b>"), ("out", "Ок")], unread=0)
    chat(TECH_USER, "u2i-b-oleg", "Олег", 60, [("in", "Спасибо")], unread=0)
    # one chat with every rich type the console renders (Avito's content objects)
    rich = "u2i-b-rich"
    chat(FURNITURE_USER, rich, "Светлана", 120, [("in", "Вот ссылки")], unread=0)
    base = NOW - 119 * 60
    contents = [
        (
            "image",
            {"image": {"sizes": {"140x105": f"{sim.base_url}/img/140.jpg", "640x480": f"{sim.base_url}/img/640.jpg"}}},
        ),
        ("link", {"link": {"text": "habr.com", "url": "https://habr.com/ru/", "preview": None}}),
        ("link", {"link": {"text": "bad link", "url": "javascript:alert(1)", "preview": None}}),
        (
            "item",
            {
                "item": {
                    "title": "Кресло",
                    "item_url": "https://www.avito.ru/item/1",
                    "image_url": f"{sim.base_url}/img/i.jpg",
                    "price_string": "5 000 ₽",
                }
            },
        ),
        (
            "location",
            {
                "location": {
                    "kind": "street",
                    "lat": 55.6,
                    "lon": 37.6,
                    "text": "Москва, Варшавское шоссе",
                    "title": "Варшавское шоссе",
                }
            },
        ),
        ("call", {"call": {"status": "missed", "target_user_id": FURNITURE_USER}}),
    ]
    for number, (kind, content) in enumerate(contents):
        sim.add_message(
            FURNITURE_USER,
            rich,
            f"{rich}-r{number}",
            "",
            created=base - 600 + number,
            type=kind,
            content=content,
            is_read=True,
        )


def bearer(stack: LocalStack, role: str = "admin") -> dict[str, str]:
    assert stack.jwt_secret
    return {"Authorization": "Bearer " + mint(stack.jwt_secret, sub=f"{role}@example.com", role=role)}


def api(stack: LocalStack, method: str, path: str, role: str = "admin", status: int = 200, **kwargs: Any) -> Any:
    response = requests.request(
        method, f"{stack.api_url}/api/v1{path}", headers=bearer(stack, role), timeout=60, **kwargs
    )
    assert response.status_code == status, response.text
    return response.json()["data"]


@pytest.fixture(scope="module")
def sim() -> Iterator[AvitoSimulator]:
    simulator = AvitoSimulator()
    simulator.start()
    yield simulator
    simulator.stop()


@pytest.fixture(scope="module")
def stack(sim: AvitoSimulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    local = loopback_stack(sim.base_url, tmp_path_factory.mktemp("browser-logs") / "local.log", schedule_seconds=3600)
    local.start()
    yield local
    local.stop()


@pytest.fixture(scope="module")
def seeded(sim: AvitoSimulator, stack: LocalStack) -> Seeded:
    """The simulator's accounts created through the API, connected, their chats and messages stored."""
    seeded = Seeded()
    _seed(sim, seeded)
    for user, client in ((FURNITURE_USER, "furniture"), (TECH_USER, "tech")):
        body = {"name": sim.account(user).name, "clientId": f"{client}-client", "clientSecret": f"{client}-secret"}
        account = api(stack, "POST", "/accounts", json=body, status=201)
        api(stack, "POST", f"/accounts/{account['id']}/check-connection")
        for chat in api(stack, "GET", f"/messenger/accounts/{account['id']}/chats", params={"limit": 100}):
            api(stack, "GET", f"/messenger/accounts/{account['id']}/chats/{chat['id']}/messages", params={"limit": 100})
        seeded.accounts[user] = api(stack, "GET", f"/accounts/{account['id']}")
    return seeded


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    driver = chromium(tmp_path_factory.mktemp("chromium-profile"))
    yield driver
    driver.quit()


@pytest.fixture
def page(browser: WebDriver, stack: LocalStack, seeded: Seeded) -> Iterator[WebDriver]:
    """The browser on a signed-out console; after the test, the page logged no JavaScript error."""
    browser.get(f"{stack.api_url}/console/")
    browser.execute_script("localStorage.clear()")
    browser.get("about:blank")  # the next get() loads the console afresh (not just a new #fragment)
    page_errors(browser)  # forget what earlier pages logged
    yield browser
    assert page_errors(browser) == []


def sign_in(driver: WebDriver, stack: LocalStack, role: str = "admin", view: str = "#/inbox") -> None:
    """Open the console with ``#token=<JWT>`` (as ``make run``'s link does), then go to ``view``."""
    token = bearer(stack, role)["Authorization"].removeprefix("Bearer ")
    driver.get(f"{stack.api_url}/console/#token={token}")
    visible(driver, '[data-testid="who"]')
    if view != "#/inbox":
        driver.get(f"{stack.api_url}/console/{view}")
        visible(driver, '[data-testid="who"]')
