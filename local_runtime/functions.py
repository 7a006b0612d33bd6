"""Resolved configuration of each AWS::Serverless::Function (Globals merged, intrinsics evaluated)."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local_runtime.iam import function_statements, worker_environment
from local_runtime.intrinsics import Resolver
from local_runtime.template import FUNCTION_TYPE, LAYER_TYPE, TemplateError

DEFAULT_TIMEOUT_SECONDS = 3
DEFAULT_MEMORY_MB = 128


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    name: str
    arn: str
    handler: str
    runtime: str
    code_dir: Path
    layer_dirs: tuple[Path, ...]
    timeout_seconds: float
    memory_mb: int
    environment: dict[str, str]
    events: dict[str, dict[str, Any]] = field(default_factory=dict)  # raw (unresolved) event definitions
    function_url: bool = False
    iam_env: dict[str, str] = field(default_factory=dict)  # its IAM statements for the worker to enforce

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.name}"


def load_function_specs(resolver: Resolver) -> dict[str, FunctionSpec]:
    """FunctionSpec of every active function of the resolver's template, by logical id."""
    template = resolver.template
    return {
        logical_id: _function_spec(resolver, logical_id)
        for logical_id in template.ids_of_type(FUNCTION_TYPE)
        if resolver.is_active(logical_id)
    }


def _function_spec(resolver: Resolver, logical_id: str) -> FunctionSpec:
    template = resolver.template
    raw = template.function_properties(logical_id)
    events = raw.pop("Events", None) or {}
    props = resolver.resolve(raw, logical_id)
    if props.get("PackageType", "Zip") != "Zip":
        raise TemplateError(f"{logical_id}: only PackageType Zip functions can run locally")
    handler = props.get("Handler")
    if not handler:
        raise TemplateError(f"{logical_id}: Handler is required")
    runtime = str(props.get("Runtime", "python3"))
    if not runtime.startswith("python"):
        raise TemplateError(f"{logical_id}: runtime {runtime!r} is not supported (python only)")
    variables = (props.get("Environment") or {}).get("Variables") or {}
    return FunctionSpec(
        logical_id=logical_id,
        name=resolver.function_name(logical_id),
        arn=resolver.function_arn(logical_id),
        handler=str(handler),
        runtime=runtime,
        code_dir=_local_dir(template.base_dir, props.get("CodeUri", "."), f"{logical_id}.CodeUri"),
        layer_dirs=tuple(_layer_dirs(resolver, logical_id, raw.get("Layers") or [])),
        timeout_seconds=float(props.get("Timeout", DEFAULT_TIMEOUT_SECONDS)),
        memory_mb=int(props.get("MemorySize", DEFAULT_MEMORY_MB)),
        environment={key: resolver.localize(_env_value(value)) for key, value in variables.items()},
        events=events,
        function_url=bool(props.get("FunctionUrlConfig")),
        iam_env=_iam_env(resolver, logical_id),
    )


def _iam_env(resolver: Resolver, logical_id: str) -> dict[str, str]:
    """The worker refuses the AWS calls the function's policies do not grant, as AWS does (local_runtime.iam)."""
    try:
        statements = function_statements(resolver, logical_id)
    except TemplateError as error:
        print(f"[local_runtime] {logical_id}: IAM not enforced locally: {error}", file=sys.stderr)
        return {}
    return worker_environment(logical_id, statements, resolver.context.region)


def _layer_dirs(resolver: Resolver, logical_id: str, layers: list[Any]) -> list[Path]:
    template = resolver.template
    dirs: list[Path] = []
    for layer in layers:
        ref = layer.get("Ref") if isinstance(layer, dict) else None
        if ref in template.resources and template.resource_type(ref) == LAYER_TYPE:
            content = _local_dir(template.base_dir, template.properties(ref).get("ContentUri"), f"{ref}.ContentUri")
            python_dir = content / "python"  # the layout Lambda mounts at /opt/python
            dirs.append(python_dir if python_dir.is_dir() else content)
        else:
            value = resolver.resolve(layer, logical_id)
            print(f"[local_runtime] {logical_id}: layer {value} is not local; relying on the venv", file=sys.stderr)
    return dirs


def _local_dir(base_dir: Path, uri: Any, where: str) -> Path:
    if not isinstance(uri, str):
        raise TemplateError(f"{where}: must be a local directory, got {uri!r}")
    path = (base_dir / uri).resolve()
    if not path.is_dir():
        raise TemplateError(f"{where}: directory {path} does not exist")
    return path


def _env_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        raise TemplateError(f"environment values must be scalars, got {value!r}")
    return str(value)
