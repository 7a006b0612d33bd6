"""Live updates through the local runtime: the template's WebSocket API, the MessengerTable stream and the
fan-out, with the Avito simulator POSTing webhook deliveries to the stack's Function URL.

Every test waits for frames (with a timeout). "Nothing else arrived" is shown with a later marker: frames of
one stream reach a connection in order, so once the marker's frame is there, an earlier frame would be too.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from avito_service.auth import mint
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from avito_sim import AvitoSimulator
from local_runtime import LocalStack
from tests.support.live import Frame, LiveClient, event_for
from tests.support.stack import loopback_stack

pytestmark = pytest.mark.e2e

USER_A, CLIENT_A, SECRET_A = 7301, "live-client-a", "LIVE-CLIENT-SECRET-a7c1"
USER_B, CLIENT_B, SECRET_B = 7302, "live-client-b", "LIVE-CLIENT-SECRET-b9d4"
CHAT_A, CHAT_A2, CHAT_B = "u2i-live-a-1", "u2i-live-a-2", "u2i-live-b-1"
CLIENTS: list[LiveClient] = []  # every client of the module (the secrets scan reads their frames)
TOKENS: list[str] = []


@pytest.fixture(scope="module")
def sim() -> Iterator[AvitoSimulator]:
    simulator = AvitoSimulator()
    simulator.start()
    simulator.add_account(CLIENT_A, SECRET_A, USER_A, name="Live shop A")
    simulator.add_account(CLIENT_B, SECRET_B, USER_B, name="Live shop B")
    for user, chat, client in ((USER_A, CHAT_A, 81), (USER_A, CHAT_A2, 82), (USER_B, CHAT_B, 83)):
        simulator.add_chat(
            user, chat, item_id=4200000000 + client, item_title="Кресло", client_name="Ира", client_user_id=client
        )
    yield simulator
    simulator.stop()


@pytest.fixture(scope="module")
def stack(sim: AvitoSimulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    local = loopback_stack(sim.base_url, tmp_path_factory.mktemp("live-logs") / "local.log", schedule_seconds=3600)
    local.start()
    yield local
    for client in CLIENTS:
        client.close()
    local.stop()


def token(stack: LocalStack, role: str, sub: str | None = None, ttl: int = 3600) -> str:
    assert stack.jwt_secret
    value = mint(stack.jwt_secret, sub=sub or f"{role}@example.com", role=role, ttl_seconds=ttl)
    TOKENS.append(value)
    return value


def api(stack: LocalStack, method: str, path: str, **kwargs: Any) -> Any:
    headers = {"Authorization": "Bearer " + token(stack, "admin")}
    response = requests.request(method, f"{stack.api_url}{path}", headers=headers, timeout=30, **kwargs)
    assert response.status_code in (200, 201), response.text
    return response.json()["data"]


def client(stack: LocalStack, role: str, name: str) -> LiveClient:
    live = LiveClient(stack.ws_url, token(stack, role), name=name)
    CLIENTS.append(live)
    assert live.request({"action": "ping"}, "pong") == {"event": "pong", "data": {}}  # connected and stored
    return live


@pytest.fixture(scope="module")
def accounts(stack: LocalStack, sim: AvitoSimulator) -> dict[str, str]:
    """Two accounts with webhooks subscribed at the simulator: user id -> account id."""
    ids = {}
    for user, client_id, secret in ((USER_A, CLIENT_A, SECRET_A), (USER_B, CLIENT_B, SECRET_B)):
        account = api(
            stack,
            "POST",
            "/api/v1/accounts",
            json={"name": f"Live {user}", "clientId": client_id, "clientSecret": secret},
        )
        assert api(stack, "POST", f"/api/v1/accounts/{account['id']}/check-connection")["ok"] is True  # its userId
        assert api(stack, "POST", f"/api/v1/accounts/{account['id']}/webhook")["subscribed"] is True
        ids[str(user)] = account["id"]
    return ids


@pytest.fixture(scope="module")
def admin(stack: LocalStack, accounts: dict[str, str]) -> LiveClient:
    return client(stack, "admin", "admin")


@pytest.fixture(scope="module")
def operator(stack: LocalStack, accounts: dict[str, str]) -> LiveClient:
    return client(stack, "operator", "operator")


def chat_update_for(chat_id: str, message_id: str) -> Callable[[Frame], bool]:
    def matches(frame: Frame) -> bool:
        chat = (frame.get("data") or {}).get("chat") or {}
        return (
            frame.get("event") == "avito-chat-updated"
            and frame["data"]["chatId"] == chat_id
            and (chat.get("lastMessage") or {}).get("id") == message_id
        )

    return matches


def deliver_incoming(sim: AvitoSimulator, user: int, chat: str, text: str) -> str:
    """A buyer writes; the delivery is repeated (as Avito does) while it gets no answer: a cold webhook
    function on a loaded machine can take longer than the simulator's 5 s timeout."""
    message, deliveries = sim.incoming_message(user, chat, text)
    for _ in range(3):
        if not any(status is None for _, status in deliveries):
            break
        deliveries = sim.deliver(user, sim.webhook_value(user, chat, message["id"]))
    assert deliveries and all(status == 200 for _, status in deliveries), deliveries
    return str(message["id"])


def frames_between(live: LiveClient, start: int, end_predicate: Callable[[Frame], bool]) -> list[Frame]:
    """The frames from index ``start`` up to the first that matches ``end_predicate`` (waited for)."""
    marker = live.wait_for(end_predicate, after=start)
    frames = live.frames[start:]
    return frames[: frames.index(marker)]


def test_a_webhook_delivery_reaches_every_client_as_three_events(
    stack: LocalStack, sim: AvitoSimulator, accounts: dict[str, str], admin: LiveClient, operator: LiveClient
) -> None:
    account_id = accounts[str(USER_A)]
    message_id = deliver_incoming(sim, USER_A, CHAT_A, "Кресло ещё есть?")
    for live in (admin, operator):
        new = live.wait_for(event_for("avito-new-message", message_id=message_id))
        assert new["data"]["accountId"] == account_id and new["data"]["chatId"] == CHAT_A
        message = new["data"]["message"]
        assert (message["text"], message["direction"], message["accountId"]) == ("Кресло ещё есть?", "in", account_id)
        notification = live.wait_for(event_for("avito-notification", message_id=message_id))
        assert notification["data"] == {
            "type": "new_message",
            "accountId": account_id,
            "chatId": CHAT_A,
            "messageId": message_id,
            "text": "Кресло ещё есть?",
            "createdAt": message["createdAt"],
        }
        chat = live.wait_for(chat_update_for(CHAT_A, message_id))["data"]["chat"]
        assert chat["id"] == CHAT_A and chat["accountId"] == account_id and chat["unreadCount"] >= 1


def test_a_duplicate_delivery_announces_nothing(
    stack: LocalStack, sim: AvitoSimulator, accounts: dict[str, str], admin: LiveClient
) -> None:
    first = deliver_incoming(sim, USER_A, CHAT_A, "Можно посмотреть завтра?")
    admin.wait_for(chat_update_for(CHAT_A, first))
    admin.wait_for(event_for("avito-notification", message_id=first))  # all of the first delivery's frames are in
    start = len(admin.frames)
    assert sim.deliver(USER_A, sim.webhook_value(USER_A, CHAT_A, first))[0][1] == 200  # Avito retries
    marker = deliver_incoming(sim, USER_A, CHAT_A2, "Отметка")
    between = frames_between(admin, start, event_for("avito-new-message", message_id=marker))
    assert [f for f in between if first in json.dumps(f)] == [], between  # nothing about the repeated message
    admin.wait_for(event_for("avito-notification", message_id=marker), after=start)  # the marker's frames are in
    admin.wait_for(chat_update_for(CHAT_A2, marker), after=start)


def test_an_outgoing_message_gives_no_notification(
    stack: LocalStack, sim: AvitoSimulator, accounts: dict[str, str], admin: LiveClient
) -> None:
    sim.add_message(USER_A, CHAT_A, "live-out-1", "Да, есть", direction="out")
    start = len(admin.frames)
    assert sim.deliver(USER_A, sim.webhook_value(USER_A, CHAT_A, "live-out-1"))[0][1] == 200
    new = admin.wait_for(event_for("avito-new-message", message_id="live-out-1"), after=start)
    assert new["data"]["message"]["direction"] == "out"
    admin.wait_for(chat_update_for(CHAT_A, "live-out-1"), after=start)
    marker = deliver_incoming(sim, USER_A, CHAT_A2, "Отметка 2")
    between = frames_between(admin, start, event_for("avito-notification", message_id=marker))
    assert [f for f in between if f["event"] == "avito-notification" and f["data"]["messageId"] == "live-out-1"] == []


def test_a_send_through_the_api_is_announced(
    stack: LocalStack, sim: AvitoSimulator, accounts: dict[str, str], operator: LiveClient
) -> None:
    account_id = accounts[str(USER_A)]
    start = len(operator.frames)
    sent = api(stack, "POST", f"/api/v1/messenger/accounts/{account_id}/chats/{CHAT_A}/send", json={"text": "Ждём вас"})
    new = operator.wait_for(event_for("avito-new-message", message_id=sent["id"]), after=start)
    assert new["data"]["message"]["text"] == "Ждём вас" and new["data"]["message"]["direction"] == "out"
    operator.wait_for(chat_update_for(CHAT_A, sent["id"]), after=start)
    # frames of earlier tests' deliveries may still arrive; the stream is ordered, so once a later incoming
    # message is announced, a notification of the sent one would have come before it
    marker = deliver_incoming(sim, USER_A, CHAT_A2, "Отметка 3")
    between = frames_between(operator, start, event_for("avito-notification", message_id=marker))
    assert [f for f in between if f["event"] == "avito-notification" and f["data"]["messageId"] == sent["id"]] == []


def test_subscribe_limits_a_connection_to_its_accounts(
    stack: LocalStack, sim: AvitoSimulator, accounts: dict[str, str], admin: LiveClient
) -> None:
    only_b = client(stack, "director", "director-b")
    answer = only_b.request({"action": "subscribe", "accountIds": [accounts[str(USER_B)]]}, ("subscribed", "error"))
    assert answer == {"event": "subscribed", "data": {"accountIds": [accounts[str(USER_B)]]}}
    start = len(only_b.frames)
    for_a = deliver_incoming(sim, USER_A, CHAT_A2, "Для A")
    for_b = deliver_incoming(sim, USER_B, CHAT_B, "Для B")
    between = frames_between(only_b, start, event_for("avito-notification", message_id=for_b))
    assert {f["data"]["accountId"] for f in between} <= {accounts[str(USER_B)]}, between
    admin.wait_for(event_for("avito-notification", message_id=for_a))  # an unfiltered client gets both
    admin.wait_for(event_for("avito-notification", message_id=for_b))
    everything = only_b.request({"action": "subscribe", "accountIds": None}, "subscribed")
    assert everything["data"] == {"accountIds": None}
    again = deliver_incoming(sim, USER_A, CHAT_A2, "Снова для A")
    only_b.wait_for(event_for("avito-notification", message_id=again))


def test_client_frames_are_answered_and_bad_ones_explained(stack: LocalStack, accounts: dict[str, str]) -> None:
    live = client(stack, "operator", "frames")
    assert live.request({"action": "dance"}, "error")["data"]["code"] == "unknown_action"
    bad = live.request({"action": "subscribe", "accountIds": "all"}, ("error", "subscribed"))
    assert bad["data"]["code"] == "invalid_subscription" and "accountIds" in bad["data"]["message"]
    start = len(live.frames)
    live.connection.send("not json")
    assert live.wait_for(lambda f: f["event"] == "error", after=start)["data"]["code"] == "invalid_json"


@pytest.mark.parametrize(
    ("name", "status"),
    [("missing", 401), ("garbage", 401), ("wrong key", 401), ("expired", 401), ("unknown role", 403)],
)
def test_bad_tokens_are_refused_at_the_handshake(stack: LocalStack, name: str, status: int) -> None:
    assert stack.jwt_secret
    query = {
        "missing": "",
        "garbage": "?token=not-a-jwt",
        "wrong key": "?token=" + mint("another-key-0123456789abcdef0123456789", sub="x", role="admin"),
        "expired": "?token=" + mint(stack.jwt_secret, sub="x", role="admin", now=time.time() - 7200, ttl_seconds=60),
        "unknown role": "?token=" + token(stack, "janitor"),
    }[name]
    before = stack.client("dynamodb").scan(TableName=stack.physical_ids["ConnectionsTable"], Select="COUNT")["Count"]
    with pytest.raises(InvalidStatus) as refused, connect(f"{stack.ws_url}/{query}", open_timeout=30):
        pass
    assert refused.value.response.status_code == status
    assert b'"success": false' in refused.value.response.body
    after = stack.client("dynamodb").scan(TableName=stack.physical_ids["ConnectionsTable"], Select="COUNT")["Count"]
    assert after == before  # no connection kept


def test_gone_connections_are_dropped(
    stack: LocalStack, sim: AvitoSimulator, accounts: dict[str, str], admin: LiveClient
) -> None:
    """A connection whose $disconnect never ran answers 410 to the fan-out, which forgets it."""
    table = stack.physical_ids["ConnectionsTable"]
    dynamodb = stack.client("dynamodb")
    stale = {"connectionId": {"S": "c3RhbGUtY29ubg="}, "sub": {"S": "ghost"}, "role": {"S": "operator"}}
    dynamodb.put_item(TableName=table, Item={**stale, "ttl": {"N": str(int(time.time()) + 3600)}})
    message_id = deliver_incoming(sim, USER_A, CHAT_A, "Кто здесь?")
    admin.wait_for(event_for("avito-notification", message_id=message_id))
    deadline = time.monotonic() + 15
    while "Item" in dynamodb.get_item(TableName=table, Key={"connectionId": stale["connectionId"]}):
        assert time.monotonic() < deadline, "the gone connection was not removed"
        time.sleep(0.1)


def test_a_closed_connection_is_forgotten(stack: LocalStack, accounts: dict[str, str]) -> None:
    live = client(stack, "operator", "closing")
    table = stack.physical_ids["ConnectionsTable"]
    dynamodb = stack.client("dynamodb")
    count = dynamodb.scan(TableName=table, Select="COUNT")["Count"]
    live.close()
    deadline = time.monotonic() + 15
    while dynamodb.scan(TableName=table, Select="COUNT")["Count"] != count - 1:
        assert time.monotonic() < deadline, "$disconnect did not remove the connection"
        time.sleep(0.1)


def test_no_frame_holds_a_secret(stack: LocalStack, sim: AvitoSimulator, accounts: dict[str, str]) -> None:
    webhook_tokens = [
        url.rstrip("/").rsplit("/", 1)[-1] for user in (USER_A, USER_B) for url in sim.subscriptions(user)
    ]
    secrets = [SECRET_A, SECRET_B, stack.jwt_secret or "", *webhook_tokens, *TOKENS]
    frames = [text for live in CLIENTS for text in live.raw]
    assert len(frames) > 10  # the tests above ran and saw frames
    for secret in filter(None, secrets):
        assert not [text for text in frames if secret in text], "a frame holds a secret"
