"""Cold starts (issue 22, item 14): a REST function that does not call Avito imports neither the Avito client's HTTP
library nor the token sealing's cryptography; ``benchmarks/cold_start.py`` measures what that saves.

AccountsGet, StatsHistory, OnlineDisable and SyncAll were 1.16x-1.20x the floor: each imported
``accounts.service``, which imported the Avito token store (and with it ``cryptography``'s AES-GCM) only for an
update of the credentials. The users, sign-in and chat-list functions imported PyJWT, which imports
``cryptography`` when it is installed (it is, in the layer), without verifying any token. Each handler is
imported in a fresh interpreter, as a cold start does.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOT_CALLING_AVITO = [
    "accounts_get",
    "accounts_list",
    "accounts_stats_history",
    "online_disable",
    "online_status",
    "accounts_sync_all",
    "accounts_routing",
    # 1.26x-1.37x the floor on 2026-12-07: PyJWT (and through it cryptography) came with the users store's
    # UserState (now users/state.py) and the pool's reading of Cognito's id token (now a base64 decode)
    "users_get",
    "users_list",
    "users_create",
    "users_update",
    "users_delete",
    "users_me",
    "auth_login",
    "auth_logout",
    "auth_refresh",
    "auth_new_password",
    "chats_list",
    "chats_workflow",
]
HEAVY = ["cryptography", "requests", "jwt"]


def imported(module: str, watched: list[str] = HEAVY) -> dict[str, bool]:
    code = f"import json, sys; import {module}; print(json.dumps({{m: m in sys.modules for m in {watched!r}}}))"
    paths = [str(ROOT), str(ROOT / "layers" / "shared"), str(ROOT / "functions")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths), "AWS_DEFAULT_REGION": "us-east-1"}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("module", NOT_CALLING_AVITO)
def test_a_function_that_does_not_call_avito_imports_no_http_client_nor_sealing(module: str) -> None:
    assert imported(module) == dict.fromkeys(HEAVY, False)


USERS_AND_SIGN_IN = [m for m in NOT_CALLING_AVITO if m.startswith(("users_", "auth_"))]
ACCOUNTS_SERVICE = ["avito_service.accounts.service", "avito_service.accounts.models", "avito_service.accounts.vault"]


@pytest.mark.parametrize("module", USERS_AND_SIGN_IN)
def test_the_users_and_sign_in_functions_check_account_ids_through_the_store_alone(module: str) -> None:
    """1.16x-1.20x the floor on 2026-12-07: users.service imported the accounts service (its models, the proxy
    checks, the secrets vault) for one ``account_store().get`` when an admin assigns accounts."""
    assert imported(module, ACCOUNTS_SERVICE) == dict.fromkeys(ACCOUNTS_SERVICE, False)


ACCOUNT_CHECK_ONLY = [
    "online_status",
    "online_disable",
    "autoreplies_get",
    "autoreplies_update",
    "accounts_routing",
    "accounts_stats_history",
    "accounts_sync_all",
]


@pytest.mark.parametrize("module", ACCOUNT_CHECK_ONLY)
def test_a_function_that_only_checks_the_account_exists_reads_it_through_the_store(module: str) -> None:
    """1.15x-1.25x the floor on 2026-12-07: eternal online, the automatic replies, routing and statistics imported
    the accounts service (its proxy checks, the secrets vault) for its 404; ``AccountStore.existing`` answers it
    now. (Eternal online still imports the accounts' models: it answers an ``Account``.)"""
    watched = [m for m in ACCOUNTS_SERVICE if not (module.startswith("online_") and m.endswith(".models"))]
    assert imported(module, watched) == dict.fromkeys(watched, False)


def test_the_chat_list_imports_neither_the_workflow_service_nor_the_audit_log() -> None:
    """1.15x the floor on 2026-12-07: ``GET /chats`` with workflow filters lived in workflow.service beside the
    transitions, which write the audit log; it is workflow/listing.py now."""
    watched = ["avito_service.workflow.service", "avito_service.audit.service", "avito_service.audit.store"]
    assert imported("chats_list", watched) == dict.fromkeys(watched, False)


def test_an_update_of_the_credentials_still_imports_the_token_store_at_init() -> None:
    """accounts_update forgets the old credentials' token: the import stays in its init (and SnapStart snapshot)."""
    assert imported("accounts_update")["cryptography"] is True
