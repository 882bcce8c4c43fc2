"""Contract layer throughput vs plain `schemathesis run`, same spec, same sandbox, same run.

    .venv/bin/python bench/contract_bench.py [--spec rostering] [--max-examples 3] [--seed 1] [--timeout 600]

Both sides: phases examples + fuzzing, every check, one worker, loopback only (an in-process sandbox
on a free 127.0.0.1 port).  Ours counts the cases it sent (example, positive and negative fuzzing;
the coverage slice is off here so the phases match); plain schemathesis is counted from its
"N generated" summary line and timed by its own "in X.XXs".  Then: wall time of the contract layer
over every OneRoster operation with default settings (RunConfig: max_examples, seed; coverage slice on),
and of the stateful sequences.
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tbconform.harness import contract  # noqa: E402
from tbconform.harness.catalog import Catalog  # noqa: E402
from tbconform.harness.config import RunConfig  # noqa: E402
from tbconform.harness.context import Cleanup  # noqa: E402
from tbconform.harness.http import HarnessSession, TokenProvider  # noqa: E402
from tbconform.mocks.auth import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET  # noqa: E402
from tbconform.mocks.sandbox import SandboxConfig  # noqa: E402
from tbconform.mocks.testing import run_sandbox  # noqa: E402

CONFIG = REPO / "tests" / "data" / "schemathesis.toml"


def schemathesis_exe() -> list[str]:
    exe = Path(sys.executable).with_name("schemathesis")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "schemathesis.cli"]


def session_for(sandbox) -> HarnessSession:
    return HarnessSession(sandbox.base_url, TokenProvider(sandbox.token_url, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET),
                          writes_allowed=True)


def ours(sandbox, catalog: Catalog, doc, max_examples: int, seed: int, deadline: float) -> tuple[int, float, int]:
    session, cleanup, stats = session_for(sandbox), Cleanup(), {"cases": 0}
    failed = 0
    started = time.perf_counter()
    for op in catalog.ops:
        if op.operation.doc is not doc:
            continue
        if time.monotonic() > deadline:
            print("  (ours: time budget spent, stopping early)")
            break
        results = contract.run_operation(session, catalog, op, max_examples=max_examples, seed=seed, run_id="tbcbench",
                                         writes=True, cleanup=cleanup, coverage=False, stats=stats)
        failed += sum(r.status in ("failed", "error") for r in results)
    elapsed = time.perf_counter() - started
    cleanup.run(session)
    return stats["cases"], elapsed, failed


def plain(sandbox, spec: Path, max_examples: int, seed: int, timeout: float) -> tuple[int, float, float, int]:
    cmd = schemathesis_exe() + [
        "--config-file", str(CONFIG), "run", str(spec), "--url", sandbox.base_url,
        "-H", f"Authorization: Bearer {sandbox.token()}", "--checks", "all", "--max-examples", str(max_examples),
        "--phases", "examples,fuzzing", "--workers", "1", "--no-color", "--seed", str(seed),
    ]
    started = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=REPO)
    wall = time.perf_counter() - started
    out = proc.stdout + proc.stderr
    generated = re.search(r"(\d+) generated", out)
    took = re.findall(r"in ([\d.]+)s", out)
    if generated is None:
        raise SystemExit(f"could not read the case count from schemathesis' output:\n{out[-2000:]}")
    return int(generated.group(1)), float(took[-1]) if took else wall, wall, proc.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", default="rostering", help="OneRoster spec document (rostering, gradebook, resources)")
    parser.add_argument("--max-examples", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=600, help="seconds for the whole benchmark")
    parser.add_argument("--skip-full", action="store_true", help="leave out the all-operations wall time")
    args = parser.parse_args()
    deadline = time.monotonic() + args.timeout

    catalog = Catalog.load(["oneroster"])
    doc = next(d for d in catalog.docs if d.name == args.spec)
    started = time.perf_counter()
    contract.schema_for(doc, catalog.collections.values())
    print(f"schema load (once per document): {time.perf_counter() - started:.2f}s")

    with run_sandbox(SandboxConfig()) as sandbox:
        print(f"sandbox {sandbox.base_url}; spec {doc.label}; max-examples {args.max_examples}; "
              "phases examples+fuzzing; all checks")
        st_cases, st_run, st_wall, st_rc = plain(sandbox, doc.path, args.max_examples, args.seed,
                                                 timeout=max(30.0, deadline - time.monotonic()))
        our_cases, our_time, our_failed = ours(sandbox, catalog, doc, args.max_examples, args.seed, deadline)
        ours_rate, st_rate = our_cases / our_time, st_cases / st_run
        print(f"plain schemathesis : {st_cases:5d} cases in {st_run:6.2f}s = {st_rate:7.1f} cases/s "
              f"(process wall {st_wall:.2f}s, exit {st_rc})")
        print(f"tbconform contract : {our_cases:5d} cases in {our_time:6.2f}s = {ours_rate:7.1f} cases/s "
              f"({our_failed} failed/error results)")
        print(f"ratio ours/plain   : {ours_rate / st_rate:.2f} (target >= 0.9)")

        if not args.skip_full and time.monotonic() < deadline:
            defaults = RunConfig()
            session, cleanup = session_for(sandbox), Cleanup()
            stats: dict[str, int] = {"cases": 0}
            started = time.perf_counter()
            ops = contract.contract_operations(catalog, ["oneroster"])
            for op in ops:
                if time.monotonic() > deadline:
                    print("  (full run: time budget spent, stopping early)")
                    break
                contract.run_operation(session, catalog, op, max_examples=defaults.max_examples, seed=defaults.seed,
                                       run_id=defaults.run_id, writes=True, cleanup=cleanup, stats=stats)
            full = time.perf_counter() - started
            print(f"all OneRoster operations, defaults (max_examples={defaults.max_examples}, coverage slice on): "
                  f"{len(ops)} ops, {stats['cases']} cases, {session.sent} requests in {full:.1f}s")
            started = time.perf_counter()
            contract.run_stateful(session, catalog, "oneroster", max_examples=defaults.max_examples, seed=defaults.seed,
                                  run_id=defaults.run_id, cleanup=cleanup)
            print(f"stateful sequences (3 documents): {time.perf_counter() - started:.1f}s")
            problems = cleanup.run(session)
            print(f"cleanup: {'ok' if not problems else problems[:3]}")


if __name__ == "__main__":
    main()
