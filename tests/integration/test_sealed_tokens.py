"""Issue 22 item 3: Avito's bearer tokens are stored sealed (KMS envelope encryption, ``avito/sealing.py``) under
a key only the Avito-calling functions may use; a plain-text item of the first rounds is treated as absent.

Real handlers and the Avito client against the simulator over HTTP, moto's KMS; the key policy is enforced by the
tests' IAM check (moto does not), which these tests also hold to the template directly."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import accounts_check_connection
import boto3
import pytest
from avito_service import aws
from avito_service.accounts import service
from avito_service.avito import sealing
from avito_service.avito import tokens as avito_tokens
from avito_service.avito.client import AvitoApi
from avito_service.config import get_settings
from botocore.exceptions import ClientError

from avito_sim import AvitoSimulator
from local_runtime.iam import allowed, aws_requests, function_statements
from local_runtime.intrinsics import Resolver, StackContext
from local_runtime.template import load_template
from tests.conftest import IAM, TEMPLATE
from tests.support.accounts import create_account
from tests.support.avito import use_simulator
from tests.support.events import call_route

USER_ID = 5150
TOKEN = r"^/token$"


@pytest.fixture(scope="module")
def sim() -> Iterator[AvitoSimulator]:
    simulator = AvitoSimulator()
    simulator.start()
    simulator.add_account("k-cid", "k-secret", USER_ID, name="Sealed")
    yield simulator
    simulator.stop()


@pytest.fixture
def avito(sim: AvitoSimulator, aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> AvitoSimulator:
    return use_simulator(sim, monkeypatch)


def tokens_item(account_id: str) -> dict[str, Any]:
    return aws.table(get_settings().tokens_table).get_item(Key={"accountId": account_id})["Item"]


def check(account_id: str) -> dict[str, Any]:
    status, body = call_route(
        accounts_check_connection, "POST", "/api/v1/accounts/{id}/check-connection", {"id": account_id}
    )
    assert status == 200 and body["data"]["ok"], body
    return body["data"]


def issued_tokens(sim: AvitoSimulator) -> set[str]:
    return {token for token, issued in sim._tokens.items() if issued.user_id == USER_ID}


def test_the_token_is_stored_sealed_and_opens_in_another_container(avito: AvitoSimulator) -> None:
    account_id = create_account(name="Sealed", clientId="k-cid", clientSecret="k-secret", userId=USER_ID)
    check(account_id)
    item = tokens_item(account_id)
    (token,) = issued_tokens(avito)
    assert "accessToken" not in item
    assert item["sealedToken"].startswith("kms1.") and token not in repr(item)  # ciphertext only, and no copy
    assert item["tokenId"] == avito_tokens.token_id(token) != token

    # another container: nothing in memory, no data key cached; it opens the stored token (one kms:Decrypt)
    avito_tokens.forget_in_memory()
    sealing.forget_keys()
    avito.clear_requests()
    check(account_id)
    assert avito.count("POST", TOKEN) == 0  # the stored token was used, not fetched again


def test_a_plain_text_token_of_the_first_rounds_is_fetched_again(avito: AvitoSimulator) -> None:
    account_id = create_account(name="Sealed", clientId="k-cid", clientSecret="k-secret", userId=USER_ID)
    table = aws.table(get_settings().tokens_table)
    table.put_item(
        Item={
            "accountId": account_id,
            "accessToken": "plain-legacy-token",
            "expiresAt": 2**40,
            "usableUntil": 2**40,
            "fingerprint": AvitoApi(service.load_context(account_id))._fingerprint(),
            "fetchedAt": 0,
        }
    )
    check(account_id)  # no error: the legacy item counts as no token
    assert avito.count("POST", TOKEN) == 1
    item = tokens_item(account_id)
    assert "accessToken" not in item and "plain-legacy-token" not in repr(item)  # the plain copy is gone
    assert sealing.is_sealed(item["sealedToken"])


def test_a_sealed_token_moved_to_another_account_does_not_open(avito: AvitoSimulator) -> None:
    first = create_account(name="Sealed", clientId="k-cid", clientSecret="k-secret", userId=USER_ID)
    check(first)
    second = create_account(name="Copy", clientId="k-cid-2", clientSecret="k-secret", userId=USER_ID)
    stolen = {**tokens_item(first), "accountId": second}
    aws.table(get_settings().tokens_table).put_item(Item=stolen)
    avito_tokens.forget_in_memory()
    assert avito_tokens.TokenStore().stored(second, stolen["fingerprint"]) is None  # bound to its account
    assert sealing.open_sealed(stolen["sealedToken"], account_id=first, field="accessToken")
    with pytest.raises(sealing.SealError):
        sealing.open_sealed(stolen["sealedToken"][:-4] + "AAAA", account_id=first, field="accessToken")
    with pytest.raises(sealing.SealError):
        sealing.open_sealed(stolen["sealedToken"], account_id=first, field="refreshToken")


def test_one_data_key_per_container_not_one_kms_call_per_token(
    aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    real = aws.kms_client()
    counting = _Counting(real, calls)
    monkeypatch.setattr(sealing.aws, "kms_client", lambda: counting)
    aws.kms_client.cache_clear = lambda: None  # type: ignore[attr-defined] - the test's client is not cached
    sealed = [sealing.seal(f"token-{n}", account_id=f"a{n}", field="accessToken") for n in range(50)]
    assert [sealing.open_sealed(s, account_id=f"a{n}", field="accessToken") for n, s in enumerate(sealed)] == [
        f"token-{n}" for n in range(50)
    ]
    assert calls == ["generate_data_key"]  # one data key sealed and opened all fifty
    sealing.forget_keys()  # another container reads them
    assert sealing.open_sealed(sealed[7], account_id="a7", field="accessToken") == "token-7"
    assert sealing.open_sealed(sealed[8], account_id="a8", field="accessToken") == "token-8"
    assert calls == ["generate_data_key", "decrypt"]
    monkeypatch.setattr(sealing, "DATA_KEY_USES", 1)
    sealing.seal("a", account_id="x", field="f")
    sealing.seal("b", account_id="x", field="f")
    assert calls.count("generate_data_key") == 3  # a used-up data key is replaced


class _Counting:
    def __init__(self, client: Any, calls: list[str]) -> None:
        self._client, self._calls = client, calls

    def __getattr__(self, name: str) -> Any:
        self._calls.append(name)
        return getattr(self._client, name)


# --------------------------------------------------------------------------------- who may use the key
def kms_call(function_id: str, operation: str, **params: Any) -> None:
    """One KMS call checked as if ``function_id``'s handler made it (tests/support/iam.py)."""
    IAM.check(function_id, boto3.client("kms"), operation, params)


def test_only_the_avito_callers_may_use_the_key(aws_env: dict[str, str]) -> None:
    key_id = aws_env["TokensKey"]
    context = {"purpose": "avito-tokens"}
    kms_call("AccountsCheckConnectionFunction", "GenerateDataKey", KeyId=key_id, EncryptionContext=context)
    kms_call("OnlineWorkerFunction", "Decrypt", KeyId=key_id, CiphertextBlob=b"x" * 64, EncryptionContext=context)
    for outsider in ("AccountsGetFunction", "OnlineStatusFunction", "ChatsListFunction", "AuthLoginFunction"):
        with pytest.raises(ClientError) as refused:
            kms_call(outsider, "Decrypt", KeyId=key_id, CiphertextBlob=b"x" * 64, EncryptionContext=context)
        assert refused.value.response["Error"]["Code"] == "AccessDeniedException"
    assert {v.split(" may not ")[0] for v in IAM.take_violations()} == {
        "AccountsGetFunction",
        "OnlineStatusFunction",
        "ChatsListFunction",
        "AuthLoginFunction",
    }


def test_a_handler_outside_the_policy_cannot_open_a_token(aws_env: dict[str, str]) -> None:
    """Through a real handler: AccountsGetFunction's code reaching for the sealed token is refused."""
    import accounts_get

    sealed = sealing.seal("bearer", account_id="acc", field="accessToken")
    sealing.forget_keys()
    original = accounts_get.service.get_account

    def peeking(account_id: str) -> Any:
        sealing.open_sealed(sealed, account_id="acc", field="accessToken")
        return original(account_id)

    accounts_get.service.get_account = peeking
    try:
        status, _ = call_route(accounts_get, "GET", "/api/v1/accounts/{id}", {"id": "x"})
    finally:
        accounts_get.service.get_account = original
    assert status == 500
    violations = IAM.take_violations()
    assert violations and violations[0].startswith("AccountsGetFunction may not kms:Decrypt on arn:aws:kms:")


def test_the_key_policy_is_enforced_too_not_only_iam() -> None:
    """AWS wants both: an IAM grant (AvitoCallerPolicy) and the key policy. A key policy that no longer lets this
    stack's roles use the key refuses an Avito caller whose IAM policy still grants it; one that names a role
    lets it in without IAM."""
    template = load_template(TEMPLATE)
    resolver = Resolver(template, StackContext(stack_name="avito-service-test"))
    resolver.register_physical_id("TokensKey", "1234abcd-0000-0000-0000-000000000000")
    key_arn = resolver.resolve({"Fn::GetAtt": ["TokensKey", "Arn"]})
    assert allowed(function_statements(resolver, "MessengerSendFunction"), "kms:Decrypt", key_arn)
    assert not allowed(function_statements(resolver, "AccountsGetFunction"), "kms:Decrypt", key_arn)

    policy = template.resources["TokensKey"]["Properties"]["KeyPolicy"]
    narrowed = copy.deepcopy(policy)
    narrowed["Statement"] = [s for s in narrowed["Statement"] if s["Sid"] != "AvitoCallersOfThisStack"]
    template.resources["TokensKey"]["Properties"]["KeyPolicy"] = narrowed
    try:
        assert not allowed(function_statements(resolver, "MessengerSendFunction"), "kms:Decrypt", key_arn)
        assert allowed(function_statements(resolver, "MessengerSendFunction"), "kms:DescribeKey", key_arn) is False
        narrowed["Statement"].append(
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::123456789012:role/avito-service-test-AccountsGetFunctionRole-LOCAL"},
                "Action": ["kms:Decrypt"],
                "Resource": "*",
            }
        )
        assert allowed(function_statements(resolver, "AccountsGetFunction"), "kms:Decrypt", key_arn)
        other_stack = Resolver(template, StackContext(stack_name="another-stack"))
        other_stack.register_physical_id("TokensKey", "1234abcd-0000-0000-0000-000000000000")
        assert not allowed(function_statements(other_stack, "AccountsGetFunction"), "kms:Decrypt", key_arn)
    finally:
        template.resources["TokensKey"]["Properties"]["KeyPolicy"] = policy
    # a Decrypt without KeyId is authorized on the key its ciphertext names
    blob = b"1234abcd-0000-0000-0000-000000000000" + b"x" * 40
    requests = aws_requests(
        boto3.client("kms", region_name="us-east-1"), "Decrypt", {"CiphertextBlob": blob}, "us-east-1"
    )
    assert requests == [("kms:Decrypt", key_arn)]
