"""What the local runtime prints, and where the full logs go.

Like ``sam local start-api``, the console shows one line per request (time, method, path, status, duration,
function, cold or warm) and the functions' own errors; everything a function wrote goes to files under the log
directory (``make run``: ``.local/logs/``), one ``<LogicalId>.log`` per function as its CloudWatch log stream
would hold it, its EMF metric lines in ``<LogicalId>.metrics.log``, and the request lines in ``requests.log``.
``LOCAL_LOG_FORMAT=json`` prints every line of every function instead, prefixed ``[LogicalId]``.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import IO, Any

from local_runtime.worker import END_MARKER

CONSOLE, JSON = "console", "json"
LOG_FORMATS = (CONSOLE, JSON)
ERROR_LEVELS = frozenset({"ERROR", "CRITICAL", "FATAL"})
REQUESTS_FILE = "requests.log"


class LineKind(StrEnum):
    END = "end"  # the worker's end-of-invocation marker
    METRIC = "metric"  # an EMF document (CloudWatch metrics)
    LOG = "log"  # a structured log line below ERROR
    ERROR = "error"  # a structured ERROR/CRITICAL line, or anything unstructured (tracebacks, prints)


def classify(line: str) -> tuple[LineKind, dict[str, Any] | None]:
    """What a line a function wrote is, and its JSON object when it is one."""
    if line.startswith(END_MARKER):
        return LineKind.END, None
    document: Any = None
    if line.startswith("{"):
        try:
            document = json.loads(line)
        except ValueError:
            document = None
    if not isinstance(document, dict):
        return LineKind.ERROR, None
    if "_aws" in document:
        return LineKind.METRIC, document
    if str(document.get("level", "")).upper() in ERROR_LEVELS:
        return LineKind.ERROR, document
    return LineKind.LOG, document


@dataclass(frozen=True)
class RequestLine:
    """One request (HTTP) or event (schedule, queue) the runtime handed to a function."""

    method: str  # GET, POST, ... or SCHEDULE / SQS
    path: str  # the request path, the rule or the queue
    status: int | str  # HTTP status, or "ok" / the Lambda error type
    duration_ms: float
    function: str | None = None  # logical id of the function that answered (None: the gateway answered)
    cold: bool | None = None

    def format(self, at: datetime) -> str:
        start = "-" if self.cold is None else ("cold" if self.cold else "warm")
        return (
            f"{at:%Y-%m-%d %H:%M:%S} {self.method:<6} {self.path} {self.status} "
            f"{self.duration_ms:.0f} ms {self.function or '-'} {start}"
        )


def error_text(source: str, line: str, document: dict[str, Any] | None) -> str:
    """The console's rendering of a function's error line."""
    if document is None:
        return f"[{source}] {line}"
    text = f"[{source}] {str(document.get('level', 'ERROR')).upper()} {document.get('message', '')}"
    exception = document.get("exception")
    if exception:
        text += "\n" + "\n".join("    " + part for part in str(exception).rstrip().splitlines())
    return text


class LogSink:
    """Thread-safe destination of the functions' output and of the request lines.

    ``stream`` (stderr) gets the console view (``log_format="console"``) or every line prefixed
    (``"json"``); ``log_dir`` gets the per-function files; ``log_file`` gets every line prefixed, as before.
    """

    def __init__(
        self,
        log_file: str | Path | None = None,
        stream: IO[str] | None = None,
        *,
        log_dir: str | Path | None = None,
        log_format: str = CONSOLE,
    ) -> None:
        if log_format not in LOG_FORMATS:
            raise ValueError(f"LOCAL_LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}, not {log_format!r}")
        self._lock = threading.Lock()
        self._stream = stream or sys.stderr
        self._format = log_format
        self._file = open(log_file, "a", encoding="utf-8") if log_file else None  # noqa: SIM115 - closed in close()
        self.log_dir = Path(log_dir) if log_dir else None
        if self.log_dir:
            self.log_dir.mkdir(parents=True, exist_ok=True)
        self._files: dict[str, IO[str]] = {}

    def write(self, source: str, line: str) -> None:
        """A line the function (or the runtime on its behalf) wrote."""
        line = line.rstrip()
        kind, document = classify(line)
        with self._lock:
            self._to_file(f"{source}.metrics.log" if kind is LineKind.METRIC else f"{source}.log", line)
            if kind is LineKind.END:
                return
            prefixed = f"[{source}] {line}\n"
            if self._file:
                self._file.write(prefixed)
                self._file.flush()
            if self._format == JSON:
                self._echo(prefixed)
            elif kind is LineKind.ERROR:
                self._echo(error_text(source, line, document) + "\n")

    def request(self, entry: RequestLine, at: datetime | None = None) -> None:
        text = entry.format(at or datetime.now(UTC).astimezone())  # local time, like sam local
        with self._lock:
            self._to_file(REQUESTS_FILE, text)
            if self._format == CONSOLE:
                self._echo(text + "\n")

    def _echo(self, text: str) -> None:
        self._stream.write(text)
        self._stream.flush()

    def _to_file(self, name: str, line: str) -> None:
        if self.log_dir is None:
            return
        handle = self._files.get(name)
        if handle is None:
            handle = self._files[name] = open(self.log_dir / name, "a", encoding="utf-8")  # noqa: SIM115
        handle.write(line + "\n")
        handle.flush()

    def close(self) -> None:
        with self._lock:
            for handle in [self._file, *self._files.values()]:
                if handle:
                    handle.close()
            self._file = None
            self._files = {}


class RequestLogger:
    """WSGI middleware: one :class:`RequestLine` per HTTP request, naming the function that answered.

    ``mask_path`` keeps only the first path segment (Function URLs: the rest may be a secret, like the webhook
    receiver's ``/<accountId>/<token>``; nothing secret reaches the console or the logs).
    """

    def __init__(self, app: Any, runtime: Any, sink: LogSink, *, mask_path: bool = False) -> None:
        self._app = app
        self._runtime = runtime
        self._sink = sink
        self._mask_path = mask_path

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        started = time.monotonic()
        status: list[str] = []

        def capture(status_line: str, headers: Any, exc_info: Any = None) -> Any:
            status.append(status_line)
            return start_response(status_line, headers, exc_info)

        self._runtime.forget_last_invocation()
        body = self._app(environ, capture)
        last = self._runtime.last_invocation()
        path = str(environ.get("PATH_INFO") or "/")
        if self._mask_path:
            path = masked_path(path)
        self._sink.request(
            RequestLine(
                method=str(environ.get("REQUEST_METHOD", "-")),
                path=path,
                status=int(status[0].split()[0]) if status else 500,
                duration_ms=(time.monotonic() - started) * 1000,
                function=last[0] if last else None,
                cold=last[1].cold if last else None,
            )
        )
        return body


def masked_path(path: str) -> str:
    first, _, rest = path.lstrip("/").partition("/")
    return "/" + first + ("/***" if rest else "")


def event_line(function_id: str, event: Any, result: Any) -> RequestLine:
    """The console line of a non-HTTP invocation: a schedule firing, a queue batch, anything else."""
    method, path = "INVOKE", function_id
    if isinstance(event, dict) and event.get("detail-type") == "Scheduled Event":
        method, path = "SCHEDULE", str((event.get("resources") or [""])[0]).rsplit("/", 1)[-1]
    elif isinstance(event, dict) and isinstance(event.get("Records"), list) and event["Records"]:
        first = event["Records"][0]
        if isinstance(first, dict) and first.get("eventSource") == "aws:sqs":
            queue = str(first.get("eventSourceARN", "")).rsplit(":", 1)[-1]
            method, path = "SQS", f"{queue} ({len(event['Records'])} messages)"
        elif isinstance(first, dict) and first.get("eventSource") == "aws:dynamodb":
            # arn:aws:dynamodb:<region>:<account>:table/<name>/stream/<label>
            table = str(first.get("eventSourceARN", "")).split(":table/", 1)[-1].split("/", 1)[0]
            method, path = "STREAM", f"{table} ({len(event['Records'])} records)"
    elif isinstance(event, dict) and isinstance(event.get("requestContext"), dict):
        context = event["requestContext"]
        if context.get("eventType") in ("CONNECT", "MESSAGE", "DISCONNECT"):
            # a WebSocket route: only its key; the $connect ?token= query never reaches the console
            method, path = "WS", str(context.get("routeKey", "-"))
    status: int | str = "ok"
    if not result.ok:
        status = result.error_type or "error"
    elif method == "WS" and isinstance(result.payload, dict) and isinstance(result.payload.get("statusCode"), int):
        status = result.payload["statusCode"]
    elif isinstance(result.payload, dict) and result.payload.get("batchItemFailures"):
        status = f"ok ({len(result.payload['batchItemFailures'])} failed)"
    return RequestLine(method, path, status, result.duration_ms, function_id, result.cold)
