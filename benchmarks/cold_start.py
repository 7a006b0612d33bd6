"""Cold start: ``import <handler module>`` in a fresh interpreter for every function in template.yaml.

Each sample is a new ``python -c`` child that times the import with ``time.perf_counter`` (interpreter startup
excluded) and also reports the child's CPU time (steadier on a busy machine). Baseline, references and
functions are measured round-robin so machine noise hits all of them alike. The slowest function is then run
once under ``python -X importtime`` and its costliest imports are listed.

The children run in a virtualenv holding only what a deployed function has: the layer's requirements
(``layers/shared/requirements.txt``) and boto3 (the Lambda runtime's). The development venv also has moto,
cryptography and friends, which some libraries import when present (PyJWT imports cryptography), so measuring
there would charge functions for packages they never have in Lambda. ``--python`` picks another interpreter.

References besides the baseline: ``_baseline_floor`` (the baseline with ``enable_validation=True`` and one
route taking a pydantic body model: the least a REST function that validates its input at the edge imports,
and the floor every REST function is held to, <= 1.15x), ``_baseline_floor_http`` (the floor plus ``requests``:
what the HTTP library alone adds for a function that calls Avito), ``_baseline_validation`` (validation without a model)
and ``_baseline_tracer`` (the baseline with Powertools Tracer).

The target is judged on CPU time (``time.process_time`` of the import): on a machine shared with other work the
wall clock of a 100 ms import mostly measures the scheduler; both are reported.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
from typing import Any

from benchmarks._common import LAMBDA_ENV, PYTHONPATH, ROOT, TEMPLATE, run, table, write_results
from local_runtime.template import FUNCTION_TYPE, load_template

BASELINE = "benchmarks._baseline_handler"
FLOOR = "benchmarks._baseline_floor"
REFERENCES = {
    FLOOR: "(floor: validation + a body model)",
    "benchmarks._baseline_floor_http": "(floor + requests, the Avito client's HTTP library)",
    "benchmarks._baseline_validation": "(baseline + enable_validation)",
    "benchmarks._baseline_tracer": "(baseline + Tracer)",
}
LAYER_VENV = ROOT / ".bench-venv"
TARGET_RATIO = 1.15  # of the floor, for every REST function (an Api event)
CHILD = (
    "import time, importlib; t = time.perf_counter(); c = time.process_time(); importlib.import_module({mod!r}); "
    "print(time.perf_counter() - t, time.process_time() - c)"
)
CHILD_PYTHON = {"path": sys.executable}  # set in main(): the layer-only interpreter by default


def layer_python() -> str:
    """The interpreter of a venv with only the layer's requirements and boto3 (created on first use)."""
    python = LAYER_VENV / "bin" / "python"
    requirements = ROOT / "layers" / "shared" / "requirements.txt"
    stamp = LAYER_VENV / ".installed"
    if not stamp.exists() or stamp.read_text() != requirements.read_text():
        run([sys.executable, "-m", "venv", "--clear", str(LAYER_VENV)], timeout=300)
        boto = [line for line in (ROOT / "constraints.txt").read_text().splitlines() if line.startswith("boto3==")]
        pip = [str(python), "-m", "pip", "install", "--quiet", "-r", str(requirements), *boto]
        run([*pip, "-c", str(ROOT / "constraints.txt")], timeout=600)
        stamp.write_text(requirements.read_text())
    return str(python)


def rest_functions() -> set[str]:
    """Logical ids of the functions with an Api (REST) event."""
    template = load_template(TEMPLATE)
    return {
        fid
        for fid in template.ids_of_type(FUNCTION_TYPE)
        if any(e.get("Type") == "Api" for e in (template.function_properties(fid).get("Events") or {}).values())
    }


def function_modules() -> dict[str, tuple[str, dict[str, str]]]:
    """module -> (logical id, the function's own string env vars)."""
    template = load_template(TEMPLATE)
    found: dict[str, tuple[str, dict[str, str]]] = {}
    for fid in template.ids_of_type(FUNCTION_TYPE):
        props = template.function_properties(fid)
        handler = props.get("Handler", "")
        if not handler.endswith(".lambda_handler"):
            continue
        variables = (props.get("Environment") or {}).get("Variables") or {}
        own = {k: v if isinstance(v, str) else f"bench-{k.lower()}" for k, v in variables.items()}
        found[handler.rsplit(".", 1)[0]] = (fid, own)
    return found


def child_env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "POWERTOOLS_"))}
    env.update(LAMBDA_ENV)  # Globals (quiet log level; placeholders instead of Refs)
    env.update({k: v for k, v in extra.items() if k not in LAMBDA_ENV})  # the function's own variables
    env["PYTHONPATH"] = PYTHONPATH
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # Lambda layers ship .pyc-able code; use warm bytecode caches
    return env


def measure(module: str, env: dict[str, str]) -> tuple[float, float]:
    """(wall s, CPU s) of importing ``module`` in a fresh interpreter."""
    wall, cpu = run([CHILD_PYTHON["path"], "-c", CHILD.format(mod=module)], env=env).strip().splitlines()[-1].split()
    return float(wall), float(cpu)


def import_error(module: str, env: dict[str, str]) -> str | None:
    """The last line of the child's traceback if the module does not import, else None."""
    proc = subprocess.run(
        [CHILD_PYTHON["path"], "-c", f"import {module}"], env=env, capture_output=True, text=True, cwd=ROOT, check=False
    )
    return None if proc.returncode == 0 else (proc.stderr.strip().splitlines() or ["?"])[-1]


def _importtime_rows(module: str, env: dict[str, str]) -> list[dict[str, Any]]:
    proc = subprocess.run(
        [CHILD_PYTHON["path"], "-X", "importtime", "-c", f"import {module}"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    rows = []
    for line in proc.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)", line)
        if m:
            rows.append({"self_us": int(m[1]), "cumulative_us": int(m[2]), "name": m[4]})
    return rows


def _group(name: str) -> str:
    """Which cost bucket a module belongs to: the package, or finer for our code and Powertools."""
    parts = name.split(".")
    if parts[0] in {"avito_service", "aws_lambda_powertools"}:
        return ".".join(parts[:3])
    return parts[0]


def importtime(module: str, env: dict[str, str], top: int = 5, reference: str = FLOOR) -> list[dict[str, Any]]:
    """What ``module`` imports beyond the floor, by package: summed self time under ``-X importtime``.

    Modules the floor handler also imports are left out, so this is the extra a function pays."""
    baseline = {r["name"] for r in _importtime_rows(reference, env)}
    buckets: dict[str, dict[str, Any]] = {}
    for r in _importtime_rows(module, env):
        if r["name"] in baseline or r["name"] == module:
            continue
        bucket = buckets.setdefault(_group(r["name"]), {"package": _group(r["name"]), "self_us": 0, "modules": 0})
        bucket["self_us"] += r["self_us"]
        bucket["modules"] += 1
    return sorted(buckets.values(), key=lambda b: -b["self_us"])[:top]


def print_top(top: list[dict[str, Any]]) -> None:
    rows = [(t["package"], round(t["self_us"] / 1000, 1), t["modules"]) for t in top]
    print(table(["package (not imported by the floor)", "import ms (sum of self)", "modules"], rows))


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--importtime-only", metavar="MODULE", help="only list MODULE's costliest extra imports")
    parser.add_argument("--python", help="interpreter for the children (default: the layer-only .bench-venv)")
    parser.add_argument(
        "--functions",
        nargs="*",
        metavar="LOGICAL_ID",
        help="only these functions (with the baseline and the references); results in cold_start_subset.json",
    )
    args = parser.parse_args(argv)
    CHILD_PYTHON["path"] = args.python or layer_python()
    if args.importtime_only:
        top = importtime(args.importtime_only, child_env({}))
        print(f"{args.importtime_only}: costliest imports beyond the floor (-X importtime)\n")
        print_top(top)
        return {"module": args.importtime_only, "top_imports": top}

    modules = function_modules()
    if args.functions:
        modules = {m: spec for m, spec in modules.items() if spec[0] in set(args.functions)}
    names = {BASELINE: "(baseline)"} | REFERENCES | {m: fid for m, (fid, _) in modules.items()}
    envs = {m: child_env({}) for m in [BASELINE, *REFERENCES]} | {m: child_env(e) for m, (_, e) in modules.items()}
    broken = {m: err for m in names if (err := import_error(m, envs[m]))}
    order = [m for m in names if m not in broken]
    for mod in order:  # one warm-up each: compile .pyc files so every sample reads bytecode
        measure(mod, envs[mod])
    samples: dict[str, list[tuple[float, float]]] = {m: [] for m in order}
    for _ in range(args.repeats):
        for mod in order:
            samples[mod].append(measure(mod, envs[mod]))

    def medians(mod: str) -> tuple[float, float]:
        return statistics.median(w for w, _ in samples[mod]), statistics.median(c for _, c in samples[mod])

    base, base_cpu = medians(BASELINE)
    floor, floor_cpu = medians(FLOOR)
    rest = rest_functions()
    results = []
    for mod in order:
        med, cpu = medians(mod)
        is_rest = names[mod] in rest
        results.append(
            {
                "module": mod,
                "function": names[mod],
                "rest": is_rest,
                "median_ms": round(med * 1000, 1),
                "min_ms": round(min(w for w, _ in samples[mod]) * 1000, 1),
                "cpu_median_ms": round(cpu * 1000, 1),
                "ratio": round(med / base, 2),
                "cpu_ratio": round(cpu / base_cpu, 2),
                "ratio_to_floor": round(med / floor, 2),
                "cpu_ratio_to_floor": round(cpu / floor_cpu, 2),
                "meets_target": (cpu / floor_cpu <= TARGET_RATIO) if is_rest else None,
            }
        )
    functions = [r for r in results if r["module"] in modules]
    slowest = max(functions, key=lambda r: r["cpu_median_ms"])
    top = importtime(str(slowest["module"]), envs[str(slowest["module"])])

    verdict = {True: "yes", False: "**no**", None: "(not REST)"}
    rows = [
        (
            r["function"],
            r["cpu_median_ms"],
            r["median_ms"],
            f"{r['cpu_ratio']}x",
            f"{r['cpu_ratio_to_floor']}x",
            f"{r['ratio_to_floor']}x",
            verdict[r["meets_target"]],
        )
        for r in sorted(results, key=lambda r: -r["cpu_median_ms"])
    ]
    print(
        f"cold import, median of {args.repeats}: baseline {base_cpu * 1000:.1f} ms CPU, floor {floor_cpu * 1000:.1f} ms"
        f" CPU ({floor_cpu / base_cpu:.2f}x the baseline); target: every REST function <= {TARGET_RATIO}x the floor\n"
    )
    headers = ["function", "CPU ms", "wall ms", "CPU vs baseline", "CPU vs floor", "wall vs floor", "target"]
    print(table(headers, rows))
    rest_results = [r for r in functions if r["rest"]]
    met = sum(1 for r in rest_results if r["meets_target"])
    print(f"\n{met} of {len(rest_results)} REST functions meet the target")
    for mod, err in broken.items():
        print(f"\n**{mod} does not import**: `{err}`")
    print(f"\nslowest: {slowest['module']}; costliest imports beyond the floor (-X importtime):\n")
    print_top(top)
    data = {
        "repeats": args.repeats,
        "python": CHILD_PYTHON["path"],
        "baseline_ms": round(base * 1000, 1),
        "baseline_cpu_ms": round(base_cpu * 1000, 1),
        "floor_ms": round(floor * 1000, 1),
        "floor_cpu_ms": round(floor_cpu * 1000, 1),
        "floor_cpu_ratio_to_baseline": round(floor_cpu / base_cpu, 2),
        "target_ratio_to_floor": TARGET_RATIO,
        "rest_functions": len(rest_results),
        "rest_functions_meeting_target": met,
        "functions": results,
        "import_errors": broken,
        "slowest": slowest["module"],
        "slowest_top_imports": top,
        "samples_s": samples,
    }
    write_results("cold_start_subset" if args.functions else "cold_start", {"only": args.functions or None, **data})
    return data


if __name__ == "__main__":
    main()
