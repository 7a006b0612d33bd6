"""The project's template served by the local runtime on free loopback ports, against an Avito simulator."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from local_runtime import LocalStack

ROOT = Path(__file__).resolve().parents[2]


def loopback_stack(
    avito_url: str,
    log_file: Path,
    *,
    env: dict[str, str] | None = None,
    parameters: dict[str, str] | None = None,
    **options: Any,
) -> LocalStack:
    """A LocalStack (not started) for template.yaml: free ports, Avito at ``avito_url``, a generated JWT key.

    ``env`` adds environment overrides, ``parameters`` template parameters; ``options`` go to LocalStack
    (e.g. ``schedule_seconds``)."""
    return LocalStack(
        ROOT / "template.yaml",
        api_port=0,
        webhook_port=0,
        moto_port=0,
        env_overrides={"AWS_REGION": "us-east-1", "JWT_SECRET": "", **(env or {})},
        parameter_overrides={"AvitoApiUrl": avito_url, **(parameters or {})},
        log_file=log_file,
        **options,
    )
