"""CORS for the REST functions: Powertools' ``CORSConfig`` with the origins of ``CORS_ALLOW_ORIGINS``.

Every REST handler gets it through ``rest_app()`` (``api.app``). An allowed origin gets
``Access-Control-Allow-Origin`` naming it (``*`` when any origin is allowed), on every answer, errors
included; any other origin gets no CORS header at all, so a browser on it cannot read the answer.
Preflights never reach the functions: API Gateway answers them (the template's ``Cors``).
"""

from __future__ import annotations

from aws_lambda_powertools.event_handler import CORSConfig

from avito_service.config import get_settings

# Powertools always allows Authorization and Content-Type (plus its X-Amz-* headers); sends take this one too.
EXTRA_ALLOW_HEADERS = ["Idempotency-Key"]
PREFLIGHT_MAX_AGE_SECONDS = 600


class SettingsCORSConfig(CORSConfig):
    """``CORSConfig`` whose allowed origins are read from the settings on first use, not at import.

    Powertools' own matching is kept (an exact origin, or ``*`` for any); only where the list comes from
    differs, because the resolver is built at import and settings are read lazily (avito_service.config).
    """

    def __init__(self) -> None:
        super().__init__(allow_origin="*", allow_headers=EXTRA_ALLOW_HEADERS, max_age=PREFLIGHT_MAX_AGE_SECONDS)

    def allowed_origin(self, extracted_origin: str | None) -> str | None:
        origins = get_settings().cors_origins
        if extracted_origin is None:
            return None
        if extracted_origin in origins:
            return extracted_origin
        return "*" if "*" in origins else None

    def to_dict(self, origin: str | None) -> dict[str, str]:
        headers = super().to_dict(origin)
        if headers and origin != "*":
            headers["Vary"] = "Origin"  # the answer depends on the request's Origin: caches must key on it
        return headers


def cors_config() -> CORSConfig:
    return SettingsCORSConfig()
