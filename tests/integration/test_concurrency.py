"""Concurrency (issue #9): racing account updates and a storm of duplicate webhook deliveries, in-process.

Each request goes through the real handler (``functions/*.py`` ``lambda_handler``) from its own thread, against
moto with the template's tables (``aws_env`` serializes moto's writes so they are atomic like DynamoDB's).

Lambda runs one invocation at a time per container; concurrency happens between containers, meeting in
DynamoDB. Powertools' resolvers keep the request being handled in shared state (``BaseRouter.current_event``
is a class attribute, ``app.context`` an instance dict), so threads of one process would read each other's
events. ``per_thread_resolver`` gives every thread its own copy of that state: each thread is a container of
its own, the rest of the code path is unchanged.

Cases that live elsewhere: ``test_accounts.py`` (10 PUTs with one version, 4 PUTs of different fields),
``test_webhook.py`` (20 concurrent copies of one delivery), ``test_avito_client.py`` (one Avito token for
6 concurrent "containers").
"""

from __future__ import annotations

import json
import os
import random
import threading
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import accounts_get
import accounts_update
import boto3
import pytest
import webhook_receiver
from avito_service.accounts import service as accounts_service
from avito_service.accounts import vault
from avito_service.accounts.models import AccountCreate
from avito_service.messenger import store as store_module
from avito_service.webhooks import tokens

from avito_sim.deliveries import delivery, message_value
from tests.integration.test_webhook import url_event  # Function URL events shaped like events/webhook_*.json
from tests.support.events import FakeContext, call_route

# The 1,000 deliveries. Stock moto deep-copies the whole table for every transaction (quadratic: 60 s);
# conftest installs local_runtime/moto_fast_tx.py, which makes this ~15 s. STRESS_DELIVERIES overrides the count.
DELIVERIES = int(os.environ.get("STRESS_DELIVERIES", "1000"))
DUPLICATE_SHARE = 0.30
THREADS = 8
USER_ID = "424242"
BUYER_BASE = 7_000_000


@pytest.fixture
def per_thread_resolver(monkeypatch: pytest.MonkeyPatch) -> Callable[[Any], None]:
    """Give a handler module's resolver per-thread request state (see the module docstring)."""
    def install(module: Any) -> None:
        app = module.app
        local = threading.local()

        class PerThread(type(app)):  # type: ignore[misc]
            @property
            def current_event(self) -> Any:
                return local.event

            @current_event.setter
            def current_event(self, value: Any) -> None:
                local.event = value

            @property
            def lambda_context(self) -> Any:
                return local.lambda_context

            @lambda_context.setter
            def lambda_context(self, value: Any) -> None:
                local.lambda_context = value

            @property
            def context(self) -> dict[str, Any]:
                if not hasattr(local, "route_context"):
                    local.route_context = {}
                return local.route_context

            @context.setter
            def context(self, value: dict[str, Any]) -> None:
                local.route_context = value

            def resolve(self, event: Any, context: Any) -> dict[str, Any]:
                local.event, local.lambda_context = self._to_proxy_event(event), context
                return super().resolve(event, context)

        monkeypatch.setattr(app, "__class__", PerThread)

    return install


def run_together(jobs: list[Callable[[], Any]], threads: int | None = None) -> list[Any]:
    """Run the jobs from ``threads`` threads (default: one each), all starting at once; results in job order."""
    workers = threads or len(jobs)
    start = threading.Barrier(workers)

    def worker_start() -> None:
        start.wait(timeout=30)

    with ThreadPoolExecutor(workers, initializer=worker_start) as pool:
        return list(pool.map(lambda job: job(), jobs))


# --- accounts ------------------------------------------------------------------------------------------------


def put(account_id: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    return call_route(accounts_update, "PUT", "/api/v1/accounts/{id}", {"id": account_id}, body=body)


def get(account_id: str) -> dict[str, Any]:
    status, body = call_route(accounts_get, "GET", "/api/v1/accounts/{id}", {"id": account_id})
    assert status == 200, body
    return body["data"]


def secrets_in_use(account_id: str) -> tuple[str, str | None]:
    """The client secret and proxy password the service will use for the account (read afresh, no cache)."""
    vault.clear_cache()
    context = accounts_service.load_context(account_id)
    password = context.proxy.password if context.proxy else None
    return context.clientSecret.get_secret_value(), password.get_secret_value() if password else None


@pytest.fixture
def account_id(aws_env: dict[str, str], per_thread_resolver: Callable[[Any], None]) -> str:
    per_thread_resolver(accounts_update)
    body = {
        "name": "Race shop",
        "clientId": "race-client",
        "clientSecret": "cs-original",
        "proxyType": "http",
        "proxyHost": "proxy.example",
        "proxyPort": 3128,
        "proxyLogin": "race-user",
        "proxyPassword": "pp-original",
    }
    created = accounts_service.create_account(AccountCreate(**body)).id
    assert put(created, {"name": "Race shop"})[0] == 200  # warm the handler up (version stays 1: no change)
    return created


def test_50_puts_with_one_version_one_wins(account_id: str) -> None:
    version = get(account_id)["version"]
    answers = run_together([lambda i=i: put(account_id, {"name": f"Name {i}", "version": version}) for i in range(50)])

    statuses = Counter(status for status, _ in answers)
    assert statuses == {200: 1, 409: 49}, statuses
    [winner] = [body["data"] for status, body in answers if status == 200]
    assert {body["error"]["code"] for status, body in answers if status == 409} == {"stale_version"}
    assert all(body["success"] is False and body["error"]["message"] for status, body in answers if status == 409)
    stored = get(account_id)
    assert stored["version"] == version + 1 and stored["name"] == winner["name"]


def test_50_secret_changes_with_one_version_leave_only_the_winners_secret(account_id: str) -> None:
    """A PUT that lost the race (409) must leave nothing behind, the stored client secret included."""
    version = get(account_id)["version"]
    answers = run_together(
        [lambda i=i: put(account_id, {"clientSecret": f"cs-racer-{i}", "version": version}) for i in range(50)]
    )

    winners = [i for i, (status, _) in enumerate(answers) if status == 200]
    assert len(winners) == 1 and Counter(s for s, _ in answers)[409] == 49
    assert get(account_id)["version"] == version + 1
    assert secrets_in_use(account_id) == (f"cs-racer-{winners[0]}", "pp-original")


def test_puts_of_different_fields_without_version_all_land(account_id: str) -> None:
    version = get(account_id)["version"]
    bodies = [
        {"name": "New name"},
        {"userId": "777"},
        {"onlineKeepAliveInterval": 900},
        {"eternalOnlineEnabled": True},
        {"clientId": "race-client-2"},
        {"proxyPort": 8080},
        {"proxyLogin": "new-user"},
        {"clientSecret": "cs-new"},
        {"proxyPassword": "pp-new"},
    ]
    answers = run_together([lambda b=b: put(account_id, b) for b in bodies])

    assert [status for status, _ in answers] == [200] * len(bodies), answers
    data = get(account_id)
    assert data["version"] == version + len(bodies)
    assert (data["name"], data["userId"], data["onlineKeepAliveInterval"], data["eternalOnlineEnabled"]) == (
        "New name",
        "777",
        900,
        True,
    )
    assert (data["clientId"], data["proxyPort"], data["proxyLogin"], data["proxyHost"]) == (
        "race-client-2",
        8080,
        "new-user",
        "proxy.example",
    )
    assert secrets_in_use(account_id) == ("cs-new", "pp-new")
    assert accounts_service.account_store().client_owner("race-client-2") == account_id
    assert accounts_service.account_store().client_owner("race-client") is None


# --- webhook deliveries --------------------------------------------------------------------------------------


def test_deliveries_with_duplicates_from_8_threads(
    aws_env: dict[str, str], per_thread_resolver: Callable[[Any], None]
) -> None:
    """DELIVERIES deliveries (30 % of them repeats) over 12 chats, shuffled, from 8 threads: every message is
    stored once, each chat's unreadCount is exact and its last message is the newest.

    The issue's 1,000 by default, see DELIVERIES above."""
    per_thread_resolver(webhook_receiver)
    account = accounts_service.create_account(
        AccountCreate(name="Busy shop", clientId="busy-client", clientSecret="s3cret", userId=USER_ID)
    )
    path = f"/{account.id}/{tokens.issue_token(account.id)}"
    rng = random.Random(9)  # a fixed shuffle
    unique = round(DELIVERIES * (1 - DUPLICATE_SHARE))
    messages = []
    for n in range(unique):
        chat = f"u2i-busy-{n % 12}"
        outgoing = n % 10 == 0  # some of Avito's echoes of our own sends: they do not count as unread
        author = int(USER_ID) if outgoing else BUYER_BASE + n % 12
        messages.append((f"msg-{n}", chat, author, 1_795_000_000 + n))
    deliveries = messages + [rng.choice(messages) for _ in range(DELIVERIES - unique)]
    rng.shuffle(deliveries)

    def deliver(message: tuple[str, str, int, int]) -> tuple[int, dict[str, Any]]:
        message_id, chat_id, author, created = message
        value = message_value(
            message_id,
            chat_id,
            user_id=int(USER_ID),
            author_id=author,
            created=created,
            text=f"text of {message_id}",
            item_id=4_000_000,
        )
        body = delivery(value, delivery_id=f"delivery-{uuid.uuid4()}", timestamp=created + 1)
        result = webhook_receiver.lambda_handler(url_event(path, json.dumps(body)), FakeContext())
        return result["statusCode"], json.loads(result["body"])

    assert deliver(messages[0]) == (200, {"ok": True, "duplicate": False})  # warm up; its repeats are duplicates
    answers = run_together([lambda m=m: deliver(m) for m in deliveries], threads=THREADS)

    assert Counter(status for status, _ in answers) == {200: DELIVERIES}
    new = sum(1 for _, body in answers if body["duplicate"] is False)
    assert new == unique - 1  # each message stored by exactly one delivery (the first was the warm-up's)

    table = boto3.resource("dynamodb").Table(store_module.chat_store().table_name)
    items = _scan(table)
    stored = [i for i in items if i["sk"].startswith(store_module.MESSAGE_PREFIX)]
    assert len(stored) == unique
    assert Counter(i["id"] for i in stored) == Counter(m[0] for m in messages)
    chats = {i["id"]: i for i in items if i["sk"] == store_module.CHAT_SK}
    for chat_id in {m[1] for m in messages}:
        in_chat = [m for m in messages if m[1] == chat_id]
        unread = sum(1 for m in in_chat if m[2] != int(USER_ID))
        assert int(chats[chat_id]["unreadCount"]) == unread, chat_id
        assert chats[chat_id]["lastMessage"]["id"] == max(in_chat, key=lambda m: m[3])[0]


def _scan(table: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    query: dict[str, Any] = {}
    while True:
        page = table.scan(**query)
        items.extend(page["Items"])
        if "LastEvaluatedKey" not in page:
            return items
        query["ExclusiveStartKey"] = page["LastEvaluatedKey"]
