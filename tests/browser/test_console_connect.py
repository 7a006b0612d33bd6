# ruff: noqa: RUF001 - Russian text of the console and the callback page: Cyrillic letters are meant
"""Issue 28 in Chromium: an admin creates a consent link, the account's owner opens it (the simulator's consent
page consents at once and sends the browser to the callback), and the account appears with its health card."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium.webdriver.remote.webdriver import WebDriver

from avito_sim import AvitoSimulator
from local_runtime import LocalStack
from tests.browser.conftest import Seeded, api, sign_in
from tests.support.browser import click, page_errors, tid, visible, wait_for

pytestmark = pytest.mark.browser

OWNER = 8301
APP_ID, APP_SECRET = "partner-app", "partner-app-secret"
ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def stack(sim: AvitoSimulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """The local stack with the partner app configured; its API port is known before it starts, since the redirect
    URL registered for the app (a template parameter) names it."""
    port = _free_port()
    redirect = f"http://127.0.0.1:{port}/api/v1/oauth/callback"
    local = LocalStack(
        ROOT / "template.yaml",
        api_port=port,
        env_overrides={"AWS_REGION": "us-east-1", "JWT_SECRET": ""},
        parameter_overrides={
            "AvitoApiUrl": sim.base_url,
            "AvitoAppClientId": APP_ID,
            "AvitoOAuthUrl": sim.consent_url(),
            "OAuthRedirectUrl": redirect,
        },
        log_file=tmp_path_factory.mktemp("connect-logs") / "local.log",
        schedule_seconds=3600,
    )
    local.start()
    local.client("secretsmanager").put_secret_value(
        SecretId="avito-service-local/avito-app-secret", SecretString=APP_SECRET
    )
    sim.add_app(APP_ID, APP_SECRET, redirect)
    sim.add_account("owner-keys", "never-given", OWNER, name="Владелец")
    sim.sign_in(OWNER)
    yield local
    local.stop()


@pytest.fixture(scope="module")
def seeded() -> Seeded:
    return Seeded()  # no accounts with keys: the one account comes from the consent


def test_an_admin_connects_an_account_by_link(page: WebDriver, stack: LocalStack, sim: AvitoSimulator) -> None:
    sign_in(page, stack, "admin", "#/accounts")
    click(page, tid("connect-by-link"))
    name = visible(page, tid("connect-link-name"))
    name.send_keys("Магазин по ссылке")
    click(page, tid("connect-link-create"))
    url = wait_for(
        page, lambda d: d.find_element("css selector", tid("connect-link-url")).get_attribute("value"), "link"
    )
    assert url.startswith(sim.consent_url() + "?") and "state=" in url

    page.get(url)  # the owner's browser: Avito's consent page, then the callback
    wait_for(page, lambda d: "Готово" in d.find_element("tag name", "body").text, "the callback's page")
    assert "Магазин по ссылке" in page.find_element("tag name", "body").text
    assert page.current_url.startswith(f"{stack.api_url}/api/v1/oauth/callback?")
    page_errors(page)  # the pages outside the console (the favicon they lack) are not the console's errors

    (account,) = api(stack, "GET", "/accounts")
    assert account["authType"] == "oauth" and account["userId"] == str(OWNER)
    sign_in(page, stack, "admin", "#/accounts")
    card = visible(page, tid("health-card", accountId=account["id"]))
    assert card.get_attribute("data-auth-type") == "oauth"
    assert "Подключён по ссылке владельца" in card.text and "CPA" in card.text and "Всё в порядке" in card.text

    page.get(url)  # the same link again: used, nothing new
    wait_for(page, lambda d: "Не удалось" in d.find_element("tag name", "body").text, "the refusal page")
    assert len(api(stack, "GET", "/accounts")) == 1
    page_errors(page)  # the 400 of the used link, logged by the browser
