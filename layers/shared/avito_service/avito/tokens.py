"""Avito access tokens, fetched once per account and shared by every Lambda container.

The token item (AccountsTable, pk ``ACCOUNT#<id>``, sk ``TOKEN``) holds the token, its expiry and a
short fetch lease. A container that needs a token:

1. uses its in-memory copy, else the stored one, while it has more than ``REFRESH_MARGIN`` seconds left;
2. otherwise takes the lease with a conditional write (only one container wins), fetches a token from
   Avito and stores it; the others wait for the stored token instead of fetching their own.

After a 401/403 the caller asks for a refresh *of the token it used*: the condition ``accessToken = :bad``
makes sure one refresh happens however many containers saw the rejection. The token is a secret: it is
never logged or returned (DynamoDB encrypts it at rest; the item expires through the table's TTL).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from avito_service import aws, snapstart
from avito_service.accounts.repository import token_key
from avito_service.observability import logger, metrics

REFRESH_MARGIN = 300  # seconds before expiry when a token is no longer handed out
LEASE_SECONDS = 15
WAIT_STEP = 0.1


@dataclass(frozen=True)
class Token:
    value: str
    expires_at: float
    fingerprint: str  # which credentials it belongs to

    def usable(self, now: float) -> bool:
        return self.expires_at - REFRESH_MARGIN > now


Fetcher = Callable[[], tuple[str, int]]  # -> (access_token, expires_in)

_memory: dict[str, Token] = {}
_memory_lock = threading.Lock()
_owner = uuid.uuid4().hex  # this container


@snapstart.after_restore
def _new_owner() -> None:
    """Every copy restored from one SnapStart snapshot is another container: it gets its own lease owner id."""
    global _owner  # noqa: PLW0603 - one id per container, replaced only here
    _owner = uuid.uuid4().hex


_account_locks: dict[str, threading.Lock] = {}


def _account_lock(account_id: str) -> threading.Lock:
    with _memory_lock:
        return _account_locks.setdefault(account_id, threading.Lock())


class TokenStore:
    def __init__(self, table_name: str) -> None:
        self._table = aws.table(table_name)

    def get_token(
        self, account_id: str, fingerprint: str, fetch: Fetcher, *, reject: str | None = None, timeout: float = 30.0
    ) -> str:
        """A usable token for the account; ``reject`` names a token Avito just refused."""
        deadline = time.monotonic() + timeout
        with _memory_lock:
            cached = _memory.get(account_id)
        if cached and cached.fingerprint == fingerprint and cached.value != reject and cached.usable(time.time()):
            return cached.value
        with _account_lock(account_id):  # threads of one container queue here; containers meet in DynamoDB
            return self._shared_token(account_id, fingerprint, fetch, reject, deadline)

    def _shared_token(
        self, account_id: str, fingerprint: str, fetch: Fetcher, reject: str | None, deadline: float
    ) -> str:
        while True:
            stored = self._read(account_id)
            now = time.time()
            if stored and stored.fingerprint == fingerprint and stored.value != reject and stored.usable(now):
                return self._remember(account_id, stored)
            if self._take_lease(account_id, now, fingerprint, reject):
                return self._fetch_and_store(account_id, fingerprint, fetch)
            if time.monotonic() > deadline:
                raise TimeoutError("another container is fetching the Avito token and has not finished")
            time.sleep(WAIT_STEP)

    def _read(self, account_id: str) -> Token | None:
        item = self._table.get_item(Key=token_key(account_id), ConsistentRead=True).get("Item")
        if not item or "accessToken" not in item:
            return None
        return Token(str(item["accessToken"]), float(item["expiresAt"]), str(item.get("fingerprint", "")))

    def _take_lease(self, account_id: str, now: float, fingerprint: str, reject: str | None) -> bool:
        """Win the right to fetch, unless someone holds it or a usable token is already stored."""
        stale = "attribute_not_exists(accessToken) OR expiresAt < :fresh OR fingerprint <> :fp"
        if reject:
            stale += " OR accessToken = :reject"
        condition = f"(attribute_not_exists(leaseUntil) OR leaseUntil < :now) AND ({stale})"
        values: dict[str, Any] = {
            ":now": int(now),
            ":until": int(now + LEASE_SECONDS),
            ":me": _owner,
            ":fresh": int(now + REFRESH_MARGIN),
            ":fp": fingerprint,
        }
        if reject:
            values[":reject"] = reject
        try:
            self._table.update_item(
                Key=token_key(account_id),
                UpdateExpression="SET leaseUntil = :until, leaseOwner = :me, #ttl = :ttl",
                ConditionExpression=condition,
                ExpressionAttributeNames={"#ttl": "ttl"},
                ExpressionAttributeValues={**values, ":ttl": int(now + 86400 * 2)},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        if reject:
            logger.info("Refreshing an Avito token that was rejected", extra={"account_id": account_id})
        return True

    def _fetch_and_store(self, account_id: str, fingerprint: str, fetch: Fetcher) -> str:
        try:
            value, expires_in = fetch()
        except BaseException:
            self._table.update_item(Key=token_key(account_id), UpdateExpression="REMOVE leaseUntil, leaseOwner")
            raise
        metrics.add_metric(name="AvitoTokenFetched", unit="Count", value=1)
        token = Token(value, time.time() + int(expires_in), fingerprint)
        self._table.put_item(
            Item={
                **token_key(account_id),
                "accessToken": token.value,
                "expiresAt": int(token.expires_at),
                "fingerprint": fingerprint,
                "ttl": int(token.expires_at) + 3600,
            },
        )
        return self._remember(account_id, token)

    @staticmethod
    def _remember(account_id: str, token: Token) -> str:
        with _memory_lock:
            _memory[account_id] = token
        return token.value


def forget_in_memory(account_id: str | None = None) -> None:
    with _memory_lock:
        if account_id is None:
            _memory.clear()
        else:
            _memory.pop(account_id, None)
