"""User shapes: what clients send to the users and sign-in endpoints (validated at the edge) and get back."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, ConfigDict, Field, SecretStr

from avito_service.base import Model
from avito_service.roles import Role

MAX_ASSIGNED_ACCOUNTS = 100


def _lower(value: str) -> str:
    return value.strip().lower()


# The e-mail is the Cognito username: at most 128 characters (botocore refuses longer ones before sending), in the
# form Cognito takes for an e-mail username (a letters-only top-level domain); pool.create_user maps a refusal to 422.
Email = Annotated[
    str,
    Field(
        min_length=3,
        max_length=128,
        # starts with a letter or digit, no empty domain label: the local Cognito (moto) refuses "+a@b.com" and
        # "a@.b..com" and real Cognito documents no rule, so the stricter shape is refused here, at the edge
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._%+-]*@(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,}$",
        examples=["anna@example.com"],
    ),
    AfterValidator(_lower),
]
Name = Annotated[str, Field(min_length=1, max_length=100, pattern=r"\S")]
AccountIdList = Annotated[
    list[Annotated[str, Field(min_length=1, max_length=64)]],
    Field(max_length=MAX_ASSIGNED_ACCOUNTS, description="accounts an operator works on (ignored for admin, director)"),
]
# Cognito checks the pool's password policy; these bounds only keep absurd input out.
Password = Annotated[SecretStr, Field(min_length=1, max_length=256)]


class _In(Model):
    model_config = ConfigDict(extra="forbid", defer_build=True)


class User(Model):
    id: str = Field(description="the Cognito sub")
    email: str
    name: str
    role: Role
    accountIds: list[str] = Field(description="assigned accounts (an operator sees only these)")
    enabled: bool
    createdAt: str
    lastSeenAt: str | None


class UserCreate(_In):
    email: Email
    name: Name
    role: Role
    accountIds: AccountIdList | None = None
    temporaryPassword: Password | None = Field(
        default=None, description="the first password (changed at the first sign-in); generated when absent"
    )


class UserUpdate(_In):
    name: Name | None = None
    role: Role | None = None
    accountIds: AccountIdList | None = None
    enabled: bool | None = None


class CreatedUser(User):
    temporaryPassword: str | None = Field(
        default=None, description="the generated first password, shown once (null when the admin chose one)"
    )


class Me(Model):
    id: str
    email: str | None
    name: str | None
    role: str
    accountIds: list[str] | None = Field(description="null: every account")
    enabled: bool | None = None
    createdAt: str | None = None
    lastSeenAt: str | None = None


class LoginRequest(_In):
    email: Email
    password: Password


class NewPasswordRequest(_In):
    email: Email
    session: Annotated[str, Field(min_length=20, max_length=2048)]  # Cognito's bounds
    newPassword: Password


class RefreshRequest(_In):
    refreshToken: Annotated[str, Field(min_length=1, max_length=8192)]


class Tokens(Model):
    accessToken: str
    refreshToken: str
    expiresIn: int = Field(description="seconds the access token is valid")
    user: User


class Challenge(Model):
    challenge: Literal["NEW_PASSWORD_REQUIRED"]
    session: str


class Refreshed(Model):
    accessToken: str
    expiresIn: int


class LoggedOut(Model):
    loggedOut: Literal[True] = True
