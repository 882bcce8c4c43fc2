"""Seed-bundle benchmark: ``write_bundle`` for district and large, each in a fresh subprocess.

Prints wall time, the child's peak RSS (its own ``struct_rusage`` from ``os.wait4``), record counts
and bundle size, with PASS/FAIL against the targets:

    district, no history       < 5 s
    district, 4 weeks history  < 30 s    (~200k Caliper events, fixtures/caliper.py)
    large, no history          < 60 s and peak RSS < 2 GiB

Each size runs once per ``--history-weeks`` value (default 0 and 4 for district; large only
without history by default: its 4 weeks are ~4M events) and the extra time the history adds over
0 weeks is printed. ``--sandbox`` also times seeding the sandbox's store (``Sandbox.reseed``, an
in-memory SQLite load with the specs' indexes) the same way.

Usage: python bench/seed_bench.py [--sizes district,large] [--history-weeks 0,4] [--sandbox]
                                  [--seed 42] [--keep DIR]
Exit status 1 if any target is missed.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GIB = 1 << 30
TARGETS = {  # (size, history weeks) -> (max seconds, max peak RSS bytes or None)
    ("district", 0): (5.0, None),
    ("district", 4): (30.0, None),
    ("large", 0): (60.0, 2 * GIB),
}
DEFAULT_WEEKS = {"large": (0,)}   # sizes whose default history runs are fewer than --history-weeks

_CHILD = """
import json, sys
sys.path.insert(0, {repo!r})
from tbconform.fixtures.bundle import write_bundle
counts = write_bundle({out!r}, seed={seed}, size={size!r}, progress=False, history_weeks={weeks})
print(json.dumps(counts))
"""
# the store alone: spec loading and the empty store first, then only the reseed is timed (stderr)
_SANDBOX_CHILD = """
import json, sys, time
sys.path.insert(0, {repo!r})
from tbconform.mocks.sandbox import Sandbox, SandboxConfig
sandbox = Sandbox(SandboxConfig(seed={seed}, size="small", history_weeks={weeks}))
start = time.perf_counter()
counts = sandbox.reseed(size={size!r})
print(json.dumps({{"seconds": time.perf_counter() - start, "counts": counts}}))
"""


def _tree_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _run(size: str, seed: int, workdir: Path, weeks: int, sandbox: bool = False) -> dict:
    out = workdir / f"bundle-{size}-{weeks}w"
    template = _SANDBOX_CHILD if sandbox else _CHILD
    code = template.format(repo=str(REPO), out=str(out), seed=seed, size=size, weeks=weeks)
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=REPO)
    # wait4 gives this child's own rusage (RUSAGE_CHILDREN would accumulate over all children)
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    stdout, stderr = proc.stdout.read(), proc.stderr.read()
    proc.stdout.close()
    proc.stderr.close()
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"{size}: child failed with exit code {code}\n{stderr}")
    rss = usage.ru_maxrss * 1024 if sys.platform != "darwin" else usage.ru_maxrss
    answer = json.loads(stdout.strip().splitlines()[-1])
    if sandbox:
        return {"size": size, "weeks": weeks, "wall": answer["seconds"], "cpu": usage.ru_utime + usage.ru_stime,
                "rss": rss, "counts": answer["counts"], "bytes": 0, "out": out}
    return {"size": size, "weeks": weeks, "wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss": rss,
            "counts": answer, "bytes": _tree_size(out), "out": out}


def _print(r: dict, what: str, base: dict | None) -> bool:
    """One result with its verdict (bundle runs only) and the time its history adds over 0 weeks."""
    max_s, max_rss = TARGETS.get((r["size"], r["weeks"]), (None, None)) if what == "bundle" else (None, None)
    verdicts = []
    if max_s is not None:
        verdicts.append(r["wall"] < max_s)
    if max_rss is not None:
        verdicts.append(r["rss"] < max_rss)
    verdict = ("PASS" if all(verdicts) else "FAIL") if verdicts else "----"
    target = (f"< {max_s:.0f} s" if max_s else "") + (f", < {max_rss / GIB:.0f} GiB" if max_rss else "")
    extra = ""
    if base is not None and r["weeks"]:
        extra = (f"  history adds {r['wall'] - base['wall']:+.2f} s wall, "
                 f"{r['cpu'] - base['cpu']:+.2f} s cpu, {(r['rss'] - base['rss']) / (1 << 20):+.0f} MiB RSS")
    total = sum(r["counts"].values())
    print(f"\n{what} {r['size']}, {r['weeks']} weeks history: {verdict}  wall {r['wall']:.2f} s "
          f"(cpu {r['cpu']:.2f} s)  peak RSS {r['rss'] / (1 << 20):.0f} MiB"
          + (f"  target {target}" if target else "") + extra)
    size_note = f", bundle {r['bytes'] / (1 << 20):.0f} MiB" if what == "bundle" else ""
    print(f"  {total:,} records{size_note}")
    for collection, n in r["counts"].items():
        print(f"    {collection:<20} {n:>10,}")
    return verdict != "FAIL"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="district,large")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--keep", type=Path, help="write bundles here instead of a temp dir")
    parser.add_argument("--history-weeks", default=None,
                        help="comma-separated weeks of activity history to seed each size with (default 0,4; "
                             "large: 0 unless given)")
    parser.add_argument("--sandbox", action="store_true", help="also time seeding the sandbox's store")
    args = parser.parse_args(argv)
    sizes = [s for s in args.sizes.split(",") if s]
    weeks_list = [int(w) for w in (args.history_weeks or "0,4").split(",") if w.strip()]

    workdir = args.keep or Path(tempfile.mkdtemp(prefix="tbconform-seed-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    ok = True
    try:
        print(f"seed bench: seed={args.seed}, cpus={os.cpu_count()}, "
              f"load={os.getloadavg()[0]:.2f}, dir={workdir}")
        for size in sizes:
            weeks_here = (weeks_list if args.history_weeks is not None
                          else [w for w in weeks_list if w in DEFAULT_WEEKS.get(size, weeks_list)])
            for what in ("bundle", "sandbox") if args.sandbox else ("bundle",):
                base = None
                for weeks in weeks_here:
                    r = _run(size, args.seed, workdir, weeks, sandbox=what == "sandbox")
                    ok &= _print(r, what, base)
                    if weeks == 0:
                        base = r
                    if not args.keep:
                        shutil.rmtree(r["out"], ignore_errors=True)
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    print(f"\n{'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
