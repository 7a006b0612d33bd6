"""Issue 22 item 4: a send is never repeated.

Avito's answer is recorded in the Idempotency-Key's record as soon as it arrives; a retry replays it and only
redoes the (idempotent) storage step. A send whose outcome is unknown is 502 ``send_outcome_unknown`` and never
resent automatically. The claim's lease follows the Lambda's remaining time; the key is bound to the caller.
Real handlers against the simulator over HTTP; only DynamoDB's failure is injected (moto cannot fail on cue).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import messenger_send
import pytest
from avito_service import aws, idempotency
from avito_service.avito import tokens as avito_tokens
from avito_service.config import get_settings
from avito_service.messenger.store import ChatStore, chat_store
from botocore.exceptions import ClientError

from avito_sim import AvitoSimulator
from tests.support.accounts import create_account
from tests.support.caches import reset_caches
from tests.support.events import FakeContext, api_event

USER_ID = 7171
CHAT = "u2i-once"
SEND = r"^/messenger/v1/accounts/\d+/chats/[^/]+/messages$"


@pytest.fixture(scope="module")
def sim() -> Iterator[AvitoSimulator]:
    simulator = AvitoSimulator()
    simulator.start()
    simulator.add_account("o-cid", "o-secret", USER_ID, name="Once")
    simulator.add_item(USER_ID, 1, "Item 1")
    simulator.add_chat(USER_ID, CHAT, item_id=1, item_title="Item 1", client_user_id=9401)
    yield simulator
    simulator.stop()


@pytest.fixture
def avito(sim: AvitoSimulator, aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> AvitoSimulator:
    monkeypatch.setenv("AVITO_API_URL", sim.base_url)
    monkeypatch.setenv("AVITO_READ_TIMEOUT", "2")
    monkeypatch.setenv("AVITO_MAX_BACKOFF", "0.05")
    reset_caches()
    avito_tokens.forget_in_memory()
    sim.clear_requests()
    sim.clear_faults()
    return sim


@dataclass
class Context(FakeContext):
    remaining_ms: int = 29_000

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def new_account() -> str:
    return create_account(name="Once", clientId="o-cid", clientSecret="o-secret", userId=USER_ID)


def send(
    account_id: str, text: str, key: str | None, *, sub: str = "op-1", context: Any = None
) -> tuple[int, dict[str, Any]]:
    resource = "/api/v1/messenger/accounts/{accountId}/chats/{chatId}/send"
    params = {"accountId": account_id, "chatId": CHAT}
    event = api_event(
        "POST", resource.format(**params), resource=resource, path_parameters=params, body={"text": text}, sub=sub
    )
    if key is not None:
        event["headers"]["Idempotency-Key"] = key
        event["multiValueHeaders"]["Idempotency-Key"] = [key]
    result = messenger_send.lambda_handler(event, context or Context())
    return result["statusCode"], json.loads(result["body"])


def stored_texts(account_id: str) -> list[str]:
    messages, _ = chat_store().list_messages(CHAT, 100, None, account_id)
    return [m.text for m in messages]


def record(sub: str, key: str) -> dict[str, Any]:
    table = aws.table(get_settings().idempotency_table)
    return table.get_item(Key=idempotency.record_key("messenger.send", sub, key), ConsistentRead=True)["Item"]


def test_a_storage_failure_after_avito_took_the_send_is_stored_on_retry_not_resent(
    avito: AvitoSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    account_id = new_account()
    real = ChatStore.save_sent_message
    failures = {"left": 1}

    def flaky(self: ChatStore, *args: Any, **kwargs: Any) -> Any:
        if failures["left"]:
            failures["left"] -= 1
            raise ClientError({"Error": {"Code": "InternalServerError", "Message": "boom"}}, "TransactWriteItems")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(ChatStore, "save_sent_message", flaky)
    first = send(account_id, "stored later", "k-store")
    assert first[0] == 500, first
    assert record("op-1", "k-store")["status"] == "sent"  # Avito's answer was recorded before storing failed
    again = send(account_id, "stored later", "k-store")
    assert again[0] == 200, again
    assert avito.count("POST", SEND) == 1 and len(avito.sent_messages(USER_ID)) == 1  # never sent twice
    assert again[1]["data"]["id"] == avito.sent_messages(USER_ID)[0]["id"]
    assert stored_texts(account_id) == ["stored later"]
    assert send(account_id, "stored later", "k-store") == again  # and replayed from now on
    assert avito.count("POST", SEND) == 1


@pytest.mark.parametrize(
    "fault",
    [
        {"status": 503},  # Avito 5xx: it may have taken it
        {"action": "reset"},  # the connection dropped after the request was written
        {"action": "patch", "body": {"id": None}},  # Avito took it, but its answer has no id
    ],
    ids=["5xx", "reset", "no-id"],
)
def test_a_send_whose_outcome_is_unknown_is_502_and_never_resent(avito: AvitoSimulator, fault: dict) -> None:
    account_id = new_account()
    avito.add_fault(SEND, "POST", times=1, **fault)
    first = send(account_id, "maybe", "k-unknown")
    assert first[0] == 502 and first[1]["error"]["code"] == "send_outcome_unknown", first
    assert "Look at the chat" in first[1]["error"]["message"]
    assert send(account_id, "maybe", "k-unknown") == first
    assert avito.count("POST", SEND) == 1


def test_without_a_key_an_unknown_outcome_is_also_never_retried(avito: AvitoSimulator) -> None:
    account_id = new_account()
    avito.add_fault(SEND, "POST", status=502, times=1)
    status, body = send(account_id, "once", None)
    assert status == 502 and body["error"]["code"] == "send_outcome_unknown"
    assert avito.count("POST", SEND) == 1  # the client never retried it on its own


def test_the_key_is_bound_to_the_caller(avito: AvitoSimulator) -> None:
    account_id = new_account()
    mine = send(account_id, "same words", "shared-key", sub="op-1")
    theirs = send(account_id, "same words", "shared-key", sub="op-2")
    assert mine[0] == theirs[0] == 200
    assert mine[1]["data"]["id"] != theirs[1]["data"]["id"]  # op-2 never gets op-1's answer
    assert avito.count("POST", SEND) == 2
    assert send(account_id, "same words", "shared-key", sub="op-1") == mine
    assert avito.count("POST", SEND) == 2


def test_the_lease_follows_the_lambdas_remaining_time(avito: AvitoSimulator, monkeypatch: pytest.MonkeyPatch) -> None:
    account_id = new_account()
    seen: dict[str, float] = {}
    real_post = idempotency.once

    def spy(*args: Any, **kwargs: Any) -> Any:
        seen["lease"] = idempotency.lease_seconds()
        return real_post(*args, **kwargs)

    monkeypatch.setattr(idempotency, "once", spy)  # api.once imports it when called
    send(account_id, "short", "k-lease-1", context=Context(remaining_ms=12_000))
    assert 12 <= seen["lease"] <= 12 + idempotency.LEASE_MARGIN + 0.5
    send(account_id, "long", "k-lease-2", context=Context(remaining_ms=600_000))  # a worker with 10 minutes
    assert 600 <= seen["lease"] <= 600 + idempotency.LEASE_MARGIN + 0.5  # not the request's 20 s budget


def test_a_claim_whose_invocation_died_is_unknown_not_resent(aws_env: dict[str, str]) -> None:
    sends: list[int] = []

    def send_once() -> dict:
        sends.append(1)
        return {"id": "m1"}

    table = aws.table(get_settings().idempotency_table)
    item_key = idempotency.record_key("test.send", "op-1", "k-dead")
    table.put_item(  # a request that claimed the key and died before recording Avito's answer
        Item={
            **item_key,
            "status": idempotency.IN_PROGRESS,
            "fingerprint": idempotency.fingerprint_of({"n": 1}),
            "owner": "dead",
            "leaseUntil": int(time.time()) + 60,
            "ttl": int(time.time()) + 3600,
        }
    )
    with pytest.raises(idempotency.Conflict) as busy:
        idempotency.once("test.send", "k-dead", {"n": 1}, send_once, dict, caller="op-1")
    assert busy.value.code == "idempotency_in_progress"
    table.update_item(Key=item_key, UpdateExpression="SET leaseUntil = :past", ExpressionAttributeValues={":past": 1})
    for _ in range(2):
        with pytest.raises(idempotency.ServiceError) as unknown:
            idempotency.once("test.send", "k-dead", {"n": 1}, send_once, dict, caller="op-1")
        assert unknown.value.status == 502 and unknown.value.code == "send_outcome_unknown"
    assert sends == []
