"""What template.yaml gives each function once expanded: its log group, its alarms and its IAM grants
(one ``action resource`` line per pair its statements allow),
intrinsics resolved (``local_runtime``'s resolver, a fixed placeholder for the JWT secret's ARN).

``python -m tests.support.template_facts --write`` saves them as tests/snapshots/template_facts.json; the
snapshot test (tests/integration/test_template_snapshot.py) compares the template with it, so a rewrite of
the template (the Fn::ForEach loops, the shared Avito policy) cannot lose a log group, an alarm or a grant.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from local_runtime.iam import function_statements
from local_runtime.intrinsics import Resolver, StackContext
from local_runtime.template import FUNCTION_TYPE, SECRET_TYPE, load_template

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
SNAPSHOT = ROOT / "tests" / "snapshots" / "template_facts.json"


def template_facts(path: Path = TEMPLATE) -> dict[str, Any]:
    template = load_template(path)
    resolver = Resolver(template, StackContext(region="eu-central-1", account_id="123456789012", stack_name="stack"))
    for secret in template.ids_of_type(SECRET_TYPE):
        resolver.register_physical_id(secret, resolver.context.arn("secretsmanager", f"secret:{secret}-AbCdEf"))
    alarms = {
        lid: resolver.resolve(template.properties(lid), lid) for lid in template.ids_of_type("AWS::CloudWatch::Alarm")
    }
    log_groups = {
        lid: resolver.resolve(template.properties(lid), lid) for lid in template.ids_of_type("AWS::Logs::LogGroup")
    }
    functions: dict[str, Any] = {}
    for fid in template.ids_of_type(FUNCTION_TYPE):
        name = resolver.function_name(fid)
        functions[fid] = {
            "logGroups": {lid: p for lid, p in log_groups.items() if p.get("LogGroupName") == f"/aws/lambda/{name}"},
            "alarms": {
                lid: p
                for lid, p in alarms.items()
                if {"Name": "FunctionName", "Value": name} in p.get("Dimensions", [])
            },
            "grants": sorted(
                {
                    f"{a} {r}"
                    for s in function_statements(resolver, fid)
                    if s.effect == "Allow"
                    for a in s.actions
                    for r in s.resources
                }
            ),
        }
    claimed = {lid for f in functions.values() for key in ("logGroups", "alarms") for lid in f[key]}
    return {
        "functions": functions,
        "otherAlarms": {lid: p for lid, p in alarms.items() if lid not in claimed},
        "otherLogGroups": {lid: p for lid, p in log_groups.items() if lid not in claimed},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", action="store_true", help=f"write {SNAPSHOT.relative_to(ROOT)}")
    args = parser.parse_args()
    text = json.dumps(template_facts(), indent=1, sort_keys=True) + "\n"
    if args.write:
        SNAPSHOT.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
