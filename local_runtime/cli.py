"""`python -m local_runtime run | token | invoke` — see the package docstring for the environment."""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jwt

from local_runtime.stack import DEFAULT_PARAMETER_ENV_MAP, DEFAULT_SECRET_ENV_MAP, LocalStack

SECRET_FILE = Path(".local") / "jwt_secret"
LOG_DIR = Path(".local") / "logs"


def make_token(secret: str, role: str, sub: str, ttl_seconds: int) -> str:
    now = int(time.time())
    return jwt.encode({"sub": sub, "role": role, "iat": now, "exp": now + ttl_seconds}, secret, algorithm="HS256")


def _secret_file(template: str) -> Path:
    return Path(template).resolve().parent / SECRET_FILE


def _write_secret_file(template: str, secret: str) -> Path:
    path = _secret_file(template)
    path.parent.mkdir(exist_ok=True)
    (path.parent / ".gitignore").write_text("*\n", encoding="utf-8")
    path.write_text(secret, encoding="utf-8")
    path.chmod(0o600)
    return path


def _pairs(values: Sequence[str] | None, default: dict[str, str] | None = None) -> dict[str, str]:
    result = dict(default or {})
    for item in values or []:
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"expected KEY=VALUE, got {item!r}")
        result[key] = value
    return result


def cmd_run(args: argparse.Namespace) -> int:
    stack = LocalStack(
        args.template,
        api_port=int(os.environ.get("PORT", "3000")),
        webhook_port=int(os.environ.get("WEBHOOK_PORT", "3001")),
        moto_port=int(os.environ.get("MOTO_PORT", "4566")),
        ws_port=int(os.environ.get("WS_PORT", "3002")),
        parameter_overrides=_pairs(args.parameter_overrides),
        parameter_env_map=_pairs(args.parameter_env, DEFAULT_PARAMETER_ENV_MAP),
        secret_env_map=_pairs(args.secret_env, DEFAULT_SECRET_ENV_MAP),
        log_dir=os.environ.get("LOCAL_LOG_DIR") or Path(args.template).resolve().parent / LOG_DIR,
    )
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    stack.start()
    try:
        _print_summary(stack, args.template)
        _print_first_admin(stack)
        stopping.wait()
    finally:
        print("stopping...", file=sys.stderr)
        stack.stop()
    return 0


def _print_summary(stack: LocalStack, template: str) -> None:
    print(f"API Gateway (REST, stage 'local'): {stack.api_url}")
    for route in sorted(stack_routes(stack)):
        print(f"    {route}")
    print(f"Lambda Invoke API:  {stack.api_url}/2015-03-31/functions/<name>/invocations")
    for lid, spec in stack.functions.items():
        if spec.function_url and stack.resolver:
            print(f"Function URL {lid}: {stack.resolver.resolve({'Fn::GetAtt': [lid + 'Url', 'FunctionUrl']})}")
    for api in stack.websocket_apis:
        routes = ", ".join(api.routes)
        print(f"WebSocket API {api.logical_id}: {stack.ws_url}/  (connect with ?token=<JWT>; routes: {routes})")
        print(f"    management API (@connections): {stack.ws_management_url}/{api.api_id}/{api.stage}")
    print(f"moto (AWS_ENDPOINT_URL): {stack.moto_url}")
    for schedule in stack.schedules:
        if schedule.period_seconds is None:
            fires = "on demand only (LOCAL_SCHEDULE_SECONDS=manual)"
        elif schedule.expression.startswith("cron(") and not schedule.overridden:
            fires = f"at its cron times ({schedule.timezone})"
        else:
            fires = f"every {schedule.period_seconds:g} s"
        print(f"schedule {schedule.key}: {schedule.expression} -> {fires}")
    for source in stack.sqs_sources:
        print(f"SQS {source.queue_url} -> {source.function_id} (batch {source.batch_size})")
    for stream in stack.stream_sources:
        print(f"DynamoDB stream {stream.table_name} -> {stream.function_id} (batch {stream.batch_size})")
    if "JWT_SECRET" in stack.generated_secrets and stack.jwt_secret:
        path = _write_secret_file(template, stack.jwt_secret)
        token = make_token(stack.jwt_secret, "admin", "local-admin", 43200)
        print(f"JWT_SECRET was unset: generated one (saved to {path}). Admin token (12 h):")
        print(token)
        if _serves_console(stack):
            print(f"Operator console, signed in as that admin: {console_link(stack, token)}")
    elif _serves_console(stack):
        print(f"Operator console: {stack.api_url}/console/ (paste a token from `make token`)")
    if stack.log_dir:
        print(f"Logs: one line per request below; every function's JSON logs and metrics in {stack.log_dir}/")
    sys.stdout.flush()


def first_admin(stack: LocalStack) -> dict[str, Any] | None:
    """Create the pool's first admin when it has no user (scripts/first_admin.py, the service's own code, run in a
    child process with the functions' environment); None when the template has no user pool."""
    ids = stack.physical_ids
    if not {"UserPool", "UserPoolClient", "UsersTable"} <= set(ids):
        return None
    root = Path(stack.template_path).parent
    env = {
        **os.environ,
        "AWS_ENDPOINT_URL": stack.moto_url,
        "AWS_REGION": stack.region,
        "AWS_DEFAULT_REGION": stack.region,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "USERS_TABLE": ids["UsersTable"],
        "USER_POOL_ID": ids["UserPool"],
        "USER_POOL_CLIENT_ID": ids["UserPoolClient"],
        "PYTHONPATH": os.pathsep.join([str(root / "layers" / "shared"), str(root)]),
    }
    done = subprocess.run(
        [sys.executable, "-m", "scripts.first_admin"], env=env, cwd=root, capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def first_admin_lines(admin: dict[str, Any], api_url: str) -> list[str]:
    """What ``make run`` prints about :func:`first_admin`'s answer."""
    if admin["created"]:
        return [
            f"First admin of the user pool: {admin['email']} / {admin['password']}",
            f"    sign in at {api_url}/console/ or POST {api_url}/api/v1/auth/login",
        ]
    return ["The user pool has users already (LOCAL_ADMIN_EMAIL/LOCAL_ADMIN_PASSWORD apply to an empty pool only)."]


def _print_first_admin(stack: LocalStack) -> None:
    admin = first_admin(stack)
    if admin is not None:
        print("\n".join(first_admin_lines(admin, stack.api_url)))


def _serves_console(stack: LocalStack) -> bool:
    """Whether the template has the operator console's routes (GET /console...)."""
    return any(route.split()[1].startswith("/console") for route in stack_routes(stack))


def console_link(stack: LocalStack, token: str) -> str:
    """The console's address that signs in with ``token`` (the page removes it from the address bar)."""
    return f"{stack.api_url}/console/#token={token}"


def stack_routes(stack: LocalStack) -> list[str]:
    routes = []
    for lid, spec in stack.functions.items():
        for event in spec.events.values():
            if event.get("Type") == "Api":
                props = event.get("Properties") or {}
                routes.append(f"{str(props.get('Method')).upper():7} {props.get('Path')} -> {lid}")
    return routes


def cmd_token(args: argparse.Namespace) -> int:
    secret = os.environ.get("JWT_SECRET")
    if not secret:
        path = _secret_file(args.template)
        if not path.exists():
            print(f"JWT_SECRET is unset and {path} does not exist (start `run` first)", file=sys.stderr)
            return 1
        secret = path.read_text(encoding="utf-8").strip()
    print(make_token(secret, args.role, args.sub or f"local-{args.role}", args.ttl))
    return 0


def cmd_invoke(args: argparse.Namespace) -> int:
    event = json.loads(Path(args.event).read_text(encoding="utf-8")) if args.event else {}
    port = os.environ.get("PORT", "3000")
    url = f"http://127.0.0.1:{port}/2015-03-31/functions/{args.function}/invocations"
    request = urllib.request.Request(
        url, data=json.dumps(event).encode(), method="POST", headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=args.timeout) as response:  # noqa: S310 - loopback
            body, failed = response.read().decode(), response.headers.get("X-Amz-Function-Error")
    except urllib.error.HTTPError as error:
        print(error.read().decode(), file=sys.stderr)
        return 1
    except urllib.error.URLError as error:
        print(f"cannot reach the local stack at {url}: {error.reason} (is `run` running?)", file=sys.stderr)
        return 1
    print(json.dumps(json.loads(body), indent=2, ensure_ascii=False))
    return 1 if failed else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m local_runtime", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run the whole template locally")
    run.add_argument("--template", default="template.yaml")
    run.add_argument("--parameter-overrides", nargs="*", metavar="Param=Value")
    run.add_argument("--parameter-env", nargs="*", metavar="ENV=Param", help="extra env var -> parameter mappings")
    run.add_argument("--secret-env", nargs="*", metavar="ENV=SecretId", help="extra env var -> secret mappings")
    run.set_defaults(handler=cmd_run)
    token = commands.add_parser("token", help="print an HS256 JWT signed with the local JWT secret")
    token.add_argument("--role", default="admin")
    token.add_argument("--sub")
    token.add_argument("--ttl", type=int, default=43200)
    token.add_argument("--template", default="template.yaml")
    token.set_defaults(handler=cmd_token)
    invoke = commands.add_parser("invoke", help="invoke one function of the running stack once")
    invoke.add_argument("function", help="logical id or function name")
    invoke.add_argument("--event", help="JSON file with the event ({} when omitted)")
    invoke.add_argument("--timeout", type=float, default=120)
    invoke.set_defaults(handler=cmd_invoke)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.handler(args))
