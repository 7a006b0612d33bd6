"""The local console: one line per request, the functions' errors, and the full logs in files."""

from __future__ import annotations

import io
import json
from datetime import datetime
from pathlib import Path

import pytest

from local_runtime.terminal import LineKind, LogSink, RequestLine, classify, event_line, masked_path
from local_runtime.worker import END_MARKER
from local_runtime.workers import InvocationResult

AT = datetime(2026, 12, 2, 1, 2, 3)  # noqa: DTZ001 - the console prints local time
INFO = json.dumps({"level": "INFO", "message": "Account read", "account_id": "a-1"})
ERROR = json.dumps(
    {"level": "ERROR", "message": "Avito call failed", "exception": "Traceback (most recent call last):\nBoom: no"}
)
EMF = json.dumps({"_aws": {"Timestamp": 1, "CloudWatchMetrics": []}, "AvitoCall": [1.0]})
TRACEBACK = "Traceback (most recent call last):"


def test_request_line_has_time_method_path_status_ms_function_and_start() -> None:
    line = RequestLine("GET", "/api/v1/health", 200, 12.4, "HealthFunction", cold=True)
    assert line.format(AT) == "2026-12-02 01:02:03 GET    /api/v1/health 200 12 ms HealthFunction cold"
    warm = RequestLine("POST", "/api/v1/accounts", 201, 1003.6, "AccountsCreateFunction", cold=False)
    assert warm.format(AT).endswith("POST   /api/v1/accounts 201 1004 ms AccountsCreateFunction warm")
    gateway = RequestLine("GET", "/nowhere", 404, 0.2)  # answered by the gateway, no function ran
    assert gateway.format(AT).endswith("GET    /nowhere 404 0 ms - -")


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        (INFO, LineKind.LOG),
        (ERROR, LineKind.ERROR),
        (json.dumps({"level": "CRITICAL", "message": "x"}), LineKind.ERROR),
        (EMF, LineKind.METRIC),
        (TRACEBACK, LineKind.ERROR),
        ("{not json", LineKind.ERROR),
        (f"{END_MARKER}abc", LineKind.END),
    ],
)
def test_lines_are_classified(line: str, kind: LineKind) -> None:
    assert classify(line)[0] is kind


def write_sample(sink: LogSink) -> None:
    for line in (INFO, ERROR, EMF, TRACEBACK, f"{END_MARKER}req-1"):
        sink.write("AccountsGetFunction", line + "\n")
    sink.request(RequestLine("GET", "/api/v1/accounts/a-1", 200, 8.0, "AccountsGetFunction", cold=False), AT)


def test_console_shows_requests_and_errors_and_the_files_hold_everything(tmp_path: Path) -> None:
    stream = io.StringIO()
    sink = LogSink(stream=stream, log_dir=tmp_path / "logs")
    write_sample(sink)
    sink.close()

    shown = stream.getvalue().splitlines()
    assert shown == [
        "[AccountsGetFunction] ERROR Avito call failed",
        "    Traceback (most recent call last):",
        "    Boom: no",
        f"[AccountsGetFunction] {TRACEBACK}",
        "2026-12-02 01:02:03 GET    /api/v1/accounts/a-1 200 8 ms AccountsGetFunction warm",
    ]
    logs = tmp_path / "logs"
    assert sorted(p.name for p in logs.iterdir()) == [
        "AccountsGetFunction.log",
        "AccountsGetFunction.metrics.log",
        "requests.log",
    ]
    # the function's log stream as CloudWatch would hold it: every JSON line unprefixed, and its END line
    assert (logs / "AccountsGetFunction.log").read_text().splitlines() == [INFO, ERROR, TRACEBACK, f"{END_MARKER}req-1"]
    assert (logs / "AccountsGetFunction.metrics.log").read_text().splitlines() == [EMF]
    assert (logs / "requests.log").read_text().splitlines() == [shown[-1]]


def test_json_format_prints_every_line_as_before(tmp_path: Path) -> None:
    stream = io.StringIO()
    log_file = tmp_path / "all.log"
    sink = LogSink(log_file, stream=stream, log_format="json")
    write_sample(sink)
    sink.close()
    expected = [f"[AccountsGetFunction] {line}" for line in (INFO, ERROR, EMF, TRACEBACK)]
    assert stream.getvalue().splitlines() == expected
    assert log_file.read_text().splitlines() == expected


def test_unknown_log_format_is_refused() -> None:
    with pytest.raises(ValueError, match="LOCAL_LOG_FORMAT must be one of console, json"):
        LogSink(stream=io.StringIO(), log_format="pretty")


def test_function_url_paths_show_only_their_first_segment() -> None:
    assert masked_path("/account-1/s3cr3t-token") == "/account-1/***"
    assert masked_path("/") == "/" and masked_path("/health") == "/health"


def test_schedule_and_queue_invocations_get_lines_too() -> None:
    ok = InvocationResult("r", True, {"batchItemFailures": [{"itemIdentifier": "m-2"}]}, 41.0, cold=True)
    records = [
        {"eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:KeepAliveQueue"},
        {"eventSource": "aws:sqs"},
    ]
    queue = event_line("OnlineWorkerFunction", {"Records": records}, ok)
    assert queue.format(AT).endswith("SQS    KeepAliveQueue (2 messages) ok (1 failed) 41 ms OnlineWorkerFunction cold")
    failed = InvocationResult("r", False, {"errorType": "Sandbox.Timedout"}, 280000.0)
    tick = {"detail-type": "Scheduled Event", "resources": ["arn:aws:events:us-east-1:1:rule/OnlineTickFunctionTick"]}
    line = event_line("OnlineTickFunction", tick, failed).format(AT)
    assert line.endswith("SCHEDULE OnlineTickFunctionTick Sandbox.Timedout 280000 ms OnlineTickFunction warm")


def test_stream_batches_and_websocket_routes_get_lines_without_the_connect_token() -> None:
    ok = InvocationResult("r", True, {"batchItemFailures": []}, 8.0, cold=False)
    arn = "arn:aws:dynamodb:us-east-1:123456789012:table/MessengerTable/stream/2026-12-02T01:02:03.000"
    records = [{"eventSource": "aws:dynamodb", "eventSourceARN": arn}] * 3
    stream = event_line("WsFanoutFunction", {"Records": records}, ok).format(AT)
    assert stream.endswith("STREAM MessengerTable (3 records) ok 8 ms WsFanoutFunction warm")
    connect = {
        "requestContext": {"routeKey": "$connect", "eventType": "CONNECT", "connectionId": "c-1"},
        "queryStringParameters": {"token": "secret-jwt"},
    }
    refused = InvocationResult("r", True, {"statusCode": 401, "body": "no"}, 5.0, cold=True)
    line = event_line("WsConnectFunction", connect, refused).format(AT)
    assert line.endswith("WS     $connect 401 5 ms WsConnectFunction cold")
    assert "secret-jwt" not in line
    ping = {"requestContext": {"routeKey": "$default", "eventType": "MESSAGE"}, "body": '{"action":"ping"}'}
    failed = InvocationResult("r", False, {"errorType": "KeyError"}, 3.0)
    line = event_line("WsDefaultFunction", ping, failed).format(AT)
    assert line.endswith("WS     $default KeyError 3 ms WsDefaultFunction warm")
