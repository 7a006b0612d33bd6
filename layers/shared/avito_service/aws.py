"""Lazily created, cached AWS clients. Point them at emulators with ``AWS_ENDPOINT_URL``, never with code."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config

_CONFIG = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=3, read_timeout=10)
# boto3's default session is not thread-safe: clients and resources are created under one lock (the keep-alive
# worker's threads may all reach a cold container's first client at once). Clients are then safe to share
# between threads; resources are not (dynamodb_resource).
_CREATING = threading.RLock()


def _created_once(factory: Callable[..., Any]) -> Callable[..., Any]:
    cached = functools.cache(factory)

    @functools.wraps(factory)
    def get(*args: Any) -> Any:
        with _CREATING:
            return cached(*args)

    get.cache_clear = cached.cache_clear  # type: ignore[attr-defined]
    return get


class _PerThread(threading.local):
    generation = -1
    resource: Any = None
    tables: dict[str, Any]


_per_thread = _PerThread()
_generation = [0]  # bumped by clear_caches(): every thread's resource is then made anew


def dynamodb_resource() -> Any:
    """This thread's DynamoDB resource. One per thread, unlike the clients: a resource's client turns ``Key``/
    ``Attr`` conditions into expressions with one placeholder counter it resets per request, so two threads
    building at once mix up each other's ``#n0``/``:v0`` (seen as "Query condition missed key schema element"
    with two job workers in one process; the keep-alive worker's threads update accounts with conditions too)."""
    local = _per_thread
    if local.generation != _generation[0]:
        with _CREATING:
            local.resource = boto3.resource("dynamodb", config=_CONFIG)
            local.tables = {}
            local.generation = _generation[0]
    return local.resource


def table(name: str) -> Any:
    """This thread's DynamoDB ``Table`` resource for ``name`` (cached per thread and name)."""
    resource = dynamodb_resource()
    tables = _per_thread.tables
    if name not in tables:
        tables[name] = resource.Table(name)
    return tables[name]


def dynamodb_client() -> Any:
    """This thread's resource's client: it takes and returns plain Python values, transactions included."""
    return dynamodb_resource().meta.client


@_created_once
def dynamodb_low_level_client() -> Any:
    """A plain DynamoDB client: AttributeValues in and out. For hot paths that serialise their values once
    (the resource's client deep-copies and converts every request and answer: ~1/3 of a call's CPU)."""
    return boto3.client("dynamodb", config=_PARALLEL_DYNAMODB_CONFIG)


# The low-level DynamoDB client is the one threads share: the inbox's 16 shards and the reports summary's
# figure reads (8 threads) may be in flight at once; urllib3 keeps only max_pool_connections of them open after
# use (the default 10: the rest would be new connections, a new TLS handshake each on AWS).
_PARALLEL_DYNAMODB_CONFIG = _CONFIG.merge(Config(max_pool_connections=32))


@_created_once
def secrets_client() -> Any:
    return boto3.client("secretsmanager", config=_CONFIG)


@_created_once
def sqs_client() -> Any:
    return boto3.client("sqs", config=_CONFIG)


@_created_once
def kms_client() -> Any:
    return boto3.client("kms", config=_CONFIG)


@_created_once
def cognito_client() -> Any:
    return boto3.client("cognito-idp", config=_CONFIG)


# The fan-out posts to many connections at once from a thread pool: one pooled HTTP connection per thread.
_MANAGEMENT_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2, read_timeout=5, max_pool_connections=32
)


@_created_once
def connections_client(endpoint_url: str) -> Any:
    """The WebSocket API's management API (``apigatewaymanagementapi``) at ``endpoint_url``
    (``https://<api>.execute-api.<region>.amazonaws.com/<stage>``): the one endpoint this client is for."""
    return boto3.client("apigatewaymanagementapi", endpoint_url=endpoint_url, config=_MANAGEMENT_CONFIG)


@_created_once
def scheduler_client() -> Any:
    """EventBridge Scheduler (the workflow's one-time waiting alerts)."""
    return boto3.client("scheduler", config=_CONFIG)


def clear_caches() -> None:
    """Forget every cached client (tests switch endpoints between cases)."""
    with _CREATING:
        _generation[0] += 1
    for cached in (
        dynamodb_low_level_client,
        secrets_client,
        sqs_client,
        connections_client,
        cognito_client,
        kms_client,
        scheduler_client,
    ):
        cached.cache_clear()
