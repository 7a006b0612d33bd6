"""Consent links: what an admin asks for and gets back, and the scopes Avito's consent page knows."""

from __future__ import annotations

from enum import StrEnum

from pydantic import ConfigDict, Field

from avito_service.accounts.models import Name
from avito_service.base import Model


class Scope(StrEnum):
    """Avito's scopes for partner apps (authorization.json, tag ApplicationAccess)."""

    MESSENGER_READ = "messenger:read"
    MESSENGER_WRITE = "messenger:write"
    USER_BALANCE_READ = "user_balance:read"
    JOB_WRITE = "job:write"
    JOB_CV = "job:cv"
    JOB_VACANCY = "job:vacancy"
    JOB_APPLICATIONS = "job:applications"
    USER_OPERATIONS_READ = "user_operations:read"
    USER_READ = "user:read"
    AUTOLOAD_REPORTS = "autoload:reports"
    ITEMS_INFO = "items:info"
    ITEMS_APPLY_VAS = "items:apply_vas"
    SHORT_TERM_RENT_READ = "short_term_rent:read"
    SHORT_TERM_RENT_WRITE = "short_term_rent:write"
    STATS_READ = "stats:read"


# What the service uses: Messenger, the account's own info and balance, items and their statistics.
DEFAULT_SCOPES = (
    Scope.MESSENGER_READ,
    Scope.MESSENGER_WRITE,
    Scope.USER_READ,
    Scope.USER_BALANCE_READ,
    Scope.ITEMS_INFO,
    Scope.STATS_READ,
)


class ConnectLinkCreate(Model):
    """Body of ``POST /api/v1/accounts/connect-link``."""

    model_config = ConfigDict(extra="forbid")

    name: Name = Field(description="the account's name once its owner has consented")
    scopes: list[Scope] | None = Field(
        default=None,
        min_length=1,
        max_length=len(Scope),
        description="Avito scopes to ask for; default: messenger:read, messenger:write, user:read, "
        "user_balance:read, items:info, stats:read",
    )


class ConnectLink(Model):
    url: str = Field(description="Avito's consent page for the account's owner, with a single-use state")
    expiresAt: str = Field(description="the link works once, until then (24 h)")
