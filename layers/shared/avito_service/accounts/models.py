"""Account models: what clients send (validated at the edge), what they get back, and proxy settings."""

from __future__ import annotations

import json
import re
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    StringConstraints,
    WithJsonSchema,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema

from avito_service.accounts import proxy_hosts
from avito_service.base import Model
from avito_service.config import get_settings
from avito_service.errors import FieldError, ValidationFailed

DEFAULT_INTERVAL = 300
MIN_INTERVAL, MAX_INTERVAL = 60, 3600

# A host name or an IPv4/IPv6 address, without scheme, port, path or spaces (length is checked separately).
_HOST = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9\-._]*[A-Za-z0-9])?$|^\[?[0-9A-Fa-f:.]+\]?$")

# White space around names, client ids and hosts is stripped. The set is spelled out because `\s` differs
# between the regex dialects that read the document's patterns (ECMAScript: U+FEFF; Unicode/Rust and Python's
# str.strip: U+0085...); the patterns below validate the raw value, so the document says exactly what passes.
_WS_CHARS = (
    "\t\n\x0b\x0c\r \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u2028\u2029\u202f\u205f\u3000\ufeff"
)
_WS = "".join(f"\\u{ord(char):04x}" for char in _WS_CHARS)  # for a regex character class


def _strip(value: str) -> str:
    return value.strip(_WS_CHARS)


class ProxyType(StrEnum):
    HTTP = "http"
    HTTPS = "https"
    SOCKS4 = "socks4"
    SOCKS5 = "socks5"


class ConnectionStatus(StrEnum):
    UNKNOWN = "unknown"
    CONNECTED = "connected"
    AUTH_ERROR = "auth_error"
    PROXY_ERROR = "proxy_error"
    API_ERROR = "api_error"


class AuthType(StrEnum):
    CLIENT_CREDENTIALS = "client_credentials"  # the account's own client id and secret (API keys)
    OAUTH = "oauth"  # connected by the owner's consent (a partner app's authorization_code, then refresh tokens)


class ProxyStatus(StrEnum):
    NOT_CONFIGURED = "not_configured"
    UNKNOWN = "unknown"
    OK = "ok"
    FAILED = "failed"


MAX_JSON_INT = 2**53 - 1  # the largest integer every JSON client holds exactly


def _int_to_str(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():  # JSON has one number type: 42.0 is the integer 42
        value = int(value)
    exact = isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_JSON_INT
    return str(value) if exact else value


Name = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=f"[^{_WS}]"), AfterValidator(_strip)]
ClientId = Annotated[
    str,
    StringConstraints(min_length=1, max_length=200, pattern=f"^[{_WS}]*[^{_WS}]+[{_WS}]*$"),
    AfterValidator(_strip),
]
# The pattern comes before the int-to-str validator so that the OpenAPI document carries it; a JSON number is
# taken as its decimal string, and the document says so.
UserId = Annotated[
    str,
    StringConstraints(pattern=r"^[0-9]{1,20}$"),
    BeforeValidator(_int_to_str),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": r"^[0-9]{1,20}$"},
                {"type": "integer", "minimum": 0, "maximum": MAX_JSON_INT},
            ],
            "description": "Avito's numeric user id (a number is taken as its decimal string)",
        }
    ),
]
ProxyHost = Annotated[
    str,
    StringConstraints(
        min_length=1,
        max_length=253,
        pattern=f"^[{_WS}]*(?:{_HOST.pattern.replace('$|^', '|').strip('^$')})[{_WS}]*$",
    ),
    AfterValidator(_strip),
]
ProxyPort = Annotated[int, Field(ge=1, le=65535)]
ProxyLogin = Annotated[str, StringConstraints(min_length=1, max_length=255)]
Secret500 = Annotated[SecretStr, Field(min_length=1, max_length=500)]
Secret255 = Annotated[SecretStr, Field(min_length=1, max_length=255)]
Interval = Annotated[int, Field(ge=MIN_INTERVAL, le=MAX_INTERVAL, description="seconds between keep-alives")]

PROXY_FIELDS = ("proxyType", "proxyHost", "proxyPort", "proxyLogin", "proxyPassword")


def check_proxy(values: dict[str, Any]) -> None:
    """The contract's proxy rules, on a complete (merged) set of proxy fields."""
    trio = {name: values.get(name) for name in ("proxyType", "proxyHost", "proxyPort")}
    given = [name for name, value in trio.items() if value is not None]
    errors: list[FieldError] = []
    if given and len(given) < 3:
        for name, value in trio.items():
            if value is None:
                errors.append(FieldError(name, "proxyType, proxyHost and proxyPort must be given together."))
    if not given:
        for name in ("proxyLogin", "proxyPassword"):
            if values.get(name) is not None:
                errors.append(FieldError(name, "A proxy login or password needs proxyType, proxyHost and proxyPort."))
    host = values.get("proxyHost")
    if host:
        why = proxy_hosts.refusal(str(host), get_settings().proxy_networks)
        if why:
            errors.append(FieldError("proxyHost", why))
    if values.get("proxyType") == ProxyType.SOCKS4 and values.get("proxyPassword") is not None:
        errors.append(FieldError("proxyPassword", "SOCKS4 takes a login (user id) but no password."))
    if values.get("proxyPassword") is not None and values.get("proxyLogin") is None and given:
        errors.append(FieldError("proxyLogin", "A proxy password needs a proxyLogin."))
    if errors:
        raise ValidationFailed("Invalid proxy settings: " + " ".join(e.message for e in errors[:1]), details=errors)


class AccountCreate(Model):
    """Body of ``POST /api/v1/accounts``."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)  # it holds secrets

    name: Name
    clientId: ClientId
    clientSecret: Secret500
    userId: UserId | None = None
    proxyType: ProxyType | None = None
    proxyHost: ProxyHost | None = None
    proxyPort: ProxyPort | None = None
    proxyLogin: ProxyLogin | None = None
    proxyPassword: Secret255 | None = None
    eternalOnlineEnabled: bool = False
    onlineKeepAliveInterval: Interval = DEFAULT_INTERVAL

    @model_validator(mode="after")
    def _proxy_rules(self) -> AccountCreate:
        check_proxy(self.__dict__)
        return self


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)  # a null default on a field that must not be null would contradict the document


NOT_NULLABLE = frozenset({"name", "clientId", "clientSecret", "eternalOnlineEnabled", "onlineKeepAliveInterval"})


class AccountUpdate(Model):
    """Body of ``PUT /api/v1/accounts/{id}``: any subset of the create fields; ``null`` clears an optional one."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)  # it holds secrets

    # The NOT_NULLABLE fields may be left out but not sent as null (422): the document shows them without null.
    name: Name | SkipJsonSchema[None] = Field(default=None, json_schema_extra=_no_default)
    clientId: ClientId | SkipJsonSchema[None] = Field(default=None, json_schema_extra=_no_default)
    clientSecret: Secret500 | SkipJsonSchema[None] = Field(default=None, json_schema_extra=_no_default)
    userId: UserId | None = None
    proxyType: ProxyType | None = None
    proxyHost: ProxyHost | None = None
    proxyPort: ProxyPort | None = None
    proxyLogin: ProxyLogin | None = None
    proxyPassword: Secret255 | None = None
    eternalOnlineEnabled: bool | SkipJsonSchema[None] = Field(default=None, json_schema_extra=_no_default)
    onlineKeepAliveInterval: Interval | SkipJsonSchema[None] = Field(default=None, json_schema_extra=_no_default)
    version: int | None = Field(default=None, ge=1, description="the version you read; a stale one gets 409")

    @model_validator(mode="after")
    def _no_null_for_required(self) -> AccountUpdate:
        errors = [
            FieldError(name, "This field cannot be null.")
            for name in sorted(self.model_fields_set & NOT_NULLABLE)
            if getattr(self, name) is None
        ]
        if errors:
            raise ValidationFailed("Invalid request: some fields cannot be null.", details=errors)
        return self

    def changes(self) -> dict[str, Any]:
        """The fields the client sent (``None`` meaning: clear), without ``version``."""
        return {name: getattr(self, name) for name in self.model_fields_set if name != "version"}


class Account(Model):
    """An account as every endpoint returns it; never carries ``clientSecret`` or ``proxyPassword``."""

    id: str
    name: str
    clientId: str
    userId: str | None = None
    proxyType: ProxyType | None = None
    proxyHost: str | None = None
    proxyPort: int | None = None
    proxyLogin: str | None = None
    hasProxyPassword: bool = False
    hasClientSecret: bool = True
    connectionStatus: ConnectionStatus = ConnectionStatus.UNKNOWN
    proxyStatus: ProxyStatus = ProxyStatus.NOT_CONFIGURED
    lastCheckedAt: str | None = None
    lastError: str | None = None
    balanceReal: int | None = Field(default=None, description="kopecks")
    balanceBonus: int | None = Field(default=None, description="kopecks")
    cpaBalance: int | None = Field(default=None, description="kopecks")
    adsCount: int | None = None
    viewsCount: int | None = None
    contactsCount: int | None = None
    favoritesCount: int | None = None
    viewsToday: int | None = None
    contactsToday: int | None = None
    lastSyncAt: str | None = None
    eternalOnlineEnabled: bool = False
    onlineKeepAliveInterval: int = DEFAULT_INTERVAL
    isOnline: bool = False
    lastOnlineCheck: str | None = None
    lastOnlineError: str | None = None
    webhookSubscribed: bool = False
    authType: AuthType = Field(
        default=AuthType.CLIENT_CREDENTIALS,
        description="client_credentials: the account's API keys; oauth: connected by the owner's consent link",
    )
    tokenExpiresAt: str | None = Field(default=None, description="when the Avito access token in use expires")
    messengerAvailable: bool | None = Field(
        default=None, description="false after Avito refused Messenger (402/403: tariff or key); null before a call"
    )
    lastWebhookAt: str | None = Field(default=None, description="the last valid webhook delivery")
    webhookWarning: Literal["ours_missing", "foreign"] | None = Field(
        default=None,
        description="the webhook guard's warning: our subscription is gone at Avito (`ours_missing`) or another "
        "integration's URL is subscribed for the account (`foreign`); null when all is well",
    )
    webhookCheckedAt: str | None = Field(default=None, description="the daily webhook check's last run")
    version: int
    createdAt: str
    updatedAt: str

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Account:
        return cls.model_validate({name: item.get(name) for name in cls.model_fields if item.get(name) is not None})


class AccountSecrets(Model):
    """What the account's secret in Secrets Manager holds."""

    model_config = ConfigDict(hide_input_in_errors=True)  # it holds secrets

    clientSecret: SecretStr | None = None  # None for an oauth account (the partner app's secret is the service's)
    proxyPassword: SecretStr | None = None

    def to_json(self) -> str:
        return json.dumps(
            {
                "clientSecret": self.clientSecret.get_secret_value() if self.clientSecret else None,
                "proxyPassword": self.proxyPassword.get_secret_value() if self.proxyPassword else None,
            },
        )


class ProxySettings(Model):
    """The proxy an account's Avito calls go through."""

    model_config = ConfigDict(hide_input_in_errors=True)  # it holds secrets

    type: ProxyType
    host: str
    port: int
    login: str | None = None
    password: SecretStr | None = None


class AccountContext(Model):
    """Everything needed to talk to Avito for one account (the stored record plus its secrets)."""

    model_config = ConfigDict(hide_input_in_errors=True)  # it holds secrets

    account: Account
    clientSecret: SecretStr | None = None  # None for an oauth account
    proxy: ProxySettings | None = None
    refreshSecretArn: str | None = None  # an oauth account's refresh token (Secrets Manager, sealed)

    @property
    def id(self) -> str:
        return self.account.id
