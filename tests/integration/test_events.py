"""Every function in template.yaml has sample events in events/, and each sample gets a sensible answer.

The samples are invoked in-process against moto (the ``aws_env`` fixture) and, where they reach Avito,
against an :class:`AvitoSimulator`. The placeholder account id of the samples
(``00000000-0000-4000-8000-000000000001``) is replaced by a freshly created account's id, and the
placeholder webhook token by that account's real token, so every sample runs against existing data.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from avito_service.accounts import service as accounts_service
from avito_service.accounts.models import AccountCreate
from avito_service.auth import Identity, mint
from avito_service.live import store as connections
from avito_service.messenger import service as messenger
from avito_service.messenger import store as store_module
from avito_service.reports.store import report_store
from avito_service.search import backfill
from avito_service.search.store import search_index
from avito_service.templates.store import template_store
from avito_service.users import service as users_service
from avito_service.users.models import UserCreate
from avito_service.webhooks import tokens

from avito_sim import AvitoSimulator
from local_runtime.template import load_template
from tests.conftest import JWT_TEST_KEY
from tests.support.caches import reset_caches
from tests.support.events import FakeContext

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"
TEMPLATE = load_template(ROOT / "template.yaml")

PLACEHOLDER_ACCOUNT = "00000000-0000-4000-8000-000000000001"
PLACEHOLDER_WEBHOOK_TOKEN = "SAMPLE-webhook-token-replace-me-0123456789ab"
PLACEHOLDER_USER = "SAMPLE-user-id-replace-me"  # the users_* samples' user (an invited operator)
SAMPLE_ADMIN, SAMPLE_ADMIN_PASSWORD = "admin@example.com", "Sample-Admin-Password-1"
PLACEHOLDER_JWT = "SAMPLE-JWT-replace-me"  # the ?token= of the WebSocket $connect sample
SAMPLE_CONNECTION = "L0SM9cOFvHcCIhw="  # the connection id of the WebSocket samples
SAMPLE_BEARER = "Bearer eyJhbGciOiJIUzI1NiJ9.sample.signature"
DEMO_CHAT = "u2i-demo-chat-1"
STORED_CHAT = "u2i-Zx8yW7vU6tS5rQ4pO3nM2l"  # the chat of the older chats_*/webhook_* samples
READ_MESSAGE = "f2a9c0de5b7d4e8f9a0b1c2d3e4f5a6b"
OWN_MESSAGE = "a7c3e9d1b5f24680a1b2c3d4e5f6a7b8"  # the account's own, recent: messenger_delete_message deletes it
VOICE_ID = "4f1c8e2a-voice-demo-1"
REVIEW_ID, CALL_ID = 91000001, 81000001  # the review and call of the reviews_*/calls_* samples
SAMPLE_TEMPLATE = "5d1e4a7c-0b8f-4c2e-9a51-7e3f1c2b9d40"  # the sample operator's quick reply (seed_answering)
SAMPLE_OPERATOR = "operator-7"  # the ``sub`` of the REST samples
SIM_CLIENT_ID, SIM_CLIENT_SECRET, SIM_USER_ID = "events-client", "events-secret", 123456789

# Event files whose names do not start with the handler module's name.
ALIASES = {"webhook_receiver": ["webhook_"]}


def handler_module(logical_id: str) -> str:
    handler = TEMPLATE.function_properties(logical_id)["Handler"]
    return handler.rsplit(".", 1)[0]


def event_files(module: str) -> list[Path]:
    prefixes = [module, *ALIASES.get(module, [])]
    return sorted({path for prefix in prefixes for path in EVENTS.glob(f"{prefix}*.json")})


FUNCTIONS = sorted(TEMPLATE.ids_of_type("AWS::Serverless::Function"))


# --- fixtures -----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sim() -> Iterator[AvitoSimulator]:
    simulator = AvitoSimulator()
    simulator.start()
    seed_simulator(simulator)
    yield simulator
    simulator.stop()


def seed_simulator(simulator: AvitoSimulator) -> None:
    """The Avito account the samples talk to (also ``scripts/sam_local_check.py``'s)."""
    simulator.add_account(SIM_CLIENT_ID, SIM_CLIENT_SECRET, SIM_USER_ID, name="Events shop", balance_real=12.5)
    simulator.add_item(SIM_USER_ID, 4012345678, "Диван угловой", stats={})
    for chat_id in (DEMO_CHAT, STORED_CHAT):
        simulator.add_chat(
            SIM_USER_ID,
            chat_id,
            item_id=4012345678,
            item_title="Диван угловой",
            client_name="Анна",
            client_user_id=987654321,
        )
        simulator.add_message(SIM_USER_ID, chat_id, f"{chat_id[-4:]}-m1", "Здравствуйте! Ещё продаётся?")
    simulator.add_message(SIM_USER_ID, DEMO_CHAT, READ_MESSAGE, "Можно посмотреть сегодня?")
    simulator.add_voice_message(SIM_USER_ID, DEMO_CHAT, "voice-message-1", VOICE_ID)
    simulator.add_chat(SIM_USER_ID, "a2u-events-support", chat_type="a2u", client_name="Avito")
    simulator.add_review(SIM_USER_ID, 2, "Долго ждал ответа", review_id=REVIEW_ID, sender_name="Игорь")
    simulator.add_call(SIM_USER_ID, "79161234567", call_id=CALL_ID, call_time=1795600000, record=b"ID3 sample audio")


def reset_own_message(simulator: AvitoSimulator) -> None:
    """The account's own recent message at the simulator again (messenger_delete_message deletes it)."""
    chat = simulator.account(SIM_USER_ID).chats[DEMO_CHAT]
    chat.messages = [m for m in chat.messages if m.message_id != OWN_MESSAGE]
    simulator.add_message(SIM_USER_ID, DEMO_CHAT, OWN_MESSAGE, "Да, можно после шести.", direction="out")


@dataclass
class World:
    account_id: str
    webhook_token: str
    user_id: str = ""
    jwt: str = ""  # the WebSocket sample's token; default: one signed with the tests' key
    # the WebSocket samples' connection: scripts/sam_local_check.py opens a real one on the local stack
    connection_id: str = SAMPLE_CONNECTION

    def load(self, path: Path) -> dict[str, Any]:
        text = path.read_text(encoding="utf-8")
        text = text.replace(PLACEHOLDER_ACCOUNT, self.account_id).replace(PLACEHOLDER_WEBHOOK_TOKEN, self.webhook_token)
        text = text.replace(PLACEHOLDER_USER, self.user_id).replace(SAMPLE_CONNECTION, self.connection_id)
        jwt = self.jwt or mint(JWT_TEST_KEY, sub="operator@example.com", role="operator")
        text = text.replace(PLACEHOLDER_JWT, jwt)
        return json.loads(text)


@pytest.fixture
def world(sim: AvitoSimulator, aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    monkeypatch.setenv("AVITO_API_URL", sim.base_url)
    monkeypatch.setenv("WEBHOOK_BASE_URL", "https://hooks.example.test")
    monkeypatch.setenv("AVITO_READ_TIMEOUT", "2")
    reset_caches()
    store_module.chat_store.cache_clear()
    for url in sim.subscriptions(SIM_USER_ID):  # subscriptions at the simulator outlive a test's moto
        sim.account(SIM_USER_ID).subscriptions.remove(url)
    reset_own_message(sim)
    account = accounts_service.create_account(
        AccountCreate(name="Events shop", clientId=SIM_CLIENT_ID, clientSecret=SIM_CLIENT_SECRET)
    )
    # what the stored-chat samples read: the chats and messages as the live endpoints store them
    messenger.list_chats(account.id, limit=50, offset=0, unread_only=False)
    for chat_id in (DEMO_CHAT, STORED_CHAT):
        messenger.list_messages(account.id, chat_id, limit=50, offset=0)
    # the connection the WebSocket samples ($default, the fan-out) talk to
    connections.open_connection(
        SAMPLE_CONNECTION, Identity(sub="operator@example.com", role="operator", exp=4_000_000_000)
    )
    seed_answering(account.id)
    # the users_* and auth_* samples: the pool's first admin and an invited operator
    users_service.ensure_first_admin(SAMPLE_ADMIN, SAMPLE_ADMIN_PASSWORD)
    invited = users_service.create_user(UserCreate(email="ira@example.com", name="Ира", role="operator"))
    yield World(account.id, tokens.issue_token(account.id), invited.id)
    store_module.chat_store.cache_clear()


def seed_answering(account_id: str) -> None:
    """What the answering samples (issue 26) read: the sample operator's quick reply, the stored chats indexed."""
    backfill.index_account(account_id, None, float("inf"), lambda key: None)
    now = "2026-11-27T10:00:00.000Z"
    item = {"id": SAMPLE_TEMPLATE, "title": "Цена", "text": "{client_name}, {item_title}: {item_price}"}
    template_store().create(
        {**item, "shared": False, "ownerId": SAMPLE_OPERATOR, "createdAt": now, "updatedAt": now}, SAMPLE_OPERATOR, 200
    )


# --- expectations per handler module -------------------------------------------------------------------------

Check = Callable[[str, int, Any, World], None]


def envelope(status: int, body: Any, statuses: set[int]) -> Any:
    assert status in statuses, body
    assert isinstance(body, dict) and body.get("success") is True, body
    return body["data"]


def expect(statuses: set[int], check: Callable[[Any, World], None] | None = None) -> Check:
    def run(name: str, status: int, body: Any, world: World) -> None:
        data = envelope(status, body, statuses)
        if check:
            check(data, world)

    return run


def _ids(data: Any) -> list[str]:
    assert isinstance(data, list), data
    return [entry["id"] for entry in data]


def _no_secrets(data: dict[str, Any]) -> None:
    assert "clientSecret" not in data and "proxyPassword" not in data, data


def _created(data: Any, world: World) -> None:
    _no_secrets(data)
    assert data["hasClientSecret"] is True and data["hasProxyPassword"] is True and data["version"] >= 1
    assert data["proxyType"] == "socks5" and data["proxyStatus"] == "unknown"


def _docs(name: str, status: int, body: Any, world: World) -> None:
    assert status == 200
    if name.startswith("docs_openapi"):
        assert body["openapi"].startswith("3.") and "/api/v1/accounts" in body["paths"]
    else:
        assert isinstance(body, str) and "swagger" in body.lower()


def _webhook(name: str, status: int, body: Any, world: World) -> None:
    if "bad_token" in name:
        assert status == 401 and body["success"] is False and body["error"]["code"] == "invalid_webhook_token"
    else:
        assert status == 200 and body["ok"] is True, body


def _console(name: str, status: int, body: Any, world: World) -> None:
    assert status == 200, body
    if name.endswith("config"):
        assert set(body) == {"websocketUrl", "version"}, body
    elif name.endswith("index"):
        assert '<script type="module" src="js/app.js">' in body
    else:
        assert "import" in body and "<html" not in body


def _job_not_found(name: str, status: int, body: Any, world: World) -> None:
    """The sample's job id is not one this test created: a clean 404 in the contract's shape."""
    assert status == 404 and body["success"] is False and body["error"]["code"] == "not_found", body


def _ws_connect(name: str, status: int, body: Any, world: World) -> None:
    assert status == 200, body
    stored = list(connections.open_connections())
    expected = [(world.connection_id, "operator@example.com", "operator")]
    assert [(c.connection_id, c.sub, c.role) for c in stored] == expected


def _ws_default(name: str, status: int, body: Any, world: World) -> None:
    assert status == 200
    if name.endswith("ping"):
        assert body == {"event": "pong", "data": {}}
    else:
        assert body == {"event": "subscribed", "data": {"accountIds": [world.account_id]}}, body
        [connection] = connections.open_connections()
        assert connection.account_ids == {world.account_id}


def _refused(code: str) -> Check:
    """Samples that carry what only a live sign-in has (a session, a refresh token): the contract's 401."""

    def check(name: str, status: int, body: Any, world: World) -> None:
        assert status == 401 and body["error"]["code"] == code, (name, status, body)

    return check


def _generic(name: str, status: int, body: Any, world: World) -> None:
    """Functions whose samples others maintain (eternal online...): a 2xx contract envelope."""
    envelope(status, body, {200, 201})


def _state_refused(name: str, status: int, body: Any, world: World) -> None:
    """The callback's sample carries a state the service never issued: the small page saying so, 400."""
    assert status == 400 and isinstance(body, str) and "<html" in body, (name, status, body)


def _no_partner_app(name: str, status: int, body: Any, world: World) -> None:
    """The tests run without a partner app (no AvitoAppClientId): a connect link is the contract's 409."""
    assert status == 409 and body["error"]["code"] == "oauth_not_configured", (name, status, body)


EXPECTED: dict[str, Check] = {
    "oauth_callback": _state_refused,
    "oauth_connect_link": _no_partner_app,
    "accounts_backfill": expect(
        {202}, lambda d, w: (d["kind"], d["status"]) == ("backfill", "queued") or pytest.fail(str(d))
    ),
    "accounts_routing": expect({200}, lambda d, w: d["waitAlertMinutes"] == [5, 15, 30] or pytest.fail(str(d))),
    "chats_workflow": expect({200}, lambda d, w: d["status"] == "open" or pytest.fail(str(d))),
    "auth_new_password": _refused("invalid_session"),
    "auth_refresh": _refused("invalid_refresh_token"),
    "health": expect({200}, lambda d, w: (d["status"] == "ok" and d["version"]) or pytest.fail(str(d))),
    "docs": _docs,
    "console_site": _console,
    "accounts_list": expect({200}, lambda d, w: w.account_id in _ids(d) or pytest.fail(str(d))),
    "accounts_get": expect({200}, lambda d, w: (_no_secrets(d), d["id"] == w.account_id or pytest.fail(str(d)))),
    "accounts_create": expect({201}, _created),
    "accounts_update": expect(
        {200}, lambda d, w: (_no_secrets(d), d["onlineKeepAliveInterval"] == 600 or pytest.fail(str(d)))
    ),
    "accounts_delete": expect({200}, lambda d, w: d == {"id": w.account_id, "deleted": True} or pytest.fail(str(d))),
    "accounts_check_connection": expect(
        {200},
        lambda d, w: (
            (d["ok"], d["connectionStatus"], d["userId"]) == (True, "connected", str(SIM_USER_ID))
            or pytest.fail(str(d))
        ),
    ),
    "accounts_sync_stats": expect({200}, lambda d, w: d["balanceReal"] == 1250 or pytest.fail(str(d))),
    "accounts_stats_history": expect({200}, lambda d, w: isinstance(d, list) or pytest.fail(str(d))),
    "accounts_webhook_get": expect({200}, lambda d, w: d["subscribed"] is False or pytest.fail(str(d))),
    "accounts_webhook_subscribe": expect({200}, lambda d, w: d["subscribed"] is True or pytest.fail(str(d))),
    "accounts_webhook_unsubscribe": expect({200}, lambda d, w: d["subscribed"] is False or pytest.fail(str(d))),
    "chats_list": expect({200}, lambda d, w: isinstance(d, list) or pytest.fail(str(d))),
    "chats_get": expect(
        {200}, lambda d, w: (d["id"] == STORED_CHAT and d["accountId"] == w.account_id) or pytest.fail(str(d))
    ),
    "chats_messages": expect({200}, lambda d, w: len(d) >= 1 or pytest.fail(str(d))),
    "webhook_receiver": _webhook,
    "ws_connect": _ws_connect,
    "ws_default": _ws_default,
    "ws_disconnect": lambda name, status, body, world: (
        (status == 200 and not list(connections.open_connections())) or pytest.fail("connection kept")
    ),
    "messenger_chats": expect({200}, lambda d, w: {DEMO_CHAT, STORED_CHAT} <= set(_ids(d)) or pytest.fail(str(d))),
    "messenger_messages": expect({200}, lambda d, w: READ_MESSAGE in _ids(d) or pytest.fail(str(d))),
    "messenger_send": expect(
        {200, 201}, lambda d, w: (d["direction"], d["chatId"]) == ("out", DEMO_CHAT) or pytest.fail(str(d))
    ),
    "messenger_read": expect({200}),
    "accounts_check_all": expect(
        {202}, lambda d, w: (d["kind"], d["status"]) == ("check-all-connections", "queued") or pytest.fail(str(d))
    ),
    "accounts_sync_all": expect({202}, lambda d, w: d["kind"] == "sync-all-stats" or pytest.fail(str(d))),
    "jobs_get": _job_not_found,
    "messenger_online": expect({200}, lambda d, w: (d["ok"] is True and d["at"]) or pytest.fail(str(d))),
    "messenger_chat_get": expect(
        {200}, lambda d, w: (d["id"], d["accountId"]) == (DEMO_CHAT, w.account_id) or pytest.fail(str(d))
    ),
    "messenger_images": expect(
        {200},
        lambda d, w: (
            ((d["type"], d["direction"], d["chatId"]) == ("image", "out", DEMO_CHAT) and d["content"]["image"]["sizes"])
            or pytest.fail(str(d))
        ),
    ),
    "messenger_voice_files": expect(
        {200}, lambda d, w: (list(d) == [VOICE_ID] and d[VOICE_ID].startswith("http")) or pytest.fail(str(d))
    ),
    "messenger_delete_message": expect(
        {200}, lambda d, w: (d["id"], d["type"]) == (OWN_MESSAGE, "deleted") or pytest.fail(str(d))
    ),
    "reviews_rating": expect(
        {200}, lambda d, w: (d["isEnabled"], d["reviewsCount"]) == (True, 1) or pytest.fail(str(d))
    ),
    "reviews_list": expect({200}, lambda d, w: _ids(d) == [str(REVIEW_ID)] or pytest.fail(str(d))),
    "reviews_answer": expect(
        {200}, lambda d, w: (("status" in d and d["status"] == "moderation") or d.get("deleted")) or pytest.fail(str(d))
    ),
    "calls_list": expect({200}, lambda d, w: _ids(d) == [str(CALL_ID)] or pytest.fail(str(d))),
    "calls_record": expect({200}, lambda d, w: d["url"].startswith("/api/v1/recordings/") or pytest.fail(str(d))),
    "recordings_get": lambda name, status, body, world: (
        (status == 403 and body["error"]["code"] == "link_expired") or pytest.fail(str(body))
    ),
    "templates_list": expect({200}, lambda d, w: [t["id"] for t in d] == [SAMPLE_TEMPLATE] or pytest.fail(str(d))),
    "templates_create": expect(
        {201}, lambda d, w: (d["ownerId"], d["shared"]) == (SAMPLE_OPERATOR, False) or pytest.fail(str(d))
    ),
    "templates_update": expect({200}, lambda d, w: "добрый день" in d["text"] or pytest.fail(str(d))),
    "templates_delete": expect(
        {200}, lambda d, w: d == {"id": SAMPLE_TEMPLATE, "deleted": True} or pytest.fail(str(d))
    ),
    "templates_render": expect(
        {200}, lambda d, w: d == {"text": "Анна, Диван угловой: 1 000 ₽"} or pytest.fail(str(d))
    ),
    "search_chats": expect(
        {200},
        lambda d, w: (
            {(r["chatId"], r["matched"], r["accountId"]) for r in d}
            == {(DEMO_CHAT, "item", w.account_id), (STORED_CHAT, "item", w.account_id)}
            or pytest.fail(str(d))
        ),
    ),
    "chats_client": expect(
        {200},
        lambda d, w: (
            (d["clientName"], d["clientUserId"], d["item"]["title"], d["item"]["price"])
            == ("Анна", "987654321", "Диван угловой", "1 000 ₽")
            or pytest.fail(str(d))
        ),
    ),
    "search_reindex": expect(
        {202}, lambda d, w: (d["kind"], d["status"]) == ("search-index", "queued") or pytest.fail(str(d))
    ),
    "messenger_blacklist": expect({200}, lambda d, w: (d["ok"], d["reason"]) == (True, "spam") or pytest.fail(str(d))),
}


def _chats_of_types(name: str, status: int, body: Any, world: World) -> None:
    data = envelope(status, body, {200})
    wanted = {DEMO_CHAT, STORED_CHAT, "a2u-events-support"} if name.endswith("a2u") else {DEMO_CHAT, STORED_CHAT}
    assert set(_ids(data)) == wanted, data


EXPECTED["messenger_chats"] = _chats_of_types


def posted_to(connection_id: str) -> str:
    """What the fan-out posted to a connection through moto's API Gateway management API."""
    from moto.apigatewaymanagementapi.models import apigatewaymanagementapi_backends

    backend = apigatewaymanagementapi_backends["123456789012"]["us-east-1"]
    # moto keys connections by the id as it appears in the request path (URL-encoded)
    return "".join(c.data.decode() for key, c in backend.connections.items() if unquote(key) == connection_id)


def invoke(module_name: str, event: dict[str, Any]) -> Any:
    module = importlib.import_module(module_name)
    return module.lambda_handler(event, FakeContext())


def parse(result: Any) -> tuple[int, Any]:
    body = result.get("body")
    try:
        return result["statusCode"], json.loads(body) if body else None
    except ValueError:
        return result["statusCode"], body


# --- the test -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("logical_id", FUNCTIONS)
def test_sample_events_of_every_function(logical_id: str, world: World) -> None:
    module = handler_module(logical_id)
    files = event_files(module)
    assert files, f"{logical_id} ({module}) has no sample event: add events/{module}.json"
    for path in files:
        event = world.load(path)
        if module == "authorizer":
            event["authorizationToken"] = "Bearer " + mint(JWT_TEST_KEY, sub="admin@example.com", role="admin")
            answer = invoke(module, event)
            assert answer["principalId"] == "admin@example.com", answer
            assert answer["policyDocument"]["Statement"][0]["Effect"] == "Allow"
            assert answer["context"]["role"] == "admin"
            continue
        result = invoke(module, event)
        if module == "ws_fanout":
            assert result == {"batchItemFailures": []}, result
            posted = posted_to(SAMPLE_CONNECTION)
            assert '"event":"avito-new-message"' in posted and '"event":"avito-chat-updated"' in posted, posted
            assert '"event":"avito-notification"' in posted and world.account_id in posted, posted
            continue
        if module == "search_indexer":
            assert result == {"batchItemFailures": []}, result
            hits = search_index().lookup(world.account_id, "79123456789", 10)
            assert [(h.chat_id, h.phone) for h in hits] == [(STORED_CHAT, True)], hits
            continue
        if module == "reports_figures":
            assert result == {"batchItemFailures": []}, result
            tally = report_store().get_tally(world.account_id, STORED_CHAT) or {}
            assert (tally.get("messagesIn"), tally.get("awaitingSince")) == (1, "2026-12-02T09:14:00.000Z"), tally
            continue
        if not (isinstance(result, dict) and "statusCode" in result):
            # scheduled / queue functions: they finished without raising; a Lambda error payload is a failure
            assert not (isinstance(result, dict) and "errorType" in result), result
            continue
        status, body = parse(result)
        check = EXPECTED.get(module, _generic)
        check(path.stem, status, body, world)
        text = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
        assert SIM_CLIENT_SECRET not in text and "sample-proxy-password" not in text, path.name


def test_samples_use_the_templates_routes() -> None:
    """Each API sample's resource and method is an Api event of its own function."""
    for logical_id in FUNCTIONS:
        properties = TEMPLATE.function_properties(logical_id)
        routes = {
            (event["Properties"]["Path"], event["Properties"]["Method"].upper())
            for event in (properties.get("Events") or {}).values()
            if event.get("Type") == "Api"
        }
        for path in event_files(handler_module(logical_id)):
            event = json.loads(path.read_text(encoding="utf-8"))
            if "httpMethod" in event:
                assert (event["resource"], event["httpMethod"]) in routes, path.name
                assert event["requestContext"]["resourcePath"] == event["resource"], path.name
                for name, value in (event.get("pathParameters") or {}).items():
                    placeholders = ("{" + name + "}", "{" + name + "+}")
                    assert any(p in event["resource"] for p in placeholders) and value in event["path"], path.name


def test_every_stream_record_the_samples_world_writes_is_one_the_fan_out_reads(world: World) -> None:
    """The chats a live listing stores are created by UpdateItem: DynamoDB writes one INSERT with the whole chat.
    moto wrote a first INSERT of the bare key too, which the fan-out logged as "an unreadable chat" (195 times in
    one complete `make sam-local-check`); local_runtime/moto_streams.py keeps it out, so every record here reads."""
    from avito_service.config import get_settings
    from avito_service.live.frames import frames_for
    from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBStreamEvent

    from tests.support.streams import TableStream

    records = DynamoDBStreamEvent(TableStream(get_settings().messenger_table).new_event()).records
    chats = [r for r in records if r.dynamodb and (r.dynamodb.new_image or {}).get("sk") == "CHAT"]
    inserted = [r.dynamodb.new_image for r in chats if r.event_name and r.event_name.name == "INSERT"]
    assert sorted(image["chatId"] for image in inserted) == sorted({image["chatId"] for image in inserted})
    assert {DEMO_CHAT, STORED_CHAT} <= {image["chatId"] for image in inserted}  # once each, with their fields
    for record in records:
        stream = record.dynamodb
        assert stream is not None and record.event_name is not None
        frames_for(record.event_name.name, stream.old_image or None, stream.new_image or None)  # raises if unreadable
