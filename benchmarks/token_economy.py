"""Token economy: 4 processes x 250 ``AvitoApi(load_context(id)).account_self()`` calls against the Avito
simulator, sharing one moto server (ThreadedMotoServer on loopback). Every process is a cold container with
no token in memory; the shared token item in AccountsTable should make them fetch exactly one token."""

from __future__ import annotations

import argparse
import logging
import multiprocessing as mp
import os
import socket
import sys
import time
from typing import Any

from benchmarks._common import (
    TEMPLATE,
    apply_created,
    create_account,
    set_lambda_env,
    table,
    write_results,
)
from tests.support.caches import reset_caches

CLIENT_ID, CLIENT_SECRET, USER_ID = "bench-client", "bench-secret", 1001


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def worker(account_id: str, calls: int, start: Any, out: Any) -> None:
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - the service's JSON logs and EMF metrics (a pipe in Lambda)
    from avito_service.accounts import service
    from avito_service.avito.client import AvitoApi

    ok, errors = 0, []
    start.wait()
    t0 = time.perf_counter()
    for _ in range(calls):
        try:
            AvitoApi(service.load_context(account_id)).account_self()
            ok += 1
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}"[:200])
    out.put(
        {
            "pid": os.getpid(),
            "ok": ok,
            "errors": len(errors),
            "first_errors": errors[:3],
            "seconds": time.perf_counter() - t0,
        }
    )


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--calls", type=int, default=250)
    args = parser.parse_args(argv)

    from moto.server import ThreadedMotoServer

    from avito_sim import AvitoSimulator
    from local_runtime.resources import create_resources
    from local_runtime.template import load_template

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto server's access log
    port = free_port()
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    moto.start()
    sim = AvitoSimulator()
    try:
        sim_url = sim.start()
        sim.add_account(CLIENT_ID, CLIENT_SECRET, USER_ID)
        endpoint = f"http://127.0.0.1:{port}"
        set_lambda_env(AWS_ENDPOINT_URL=endpoint, AVITO_API_URL=sim_url)
        created = create_resources(load_template(TEMPLATE), endpoint)
        apply_created(created)
        reset_caches()
        account = create_account(client_id=CLIENT_ID, user_id=str(USER_ID))
        sim_before = sim.count("POST", r"^/token$")

        ctx = mp.get_context("spawn")
        start, out = ctx.Event(), ctx.Queue()
        procs = [ctx.Process(target=worker, args=(account.id, args.calls, start, out)) for _ in range(args.processes)]
        for p in procs:
            p.start()
        time.sleep(3)  # let the children import before the gun (imports are not what is measured)
        t0 = time.perf_counter()
        start.set()
        reports = [out.get(timeout=300) for _ in procs]
        wall = time.perf_counter() - t0
        for p in procs:
            p.join(timeout=30)
        token_requests = sim.count("POST", r"^/token$") - sim_before
        self_calls = sim.count("GET", r"^/core/v1/accounts/self")
    finally:
        sim.stop()
        moto.stop()

    total_ok = sum(r["ok"] for r in reports)
    total = args.processes * args.calls
    row = (
        args.processes,
        total,
        total_ok,
        self_calls,
        token_requests,
        "exactly 1",
        f"{wall:.2f}",
        f"{total_ok / wall:.0f}",
    )
    print(f"token economy: {args.processes} spawned processes x {args.calls} account_self() calls\n")
    print(table(["processes", "calls", "ok", "sim GET /self", "sim POST /token", "target", "wall s", "calls/s"], [row]))
    for r in reports:
        if r["errors"]:
            print(f"\npid {r['pid']}: {r['errors']} errors, e.g. {r['first_errors']}")
    data = {
        "processes": args.processes,
        "calls_per_process": args.calls,
        "total_calls": total,
        "ok_calls": total_ok,
        "simulator_self_requests": self_calls,
        "token_requests": token_requests,
        "target_token_requests": 1,
        "wall_s": round(wall, 3),
        "workers": reports,
    }
    write_results("token_economy", data)
    return data


if __name__ == "__main__":
    main()
