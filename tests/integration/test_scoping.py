"""Object-level authorization, walked over every operation of openapi.json (so a new endpoint cannot forget it).

An operator assigned to account VISIBLE only (an HS256 token with ``accountIds``, through the real authorizer)
calls every operation about account HIDDEN, its chat and a job someone else started on it. Every answer must be
what an account that does not exist gets (404, or the 403 of a role that may not use the route at all), and no
answer, list or not, may mention HIDDEN or its chat. Lists must leave HIDDEN's objects out, and still show
VISIBLE's.
"""

from __future__ import annotations

import importlib
import json
import re
import time
from pathlib import Path
from typing import Any

import authorizer
import pytest
from avito_service.auth import mint
from avito_service.jobs import store as jobs_store
from avito_service.live import actions
from avito_service.live import store as connections
from avito_service.live.store import Connection
from avito_service.messenger.store import chat_store

from local_runtime.template import load_template
from tests.conftest import JWT_TEST_KEY
from tests.integration.test_stored_chats import USER_ID, avito_chat
from tests.support.accounts import create_account
from tests.support.events import FakeContext, api_event

ROOT = Path(__file__).resolve().parents[2]
OPENAPI = json.loads((ROOT / "openapi.json").read_text())
HIDDEN_CHAT, VISIBLE_CHAT, NO_CHAT = "u2i-hidden-chat", "u2i-visible-chat", "u2i-no-such-chat"
NO_ACCOUNT = "00000000-0000-4000-8000-00000000dead"
OTHER_JOB = "7d2a0c7e-0000-4000-8000-000000000042"
# Valid bodies for the routes that name the account only through the chat (the workflow, issue 25): an empty body
# would be refused (422) before the chat is looked up, which says nothing about the scope.
BODIES = {
    "/api/v1/chats/{chatId}/notes": {"text": "note"},
    "/api/v1/chats/{chatId}/transfer": {"userId": "op-elsewhere"},
    "/api/v1/chats/{chatId}/tags": {"tags": ["vip"]},
}


def _routes() -> dict[tuple[str, str], str]:
    """(OpenAPI path, method) -> handler module, from template.yaml's Api events."""
    template = load_template(ROOT / "template.yaml")
    routes = {}
    for logical_id in template.ids_of_type("AWS::Serverless::Function"):
        props = template.function_properties(logical_id)
        for event in (props.get("Events") or {}).values():
            if event.get("Type") == "Api" and str(event["Properties"]["Path"]).startswith("/api/v1/"):
                key = (event["Properties"]["Path"], event["Properties"]["Method"].lower())
                routes[key] = str(props["Handler"]).split(".")[0]
    return routes


ROUTES = _routes()
OPERATIONS = [
    (path, method)
    for path, item in OPENAPI["paths"].items()
    for method, operation in item.items()
    if method in {"get", "post", "put", "delete"} and "401" in operation.get("responses", {})
]


@pytest.fixture
def world(aws_env: dict[str, str]) -> dict[str, str]:
    visible = create_account(name="Visible", clientId="client-visible", userId=USER_ID)
    hidden = create_account(name="Hidden", clientId="client-hidden", userId=USER_ID)
    now = int(time.time())
    chat_store().save_chats(visible, USER_ID, [avito_chat(VISIBLE_CHAT, now)])
    chat_store().save_chats(hidden, USER_ID, [avito_chat(HIDDEN_CHAT, now + 1)])
    header = {"jobId": OTHER_JOB, "kind": "sync-stats", "status": "running", "total": 1, "done": 0, "failed": 0}
    header |= {"trigger": "api", "createdAt": "2026-12-07T00:00:00.000Z", "updatedAt": "2026-12-07T00:00:00.000Z"}
    jobs_store.job_store().create(OTHER_JOB, {**header, "startedBy": "someone-else"}, [{"accountId": hidden}])
    return {"visible": visible, "hidden": hidden}


def operator_context(visible: str) -> dict[str, Any]:
    token = mint(JWT_TEST_KEY, sub="op-elsewhere", role="operator", account_ids=[visible])
    event = {"type": "TOKEN", "authorizationToken": f"Bearer {token}", "methodArn": "arn:aws:execute-api:x:y:z/p/GET/"}
    answer = authorizer.lambda_handler(event, FakeContext())
    return {**answer["context"], "principalId": answer["principalId"]}


def invoke(path: str, method: str, params: dict[str, str], query: dict[str, str] | None, context: dict) -> tuple:
    module = importlib.import_module(ROUTES[(path, method)])
    concrete = path.format(**params)
    body = BODIES.get(path, {}) if method in {"post", "put"} else None
    event = api_event(method, concrete, resource=path, path_parameters=params or None, query=query, body=body)
    event["requestContext"]["authorizer"] = context
    result = module.lambda_handler(event, FakeContext())
    return result["statusCode"], result.get("body") or ""


def _params(path: str, account: str, chat: str) -> dict[str, str]:
    values = {"accountId": account, "chatId": chat, "messageId": "msg-1", "jobId": OTHER_JOB}
    values["id"] = account if path.startswith("/api/v1/accounts/") else "op-elsewhere-not-a-user"
    names = re.findall(r"\{(\w+)\}", path)
    return {name: values.get(name, f"{name}-1") for name in names}


def _leaks(body: str, hidden: str) -> bool:
    """Whether an answer shows anything of the hidden account (an error may echo the id the caller sent)."""
    if "client-hidden" in body or "Hidden" in body:
        return True
    answer = json.loads(body) if body else {}
    shown = json.dumps(answer.get("data")) if answer.get("success") else ""
    return hidden in shown or HIDDEN_CHAT in shown


def _names_account(path: str) -> bool:
    return "{accountId}" in path or path.startswith("/api/v1/accounts/{id}")


def test_every_operation_is_in_the_walk() -> None:
    assert len(OPERATIONS) > 40
    assert not [op for op in OPERATIONS if op not in ROUTES], "an operation without a template route"


@pytest.mark.parametrize(("path", "method"), OPERATIONS, ids=[f"{m.upper()} {p}" for p, m in OPERATIONS])
def test_an_operator_cannot_reach_an_unassigned_account(world: dict[str, str], path: str, method: str) -> None:
    hidden, visible = world["hidden"], world["visible"]
    context = operator_context(visible)
    status, body = invoke(path, method, _params(path, hidden, HIDDEN_CHAT), None, context)
    assert not _leaks(body, hidden), f"{method} {path} leaked the hidden account: {body[:300]}"
    if _names_account(path) or "{chatId}" in path or "{jobId}" in path:
        # exactly what a caller gets for an account / chat that does not exist
        assert status in (403, 404), (status, body)
        missing = invoke(path, method, _params(path, NO_ACCOUNT, NO_CHAT), None, context)
        assert (status, json.loads(body)["error"]["code"]) == (missing[0], json.loads(missing[1])["error"]["code"])
    else:
        assert status in (200, 403, 404, 422), (status, body)
    role_refused = status == 403  # a route operators may not use at all (the reports) is a 403 whatever it names
    operation = OPENAPI["paths"][path][method]
    if any(p["name"] == "accountId" and p["in"] == "query" for p in operation.get("parameters", [])):
        status, body = invoke(path, method, _params(path, visible, VISIBLE_CHAT), {"accountId": hidden}, context)
        assert status == (403 if role_refused else 404) and not _leaks(body, hidden), (status, body)


def test_lists_leave_unassigned_accounts_out_and_keep_assigned_ones(world: dict[str, str]) -> None:
    context = operator_context(world["visible"])
    status, body = invoke("/api/v1/accounts", "get", {}, None, context)
    assert status == 200 and [a["id"] for a in json.loads(body)["data"]] == [world["visible"]]
    status, body = invoke("/api/v1/chats", "get", {}, None, context)
    assert status == 200 and [c["id"] for c in json.loads(body)["data"]] == [VISIBLE_CHAT]
    status, body = invoke("/api/v1/chats", "get", {}, {"unreadOnly": "true"}, context)
    assert status == 200 and HIDDEN_CHAT not in body
    status, body = invoke("/api/v1/chats/{chatId}", "get", {"chatId": VISIBLE_CHAT}, None, context)
    assert status == 200 and json.loads(body)["data"]["accountId"] == world["visible"]


def test_admins_and_directors_see_every_account(world: dict[str, str]) -> None:
    for role in ("admin", "director"):
        token = mint(JWT_TEST_KEY, sub=role, role=role, account_ids=[world["visible"]])  # ignored for them
        event = {"type": "TOKEN", "authorizationToken": f"Bearer {token}", "methodArn": "arn:aws:execute-api:x"}
        answer = authorizer.lambda_handler(event, FakeContext())
        context = {**answer["context"], "principalId": role}
        status, body = invoke("/api/v1/accounts", "get", {}, None, context)
        assert {a["id"] for a in json.loads(body)["data"]} == {world["visible"], world["hidden"]}
        status, body = invoke("/api/v1/jobs/{jobId}", "get", {"jobId": OTHER_JOB}, None, context)
        assert status == 200
        days = {"from": "2026-12-01", "to": "2026-12-07"}
        status, body = invoke("/api/v1/reports/summary", "get", {}, days, context)
        assert status == 200, body
        assert {a["accountId"] for a in json.loads(body)["data"]["byAccount"]} == {world["visible"], world["hidden"]}


def test_websocket_frames_and_subscriptions_stop_at_the_operators_accounts(world: dict[str, str]) -> None:
    from avito_service.auth import Identity

    operator = Identity("op-elsewhere", "operator", 4_000_000_000, account_ids=frozenset({world["visible"]}))
    connections.open_connection("conn-op=", operator)
    connections.open_connection("conn-admin=", Identity("boss", "admin", 4_000_000_000))
    stored = {c.connection_id: c for c in connections.open_connections()}
    assert stored["conn-op="].wants(world["visible"]) and not stored["conn-op="].wants(world["hidden"])
    assert stored["conn-admin="].wants(world["hidden"])
    frame = actions.handle("conn-op=", json.dumps({"action": "subscribe", "accountIds": [world["hidden"]]}))
    assert frame["event"] == "error" and frame["data"]["code"] == "account_not_found"
    frame = actions.handle("conn-op=", json.dumps({"action": "subscribe", "accountIds": None}))
    assert frame["event"] == "subscribed"  # every account it may see: still not the hidden one
    again = {c.connection_id: c for c in connections.open_connections()}["conn-op="]
    assert isinstance(again, Connection) and not again.wants(world["hidden"])
