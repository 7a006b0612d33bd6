"""The call centre's partner app at Avito: its client id (``AVITO_APP_CLIENT_ID``) and its secret (Secrets Manager,
``AVITO_APP_SECRET_ARN``; the secret string, or JSON with ``clientSecret``), read once per container and again
after ``SECRET_CACHE_SECONDS`` (a rotated secret is picked up without a deploy)."""

from __future__ import annotations

import json
import threading
import time

from avito_service import aws, snapstart
from avito_service.config import get_settings
from avito_service.errors import Conflict

SECRET_CACHE_SECONDS = 300.0

_lock = threading.Lock()
_cached: tuple[str, str, float] | None = None  # (arn, secret, read at)


@snapstart.after_restore
def forget() -> None:
    global _cached  # noqa: PLW0603 - the container's copy of the app secret
    with _lock:
        _cached = None


def configured() -> bool:
    settings = get_settings()
    return bool(settings.avito_app_client_id and settings.avito_app_secret_arn)


def require_configured() -> None:
    if not configured():
        raise Conflict(
            "Consent links need the call centre's Avito partner app: set the AvitoAppClientId parameter and the "
            "app's secret (DEPLOYMENT.md, 'Consent links').",
            code="oauth_not_configured",
        )


def client_id() -> str:
    return get_settings().avito_app_client_id


def client_secret() -> str:
    global _cached  # noqa: PLW0603 - the container's copy of the app secret
    arn = get_settings().avito_app_secret_arn
    with _lock:
        if _cached and _cached[0] == arn and time.monotonic() - _cached[2] < SECRET_CACHE_SECONDS:
            return _cached[1]
    raw = aws.secrets_client().get_secret_value(SecretId=arn)["SecretString"]
    secret = raw
    if raw.lstrip().startswith("{"):
        secret = str(json.loads(raw).get("clientSecret") or "")
    with _lock:
        _cached = (arn, secret, time.monotonic())
    return secret
