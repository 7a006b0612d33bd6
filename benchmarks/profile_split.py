"""The split of a cProfile dump (``PROFILE=path.prof`` of ``benchmarks.reports``) by where the time is spent: each
function's own time (tottime) summed per group of modules, and the cumulative time of a few calls of interest.

Run: ``.venv/bin/python -m benchmarks.profile_split run.prof [more.prof ...]``
"""

from __future__ import annotations

import pstats
import sys

# (group, substrings of "file:function" that put a function in it), first match wins
GROUPS = (
    ("botocore: parsing answers", ("botocore/parsers.py",)),
    ("boto3: TypeDeserializer, transform", ("boto3/dynamodb/types.py", "boto3/dynamodb/transform.py")),
    ("figure items: conversion", ("reports/store.py:figure_item", "reports/store.py:_items_as_sent")),
    ("json", ("json/decoder.py", "json/encoder.py", "json/__init__.py", "_json")),
    (
        "sockets, http.client, urllib3",
        ("urllib3/", "http/client.py", "socket", "ssl", "selectors.py", "'recv", "'send"),
    ),
    ("botocore: requests (serialise, sign, events)", ("botocore/",)),
    ("boto3: resources, conditions", ("boto3/",)),
    ("the summary's adding-up", ("reports/service.py", "reports/histogram.py")),
    ("pydantic", ("pydantic",)),
    ("threads, futures, locks", ("threading.py", "concurrent/futures", "'acquire", "'wait")),
)
CALLS = (
    ("the figure reads (_figure_items)", "service.py", "_figure_items"),
    ("now_of", "now.py", "now_of"),
    ("the accounts (_accounts)", "service.py", "_accounts"),
    ("load_rules", "rules.py", "load_rules"),
    ("botocore parse (cumulative)", "botocore/parsers.py", "parse"),
)


def group_of(key: str) -> str:
    for name, needles in GROUPS:
        if any(n in key for n in needles):
            return name
    return "other"


def split(path: str) -> tuple[float, dict[str, float], dict[str, float]]:
    stats = pstats.Stats(path)
    total = stats.total_tt
    groups: dict[str, float] = {name: 0.0 for name, _ in GROUPS}
    groups["other"] = 0.0
    calls: dict[str, float] = {}
    for (filename, _, function), (_, _, tottime, cumtime, callers) in stats.stats.items():
        # a built-in (dict.get, str.partition, ...): its time goes to its callers' groups, by the time per caller
        shares = {caller: edge[2] for caller, edge in callers.items()} if filename == "~" and callers else {}
        spent = sum(shares.values())
        for (caller_file, _, caller_function), seconds in shares.items() if spent else ():
            groups[group_of(f"{caller_file}:{caller_function}")] += tottime * seconds / spent
        if not spent:
            groups[group_of(f"{filename}:{function}")] += tottime
        for label, file_part, name in CALLS:
            if filename.endswith(file_part) and function == name:
                calls[label] = max(calls.get(label, 0.0), cumtime)
    return total, groups, calls


def main() -> None:
    for path in sys.argv[1:]:
        total, groups, calls = split(path)
        print(f"{path}: {total * 1000:.0f} ms profiled")
        for name, seconds in sorted(groups.items(), key=lambda kv: -kv[1]):
            print(f"  {name:48} {seconds * 1000:7.0f} ms {seconds / total:6.1%}")
        for label, seconds in calls.items():
            print(f"  [cumulative] {label:35} {seconds * 1000:7.0f} ms {seconds / total:6.1%}")


if __name__ == "__main__":
    main()
