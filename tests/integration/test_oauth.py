# ruff: noqa: RUF001 - Russian text for the account owner: Cyrillic letters are meant
"""Issue 28 part 1: consent links (contract, "Accounts stay connected"), end to end against the simulator over
real HTTP: the admin's link, Avito's consent page (the simulator consents at once and redirects), the callback;
replayed, expired and forged states; refresh rotation with two containers at once; a withdrawn consent.

The handlers run in-process (moto for AWS, the tests' IAM check on every call); the owner's browser is
``requests`` following the consent page's redirect by hand."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import accounts_check_connection
import accounts_get
import accounts_list
import audit_list
import boto3
import messenger_chats
import oauth_callback
import oauth_connect_link
import pytest
import requests
from avito_service import aws
from avito_service.avito import sealing
from avito_service.avito import tokens as avito_tokens
from avito_service.config import get_settings
from avito_service.oauth import refresh_tokens
from avito_service.oauth import service as oauth

from avito_sim import AvitoSimulator
from tests.support.caches import reset_caches
from tests.support.events import api_event, call, call_route

OWNER = 6001  # the Avito user who consents
OTHER_OWNER = 6002
APP_ID, APP_SECRET = "partner-app", "partner-app-secret"
REDIRECT = "https://cc.example.test/api/v1/oauth/callback"
TOKEN = r"^/token$"


@pytest.fixture(scope="module")
def sim() -> Iterator[AvitoSimulator]:
    simulator = AvitoSimulator()
    simulator.start()
    simulator.add_account("own-keys-6001", "never-given", OWNER, name="Consenting shop")
    simulator.add_account("own-keys-6002", "never-given", OTHER_OWNER, name="Second shop", messenger="402")
    simulator.add_chat(OWNER, "u2i-o1", item_id=1, item_title="Item 1", client_user_id=9401)
    simulator.add_message(OWNER, "u2i-o1", "om1", "hello")
    simulator.add_app(APP_ID, APP_SECRET, REDIRECT)
    yield simulator
    simulator.stop()


@pytest.fixture
def avito(sim: AvitoSimulator, aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> AvitoSimulator:
    # AvitoAppSecret as the template names it for the tests' stack (ACCOUNT_SECRETS_PREFIX avito-service-test/...)
    app_secret = boto3.client("secretsmanager").create_secret(
        Name="avito-service-test/avito-app-secret", SecretString=APP_SECRET
    )["ARN"]
    monkeypatch.setenv("AVITO_API_URL", sim.base_url)
    monkeypatch.setenv("AVITO_OAUTH_URL", sim.consent_url())
    monkeypatch.setenv("OAUTH_REDIRECT_URL", REDIRECT)
    monkeypatch.setenv("AVITO_APP_CLIENT_ID", APP_ID)
    monkeypatch.setenv("AVITO_APP_SECRET_ARN", app_secret)
    reset_caches()
    avito_tokens.forget_in_memory()
    sim.sign_in(OWNER)
    sim.clear_requests()
    return sim


def connect_link(name: str = "Consented", **body: Any) -> dict[str, Any]:
    status, answer = call(oauth_connect_link, "POST", "/api/v1/accounts/connect-link", body={"name": name, **body})
    assert status == 200, answer
    return answer["data"]


def consent(url: str) -> dict[str, str]:
    """The owner opens the link at Avito and consents: the query Avito redirects their browser with."""
    answer = requests.get(url, allow_redirects=False, timeout=5)
    assert answer.status_code == 302, answer.text
    location = answer.headers["Location"]
    assert location.startswith(REDIRECT + "?")
    return {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}


def callback(query: dict[str, str]) -> tuple[int, str, dict[str, str]]:
    """Avito's redirect reaching the callback (no token: no authorizer context)."""
    event = api_event("GET", "/api/v1/oauth/callback", query=query, role=None)
    event["headers"].pop("Authorization")
    result = oauth_callback.lambda_handler(event, _context())
    headers = {**{k: v[0] for k, v in (result.get("multiValueHeaders") or {}).items()}, **(result.get("headers") or {})}
    return result["statusCode"], result["body"], headers


def _context() -> Any:
    from tests.support.events import FakeContext

    return FakeContext()


def accounts() -> list[dict[str, Any]]:
    status, body = call(accounts_list, "GET", "/api/v1/accounts", query={"limit": "100"})
    assert status == 200
    return body["data"]


def account(account_id: str) -> dict[str, Any]:
    status, body = call_route(accounts_get, "GET", "/api/v1/accounts/{id}", {"id": account_id})
    assert status == 200, body
    return body["data"]


def connect(sim: AvitoSimulator, owner: int = OWNER, name: str = "Consented") -> dict[str, Any]:
    sim.sign_in(owner)
    status, page, _ = callback(consent(connect_link(name)["url"]))
    assert status == 200, page
    (found,) = [a for a in accounts() if a["clientId"] == f"oauth:{owner}"]
    return found


def item(account_id: str) -> dict[str, Any]:
    return aws.table(get_settings().accounts_table).get_item(Key={"pk": f"ACCOUNT#{account_id}", "sk": "PROFILE"})[
        "Item"
    ]


def refresh_token_now(account_id: str) -> str:
    return refresh_tokens.read(item(account_id)["refreshSecretArn"], account_id)


def check(account_id: str) -> dict[str, Any]:
    status, body = call_route(
        accounts_check_connection, "POST", "/api/v1/accounts/{id}/check-connection", {"id": account_id}
    )
    assert status == 200, body
    return body["data"]


# ------------------------------------------------------------------------------------------ the link itself
def test_the_link_opens_avitos_consent_page_with_a_single_use_state(avito: AvitoSimulator) -> None:
    link = connect_link("Shop by link", scopes=["messenger:read", "messenger:write"])
    url = urlsplit(link["url"])
    query = parse_qs(url.query)
    assert f"{url.scheme}://{url.netloc}{url.path}" == avito.consent_url()
    assert query["client_id"] == [APP_ID] and query["response_type"] == ["code"]
    assert query["scope"] == ["messenger:read,messenger:write"] and query["redirect_uri"] == [REDIRECT]
    state = query["state"][0]
    assert len(state) >= 43  # 256 bits
    expires = time.mktime(time.strptime(link["expiresAt"][:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone
    assert abs(expires - (time.time() + 86400)) < 120
    stored = aws.table(get_settings().accounts_table).scan()["Items"]
    assert state not in json.dumps(stored, default=str)  # only its digest is kept


def test_only_admins_create_links_and_the_body_is_validated(avito: AvitoSimulator) -> None:
    for role in ("operator", "director"):
        event = api_event("POST", "/api/v1/accounts/connect-link", body={"name": "X"}, role=role)
        assert oauth_connect_link.lambda_handler(event, _context())["statusCode"] == 403
    for body in ({}, {"name": ""}, {"name": "X", "scopes": []}, {"name": "X", "scopes": ["everything"]}):
        status, answer = call(oauth_connect_link, "POST", "/api/v1/accounts/connect-link", body=body)
        assert status == 422, (body, answer)


def test_without_the_partner_app_a_link_is_409(avito: AvitoSimulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AVITO_APP_CLIENT_ID", "")
    reset_caches()
    status, body = call(oauth_connect_link, "POST", "/api/v1/accounts/connect-link", body={"name": "X"})
    assert status == 409 and body["error"]["code"] == "oauth_not_configured"


# ------------------------------------------------------------------------------------------- the callback
def test_consent_creates_an_oauth_account_with_its_health(avito: AvitoSimulator) -> None:
    before = len(accounts())
    link = connect_link("Магазин по ссылке")
    status, page, headers = callback(consent(link["url"]))
    assert status == 200 and "Готово" in page and "Магазин по ссылке" in page
    assert headers["Content-Type"].startswith("text/html") and headers["Referrer-Policy"] == "no-referrer"
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    assert len(accounts()) == before + 1
    (created,) = [a for a in accounts() if a["clientId"] == f"oauth:{OWNER}"]
    assert created["authType"] == "oauth" and created["userId"] == str(OWNER) and created["name"] == "Магазин по ссылке"
    assert created["connectionStatus"] == "connected" and created["hasClientSecret"] is False
    assert created["tokenExpiresAt"] and created["messengerAvailable"] is None and created["lastWebhookAt"] is None
    assert "refreshSecretArn" not in created and "refreshToken" not in json.dumps(created)

    # the refresh token is in Secrets Manager, sealed; the access token in TokensTable, sealed
    stored = item(created["id"])
    raw = boto3.client("secretsmanager").get_secret_value(SecretId=stored["refreshSecretArn"])["SecretString"]
    issued = set(avito.oauth.refresh_tokens)
    assert sealing.is_sealed(json.loads(raw)["refreshToken"]) and not any(t in raw for t in issued)
    assert refresh_token_now(created["id"]) in issued
    token_item = aws.table(get_settings().tokens_table).get_item(Key={"accountId": created["id"]})["Item"]
    assert sealing.is_sealed(token_item["sealedToken"])

    # it works at once, with the token from the consent (no refresh)
    avito.clear_requests()
    status, chats = call_route(
        messenger_chats, "GET", "/api/v1/messenger/accounts/{accountId}/chats", {"accountId": created["id"]}
    )
    assert status == 200 and [c["id"] for c in chats["data"]] == ["u2i-o1"]
    assert avito.count("POST", TOKEN) == 0
    assert account(created["id"])["messengerAvailable"] is True

    status, audit = call(audit_list, "GET", "/api/v1/audit")
    actions = [(e["action"], e["target"]) for e in audit["data"]]
    assert ("account.connect", f"account:{created['id']}") in actions and (
        "account.connect_link",
        "accounts",
    ) in actions
    assert not any(link["url"] in json.dumps(e) for e in audit["data"])  # the state never reaches the audit log


def test_a_replayed_state_is_400_and_creates_nothing(avito: AvitoSimulator) -> None:
    query = consent(connect_link()["url"])
    assert callback(query)[0] == 200
    count = len(accounts())
    avito.sign_in(OTHER_OWNER)
    status, page, _ = callback(query)  # the same state again (a second code would not help either)
    assert status == 400 and "уже использована" in page
    again = consent(connect_link()["url"])
    status, _, _ = callback({**again, "state": query["state"]})
    assert status == 400
    assert len(accounts()) == count


def test_an_expired_state_is_400_and_creates_nothing(avito: AvitoSimulator) -> None:
    from avito_service.oauth.models import ConnectLinkCreate

    count = len(accounts())
    link = oauth.create_link(ConnectLinkCreate(name="Late"), created_by="tester", now=time.time() - 86401)
    status, page, _ = callback(consent(link.url))
    assert status == 400 and "устарела" in page
    assert len(accounts()) == count
    assert avito.count("POST", TOKEN) == 0  # the code was never exchanged


def test_a_forged_or_missing_state_is_400_and_creates_nothing(avito: AvitoSimulator) -> None:
    count = len(accounts())
    real = consent(connect_link()["url"])
    for query in (
        {**real, "state": "forged-state-of-the-right-length-0123456789abcdef"},
        {**real, "state": real["state"] + "x"},
        {"code": real["code"]},
        {},
    ):
        status, page, _ = callback(query)
        assert status == 400 and "Не удалось" in page, query
    assert len(accounts()) == count and avito.count("POST", TOKEN) == 0
    assert callback(real)[0] == 200  # the real one still works once


def test_a_refused_consent_is_400(avito: AvitoSimulator) -> None:
    avito.sign_in(OWNER, refuse=True)
    query = consent(connect_link()["url"])
    assert "error" in query and "code" not in query
    status, page, _ = callback(query)
    assert status == 400 and "не был выдан" in page


# ------------------------------------------------------------------------------------ refresh and rotation
def test_an_expired_access_token_is_refreshed_and_the_refresh_token_rotated(avito: AvitoSimulator) -> None:
    created = connect(avito)
    first = refresh_token_now(created["id"])
    avito.expire_tokens()  # Avito answers 403 to the consent's access token from now on
    avito.clear_requests()
    assert check(created["id"])["ok"] is True
    assert avito.oauth.refreshes >= 1 and avito.count("POST", TOKEN) == 1
    second = refresh_token_now(created["id"])
    assert second != first and first not in avito.oauth.refresh_tokens  # rotated, the old one is dead
    assert account(created["id"])["connectionStatus"] == "connected"


def test_two_containers_refresh_once_and_keep_the_rotated_token(
    avito: AvitoSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two containers (threads, each with its own token cache and lease owner) find the access token expired at
    the same moment: one refreshes, the other waits for its token; the refresh token is rotated once and the one
    stored is the one Avito will accept."""
    created = connect(avito)
    before = refresh_token_now(created["id"])
    avito.expire_tokens()
    aws.table(get_settings().tokens_table).delete_item(Key={"accountId": created["id"]})  # both must fetch
    refreshes = avito.oauth.refreshes

    class PerThread(threading.local, avito_tokens.Container):
        pass

    monkeypatch.setattr(avito_tokens, "container", PerThread())
    avito.latency = 0.3  # the refresh takes long enough for the other container to arrive meanwhile
    barrier = threading.Barrier(2)
    results: list[Any] = []

    def container() -> None:
        barrier.wait()
        try:
            results.append(check(created["id"])["ok"])
        except BaseException as exc:
            results.append(exc)

    threads = [threading.Thread(target=container) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    avito.latency = 0.0
    assert results == [True, True]
    assert avito.oauth.refreshes == refreshes + 1 and avito.oauth.refused_refreshes == 0
    after = refresh_token_now(created["id"])
    assert after != before and after in avito.oauth.refresh_tokens


def test_a_withdrawn_consent_sets_auth_error_and_a_new_link_reconnects(avito: AvitoSimulator) -> None:
    created = connect(avito)
    avito.withdraw_consent(OWNER, APP_ID)
    status, body = call_route(
        messenger_chats, "GET", "/api/v1/messenger/accounts/{accountId}/chats", {"accountId": created["id"]}
    )
    assert status == 502 and body["error"]["code"] == "avito_auth_error"
    assert "новую" not in body["error"]["message"] and "consent" in body["error"]["message"]
    now = account(created["id"])
    assert now["connectionStatus"] == "auth_error" and "consent link" in now["lastError"]
    assert check(created["id"])["connectionStatus"] == "auth_error"

    # the owner consents again through a new link: the same account is connected again, not a second one
    count = len(accounts())
    status, page, _ = callback(consent(connect_link("Again")["url"]))
    assert status == 200 and "снова подключён" in page
    assert len(accounts()) == count
    again = account(created["id"])
    assert again["connectionStatus"] == "connected" and again.get("lastError") is None
    assert check(created["id"])["ok"] is True


def test_messenger_not_available_is_remembered_on_the_account(avito: AvitoSimulator) -> None:
    created = connect(avito, owner=OTHER_OWNER, name="No messenger")
    status, body = call_route(
        messenger_chats, "GET", "/api/v1/messenger/accounts/{accountId}/chats", {"accountId": created["id"]}
    )
    assert status == 502 and body["error"]["code"] == "messenger_not_available"
    assert account(created["id"])["messengerAvailable"] is False


def test_an_oauth_account_given_its_keys_switches_to_them(avito: AvitoSimulator) -> None:
    """CPA and call tracking need keys (Avito's rule): an admin adds them, and the consent's refresh token goes."""
    import accounts_update

    created = connect(avito)
    arn = item(created["id"])["refreshSecretArn"]
    resource = "/api/v1/accounts/{id}"
    status, body = call_route(accounts_update, "PUT", resource, {"id": created["id"]}, body={"clientSecret": "x"})
    assert status == 422 and {d["field"] for d in body["error"]["details"]} == {"clientId", "clientSecret"}
    keys = {"clientId": "own-keys-6001", "clientSecret": "never-given"}
    status, body = call_route(accounts_update, "PUT", resource, {"id": created["id"]}, body=keys)
    assert status == 200, body
    assert body["data"]["authType"] == "client_credentials" and body["data"]["hasClientSecret"] is True
    assert "refreshSecretArn" not in item(created["id"])
    with pytest.raises(boto3.client("secretsmanager").exceptions.ResourceNotFoundException):
        boto3.client("secretsmanager").get_secret_value(SecretId=arn)
    avito.clear_requests()
    assert check(created["id"])["ok"] is True
    assert [r.body.get("grant_type") for r in avito.requests if r.path == "/token"] == ["client_credentials"]
