"""The chat workflow (issue 25) against moto: messages drive the state machine through the one store every path
uses, the endpoints change it under a version (one winner for a claim), the inbox's filters read its indexes,
and the fan-out announces assignments."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import chats_list
import chats_workflow
import pytest
from avito_service.clock import iso
from avito_service.live.frames import frames_for
from avito_service.messenger import store as store_module
from avito_service.messenger.store import chat_store
from avito_service.users import store as users
from avito_service.workflow import store as workflow_store

from tests.integration.test_stored_chats import USER_ID, make_account
from tests.support.events import call, call_route

CHAT = "/api/v1/chats/{chatId}"
T0 = 1_796_200_000


@pytest.fixture(autouse=True)
def fresh_store() -> Iterator[None]:
    store_module.chat_store.cache_clear()
    yield
    store_module.chat_store.cache_clear()


@pytest.fixture
def account(aws_env: dict[str, str]) -> str:
    return make_account()


def deliver(account_id: str, chat_id: str, message_id: str, created: int, *, out: bool = False) -> bool:
    author = int(USER_ID) if out else 555
    value = {"id": message_id, "chat_id": chat_id, "author_id": author, "created": created, "type": "text"}
    return chat_store().record_delivery(account_id, USER_ID, {**value, "content": {"text": "Здравствуйте"}})


def act(action: str, chat_id: str, *, sub: str, role: str = "operator", method: str = "post", **kwargs: Any):
    return call_route(chats_workflow, method, f"{CHAT}/{action}", {"chatId": chat_id}, role=role, sub=sub, **kwargs)


def item(account_id: str, chat_id: str) -> dict[str, Any]:
    found = workflow_store.get_chat_item(account_id, chat_id)
    assert found is not None
    return found


def add_user(user_id: str, role: str, account_ids: list[str], *, enabled: bool = True) -> None:
    users.create(
        {
            "id": user_id,
            "email": f"{user_id}@example.com",
            "name": user_id.title(),
            "role": role,
            "accountIds": account_ids,
            "enabled": enabled,
            "createdAt": "2026-12-07T00:00:00.000Z",
        }
    )


# --- messages drive the machine -----------------------------------------------------------------------------


def test_an_incoming_delivery_makes_a_new_chat_that_needs_a_reply_and_a_repeat_changes_nothing(account: str) -> None:
    assert deliver(account, "u2i-w1", "m1", T0)
    first = item(account, "u2i-w1")
    assert (first["status"], first["awaitingReplySince"]) == ("new", iso(T0))
    assert not deliver(account, "u2i-w1", "m1", T0)  # the same delivery again
    again = item(account, "u2i-w1")
    assert again["wfVersion"] == first["wfVersion"] and again == first


def test_a_reply_from_avitos_app_clears_the_wait_and_sets_the_first_response(account: str) -> None:
    deliver(account, "u2i-w2", "m1", T0)
    deliver(account, "u2i-w2", "m2", T0 + 90, out=True)  # the account's own message, sent from Avito's app
    chat = chat_store().get_chat("u2i-w2")
    assert (chat.awaitingReplySince, chat.firstResponseAt) == (None, iso(T0 + 90))


def test_a_listing_of_history_sets_the_state_its_messages_say(account: str) -> None:
    raw = [
        {"id": "h1", "author_id": 555, "created": T0, "direction": "in", "type": "text", "content": {"text": "?"}},
        {"id": "h2", "author_id": int(USER_ID), "created": T0 + 60, "direction": "out", "type": "text"},
        {"id": "h3", "author_id": 555, "created": T0 + 120, "direction": "in", "type": "text", "content": {}},
    ]
    chat_store().save_messages(account, USER_ID, "u2i-w3", raw)
    chat = chat_store().get_chat("u2i-w3")
    assert (chat.awaitingReplySince, chat.firstResponseAt) == (iso(T0 + 120), iso(T0 + 60))
    chat_store().save_messages(account, USER_ID, "u2i-w3", raw)  # seen again: nothing stored, nothing changes
    assert chat_store().get_chat("u2i-w3") == chat


def test_an_incoming_message_to_a_closed_chat_makes_it_new_with_the_assignee_kept(account: str) -> None:
    deliver(account, "u2i-w4", "m1", T0)
    assert act("claim", "u2i-w4", sub="anna")[0] == 200
    assert act("close", "u2i-w4", sub="anna")[0] == 200
    deliver(account, "u2i-w4", "m2", 4_000_000_000)
    chat = chat_store().get_chat("u2i-w4")
    assert (chat.status, chat.assignee and chat.assignee.userId) == ("new", "anna")
    assert chat.awaitingReplySince is not None


# --- the endpoints --------------------------------------------------------------------------------------------


def test_claim_has_one_winner_and_the_loser_learns_who(account: str) -> None:
    deliver(account, "u2i-c1", "m1", T0)
    status, body = act("claim", "u2i-c1", sub="anna")
    assert status == 200 and body["data"]["status"] == "open" and body["data"]["assignee"]["userId"] == "anna"
    assert act("claim", "u2i-c1", sub="anna")[0] == 200  # one's own chat again
    status, body = act("claim", "u2i-c1", sub="boris")
    assert status == 409 and body["error"]["code"] == "chat_taken" and "anna" in body["error"]["message"]


def test_many_operators_claiming_the_same_chats_at_once_get_one_winner_each_time(account: str) -> None:
    chats = [f"u2i-race-{i}" for i in range(4)]
    for index, chat_id in enumerate(chats):
        deliver(account, chat_id, f"m{index}", T0 + index)
    outcomes: dict[str, list[tuple[str, int]]] = {c: [] for c in chats}
    lock = threading.Lock()
    start = threading.Barrier(8)

    def operator(n: int) -> None:
        start.wait()
        for chat_id in chats:
            status, _ = act("claim", chat_id, sub=f"op{n}")
            with lock:
                outcomes[chat_id].append((f"op{n}", status))

    threads = [threading.Thread(target=operator, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for chat_id, answers in outcomes.items():
        winners = [who for who, status in answers if status == 200]
        assert len(winners) == 1, (chat_id, answers)
        assert sorted(status for _, status in answers) == [200] + [409] * 7
        assert item(account, chat_id)["assignee"]["userId"] == winners[0]


def test_transfer_needs_the_assignee_and_a_target_who_may_see_the_account(account: str) -> None:
    deliver(account, "u2i-t1", "m1", T0)
    add_user("boris", "operator", [account])
    add_user("elsewhere", "operator", ["another-account"])
    add_user("gone", "operator", [account], enabled=False)
    act("claim", "u2i-t1", sub="anna")
    status, body = act("transfer", "u2i-t1", sub="boris", body={"userId": "boris"})
    assert status == 403  # not the assignee
    for target in ("elsewhere", "gone", "nobody"):
        status, body = act("transfer", "u2i-t1", sub="anna", body={"userId": target})
        assert status == 422 and body["error"]["details"][0]["field"] == "userId", target
    status, body = act("transfer", "u2i-t1", sub="anna", body={"userId": "boris"})
    assert status == 200 and body["data"]["assignee"] == {"userId": "boris", "name": "Boris"}


def test_release_close_reopen_and_no_reply_needed(account: str) -> None:
    deliver(account, "u2i-r1", "m1", T0)
    act("claim", "u2i-r1", sub="anna")
    assert act("release", "u2i-r1", sub="boris")[0] == 403
    status, body = act("release", "u2i-r1", sub="anna")
    assert (status, body["data"]["status"], body["data"]["assignee"]) == (200, "new", None)
    status, body = act("no-reply-needed", "u2i-r1", sub="anna")
    assert status == 200 and body["data"]["awaitingReplySince"] is None
    assert act("reopen", "u2i-r1", sub="anna")[1]["error"]["code"] == "chat_not_closed"
    status, body = act("close", "u2i-r1", sub="anna")
    assert (status, body["data"]["status"]) == (200, "closed")
    status, body = act("reopen", "u2i-r1", sub="boris")
    assert (status, body["data"]["status"], body["data"]["assignee"]["userId"]) == (200, "open", "boris")


def test_tags_and_notes(account: str) -> None:
    deliver(account, "u2i-n1", "m1", T0)
    status, body = act("tags", "u2i-n1", sub="anna", method="put", body={"tags": ["vip", "доставка", "vip"]})
    assert status == 200 and body["data"]["tags"] == ["vip", "доставка"]
    status, body = act("tags", "u2i-n1", sub="anna", method="put", body={"tags": ["x" * 33]})
    assert status == 422
    status, body = act("notes", "u2i-n1", sub="anna", body={"text": "перезвонить после 18:00"})
    assert status == 201 and body["data"]["author"]["userId"] == "anna"
    assert act("notes", "u2i-n1", sub="anna", body={"text": ""})[0] == 422
    status, body = act("notes", "u2i-n1", sub="boris", method="get")
    assert status == 200 and [n["text"] for n in body["data"]] == ["перезвонить после 18:00"]
    assert body["nextCursor"] is None


def test_bulk_close_is_for_directors_and_admins(account: str) -> None:
    for index in range(3):
        deliver(account, f"u2i-b{index}", f"m{index}", T0 + index)
    items = [{"accountId": account, "chatId": f"u2i-b{i}"} for i in range(3)]
    items.append({"accountId": account, "chatId": "u2i-missing"})
    status, _ = call(chats_workflow, "post", "/api/v1/chats/close", body={"items": items}, role="operator")
    assert status == 403
    status, body = call(chats_workflow, "post", "/api/v1/chats/close", body={"items": items}, role="director")
    assert status == 200 and [o["status"] for o in body["data"]] == ["closed"] * 3 + ["not_found"]
    assert {chat_store().get_chat(f"u2i-b{i}").status for i in range(3)} == {"closed"}


# --- the inbox's filters --------------------------------------------------------------------------------------


def listed(sub: str = "anna", **query: str) -> list[str]:
    status, body = call(chats_list, "get", "/api/v1/chats", query=query, role="operator", sub=sub)
    assert status == 200, body
    return [c["id"] for c in body["data"]]


def test_filters_status_assignee_awaiting_and_tag(account: str) -> None:
    deliver(account, "u2i-f-old", "m1", T0)  # waits longest
    deliver(account, "u2i-f-mid", "m2", T0 + 60)
    deliver(account, "u2i-f-new", "m3", T0 + 120)
    deliver(account, "u2i-f-answered", "m4", T0 + 30)
    deliver(account, "u2i-f-answered", "m5", T0 + 200, out=True)
    act("claim", "u2i-f-mid", sub="anna")
    act("tags", "u2i-f-new", sub="anna", method="put", body={"tags": ["vip"]})
    assert listed(awaitingReply="true") == ["u2i-f-old", "u2i-f-mid", "u2i-f-new"]  # longest waiting first
    assert listed(status="new") == ["u2i-f-answered", "u2i-f-new", "u2i-f-old"]  # newest activity first
    assert listed(assignee="me") == ["u2i-f-mid"]
    assert listed(assignee="me", sub="boris") == []
    assert listed(assignee="anna", sub="boris") == ["u2i-f-mid"]
    assert "u2i-f-mid" not in listed(assignee="none")
    assert listed(tag="vip") == ["u2i-f-new"]
    assert listed(awaitingReply="true", status="new") == ["u2i-f-old", "u2i-f-new"]
    page = call(chats_list, "get", "/api/v1/chats", query={"awaitingReply": "true", "limit": "2"}, role="admin")[1]
    assert [c["id"] for c in page["data"]] == ["u2i-f-old", "u2i-f-mid"] and page["nextCursor"]
    rest = call(
        chats_list, "get", "/api/v1/chats", query={"awaitingReply": "true", "cursor": page["nextCursor"]}, role="admin"
    )[1]
    assert [c["id"] for c in rest["data"]] == ["u2i-f-new"] and rest["nextCursor"] is None


# --- frames ---------------------------------------------------------------------------------------------------


def test_a_claim_is_announced_with_who_did_it(account: str) -> None:
    deliver(account, "u2i-fr", "m1", T0)
    before = item(account, "u2i-fr")
    act("claim", "u2i-fr", sub="anna")
    after = item(account, "u2i-fr")
    frames = {f.event: f.data for f in frames_for("MODIFY", before, after)}
    assert frames["avito-chat-updated"]["chat"]["status"] == "open"
    assigned = frames["avito-chat-assigned"]
    assert assigned["status"] == "open" and assigned["assignee"]["userId"] == "anna"
    assert assigned["by"]["userId"] == "anna" and assigned["accountId"] == account
    # a change of internal fields only (a repeat claim changes nothing at all) announces nothing new
    assert not [f for f in frames_for("MODIFY", after, after) if f.event == "avito-chat-assigned"]
