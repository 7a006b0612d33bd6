"""The one cache reset of the tests and the benchmarks: every per-container cache of the shared package that
holds settings, clients or table names, so a test (or a benchmark's run) sees the environment it set."""

from __future__ import annotations


def reset_caches() -> None:
    from avito_service import auth, aws
    from avito_service.accounts import vault
    from avito_service.accounts.store import account_store
    from avito_service.avito import limits, sealing
    from avito_service.config import get_settings
    from avito_service.messenger.store import chat_store
    from avito_service.reports.store import report_store
    from aws_lambda_powertools.utilities import parameters

    get_settings.cache_clear()
    aws.clear_caches()
    vault.clear_cache()
    account_store.cache_clear()
    parameters.clear_caches()
    chat_store.cache_clear()
    report_store.cache_clear()
    limits.clear_cache()
    sealing.forget_keys()
    from avito_service.webhooks import deliveries

    deliveries._last_noted.clear()
    auth.user_cache.clear()
    auth.pool_keys.cache_clear()
