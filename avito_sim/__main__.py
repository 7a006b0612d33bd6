"""``python -m avito_sim --host 127.0.0.1 --port 8080 [--seed demo] [--latency 0.05]``."""

from __future__ import annotations

import argparse
import threading

from .demo import seed_demo
from .server import AvitoSimulator


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command line options."""
    parser = argparse.ArgumentParser(prog="python -m avito_sim", description="Fake Avito API server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--seed", choices=["none", "demo"], default="none")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every answer")
    parser.add_argument("--token-ttl", type=int, default=86400)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Run the simulator until Ctrl-C."""
    args = parse_args(argv)
    sim = AvitoSimulator(host=args.host, port=args.port, latency=args.latency, token_ttl=args.token_ttl)
    if args.seed == "demo":
        seed_demo(sim)
    print(sim.start(), flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop()


if __name__ == "__main__":
    main()
