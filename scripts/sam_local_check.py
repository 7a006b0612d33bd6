"""``python -m scripts.sam_local_check`` (``make sam-local-check``): every sample event through ``sam local invoke``.

Opt-in, needs Docker (``scripts/sam-local-image`` installs it from Debian and builds the Lambda-like image).
Starts the Avito simulator and the local stack with moto bound to the docker bridge address (``MOTO_HOST``) so
that the containers reach both, and for each function and each of its events in ``events/``: creates a fresh
account (through the local API) with its chats and messages stored, and what else the samples read, as
``tests/integration/test_events.py`` seeds it (the simulator's chats, calls, reviews and voice message; the user
pool's first admin and an invited operator; the sample operator's quick reply), puts that account's id, its
webhook token, the invited user's id and tokens signed by the local JWT secret into the event, runs ``sam local
invoke`` with the ``--env-vars`` of ``env.local.json`` (its moto address rewritten to the bridge's) and asserts
the answer with the same expectations as ``test_events.py``. The tokens are signed afresh for each event (a run
over every event takes about an hour, longer than one token lives).

The WebSocket samples that name a connection (``ws_connect``, ``ws_default_*``, ``ws_disconnect``) get a real
one (:class:`SampleConnection`): a socket opened on the local stack's WebSocket API, whose ``$connect`` stores it
as API Gateway's would, and whose id replaces the samples'. A connection only written to the table (as the
in-process test does) is unknown to the local management API: the fan-out, which runs on MessengerTable's stream
while an event is seeded (the chats the seeding lists, the previous account's cleanup), posts its frames to every
stored connection, is answered 410 Gone for that one and forgets it, as it must for a connection API Gateway no
longer has; ``ws_default_subscribe`` then found no connection (``not_connected``).

``--only`` checks some functions (logical ids), ``--events`` some events (file names, with or without
``.json``): the failing ones of a run first, then the whole set.

``--mode start-lambda`` (the default) runs one ``sam local start-lambda`` with ``--warm-containers LAZY`` and
invokes each function through its Lambda API: SAM reads the template once and a function's container is
reused by its next event, as Lambda reuses a warm one; each ``sam local invoke`` (``--mode invoke``) reads the
template and starts a container again (about 1.5 min an event on this 2-core machine under load, over 2 h for
the whole set).

``--write-env`` regenerates the committed ``env.local.json`` from the template instead.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
ENV_FILE = ROOT / "env.local.json"
DEFAULT_MOTO_URL = "http://172.17.0.1:4566"  # docker's default bridge address, MOTO_PORT's default
IMAGE = "avito-service/lambda-python:3.13"
SAM = ROOT / ".tools-venv" / "bin" / "sam"


def local_env(
    moto_url: str = DEFAULT_MOTO_URL, physical_ids: dict[str, str] | None = None
) -> dict[str, dict[str, str]]:
    """SAM's ``--env-vars`` document for the local stack: every variable whose value the template computes from
    its resources or stack name, as the local runtime resolves it, and ``AWS_ENDPOINT_URL``. ``physical_ids``:
    a running stack's ids of the resources whose id moto makes up (the user pool and its client), which the
    committed ``env.local.json`` can only name by their logical ids."""
    from local_runtime.functions import load_function_specs  # noqa: PLC0415 - --write-env only needs these
    from local_runtime.intrinsics import Resolver, StackContext  # noqa: PLC0415
    from local_runtime.resources import (  # noqa: PLC0415
        KMS_KEY_TYPE,
        USER_POOL_CLIENT_TYPE,
        USER_POOL_TYPE,
        local_key_alias,
    )
    from local_runtime.template import SECRET_TYPE, load_template  # noqa: PLC0415

    template = load_template(ROOT / "template.yaml")
    resolver = Resolver(
        template, StackContext(sqs_base_url=moto_url, webhook_url=moto_url.rsplit(":", 1)[0] + ":3001/")
    )
    for secret in template.ids_of_type(SECRET_TYPE):  # GetSecretValue takes the name as well as the ARN
        resolver.register_physical_id(secret, resolver.secret_name(secret))
    for key in template.ids_of_type(KMS_KEY_TYPE):  # the key's alias the local runtime creates, not its random id
        resolver.register_physical_id(key, local_key_alias(resolver.context.stack_name, key))
    for pool in (*template.ids_of_type(USER_POOL_TYPE), *template.ids_of_type(USER_POOL_CLIENT_TYPE)):
        if pool in (physical_ids or {}):
            resolver.register_physical_id(pool, physical_ids[pool])
    variables: dict[str, str] = {"AWS_ENDPOINT_URL": moto_url}
    for logical_id, spec in load_function_specs(resolver).items():
        raw = (template.function_properties(logical_id).get("Environment") or {}).get("Variables") or {}
        for name, value in raw.items():
            if _names_a_resource(value, template.document.get("Parameters") or {}):
                variables[name] = spec.environment[name]
    return {"Parameters": dict(sorted(variables.items()))}


def _names_a_resource(value: Any, parameters: dict[str, Any]) -> bool:
    """Whether SAM could get ``value`` wrong: any intrinsic but a plain ``Ref`` to a template parameter (a
    resource's name or URL, or a ``Sub`` of ``AWS::StackName``, which SAM resolves to its own stack name)."""
    return isinstance(value, dict) and not (set(value) == {"Ref"} and value["Ref"] in parameters)


def env_file_text(moto_url: str = DEFAULT_MOTO_URL, physical_ids: dict[str, str] | None = None) -> str:
    return json.dumps(local_env(moto_url, physical_ids), indent=2, ensure_ascii=False) + "\n"


def bridge_address() -> str:
    """The docker bridge's gateway address (containers reach the host there)."""
    out = subprocess.run(
        ["docker", "network", "inspect", "bridge", "--format", "{{(index .IPAM.Config 0).Gateway}}"],  # noqa: S607
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    return out or "172.17.0.1"


def sam_invoke(logical_id: str, event: dict[str, Any], env_vars: Path, parameters: dict[str, str]) -> Any:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, encoding="utf-8") as handle:
        json.dump(event, handle, ensure_ascii=False)
    overrides = " ".join(f"{key}={value}" for key, value in parameters.items())
    command = [
        str(SAM), "local", "invoke", logical_id, "--language-extensions",
        "--template", str(ROOT / ".aws-sam" / "build" / "template.yaml"),
        "--event", handle.name,
        "--env-vars", str(env_vars),
        "--parameter-overrides", overrides,
        "--invoke-image", IMAGE,
        "--skip-pull-image",
        "--region", "us-east-1",
    ]  # fmt: skip
    try:
        done = subprocess.run(command, check=False, capture_output=True, text=True, timeout=300, cwd=ROOT)  # noqa: S603
    finally:
        os.unlink(handle.name)
    lines = [line for line in done.stdout.splitlines() if line.strip().startswith(("{", '"'))]
    if done.returncode != 0 or not lines:
        raise AssertionError(f"sam local invoke failed ({done.returncode}): {done.stderr[-1500:]}")
    return json.loads(lines[-1])


class SampleConnection:
    """The WebSocket samples' connection: a real socket on the local stack's WebSocket API (``$connect`` runs
    there and stores it, and the local management API knows it, so a fan-out running meanwhile delivers to it
    rather than forgetting it as gone). Its id is the one stored item the socket added (API Gateway does not
    tell a client its connection id)."""

    def __init__(self, ws_url: str, token: str) -> None:
        from avito_service.live import store as connections  # noqa: PLC0415 - after the environment is set

        from tests.support.live import LiveClient  # noqa: PLC0415

        self._connections = connections
        before = {c.connection_id for c in connections.open_connections()}
        self.client = LiveClient(ws_url, token, name="sample")
        added = {c.connection_id for c in connections.open_connections()} - before
        if len(added) != 1:
            self.client.close()
            raise AssertionError(f"the sample's WebSocket connection: {len(added)} stored connection(s) added")
        self.connection_id = added.pop()

    def close(self) -> int:
        """Forget the connection, then close the socket (its ``$disconnect`` then finds nothing, so it arms no
        offline grace period for the sample's user); answers how many fan-out frames it got meanwhile."""
        self._connections.close_connection(self.connection_id)
        self.client.close()
        return len(self.client.frames)


class StartLambda:
    """One ``sam local start-lambda`` for the whole run; ``invoke`` calls a function through its Lambda API."""

    def __init__(self, env_vars: Path, parameters: dict[str, str], log: Path) -> None:
        import socket  # noqa: PLC0415

        with socket.socket() as probe:  # a free port
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        overrides = " ".join(f"{key}={value}" for key, value in parameters.items())
        command = [
            str(SAM), "local", "start-lambda", "--language-extensions",
            "--template", str(ROOT / ".aws-sam" / "build" / "template.yaml"),
            "--env-vars", str(env_vars),
            "--parameter-overrides", overrides,
            "--invoke-image", IMAGE,
            "--skip-pull-image",
            "--region", "us-east-1",
            "--host", "127.0.0.1",
            "--port", str(self.port),
            "--warm-containers", "LAZY",
        ]  # fmt: skip
        self.log = log.open("w", encoding="utf-8")
        self.process = subprocess.Popen(command, stdout=self.log, stderr=subprocess.STDOUT, cwd=ROOT)  # noqa: S603
        deadline = time.monotonic() + 900
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"sam local start-lambda ended ({self.process.returncode}): see {log}")
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    break
            time.sleep(2)
        else:
            raise AssertionError(f"sam local start-lambda did not listen in 15 min: see {log}")
        import boto3  # noqa: PLC0415
        from botocore.config import Config  # noqa: PLC0415

        self.client = boto3.client(
            "lambda",
            endpoint_url=f"http://127.0.0.1:{self.port}",
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",  # noqa: S106 - SAM's local endpoint checks no credentials
            config=Config(read_timeout=600, connect_timeout=30, retries={"max_attempts": 1}),
        )

    def invoke(self, logical_id: str, event: dict[str, Any]) -> Any:
        answer = self.client.invoke(FunctionName=logical_id, Payload=json.dumps(event, ensure_ascii=False).encode())
        payload = answer["Payload"].read().decode()
        return json.loads(payload) if payload.strip() else None

    def stop(self) -> None:
        self.process.terminate()  # SAM stops its warm containers on the way out
        try:
            self.process.wait(timeout=120)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


def main() -> int:  # noqa: PLR0915 - one linear check, read top to bottom
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write-env", action="store_true", help="regenerate env.local.json and exit")
    parser.add_argument("--only", nargs="*", help="logical ids to check (default: every function)")
    parser.add_argument("--events", nargs="*", help="event file names to check (default: every event)")
    parser.add_argument(
        "--mode",
        choices=["start-lambda", "invoke"],
        default="start-lambda",
        help="one sam local start-lambda with warm containers (default), or a sam local invoke an event",
    )
    args = parser.parse_args()
    if args.write_env:
        ENV_FILE.write_text(env_file_text(), encoding="utf-8")
        print(f"wrote {ENV_FILE}")
        return 0

    sys.path.insert(0, str(ROOT / "layers" / "shared"))  # the expectations of the tests import the layer
    import requests  # noqa: PLC0415 - the check's own imports, after --write-env

    from avito_sim import AvitoSimulator  # noqa: PLC0415
    from local_runtime import LocalStack  # noqa: PLC0415
    from local_runtime.cli import make_token  # noqa: PLC0415
    from tests.integration import test_events as samples  # noqa: PLC0415 - the same expectations as the tests

    host = os.environ.get("MOTO_HOST") or bridge_address()
    moto_port = int(os.environ.get("MOTO_PORT", "4566"))
    sim = AvitoSimulator(host=host)
    sim.start()
    samples.seed_simulator(sim)  # the Avito account of the samples, as the tests seed it
    wanted = {name.removesuffix(".json") for name in args.events or ()}
    stack = LocalStack(ROOT / "template.yaml", moto_host=host, moto_port=moto_port,
                       parameter_overrides={"AvitoApiUrl": sim.base_url})  # fmt: skip
    passed: list[str] = []
    failed: list[str] = []
    lambdas: StartLambda | None = None
    try:
        stack.start()
        _expect(bool(stack.jwt_secret), "the local stack has no JWT secret")
        token = make_token(stack.jwt_secret, "admin", "sam-local-check@example.com", 3600)  # signed again per event
        env_vars = ROOT / ".local" / f"env.sam-local.{moto_port}.json"  # moto on the bridge, this run's port
        env_vars.write_text(env_file_text(stack.moto_url, stack.physical_ids), encoding="utf-8")
        os.environ.update(  # in-process: the webhook token is issued with the layer's own code against moto
            {
                "AWS_ENDPOINT_URL": stack.moto_url,
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_DEFAULT_REGION": "us-east-1",
                **local_env(stack.moto_url, stack.physical_ids)["Parameters"],
            }
        )
        from avito_service.users import service as users_service  # noqa: PLC0415
        from avito_service.users.models import UserCreate  # noqa: PLC0415
        from avito_service.webhooks import tokens  # noqa: PLC0415

        # the auth_* samples sign in as the pool's first admin (an empty pool: the local stack creates none)
        users_service.ensure_first_admin(samples.SAMPLE_ADMIN, samples.SAMPLE_ADMIN_PASSWORD)
        started, invited_count = time.monotonic(), 0

        session = requests.Session()
        session.trust_env = False
        session.headers["Authorization"] = f"Bearer {token}"
        api = stack.api_url + "/api/v1"
        parameters = {"Architecture": "x86_64", "AvitoApiUrl": sim.base_url}
        if args.mode == "start-lambda":
            lambdas = StartLambda(env_vars, parameters, ROOT / ".local" / f"sam-start-lambda.{moto_port}.log")
            print(f"sam local start-lambda listening after {(time.monotonic() - started) / 60:.1f} min", flush=True)
        for logical_id in args.only or samples.FUNCTIONS:
            module = samples.handler_module(logical_id)
            for path in samples.event_files(module):
                name = f"{logical_id} {path.name}"
                if wanted and path.stem not in wanted:
                    continue
                # tokens live an hour: the last events of a complete run come more than an hour after the first
                token = make_token(stack.jwt_secret, "admin", "sam-local-check@example.com", 3600)
                session.headers["Authorization"] = f"Bearer {token}"
                ws_token = make_token(stack.jwt_secret, "operator", "operator@example.com", 3600)
                sample_connection: SampleConnection | None = None
                try:
                    samples.reset_own_message(sim)  # messenger_delete_message deletes it
                    body = {"name": "Events shop", "clientId": samples.SIM_CLIENT_ID,
                            "clientSecret": samples.SIM_CLIENT_SECRET}  # fmt: skip
                    created = session.post(f"{api}/accounts", json=body, timeout=60)
                    _expect(created.status_code == 201, f"creating the account: {created.text}")
                    account = created.json()["data"]["id"]
                    chats = f"{api}/messenger/accounts/{account}/chats"
                    session.get(chats, params={"limit": 50}, timeout=60).raise_for_status()
                    for chat_id in (samples.DEMO_CHAT, samples.STORED_CHAT):
                        session.get(f"{chats}/{chat_id}/messages", timeout=60).raise_for_status()
                    for url in sim.subscriptions(samples.SIM_USER_ID):
                        sim.account(samples.SIM_USER_ID).subscriptions.remove(url)
                    templates = samples.template_store()  # one table for the whole run, not per account
                    for made in templates.list_scope(samples.SAMPLE_OPERATOR):  # templates_create's, say
                        if made["id"] != samples.SAMPLE_TEMPLATE:
                            templates.delete(samples.SAMPLE_OPERATOR, str(made["id"]))
                    if templates.get(samples.SAMPLE_OPERATOR, samples.SAMPLE_TEMPLATE) is None:
                        samples.seed_answering(account)  # templates_delete deletes the sample's quick reply
                    else:
                        samples.backfill.index_account(account, None, float("inf"), lambda key: None)
                    invited_count += 1  # users_delete deletes the invited user: one per event
                    invited = users_service.create_user(
                        UserCreate(email=f"ira-{invited_count}@example.com", name="Ира", role="operator")
                    )
                    world = samples.World(account, tokens.issue_token(account), invited.id, ws_token)
                    if samples.SAMPLE_CONNECTION in path.read_text(encoding="utf-8"):  # ws_disconnect closes it
                        sample_connection = SampleConnection(stack.ws_url, ws_token)
                        world.connection_id = sample_connection.connection_id
                    text = json.dumps(world.load(path), ensure_ascii=False)
                    event = json.loads(text.replace(samples.SAMPLE_BEARER, f"Bearer {token}"))
                    if module == "authorizer":
                        event["authorizationToken"] = f"Bearer {token}"
                    if lambdas is not None:
                        answer = lambdas.invoke(logical_id, event)
                    else:
                        answer = sam_invoke(logical_id, event, env_vars, parameters)
                    _check(samples, module, path.stem, answer, world)
                except BaseException as error:  # report every event, then fail once (pytest.fail is a BaseException)
                    if isinstance(error, (KeyboardInterrupt, SystemExit)):
                        raise
                    failed.append(f"{name}: {str(error)[:800]}")
                    print(f"FAIL {name}: {str(error)[:800]}", flush=True)
                else:
                    passed.append(name)
                    print(f"ok   {name}", flush=True)
                finally:  # the simulator has one Avito account, and a client id belongs to one account at a time
                    if sample_connection is not None and (frames := sample_connection.close()):
                        print(f"     ({name}: the sample connection got {frames} fan-out frame(s) meanwhile)")
                    for stale in session.get(f"{api}/accounts", params={"limit": 100}, timeout=60).json()["data"]:
                        session.delete(f"{api}/accounts/{stale['id']}", timeout=60)
    finally:
        if lambdas is not None:
            lambdas.stop()
        stack.stop()
        sim.stop()
    functions = {name.split()[0] for name in passed} - {name.split()[0] for name in failed}
    minutes = (time.monotonic() - started) / 60 if "started" in locals() else 0.0
    print(f"{len(passed)} passed, {len(failed)} failed ({len(functions)} functions with every event passing)"
          f" in {minutes:.1f} min")  # fmt: skip
    for name in failed:
        print(f"failed: {name.split(':', 1)[0]}")
    return 1 if failed or not passed else 0


def _check(samples: Any, module: str, stem: str, answer: Any, world: Any) -> None:
    if module == "authorizer":
        _expect(answer["policyDocument"]["Statement"][0]["Effect"] == "Allow", answer)
        _expect(answer["context"]["role"] == "admin", answer)
        return
    if not (isinstance(answer, dict) and "statusCode" in answer):
        _expect(not (isinstance(answer, dict) and "errorType" in answer), answer)  # a queue/schedule function
        return
    status, body = samples.parse(answer)
    samples.EXPECTED.get(module, samples._generic)(stem, status, body, world)
    text = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
    _expect(samples.SIM_CLIENT_SECRET not in text, f"{stem}: the client secret is in the answer")


def _expect(ok: bool, detail: Any) -> None:
    if not ok:
        raise AssertionError(str(detail)[:800])


if __name__ == "__main__":
    sys.exit(main())
