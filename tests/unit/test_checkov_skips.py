"""checkov-skips.yaml is a reviewed list: every skip says why, a failure it does not cover fails the check, and a
skip that covers nothing any more fails it too (scripts/checkov_check.py; `make checkov` runs Checkov itself)."""

from __future__ import annotations

from scripts.checkov_check import load_skips, review

SKIPS = {
    "CKV_AWS_28": {"why": "rebuildable", "resources": ["TokensTable"]},
    "CKV_AWS_117": {"why": "no private resource", "resources": "*"},
}


def test_every_skip_in_the_file_says_why_and_names_its_resources() -> None:
    skips = load_skips()
    assert "CKV_AWS_28" in skips and "AccountsTable" not in skips["CKV_AWS_28"]["resources"]
    assert all(len(entry["why"]) > 40 for entry in skips.values())


def test_a_skip_covers_only_its_resources() -> None:
    found = [
        ("CKV_AWS_28", "TokensTable", "PITR"),
        ("CKV_AWS_28", "AccountsTable", "PITR"),
        ("CKV_AWS_117", "F", "VPC"),
    ]
    unexpected, stale = review(found, SKIPS)
    assert unexpected == ["  CKV_AWS_28 AccountsTable: PITR"]
    assert stale == []


def test_a_skip_that_matches_nothing_is_stale() -> None:
    assert review([("CKV_AWS_117", "F", "VPC")], SKIPS) == ([], ["CKV_AWS_28"])
