"""dynalite (a DynamoDB implementation on LevelDB, in Node) as the benchmarks' local DynamoDB: ~7x faster than moto
at answering a Query (benchmarks/README.md), and in its own process, so what a measure spends inside the database is
not the benchmark process's CPU.

``dynalite_dynamodb(template)`` installs the pinned package (``benchmarks/dynalite/package.json`` and its lock file)
with npm into ``benchmarks/.dynalite/`` (git-ignored; once), starts it on a free loopback port with an in-memory
store and no table-status delays, creates the template's tables as the local runtime creates them for moto
(``local_runtime.resources.table_request``, less what dynalite does not implement: streams, time to live, table
classes), yields its endpoint and stops it. Needs ``node`` and ``npm`` on the PATH (not on CI: nothing in
``make test`` starts it).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchmarks._common import ROOT, TEMPLATE

PINNED = Path(__file__).resolve().parent / "dynalite"  # package.json + package-lock.json, checked in
INSTALL_DIR = ROOT / "benchmarks" / ".dynalite"
# What dynalite 4.0.0's CreateTable does not take or implement (streams, time to live, table classes, encryption):
# dropped from the template's request, the keys, the billing and every index with its projection kept.
UNSUPPORTED = ("StreamSpecification", "TableClass", "SSESpecification", "Tags", "DeletionProtectionEnabled")
FAKE_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def version() -> str:
    import json

    return str(json.loads((PINNED / "package.json").read_text())["dependencies"]["dynalite"])


def install() -> Path:
    """The pinned dynalite under ``benchmarks/.dynalite/`` (``npm ci`` from the checked-in lock file, run again only
    when the pinned files change); returns its ``cli.js``."""
    cli = INSTALL_DIR / "node_modules" / "dynalite" / "cli.js"
    wanted = {name: (PINNED / name).read_text() for name in ("package.json", "package-lock.json")}
    current = {name: (INSTALL_DIR / name).read_text() if (INSTALL_DIR / name).exists() else None for name in wanted}
    if cli.exists() and current == wanted:
        return cli
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        raise RuntimeError("dynalite needs node and npm on the PATH")
    INSTALL_DIR.mkdir(parents=True, exist_ok=True)
    for name, text in wanted.items():
        (INSTALL_DIR / name).write_text(text)
    subprocess.run(
        [npm, "ci", "--prefix", str(INSTALL_DIR), "--no-audit", "--no-fund", "--loglevel=error"],
        check=True,
        timeout=600,
    )
    return cli


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def table_requests(template: Any, resolver: Any = None) -> list[dict[str, Any]]:
    """The CreateTable requests of the template's (active) tables, as dynalite takes them: the local runtime's
    request for moto (same names, keys, billing, GSIs and projections) less ``UNSUPPORTED``."""
    from local_runtime.intrinsics import Resolver, StackContext
    from local_runtime.resources import table_request
    from local_runtime.template import TABLE_TYPE

    resolver = resolver or Resolver(template, StackContext())
    requests = []
    for logical_id in template.ids_of_type(TABLE_TYPE):
        if resolver.is_active(logical_id):
            request = table_request(resolver, logical_id)
            requests.append({key: value for key, value in request.items() if key not in UNSUPPORTED})
    return requests


def client(endpoint: str) -> Any:
    import boto3
    from botocore.config import Config

    config = Config(retries={"mode": "standard", "max_attempts": 5}, max_pool_connections=16)
    return boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1", config=config, **FAKE_CREDENTIALS)


def _wait_until_up(process: subprocess.Popen[bytes], endpoint: str, timeout: float = 30) -> None:
    dynamodb = client(endpoint)
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"dynalite exited with {process.returncode}")
        try:
            dynamodb.list_tables()
            return
        except Exception:  # not listening yet: any connection error means "try again"
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@contextlib.contextmanager
def dynalite_dynamodb(template_path: Path = TEMPLATE, path: Path | None = None) -> Iterator[str]:
    """A running dynalite with the template's tables; yields its endpoint URL. ``path``: a LevelDB directory
    (default: in memory)."""
    from local_runtime.template import load_template

    cli = install()
    port = free_port()
    command = ["node", str(cli), "--host", "127.0.0.1", "--port", str(port)]
    command += ["--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0"]
    if path is not None:
        command += ["--path", str(path)]
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env={**os.environ})
        try:
            endpoint = f"http://127.0.0.1:{port}"
            _wait_until_up(process, endpoint)
            dynamodb = client(endpoint)
            for request in table_requests(load_template(template_path)):
                dynamodb.create_table(**request)
            yield endpoint
        except BaseException:
            log.seek(0)
            tail = log.read()[-2000:].decode(errors="replace")
            if tail:
                print(f"dynalite's output:\n{tail}", file=sys.stderr, flush=True)
            raise
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


class BatchWriter:
    """Items put with BatchWriteItem: 25 a request, ``threads`` requests in flight, unprocessed items sent again.
    ``put`` buffers; ``close`` sends the rest and waits (and raises the first failure)."""

    def __init__(self, endpoint: str, table_name: str, threads: int = 4) -> None:
        from concurrent.futures import ThreadPoolExecutor

        from boto3.dynamodb.types import TypeSerializer

        self.table_name = table_name
        self.items = 0
        self._client = client(endpoint)
        self._serializer = TypeSerializer()
        self._pending: list[dict[str, Any]] = []
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="batch-write")
        self._futures: list[Any] = []

    def put(self, item: dict[str, Any]) -> None:
        self._pending.append({"PutRequest": {"Item": {k: self._serializer.serialize(v) for k, v in item.items()}}})
        self.items += 1
        if len(self._pending) == 25:
            self._send()

    def _send(self) -> None:
        batch, self._pending = self._pending, []
        self._futures.append(self._pool.submit(self._write, batch))
        while len(self._futures) > 64:  # a bounded queue of requests; a failure surfaces early
            self._futures.pop(0).result()

    def _write(self, batch: list[dict[str, Any]]) -> None:
        requests = {self.table_name: batch}
        for attempt in range(20):
            unprocessed = self._client.batch_write_item(RequestItems=requests).get("UnprocessedItems") or {}
            if not unprocessed:
                return
            requests = unprocessed
            time.sleep(min(1.0, 0.05 * 2**attempt))
        raise RuntimeError(f"{self.table_name}: items still unprocessed after 20 attempts")

    def close(self) -> None:
        if self._pending:
            self._send()
        try:
            for future in self._futures:
                future.result()
        finally:
            self._futures = []
            self._pool.shutdown(wait=True)
