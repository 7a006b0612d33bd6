"""Quick replies: who sees and changes which template, the limits, and rendering every placeholder for a chat."""

from __future__ import annotations

import json
from typing import Any

import pytest
import templates_create
import templates_delete
import templates_list
import templates_render
import templates_update
from avito_service.messenger.store import chat_store
from avito_service.templates import service
from avito_service.templates.models import PERSONAL_MAX

from tests.support.accounts import create_account
from tests.support.events import FakeContext, api_event, call

USER_ID = "123456789"
T0 = 1_795_773_000


def create(body: dict[str, Any], *, role: str = "operator", sub: str = "op-1") -> tuple[int, dict[str, Any]]:
    return call(templates_create, "POST", "/api/v1/templates", body=body, role=role, sub=sub)


def listing(sub: str = "op-1", role: str = "operator", **query: str) -> tuple[int, dict[str, Any]]:
    return call(templates_list, "GET", "/api/v1/templates", role=role, sub=sub, query=query or None)


def update(template_id: str, body: dict[str, Any], *, role: str = "operator", sub: str = "op-1") -> Any:
    return call(
        templates_update,
        "PUT",
        f"/api/v1/templates/{template_id}",
        resource="/api/v1/templates/{id}",
        path_parameters={"id": template_id},
        body=body,
        role=role,
        sub=sub,
    )


def delete(template_id: str, *, role: str = "operator", sub: str = "op-1") -> Any:
    return call(
        templates_delete,
        "DELETE",
        f"/api/v1/templates/{template_id}",
        resource="/api/v1/templates/{id}",
        path_parameters={"id": template_id},
        role=role,
        sub=sub,
    )


def render(template_id: str, account_id: str, chat_id: str, *, sub: str = "op-1", role: str = "operator") -> Any:
    return call(
        templates_render,
        "POST",
        f"/api/v1/templates/{template_id}/render",
        resource="/api/v1/templates/{id}/render",
        path_parameters={"id": template_id},
        query={"accountId": account_id, "chatId": chat_id},
        role=role,
        sub=sub,
    )


def test_personal_templates_belong_to_their_owner(aws_env: dict[str, str]) -> None:
    status, body = create({"title": "Привет", "text": "Здравствуйте, {client_name}!"})
    assert status == 201, body
    mine = body["data"]
    assert mine["shared"] is False and mine["ownerId"] == "op-1"
    assert [t["id"] for t in listing()[1]["data"]] == [mine["id"]]
    assert listing(sub="op-2")[1]["data"] == []  # another operator does not see it
    assert update(mine["id"], {"text": "x"}, sub="op-2")[0] == 404
    assert delete(mine["id"], sub="op-2")[0] == 404
    status, body = update(mine["id"], {"title": "Приветствие"})
    assert status == 200 and body["data"]["title"] == "Приветствие" and body["data"]["text"] == mine["text"]
    assert delete(mine["id"])[0] == 200
    assert delete(mine["id"])[0] == 404
    assert listing()[1]["data"] == []


def test_shared_templates_need_admin_or_director_to_change(aws_env: dict[str, str]) -> None:
    status, body = create({"title": "Общий", "text": "Да", "shared": True})
    assert status == 403 and body["error"]["code"] == "forbidden"
    status, body = create({"title": "Общий", "text": "Да", "shared": True}, role="director", sub="boss")
    assert status == 201 and body["data"]["ownerId"] is None
    shared_id = body["data"]["id"]
    create({"title": "мой", "text": "мой"})
    titles = [(t["title"], t["shared"]) for t in listing()[1]["data"]]
    assert titles == [("Общий", True), ("мой", False)]  # shared first, then the caller's own
    assert update(shared_id, {"text": "Нет"})[0] == 403
    assert delete(shared_id)[0] == 403
    status, body = update(shared_id, {"text": "Нет"}, role="admin", sub="root")
    assert status == 200 and body["data"]["text"] == "Нет"
    assert delete(shared_id, role="admin", sub="root")[0] == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": "", "text": "x"}, "title"),
        ({"title": "   ", "text": "x"}, "title"),
        ({"title": "t" * 101, "text": "x"}, "title"),
        ({"title": "t", "text": ""}, "text"),
        ({"title": "t", "text": "x" * 2001}, "text"),
        ({"title": "t", "text": "x", "colour": "red"}, "colour"),
    ],
)
def test_title_and_text_are_bounded(aws_env: dict[str, str], body: dict[str, Any], field: str) -> None:
    status, answer = create(body)
    assert status == 422 and answer["error"]["details"][0]["field"] == field, answer


def test_update_refuses_null_and_empty_changes(aws_env: dict[str, str]) -> None:
    template_id = create({"title": "t", "text": "x"})[1]["data"]["id"]
    status, body = update(template_id, {"title": None})
    assert status == 422 and body["error"]["details"][0]["field"] == "title"
    assert update(template_id, {})[0] == 422
    assert update(template_id, {"shared": True})[0] == 422


def test_personal_templates_are_limited_per_user(aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service, "PERSONAL_MAX", 3)
    for n in range(3):
        assert create({"title": f"t{n}", "text": "x"})[0] == 201
    status, body = create({"title": "one more", "text": "x"})
    assert status == 409 and body["error"]["code"] == "template_limit_reached", body
    assert create({"title": "other user", "text": "x"}, sub="op-2")[0] == 201  # the limit is per user
    first = listing()[1]["data"][0]["id"]
    assert delete(first)[0] == 200
    assert create({"title": "after a delete", "text": "x"})[0] == 201
    assert PERSONAL_MAX == 200


def test_listing_pages(aws_env: dict[str, str]) -> None:
    for n in range(5):
        create({"title": f"t{n}", "text": "x"})
    status, first = listing(limit="2")
    assert status == 200 and [t["title"] for t in first["data"]] == ["t0", "t1"] and first["nextCursor"]
    _, second = listing(limit="2", cursor=first["nextCursor"])
    _, third = listing(limit="2", cursor=second["nextCursor"])
    assert [t["title"] for t in second["data"] + third["data"]] == ["t2", "t3", "t4"]
    assert third["nextCursor"] is None
    assert listing(cursor="garbage")[0] == 422


# --- rendering ------------------------------------------------------------------------------------------------


def stored_chat(account_id: str, chat_id: str, *, price: str | None = "12 500 ₽", name: str | None = "Анна") -> None:
    item = {"id": 4012345678, "title": "Диван угловой", "url": "https://www.avito.ru/moskva/mebel/divan_4012345678"}
    if price is not None:
        item["price_string"] = price
    users = [{"id": int(USER_ID), "name": "Мебель"}]
    if name is not None:
        users.append({"id": 555, "name": name})
    chat_store().save_chats(
        account_id,
        USER_ID,
        [{"id": chat_id, "created": T0, "updated": T0, "context": {"type": "item", "value": item}, "users": users}],
    )


@pytest.mark.parametrize(
    ("placeholder", "expected"),
    [
        ("{client_name}", "Анна"),
        ("{item_title}", "Диван угловой"),
        ("{item_price}", "12 500 ₽"),
        ("{operator_name}", "Ольга"),
        ("{account_name}", "Мебель на Тверской"),
    ],
)
def test_every_placeholder_is_filled(aws_env: dict[str, str], placeholder: str, expected: str) -> None:
    account_id = create_account(name="Мебель на Тверской", userId=USER_ID)
    stored_chat(account_id, "u2i-chat-1")
    template_id = create({"title": "t", "text": f"<{placeholder}>"})[1]["data"]["id"]
    event = api_event(
        "POST",
        f"/api/v1/templates/{template_id}/render",
        resource="/api/v1/templates/{id}/render",
        path_parameters={"id": template_id},
        query={"accountId": account_id, "chatId": "u2i-chat-1"},
        role="operator",
        sub="op-1",
    )
    event["requestContext"]["authorizer"]["name"] = "Ольга"
    result = templates_render.lambda_handler(event, FakeContext())
    assert result["statusCode"] == 200, result
    assert json.loads(result["body"])["data"] == {"text": f"<{expected}>"}


def test_unknown_values_become_empty_strings(aws_env: dict[str, str]) -> None:
    account_id = create_account(name="Shop", userId=USER_ID)
    stored_chat(account_id, "u2i-chat-2", price=None, name=None)
    text = "Hi {client_name}, {item_price}. {operator_name}|{unknown}|{client_name"
    template_id = create({"title": "t", "text": text})[1]["data"]["id"]
    status, body = render(template_id, account_id, "u2i-chat-2")
    assert status == 200, body
    assert body["data"]["text"] == "Hi , . |{unknown}|{client_name"


def test_render_needs_a_visible_template_and_chat(aws_env: dict[str, str]) -> None:
    account_id = create_account(name="Shop", userId=USER_ID)
    stored_chat(account_id, "u2i-chat-3")
    template_id = create({"title": "t", "text": "{client_name}"})[1]["data"]["id"]
    assert render(template_id, account_id, "u2i-chat-3", sub="op-2")[0] == 404  # someone else's template
    status, body = render(template_id, account_id, "u2i-nope")
    assert status == 404 and body["error"]["code"] == "chat_not_found"
    status, body = render(template_id, account_id, "u2i-chat-3")
    assert status == 200 and body["data"]["text"] == "Анна"


def test_render_hides_accounts_outside_the_callers_scope(aws_env: dict[str, str]) -> None:
    account_id = create_account(name="Shop", userId=USER_ID)
    stored_chat(account_id, "u2i-chat-4")
    template_id = create({"title": "t", "text": "{client_name}"})[1]["data"]["id"]
    event = api_event(
        "POST",
        f"/api/v1/templates/{template_id}/render",
        resource="/api/v1/templates/{id}/render",
        path_parameters={"id": template_id},
        query={"accountId": account_id, "chatId": "u2i-chat-4"},
        role="operator",
        sub="op-1",
    )
    event["requestContext"]["authorizer"]["accountIds"] = '["some-other-account"]'
    assert templates_render.lambda_handler(event, FakeContext())["statusCode"] == 404
