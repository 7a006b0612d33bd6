"""Accounts CRUD in-process: handlers + shared package against moto with tables from template.yaml."""

from __future__ import annotations

import json
import threading
from typing import Any

import accounts_create
import accounts_delete
import accounts_get
import accounts_list
import accounts_update
import boto3
import messenger_chats
import pytest
from avito_service.accounts import store as accounts_store_module
from avito_service.accounts import vault

from tests.support.caches import reset_caches
from tests.support.cleanup import finish_cleanup
from tests.support.events import call

SECRET = "cs-SUPERSECRET-42"
PROXY_PASSWORD = "pp-HUNTER2-XYZ"


def create(body: dict[str, Any], role: str = "admin") -> tuple[int, dict[str, Any]]:
    return call(accounts_create, "POST", "/api/v1/accounts", body=body, role=role)


def valid(**overrides: Any) -> dict[str, Any]:
    body = {"name": "Shop One", "clientId": "client-1", "clientSecret": SECRET}
    body.update(overrides)
    return body


def put(account_id: str, body: dict[str, Any], role: str = "admin") -> tuple[int, dict[str, Any]]:
    return call(
        accounts_update,
        "PUT",
        f"/api/v1/accounts/{account_id}",
        resource="/api/v1/accounts/{id}",
        path_parameters={"id": account_id},
        body=body,
        role=role,
    )


def get(account_id: str, role: str = "admin") -> tuple[int, dict[str, Any]]:
    return call(
        accounts_get,
        "GET",
        f"/api/v1/accounts/{account_id}",
        resource="/api/v1/accounts/{id}",
        path_parameters={"id": account_id},
        role=role,
    )


def secret_value(arn_or_name: str) -> str:
    return boto3.client("secretsmanager").get_secret_value(SecretId=arn_or_name)["SecretString"]


def stored_item(account_id: str) -> dict[str, Any] | None:
    return accounts_store_module.AccountStore(__import__("os").environ["ACCOUNTS_TABLE"]).get(account_id)


def test_create_get_list_update_delete(aws_env: dict[str, str]) -> None:
    status, body = create(
        valid(
            proxyType="socks5",
            proxyHost="127.0.0.1",
            proxyPort=1080,
            proxyLogin="user",
            proxyPassword=PROXY_PASSWORD,
            userId="123456",
        )
    )
    assert status == 201, body
    account = body["data"]
    assert body["success"] is True
    assert account["hasClientSecret"] is True and account["hasProxyPassword"] is True
    assert account["connectionStatus"] == "unknown" and account["proxyStatus"] == "unknown"
    assert account["onlineKeepAliveInterval"] == 300 and account["version"] == 1
    assert "clientSecret" not in account and "proxyPassword" not in account

    item = stored_item(account["id"])
    assert item is not None and SECRET not in str(item) and PROXY_PASSWORD not in str(item)
    assert '"clientSecret": "cs-SUPERSECRET-42"' in secret_value(item["secretArn"])

    status, body = get(account["id"], role="operator")
    assert status == 200 and body["data"] == account

    status, body = call(accounts_list, "GET", "/api/v1/accounts", role="director")
    assert status == 200 and [a["id"] for a in body["data"]] == [account["id"]] and body["nextCursor"] is None

    status, body = put(account["id"], {"name": "Renamed", "version": 1})
    assert status == 200, body
    assert body["data"]["name"] == "Renamed" and body["data"]["version"] == 2
    assert body["data"]["proxyHost"] == "127.0.0.1"  # untouched fields stay

    status, body = call(
        accounts_delete,
        "DELETE",
        f"/api/v1/accounts/{account['id']}",
        resource="/api/v1/accounts/{id}",
        path_parameters={"id": account["id"]},
    )
    assert status == 200 and body["data"] == {"id": account["id"], "deleted": True}
    assert stored_item(account["id"]) is None
    finish_cleanup(account["id"])  # the secret goes in the background (tests/integration/test_account_deletion.py)
    with pytest.raises(boto3.client("secretsmanager").exceptions.ResourceNotFoundException):
        secret_value(item["secretArn"])
    assert get(account["id"])[0] == 404
    # the clientId is free again
    assert create(valid())[0] == 201


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"clientId": "c", "clientSecret": "s"}, "name"),
        (valid(name=""), "name"),
        (valid(name="x" * 101), "name"),
        (valid(clientId=None), "clientId"),
        (valid(clientId="has space"), "clientId"),
        (valid(clientSecret=""), "clientSecret"),
        (valid(proxyType="ftp", proxyHost="h", proxyPort=1), "proxyType"),
        (valid(proxyType="http", proxyHost="h", proxyPort=0), "proxyPort"),
        (valid(proxyType="http", proxyHost="h", proxyPort=65536), "proxyPort"),
        (valid(proxyHost="h"), "proxyType"),
        (valid(proxyType="http", proxyHost="h"), "proxyPort"),
        (valid(proxyType="http", proxyPort=8080), "proxyHost"),
        (valid(proxyType="socks4", proxyHost="h", proxyPort=1080, proxyLogin="u", proxyPassword="p"), "proxyPassword"),
        (valid(proxyLogin="u"), "proxyLogin"),
        (valid(onlineKeepAliveInterval=59), "onlineKeepAliveInterval"),
        (valid(onlineKeepAliveInterval=3601), "onlineKeepAliveInterval"),
        (valid(userId="abc"), "userId"),
        (valid(nmae="typo"), "nmae"),
    ],
)
def test_create_validation(aws_env: dict[str, str], body: dict[str, Any], field: str) -> None:
    status, answer = create(body)
    assert status == 422, answer
    assert answer["success"] is False and answer["error"]["code"] == "validation_error"
    assert field in [d["field"] for d in answer["error"]["details"]], answer
    assert all(d["message"] for d in answer["error"]["details"])
    assert SECRET not in str(answer)


def test_malformed_json_is_400(aws_env: dict[str, str]) -> None:
    status, answer = call(accounts_create, "POST", "/api/v1/accounts", raw_body='{"name": ')
    assert status == 400 and answer["error"]["code"] == "malformed_json"


def test_duplicate_client_id_is_409_and_leaves_no_secret(aws_env: dict[str, str]) -> None:
    assert create(valid())[0] == 201
    status, answer = create(valid(name="Other"))
    assert status == 409 and answer["error"]["code"] == "duplicate_client_id"
    secrets = boto3.client("secretsmanager").list_secrets()["SecretList"]
    assert len([s for s in secrets if "/accounts/" in s["Name"]]) == 1


def test_failure_between_secret_and_record_leaves_nothing(
    aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(self: Any, item: dict[str, Any]) -> None:
        raise RuntimeError("DynamoDB went away")

    monkeypatch.setattr(accounts_store_module.AccountStore, "create", boom)
    status, answer = create(valid())
    assert status == 500 and answer["error"]["code"] == "internal_error" and answer["error"]["requestId"]
    secrets = boto3.client("secretsmanager").list_secrets()["SecretList"]
    assert [s for s in secrets if "/accounts/" in s["Name"]] == []
    monkeypatch.undo()
    assert call(accounts_list, "GET", "/api/v1/accounts")[1]["data"] == []


def test_pagination_visits_each_account_once(aws_env: dict[str, str]) -> None:
    ids = [create(valid(name=f"Shop {i}", clientId=f"client-{i}"))[1]["data"]["id"] for i in range(7)]
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        query = {"limit": "3", **({"cursor": cursor} if cursor else {})}
        status, body = call(accounts_list, "GET", "/api/v1/accounts", query=query)
        assert status == 200, body
        seen.extend(a["id"] for a in body["data"])
        pages += 1
        cursor = body["nextCursor"]
        if not cursor:
            break
    assert seen == ids  # creation order, each exactly once
    assert pages in (3, 4)


@pytest.mark.parametrize(
    "query", [{"limit": "0"}, {"limit": "101"}, {"limit": "x"}, {"cursor": "garbage!"}, {"cursor": "eyJmb28iOiAxfQ"}]
)
def test_bad_list_parameters_are_422(aws_env: dict[str, str], query: dict[str, str]) -> None:
    status, body = call(accounts_list, "GET", "/api/v1/accounts", query=query)
    assert status == 422, body
    assert body["error"]["details"][0]["field"] in {"limit", "cursor"}


def test_update_rules(aws_env: dict[str, str]) -> None:
    account = create(
        valid(proxyType="http", proxyHost="proxy.local", proxyPort=3128, proxyLogin="u", proxyPassword=PROXY_PASSWORD)
    )[1]["data"]
    account_id = account["id"]
    arn = stored_item(account_id)["secretArn"]

    status, body = put(account_id, {"proxyPort": 8080})
    assert status == 200 and body["data"]["proxyPort"] == 8080 and body["data"]["proxyType"] == "http"

    status, body = put(account_id, {"proxyHost": None})
    assert status == 422 and body["error"]["details"][0]["field"] in {"proxyHost", "proxyType", "proxyPort"}

    status, body = put(account_id, {"clientSecret": "new-secret-value"})
    assert status == 200 and "new-secret-value" in secret_value(arn) and PROXY_PASSWORD in secret_value(arn)

    status, body = put(account_id, {"proxyType": None})
    assert status == 200, body
    data = body["data"]
    assert data["proxyType"] is None and data["proxyHost"] is None and data["proxyPort"] is None
    assert data["proxyLogin"] is None and data["hasProxyPassword"] is False
    assert data["proxyStatus"] == "not_configured"
    assert PROXY_PASSWORD not in secret_value(arn)

    assert put(account_id, {"name": None})[0] == 422
    assert put(account_id, {"unknownField": 1})[0] == 422
    assert put("no-such-id", {"name": "x"})[0] == 404
    version = data["version"]
    assert put(account_id, {"name": "A", "version": version - 1})[0] == 409
    assert get(account_id)[1]["data"]["name"] == "Shop One"  # nothing changed
    status, body = put(account_id, {"name": "A", "version": version})
    assert status == 200 and body["data"]["version"] == version + 1


def test_client_id_change_moves_uniqueness(aws_env: dict[str, str]) -> None:
    first = create(valid())[1]["data"]
    second = create(valid(clientId="client-2"))[1]["data"]
    status, body = put(second["id"], {"clientId": "client-1"})
    assert status == 409 and body["error"]["code"] == "duplicate_client_id"
    assert put(first["id"], {"clientId": "client-3"})[0] == 200
    assert put(second["id"], {"clientId": "client-1"})[0] == 200
    assert create(valid(clientId="client-3"))[0] == 409


def test_concurrent_updates_of_different_fields_all_land(aws_env: dict[str, str]) -> None:
    account_id = create(valid())[1]["data"]["id"]
    bodies = [{"name": "New name"}, {"userId": "777"}, {"onlineKeepAliveInterval": 900}, {"eternalOnlineEnabled": True}]
    results: list[int] = []
    threads = [threading.Thread(target=lambda b=b: results.append(put(account_id, b)[0])) for b in bodies]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [200] * 4
    data = get(account_id)[1]["data"]
    assert (data["name"], data["userId"], data["onlineKeepAliveInterval"], data["eternalOnlineEnabled"]) == (
        "New name",
        "777",
        900,
        True,
    )
    assert data["version"] == 5


def test_concurrent_updates_with_same_version_one_wins(aws_env: dict[str, str]) -> None:
    account_id = create(valid())[1]["data"]["id"]
    results: list[int] = []
    threads = [
        threading.Thread(target=lambda i=i: results.append(put(account_id, {"name": f"N{i}", "version": 1})[0]))
        for i in range(10)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [200] + [409] * 9
    assert get(account_id)[1]["data"]["version"] == 2


@pytest.mark.parametrize("role", ["operator", "director"])
def test_non_admin_may_read_but_not_change(aws_env: dict[str, str], role: str) -> None:
    account_id = create(valid())[1]["data"]["id"]
    assert get(account_id, role=role)[0] == 200
    assert create(valid(clientId="x"), role=role)[0] == 403
    assert put(account_id, {"name": "x"}, role=role)[0] == 403
    status, body = call(
        accounts_delete,
        "DELETE",
        f"/api/v1/accounts/{account_id}",
        resource="/api/v1/accounts/{id}",
        path_parameters={"id": account_id},
        role=role,
    )
    assert status == 403 and body["error"]["code"] == "forbidden"


def test_unknown_role_is_403(aws_env: dict[str, str]) -> None:
    assert call(accounts_list, "GET", "/api/v1/accounts", role="janitor")[0] == 403


@pytest.mark.parametrize("role", ["operator", "janitor"])
def test_role_is_checked_before_the_body(aws_env: dict[str, str], role: str) -> None:
    """A caller who may not use the endpoint learns that (403), not what is wrong with the body (422)."""
    account_id = create(valid())[1]["data"]["id"]
    status, body = put(account_id, {"proxyPort": "not a port", "unknown": 1}, role=role)
    assert status == 403 and body["error"]["code"] == "forbidden", body
    status, body = create({"name": ""}, role=role)
    assert status == 403 and body["error"]["code"] == "forbidden", body
    assert put(account_id, {"proxyPort": "not a port"})[0] == 422  # an admin gets the validation error


def test_secrets_never_in_responses_or_logs(
    aws_env: dict[str, str], captured_logs: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    _, body = create(
        valid(proxyType="http", proxyHost="h.example", proxyPort=8080, proxyLogin="u", proxyPassword=PROXY_PASSWORD)
    )
    account_id = body["data"]["id"]
    answers = [body]
    answers.append(put(account_id, {"clientSecret": SECRET + "-2", "proxyPassword": PROXY_PASSWORD + "-2"})[1])
    answers.append(create(valid(name="dup"))[1])  # 409
    answers.append(
        create(
            valid(
                clientId="c9",
                proxyType="socks4",
                proxyHost="h",
                proxyPort=1,
                proxyLogin="u",
                proxyPassword=PROXY_PASSWORD,
            )
        )[1]
    )  # 422
    answers.append(get(account_id)[1])
    answers.append(
        call(
            accounts_delete,
            "DELETE",
            f"/api/v1/accounts/{account_id}",
            resource="/api/v1/accounts/{id}",
            path_parameters={"id": account_id},
        )[1]
    )
    logs = captured_logs.getvalue()
    assert "Account created" in logs and "Account deleted" in logs  # the logs were captured
    printed = capsys.readouterr()
    for text in [str(answers), logs, printed.out, printed.err]:
        assert SECRET not in text and PROXY_PASSWORD not in text


def test_vault_cache_follows_secret_version(aws_env: dict[str, str]) -> None:
    account_id = create(valid())[1]["data"]["id"]
    item = stored_item(account_id)
    assert vault.read(item["secretArn"], 1).clientSecret.get_secret_value() == SECRET
    put(account_id, {"clientSecret": "rotated"})
    item = stored_item(account_id)
    assert item["secretVersion"] == 2
    assert vault.read(item["secretArn"], 2).clientSecret.get_secret_value() == "rotated"


def test_log_lines_carry_request_correlation_and_account_ids(
    aws_env: dict[str, str], captured_logs: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lines logged by shared code that knows nothing of the request still name the account and the request."""
    account_id = create(valid(userId=42))[1]["data"]["id"]
    monkeypatch.setenv("AVITO_API_URL", "http://127.0.0.1:9")  # nothing listens: the call fails fast
    monkeypatch.setenv("AVITO_MAX_RETRIES", "0")
    reset_caches()
    captured_logs.truncate(0)
    captured_logs.seek(0)
    status, body = call(
        messenger_chats,
        "GET",
        f"/api/v1/messenger/accounts/{account_id}/chats",
        resource="/api/v1/messenger/accounts/{accountId}/chats",
        path_parameters={"accountId": account_id},
    )
    assert status in (502, 504), body
    lines = [json.loads(line) for line in captured_logs.getvalue().splitlines() if line.strip()]
    failed = [line for line in lines if line["message"] == "Request failed"]
    assert failed, lines
    for line in failed:
        assert line["account_id"] == account_id
        assert line["caller"] and line["role"] == "admin"
        assert line["correlation_id"] and line["function_request_id"]
