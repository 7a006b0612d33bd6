"""Service configuration: read from the environment once per container, on first use (never at import).

A plain frozen dataclass rather than a pydantic model: the authorizer and the health check need settings
but no pydantic, and importing pydantic alone is a large share of their cold start
(benchmarks/cold_start.py). The few bounds are checked here; a bad value names its variable.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from dataclasses import dataclass, field
from typing import Any


def _setting(default: Any, env: str, low: float | None = None, high: float | None = None, doc: str = "") -> Any:
    return field(default=default, metadata={"env": env, "low": low, "high": high, "doc": doc})


@dataclass(frozen=True)
class Settings:
    """Everything the functions read from their environment (see env.example)."""

    accounts_table: str = _setting("", "ACCOUNTS_TABLE", doc="DynamoDB table for accounts and snapshots")
    tokens_table: str = _setting("", "TOKENS_TABLE", doc="DynamoDB table of cached Avito tokens (Avito callers only)")
    tokens_key_id: str = _setting("", "TOKENS_KEY_ID", doc="KMS key that seals Avito tokens (Avito callers only)")
    avito_app_client_id: str = _setting("", "AVITO_APP_CLIENT_ID", doc="the partner app's client id (consent links)")
    avito_app_secret_arn: str = _setting("", "AVITO_APP_SECRET_ARN", doc="Secrets Manager ARN of the app's secret")
    avito_oauth_url: str = _setting("https://avito.ru/oauth", "AVITO_OAUTH_URL", doc="Avito's consent page")
    oauth_redirect_url: str = _setting("", "OAUTH_REDIRECT_URL", doc="the app's redirect URL (GET /oauth/callback)")
    idempotency_table: str = _setting("", "IDEMPOTENCY_TABLE", doc="DynamoDB table of Idempotency-Key answers")
    messenger_table: str = _setting("", "MESSENGER_TABLE", doc="DynamoDB table for stored chats and messages")
    templates_table: str = _setting("", "TEMPLATES_TABLE", doc="DynamoDB table of quick replies (templates)")
    search_table: str = _setting("", "SEARCH_TABLE", doc="DynamoDB table of the search index (word prefixes)")
    reports_table: str = _setting("", "REPORTS_TABLE", doc="DynamoDB table of the reports' figures")
    auto_replies_table: str = _setting(
        "", "AUTO_REPLIES_TABLE", doc="DynamoDB table of automatic-reply settings and blacklisted users"
    )
    jwt_secret_arn: str = _setting("", "JWT_SECRET_ARN", doc="Secrets Manager ARN or name of the JWT signing key")
    account_secrets_prefix: str = _setting("avito-service/accounts/", "ACCOUNT_SECRETS_PREFIX")
    avito_api_url: str = _setting("https://api.avito.ru", "AVITO_API_URL", doc="base URL of the Avito API")
    avito_connect_timeout: float = _setting(5.0, "AVITO_CONNECT_TIMEOUT", 0.001, 30)
    avito_read_timeout: float = _setting(10.0, "AVITO_READ_TIMEOUT", 0.001, 60)
    avito_max_retries: int = _setting(3, "AVITO_MAX_RETRIES", 0, 10)
    avito_max_backoff: float = _setting(8.0, "AVITO_MAX_BACKOFF", 0, 60)
    avito_request_budget: float = _setting(
        20.0, "AVITO_REQUEST_BUDGET", 0.5, 27, doc="seconds one API request may spend on Avito calls and waits"
    )
    avito_background_budget: float = _setting(
        60.0, "AVITO_BACKGROUND_BUDGET", 0.5, 900, doc="seconds one background unit of work may spend on Avito"
    )
    avito_proxy_ca_bundle: str = _setting("", "AVITO_PROXY_CA_BUNDLE", doc="extra CA bundle trusted for HTTPS proxies")
    proxy_networks: str = _setting(
        "public",
        "PROXY_NETWORKS",
        doc="proxy hosts allowed: public, private (also private ranges), local (also loopback)",
    )
    webhook_base_url: str = _setting("", "WEBHOOK_BASE_URL", doc="public base URL of the webhook Function URL")
    console_websocket_url: str = _setting("", "CONSOLE_WEBSOCKET_URL", doc="live-updates WebSocket URL for the console")

    cors_allow_origins: str = _setting("*", "CORS_ALLOW_ORIGINS", doc="browser origins allowed (comma-separated, *)")
    keepalive_queue_url: str = _setting("", "KEEPALIVE_QUEUE_URL", doc="SQS queue of planned keep-alives")
    cleanup_queue_url: str = _setting("", "CLEANUP_QUEUE_URL", doc="SQS queue of deleted accounts to clean up")
    schedule_window_seconds: int = _setting(300, "SCHEDULE_WINDOW_SECONDS", 60, 900)
    connections_table: str = _setting("", "CONNECTIONS_TABLE", doc="DynamoDB table of open WebSocket connections")
    websocket_management_url: str = _setting(
        "",
        "WEBSOCKET_MANAGEMENT_URL",
        doc="the WebSocket API's https://<api>.execute-api.<region>.amazonaws.com/<stage>",
    )
    service_version: str = _setting("0.1.0", "SERVICE_VERSION")
    x_source: str = _setting("avito-service", "AVITO_X_SOURCE", doc="X-Source header for Avito's CPA API")
    avito_limits_table: str = _setting("", "AVITO_LIMITS_TABLE", doc="DynamoDB table of per-account Avito budgets")
    avito_limits_time_scale: float = _setting(
        1.0, "AVITO_LIMITS_TIME_SCALE", 0.001, 1, doc="test only: Avito's limit windows times this factor"
    )
    jobs_table: str = _setting("", "JOBS_TABLE", doc="DynamoDB table of background jobs")
    jobs_queue_url: str = _setting("", "JOBS_QUEUE_URL", doc="SQS queue of background job steps")
    sync_inline_seconds: float = _setting(20.0, "SYNC_INLINE_SECONDS", 0.1, 25, doc="sync-stats answers 202 after")
    jobs_max_wait_seconds: float = _setting(
        20.0, "JOBS_MAX_WAIT_SECONDS", 0, 600, doc="a job waits this long for Avito's budget, else re-queues itself"
    )

    alert_function_arn: str = _setting("", "ALERT_FUNCTION_ARN", doc="the function a waiting alert's schedule invokes")
    scheduler_role_arn: str = _setting("", "SCHEDULER_ROLE_ARN", doc="the role EventBridge Scheduler invokes it with")
    schedule_group: str = _setting("default", "SCHEDULE_GROUP", doc="EventBridge Scheduler group of waiting alerts")
    offline_grace_minutes: int = _setting(
        10, "OFFLINE_GRACE_MINUTES", 1, 1440, doc="an offline operator's chats go back to the queue after this"
    )
    users_table: str = _setting("", "USERS_TABLE", doc="DynamoDB table of users (assignments, revocation, logins)")
    audit_table: str = _setting("", "AUDIT_TABLE", doc="DynamoDB table of the audit log")
    user_pool_id: str = _setting("", "USER_POOL_ID", doc="Cognito user pool id (its access tokens are accepted)")
    user_pool_client_id: str = _setting("", "USER_POOL_CLIENT_ID", doc="the pool's app client id (sign-in)")
    cognito_jwks_url: str = _setting("", "COGNITO_JWKS_URL", doc="the pool's keys; empty: derived from the pool id")

    @property
    def cors_origins(self) -> frozenset[str]:
        """The allowed origins: ``CORS_ALLOW_ORIGINS`` split on commas, blanks dropped."""
        return frozenset(origin.strip() for origin in self.cors_allow_origins.split(",") if origin.strip())

    @classmethod
    def from_environ(cls, environ: dict[str, str] | os._Environ[str]) -> Settings:
        """Settings from ``environ``: unset or empty variables keep their defaults; bad values raise ValueError."""
        values: dict[str, Any] = {}
        for spec in dataclasses.fields(cls):
            raw = environ.get(spec.metadata["env"])
            if raw:
                values[spec.name] = _parse(spec, raw)
        return cls(**values)


def _parse(spec: dataclasses.Field[Any], raw: str) -> Any:
    name, kind = spec.metadata["env"], type(spec.default)
    if kind is str:
        return raw
    try:
        value = kind(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number of type {kind.__name__}, got {raw!r}") from None
    low, high = spec.metadata["low"], spec.metadata["high"]
    if (low is not None and value < low) or (high is not None and value > high):
        raise ValueError(f"{name} must be between {low} and {high}, got {raw!r}")
    return value


@functools.cache
def get_settings() -> Settings:
    """Read the settings from the environment (first call only; tests call ``get_settings.cache_clear()``)."""
    return Settings.from_environ(os.environ)
