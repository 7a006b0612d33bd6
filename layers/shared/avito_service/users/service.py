"""Users and sign-in: the logic behind /auth/*, /me and /users (contract, "People and sign-in").

Cognito holds the password, the group (role) and whether the user may sign in; UsersTable holds what
Cognito does not (store.py). Every change goes to both, Cognito first: a failure after Cognito changed
leaves the stricter state (a disabled or signed-out user), never a wider one.
"""

from __future__ import annotations

from typing import Any

from avito_service import clock
from avito_service.accounts.store import account_store
from avito_service.errors import Conflict, FieldError, NotFound, TooManyRequests, Unauthorized, ValidationFailed
from avito_service.live.revocation import close_user_connections
from avito_service.roles import Role
from avito_service.users import pool, store
from avito_service.users.models import (
    Challenge,
    CreatedUser,
    Me,
    Refreshed,
    Tokens,
    User,
    UserCreate,
    UserUpdate,
)

MAX_FAILED_SIGN_INS = 5
FAILED_SIGN_IN_WINDOW = 15 * 60  # five wrong passwords for one e-mail in 15 minutes: 429 until the window ends


class InvalidCredentials(Unauthorized):
    code = "invalid_credentials"


class UserDisabled(Unauthorized):
    code = "user_disabled"


def _invalid() -> InvalidCredentials:
    return InvalidCredentials("Wrong e-mail or password.")


def _user(item: dict[str, Any]) -> User:
    return User(
        id=item["id"],
        email=item["email"],
        name=item.get("name") or item["email"],
        role=item["role"],
        accountIds=sorted(item.get("accountIds") or []),
        enabled=bool(item.get("enabled", True)),
        createdAt=item["createdAt"],
        lastSeenAt=item.get("lastSeenAt"),
    )


def _username(item: dict[str, Any]) -> str:
    """The name Cognito's admin calls take: the e-mail (an alias of the sub in this pool; moto matches a sign-out
    only against the name the user signed in with)."""
    return str(item["email"])


def _not_found(user_id: str) -> NotFound:
    return NotFound(f"No user with id '{user_id[:64]}'.", code="user_not_found")


# --- sign-in ---------------------------------------------------------------------------------------------


def _role_from_groups(groups: Any) -> str:
    names = set(groups) if isinstance(groups, list) else set()
    return next((str(r) for r in (Role.ADMIN, Role.DIRECTOR, Role.OPERATOR) if r in names), str(Role.OPERATOR))


def _record_for(signed_in: pool.SignedIn, now: float) -> dict[str, Any]:
    """The user's record, created from the id token's claims when Cognito has a user UsersTable does not (e.g. the
    first admin created with the aws cli, DEPLOYMENT.md)."""
    claims = signed_in.claims
    sub = str(claims.get("sub") or "")
    item = store.get(sub)
    if item is not None:
        return item
    email = str(claims.get("email") or "").lower()
    role = _role_from_groups(claims.get("cognito:groups"))
    item = {
        "id": sub,
        "email": email,
        "name": str(claims.get("name") or email.split("@")[0]),
        "role": role,
        "accountIds": [],
        "enabled": True,
        "createdAt": clock.iso(now),
        "tokensValidAfter": 0,
        "version": 1,
    }
    try:
        store.create(item, admin_delta=1 if role == Role.ADMIN else 0)
    except store.ConditionFailed:
        return store.get(sub) or item
    return item


def _tokens(signed_in: pool.SignedIn, email: str, now: float) -> Tokens:
    store.clear_failures(email)
    item = _record_for(signed_in, now)
    seen = clock.iso(now)
    store.touch(item["id"], seen)
    item["lastSeenAt"] = seen
    return Tokens(
        accessToken=signed_in.access_token,
        refreshToken=signed_in.refresh_token or "",
        expiresIn=signed_in.expires_in,
        user=_user(item),
    )


def login(email: str, password: str, *, now: float | None = None) -> Tokens | Challenge:
    current = clock.now() if now is None else now
    if store.failures(email, int(current)) >= MAX_FAILED_SIGN_INS:
        raise TooManyRequests("Too many failed sign-ins for this e-mail; wait 15 minutes and try again.")
    try:
        result = pool.sign_in(email, password)
    except pool.BadCredentials:
        known = store.by_email(email)
        if known is not None and not known.get("enabled", True):
            raise UserDisabled("This user is disabled; ask an admin.") from None
        store.record_failure(email, int(current), FAILED_SIGN_IN_WINDOW)
        raise _invalid() from None
    if isinstance(result, pool.NewPasswordRequired):
        return Challenge(challenge="NEW_PASSWORD_REQUIRED", session=result.session)
    return _tokens(result, email, current)


def new_password(email: str, session: str, password: str, *, now: float | None = None) -> Tokens:
    current = clock.now() if now is None else now
    return _tokens(pool.answer_new_password(email, session, password), email, current)


def refresh(refresh_token: str) -> Refreshed:
    signed_in = pool.refresh(refresh_token)
    if signed_in.claims.get("sub"):
        store.touch(str(signed_in.claims["sub"]), clock.iso())
    return Refreshed(accessToken=signed_in.access_token, expiresIn=signed_in.expires_in)


def revoke(user_id: str, *, now: float | None = None) -> None:
    """Refuse the user's current tokens everywhere: refresh tokens at Cognito, access tokens issued up to now
    through tokensValidAfter (the authorizer, within 60 s), open WebSocket connections closed at once."""
    current = int(clock.now() if now is None else now)
    item = store.get(user_id)
    pool.sign_out(_username(item) if item else user_id)
    # +1: Cognito's iat is in whole seconds, so a token issued in this very second is refused too
    store.revoke_tokens(user_id, current + 1)
    close_user_connections(user_id)


def logout(user_id: str, *, now: float | None = None) -> None:
    revoke(user_id, now=now)


def me(user_id: str, role: str, account_ids: frozenset[str] | None) -> Me:
    item = store.get(user_id)
    if item is None:  # an HS256 token of the call centre's own auth service for a sub that is not a user
        return Me(
            id=user_id,
            email=None,
            name=None,
            role=role,
            accountIds=None if account_ids is None else sorted(account_ids),
        )
    user = _user(item)
    limited = (
        sorted(account_ids) if account_ids is not None else (user.accountIds if user.role == Role.OPERATOR else None)
    )
    return Me(
        id=user.id,
        email=user.email,
        name=user.name,
        role=role or user.role,
        accountIds=limited,
        enabled=user.enabled,
        createdAt=user.createdAt,
        lastSeenAt=user.lastSeenAt,
    )


# --- users API -------------------------------------------------------------------------------------------


def _check_accounts(account_ids: list[str] | None) -> list[str]:
    if not account_ids:
        return []
    unique = list(dict.fromkeys(account_ids))
    missing = [i for i in unique if not account_store().get(i)]
    if missing:
        raise ValidationFailed(
            f"accountIds: unknown account ids: {', '.join(m[:64] for m in missing[:5])}.",
            details=[FieldError("accountIds", f"No account with id '{m[:64]}'.") for m in missing],
        )
    return unique


def list_users(limit: int, cursor: str | None) -> tuple[list[User], str | None]:
    items, next_cursor = store.list_page(limit, cursor)
    return [_user(i) for i in items], next_cursor


def get_user(user_id: str) -> User:
    item = store.get(user_id)
    if item is None:
        raise _not_found(user_id)
    return _user(item)


def create_user(body: UserCreate, *, now: float | None = None) -> CreatedUser:
    current = clock.now() if now is None else now
    account_ids = _check_accounts(body.accountIds)
    generated = body.temporaryPassword is None
    password = pool.generated_password() if generated else body.temporaryPassword.get_secret_value()
    if store.by_email(body.email) is not None:
        raise Conflict("A user with this e-mail exists.", code="email_taken")
    try:
        sub = pool.create_user(body.email, body.name, password)
    except pool.EmailTaken:
        raise Conflict("A user with this e-mail exists.", code="email_taken") from None
    item = {
        "id": sub,
        "email": body.email,
        "name": body.name,
        "role": str(body.role),
        "accountIds": account_ids,
        "enabled": True,
        "createdAt": clock.iso(current),
        "tokensValidAfter": 0,
        "version": 1,
    }
    try:
        pool.set_group(sub, str(body.role))
        store.create(item, admin_delta=1 if body.role == Role.ADMIN else 0)
    except store.ConditionFailed:
        pool.delete_user(sub)
        raise Conflict("A user with this e-mail exists.", code="email_taken") from None
    except Exception:
        pool.delete_user(sub)  # no Cognito user without its record
        raise
    return CreatedUser(**_user(item).model_dump(), temporaryPassword=password if generated else None)


def _last_admin() -> Conflict:
    return Conflict("This is the last enabled admin: make another user admin first.", code="last_admin")


def update_user(user_id: str, body: UserUpdate, *, now: float | None = None) -> tuple[User, dict[str, Any]]:
    """Apply the changes; answers the user and what changed (for the audit log)."""
    current = clock.now() if now is None else now
    item = store.get(user_id)
    if item is None:
        raise _not_found(user_id)
    changes = body.model_dump(exclude_unset=True)
    values: dict[str, Any] = {}
    if changes.get("name") is not None and changes["name"] != item.get("name"):
        values["name"] = changes["name"]
    if changes.get("role") is not None and str(changes["role"]) != item["role"]:
        values["role"] = str(changes["role"])
    if changes.get("accountIds") is not None:
        ids = _check_accounts(changes["accountIds"])
        if sorted(ids) != sorted(item.get("accountIds") or []):
            values["accountIds"] = ids
    if changes.get("enabled") is not None and changes["enabled"] != item.get("enabled", True):
        values["enabled"] = changes["enabled"]
    if not values:
        return _user(item), {}
    was_admin = item["role"] == Role.ADMIN and item.get("enabled", True)
    is_admin = values.get("role", item["role"]) == Role.ADMIN and values.get("enabled", item.get("enabled", True))
    admin_delta = int(is_admin) - int(was_admin)
    revoke_now = "role" in values or values.get("enabled") is False
    if revoke_now:
        values["tokensValidAfter"] = int(current) + 1
    try:
        store.update(user_id, values, version=int(item["version"]), admin_delta=admin_delta)
    except store.ConditionFailed as failed:
        if failed.reason == "last_admin":
            raise _last_admin() from None
        raise Conflict("The user changed meanwhile; read it again and retry.", code="conflict") from None
    # Cognito follows the stored record (the last-admin rule is decided by the record's transaction above).
    if "name" in values:
        pool.set_name(user_id, values["name"])
    if "role" in values:
        pool.set_group(user_id, values["role"], item["role"])
    if "enabled" in values:
        pool.set_enabled(user_id, values["enabled"])
    if revoke_now:
        pool.sign_out(_username(item))
        close_user_connections(user_id)
    before = {key: item.get(key) for key in values if key != "tokensValidAfter"}
    after = {key: value for key, value in values.items() if key != "tokensValidAfter"}
    return _user({**item, **values}), {"before": before, "after": after}


def delete_user(user_id: str) -> User:
    item = store.get(user_id)
    if item is None:
        raise _not_found(user_id)
    admin_delta = -1 if item["role"] == Role.ADMIN and item.get("enabled", True) else 0
    try:
        store.delete(item, admin_delta=admin_delta)
    except store.ConditionFailed as failed:
        if failed.reason == "last_admin":
            raise _last_admin() from None
        raise Conflict("The user changed meanwhile; read it again and retry.", code="conflict") from None
    pool.sign_out(_username(item))
    pool.delete_user(user_id)
    close_user_connections(user_id)
    return _user(item)


def ensure_first_admin(email: str, password: str, name: str = "Admin", *, now: float | None = None) -> bool:
    """Create an admin with a permanent password when there is no user yet (``make run``); True if created."""
    if store.count_users() > 0:
        return False
    current = clock.now() if now is None else now
    sub = pool.create_user(email, name, password, permanent=True)
    pool.set_group(sub, str(Role.ADMIN))
    store.create(
        {
            "id": sub,
            "email": email,
            "name": name,
            "role": str(Role.ADMIN),
            "accountIds": [],
            "enabled": True,
            "createdAt": clock.iso(current),
            "tokensValidAfter": 0,
            "version": 1,
        },
        admin_delta=1,
    )
    return True
