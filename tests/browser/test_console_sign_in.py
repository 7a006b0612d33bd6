"""The console's sign-in page in Chromium against the local runtime's Cognito user pool (moto): e-mail and password,
the new-password step, an operator who sees only their accounts' chats, the session renewed with the refresh
token, sign-out revoking it; in Russian and in English."""

from __future__ import annotations

import re
import time
import uuid

import pytest
import requests
from selenium.webdriver.remote.webdriver import WebDriver

from local_runtime import LocalStack
from tests.browser.conftest import FURNITURE_USER, TECH_USER, Seeded, api, sign_in
from tests.browser.test_console import chat_ids, open_chat, wait_for_chats
from tests.support.browser import click, tid, visible, wait_for

pytestmark = pytest.mark.browser

FIRST_PASSWORD = "Temporary-Passw0rd"
NEW_PASSWORD = "Operator-Passw0rd-1"
REVOCATION_SECONDS = 75  # the contract: refused within 60 s (the authorizer's cache), with a margin


def invite(stack: LocalStack, seeded: Seeded, name: str, account_users: list[int]) -> str:
    """An operator with a first password, assigned to the accounts of ``account_users``; returns the e-mail."""
    email = f"operator-{uuid.uuid4().hex[:8]}@example.com"
    body = {
        "email": email,
        "name": name,
        "role": "operator",
        "accountIds": [seeded.account_id(user) for user in account_users],
        "temporaryPassword": FIRST_PASSWORD,
    }
    api(stack, "POST", "/users", json=body, status=201)
    return email


def submit_login(driver: WebDriver, email: str, password: str) -> None:
    field = visible(driver, tid("email-input"))
    field.clear()
    field.send_keys(email)
    secret = visible(driver, tid("password-input"))
    secret.clear()
    secret.send_keys(password)
    click(driver, tid("login-submit"))


def choose_password(driver: WebDriver, password: str) -> None:
    visible(driver, tid("new-password-input")).send_keys(password)
    visible(driver, tid("new-password-repeat")).send_keys(password)
    click(driver, tid("new-password-submit"))


def stored(driver: WebDriver, key: str) -> str | None:
    return driver.execute_script("return localStorage.getItem(arguments[0])", key)


def status_with(stack: LocalStack, token: str) -> int:
    headers = {"Authorization": f"Bearer {token}"}
    return requests.get(f"{stack.api_url}/api/v1/me", headers=headers, timeout=30).status_code


def test_an_operator_signs_in_chooses_a_password_and_sees_only_their_chats(
    page: WebDriver, stack: LocalStack, seeded: Seeded
) -> None:
    email = invite(stack, seeded, "Ольга", [FURNITURE_USER])
    page.get(f"{stack.api_url}/console/")
    submit_login(page, email, "not-the-password-1A")
    assert visible(page, tid("sign-in-error")).text == "Неверная эл. почта или пароль."

    submit_login(page, email, FIRST_PASSWORD)
    visible(page, tid("new-password-form"))
    visible(page, tid("new-password-input")).send_keys(NEW_PASSWORD)
    visible(page, tid("new-password-repeat")).send_keys(NEW_PASSWORD + "x")
    click(page, tid("new-password-submit"))
    assert visible(page, tid("sign-in-error")).text == "Пароли не совпадают."
    visible(page, tid("new-password-repeat")).clear()
    visible(page, tid("new-password-repeat")).send_keys(NEW_PASSWORD)
    click(page, tid("new-password-submit"))

    who = visible(page, tid("who"))
    assert who.text == "Ольга · оператор" and who.get_attribute("data-role") == "operator"
    furniture = {chat for chat, (user, _) in seeded.chats.items() if user == FURNITURE_USER}
    assert set(wait_for_chats(page, furniture)) == furniture  # no chat of Техника's
    assert stored(page, "avito-console.refresh")

    # the new password is the one now; the session survives a reload
    page.refresh()
    assert visible(page, tid("who")).text == "Ольга · оператор"
    assert requests.post(
        f"{stack.api_url}/api/v1/auth/login", json={"email": email, "password": NEW_PASSWORD}, timeout=30
    ).json()["data"]["accessToken"]


def test_an_expired_access_token_is_renewed_with_the_refresh_token(
    page: WebDriver, stack: LocalStack, seeded: Seeded
) -> None:
    email = invite(stack, seeded, "Тимур", [TECH_USER])
    page.get(f"{stack.api_url}/console/")
    submit_login(page, email, FIRST_PASSWORD)
    choose_password(page, NEW_PASSWORD)
    visible(page, tid("who"))
    first = stored(page, "avito-console.token")
    assert first

    # the stored access token as if it had expired: the page renews it before opening the inbox
    expired = page.execute_script(
        """const [head, body, sig] = arguments[0].split('.');
        const claims = JSON.parse(atob(body.replace(/-/g, '+').replace(/_/g, '/')));
        claims.exp = Math.floor(Date.now() / 1000) - 60;
        const part = btoa(JSON.stringify(claims)).replace(/\\+/g, '-').replace(/\\//g, '_').replace(/=+$/, '');
        return [head, part, sig].join('.');""",
        first,
    )
    page.execute_script("localStorage.setItem('avito-console.token', arguments[0])", expired)
    page.refresh()
    assert visible(page, tid("who")).text == "Тимур · оператор"
    renewed = wait_for(page, lambda d: (t := stored(d, "avito-console.token")) not in (first, expired) and t, "renewed")
    assert status_with(stack, renewed) == 200
    tech = {chat for chat, (user, _) in seeded.chats.items() if user == TECH_USER}
    assert set(wait_for_chats(page, tech)) == tech


def test_sign_out_returns_to_the_sign_in_page_and_the_old_token_is_refused(
    page: WebDriver, stack: LocalStack, seeded: Seeded
) -> None:
    email = invite(stack, seeded, "Дарья", [FURNITURE_USER, TECH_USER])
    page.get(f"{stack.api_url}/console/")
    click(page, tid("language-en"))
    submit_login(page, email, FIRST_PASSWORD)
    choose_password(page, NEW_PASSWORD)
    assert visible(page, tid("who")).text == "Дарья · operator"
    wait_for_chats(page, set(seeded.chats))
    token, refresh = stored(page, "avito-console.token"), stored(page, "avito-console.refresh")
    assert token and refresh and status_with(stack, token) == 200

    click(page, tid("sign-out"))
    assert visible(page, tid("login-submit")).text == "Sign in"
    assert stored(page, "avito-console.token") is None and stored(page, "avito-console.refresh") is None
    answer = requests.post(f"{stack.api_url}/api/v1/auth/refresh", json={"refreshToken": refresh}, timeout=30)
    assert answer.status_code == 401
    deadline = time.monotonic() + REVOCATION_SECONDS
    while status_with(stack, token) != 401:
        assert time.monotonic() < deadline, "the signed-out access token is still accepted"
        time.sleep(2)

    submit_login(page, email, "Wrong-Passw0rd-2")
    assert visible(page, tid("sign-in-error")).text == "Wrong e-mail or password."
    assert chat_ids(page) == []


# --- the users page (admin) --------------------------------------------------------------------------------------


def user_row(email: str) -> str:
    return f'[data-testid="user-row"][data-email="{email}"]'


def test_an_admin_invites_an_operator_who_signs_in_and_gets_another_account(
    page: WebDriver, stack: LocalStack, seeded: Seeded
) -> None:
    sign_in(page, stack, "admin", "#/users")
    wait_for(page, lambda d: visible(d, tid("invite")).is_enabled(), "the invite button")
    click(page, tid("invite"))
    email = f"operator-{uuid.uuid4().hex[:8]}@example.com"
    visible(page, tid("invite-email")).send_keys(email)
    visible(page, tid("invite-name")).send_keys("Кирилл")
    furniture, tech = seeded.account_id(FURNITURE_USER), seeded.account_id(TECH_USER)
    click(page, f'{tid("invite-accounts")} input[value="{furniture}"]')
    click(page, tid("invite-submit"))
    notice = wait_for(page, lambda d: (n := visible(d, tid("users-notice")).text) and "Временный пароль" in n and n, "")
    password = re.search(r"Временный пароль: (\S+) \(", notice).group(1)
    row = visible(page, user_row(email))
    assert visible(page, user_row(email) + " " + tid("user-accounts-count")).text == "1 аккаунт"
    user_id = row.get_attribute("data-user-id")
    assert api(stack, "GET", f"/users/{user_id}")["accountIds"] == [furniture]

    # the admin gives the operator the second account
    click(page, user_row(email) + " " + tid("user-accounts-count"))
    click(page, f'{user_row(email)} {tid("user-accounts")} input[value="{tech}"]')
    wait_for(page, lambda d: visible(d, user_row(email) + " " + tid("user-accounts-count")).text == "2 аккаунта", "2")
    assert sorted(api(stack, "GET", f"/users/{user_id}")["accountIds"]) == sorted([furniture, tech])

    # the operator signs in with the first password and chooses their own
    click(page, tid("sign-out"))
    submit_login(page, email, password)
    choose_password(page, NEW_PASSWORD)
    assert visible(page, tid("who")).text == "Кирилл · оператор"
    assert page.find_elements("css selector", tid("nav-users")) == []
    wait_for_chats(page, set(seeded.chats))

    # disabled by an admin: the operator's sign-in is refused
    api(stack, "PUT", f"/users/{user_id}", json={"enabled": False})
    click(page, tid("sign-out"))
    submit_login(page, email, NEW_PASSWORD)
    assert visible(page, tid("sign-in-error")).text == "Пользователь отключён, обратитесь к администратору."


# --- who sent each outgoing message (sentBy) ---------------------------------------------------------------------


_SENDERS_JS = """return [...document.querySelectorAll('[data-testid="message"]')].map((el) => [
  el.dataset.messageId, el.dataset.direction,
  el.querySelector('[data-testid="message-sender"]')?.textContent ?? null])"""


def senders(driver: WebDriver) -> dict[str, tuple[str, str | None]]:
    """message id -> (direction, the sender's name under the bubble or None)."""
    return {row[0]: (row[1], row[2]) for row in driver.execute_script(_SENDERS_JS)}


def test_an_operators_message_shows_their_name_to_them_and_to_an_admin(
    page: WebDriver, stack: LocalStack, seeded: Seeded
) -> None:
    email = invite(stack, seeded, "Вероника", [FURNITURE_USER])
    page.get(f"{stack.api_url}/console/")
    submit_login(page, email, FIRST_PASSWORD)
    choose_password(page, NEW_PASSWORD)
    wait_for_chats(page, {"u2i-b-xss"})
    open_chat(page, seeded, "u2i-b-xss")
    box = visible(page, tid("composer-input"))
    box.send_keys("Отвечает Вероника")
    click(page, tid("send"))
    sent = wait_for(page, lambda d: next((m for m, (_, s) in senders(d).items() if s == "Вероника"), None), "sender")
    shown = senders(page)
    assert shown[sent] == ("out", "Вероника")
    assert all(name is None for direction, name in shown.values() if direction == "in")  # the buyer's: no sender
    stored = api(stack, "GET", "/chats/u2i-b-xss/messages", params={"limit": 100})
    assert [m["sentBy"]["name"] for m in stored if m["id"] == sent] == ["Вероника"]

    sign_in(page, stack, "admin")  # another user opening the chat sees who answered
    wait_for_chats(page, {"u2i-b-xss"})
    open_chat(page, seeded, "u2i-b-xss")
    wait_for(page, lambda d: senders(d).get(sent) == ("out", "Вероника"), "the sender for the admin")
    title = visible(page, tid("message", messageId=sent) + " " + tid("message-sender")).get_attribute("title")
    assert title.startswith("Отправил") and title.endswith(": Вероника"), title
