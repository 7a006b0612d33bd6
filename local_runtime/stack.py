"""LocalStack: the whole local runtime (moto, resources, workers, API, Function URLs, schedules, SQS) in one object."""

from __future__ import annotations

import dataclasses
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

import boto3
from botocore.config import Config

from local_runtime.apigw import ApiGatewayApp
from local_runtime.apigw_config import load_api_configs, load_routes
from local_runtime.function_url import FunctionUrlApp
from local_runtime.functions import FunctionSpec, load_function_specs
from local_runtime.http_server import HttpServer
from local_runtime.intrinsics import Resolver, StackContext, api_id, default_region
from local_runtime.moto_process import MotoProcess
from local_runtime.one_time_schedules import OneTimeSchedules
from local_runtime.resources import FAKE_CREDENTIALS, create_resources
from local_runtime.schedules import MANUAL, Schedule, Scheduler, load_schedules
from local_runtime.sqs_poller import SqsEventSource, SqsPoller, load_sqs_sources
from local_runtime.streams import StreamEventSource, StreamPoller, load_stream_sources
from local_runtime.template import WS_API_TYPE, Template, load_template, parse_yaml
from local_runtime.terminal import CONSOLE, LogSink, RequestLogger, event_line
from local_runtime.websocket import (
    ManagementApp,
    WebSocketApi,
    WebSocketGateway,
    load_websocket_apis,
    management_prefix,
)
from local_runtime.workers import DEFAULT_MAX_WORKERS, InvocationResult, LambdaRuntime

DEFAULT_SECRET_ENV_MAP = {"JWT_SECRET": "JwtSecret"}
DEFAULT_PARAMETER_ENV_MAP = {
    "AVITO_API_URL": "AvitoApiUrl",
    "WEBHOOK_BASE_URL": "WebhookBaseUrl",
    "CORS_ALLOW_ORIGINS": "AllowedOrigins",
}
WEBHOOK_BASE_URL_ENV = "WEBHOOK_BASE_URL"
# No retries: when moto stops, pollers must notice at once instead of backing off.
_POLLER_CONFIG = Config(retries={"total_max_attempts": 1}, connect_timeout=2, read_timeout=10)


class InvocationError(Exception):
    """A function invocation ended with a Lambda error (payload has errorType / errorMessage)."""

    def __init__(self, payload: dict[str, Any]) -> None:
        super().__init__(f"{payload.get('errorType')}: {payload.get('errorMessage')}")
        self.payload = payload


class LocalStack:
    """Runs a SAM template locally. Ports 0 pick free ports; see the package docstring for the environment."""

    def __init__(
        self,
        template_path: str | Path = "template.yaml",
        *,
        api_port: int = 0,
        webhook_port: int = 0,
        moto_port: int = 0,
        ws_port: int = 0,
        host: str = "127.0.0.1",
        moto_host: str | None = None,
        env_overrides: Mapping[str, str] | None = None,
        parameter_overrides: Mapping[str, str] | None = None,
        schedule_seconds: float | str | None = None,
        log_file: str | Path | None = None,
        log_dir: str | Path | None = None,
        function_env: Mapping[str, str] | None = None,
        secret_env_map: Mapping[str, str] | None = None,
        parameter_env_map: Mapping[str, str] | None = None,
        max_workers_per_function: int = DEFAULT_MAX_WORKERS,
        enforce_iam: bool = True,
    ) -> None:
        self.template_path = Path(template_path).resolve()
        # Each worker refuses the AWS calls its function's template policies do not grant (local_runtime.iam);
        # off only for templates that model no IAM at all (the local runtime's own fixtures).
        self._enforce_iam = enforce_iam
        self._ports = {"api": api_port, "webhook": webhook_port, "moto": moto_port, "ws": ws_port}
        self.host = host
        self.env: dict[str, str] = {**os.environ, **(env_overrides or {})}
        # MOTO_HOST binds moto elsewhere than `host`, e.g. the docker bridge address so that `sam local invoke`
        # containers reach it (they cannot reach the host's 127.0.0.1).
        self.moto_host = moto_host or self.env.get("MOTO_HOST") or host
        self._parameter_overrides = dict(parameter_overrides or {})
        self._schedule_seconds = schedule_seconds
        self._log_file = log_file
        self._log_dir = log_dir
        self._function_env = dict(function_env or {})
        self._secret_env_map = dict(DEFAULT_SECRET_ENV_MAP if secret_env_map is None else secret_env_map)
        self._parameter_env_map = dict(DEFAULT_PARAMETER_ENV_MAP if parameter_env_map is None else parameter_env_map)
        self._max_workers = max_workers_per_function
        self.region = self.env.get("AWS_REGION") or self.env.get("AWS_DEFAULT_REGION") or default_region()

        self.api_url = self.webhook_url = self.moto_url = self.ws_url = self.ws_management_url = ""
        self.jwt_secret: str | None = None
        self.generated_secrets: dict[str, str] = {}  # env var -> generated value (when the env var was unset)
        self.physical_ids: dict[str, str] = {}
        self.template: Template | None = None
        self.resolver: Resolver | None = None
        self.functions: dict[str, FunctionSpec] = {}
        self.schedules: list[Schedule] = []
        self.sqs_sources: list[SqsEventSource] = []
        self.stream_sources: list[StreamEventSource] = []
        self.websocket_apis: list[WebSocketApi] = []
        self.runtime: LambdaRuntime | None = None
        self._sink: LogSink | None = None
        self._moto: MotoProcess | None = None
        self._servers: list[HttpServer] = []
        self._scheduler: Scheduler | None = None
        self._poller: SqsPoller | None = None
        self._stream_poller: StreamPoller | None = None
        self._one_time: OneTimeSchedules | None = None
        self._gateway: WebSocketGateway | None = None

    # ------------------------------------------------------------ lifecycle
    def start(self) -> LocalStack:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        self._sink = LogSink(
            self._log_file or self.env.get("LOCAL_LOG_FILE") or None,
            log_dir=self._log_dir or self.env.get("LOCAL_LOG_DIR") or None,
            log_format=(self.env.get("LOCAL_LOG_FORMAT") or CONSOLE).strip().lower(),
        )
        self._moto = MotoProcess(self.moto_host, self._ports["moto"])
        self._moto.spawn()
        api_server = HttpServer("api", self.host, self._ports["api"])
        webhook_server = HttpServer("webhook", self.host, self._ports["webhook"])
        self._servers = [api_server, webhook_server]
        self.api_url, self.webhook_url = api_server.url, webhook_server.url

        template = self.template = load_template(self.template_path, self._template_parameters())
        self.moto_url = self._moto.wait_ready()
        context = StackContext(region=self.region, sqs_base_url=self.moto_url, webhook_url=self.webhook_url + "/")
        management_server = None
        if template.ids_of_type(WS_API_TYPE):
            self._gateway = WebSocketGateway(self.host, self._ports["ws"], context)
            management_server = HttpServer("ws-management", self.host, 0)
            self._servers.append(management_server)
            self.ws_url, self.ws_management_url = self._gateway.url, management_server.url
            for lid in template.ids_of_type(WS_API_TYPE):
                api = api_id(lid)
                context.local_endpoints[management_prefix(context, api)] = f"{management_server.url}/{api}"
                # clients' address of the API (wss://<api>.execute-api...), e.g. in the console's config
                context.local_endpoints[f"wss://{context.execute_api_host(api)}"] = self._gateway.url
        # the Cognito user pool's keys (COGNITO_JWKS_URL) are served by moto
        context.local_endpoints[f"https://cognito-idp.{self.region}.amazonaws.com"] = self.moto_url
        resolver = self.resolver = Resolver(template, context)
        self.physical_ids = create_resources(
            template, self.moto_url, resolver=resolver, secret_values=self._secret_values(template)
        )
        self.functions = load_function_specs(resolver)
        if not self._enforce_iam:
            self.functions = {lid: dataclasses.replace(spec, iam_env={}) for lid, spec in self.functions.items()}
        runtime = self.runtime = LambdaRuntime(
            self.functions, self._function_env, self._sink, self._max_workers, override_env=self._worker_env()
        )
        # Stream positions are taken before anything can write (LATEST = from the start of the stack).
        self.stream_sources = load_stream_sources(self.functions, resolver)
        self._stream_poller = StreamPoller(
            self.stream_sources, self._logged_invoke, lambda service: self.client(service, _POLLER_CONFIG), context
        )
        self._stream_poller.start()

        apis = load_api_configs(resolver, {spec.arn: lid for lid, spec in self.functions.items()})
        routes = load_routes(self.functions, apis)
        api_server.start(RequestLogger(ApiGatewayApp(runtime, apis, routes, context), runtime, self._sink))
        function_urls = FunctionUrlApp(runtime, template, self.functions)
        webhook_server.start(RequestLogger(function_urls, runtime, self._sink, mask_path=True))
        if self._gateway is not None and management_server is not None:
            self.websocket_apis = load_websocket_apis(resolver, runtime)
            self._gateway.start(runtime, self.websocket_apis, invoke=self._logged_invoke)
            # Not logged per request: these are the functions' own @connections calls (a fan-out makes many).
            management_server.start(ManagementApp(self._gateway))

        schedule_seconds = self._schedule_seconds or _schedule_period(self.env.get("LOCAL_SCHEDULE_SECONDS"))
        self.schedules = load_schedules(self.functions, resolver, schedule_seconds)
        self._scheduler = Scheduler(self.schedules, self._logged_invoke, context)
        self._scheduler.start()
        self._one_time = OneTimeSchedules(
            lambda: self.client("scheduler"),
            self._logged_invoke,
            lambda arn, body: self.client("sqs").send_message(
                QueueUrl=context.queue_url(arn.rsplit(":", 1)[-1]), MessageBody=body
            ),
        )
        self._one_time.start()
        queue_urls = {lid: url for lid, url in self.physical_ids.items() if url.startswith("http")}
        self.sqs_sources = load_sqs_sources(self.functions, resolver, queue_urls)
        self._poller = SqsPoller(
            self.sqs_sources, self._logged_invoke, lambda: self.client("sqs", _POLLER_CONFIG), context
        )
        self._poller.start()

    def stop(self) -> None:
        """Stop everything (idempotent): timers and pollers, WebSocket and HTTP servers, workers, moto."""
        for stoppable in (self._scheduler, self._one_time, self._poller, self._stream_poller):
            if stoppable:
                stoppable.stop()
        if self._gateway:
            self._gateway.stop()
            self._gateway = None
        for server in self._servers:
            server.stop()
        self._servers = []
        if self.runtime:
            self.runtime.close()
        if self._moto:
            self._moto.stop()  # also ends pollers' long polls
            self._moto = None
        for joinable in (self._scheduler, self._one_time, self._poller, self._stream_poller):
            if joinable:
                joinable.join(timeout=2)
        self._scheduler = self._one_time = self._poller = self._stream_poller = None
        if self._sink:
            self._sink.close()
            self._sink = None

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def log_dir(self) -> Path | None:
        return self._sink.log_dir if self._sink else None

    # ------------------------------------------------------------ helpers
    def invoke_raw(self, function_ref: str, event: Any) -> InvocationResult:
        if self.runtime is None:
            raise RuntimeError("LocalStack is not started")
        return self.runtime.invoke(function_ref, event)

    def invoke(self, function_ref: str, event: Any) -> Any:
        """Invoke a function (logical id, name or ARN) and return its result; raises InvocationError."""
        result = self.invoke_raw(function_ref, event)
        if not result.ok:
            raise InvocationError(result.payload)
        return result.payload

    def fire_schedule(self, key: str) -> Any:
        """Fire now the schedule of function `key` (or `Function.EventName`); returns the handler result."""
        matches = [s for s in self.schedules if key in (s.function_id, s.key)]
        if not matches or self._scheduler is None:
            raise KeyError(f"no enabled schedule for {key!r}")
        result = self._scheduler.fire(matches[0])
        if not result.ok:
            raise InvocationError(result.payload)
        return result.payload

    def pause_event_sources(self) -> None:
        """Stop handing queue messages to functions; returns once none is being received or processed."""
        self._require(self._poller).pause()

    def resume_event_sources(self) -> None:
        self._require(self._poller).resume()

    def wait_event_sources_idle(self, timeout: float = 60.0) -> None:
        """Wait until every event-source queue has nothing visible or in flight (delayed messages aside)."""
        self._require(self._poller).wait_idle(self.client("sqs", _POLLER_CONFIG), timeout)

    @staticmethod
    def _require[T](part: T | None) -> T:
        if part is None:
            raise RuntimeError("LocalStack is not started")
        return part

    def client(self, service: str, config: Config | None = None) -> Any:
        """A boto3 client for the local moto server."""
        return boto3.client(
            service, endpoint_url=self.moto_url, region_name=self.region, config=config, **FAKE_CREDENTIALS
        )

    # ------------------------------------------------------------ internals
    def _logged_invoke(self, function_id: str, event: Any) -> InvocationResult:
        """Invoke for schedules, queues, streams and WebSocket routes, with a console line like an HTTP request's."""
        result = self._require(self.runtime).invoke(function_id, event)
        if self._sink:
            self._sink.request(event_line(function_id, event, result))
        return result

    def _template_parameters(self) -> dict[str, str]:
        declared = (parse_yaml(self.template_path.read_text(encoding="utf-8")) or {}).get("Parameters") or {}
        env = dict(self.env)
        env.setdefault(WEBHOOK_BASE_URL_ENV, self.webhook_url + "/")
        overrides = {
            param: env[name] for name, param in self._parameter_env_map.items() if param in declared and env.get(name)
        }
        if "ProxyNetworks" in declared:
            overrides.setdefault("ProxyNetworks", "local")  # the local runtime's proxies listen on loopback
        overrides.update(self._parameter_overrides)
        return overrides

    def _secret_values(self, template: Template) -> dict[str, str]:
        values: dict[str, str] = {}
        for env_name, secret_id in self._secret_env_map.items():
            if secret_id not in template.resources:
                continue
            value = self.env.get(env_name)
            if not value:
                value = self.generated_secrets[env_name] = secrets.token_urlsafe(32)
            values[secret_id] = value
        self.jwt_secret = values.get(self._secret_env_map.get("JWT_SECRET", ""), self.env.get("JWT_SECRET"))
        return values

    def _worker_env(self) -> dict[str, str]:
        """What every worker gets over the template's values: the emulators' endpoints and fake credentials."""
        return {
            "AWS_ENDPOINT_URL": self.moto_url,
            "AWS_ENDPOINT_URL_LAMBDA": self.api_url,  # lambda:Invoke goes to our Invoke API
            "AWS_ACCESS_KEY_ID": FAKE_CREDENTIALS["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": FAKE_CREDENTIALS["aws_secret_access_key"],
            "AWS_SESSION_TOKEN": FAKE_CREDENTIALS["aws_session_token"],
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
        }


def _schedule_period(value: str | None) -> float | str | None:
    """LOCAL_SCHEDULE_SECONDS: seconds, or "manual" (fire only on demand)."""
    if not value or not value.strip():
        return None
    if value.strip().lower() == MANUAL:
        return MANUAL
    try:
        return float(value)
    except ValueError:
        raise ValueError(f"LOCAL_SCHEDULE_SECONDS must be a number of seconds or {MANUAL!r}, not {value!r}") from None
