"""Lambda-container-like worker process: imports one handler once and serves invocations.

Started by :mod:`local_runtime.workers` as `python -m local_runtime.worker`. Protocol (JSON lines):
requests arrive on stdin; replies go to the file descriptor named by `_LOCAL_RUNTIME_REPLY_FD`.
fd 1 is redirected to fd 2 so whatever the handler prints (e.g. Powertools JSON logs) never reaches the
protocol channel; the parent forwards fd 2 line by line to its own log.
"""

from __future__ import annotations

import decimal
import importlib
import json
import os
import sys
import time
import traceback
from collections.abc import Callable
from typing import IO, Any

REPLY_FD_ENV = "_LOCAL_RUNTIME_REPLY_FD"
# Written to the log stream after each invocation, like Lambda's own END line: the parent waits for it before
# it answers, so every line an invocation logged is in the logs by the time its caller sees the result.
END_MARKER = "END RequestId: "
PATHS_ENV = "_LOCAL_RUNTIME_PATHS"
DROP_PATHS_ENV = "_LOCAL_RUNTIME_DROP_PATHS"


class LambdaContext:
    """The attributes of the Python runtime's context object that handlers use."""

    def __init__(self, request: dict[str, Any]) -> None:
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.invoked_function_arn: str = request["invoked_function_arn"]
        self.aws_request_id: str = request["request_id"]
        self.identity = None
        self.client_context = None
        self._deadline_ms: int = request["deadline_ms"]

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000))


def _json_default(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):  # the real runtime serializes Decimal too
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _error(error_type: str, message: str, stack: list[str] | None = None) -> dict[str, Any]:
    return {"ok": False, "error": {"errorMessage": message, "errorType": error_type, "stackTrace": stack or []}}


def _load_handler(spec: str) -> Callable[[Any, Any], Any]:
    module_name, _, function_name = spec.rpartition(".")
    if not module_name:
        raise ValueError(f"Bad handler '{spec}': expected 'module.function'")
    module = importlib.import_module(module_name.replace("/", "."))
    handler = getattr(module, function_name, None)
    if not callable(handler):
        raise AttributeError(f"Handler '{function_name}' missing on module '{module_name}'")
    return handler


def _invoke(handler: Callable[[Any, Any], Any], request: dict[str, Any]) -> dict[str, Any]:
    try:
        result = handler(request["event"], LambdaContext(request))
    except Exception as exc:
        sys.stderr.write(f"[ERROR] {type(exc).__name__}: {exc}\n")
        traceback.print_exc()
        sys.stderr.flush()
        return _error(type(exc).__name__, str(exc), traceback.format_tb(exc.__traceback__))
    try:
        json.dumps(result, default=_json_default)
    except (TypeError, ValueError) as exc:
        return _error("Runtime.MarshalError", f"Unable to marshal response: {exc}")
    return {"ok": True, "result": result}


def _send(replies: IO[str], message: dict[str, Any]) -> None:
    replies.write(json.dumps(message, default=_json_default) + "\n")
    replies.flush()


def _isolate_sys_path() -> None:
    """sys.path = [CodeUri dir, layer dirs...] + the interpreter's own paths (not the project root)."""
    drop = {os.path.realpath(p) for p in os.environ.pop(DROP_PATHS_ENV, "").split(os.pathsep) if p}
    drop.add(os.path.realpath(os.getcwd()))
    own = [p for p in os.environ.pop(PATHS_ENV, "").split(os.pathsep) if p]
    rest = [p for p in sys.path if p and os.path.realpath(p) not in drop]
    sys.path[:] = own + rest
    os.environ.pop("PYTHONPATH", None)


def main() -> None:
    replies = os.fdopen(int(os.environ.pop(REPLY_FD_ENV)), "w", encoding="utf-8")
    requests = os.fdopen(os.dup(0), "r", encoding="utf-8")
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(2, 1)  # handler stdout -> log stream, never the protocol channel
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    sys.stderr.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    from local_runtime.iam import enforce_in_worker  # noqa: PLC0415 - before the handler's paths replace ours

    enforce_in_worker(os.environ)  # IAM as AWS enforces it: the function's template statements
    _isolate_sys_path()
    try:
        handler = _load_handler(os.environ["_HANDLER"])
    except Exception as exc:
        traceback.print_exc()
        _send(replies, _error("Runtime.ImportModuleError", f"Unable to import module: {exc}"))
        return
    _send(replies, {"ok": True, "ready": True})
    for line in requests:  # EOF (parent gone or pool closed) ends the worker
        request = json.loads(line)
        reply = _invoke(handler, request)
        sys.stdout.flush()
        sys.stderr.write(f"{END_MARKER}{request['request_id']}\n")
        sys.stderr.flush()
        _send(replies, reply)


if __name__ == "__main__":
    main()
