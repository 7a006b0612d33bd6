"""Long-lived per-function worker subprocesses (like warm Lambda containers) and a pool per function."""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from local_runtime.functions import FunctionSpec
from local_runtime.terminal import LogSink
from local_runtime.worker import DROP_PATHS_ENV, END_MARKER, PATHS_ENV, REPLY_FD_ENV

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INIT_TIMEOUT_SECONDS = 30.0
LOGS_FLUSH_TIMEOUT_SECONDS = 5.0  # how long a reply waits for its invocation's END line to pass the log forwarder
DEFAULT_MAX_WORKERS = 4
_READ_CHUNK = 65536


class RuntimeStoppedError(Exception):
    """The runtime is shutting down."""


class UnknownFunctionError(KeyError):
    """No function with that logical id, name or ARN."""


@dataclass(frozen=True)
class InvocationResult:
    """Outcome of one invocation: the handler's return value, or a Lambda error payload."""

    request_id: str
    ok: bool
    payload: Any  # the handler's result if ok, else {"errorMessage", "errorType", "stackTrace"}
    duration_ms: float = 0.0
    cold: bool = False  # the first invocation of its worker (a new "container")

    @property
    def error_type(self) -> str | None:
        return None if self.ok else str(self.payload.get("errorType"))


class Worker:
    """One worker subprocess serving invocations of one function, one at a time."""

    def __init__(self, spec: FunctionSpec, env: Mapping[str, str], sink: LogSink) -> None:
        self.spec = spec
        reply_read, reply_write = os.pipe()
        worker_env = {
            **env,
            REPLY_FD_ENV: str(reply_write),
            PATHS_ENV: os.pathsep.join(str(p) for p in (spec.code_dir, *spec.layer_dirs)),
            DROP_PATHS_ENV: str(PROJECT_ROOT),
            "PYTHONPATH": str(PROJECT_ROOT),
        }
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "local_runtime.worker"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                pass_fds=(reply_write,),
                env=worker_env,
                cwd=spec.code_dir,
                start_new_session=True,  # Ctrl-C goes to the runtime, which stops workers itself
            )
        finally:
            os.close(reply_write)
        self._replies = reply_read
        self._buffer = b""
        self.invocations = 0
        self._ended: set[str] = set()  # request ids whose END line the log forwarder has passed on
        self._logs_cond = threading.Condition()
        self._logs_open = True
        self._selector = selectors.DefaultSelector()
        self._selector.register(reply_read, selectors.EVENT_READ)
        threading.Thread(target=self._forward_logs, name=f"log-{spec.logical_id}", args=(sink,), daemon=True).start()
        self.init_error: dict[str, Any] | None = None
        ready = self._read_reply(time.monotonic() + INIT_TIMEOUT_SECONDS)
        if ready is None or not ready.get("ok"):
            self.init_error = (ready or {}).get("error") or _error("Runtime.ExitError", "worker failed to start")
            self.kill()

    @property
    def alive(self) -> bool:
        return self._process.poll() is None

    def _forward_logs(self, sink: LogSink) -> None:
        try:
            for raw in self._process.stdout or ():
                line = raw.decode("utf-8", errors="replace")
                sink.write(self.spec.logical_id, line)
                if line.startswith(END_MARKER):
                    with self._logs_cond:
                        self._ended.add(line[len(END_MARKER) :].strip())
                        self._logs_cond.notify_all()
        finally:
            with self._logs_cond:
                self._logs_open = False
                self._logs_cond.notify_all()

    def _wait_logs(self, request_id: str) -> None:
        """Return once the invocation's log lines are all in the sink (its END line passed), or the stream ended."""
        with self._logs_cond:
            self._logs_cond.wait_for(
                lambda: request_id in self._ended or not self._logs_open, timeout=LOGS_FLUSH_TIMEOUT_SECONDS
            )
            self._ended.discard(request_id)

    def _read_reply(self, deadline: float) -> dict[str, Any] | None:
        """Next JSON reply line, or None on timeout / worker exit."""
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not self._selector.select(remaining):
                return None
            chunk = os.read(self._replies, _READ_CHUNK)
            if not chunk:
                return None
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return json.loads(line)

    def invoke(self, event: Any, request_id: str) -> InvocationResult:
        started = time.monotonic()
        cold = self.invocations == 0
        self.invocations += 1
        timeout = self.spec.timeout_seconds
        request = {
            "request_id": request_id,
            "event": event,
            "deadline_ms": int((time.time() + timeout) * 1000),
            "invoked_function_arn": self.spec.arn,
        }
        try:
            if self._process.stdin is None:
                raise BrokenPipeError
            self._process.stdin.write(json.dumps(request).encode() + b"\n")
            self._process.stdin.flush()
        except (BrokenPipeError, OSError):
            self.kill()
            return _result(request_id, None, started, cold)
        reply = self._read_reply(started + timeout)
        if reply is None:
            timed_out = self.alive
            self.kill()
            if timed_out:
                message = f"{request_id} Task timed out after {timeout:.2f} seconds"
                error = _error("Sandbox.Timedout", message)["error"]
                return InvocationResult(request_id, False, error, timeout * 1000, cold)
        else:
            self._wait_logs(request_id)
        return _result(request_id, reply, started, cold)

    def kill(self) -> None:
        if self.alive:
            self._process.kill()
        self._process.wait()
        with contextlib.suppress(OSError):
            if self._process.stdin:
                self._process.stdin.close()
        if self._replies >= 0:
            replies, self._replies = self._replies, -1
            self._selector.close()
            with contextlib.suppress(OSError):  # already closed by a racing close at shutdown (EBADF seen in CI)
                os.close(replies)


def _error(error_type: str, message: str) -> dict[str, Any]:
    return {"ok": False, "error": {"errorMessage": message, "errorType": error_type, "stackTrace": []}}


def _result(request_id: str, reply: dict[str, Any] | None, started: float, cold: bool) -> InvocationResult:
    duration = (time.monotonic() - started) * 1000
    if reply is None:
        reply = _error("Runtime.ExitError", "RequestId: " + request_id + " Error: Runtime exited without a reply")
    if reply.get("ok"):
        return InvocationResult(request_id, True, reply.get("result"), duration, cold)
    return InvocationResult(request_id, False, reply["error"], duration, cold)


class FunctionPool:
    """Up to `max_workers` warm workers of one function; started lazily, reused, replaced when they die."""

    def __init__(self, spec: FunctionSpec, env: Mapping[str, str], sink: LogSink, max_workers: int) -> None:
        self.spec = spec
        self._env = dict(env)
        self._sink = sink
        self._max_workers = max_workers
        self._idle: list[Worker] = []
        self._all: set[Worker] = set()
        self._starting = 0
        self._closed = False
        self._cond = threading.Condition()

    def invoke(self, event: Any) -> InvocationResult:
        request_id = str(uuid.uuid4())
        worker = self._acquire()
        try:
            if worker.init_error is not None:
                return InvocationResult(request_id, False, worker.init_error, cold=True)
            result = worker.invoke(event, request_id)
        finally:
            self._release(worker)
        if not result.ok:
            error = result.payload
            self._sink.write(
                self.spec.logical_id,
                f"invocation {request_id} failed: {error.get('errorType')}: {error.get('errorMessage')}",
            )
        return result

    def _acquire(self) -> Worker:
        with self._cond:
            while True:
                if self._closed:
                    raise RuntimeStoppedError(self.spec.logical_id)
                if self._idle:
                    return self._idle.pop()
                if len(self._all) + self._starting < self._max_workers:
                    self._starting += 1
                    break
                self._cond.wait()
        worker: Worker | None = None
        try:
            worker = Worker(self.spec, self._env, self._sink)
        finally:
            with self._cond:
                self._starting -= 1
                if worker is not None:
                    self._all.add(worker)
                self._cond.notify()
        if self._closed:
            worker.kill()
            raise RuntimeStoppedError(self.spec.logical_id)
        return worker

    def _release(self, worker: Worker) -> None:
        with self._cond:
            if worker.alive and worker.init_error is None and not self._closed:
                self._idle.append(worker)
            else:
                self._all.discard(worker)
                worker.kill()
            self._cond.notify()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            workers = list(self._all)
            self._idle.clear()
            self._cond.notify_all()
        for worker in workers:
            worker.kill()


class LambdaRuntime:
    """All functions of a stack, addressable by logical id, function name or ARN."""

    def __init__(
        self,
        specs: Mapping[str, FunctionSpec],
        base_env: Mapping[str, str],
        sink: LogSink,
        max_workers_per_function: int = DEFAULT_MAX_WORKERS,
        override_env: Mapping[str, str] | None = None,
    ) -> None:
        self.specs = dict(specs)
        self._pools = {
            lid: FunctionPool(spec, _function_env(spec, base_env, override_env or {}), sink, max_workers_per_function)
            for lid, spec in specs.items()
        }
        self._aliases: dict[str, str] = {}
        for lid, spec in specs.items():
            self._aliases.update({lid: lid, spec.name: lid, spec.arn: lid})
        self._last = threading.local()  # per serving thread: the last function invoked and its result

    def last_invocation(self) -> tuple[str, InvocationResult] | None:
        """(logical id, result) of the last invocation made on this thread; for the console's request lines."""
        return getattr(self._last, "value", None)

    def forget_last_invocation(self) -> None:
        self._last.value = None

    def remember_invocation(self, function_id: str, result: InvocationResult) -> None:
        """Record an invocation another thread made for this serving thread (integration timeouts invoke on one)."""
        self._last.value = (function_id, result)

    def resolve_id(self, function_ref: str) -> str:
        """Logical id for a logical id, function name, or (optionally qualified) function ARN."""
        ref = function_ref
        if ref.startswith("arn:") and ref.count(":") > 6:
            ref = ref.rsplit(":", 1)[0]  # drop a version/alias qualifier
        try:
            return self._aliases[ref]
        except KeyError:
            raise UnknownFunctionError(f"Function not found: {function_ref}") from None

    def invoke(self, function_ref: str, event: Any) -> InvocationResult:
        function_id = self.resolve_id(function_ref)
        result = self._pools[function_id].invoke(event)
        self._last.value = (function_id, result)
        return result

    def close(self) -> None:
        for pool in self._pools.values():
            pool.close()


def _function_env(spec: FunctionSpec, base_env: Mapping[str, str], override_env: Mapping[str, str]) -> dict[str, str]:
    """Process environment of a worker: Lambda's reserved variables, the stack's, the function's own, then the
    stack's overrides (like `sam local invoke --env-vars`: the emulators' endpoints win over the template's
    placeholders, e.g. an empty ``AWS_ENDPOINT_URL`` that means "AWS itself")."""
    lambda_env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "PYTHONUNBUFFERED": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "LAMBDA_TASK_ROOT": str(spec.code_dir),
        "_HANDLER": spec.handler,
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
        "AWS_LAMBDA_FUNCTION_NAME": spec.name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
        "AWS_LAMBDA_FUNCTION_TIMEOUT": str(int(spec.timeout_seconds)),
        "AWS_LAMBDA_LOG_GROUP_NAME": spec.log_group_name,
        "AWS_LAMBDA_LOG_STREAM_NAME": f"local/[$LATEST]{uuid.uuid4().hex}",
        # No X-Ray daemon locally: keep tracers quiet unless the template says otherwise.
        "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR",
        "AWS_XRAY_SDK_ENABLED": "false",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
    return {**lambda_env, **base_env, **spec.environment, **override_env, **spec.iam_env}
