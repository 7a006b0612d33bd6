"""Eternal online at fleet scale: the tick, the worker and the keep-alive lag for 10,000 accounts.

Fleet: ``--accounts`` enabled accounts, intervals 60/120/300/900/3600 s in equal shares, each with a random phase
(first ``nextDueAt`` uniform in ``[T0, T0 + interval)``), plus ``--disabled`` disabled accounts. The items have the
shape and size of real account items (``accounts/service.py``, ``online/service.py``, stats/webhook/proxy fields).

Measured
--------
1. Tick in moto: ``--moto-accounts`` enabled accounts (default 2,000, plus disabled ones in the same proportion)
   in the template's AccountsTable in moto (in-process ``mock_aws``) and the real ``schedule.tick(now=T0)`` once,
   then the same fleet and tick against the double below (cross-check). Wall time here is mostly moto's (its GSI
   query scans the whole table; an UpdateItem costs 5-15 ms of emulator time): 10,000 + 10,000 takes ~4 min.
2. Simulated hour: the real ``schedule.tick(now=T0 + k*300)``, k = 0..11, with AccountsTable served by an
   in-memory double behind botocore (a ``before-call`` hook: boto3/botocore still build, validate, serialise and
   sign every request and parse every answer). The double implements only what the tick calls -- Query on the
   sparse GSI ``byOnlineDue`` (template projection, 1 MB pages) and the claim's conditional UpdateItem -- and
   counts request units with DynamoDB's rules, index writes included. moto alone would need ~80,000 UpdateItems
   at 5-15 ms of emulator time each for one hour. SendMessageBatch is answered by a botocore stub that records
   the entries (moto's SQS rescans the whole queue on every message: quadratic at 200,000 messages).
3. Worker: the real ``online_worker.lambda_handler`` (Powertools batch processor, 8 threads) on SQS events of
   ``BatchSize`` records, one invocation after another, in this process; DynamoDB and Secrets Manager are a moto
   server in its own process (real HTTP round trips), Avito is the simulator in another process (50 ms latency).
   ``--worker-accounts`` real accounts (secrets in moto, 0-3 unread chats each), a warm-up pass (token fetch, secret
   read, first chat store), then ``--worker-sample`` keep-alives.

Modelled (assumptions in ``ASSUMPTIONS``, printed and written to the JSON)
-------------------------------------------------------------------------
- Lambda time of the tick: its own CPU time x ``--lambda-cpu-factor`` (a 512 MB function gets 512/1769 of a
  vCPU) plus an assumed round trip per AWS call. A controllable clock (``schedule.time``) makes the tick see that
  time, so the DelaySeconds it computes are what it would compute in Lambda.
- Lag: a discrete-event model of SQS + the Lambda event source: each keep-alive becomes visible at the moment
  the tick sent it + DelaySeconds; batches of up to BatchSize wait at most MaximumBatchingWindowInSeconds; at most
  MaximumConcurrency invocations at once; each invocation takes a measured worker profile (scaled up when the
  measured CPU x factor says a 512 MB function would be CPU-bound).
- Cost: list prices in ``PRICES`` times the counts above, 30 days.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any

from avito_service.dynamo import to_wire

from benchmarks._common import (
    moto_stack,
    quiet_output,
    table,
    write_results,
)
from benchmarks.eternal.constants import ASSUMPTIONS, INTERVALS, PRICES, T0
from benchmarks.eternal.model import monthly_cost, simulate_lag, template_settings, worker_profiles
from benchmarks.eternal.table import AccountsTableDouble, item_size
from benchmarks.eternal.ticks import (
    SqsCapture,
    TickClock,
    aligned_fleet_moments,
    build_fleet,
    check_plans,
    moto_tick,
    run_tick,
)
from benchmarks.eternal.worker import measure_worker

# --- main ----------------------------------------------------------------------------------------------------------


def tick_part(args: argparse.Namespace, settings: dict[str, Any]) -> dict[str, Any]:
    from avito_service import aws
    from avito_service.online import worker as worker_module

    rtt = ASSUMPTIONS["rtt_s"]
    window = settings["window_s"]
    fleet = build_fleet(args.accounts, args.disabled, args.seed)
    out: dict[str, Any] = {"max_parallel": worker_module.MAX_PARALLEL}
    with moto_stack() as created:
        sqs = SqsCapture()
        sqs.install(aws.sqs_client())
        client = aws.dynamodb_resource().meta.client
        if args.moto_accounts:
            moto_fleet = build_fleet(
                args.moto_accounts, args.moto_accounts * args.disabled // max(args.accounts, 1), 11
            )
            print(f"[moto] {len(moto_fleet)} items, tick(now=T0) in moto and against the double ...", flush=True)
            with quiet_output():
                out["moto_tick"] = moto_tick(moto_fleet, sqs, created, settings["accounts_table"], client)
            print(f"[moto] {out['moto_tick']}", flush=True)

        wire = [to_wire(i) for i in fleet]

        lambda_clock = TickClock(args.lambda_cpu_factor, rtt)
        double = AccountsTableDouble(created["AccountsTable"], settings["accounts_table"], lambda_clock)
        for item in wire:
            double.put_wire(item)
        double.install(client)
        ticks, rows = [], []
        try:
            with quiet_output():
                for k in range(args.ticks):
                    info, tick_rows = run_tick(T0 + k * window, lambda_clock, sqs, double)
                    ticks.append(info)
                    rows.extend(tick_rows)
                    print(f"[hour] tick {k}: {info}", file=sys.__stdout__, flush=True)
        finally:
            double.uninstall(client)
        totals = Counter()
        for t in ticks:
            totals.update({k: v for k, v in t.items() if isinstance(v, int | float) and k != "now"})
        out["hour"] = {"ticks": ticks, "totals": dict(totals), "checks": check_plans(rows, fleet, args.ticks / 12)}
        out["scaling"] = scaling_runs(args, settings, created=created, client=client, sqs=sqs, fleet=fleet, rtt=rtt)
        out["rows"] = rows
        out["fleet"] = fleet
    return out


def scaling_runs(
    args: argparse.Namespace,
    settings: dict[str, Any],
    *,
    created: dict[str, str],
    client: Any,
    sqs: SqsCapture,
    fleet: list[dict[str, Any]],
    rtt: dict[str, float],
) -> list[dict[str, Any]]:
    """One tick at T0 for fleets of other shapes: items read follows the due accounts, not the table size."""
    small = max(args.accounts // 10, 1)
    shapes = [
        (f"{small:,} enabled (mixed)", build_fleet(small, 0, args.seed)),
        (f"{args.accounts:,} enabled (mixed)", [i for i in fleet if "nextDueAt" in i]),
        (f"{args.accounts:,} enabled (mixed) + {args.disabled:,} disabled", fleet),
        (f"{args.accounts:,} enabled, all 3600 s", build_fleet(args.accounts, 0, args.seed, intervals=(3600,))),
    ]
    results = []
    for label, items in shapes:
        clock = TickClock(args.lambda_cpu_factor, rtt)
        double = AccountsTableDouble(created["AccountsTable"], settings["accounts_table"], clock)
        for item in items:
            double.put_wire(to_wire(item))
        double.install(client)
        try:
            with quiet_output():
                info, _ = run_tick(T0, clock, sqs, double)
        finally:
            double.uninstall(client)
        info.update(label=label, table_items=len(items), enabled=sum(1 for i in items if "nextDueAt" in i))
        results.append(info)
        print(f"[scaling] {label}: read {info['accounts_read']}, {info['clock_s']} s modelled", flush=True)
    return results


def lag_part(args: argparse.Namespace, settings: dict[str, Any], ticks: dict, worker: dict) -> dict[str, Any]:
    fleet = ticks["fleet"]
    intervals = {i["id"]: int(i["onlineKeepAliveInterval"]) for i in fleet}
    planned = [(r[0], float(r[1]), r[5] + r[4] + r[3], intervals[r[0]]) for r in ticks["rows"]]
    common = {
        "concurrency": args.concurrency or settings["max_concurrency"],
        "batch": settings["batch_size"],
        "window": settings["batching_window_s"],
        "overhead": ASSUMPTIONS["invoke_overhead_s"],
        "seed": args.seed,
    }
    lambda_profiles = worker_profiles(worker, "lambda")
    measured_profiles = worker_profiles(worker, "measured")
    aligned = [
        (a, float(m), float(m), iv) for a, m, iv in aligned_fleet_moments(fleet, args.ticks, settings["window_s"])
    ]
    scenarios = {
        "random phases, tick + worker modelled for Lambda": simulate_lag(planned, lambda_profiles, **common),
        "random phases, worker as measured here": simulate_lag(planned, measured_profiles, **common),
        "random phases, tick sends instantly (worker-side lag only)": simulate_lag(
            [(a, p, p, iv) for a, p, _, iv in planned], lambda_profiles, **common
        ),
        "all accounts in phase (enabled at the same second), tick sends instantly": simulate_lag(
            aligned, lambda_profiles, **common
        ),
    }
    return {"parameters": common, "scenarios": scenarios}


def report(
    args: argparse.Namespace, settings: dict[str, Any], *, ticks: dict, worker: dict, lag: dict, cost: dict
) -> None:
    hour, w, concurrency = ticks["hour"], worker, lag["parameters"]["concurrency"]

    def mean(key: str, chosen: list[dict[str, Any]]) -> float:
        return statistics.fmean(t[key] for t in chosen)

    tick_rows = [
        (
            label,
            f"{mean('accounts_read', chosen):.0f}",
            f"{mean('query_pages', chosen):.1f}",
            f"{mean('rru', chosen):.1f}",
            f"{mean('update_calls', chosen):.0f}",
            f"{mean('wru', chosen):.0f}",
            f"{mean('keep_alives', chosen):.0f}",
            f"{mean('send_message_batch_calls', chosen):.0f}",
            f"{mean('wall_s', chosen):.1f}",
            f"{mean('clock_s', chosen):.1f}",
            f"{mean('first_send_s', chosen):.1f} / {mean('last_send_s', chosen):.1f}",
        )
        for label, chosen in (("tick 0", hour["ticks"][:1]), (f"mean of {len(hour['ticks'])}", hour["ticks"]))
    ]
    c = hour["checks"]
    sections: list[tuple[str, list[str], list[Sequence[Any]]]] = [
        (
            f"## Tick: {args.accounts:,} enabled + {args.disabled:,} disabled accounts, intervals {INTERVALS} s, "
            "AccountsTable double",
            [
                "ticks",
                "items read (due)",
                "query pages",
                "RRU",
                "claims (UpdateItem)",
                "WRU",
                "keep-alives",
                "SendMessageBatch",
                "wall here s",
                "Lambda s (modelled)",
                "first / last send s (modelled)",
            ],
            tick_rows,
        ),
        (
            "Items read per tick against table size (one tick at T0 each)",
            ["fleet", "items in table", "items read", "RRU", "claims", "keep-alives", "Lambda s (modelled)"],
            [
                (
                    x["label"],
                    x["table_items"],
                    x["accounts_read"],
                    x["rru"],
                    x["update_calls"],
                    x["keep_alives"],
                    x["clock_s"],
                )
                for x in ticks["scaling"]
            ],
        ),
        (
            f"Planning over the simulated hour ({len(hour['ticks'])} ticks)",
            [
                "enabled",
                "keep-alives",
                "count != 3600/interval (+-1)",
                "spacing != interval",
                "duplicates",
                "for disabled accounts",
                "visible > 1 s early",
            ],
            [
                (
                    c["enabled_accounts"],
                    c["keep_alives"],
                    c["count_violations"],
                    c["spacing_violations"],
                    c["duplicate_moments"],
                    c["keep_alives_for_disabled_accounts"],
                    c["visible_early_by_more_than_1s"],
                )
            ],
        ),
    ]
    if ticks.get("moto_tick"):
        m = ticks["moto_tick"]
        x = m["crosscheck"]
        sections.append(
            (
                "Tick 0 in moto (in-process mock_aws, wall clock) and the same tick against the double",
                [
                    "items in table",
                    "enabled",
                    "items read",
                    "keep-alives",
                    "wall s",
                    "inside moto s",
                    "same keep-alives as the double",
                    "nextDueAt mismatches (sample)",
                ],
                [
                    (
                        m["table_items"],
                        m["enabled"],
                        m["accounts_read"],
                        m["keep_alives"],
                        m["wall_s"],
                        m["time_inside_moto_s"],
                        x["same_keep_alives_planned"] and x["same_items_read"],
                        f"{x['next_due_at_mismatches']} / {x['sampled_accounts']}",
                    )
                ],
            )
        )
    sections.append(
        (
            f"## Worker: {w['keep_alives']} keep-alives over {w['accounts']} accounts, batches of "
            f"{settings['batch_size']}, {ticks['max_parallel']} threads, Avito simulator latency "
            f"{w['simulator_latency_s']} s",
            [
                "",
                "invocation p50 / p99 ms",
                "keep-alives/s per invocation",
                f"at concurrency {concurrency}",
            ],
            [
                (
                    "measured here (moto server DynamoDB p50 " + f"{w['dynamodb_call_ms_to_moto_server']['p50']} ms)",
                    f"{w['invocation_wall_ms']['p50']} / {w['invocation_wall_ms']['p99']}",
                    w["keep_alives_per_s_per_invocation"],
                    f"{w['keep_alives_per_s_per_invocation'] * concurrency:.0f}",
                ),
                (
                    "modelled for Lambda 512 MB (DynamoDB 5 ms, CPU x "
                    + f"{args.lambda_cpu_factor}; CPU-bound {w['cpu_bound_share_at_512mb']:.0%})",
                    f"{w['invocation_modelled_lambda_ms']['p50']} / {w['invocation_modelled_lambda_ms']['p99']}",
                    w["keep_alives_per_s_per_invocation_modelled"],
                    f"{w['keep_alives_per_s_per_invocation_modelled'] * concurrency:.0f}",
                ),
            ],
        )
    )
    sections.append(
        (
            "Per keep-alive (measured)",
            [
                "service time p50 / p99 ms",
                "CPU per invocation p50 ms",
                "AWS calls",
                "log bytes / invocation",
                "outcomes",
            ],
            [
                (
                    f"{w['keep_alive_service_ms']['p50']} / {w['keep_alive_service_ms']['p99']}",
                    w["invocation_cpu_ms"]["p50"],
                    ", ".join(f"{k} {v}" for k, v in w["aws_calls_per_keep_alive"].items()),
                    w["log_bytes_per_invocation"],
                    w["outcomes"],
                )
            ],
        )
    )
    sections.append(
        (
            "## Lag over the simulated hour (Messenger call done - planned moment; discrete-event model)",
            [
                "scenario",
                "keep-alives",
                "p50 s",
                "p99 s",
                "max s",
                "within 15 s",
                "interval error p99 s",
                "peak backlog",
                "peak concurrency",
                "mean batch",
            ],
            [
                (
                    name,
                    s["keep_alives"],
                    s["lag_s"]["p50"],
                    s["lag_s"]["p99"],
                    s["lag_s"]["max"],
                    f"{s['within_15s']:.2%}",
                    s["interval_error_s"]["p99"],
                    s["peak_backlog"],
                    s["peak_concurrency"],
                    s["mean_batch"],
                )
                for name, s in lag["scenarios"].items()
            ],
        )
    )
    sections.append(
        (
            f"## Monthly cost, {args.accounts:,} accounts, 30 days ({PRICES['source']})",
            ["item", "per month", "price", "USD / month"],
            [
                (
                    i["item"],
                    f"{i['quantity']:,.0f}" if i["quantity"] >= 100 else f"{i['quantity']:.1f}",
                    i["price"],
                    f"{i['usd']:,.2f}",
                )
                for i in cost["items"]
            ]
            + [
                ("**total**", "", "", f"**{cost['total_usd']:,.2f}**"),
                ("total without storing the secrets", "", "", f"{cost['total_without_secret_storage_usd']:,.2f}"),
            ],
        )
    )
    for title, headers, rows in sections:
        print(f"\n{title}\n")
        print(table(headers, rows))


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=10_000, help="enabled accounts")
    parser.add_argument("--disabled", type=int, default=10_000, help="disabled accounts in the same table")
    parser.add_argument("--ticks", type=int, default=12, help="ticks to simulate (12 = one hour)")
    parser.add_argument("--worker-accounts", type=int, default=100)
    parser.add_argument("--worker-sample", type=int, default=1000, help="keep-alives run through the worker")
    parser.add_argument("--sim-latency", type=float, default=0.05)
    parser.add_argument("--concurrency", type=int, default=0, help="worker concurrency (default: the template's)")
    parser.add_argument("--lambda-cpu-factor", type=float, default=ASSUMPTIONS["lambda_cpu_factor"])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--moto-accounts",
        type=int,
        default=2000,
        help="enabled accounts (plus disabled in the same proportion) for the tick in moto and its cross-check "
        "against the double; 0 skips it (10000 takes ~4 min here)",
    )
    parser.add_argument("--results-name", default="eternal_online", help="benchmarks/results/<name>.json")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    settings = template_settings()
    ticks = tick_part(args, settings)
    print("[worker] measuring ...", flush=True)
    worker = measure_worker(args, settings)
    lag = lag_part(args, settings, ticks, worker)
    cost = monthly_cost(
        ticks["hour"],
        worker,
        lag["scenarios"]["random phases, tick + worker modelled for Lambda"],
        settings,
        accounts=args.accounts,
        account_bytes=round(statistics.fmean(item_size(to_wire(i)) for i in ticks["fleet"] if "nextDueAt" in i)),
    )
    report(args, settings, ticks=ticks, worker=worker, lag=lag, cost=cost)
    runtime = time.perf_counter() - started
    print(f"\n(total run time {runtime:.0f} s)")
    data = {
        "arguments": vars(args),
        "template": {k: v for k, v in settings.items() if k != "accounts_table"},
        "assumptions": ASSUMPTIONS,
        "prices": PRICES,
        "moto_tick": ticks.get("moto_tick"),
        "hour": ticks["hour"],
        "scaling": ticks["scaling"],
        "worker": {k: v for k, v in worker.items() if k != "profiles"},
        "lag": lag,
        "cost": cost,
        "run_time_s": round(runtime, 1),
    }
    write_results(args.results_name, data)
    return data


if __name__ == "__main__":
    main()
