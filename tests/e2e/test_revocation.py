"""Revocation closes a user's WebSocket connections, through the local stack (contract, "People and sign-in":
after logout, or after an admin disables the user, their WebSocket connections are closed).

Users are the local runtime's Cognito users (moto), signed in with a password over HTTP; their sockets connect
with the Cognito access token. The socket must be closed by the server within the revocation window (60 s; the
service closes it in the same request, so the test also reports how long it took), a reconnect with the revoked
token is refused at the handshake, and someone else's socket stays open."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from avito_service.auth import mint
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from avito_sim import AvitoSimulator
from local_runtime import LocalStack
from tests.support.live import LiveClient
from tests.support.stack import loopback_stack

pytestmark = pytest.mark.e2e

REVOCATION_WINDOW = 60.0  # the contract's bound for a logout or a disable to take effect
FIRST_PASSWORD, PASSWORD = "Temporary-Passw0rd", "Operator-Passw0rd-1"
CLIENTS: list[LiveClient] = []


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    sim = AvitoSimulator()
    sim.start()
    logs = tmp_path_factory.mktemp("revocation-logs") / "local.log"
    local = loopback_stack(sim.base_url, logs, schedule_seconds=3600)
    local.start()
    yield local
    for client in CLIENTS:
        client.close()
    local.stop()
    sim.stop()


def call(stack: LocalStack, method: str, path: str, token: str | None = None, **kwargs: Any) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.request(method, f"{stack.api_url}/api/v1{path}", headers=headers, timeout=60, **kwargs)


def admin_token(stack: LocalStack) -> str:
    assert stack.jwt_secret
    return mint(stack.jwt_secret, sub="admin@example.com", role="admin")


def signed_in_operator(stack: LocalStack, name: str) -> tuple[str, str]:
    """A new operator (invited by an admin, first password changed): (user id, Cognito access token)."""
    email = f"{name.lower()}-{uuid.uuid4().hex[:8]}@example.com"
    body = {"email": email, "name": name, "role": "operator", "accountIds": [], "temporaryPassword": FIRST_PASSWORD}
    created = call(stack, "POST", "/users", admin_token(stack), json=body)
    assert created.status_code == 201, created.text
    challenge = call(stack, "POST", "/auth/login", json={"email": email, "password": FIRST_PASSWORD}).json()["data"]
    assert challenge["challenge"] == "NEW_PASSWORD_REQUIRED", challenge
    answer = call(
        stack,
        "POST",
        "/auth/new-password",
        json={"email": email, "session": challenge["session"], "newPassword": PASSWORD},
    )
    assert answer.status_code == 200, answer.text
    return created.json()["data"]["id"], answer.json()["data"]["accessToken"]


def live(stack: LocalStack, token: str, name: str) -> LiveClient:
    client = LiveClient(stack.ws_url, token, name=name)
    CLIENTS.append(client)
    assert client.request({"action": "ping"}, "pong") == {"event": "pong", "data": {}}  # connected and stored
    return client


def refused_at_handshake(stack: LocalStack, token: str) -> int:
    with pytest.raises(InvalidStatus) as refused:
        connect(f"{stack.ws_url}/?token={token}", open_timeout=30).close()
    return refused.value.response.status_code


@pytest.fixture(scope="module")
def bystander(stack: LocalStack) -> LiveClient:
    """Another user's socket, which no revocation here may touch."""
    assert stack.jwt_secret
    return live(stack, mint(stack.jwt_secret, sub="director@example.com", role="director"), "bystander")


def test_logout_closes_the_users_socket_and_the_token_cannot_reconnect(
    stack: LocalStack, bystander: LiveClient
) -> None:
    user_id, token = signed_in_operator(stack, "Logout")
    first, second = live(stack, token, "logout-1"), live(stack, token, "logout-2")  # two tabs
    answer = call(stack, "POST", "/auth/logout", token)
    assert answer.status_code == 200, answer.text
    waited = [first.wait_closed(REVOCATION_WINDOW), second.wait_closed(REVOCATION_WINDOW)]
    print(f"logout: sockets closed {max(waited):.2f} s after the logout answered")
    assert refused_at_handshake(stack, token) == 401
    assert bystander.request({"action": "ping"}, "pong")["event"] == "pong"
    assert call(stack, "GET", f"/users/{user_id}", admin_token(stack)).json()["data"]["enabled"] is True  # only out


def test_disabling_a_user_closes_their_socket_and_the_token_cannot_reconnect(
    stack: LocalStack, bystander: LiveClient
) -> None:
    user_id, token = signed_in_operator(stack, "Disabled")
    socket = live(stack, token, "disabled")
    answer = call(stack, "PUT", f"/users/{user_id}", admin_token(stack), json={"enabled": False})
    assert answer.status_code == 200 and answer.json()["data"]["enabled"] is False, answer.text
    waited = socket.wait_closed(REVOCATION_WINDOW)
    print(f"disable: socket closed {waited:.2f} s after the change answered")
    assert refused_at_handshake(stack, token) == 401
    assert bystander.request({"action": "ping"}, "pong")["event"] == "pong"
