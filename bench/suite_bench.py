"""Wall time of the whole conformance suite against the embedded sandbox, as a user runs it.

    .venv/bin/python bench/suite_bench.py [--runs default,1,2] [--timeout 900]

Each run is `tbconform run --quiet` in a fresh process (start-up, sandbox seeding, collection and
reports included) with its own report folder; `default` passes no --workers (auto: one worker per
CPU, at most 4), a number N passes --workers N.  Prints wall time, the verdict and the counts.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tbconform.harness.config import auto_workers  # noqa: E402


def run(workers: str, timeout: float) -> None:
    with tempfile.TemporaryDirectory(prefix="tbc-suite-bench-") as tmp:
        cmd = [sys.executable, "-m", "tbconform.harness.cli", "run", "--quiet", "--report-dir", tmp]
        if workers != "default":
            cmd += ["--workers", workers]
        started = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=REPO)
        wall = time.perf_counter() - started
        try:
            summary = json.loads((Path(tmp) / "summary.json").read_text())
        except (OSError, ValueError):
            print(f"--workers {workers}: no summary (exit {proc.returncode})\n{proc.stderr[-1500:]}")
            return
    label = f"defaults (auto = {auto_workers()} workers)" if workers == "default" else f"--workers {workers}"
    print(f"{label:32s} {wall:6.1f} s wall  {summary['verdict']}: {summary['passed']} passed, "
          f"{summary['failed']} failed, {summary['skipped']} skipped, {summary['errors']} errors (exit {proc.returncode})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", default="default,1,2", help="comma-separated: default or a worker count")
    parser.add_argument("--timeout", type=float, default=900, help="seconds per run")
    args = parser.parse_args()
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"whole suite (every API) against the embedded sandbox, default settings otherwise; {cpus} CPUs")
    for workers in [w.strip() for w in args.runs.split(",") if w.strip()]:
        run(workers, args.timeout)


if __name__ == "__main__":
    main()
