"""env.local.json, SAM's ``--env-vars`` for ``sam local invoke`` against the local stack, matches the template."""

from __future__ import annotations

import json

from local_runtime.template import load_template
from scripts import sam_local_check

TEMPLATE = load_template(sam_local_check.ROOT / "template.yaml")


def test_env_local_json_is_up_to_date() -> None:
    committed = sam_local_check.ENV_FILE.read_text(encoding="utf-8")
    assert committed == sam_local_check.env_file_text(), "env.local.json is stale: run `make sam-env`"


def test_every_override_is_declared_in_the_template() -> None:
    """SAM only overrides variables the template declares: each one must be declared by some function."""
    declared = {
        name
        for logical_id in TEMPLATE.ids_of_type("AWS::Serverless::Function")
        for name in (TEMPLATE.function_properties(logical_id).get("Environment") or {}).get("Variables") or {}
    }
    variables = json.loads(sam_local_check.ENV_FILE.read_text(encoding="utf-8"))["Parameters"]
    assert set(variables) <= declared, set(variables) - declared
    globals_env = TEMPLATE.document["Globals"]["Function"]["Environment"]["Variables"]
    assert globals_env["AWS_ENDPOINT_URL"] == ""  # empty: AWS itself; only local runs point it elsewhere


def test_resources_get_the_local_runtimes_names() -> None:
    variables = sam_local_check.local_env("http://10.0.0.1:4566")["Parameters"]
    assert variables["AWS_ENDPOINT_URL"] == "http://10.0.0.1:4566"
    assert variables["ACCOUNTS_TABLE"] == "AccountsTable" and variables["MESSENGER_TABLE"] == "MessengerTable"
    assert variables["JOBS_QUEUE_URL"] == "http://10.0.0.1:4566/123456789012/JobsQueue"
    assert variables["JWT_SECRET_ARN"] == "avito-service-local/jwt-signing-key"
    assert "POWERTOOLS_SERVICE_NAME" not in variables and "AVITO_API_URL" not in variables  # SAM resolves those
