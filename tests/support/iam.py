"""IAM in the test suite, as AWS enforces it: every AWS call a function's handler makes is checked against that
function's statements in template.yaml (action and resource ARN, indexes included).

moto does not enforce IAM, so without this a missing grant only shows in AWS (a 500 for every request of that
route). ``install`` (tests/conftest.py, at import) does three things:

- every handler module named in template.yaml (``Handler: messenger_send.lambda_handler``) gets its handler
  wrapped, when imported, so the function's logical id is the current function (a context variable) while the
  handler runs; thread pools started inside a handler carry it into their threads;
- ``botocore.client.BaseClient._make_api_call`` is wrapped: a call made while a function is current is turned
  into IAM action(s) and resource ARN(s) and checked against the function's statements
  (``local_runtime.iam``: inline statements, managed policies, SAM policy templates). One wrapper sees every
  client of every session with its endpoint and the caller's parameters (an event hook sees the parameters
  but not the client's endpoint, which the WebSocket management API's resource needs);
- a refused call is answered like AWS does (``AccessDeniedException``) and recorded; the ``iam_check``
  fixture fails the test with ``<Function> may not <action> on <resource>``.

Calls made outside a handler (a test's own setup, the fixtures) are not checked. A new function needs nothing
here; a call to a service or operation this module cannot turn into a resource fails the test so that it gets
taught here, never silently passes.
"""

from __future__ import annotations

import contextvars
import functools
import importlib.abc
import importlib.machinery
import os
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from botocore.client import BaseClient
from botocore.exceptions import ClientError

from local_runtime.iam import Statement, UnknownRequest, allowed, aws_requests, function_statements, management_api
from local_runtime.intrinsics import Resolver, StackContext
from local_runtime.template import FUNCTION_TYPE, SECRET_TYPE, Template, load_template

_current: contextvars.ContextVar[str | None] = contextvars.ContextVar("iam_function", default=None)


def current_function() -> str | None:
    return _current.get()


def _region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


class Evaluator:
    """The template's statements per function, and the violations seen since the last ``take_violations``."""

    def __init__(self, template: Template) -> None:
        self.template = template
        self.handlers: dict[str, tuple[str, str]] = {}  # module -> (function id, handler attribute)
        for fid in template.ids_of_type(FUNCTION_TYPE):
            module, _, attribute = str(template.function_properties(fid)["Handler"]).rpartition(".")
            if module in self.handlers:
                raise RuntimeError(f"{module} is the handler of {self.handlers[module][0]} and {fid}: ambiguous")
            self.handlers[module] = (fid, attribute)
        self._statements: dict[tuple[str, tuple[str, ...]], list[Statement]] = {}
        self._verdicts: dict[tuple[Any, ...], bool] = {}  # (function, environment, action, resource) -> allowed
        self._lock = threading.Lock()
        self.violations: list[str] = []

    # --------------------------------------------------------------- statements
    def _environment(self) -> tuple[str, ...]:
        """What the statements' ARNs depend on, as the functions see it (the test's environment)."""
        return (
            _region(),
            os.environ.get("ACCOUNT_SECRETS_PREFIX", ""),
            os.environ.get("JWT_SECRET_ARN", ""),
            os.environ.get("WEBSOCKET_MANAGEMENT_URL", ""),
            os.environ.get("USER_POOL_ID", ""),
            os.environ.get("TOKENS_KEY_ID", ""),
        )

    def statements(self, function_id: str) -> list[Statement]:
        key = (function_id, self._environment())
        found = self._statements.get(key)
        if found is None:
            region, prefix, jwt_arn, management_url, pool_id, tokens_key = key[1]
            # The stack whose ACCOUNT_SECRETS_PREFIX (${AWS::StackName}/accounts/) the functions were given.
            stack = prefix.removesuffix("/").removesuffix("/accounts") or "avito-service-local"
            resolver = Resolver(self.template, StackContext(region=region, stack_name=stack))
            for secret in self.template.ids_of_type(SECRET_TYPE):
                resolver.register_physical_id(secret, resolver.context.arn("secretsmanager", f"secret:{secret}"))
            if jwt_arn and "JwtSecret" in self.template.resources:
                resolver.register_physical_id("JwtSecret", jwt_arn)
            if "WebSocketApi" in self.template.resources:
                resolver.register_physical_id("WebSocketApi", management_api(management_url)[0])
            if pool_id and "UserPool" in self.template.resources:  # the test's pool (moto's id)
                resolver.register_physical_id("UserPool", pool_id)
            if tokens_key and "TokensKey" in self.template.resources:  # the test's key (moto's id)
                resolver.register_physical_id("TokensKey", tokens_key)
            found = function_statements(resolver, function_id)
            with self._lock:
                self._statements[key] = found
        return found

    # ------------------------------------------------------------------- checks
    def check(self, function_id: str, client: BaseClient, operation: str, params: dict[str, Any]) -> None:
        environment = self._environment()
        try:
            requests = aws_requests(client, operation, params, environment[0])
        except UnknownRequest as unknown:
            self._refuse(function_id, operation, f"{client.meta.service_model.service_name}.{operation}", str(unknown))
            return
        for action, resource in requests:
            key = (function_id, environment, action, resource)
            verdict = self._verdicts.get(key)
            if verdict is None:
                if len(self._verdicts) > 100_000:  # ids in ARNs (connections, secrets) make keys unbounded
                    self._verdicts.clear()
                verdict = self._verdicts[key] = allowed(self.statements(function_id), action, resource)
            if not verdict:
                self._refuse(function_id, operation, action, resource)

    def _refuse(self, function_id: str, operation: str, action: str, resource: str) -> None:
        message = f"{function_id} may not {action} on {resource} (template.yaml grants it no such statement)"
        with self._lock:
            self.violations.append(message)
        raise ClientError(
            {"Error": {"Code": "AccessDeniedException", "Message": f"IAM (tests/support/iam.py): {message}"}},
            operation,
        )

    def take_violations(self) -> list[str]:
        with self._lock:
            found, self.violations = self.violations, []
        return found


# ------------------------------------------------------------------ installation
_evaluator: Evaluator | None = None


def evaluator() -> Evaluator:
    if _evaluator is None:
        raise RuntimeError("tests.support.iam.install() has not run")
    return _evaluator


def _attributed(handler: Callable[..., Any], function_id: str) -> Callable[..., Any]:
    if getattr(handler, "iam_function_id", None) == function_id:
        return handler

    @functools.wraps(handler)
    def run(event: Any, context: Any) -> Any:
        token = _current.set(function_id)
        try:
            return handler(event, context)
        finally:
            _current.reset(token)

    run.iam_function_id = function_id  # type: ignore[attr-defined]
    return run


def _attribute_module(module: Any, evaluator_: Evaluator) -> None:
    function_id, attribute = evaluator_.handlers[module.__name__]
    handler = getattr(module, attribute, None)
    if handler is not None:
        setattr(module, attribute, _attributed(handler, function_id))


class _HandlerLoader(importlib.abc.Loader):
    def __init__(self, inner: importlib.abc.Loader, evaluator_: Evaluator) -> None:
        self._inner = inner
        self._evaluator = evaluator_

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> Any:
        return self._inner.create_module(spec)

    def exec_module(self, module: Any) -> None:
        self._inner.exec_module(module)
        _attribute_module(module, self._evaluator)


class _HandlerFinder(importlib.abc.MetaPathFinder):
    """Finds handler modules as the path finder does, then wraps their handler once they are executed."""

    def __init__(self, evaluator_: Evaluator) -> None:
        self._evaluator = evaluator_

    def find_spec(self, name: str, path: Any, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        if name not in self._evaluator.handlers:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is not None and spec.loader is not None:
            spec.loader = _HandlerLoader(spec.loader, self._evaluator)
        return spec


def install(template_path: Path) -> Evaluator:
    """Check every AWS call of every handler from now on (idempotent)."""
    global _evaluator  # noqa: PLW0603 - one evaluator per test process
    if _evaluator is not None:
        return _evaluator
    _evaluator = Evaluator(load_template(template_path))
    sys.meta_path.insert(0, _HandlerFinder(_evaluator))
    for name in _evaluator.handlers:
        if name in sys.modules:
            _attribute_module(sys.modules[name], _evaluator)

    original_call = BaseClient._make_api_call

    def checked_call(self: BaseClient, operation_name: str, api_params: dict[str, Any]) -> Any:
        function_id = _current.get()
        if function_id is not None and _evaluator is not None:
            _evaluator.check(function_id, self, operation_name, api_params)
        return original_call(self, operation_name, api_params)

    BaseClient._make_api_call = checked_call  # type: ignore[method-assign]

    original_submit = ThreadPoolExecutor.submit

    def submit_in_context(self: ThreadPoolExecutor, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        if _current.get() is None:
            return original_submit(self, fn, *args, **kwargs)
        return original_submit(self, contextvars.copy_context().run, fn, *args, **kwargs)

    ThreadPoolExecutor.submit = submit_in_context  # type: ignore[method-assign]
    return _evaluator
