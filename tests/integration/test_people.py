"""People and sign-in against moto's Cognito (pool, client and groups created from template.yaml): the sign-in
flows, the authorizer's two kinds of token, revocation, the users API and its last-admin rule, the audit log."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import audit_list
import auth_login
import auth_logout
import auth_new_password
import auth_refresh
import authorizer
import jwt
import pytest
import users_create
import users_delete
import users_get
import users_list
import users_me as me
import users_update
from avito_service import auth
from avito_service.users import service as users_service

from tests.conftest import JWT_TEST_KEY, reset_caches
from tests.support.accounts import create_account
from tests.support.events import FakeContext, call

ADMIN_EMAIL, ADMIN_PASSWORD = "boss@example.com", "Admin-Password-1"
NEW_PASSWORD = "Fresh-Password-9"


def authorize(token: str) -> dict[str, Any] | None:
    """The authorizer's context for ``token``, or None when it answers Unauthorized."""
    event = {
        "type": "TOKEN",
        "authorizationToken": f"Bearer {token}",
        "methodArn": "arn:aws:execute-api:us-east-1:123456789012:abc/prod/GET/api/v1/me",
    }
    try:
        return authorizer.lambda_handler(event, FakeContext())["context"]
    except Exception as exc:  # API Gateway's contract: raise "Unauthorized" for a 401
        refusal = str(exc)
    assert refusal == "Unauthorized"
    return None


def as_user(module: Any, method: str, path: str, token: str, **kwargs: Any) -> tuple[int, dict[str, Any]]:
    """Call a handler the way API Gateway does after the authorizer accepted ``token``."""
    context = authorize(token)
    assert context is not None, "the authorizer refused the token"
    from tests.support import events

    event = events.api_event(method, path, **kwargs)
    event["requestContext"]["authorizer"] = {**context, "principalId": context["sub"]}
    result = module.lambda_handler(event, FakeContext())
    return result["statusCode"], json.loads(result["body"])


def login(email: str, password: str) -> tuple[int, dict[str, Any]]:
    return call(auth_login, "POST", "/api/v1/auth/login", body={"email": email, "password": password}, role=None)


def admin_token() -> str:
    users_service.ensure_first_admin(ADMIN_EMAIL, ADMIN_PASSWORD, "Boss")
    status, body = login(ADMIN_EMAIL, ADMIN_PASSWORD)
    assert status == 200, body
    return body["data"]["accessToken"]


def invite(token: str, email: str, role: str = "operator", **extra: Any) -> dict[str, Any]:
    body = {"email": email, "name": email.split("@", maxsplit=1)[0].title(), "role": role, **extra}
    status, answer = as_user(users_create, "POST", "/api/v1/users", token, body=body)
    assert status == 201, answer
    return answer["data"]


def first_sign_in(email: str, temporary: str, new_password: str = NEW_PASSWORD) -> dict[str, Any]:
    status, body = login(email, temporary)
    assert status == 200 and body["data"]["challenge"] == "NEW_PASSWORD_REQUIRED", body
    status, body = call(
        auth_new_password,
        "POST",
        "/api/v1/auth/new-password",
        body={"email": email, "session": body["data"]["session"], "newPassword": new_password},
        role=None,
    )
    assert status == 200, body
    return body["data"]


def test_first_admin_signs_in_and_me_describes_them(aws_env: dict[str, str]) -> None:
    token = admin_token()
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["token_use"] == "access" and claims["cognito:groups"] == ["admin"]
    status, body = as_user(me, "GET", "/api/v1/me", token)
    assert status == 200
    assert body["data"]["email"] == ADMIN_EMAIL and body["data"]["role"] == "admin"
    assert body["data"]["accountIds"] is None and body["data"]["lastSeenAt"]
    assert users_service.ensure_first_admin("other@example.com", ADMIN_PASSWORD) is False  # not empty any more


def test_invited_operator_must_choose_a_password_then_gets_tokens(aws_env: dict[str, str]) -> None:
    token = admin_token()
    created = invite(token, "olga@example.com")
    assert created["temporaryPassword"] and created["role"] == "operator"
    status, body = call(
        auth_new_password,
        "POST",
        "/api/v1/auth/new-password",
        body={"email": "olga@example.com", "session": "bogus-session-" + "x" * 40, "newPassword": "Fresh-Password-9"},
        role=None,
    )
    assert status == 401 and body["error"]["code"] == "invalid_session"
    tokens = first_sign_in("olga@example.com", created["temporaryPassword"])
    assert tokens["user"]["id"] == created["id"] and tokens["refreshToken"]
    context = authorize(tokens["accessToken"])
    assert context is not None and context["role"] == "operator" and json.loads(context["accountIds"]) == []
    status, body = login("olga@example.com", "Fresh-Password-9")
    assert status == 200 and "accessToken" in body["data"]


def test_weak_new_password_is_a_422_on_new_password(aws_env: dict[str, str]) -> None:
    created = invite(admin_token(), "weak@example.com")
    status, body = login("weak@example.com", created["temporaryPassword"])
    status, body = call(
        auth_new_password,
        "POST",
        "/api/v1/auth/new-password",
        body={"email": "weak@example.com", "session": body["data"]["session"], "newPassword": "short"},
        role=None,
    )
    assert status == 422 and body["error"]["details"][0]["field"] == "newPassword"


def test_wrong_password_and_unknown_email_get_the_same_401_then_429(aws_env: dict[str, str]) -> None:
    admin_token()
    wrong = login(ADMIN_EMAIL, "Not-The-Password-1")
    unknown = login("nobody@example.com", "Not-The-Password-1")
    assert wrong[0] == unknown[0] == 401
    assert wrong[1]["error"] == unknown[1]["error"] | {"message": wrong[1]["error"]["message"]}
    assert (
        wrong[1]["error"]["code"] == "invalid_credentials"
        and wrong[1]["error"]["message"] == unknown[1]["error"]["message"]
    )
    for _ in range(4):
        login(ADMIN_EMAIL, "Not-The-Password-1")
    status, body = login(ADMIN_EMAIL, ADMIN_PASSWORD)  # even the right password, until the window ends
    assert status == 429 and body["error"]["code"] == "too_many_requests"


def test_refresh_then_logout_revokes_refresh_and_access_tokens(aws_env: dict[str, str]) -> None:
    users_service.ensure_first_admin(ADMIN_EMAIL, ADMIN_PASSWORD)
    tokens = login(ADMIN_EMAIL, ADMIN_PASSWORD)[1]["data"]
    status, body = call(
        auth_refresh, "POST", "/api/v1/auth/refresh", body={"refreshToken": tokens["refreshToken"]}, role=None
    )
    assert status == 200 and body["data"]["accessToken"] and body["data"]["expiresIn"] > 0
    status, _ = as_user(auth_logout, "POST", "/api/v1/auth/logout", tokens["accessToken"])
    assert status == 200
    status, body = call(
        auth_refresh, "POST", "/api/v1/auth/refresh", body={"refreshToken": tokens["refreshToken"]}, role=None
    )
    assert status == 401 and body["error"]["code"] == "invalid_refresh_token"
    reset_caches()  # the authorizer's 25 s user cache has passed
    assert authorize(tokens["accessToken"]) is None


def test_disabled_user_is_refused_at_sign_in_and_by_the_authorizer(aws_env: dict[str, str]) -> None:
    token = admin_token()
    created = invite(token, "dan@example.com")
    tokens = first_sign_in("dan@example.com", created["temporaryPassword"])
    assert authorize(tokens["accessToken"]) is not None
    status, body = as_user(
        users_update,
        "PUT",
        f"/api/v1/users/{created['id']}",
        token,
        resource="/api/v1/users/{id}",
        path_parameters={"id": created["id"]},
        body={"enabled": False},
    )
    assert status == 200 and body["data"]["enabled"] is False
    status, body = login("dan@example.com", "Fresh-Password-9")
    assert status == 401 and body["error"]["code"] == "user_disabled"
    reset_caches()
    assert authorize(tokens["accessToken"]) is None


def test_last_enabled_admin_cannot_be_demoted_disabled_or_deleted(aws_env: dict[str, str]) -> None:
    token = admin_token()
    admin_id = authorize(token)["sub"]
    route = {"resource": "/api/v1/users/{id}", "path_parameters": {"id": admin_id}}
    for body in ({"role": "director"}, {"enabled": False}):
        status, answer = as_user(users_update, "PUT", f"/api/v1/users/{admin_id}", token, body=body, **route)
        assert status == 409 and answer["error"]["code"] == "last_admin"
    status, answer = as_user(users_delete, "DELETE", f"/api/v1/users/{admin_id}", token, **route)
    assert status == 409 and answer["error"]["code"] == "last_admin"
    second = invite(token, "second@example.com", role="admin")
    status, answer = as_user(
        users_update, "PUT", f"/api/v1/users/{admin_id}", token, body={"role": "director"}, **route
    )
    assert status == 200 and answer["data"]["role"] == "director"
    route2 = {"resource": "/api/v1/users/{id}", "path_parameters": {"id": second["id"]}}
    reset_caches()
    other = first_sign_in("second@example.com", second["temporaryPassword"])["accessToken"]
    status, answer = as_user(users_delete, "DELETE", f"/api/v1/users/{second['id']}", other, **route2)
    assert status == 409 and answer["error"]["code"] == "last_admin"


def test_users_api_validation_email_taken_unknown_accounts_and_roles(aws_env: dict[str, str]) -> None:
    token = admin_token()
    account = {"id": create_account(name="Shop")}
    user = invite(token, "ira@example.com", accountIds=[account["id"]])
    assert user["accountIds"] == [account["id"]]
    status, body = as_user(
        users_create, "POST", "/api/v1/users", token, body={"email": "IRA@example.com", "name": "I", "role": "operator"}
    )
    assert status == 409 and body["error"]["code"] == "email_taken"
    status, body = as_user(
        users_create,
        "POST",
        "/api/v1/users",
        token,
        body={"email": "x@example.com", "name": "X", "role": "operator", "accountIds": ["no-such-account"]},
    )
    assert status == 422 and body["error"]["details"][0]["field"] == "accountIds"
    status, body = as_user(users_list, "GET", "/api/v1/users", token)
    assert status == 200 and {u["email"] for u in body["data"]} == {ADMIN_EMAIL, "ira@example.com"}
    operator = first_sign_in("ira@example.com", user["temporaryPassword"])["accessToken"]
    assert as_user(users_list, "GET", "/api/v1/users", operator)[0] == 403
    own = {"resource": "/api/v1/users/{id}", "path_parameters": {"id": user["id"]}}
    assert as_user(users_get, "GET", f"/api/v1/users/{user['id']}", operator, **own)[0] == 200
    admin_id = authorize(token)["sub"]
    other = {"resource": "/api/v1/users/{id}", "path_parameters": {"id": admin_id}}
    assert as_user(users_get, "GET", f"/api/v1/users/{admin_id}", operator, **other)[0] == 403
    status, body = as_user(me, "GET", "/api/v1/me", operator)
    assert body["data"]["accountIds"] == [account["id"]]


def test_audit_records_user_changes_without_secrets(aws_env: dict[str, str]) -> None:
    token = admin_token()
    user = invite(token, "eva@example.com", temporaryPassword="Chosen-Temp-Pass-1")
    assert user["temporaryPassword"] is None  # the admin chose it: not echoed
    route = {"resource": "/api/v1/users/{id}", "path_parameters": {"id": user["id"]}}
    as_user(users_update, "PUT", f"/api/v1/users/{user['id']}", token, body={"role": "director"}, **route)
    status, body = as_user(audit_list, "GET", "/api/v1/audit", token)
    assert status == 200
    actions = [(e["action"], e["target"], e["userName"]) for e in body["data"]]
    assert actions[:2] == [("user.update", f"user:{user['id']}", "Boss"), ("user.create", f"user:{user['id']}", "Boss")]
    assert body["data"][0]["details"] == {"before": {"role": "operator"}, "after": {"role": "director"}}
    assert "Chosen-Temp-Pass-1" not in json.dumps(body)


# --- tokens the authorizer refuses -------------------------------------------------------------------------


def _hs256(**claims: Any) -> str:
    return jwt.encode(claims, JWT_TEST_KEY, "HS256")


def test_hs256_lifetime_is_capped_at_24_hours(aws_env: dict[str, str]) -> None:
    now = int(time.time())
    assert authorize(_hs256(sub="cc", role="admin", iat=now, exp=now + 24 * 3600)) is not None
    assert authorize(_hs256(sub="cc", role="admin", iat=now, exp=now + 24 * 3600 + 60)) is None
    assert authorize(_hs256(sub="cc", role="admin", exp=now + 24 * 3600 - 60)) is not None  # no iat: from now
    assert authorize(_hs256(sub="cc", role="admin", exp=now + 25 * 3600)) is None


def test_hs256_account_ids_limit_an_operator_only(aws_env: dict[str, str]) -> None:
    now = int(time.time())
    context = authorize(_hs256(sub="op", role="operator", iat=now, exp=now + 60, accountIds=["a1", "a2"]))
    assert json.loads(context["accountIds"]) == ["a1", "a2"]
    assert authorize(_hs256(sub="op", role="operator", iat=now, exp=now + 60))["accountIds"] == ""
    assert authorize(_hs256(sub="d", role="director", iat=now, exp=now + 60, accountIds=["a1"]))["accountIds"] == ""
    assert authorize(_hs256(sub="op", role="operator", iat=now, exp=now + 60, accountIds="a1")) is None


def _forge(token: str, **changes: Any) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims.update(changes)
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    return f"{header}.{body}.{signature}"


def test_forged_foreign_and_unsigned_cognito_tokens_are_refused(aws_env: dict[str, str]) -> None:
    token = admin_token()
    claims = jwt.decode(token, options={"verify_signature": False})
    assert authorize(_forge(token, **{"cognito:groups": ["admin"], "sub": "someone-else"})) is None
    unsigned = jwt.encode(claims, None, algorithm="none")
    assert authorize(unsigned) is None
    # a token of another pool (moto signs every pool with the same key: only the issuer tells them apart)
    import boto3

    cognito = boto3.client("cognito-idp")
    other = cognito.create_user_pool(PoolName="foreign", UsernameAttributes=["email"])["UserPool"]["Id"]
    client = cognito.create_user_pool_client(
        UserPoolId=other, ClientName="x", ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"]
    )["UserPoolClient"]["ClientId"]
    cognito.create_group(UserPoolId=other, GroupName="admin")
    cognito.admin_create_user(UserPoolId=other, Username="evil@example.com", MessageAction="SUPPRESS")
    cognito.admin_set_user_password(
        UserPoolId=other, Username="evil@example.com", Password="Evil-Pass-123", Permanent=True
    )
    cognito.admin_add_user_to_group(UserPoolId=other, Username="evil@example.com", GroupName="admin")
    foreign = cognito.initiate_auth(
        ClientId=client,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "evil@example.com", "PASSWORD": "Evil-Pass-123"},
    )["AuthenticationResult"]
    assert authorize(foreign["AccessToken"]) is None
    # the pool's own id token is not an access token
    users_service.ensure_first_admin(ADMIN_EMAIL, ADMIN_PASSWORD)
    own = cognito.initiate_auth(
        ClientId=aws_env["UserPoolClient"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": ADMIN_EMAIL, "PASSWORD": ADMIN_PASSWORD},
    )["AuthenticationResult"]
    assert authorize(own["IdToken"]) is None
    assert authorize(own["AccessToken"]) is not None


def test_pool_keys_are_fetched_once_per_container(aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    token = admin_token()
    fetches: list[str] = []
    original = auth._PoolKeys.fetch_data

    def counted(self: auth._PoolKeys) -> Any:
        fetches.append(self.uri)
        return original(self)

    monkeypatch.setattr(auth._PoolKeys, "fetch_data", counted)
    auth.pool_keys.cache_clear()
    for _ in range(5):
        auth.user_cache.clear()
        assert authorize(token) is not None
    assert len(fetches) == 1


def test_audit_records_account_changes_without_secrets(aws_env: dict[str, str]) -> None:
    import accounts_create
    import accounts_delete
    import accounts_update

    token = admin_token()
    body = {"name": "Shop", "clientId": "audit-client", "clientSecret": "cs-TOP-SECRET-1", "proxyPassword": "pp-2"}
    body |= {"proxyType": "http", "proxyHost": "proxy.example.net", "proxyPort": 3128, "proxyLogin": "u"}
    status, created = as_user(accounts_create, "POST", "/api/v1/accounts", token, body=body)
    assert status == 201, created
    account_id = created["data"]["id"]
    route = {"resource": "/api/v1/accounts/{id}", "path_parameters": {"id": account_id}}
    change = {"name": "Shop 2", "clientSecret": "cs-NEW-SECRET-3"}
    assert as_user(accounts_update, "PUT", f"/api/v1/accounts/{account_id}", token, body=change, **route)[0] == 200
    assert as_user(accounts_delete, "DELETE", f"/api/v1/accounts/{account_id}", token, **route)[0] == 200
    status, answer = as_user(audit_list, "GET", "/api/v1/audit", token)
    entries = [e for e in answer["data"] if e["target"] == f"account:{account_id}"]
    assert [e["action"] for e in entries] == ["account.delete", "account.update", "account.create"]
    assert entries[1]["details"] == {"name": "Shop 2", "clientSecret": "(changed)"}
    assert entries[2]["userName"] == "Boss" and entries[2]["details"]["proxyPassword"] == "(changed)"
    text = json.dumps(answer)
    assert "cs-TOP-SECRET-1" not in text and "cs-NEW-SECRET-3" not in text and "pp-2" not in text


def test_an_email_cognito_refuses_is_a_422_naming_the_field(aws_env: dict[str, str]) -> None:
    """Found by the fuzzing: the pattern lets through what Cognito refuses (a numeric top-level domain, a username
    over Cognito's 128 characters); both were 500s. Then (2026-12-07) an address starting with "+" and a domain
    with empty labels, which Cognito refused after the pattern let them through: the pattern refuses them now."""
    token = admin_token()
    for email in ("0@0." + "0" * 124, "anna@" + "x" * 121 + ".ru", "+VdFbe69dEN@.F..QKEuBdJKjyVSHPtR", "a@b..ru"):
        body = {"email": email, "name": "Anna", "role": "operator", "temporaryPassword": "Temp-Password-1"}
        status, answer = as_user(users_create, "POST", "/api/v1/users", token, body=body)
        assert status == 422, answer
        assert [d["field"] for d in answer["error"]["details"]] == ["email"]


class _LikeDynamoDB:
    """A table whose Query answers LastEvaluatedKey whenever it stopped at ``Limit`` items, as DynamoDB does even
    when nothing follows (moto leaves it out then, which would hide a page that cursors to an empty one)."""

    def __init__(self, table: Any, key_attrs: tuple[str, ...]) -> None:
        self.table, self.key_attrs = table, key_attrs

    def query(self, **request: Any) -> dict[str, Any]:
        page = self.table.query(**request)
        if page["Items"] and len(page["Items"]) == request.get("Limit"):
            page["LastEvaluatedKey"] = {attr: page["Items"][-1][attr] for attr in self.key_attrs}
        return page

    def __getattr__(self, name: str) -> Any:  # every other call goes to the table itself
        return getattr(self.table, name)


def test_a_page_of_exactly_limit_users_or_audit_entries_is_the_last(
    aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The limit+1 rule (dynamo.query_page) for the users and the audit log: a page that holds the last items has
    no nextCursor, even when it holds exactly ``limit`` of them (DynamoDB's LastEvaluatedKey would ask for an
    empty page after it)."""
    from avito_service.audit import service as audit
    from avito_service.audit import store as audit_store
    from avito_service.users import store as users_store

    users_table, audit_table = users_store._table(), audit_store._table()
    like_users = _LikeDynamoDB(users_table, ("pk", "sk", "listPk", "listSk"))
    monkeypatch.setattr(users_store, "_table", lambda: like_users)
    like_audit = _LikeDynamoDB(audit_table, ("pk", "sk"))
    monkeypatch.setattr(audit_store, "_table", lambda: like_audit)

    for number in range(3):
        users_store.create(
            {"id": f"page-user-{number}", "email": f"page{number}@example.com", "createdAt": f"2026-12-0{number + 1}"}
        )
        audit.record("admin-1", "Admin", "user.create", f"page-user-{number}", now=1_796_000_000 + number)
    everyone, cursor = users_store.list_page(100, None)
    assert cursor is None and len(everyone) >= 3
    assert users_store.list_page(len(everyone), None)[1] is None
    first, cursor = users_store.list_page(len(everyone) - 1, None)
    assert cursor is not None and len(first) == len(everyone) - 1
    rest, last = users_store.list_page(len(everyone) - 1, cursor)
    assert [u["id"] for u in first + rest] == [u["id"] for u in everyone] and last is None

    entries, cursor = audit.entries(3, None)
    assert len(entries) == 3 and cursor is None
    newest, cursor = audit.entries(2, None)
    assert [e.target for e in newest] == ["page-user-2", "page-user-1"] and cursor is not None
    oldest, cursor = audit.entries(2, cursor)
    assert [e.target for e in oldest] == ["page-user-0"] and cursor is None
