"""Service configuration: a small pydantic model read from the environment once per cold start."""

from __future__ import annotations

import functools
import os

from pydantic import BaseModel, Field


class Settings(BaseModel):
    """Everything the functions read from their environment (see env.example)."""

    accounts_table: str = Field(default="", description="DynamoDB table for accounts, snapshots and tokens")
    messenger_table: str = Field(default="", description="DynamoDB table for stored chats and messages")
    jwt_secret_arn: str = Field(default="", description="Secrets Manager ARN or name of the JWT signing key")
    account_secrets_prefix: str = Field(default="avito-service/accounts/", description="name prefix of account secrets")
    avito_api_url: str = Field(default="https://api.avito.ru", description="base URL of the Avito API")
    avito_connect_timeout: float = Field(default=5.0, gt=0, le=30)
    avito_read_timeout: float = Field(default=10.0, gt=0, le=60)
    avito_max_retries: int = Field(default=3, ge=0, le=10)
    avito_max_backoff: float = Field(default=8.0, ge=0, le=60)
    avito_proxy_ca_bundle: str = Field(default="", description="extra CA bundle trusted for HTTPS proxies' TLS")
    webhook_base_url: str = Field(default="", description="public base URL of the webhook Function URL")
    keepalive_queue_url: str = Field(default="", description="SQS queue of planned keep-alives")
    schedule_window_seconds: int = Field(default=300, ge=60, le=900)
    service_version: str = Field(default="0.1.0")
    x_source: str = Field(default="avito-service", description="X-Source header for Avito's CPA API")


_ENV = {
    "accounts_table": "ACCOUNTS_TABLE",
    "messenger_table": "MESSENGER_TABLE",
    "jwt_secret_arn": "JWT_SECRET_ARN",
    "account_secrets_prefix": "ACCOUNT_SECRETS_PREFIX",
    "avito_api_url": "AVITO_API_URL",
    "avito_connect_timeout": "AVITO_CONNECT_TIMEOUT",
    "avito_read_timeout": "AVITO_READ_TIMEOUT",
    "avito_max_retries": "AVITO_MAX_RETRIES",
    "avito_max_backoff": "AVITO_MAX_BACKOFF",
    "avito_proxy_ca_bundle": "AVITO_PROXY_CA_BUNDLE",
    "webhook_base_url": "WEBHOOK_BASE_URL",
    "keepalive_queue_url": "KEEPALIVE_QUEUE_URL",
    "schedule_window_seconds": "SCHEDULE_WINDOW_SECONDS",
    "service_version": "SERVICE_VERSION",
    "x_source": "AVITO_X_SOURCE",
}


@functools.cache
def get_settings() -> Settings:
    """Read the settings from the environment (first call only; tests call ``get_settings.cache_clear()``)."""
    values = {field: os.environ[name] for field, name in _ENV.items() if os.environ.get(name)}
    return Settings(**values)
