"""``python -m scripts.demo`` (``make demo``): the local stack and the Avito simulator with a ready demo account.

Starts the simulator with the ``--seed demo`` data (client ``demo-client``/``demo-secret``, user 1001), then
the local stack on PORT / WEBHOOK_PORT / MOTO_PORT (defaults 3000 / 3001 / 4566) with ``AvitoApiUrl``
pointing at the simulator and a short schedule (LOCAL_SCHEDULE_SECONDS, default 30). It creates the demo
account through the API, checks its connection, syncs its statistics, loads its chats (so the stored-chat
endpoints have data) and subscribes its webhook, then prints an admin token and ready ``curl`` lines and
runs until Ctrl-C. :func:`setup` does all of it for any ports (tests use ephemeral ones).

It works as the user pool's first admin: created as ``make run`` creates it (``local_runtime.cli.first_admin``,
LOCAL_ADMIN_EMAIL / LOCAL_ADMIN_PASSWORD or admin@example.com and a generated password), signed in with its
password (``POST /auth/login``), so the demo's changes are the admin's in the audit log; the console is opened by
signing in with the printed e-mail and password. A template without a user pool falls back to an HS256 token.
"""

from __future__ import annotations

import os
import shlex
import signal
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from avito_sim import AvitoSimulator
from avito_sim.demo import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_USER_ID, seed_demo
from local_runtime import LocalStack
from local_runtime.cli import first_admin, make_token  # plain PyJWT: runs without layers/shared on sys.path

ROOT = Path(__file__).resolve().parent.parent
DEMO_CHAT = "u2i-demo0000"
TOKEN_TTL_SECONDS = 12 * 3600


class DemoError(RuntimeError):
    """A setup step through the API did not answer as expected."""


@dataclass
class Demo:
    sim: AvitoSimulator
    stack: LocalStack
    token: str  # the admin's Cognito access token (an HS256 token without a user pool)
    console_token: str = ""  # a 12 h HS256 admin token for the console's #token= link
    admin: dict[str, Any] = field(default_factory=dict)  # {"created", "email", "password"} of the first admin
    account: dict[str, Any] = field(default_factory=dict)
    check: dict[str, Any] = field(default_factory=dict)
    chats: list[dict[str, Any]] = field(default_factory=list)
    webhook: dict[str, Any] = field(default_factory=dict)

    def stop(self) -> None:
        """Stop the stack, then the simulator (idempotent)."""
        self.stack.stop()
        self.sim.stop()

    def curl_lines(self) -> list[str]:
        """Ready shell lines; they read the admin token from $TOKEN (see :func:`_print_summary`)."""
        base, account_id = self.stack.api_url, self.account["id"]
        auth = '"Authorization: Bearer $TOKEN"'  # after the printed `export TOKEN=...`

        def curl(method: str, path: str, body: str | None = None) -> str:
            line = f"curl -s -X {method} -H {auth} {shlex.quote(base + path)}"
            if body is not None:
                line += f" -H 'Content-Type: application/json' -d {shlex.quote(body)}"
            return line

        return [
            curl("GET", "/api/v1/accounts"),
            curl("GET", f"/api/v1/accounts/{account_id}"),
            curl("GET", f"/api/v1/chats?accountId={account_id}"),
            curl("GET", f"/api/v1/chats/{DEMO_CHAT}/messages"),
            curl(
                "POST",
                f"/api/v1/messenger/accounts/{account_id}/chats/{DEMO_CHAT}/send",
                '{"text": "Добрый день! Да, в наличии."}',
            ),
            curl("POST", f"/api/v1/messenger/accounts/{account_id}/voice-files", '{"voiceIds": ["demo-voice-0001"]}'),
            curl("POST", f"/api/v1/messenger/accounts/{account_id}/chats/{DEMO_CHAT}/images")
            + " -F 'file=@photo.jpg'",  # any JPEG, PNG, GIF, HEIC or BMP up to 5 MB
            curl("GET", "/api/v1/eternal-online/status"),
        ]


def _call(session: requests.Session, method: str, url: str, expected: int = 200, **kwargs: Any) -> Any:
    response = session.request(method, url, timeout=30, **kwargs)
    if response.status_code != expected:
        raise DemoError(f"{method} {url} answered {response.status_code}: {response.text[:500]}")
    return response.json()["data"]


def setup(
    api_port: int = 3000,
    webhook_port: int = 3001,
    moto_port: int = 4566,
    *,
    sim_port: int = 0,
    schedule_seconds: float = 30,
    log_file: str | Path | None = None,
    parameters: dict[str, str] | None = None,
) -> Demo:
    """Start the simulator and the stack, create and prepare the demo account; the caller stops the Demo.
    ``parameters``: more template parameters (e.g. a partner app for consent links)."""
    sim = AvitoSimulator(port=sim_port)
    seed_demo(sim)
    sim.start()
    stack = LocalStack(
        ROOT / "template.yaml",
        api_port=api_port,
        webhook_port=webhook_port,
        moto_port=moto_port,
        parameter_overrides={"AvitoApiUrl": sim.base_url, **(parameters or {})},
        schedule_seconds=schedule_seconds,
        log_file=log_file,
    )
    try:
        stack.start()
        if not stack.jwt_secret:  # the stack generates one when JWT_SECRET is unset
            raise DemoError("the local stack has no JWT secret")
        console_token = make_token(stack.jwt_secret, "admin", "demo-admin@example.com", TOKEN_TTL_SECONDS)
        demo = Demo(sim=sim, stack=stack, token=console_token, console_token=console_token)
        with requests.Session() as session:
            session.trust_env = False  # loopback only: no corporate proxy in the way
            api = stack.api_url + "/api/v1"
            demo.admin = first_admin(stack) or {}
            password = demo.admin.get("password") or os.environ.get("LOCAL_ADMIN_PASSWORD")
            if demo.admin and password:
                demo.admin["password"] = password
                login = {"email": demo.admin["email"], "password": password}
                demo.token = _call(session, "POST", f"{api}/auth/login", json=login)["accessToken"]
            session.headers["Authorization"] = f"Bearer {demo.token}"
            body = {"name": "Demo Shop", "clientId": DEMO_CLIENT_ID, "clientSecret": DEMO_CLIENT_SECRET}
            demo.account = _call(session, "POST", f"{api}/accounts", 201, json=body)
            account_id = demo.account["id"]
            demo.check = _call(session, "POST", f"{api}/accounts/{account_id}/check-connection")
            if demo.check.get("connectionStatus") != "connected":
                raise DemoError(f"the demo account did not connect: {demo.check}")
            demo.account = _call(session, "POST", f"{api}/accounts/{account_id}/sync-stats", json={"days": 30})
            demo.chats = _call(session, "GET", f"{api}/messenger/accounts/{account_id}/chats", params={"limit": 50})
            for chat in demo.chats:
                _call(session, "GET", f"{api}/messenger/accounts/{account_id}/chats/{chat['id']}/messages")
            demo.webhook = _call(session, "POST", f"{api}/accounts/{account_id}/webhook")
        return demo
    except BaseException:
        stack.stop()
        sim.stop()
        raise


def _print_summary(demo: Demo) -> None:
    account = demo.account
    print(f"Avito simulator:   {demo.sim.base_url} (demo user {DEMO_USER_ID})")
    print(f"API:               {demo.stack.api_url}/api/v1   (Swagger UI: {demo.stack.api_url}/api/v1/docs)")
    print(f"Webhook URL base:  {demo.stack.webhook_url}/")
    if demo.token != demo.console_token:
        admin = demo.admin
        print(f"Operator console:  {demo.stack.api_url}/console/  (sign in as {admin['email']} / {admin['password']})")
        print(f"                   or with a 12 h token: {demo.stack.api_url}/console/#token={demo.console_token}")
    else:
        print(f"Operator console:  {demo.stack.api_url}/console/#token={demo.console_token}")
    print(
        f"Demo account:      {account['id']} ({account['name']}, {demo.check.get('connectionStatus')}, "
        f"{len(demo.chats)} chats, webhook subscribed: {demo.webhook.get('subscribed')})"
    )
    print()
    if demo.token != demo.console_token:
        print(f"The admin's access token (Cognito, 60 min; `make token` prints a 12 h one), {demo.admin['email']}:")
    else:
        print("Admin token (12 h):")
    print(f"  export TOKEN={demo.token}")
    print()
    print("Try:")
    for line in demo.curl_lines():
        print(f"  {line}")
    print()
    print("A buyer message arrives through the webhook when the simulator posts one, e.g. in Python:")
    print(f"  sim.incoming_message({DEMO_USER_ID}, {DEMO_CHAT!r}, 'Ещё продаётся?')")
    print("Ctrl-C stops everything.", flush=True)


def main() -> int:
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    try:
        demo = setup(
            int(os.environ.get("PORT", "3000")),
            int(os.environ.get("WEBHOOK_PORT", "3001")),
            int(os.environ.get("MOTO_PORT", "4566")),
            schedule_seconds=float(os.environ.get("LOCAL_SCHEDULE_SECONDS") or 30),
            log_file=os.environ.get("LOCAL_LOG_FILE") or None,
        )
    except DemoError as exc:
        print(f"demo setup failed: {exc}", file=sys.stderr)
        return 1
    try:
        _print_summary(demo)
        stopping.wait()
    finally:
        print("stopping...", file=sys.stderr)
        demo.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
