"""Moto server in a child process (state isolated from any in-process `mock_aws`).

Child: `python -m local_runtime.moto_process HOST PORT` prints `{"port": N}` once listening and exits
when its stdin closes (so it never outlives the runtime).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from typing import Any

from local_runtime.workers import PROJECT_ROOT


class MotoProcess:
    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self._requested_port = port
        self._process: subprocess.Popen[bytes] | None = None
        self.port: int | None = None

    def spawn(self) -> None:
        """Start the child without waiting (importing moto takes a moment)."""
        env = {
            **os.environ,
            "PYTHONPATH": str(PROJECT_ROOT),
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "MOTO_ALLOW_NONEXISTENT_REGION": "true",
        }
        self._process = subprocess.Popen(
            [sys.executable, "-m", "local_runtime.moto_process", self.host, str(self._requested_port)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            start_new_session=True,
        )

    def wait_ready(self) -> str:
        """Block until the server listens; returns its URL."""
        if self._process is None or self._process.stdout is None:
            raise RuntimeError("call spawn() first")
        line = self._process.stdout.readline()
        if not line:
            raise RuntimeError(f"moto server failed to start (exit code {self._process.wait()})")
        self.port = int(json.loads(line)["port"])
        return self.url

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def stop(self) -> None:
        if self._process is None:
            return
        if self._process.stdin:
            self._process.stdin.close()
        try:
            self._process.wait(timeout=1)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        if self._process.stdout:
            self._process.stdout.close()
        self._process = None


def serialize_dynamodb() -> None:
    """Give the server DynamoDB's per-item atomicity: one DynamoDB request at a time.

    moto checks a write's ``ConditionExpression`` and applies the write in two steps, so two threads of the
    threaded server could both pass a condition that DynamoDB lets only one pass. Every compare-and-set in the
    service relies on that condition: with five job workers on one account, the shared Avito limit
    (``avito/limits.py``: a version-conditioned write per slot) let two workers take the same last slot, and
    Avito (the simulator) answered 429 and saw 28 item-list calls in one minute. The in-process tests serialize
    the same way (``tests/conftest.py``); the code under test is unchanged."""
    from moto.dynamodb.responses import DynamoHandler  # noqa: PLC0415 - only the child needs moto

    if getattr(DynamoHandler.call_action, "serialized", False):
        return
    lock = threading.Lock()
    original = DynamoHandler.call_action

    def call_action(*args: Any, **kwargs: Any) -> Any:
        with lock:
            return original(*args, **kwargs)

    call_action.serialized = True  # type: ignore[attr-defined]
    DynamoHandler.call_action = call_action  # type: ignore[method-assign]


def cache_backend_lookup() -> None:
    """Keep the backend moto's server finds for a host: it matches the host against every service's URL patterns
    for each request (~1.3 ms, under the dispatcher's one lock), and the answer for a host never changes."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication  # noqa: PLC0415 - only the child

    if getattr(DomainDispatcherApplication.get_backend_for_host, "cached", False):
        return
    original = DomainDispatcherApplication.get_backend_for_host
    known: dict[str | None, Any] = {}

    def get_backend_for_host(self: Any, host: str | None) -> Any:
        if host not in known:
            known[host] = original(self, host)
        return known[host]

    get_backend_for_host.cached = True  # type: ignore[attr-defined]
    DomainDispatcherApplication.get_backend_for_host = get_backend_for_host  # type: ignore[method-assign]


def partition_reads() -> None:
    """A table Query reads its partition, as DynamoDB does: moto compares the hash key of every item in the table
    (O(table) per Query). Index Queries are left to moto (their partitions are not kept)."""
    from moto.dynamodb.models.table import Table  # noqa: PLC0415 - only the child needs moto

    if getattr(Table.query, "partition_reads", False):
        return
    original = Table.query

    def query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = args[6] if len(args) > 6 else kwargs.get("index_name")
        # an outer patch may have narrowed this Query's items already (benchmarks/search.py's compact index)
        if index_name or hash_key is None or not self.has_range_key or "all_items" in vars(self):
            return original(self, hash_key, *args, **kwargs)
        partition = list(self.items.get(hash_key, {}).values())
        self.all_items = lambda: iter(partition)  # shadows the method for this call (requests are serialized)
        try:
            return original(self, hash_key, *args, **kwargs)
        finally:
            del self.all_items

    query.partition_reads = True  # type: ignore[attr-defined]
    Table.query = query  # type: ignore[method-assign]


def main() -> None:
    from moto.moto_server.werkzeug_app import MotoRequestHandler  # noqa: PLC0415 - only the child needs moto
    from moto.server import ThreadedMotoServer  # noqa: PLC0415

    from local_runtime import moto_fast_tx, moto_streams  # noqa: PLC0415 - they import moto: only the child

    MotoRequestHandler.log_request = lambda *_args, **_kwargs: None  # type: ignore[method-assign]  # no access log
    serialize_dynamodb()
    moto_fast_tx.install()  # a transaction copies the items it names, not every table it touches
    moto_streams.install()  # an UpdateItem that creates its item writes one stream record, as DynamoDB does
    cache_backend_lookup()
    partition_reads()

    host, port = sys.argv[1], int(sys.argv[2])
    server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
    server.start()
    print(json.dumps({"port": server.get_host_and_port()[1]}), flush=True)
    sys.stdin.buffer.read()  # until the parent closes stdin or dies
    os._exit(0)  # nothing to flush: moto state is in memory only


if __name__ == "__main__":
    main()
