"""Checkov on template.yaml as CloudFormation sees it (Fn::ForEach expanded), with the reviewed skips.

``make checkov`` (part of ``make test``) expands the template (local_runtime.template), runs Checkov (its own
tools venv) on it offline, and fails on any failed check that checkov-skips.yaml does not list for that resource,
and on any listed skip that no longer matches a failure (so the list stays the reviewed truth). Each skip in
checkov-skips.yaml says why the check does not apply.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

from local_runtime.template import load_template

ROOT = Path(__file__).resolve().parent.parent
SKIPS = ROOT / "checkov-skips.yaml"


def expanded_template(path: Path) -> dict[str, Any]:
    return load_template(path).document


def load_skips(path: Path = SKIPS) -> dict[str, dict[str, Any]]:
    skips = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    for check, entry in skips.items():
        if not str(entry.get("why", "")).strip():
            raise SystemExit(f"{path.name}: {check} says no why")
        resources = entry.get("resources")
        if resources != "*" and not (isinstance(resources, list) and resources):
            raise SystemExit(f"{path.name}: {check}: resources must be '*' or a list of logical ids")
    return skips


def failures(checkov: str, document: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(check id, logical id, check name) of every failed check."""
    with tempfile.TemporaryDirectory() as directory:
        template = Path(directory) / "template.json"
        template.write_text(json.dumps(document), encoding="utf-8")
        # offline: no Bridgecrew platform, no version check, no downloads of external checks
        env = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false"}
        answer = subprocess.run(  # noqa: S603 - our own tools venv's checkov
            [
                checkov,
                "-f",
                str(template),
                "--framework",
                "cloudformation",
                "-o",
                "json",
                "--quiet",
                "--compact",
                "--skip-download",
                "--no-fail-on-crash",
            ],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
    if not answer.stdout.strip():
        raise SystemExit(f"checkov printed nothing (exit {answer.returncode}): {answer.stderr[-2000:]}")
    report = json.loads(answer.stdout)
    reports = report if isinstance(report, list) else [report]
    found = []
    for one in reports:
        for failed in (one.get("results") or {}).get("failed_checks", []):
            logical_id = failed["resource"].rsplit(".", 1)[-1]
            found.append((failed["check_id"], logical_id, failed["check_name"]))
    if not reports or "summary" not in reports[0]:
        raise SystemExit(f"unexpected checkov output: {answer.stdout[:500]}")
    return found


def review(found: list[tuple[str, str, str]], skips: dict[str, dict[str, Any]]) -> tuple[list[str], list[str]]:
    """(failures no skip covers, skips that cover no failure)."""
    unexpected = []
    used: set[str] = set()
    for check, logical_id, name in found:
        entry = skips.get(check)
        if entry and (entry["resources"] == "*" or logical_id in entry["resources"]):
            used.add(check)
        else:
            unexpected.append(f"  {check} {logical_id}: {name}")
    return unexpected, sorted(set(skips) - used)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--checkov", default=".checkov-venv/bin/checkov")
    parser.add_argument("--template", default=str(ROOT / "template.yaml"))
    args = parser.parse_args()
    skips = load_skips()
    found = failures(args.checkov, expanded_template(Path(args.template)))
    unexpected, stale = review(found, skips)
    for check in stale:
        print(f"checkov-skips.yaml: {check} matches no failure any more: remove it", file=sys.stderr)
    if unexpected:
        print("Checkov failures not in checkov-skips.yaml (fix them, or add a skip that says why):", file=sys.stderr)
        print("\n".join(sorted(unexpected)), file=sys.stderr)
    if stale or unexpected:
        return 1
    print(f"checkov: {len(found)} failed checks, all reviewed skips ({len(skips)} checks in checkov-skips.yaml)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
