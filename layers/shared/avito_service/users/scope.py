"""Object-level authorization: which accounts a caller may see (contract, "An operator sees only their accounts").

A caller carries ``account_ids``: ``None`` when not limited (admins, directors, an HS256 operator token without
an ``accountIds`` claim), else the set of accounts an operator works on. Everything that names an account
asks :func:`require_account`; an account outside the set answers exactly what an unknown account answers
(404 ``account_not_found``), so a limited operator cannot even learn that it exists. Lists ask
:func:`visible` (or pass the set on to their query, e.g. the inbox's filter).

Every REST route calls :func:`check_request` through its role middleware (``api.require_role``): it finds
the account a request names (a path ``accountId``, the ``id`` of ``/accounts/{id}...``, a query
``accountId``) with no per-route code, so a new endpoint cannot forget the check
(tests/integration/test_scoping.py walks every operation of openapi.json to prove it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TypeVar

from avito_service.errors import NotFound

T = TypeVar("T")
# Routes whose ``{id}`` path parameter is an account id.
_ACCOUNT_ID_ROUTES = ("/api/v1/accounts/<id>",)


def can_see(account_ids: frozenset[str] | None, account_id: str) -> bool:
    return account_ids is None or account_id in account_ids


def account_not_found(account_id: str) -> NotFound:
    return NotFound(f"No account with id '{account_id[:64]}'.", code="account_not_found")


def require_account(account_ids: frozenset[str] | None, account_id: str) -> None:
    """404 ``account_not_found`` (as for an account that does not exist) when the caller may not see it."""
    if not can_see(account_ids, account_id):
        raise account_not_found(account_id)


def visible[T](account_ids: frozenset[str] | None, items: Iterable[T], account_of: Callable[[T], str]) -> list[T]:
    """``items`` whose account the caller may see, in order."""
    return [item for item in items if can_see(account_ids, account_of(item))]


def named_accounts(route_path: str, path: Mapping[str, str] | None, query: Mapping[str, str] | None) -> list[str]:
    """The account ids a request names: path ``accountId``, ``/accounts/{id}...``'s ``id``, query ``accountId``."""
    path, query = path or {}, query or {}
    named = []
    if path.get("accountId"):
        named.append(path["accountId"])
    if path.get("id") and route_path.startswith(_ACCOUNT_ID_ROUTES):
        named.append(path["id"])
    if query.get("accountId"):
        named.append(query["accountId"])
    return named


def check_request(
    account_ids: frozenset[str] | None,
    route_path: str,
    path: Mapping[str, str] | None,
    query: Mapping[str, str] | None,
) -> None:
    if account_ids is None:
        return
    for account_id in named_accounts(route_path, path, query):
        require_account(account_ids, account_id)
