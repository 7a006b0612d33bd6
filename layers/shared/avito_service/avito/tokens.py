"""Avito access tokens, fetched once per account and shared by every Lambda container.

The tokens live in their own table (``TokensTable``, key ``accountId``, ``ttl`` attribute) that only the
functions that call Avito may read. One item per account holds the token, its expiry, the fingerprint of the
credentials it belongs to, a short fetch lease and the Messenger-denied marker. A container that needs a token:

1. uses its in-memory copy, else the stored one, while it is usable (see :func:`lifetime`);
2. otherwise takes the lease with a conditional write (only one container wins), fetches a token from
   Avito and stores it; the others wait for the stored token instead of fetching their own. The wait draws
   from the caller's time budget (``avito_service.deadline``).

After a 401/403 the caller asks for a refresh *of the token it used*: the condition ``tokenId = :bad``
makes sure one refresh happens however many containers saw the rejection. The client refreshes a token at
most once (a token fetched moments ago is not refreshed again), and a Messenger 403 on a fresh token sets
``messengerDeniedUntil`` (:meth:`TokenStore.deny_messenger`), so later 403s within ``MESSENGER_DENIED_SECONDS``
are answered ``messenger_not_available`` at once instead of fetching a token per call and per keep-alive.

The token is a secret: it is never logged or returned, and it is stored sealed (``sealedToken``, envelope
encryption under the stack's KMS key that only Avito callers may use, ``avito.sealing``) beside ``tokenId``, a
SHA-256 digest that the conditions compare (a sealed value differs on every write). An item of the first rounds
that holds the token in plain text (``accessToken``) is treated as absent: the token is fetched again and the
plain attribute removed by the write that stores the sealed one. The item expires through the table's TTL.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from botocore.exceptions import ClientError

from avito_service import aws, dynamo, snapstart
from avito_service.avito import sealing
from avito_service.config import get_settings
from avito_service.deadline import Deadline, DeadlineExceeded
from avito_service.observability import logger, metrics

REFRESH_MARGIN = 300  # seconds before expiry when a token is no longer handed out (less for short lifetimes)
MIN_LIFETIME = 60  # an expires_in below this (or negative) still keeps a token this long: one fetch a minute at most
MAX_LIFETIME = 7 * 86400  # an absurd expires_in is capped; a 401 refreshes a token that really expired
DEFAULT_LIFETIME = 3600  # expires_in missing or not a number
FRESH_SECONDS = 60  # a token fetched this recently to replace a rejected one is not refreshed again
MESSENGER_DENIED_SECONDS = 600  # how long a Messenger 403 on a fresh token is remembered per account
LEASE_SECONDS = 15
WAIT_STEP = 0.1


def lifetime(expires_in: Any) -> float:
    """Avito's ``expires_in`` -> seconds the service keeps the token, always within [MIN, MAX]_LIFETIME."""
    try:
        seconds = float(expires_in)
    except (TypeError, ValueError):
        return DEFAULT_LIFETIME
    if math.isnan(seconds):
        return DEFAULT_LIFETIME
    return min(max(seconds, MIN_LIFETIME), MAX_LIFETIME)


def _margin(life: float) -> float:
    return min(REFRESH_MARGIN, life / 4)


@dataclass(frozen=True)
class Token:
    value: str
    expires_at: float
    fingerprint: str  # which credentials it belongs to
    fetched_at: float = 0.0
    messenger_denied_until: float = 0.0
    refreshed: bool = False  # fetched because Avito rejected the previous token

    def usable(self, now: float) -> bool:
        return self.expires_at - _margin(self.expires_at - self.fetched_at) > now

    def fresh(self, now: float) -> bool:
        """Fetched moments ago to replace a rejected token: refreshing it again cannot help."""
        return self.refreshed and now - self.fetched_at < FRESH_SECONDS

    def messenger_denied(self, now: float) -> bool:
        return self.messenger_denied_until > now


Fetcher = Callable[[], tuple[str, Any]]  # -> (access_token, expires_in as Avito sent it)
Fetched = Callable[[Token], None]  # told of every token this container fetched and stored (account health)


class Container:
    """What one Lambda container keeps: its lease owner id, its tokens in memory, a lock per account for its
    threads. One per process; the tests give threads their own (``threading.local`` subclasses) to play several
    containers against one table."""

    def __init__(self) -> None:
        self.owner = uuid.uuid4().hex
        self.memory: dict[str, Token] = {}
        self.memory_lock = threading.Lock()
        self.account_locks: dict[str, threading.Lock] = {}


container = Container()


def _owner() -> str:
    return container.owner


@snapstart.after_restore
def _new_owner() -> None:
    """Every copy restored from one SnapStart snapshot is another container: it gets its own lease owner id."""
    container.owner = uuid.uuid4().hex


def _account_lock(account_id: str) -> threading.Lock:
    with container.memory_lock:
        return container.account_locks.setdefault(account_id, threading.Lock())


def token_key(account_id: str) -> dict[str, str]:
    return {"accountId": account_id}


SEALED_FIELD = "accessToken"  # the field name bound into the sealed value (sealing's associated data)


def token_id(value: str) -> str:
    """What the conditions compare instead of the token (a bearer token has far more entropy than a digest
    could leak)."""
    return hashlib.sha256(value.encode()).hexdigest()[:32]


class TokenStore:
    def __init__(self, table_name: str | None = None, *, on_fetched: Fetched | None = None) -> None:
        self._table = aws.table(table_name or get_settings().tokens_table)
        self._on_fetched = on_fetched

    def get_token(
        self, account_id: str, fingerprint: str, fetch: Fetcher, *, deadline: Deadline, reject: str | None = None
    ) -> Token:
        """A usable token for the account; ``reject`` names a token Avito just refused."""
        cached = self.remembered(account_id, fingerprint)
        if cached and cached.value != reject and cached.usable(time.time()):
            return cached
        lock = _account_lock(account_id)  # threads of one container queue here; containers meet in DynamoDB
        if not lock.acquire(timeout=max(deadline.remaining(), 0.001)):
            raise _waited_too_long(deadline)
        try:
            return self._shared_token(account_id, fingerprint, fetch, reject, deadline)
        finally:
            lock.release()

    @staticmethod
    def remembered(account_id: str, fingerprint: str) -> Token | None:
        with container.memory_lock:
            cached = container.memory.get(account_id)
        return cached if cached and cached.fingerprint == fingerprint else None

    def _shared_token(
        self, account_id: str, fingerprint: str, fetch: Fetcher, reject: str | None, deadline: Deadline
    ) -> Token:
        while True:
            deadline.check("the Avito token was ready")
            item = self._read_item(account_id)
            stored = _token_of(item)
            now = time.time()
            if stored and stored.fingerprint == fingerprint and stored.value != reject and stored.usable(now):
                return self._remember(account_id, stored)
            # While another container's lease is live, only read: a waiter's failing conditional write would
            # still cost a write per wait step.
            leased = bool(item) and float(item.get("leaseUntil", 0)) >= int(now) and item.get("leaseOwner") != _owner()
            if not leased and self._take_lease(account_id, now, fingerprint, reject):
                return self._fetch_and_store(account_id, fingerprint, fetch, stored, refresh=reject is not None)
            if deadline.remaining() <= WAIT_STEP:
                raise _waited_too_long(deadline)
            time.sleep(WAIT_STEP)

    def _read(self, account_id: str) -> Token | None:
        return _token_of(self._read_item(account_id))

    def _read_item(self, account_id: str) -> dict[str, Any] | None:
        return self._table.get_item(Key=token_key(account_id), ConsistentRead=True).get("Item")

    def _release(self, account_id: str) -> None:
        """Drop our fetch lease, and only ours (another container may hold the lease by now)."""
        try:
            self._table.update_item(
                Key=token_key(account_id),
                UpdateExpression="REMOVE leaseUntil, leaseOwner",
                ConditionExpression="leaseOwner = :me",
                ExpressionAttributeValues={":me": _owner()},
            )
        except ClientError as exc:
            if not dynamo.condition_failed(exc):
                raise

    def _take_lease(self, account_id: str, now: float, fingerprint: str, reject: str | None) -> bool:
        """Win the right to fetch, unless someone holds it or a usable token is already stored."""
        stale = "attribute_not_exists(sealedToken) OR usableUntil < :now OR fingerprint <> :fp"
        if reject:
            stale += " OR tokenId = :reject"
        condition = f"(attribute_not_exists(leaseUntil) OR leaseUntil < :now OR leaseOwner = :me) AND ({stale})"
        values: dict[str, Any] = {
            ":now": int(now),
            ":until": int(now + LEASE_SECONDS),
            ":me": _owner(),
            ":fp": fingerprint,
        }
        if reject:
            values[":reject"] = token_id(reject)
        try:
            self._table.update_item(
                Key=token_key(account_id),
                UpdateExpression="SET leaseUntil = :until, leaseOwner = :me, #ttl = if_not_exists(#ttl, :ttl)",
                ConditionExpression=condition,
                ExpressionAttributeNames={"#ttl": "ttl"},
                ExpressionAttributeValues={**values, ":ttl": int(now + 86400 * 2)},
            )
        except ClientError as exc:
            if dynamo.condition_failed(exc):
                return False
            raise
        if reject:
            logger.info("Refreshing an Avito token that was rejected", extra={"account_id": account_id})
        return True

    def _fetch_and_store(
        self, account_id: str, fingerprint: str, fetch: Fetcher, stored: Token | None, *, refresh: bool
    ) -> Token:
        try:
            value, expires_in = fetch()
        except BaseException:
            self._release(account_id)
            raise
        metrics.add_metric(name="AvitoTokenFetched", unit="Count", value=1)
        now = time.time()
        life = lifetime(expires_in)
        token = Token(value, now + life, fingerprint, now, refreshed=refresh)
        if stored is not None and stored.fingerprint == fingerprint:  # the same credentials: keep the marker
            token = replace(token, messenger_denied_until=stored.messenger_denied_until)
        # One update that sets the token's fields and drops the lease, leaving the Messenger marker as it is; only
        # while the lease is still ours (it ran out and another container took it: that one stores its token).
        try:
            self._table.update_item(
                Key=token_key(account_id),
                UpdateExpression=(
                    "SET sealedToken = :t, tokenId = :id, expiresAt = :e, usableUntil = :u, fingerprint = :fp, "
                    "fetchedAt = :f, refreshed = :r, #ttl = :ttl REMOVE leaseUntil, leaseOwner, accessToken"
                ),
                ConditionExpression="leaseOwner = :me",
                ExpressionAttributeNames={"#ttl": "ttl"},
                ExpressionAttributeValues={
                    ":t": sealing.seal(token.value, account_id=account_id, field=SEALED_FIELD),
                    ":id": token_id(token.value),
                    ":e": int(token.expires_at),
                    ":u": int(token.expires_at - _margin(life)),
                    ":fp": fingerprint,
                    ":f": int(now),
                    ":r": refresh,
                    ":ttl": int(token.expires_at) + 3600,
                    ":me": _owner(),
                },
            )
        except ClientError as exc:
            if not dynamo.condition_failed(exc):
                raise
            logger.info(
                "The token lease passed to another container; not storing this token", extra={"account_id": account_id}
            )
        if self._on_fetched is not None:
            self._on_fetched(token)
        return self._remember(account_id, token)

    def stored(self, account_id: str, fingerprint: str) -> Token | None:
        """The token item as stored now (one consistent read), if it belongs to these credentials."""
        token = self._read(account_id)
        return token if token and token.fingerprint == fingerprint else None

    def deny_messenger(self, account_id: str, token: Token) -> None:
        """Remember (here and for every container) that Messenger refused a fresh token of these credentials."""
        until = time.time() + MESSENGER_DENIED_SECONDS
        self._remember(account_id, replace(token, messenger_denied_until=until))
        try:
            self._table.update_item(
                Key=token_key(account_id),
                UpdateExpression="SET messengerDeniedUntil = :until, messengerDeniedFp = :fp",
                ConditionExpression="attribute_exists(sealedToken)",
                ExpressionAttributeValues={":until": int(until), ":fp": token.fingerprint},
            )
        except ClientError as exc:
            if not dynamo.condition_failed(exc):
                raise
        logger.info("Messenger refused a fresh token; not refreshing for a while", extra={"account_id": account_id})

    def forget(self, account_id: str) -> None:
        """Drop the account's stored token (credentials changed, account deleted)."""
        forget_in_memory(account_id)
        self._table.delete_item(Key=token_key(account_id))

    @staticmethod
    def _remember(account_id: str, token: Token) -> Token:
        with container.memory_lock:
            container.memory[account_id] = token
        return token


def _token_of(item: dict[str, Any] | None) -> Token | None:
    """The stored token; None when there is none, or only a plain-text one of the first rounds (re-fetched)."""
    if not item or not sealing.is_sealed(item.get("sealedToken")):
        return None
    account_id = str(item["accountId"])
    try:
        value = sealing.open_sealed(str(item["sealedToken"]), account_id=account_id, field=SEALED_FIELD)
    except sealing.SealError:
        logger.warning("A stored Avito token did not open; fetching a new one", extra={"account_id": account_id})
        return None
    return Token(
        value,
        float(item["expiresAt"]),
        str(item.get("fingerprint", "")),
        float(item.get("fetchedAt", 0)),
        float(item.get("messengerDeniedUntil", 0)) if item.get("messengerDeniedFp") == item.get("fingerprint") else 0,
        bool(item.get("refreshed", False)),
    )


def _waited_too_long(deadline: Deadline) -> DeadlineExceeded:
    return DeadlineExceeded(
        f"Avito did not answer in time: another request was fetching the account's Avito token and this "
        f"request's {deadline.seconds:g} s budget ran out waiting for it."
    )


def forget_token(account_id: str) -> None:
    """The cached token of the account is gone from this container and from the table."""
    TokenStore().forget(account_id)


def forget_in_memory(account_id: str | None = None) -> None:
    with container.memory_lock:
        if account_id is None:
            container.memory.clear()
        else:
            container.memory.pop(account_id, None)
