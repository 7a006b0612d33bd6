"""The Cognito user pool: sign-in flows (USER_PASSWORD_AUTH, NEW_PASSWORD_REQUIRED, REFRESH_TOKEN_AUTH) and the
admin operations the users API needs. Cognito's errors become the service's domain errors here, by their
error code (never by their text)."""

from __future__ import annotations

import base64
import json
import secrets
import string
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from avito_service import aws
from avito_service.config import get_settings
from avito_service.errors import TooManyRequests, Unauthorized, ValidationFailed

# Cognito's "slow down" answers (its own brute-force protection and API rate limits): 429 to the caller.
_THROTTLED = {"TooManyRequestsException", "LimitExceededException", "TooManyFailedAttemptsException"}
# A wrong password and an unknown e-mail (PreventUserExistenceErrors hides which) are the same to the caller.
_BAD_CREDENTIALS = {"NotAuthorizedException", "UserNotFoundException", "UserNotConfirmedException"}


class BadCredentials(Exception):
    """Cognito refused the e-mail and password (wrong password, unknown user, or a disabled user)."""


class EmailTaken(Exception):
    pass


@dataclass(frozen=True)
class SignedIn:
    access_token: str
    refresh_token: str | None
    expires_in: int
    claims: dict[str, Any]  # the id token's claims: sub, email, name, cognito:groups


@dataclass(frozen=True)
class NewPasswordRequired:
    session: str


def _pool() -> tuple[Any, str, str]:
    settings = get_settings()
    return aws.cognito_client(), settings.user_pool_id, settings.user_pool_client_id


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _claims(token: str) -> dict[str, Any]:
    """The claims of a JWT, not verified: its middle part, base64url JSON (RFC 7519). Written here rather than
    ``jwt.decode(..., verify_signature=False)`` because PyJWT imports ``cryptography`` (~100-240 ms of every users
    function's cold start) and nothing here verifies a signature."""
    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return claims if isinstance(claims, dict) else {}


def _signed_in(result: dict[str, Any], refresh_token: str | None = None) -> SignedIn:
    # The id token comes straight from Cognito over TLS in answer to our own call: its claims are read, not
    # verified again (the access token handed to the client is verified on every use by the authorizer).
    claims = _claims(result["IdToken"]) if result.get("IdToken") else {}
    return SignedIn(
        access_token=result["AccessToken"],
        refresh_token=result.get("RefreshToken") or refresh_token,
        expires_in=int(result.get("ExpiresIn", 3600)),
        claims=claims,
    )


def _throttled_or(exc: ClientError) -> Exception:
    if _code(exc) in _THROTTLED:
        return TooManyRequests("Too many sign-in attempts; wait a few minutes and try again.")
    return exc


def sign_in(email: str, password: str) -> SignedIn | NewPasswordRequired:
    client, _, client_id = _pool()
    try:
        answer = client.initiate_auth(
            ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH", AuthParameters={"USERNAME": email, "PASSWORD": password}
        )
    except ClientError as exc:
        if _code(exc) in _BAD_CREDENTIALS:
            raise BadCredentials from None
        raise _throttled_or(exc) from None
    if answer.get("ChallengeName") == "NEW_PASSWORD_REQUIRED":
        return NewPasswordRequired(session=answer["Session"])
    if "AuthenticationResult" not in answer:
        raise Unauthorized(f"Sign-in needs a step this service does not offer ({answer.get('ChallengeName')}).")
    return _signed_in(answer["AuthenticationResult"])


def answer_new_password(email: str, session: str, new_password: str) -> SignedIn:
    client, _, client_id = _pool()
    try:
        answer = client.respond_to_auth_challenge(
            ClientId=client_id,
            ChallengeName="NEW_PASSWORD_REQUIRED",
            Session=session,
            ChallengeResponses={"USERNAME": email, "NEW_PASSWORD": new_password},
        )
    except ClientError as exc:
        code = _code(exc)
        if code == "InvalidPasswordException":
            raise ValidationFailed.on("newPassword", _policy_message()) from None
        # Cognito answers an unknown or expired session NotAuthorizedException; moto ResourceNotFoundException
        if code in _BAD_CREDENTIALS or code in {
            "CodeMismatchException",
            "ExpiredCodeException",
            "ResourceNotFoundException",
        }:
            raise Unauthorized(
                "The sign-in session is invalid or expired; sign in again.", code="invalid_session"
            ) from None
        raise _throttled_or(exc) from None
    return _signed_in(answer["AuthenticationResult"])


def refresh(refresh_token: str) -> SignedIn:
    client, _, client_id = _pool()
    try:
        answer = client.initiate_auth(
            ClientId=client_id, AuthFlow="REFRESH_TOKEN_AUTH", AuthParameters={"REFRESH_TOKEN": refresh_token}
        )
    except ClientError as exc:
        if _code(exc) in _BAD_CREDENTIALS:
            raise Unauthorized(
                "The refresh token is invalid, expired or revoked; sign in again.", code="invalid_refresh_token"
            ) from None
        raise _throttled_or(exc) from None
    return _signed_in(answer["AuthenticationResult"], refresh_token)


def _policy_message() -> str:
    return (
        "The password does not meet the policy: at least 12 characters with upper- and lower-case letters and digits."
    )


def generated_password() -> str:
    """A first password that meets the pool's policy (template.yaml: 12+, upper, lower, digits)."""
    alphabet = string.ascii_letters + string.digits
    while True:
        value = "".join(secrets.choice(alphabet) for _ in range(16))
        if any(c.islower() for c in value) and any(c.isupper() for c in value) and any(c.isdigit() for c in value):
            return value


def create_user(email: str, name: str, temporary_password: str, *, permanent: bool = False) -> str:
    """Create the user (no e-mail sent: the admin hands the first password over) and answer its ``sub``."""
    client, pool_id, _ = _pool()
    try:
        answer = client.admin_create_user(
            UserPoolId=pool_id,
            Username=email,
            TemporaryPassword=temporary_password,
            MessageAction="SUPPRESS",
            UserAttributes=[
                {"Name": "email", "Value": email},
                {"Name": "email_verified", "Value": "true"},
                {"Name": "name", "Value": name},
            ],
        )
    except ClientError as exc:
        code = _code(exc)
        if code in {"UsernameExistsException", "AliasExistsException"}:
            raise EmailTaken from None
        if code == "InvalidPasswordException":
            raise ValidationFailed.on("temporaryPassword", _policy_message()) from None
        if code == "InvalidParameterException":  # the pool signs users in by e-mail and checks it is one
            raise ValidationFailed.on("email", "Amazon Cognito does not accept this as an e-mail address.") from None
        raise _throttled_or(exc) from None
    attributes = {a["Name"]: a["Value"] for a in answer["User"].get("Attributes", [])}
    sub = attributes.get("sub") or answer["User"]["Username"]
    if permanent:
        client.admin_set_user_password(UserPoolId=pool_id, Username=sub, Password=temporary_password, Permanent=True)
    return sub


def set_group(sub: str, role: str, previous: str | None = None) -> None:
    client, pool_id, _ = _pool()
    if previous and previous != role:
        client.admin_remove_user_from_group(UserPoolId=pool_id, Username=sub, GroupName=previous)
    client.admin_add_user_to_group(UserPoolId=pool_id, Username=sub, GroupName=role)


def set_name(sub: str, name: str) -> None:
    client, pool_id, _ = _pool()
    client.admin_update_user_attributes(
        UserPoolId=pool_id, Username=sub, UserAttributes=[{"Name": "name", "Value": name}]
    )


def set_enabled(sub: str, enabled: bool) -> None:
    client, pool_id, _ = _pool()
    if enabled:
        client.admin_enable_user(UserPoolId=pool_id, Username=sub)
    else:
        client.admin_disable_user(UserPoolId=pool_id, Username=sub)


def sign_out(sub: str) -> None:
    """Revoke every refresh token of the user (their access tokens are refused through tokensValidAfter)."""
    client, pool_id, _ = _pool()
    try:
        client.admin_user_global_sign_out(UserPoolId=pool_id, Username=sub)
    except ClientError as exc:
        if _code(exc) != "UserNotFoundException":
            raise


def delete_user(sub: str) -> None:
    client, pool_id, _ = _pool()
    try:
        client.admin_delete_user(UserPoolId=pool_id, Username=sub)
    except ClientError as exc:
        if _code(exc) != "UserNotFoundException":
            raise
