"""Seed-bundle benchmark: ``write_bundle`` for district and large, each in a fresh subprocess.

Prints wall time, the child's peak RSS (its own ``struct_rusage`` from ``os.wait4``), record counts
and bundle size, with PASS/FAIL against the targets:

    district  < 5 s
    large     < 60 s and peak RSS < 2 GiB

Usage: python bench/seed_bench.py [--sizes district,large] [--seed 42] [--keep DIR]
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
TARGETS = {  # size -> (max seconds, max peak RSS bytes or None)
    "district": (5.0, None),
    "large": (60.0, 2 * GIB),
}

_CHILD = """
import json, sys
sys.path.insert(0, {repo!r})
from tbconform.fixtures.bundle import write_bundle
counts = write_bundle({out!r}, seed={seed}, size={size!r}, progress=False)
print(json.dumps(counts))
"""


def _tree_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _run(size: str, seed: int, workdir: Path) -> dict:
    out = workdir / f"bundle-{size}"
    code = _CHILD.format(repo=str(REPO), out=str(out), seed=seed, size=size)
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
    counts = json.loads(stdout.strip().splitlines()[-1])
    return {"size": size, "wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss": rss,
            "counts": counts, "bytes": _tree_size(out), "out": out}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="district,large")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--keep", type=Path, help="write bundles here instead of a temp dir")
    args = parser.parse_args(argv)
    sizes = [s for s in args.sizes.split(",") if s]

    workdir = args.keep or Path(tempfile.mkdtemp(prefix="tbconform-seed-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    ok = True
    try:
        print(f"seed bench: seed={args.seed}, cpus={os.cpu_count()}, "
              f"load={os.getloadavg()[0]:.2f}, dir={workdir}")
        for size in sizes:
            r = _run(size, args.seed, workdir)
            max_s, max_rss = TARGETS.get(size, (None, None))
            verdicts = []
            if max_s is not None:
                verdicts.append(r["wall"] < max_s)
            if max_rss is not None:
                verdicts.append(r["rss"] < max_rss)
            verdict = "PASS" if all(verdicts) else "FAIL"
            ok &= verdict == "PASS"
            target = (f"< {max_s:.0f} s" if max_s else "") + (
                f", < {max_rss / GIB:.0f} GiB" if max_rss else "")
            total = sum(r["counts"].values())
            print(f"\n{size}: {verdict}  wall {r['wall']:.2f} s (cpu {r['cpu']:.2f} s)  "
                  f"peak RSS {r['rss'] / (1 << 20):.0f} MiB  target {target}")
            print(f"  {total:,} records, bundle {r['bytes'] / (1 << 20):.0f} MiB")
            for collection, n in r["counts"].items():
                print(f"    {collection:<20} {n:>10,}")
            if not args.keep:
                shutil.rmtree(r["out"], ignore_errors=True)
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    print(f"\n{'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
