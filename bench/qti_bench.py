"""QTI benchmark: response processing and item creation against a seeded sandbox.

Starts ``tbconform mock --size SIZE`` on a free loopback port, gets a token, creates the two items
the cases score (through the API, from XML built by ``fixtures/qti.py``), and measures requests/s
and p50/p99 latency with ``wrk --latency`` at 32 connections for:

    a) POST /assessment-items/{id}/process-response on a single-choice item (match_correct),
       with the correct answer;
    b) the same on a 10-gap gap-match item (map_response over 10 directedPairs), with all 10 pairs;
    c) POST /assessment-items creating an item from QTI 3.0 XML (a choice item), every request with
       a new identifier (a wrk Lua counter), so each one really parses, checks and stores an item;
       the stored item count is read back: it must grow by the number of 2xx answers.

Before timing, each scoring case's answer is checked (score 1 for the full response), so a broken
item cannot make a fast but meaningless run.

Targets (exit status 1 if one is missed):

    process-response, choice item   >= 800 req/s, no errors
    process-response, 10-gap item   no errors (figure reported)
    create from XML                 no errors, every 2xx stored (figure reported)

Usage: python bench/qti_bench.py [--size small] [--duration 10] [--warmup 2] [--connections 32]
                                 [--threads 1] [--json FILE]
Needs: wrk (``apt-get install -y wrk``): the cases POST bodies through wrk Lua scripts.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
from sandbox_bench import child, fmt, free_port, http, run_wrk, sandbox_command, token_for  # noqa: E402

from tbconform.fixtures.qti import build_item, gap_match_item  # noqa: E402

CHOICE, GAPS, CREATE = "process-response choice", "process-response 10 gaps", "create item from XML"
TARGET_RPS = {CHOICE: 800.0}
CHOICE_ID, GAP_ID = "bench-choice", "bench-gap-match-10"

POST_LUA = """-- written by bench/qti_bench.py: POSTs one JSON body
local body = BODY
function request()
  return wrk.format("POST", nil, {["Content-Type"] = "application/json",
                                  ["Authorization"] = wrk.headers["Authorization"]}, body)
end
"""
# each request a new identifier: "<prefix><thread>-<counter>" replaces __ID__ in the body
CREATE_LUA = """-- written by bench/qti_bench.py: POSTs items with fresh identifiers
local template, prefix = BODY, PREFIX
local started, counter, tag = 0, 0, 0
function setup(thread)
  thread:set("tag", started)
  started = started + 1
end
function init(args)
  counter = 0
end
function request()
  counter = counter + 1
  local id = prefix .. tag .. "-" .. counter
  local body = string.gsub(template, "__ID__", id)
  return wrk.format("POST", nil, {["Content-Type"] = "application/json",
                                  ["Authorization"] = wrk.headers["Authorization"]}, body)
end
"""


def _lua(folder: Path, name: str, text: str) -> str:
    path = folder / f"{name}.lua"
    path.write_text(text)
    return str(path)


def _create(base: str, auth: dict, xml: str) -> None:
    status, body = http("POST", f"{base}/assessment-items", {**auth, "Content-Type": "application/json"},
                        json.dumps({"format": "xml", "xml": xml}).encode(), timeout=60)
    if status not in (200, 201):
        raise SystemExit(f"creating a bench item answered {status}: {body[:300]!r}")


def _score_body(base: str, auth: dict, item: str, body: dict) -> float:
    status, text = http("POST", f"{base}/assessment-items/{item}/process-response",
                        {**auth, "Content-Type": "application/json"}, json.dumps(body).encode(), timeout=60)
    if status != 200:
        raise SystemExit(f"process-response on {item} answered {status} before the run: {text[:300]!r}")
    return float(json.loads(text)["score"])


def _count(base: str) -> int:
    status, body = http("GET", f"{base}/_sandbox", timeout=60)
    return int(json.loads(body)["counts"].get("assessmentItems", 0)) if status == 200 else -1


def run_cases(base: str, args: argparse.Namespace, folder: Path) -> tuple[list[dict], dict]:
    token = token_for(base)
    auth = {"Authorization": f"Bearer {token}"}
    choice_xml = build_item("choice", CHOICE_ID, "bench choice", random.Random(1))
    _create(base, auth, choice_xml)
    _create(base, auth, gap_match_item(GAP_ID, gaps=10))
    right = choice_xml.split("<qti-correct-response><qti-value>", 1)[1].split("<", 1)[0]
    bodies = {
        CHOICE: (CHOICE_ID, {"identifier": "RESPONSE", "response": right}),
        GAPS: (GAP_ID, {"identifier": "RESPONSE", "response": [f"W{n} G{n}" for n in range(1, 11)]}),
    }
    rows = []
    for case, (item, body) in bodies.items():
        got = _score_body(base, auth, item, body)
        if abs(got - 1.0) > 1e-9:
            raise SystemExit(f"{case}: the full response scored {got}, expected 1")
        url = f"{base}/assessment-items/{item}/process-response"
        script = _lua(folder, item, POST_LUA.replace("BODY", json.dumps(json.dumps(body))))
        print(f"  measuring {case} ...", file=sys.stderr)
        if args.warmup > 0:
            run_wrk(url, token, args.warmup, args.connections, args.threads, script)
        rows.append({"case": case, **run_wrk(url, token, args.duration, args.connections, args.threads, script)})

    template = build_item("choice", "__ID__", "bench create", random.Random(2))
    body = json.dumps({"format": "xml", "xml": template})
    before = _count(base)
    warm = {"requests": 0, "errors": 0}
    print(f"  measuring {CREATE} ...", file=sys.stderr)
    if args.warmup > 0:
        warm = run_wrk(f"{base}/assessment-items", token, args.warmup, args.connections, args.threads,
                       _lua(folder, "create-warm", CREATE_LUA.replace("BODY", json.dumps(body))
                            .replace("PREFIX", json.dumps("warm"))))
    row = run_wrk(f"{base}/assessment-items", token, args.duration, args.connections, args.threads,
                  _lua(folder, "create", CREATE_LUA.replace("BODY", json.dumps(body)).replace("PREFIX", json.dumps("b"))))
    after = _count(base)
    answered = (warm["requests"] - warm["errors"]) + (row["requests"] - row["errors"])
    book = {"stored": after - before, "answered2xx": answered,
            "inFlightAllowance": args.connections * (2 if args.warmup > 0 else 1)}
    rows.append({"case": CREATE, **row})
    return rows, book


def verdicts_for(by: dict[str, dict], book: dict) -> list[tuple[str, bool]]:
    out = [(f"{case} req/s >= {floor:.0f} ({by[case]['rps']:.0f})", by[case]["rps"] >= floor)
           for case, floor in TARGET_RPS.items()]
    out += [(f"{case} answered without errors ({r['errors']} non-2xx/socket errors)", r["errors"] == 0)
            for case, r in by.items()]
    stored, answered, slack = book["stored"], book["answered2xx"], book["inFlightAllowance"]
    out.append((f"{CREATE}: every 2xx stored an item ({stored} stored for {answered} 2xx, up to {slack} more in "
                f"flight at wrk's deadlines)", answered <= stored <= answered + slack))
    return out


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="QTI process-response and item-create throughput (wrk).")
    parser.add_argument("--size", default="district", help="seeded world size (default district)")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per case (default 10)")
    parser.add_argument("--warmup", type=float, default=2.0, help="warm-up seconds per case (default 2)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (default 1: leaves a core to the server)")
    parser.add_argument("--boot-timeout", type=float, default=300.0)
    parser.add_argument("--json", help="also write the figures to this file")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not shutil.which("wrk"):
        print("wrk not found: install it with apt-get install -y wrk (the cases POST through wrk Lua scripts)",
              file=sys.stderr)
        return 2
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="qti-bench-") as tmp, ExitStack() as stack:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        started = time.perf_counter()
        stack.enter_context(child("sandbox", sandbox_command(port, args.size), lambda: token_for(base) is not None,
                                  timeout=args.boot_timeout))
        print(f"sandbox ({args.size}) up in {time.perf_counter() - started:.1f}s on {base}", file=sys.stderr)
        rows, book = run_cases(base, args, Path(tmp))
    by = {r["case"]: r for r in rows}
    print()
    print(f"size {args.size}, {args.connections} connections, {args.duration:.0f}s per case after "
          f"{args.warmup:.0f}s warm-up ({rows[0]['tool']})")
    print(f"{'case':<28} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'requests':>9} {'errors':>7}")
    for r in rows:
        print(f"{r['case']:<28} {r['rps']:>9.0f} {fmt(r['p50'], '8.2f')} {fmt(r['p99'], '8.2f')} "
              f"{r['requests']:>9} {r['errors']:>7}")
    print(f"items stored during the create case (warm-up included): {book['stored']} for {book['answered2xx']} "
          f"2xx answers")
    load = {"before": round(load_before, 2), "after": round(os.getloadavg()[0], 2)}
    print(f"1-minute load average {load['before']:.2f} before the run, {load['after']:.2f} after (the sandbox and "
          f"wrk take about 2){'' if load_before < 1.0 else ': other work was running, the figures understate the sandbox'}")
    verdicts = verdicts_for(by, book)
    print()
    for text, ok in verdicts:
        print(f"{'PASS' if ok else 'FAIL'}  {text}")
    if args.json:
        Path(args.json).write_text(json.dumps({"size": args.size, "connections": args.connections,
                                               "duration": args.duration, "rows": rows, "create": book,
                                               "loadAverage": load,
                                               "verdicts": [{"check": t, "ok": ok} for t, ok in verdicts]}, indent=2))
    return 0 if all(ok for _, ok in verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
