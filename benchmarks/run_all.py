"""Run every benchmark once, one after the other: ``python -m benchmarks.run_all``."""

from __future__ import annotations

import importlib
import sys
import time

NAMES = (
    "cold_start",
    "webhook_throughput",
    "warm_latency",
    "token_economy",
    "eternal_online",
    "live_updates",
    "authorizer",
)


def main() -> int:
    failed = []
    for name in NAMES:
        print(f"\n## {name}\n", flush=True)
        t0 = time.perf_counter()
        try:
            importlib.import_module(f"benchmarks.{name}").main([])
        except Exception as exc:
            failed.append(name)
            print(f"{name} failed: {type(exc).__name__}: {exc}")
        print(f"\n({name}: {time.perf_counter() - t0:.1f} s)", flush=True)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
