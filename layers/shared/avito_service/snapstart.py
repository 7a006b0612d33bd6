"""SnapStart: what a function's snapshot holds, and what must be fresh again after a restore.

With SnapStart (template.yaml Globals) Lambda initialises a function once, when a version is published, takes a
snapshot of that environment and starts new environments by restoring copies of it. So:

- **Before the snapshot** (at publish time: nobody waits for it) :func:`prime` does the work a first request
  would otherwise pay for: it builds the validators of every pydantic model the handler imported (they are
  ``defer_build``, so an ordinary cold start does not build models it never uses) and creates the AWS clients.
  Their credentials refresh themselves (on SnapStart Lambda serves them through its container credentials
  endpoint, not frozen environment variables), so a client from the snapshot stays valid.
- **After each restore** every copy must stop being the same copy: the ``random`` module is reseeded (all
  copies would otherwise draw the same jitter and shard numbers), and caches that hold secrets or verified
  tokens are emptied. Their age is measured with a monotonic clock, which does not count the time a snapshot
  sat in the cache; a restored copy must not trust what it remembers. Modules with such caches register their
  own reset with :func:`after_restore`.

The hooks are Lambda's runtime hooks (``snapshot_restore_py``, part of the Lambda Python runtime from 3.12 on;
the tests install the same package). Where it is absent (a plain interpreter) no snapshot is ever taken or
restored, and registering does nothing. It must not be vendored into the layer: the runtime runs the hooks of
its own copy, and a second copy would collect them where nobody runs them.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

try:
    from snapshot_restore_py import register_after_restore, register_before_snapshot
except ImportError:  # outside Lambda: nothing is snapshotted or restored
    register_after_restore = register_before_snapshot = None


def after_restore[F: Callable[[], Any]](func: F) -> F:
    """Run ``func`` in every environment restored from a snapshot, before its first request (a decorator)."""
    if register_after_restore is not None:
        register_after_restore(func)
    return func


def before_snapshot[F: Callable[[], Any]](func: F) -> F:
    """Run ``func`` once, just before Lambda takes the snapshot (a decorator)."""
    if register_before_snapshot is not None:
        register_before_snapshot(func)
    return func


@before_snapshot
def prime() -> None:
    """Build the imported models' validators and create the AWS clients, so the snapshot holds them."""
    from avito_service import aws  # noqa: PLC0415 - only at snapshot time: no import cost on a plain cold start
    from avito_service.base import Model  # noqa: PLC0415

    for model in _subclasses(Model):
        if not model.__pydantic_complete__:
            model.model_rebuild(force=True, raise_errors=False)
    for client in (aws.dynamodb_resource, aws.dynamodb_low_level_client, aws.secrets_client, aws.sqs_client):
        client()


@after_restore
def reseed_random() -> None:
    random.seed()


def _subclasses(cls: type) -> list[type]:
    found: list[type] = []
    for sub in cls.__subclasses__():
        found.append(sub)
        found.extend(_subclasses(sub))
    return found
