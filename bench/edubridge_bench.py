"""EduBridge benchmark: analytics reads and course enrollment against the seeded district sandbox.

Starts ``tbconform mock --size SIZE`` (the default 4 school weeks of seeded Caliper history) on a
free loopback port, gets a token, and measures requests/s and p50/p99 latency with ``wrk --latency``
at 32 connections for:

    a) GET /edubridge/analytics/activity?studentId=…&startDate=…&endDate=…&timezone=America/Chicago
       the 30 days up to the history's last day (fixtures/caliper.py ``HISTORY_END``, 2026-05-29),
       rotating over ``--students`` seeded students spread evenly through the roster;
    b) GET /edubridge/analytics/facts/weekly?studentId=…&weekDate=…&timezone=America/Chicago
       rotating over the same students and the Wednesdays of the seeded weeks;
    c) POST /edubridge/enrollments/enroll/{userId}/{courseId} with ``{}`` (what the official client
       sends without options), cycling over distinct (student, course) pairs, so that every request
       really creates an enrollment (enrolling a pair again is idempotent, hence cheaper and not
       what is measured). The warm-up and the measurement use disjoint pairs, and the stored
       enrollment count is read back: it must grow by the number of 2xx answers.

Dates are sent as timeback-edubridge 0.4.0 sends them: a bare day with a timezone becomes the UTC
instant of that local midnight (startDate, weekDate) or of 23:59:59.999 (endDate); ``--bare-dates``
sends the bare days instead. The Lua scripts that rotate the requests are written to a temporary
folder.

It also boots the sandbox once with ``--history-weeks 0``: the difference between the two boots
(time from process start until the sandbox answers a token request) is what seeding the history
costs, printed with the number of seeded events.

Targets (exit status 1 if one is missed):

    activity        >= 300 req/s, p99 < 100 ms, no errors
    weekly facts    >= 300 req/s, no errors
    enroll          >= 200 req/s, no errors (non-2xx answers count as errors), every 2xx stored

``--profile`` adds a cProfile of each case driven in-process through the ASGI app (no sockets).

Usage: python bench/edubridge_bench.py [--size district] [--duration 10] [--warmup 2]
                                       [--connections 32] [--students 32] [--json FILE] [--profile]
Needs: wrk (``apt-get install -y wrk``): the cases rotate their requests with wrk Lua scripts.
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import itertools
import json
import os
import shutil
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import date, datetime, time as clock, timedelta, timezone
from pathlib import Path
from typing import Callable
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
from sandbox_bench import (CLIENT_ID, CLIENT_SECRET, ROSTERING, asgi_caller, child, fmt, free_port,  # noqa: E402
                           http, measure, run_wrk, sandbox_command, token_for)

from tbconform.fixtures.caliper import HISTORY_END, TIMEZONE, history_days  # noqa: E402
from tbconform.fixtures.world import SIZES  # noqa: E402

EDUBRIDGE = "/edubridge"
ACTIVITY, WEEKLY, ENROLL = "GET analytics/activity", "GET analytics/facts/weekly", "POST enrollments/enroll"
ACTIVITY_DAYS = 30                 # startDate is this many days before HISTORY_END
DEFAULT_HISTORY_WEEKS = 4          # `tbconform mock`'s default, the world the targets are set for
TARGET_RPS = {ACTIVITY: 300.0, WEEKLY: 300.0, ENROLL: 200.0}
TARGET_P99_MS = {ACTIVITY: 100.0}
ENROLL_RATE_CEILING = 2000.0       # pairs are prepared for this many req/s (more would repeat pairs)
Getter = Callable[[str, str], tuple[int, bytes]]   # (path, query) -> (status, body)


# ── what the requests ask for ────────────────────────────────────────────────────────────────

def client_instant(day: date, at: clock, zone: str) -> str:
    """The UTC instant timeback-edubridge sends for a bare day + timezone (utils._bare_date_to_utc)."""
    local = datetime.combine(day, at, tzinfo=ZoneInfo(zone))
    return local.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _listing(get: Getter, path: str, query: str) -> dict:
    status, body = get(path, query)
    if status != 200:
        raise SystemExit(f"sandbox GET {path}?{query} failed: {status} {body[:300]!r}")
    return json.loads(body)


def pick_students(get: Getter, count: int) -> list[str]:
    """`count` students spread evenly through the roster's student listing (deterministic)."""
    student = "filter=" + quote("roles.role='student'", safe="")
    total = _listing(get, f"{ROSTERING}/users", f"{student}&limit=1")["totalCount"]
    if not total:
        raise SystemExit("the sandbox has no students")
    offsets = sorted({i * total // count for i in range(min(count, total))})
    return [_listing(get, f"{ROSTERING}/users", f"{student}&limit=1&offset={o}")["users"][0]["sourcedId"]
            for o in offsets]


def analytics_paths(students: list[str], bare: bool) -> tuple[list[str], list[str]]:
    """Request paths (with query) of the activity and weekly cases, one or more per student."""
    first = HISTORY_END - timedelta(days=ACTIVITY_DAYS)
    if bare:
        start, end = first.isoformat(), HISTORY_END.isoformat()
    else:
        start = client_instant(first, clock(0, 0), TIMEZONE)
        end = client_instant(HISTORY_END, clock(23, 59, 59, 999000), TIMEZONE)
    wednesdays = sorted({d - timedelta(days=d.weekday() - 2) for d in history_days(DEFAULT_HISTORY_WEEKS)})
    activity = [f"{EDUBRIDGE}/analytics/activity?" + urlencode(
        {"studentId": s, "startDate": start, "endDate": end, "timezone": TIMEZONE}) for s in students]
    weekly = [f"{EDUBRIDGE}/analytics/facts/weekly?" + urlencode(
        {"studentId": s, "weekDate": day.isoformat() if bare else client_instant(day, clock(0, 0), TIMEZONE),
         "timezone": TIMEZONE}) for s in students for day in wednesdays]
    return activity, weekly


def enroll_pairs(get: Getter, count: int) -> list[str]:
    """`count` distinct enroll paths: student i % S in course (i // S + 7 * (i % S)) % C, so a
    student's courses differ until every course is taken (count <= S * C)."""
    student = "filter=" + quote("roles.role='student'", safe="")
    students: list[str] = []
    while len(students) < count:
        page = _listing(get, f"{ROSTERING}/users", f"{student}&limit=3000&offset={len(students)}")["users"]
        if not page:
            break
        students += [u["sourcedId"] for u in page]
    courses = [c["sourcedId"] for c in _listing(get, f"{ROSTERING}/courses", "limit=3000")["courses"]
               if c.get("status", "active") == "active"]
    if not students or not courses:
        raise SystemExit("the sandbox needs students and courses for the enroll case")
    count = min(count, len(students) * len(courses))
    size = len(students)
    return [f"{EDUBRIDGE}/enrollments/enroll/{quote(students[i % size], safe='')}/"
            f"{quote(courses[(i // size + 7 * (i % size)) % len(courses)], safe='')}" for i in range(count)]


# ── wrk Lua scripts that rotate the requests ─────────────────────────────────────────────────

LUA = """-- written by bench/edubridge_bench.py: cycles over the request paths of PATHS_FILE
local paths = {}
for line in io.lines("PATHS_FILE") do paths[#paths + 1] = line end
local method, body, stride = "METHOD", BODY, THREADS
local started, counter, headers = 0, 0, nil

function setup(thread)            -- main state: give each thread its own starting index
  thread:set("first", started)
  started = started + 1
end

function init(args)
  counter = first or 0
  headers = {}
  for name, value in pairs(wrk.headers) do headers[name] = value end  -- keeps -H Authorization
  if body then headers["Content-Type"] = "application/json" end
end

function request()
  local path = paths[counter % #paths + 1]
  counter = counter + stride
  return wrk.format(method, path, headers, body)
end
"""


def lua_script(folder: Path, name: str, paths: list[str], threads: int, method: str = "GET",
               body: str | None = None) -> str:
    """Write the paths and a wrk script cycling over them (thread t sends t, t + threads, ...)."""
    listing = folder / f"{name}.paths"
    listing.write_text("\n".join(paths) + "\n")
    script = folder / f"{name}.lua"
    script.write_text(LUA.replace("PATHS_FILE", str(listing)).replace("METHOD", method)
                      .replace("BODY", "nil" if body is None else json.dumps(body)).replace("THREADS", str(threads)))
    return str(script)


# ── sandbox boots ────────────────────────────────────────────────────────────────────────────

def sandbox_info(base: str) -> dict:
    status, body = http("GET", f"{base}/_sandbox", timeout=30)
    if status != 200:
        raise SystemExit(f"GET /_sandbox answered {status}")
    return json.loads(body)


def boot(stack: ExitStack, size: str, weeks: int, timeout: float) -> tuple[str, float, dict]:
    """Start a sandbox on `stack`; (base URL, seconds until it answered a token request, counts)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    started = time.perf_counter()
    stack.enter_context(child(f"sandbox (history {weeks} weeks)", sandbox_command(port, size) +
                              ["--history-weeks", str(weeks)], lambda: token_for(base) is not None, timeout=timeout))
    return base, time.perf_counter() - started, sandbox_info(base)["counts"]


# ── in-process profile ───────────────────────────────────────────────────────────────────────

def profile_cases(size: str, requests: int, students: int, top: int, bare: bool) -> list[dict]:
    """cProfile each case driven through the ASGI app in-process (no sockets, no uvicorn)."""
    import cProfile
    import io
    import pstats

    from tbconform.mocks.app import SandboxApp
    from tbconform.mocks.sandbox import Sandbox, SandboxConfig

    call = asgi_caller(SandboxApp(Sandbox(SandboxConfig(size=size))))
    loop = asyncio.new_event_loop()
    basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode())
    out = []
    try:
        status, body = loop.run_until_complete(call("POST", "/oauth2/token", [
            (b"authorization", b"Basic " + basic), (b"content-type", b"application/x-www-form-urlencoded")],
            b"grant_type=client_credentials"))
        assert status == 200, body
        auth = [(b"authorization", b"Bearer " + json.loads(body)["access_token"].encode())]
        get = lambda path, query: loop.run_until_complete(call("GET", path, auth, query=query.encode()))  # noqa: E731
        activity, weekly = analytics_paths(pick_students(get, students), bare)
        wanted = 2 * requests + max(2, requests // 10)  # warm-up, timed and profiled bursts
        fresh = enroll_pairs(get, wanted)
        if len(fresh) < wanted:
            print(f"note: only {len(fresh)} distinct (student, course) pairs for {wanted} profiled enrollments: "
                  "the rest enroll again (idempotent, cheaper)", file=sys.stderr)
        pairs = itertools.cycle(fresh)
        json_body = [*auth, (b"content-type", b"application/json")]
        cases: list[tuple[str, str, Callable[[int], tuple[str, bytes, list]]]] = [
            (ACTIVITY, "GET", lambda i: (activity[i % len(activity)], b"", auth)),
            (WEEKLY, "GET", lambda i: (weekly[i % len(weekly)], b"", auth)),
            (ENROLL, "POST", lambda i: (next(pairs), b"{}", json_body)),
        ]
        for label, method, nth in cases:
            async def burst(count: int, method: str = method, nth=nth) -> None:
                for i in range(count):
                    target, payload, headers = nth(i)
                    path, _, query = target.partition("?")
                    got, answer = await call(method, path, headers, payload, query.encode())
                    if got >= 300:
                        raise RuntimeError(f"{method} {target} -> {got}: {answer[:200]!r}")

            loop.run_until_complete(burst(max(2, requests // 10)))  # warm caches
            began = time.perf_counter()
            loop.run_until_complete(burst(requests))
            plain_us = (time.perf_counter() - began) / requests * 1e6
            profiler = cProfile.Profile()
            profiler.enable()
            loop.run_until_complete(burst(requests))
            profiler.disable()
            text = io.StringIO()
            pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(top)
            out.append({"case": label, "requests": requests, "app_us_per_request": round(plain_us, 1),
                        "profile": text.getvalue()})
    finally:
        loop.close()
    return out


# ── main ─────────────────────────────────────────────────────────────────────────────────────

def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="EduBridge sandbox benchmark: analytics activity and weekly facts reads and course "
                    "enrollment writes (wrk), plus the seeding cost of the activity history. Prints a table "
                    "and PASS/FAIL per target; exit status 1 when a target is missed.")
    parser.add_argument("--size", default="district", choices=sorted(SIZES),
                        help="seed size (default district: the targets are set for it)")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per measurement (default 10)")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up before each (default 2)")
    parser.add_argument("--connections", type=int, default=32, help="concurrent connections (default 32)")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (default 1: leaves a core to the server)")
    parser.add_argument("--students", type=int, default=32,
                        help="seeded students the analytics cases rotate over (default 32)")
    parser.add_argument("--bare-dates", action="store_true",
                        help="send bare YYYY-MM-DD dates, not the UTC instants the official client sends")
    parser.add_argument("--no-seed-compare", action="store_true",
                        help="skip the extra boot with --history-weeks 0 (no seeding-cost figure)")
    parser.add_argument("--boot-timeout", type=float, default=None,
                        help="seconds to wait for a sandbox to seed (default 240, 900 for large)")
    parser.add_argument("--profile", action="store_true", help="also cProfile each case in-process (ASGI app)")
    parser.add_argument("--profile-only", action="store_true", help="only the in-process profile, no HTTP runs")
    parser.add_argument("--profile-requests", type=int, default=1000, help="requests per profiled case")
    parser.add_argument("--profile-top", type=int, default=25, help="functions shown per profile")
    parser.add_argument("--json", help="write the figures here as JSON")
    args = parser.parse_args(argv)
    if args.boot_timeout is None:
        args.boot_timeout = 900.0 if args.size == "large" else 240.0
    if args.students < 1 or args.connections < 1 or args.threads < 1 or args.duration <= 0:
        parser.error("--students, --connections, --threads and --duration must be positive")
    args.wrk = True
    return args


def print_profiles(args: argparse.Namespace) -> list[dict]:
    found = profile_cases(args.size, args.profile_requests, args.students, args.profile_top, args.bare_dates)
    for prof in found:
        print(f"\nin-process {prof['case']} (ASGI app only, no sockets): {prof['app_us_per_request']:.0f} µs/request"
              f" = {1e6 / prof['app_us_per_request']:.0f} req/s ceiling on one core; top functions by own time:")
        print(prof["profile"])
    return [{k: v for k, v in prof.items() if k != "profile"} for prof in found]


def run_cases(base: str, args: argparse.Namespace, folder: Path) -> tuple[list[dict], dict]:
    """Measure the three cases on a running sandbox; (rows, enroll bookkeeping)."""
    token = token_for(base)
    auth = {"Authorization": f"Bearer {token}"}
    get: Getter = lambda path, query: http("GET", f"{base}{path}?{query}", auth, timeout=60)  # noqa: E731
    activity, weekly = analytics_paths(pick_students(get, args.students), args.bare_dates)
    for name, paths in ((ACTIVITY, activity), (WEEKLY, weekly)):
        status, body = http("GET", base + paths[0], auth, timeout=60)
        if status != 200:
            raise SystemExit(f"{name}: sandbox answered {status} before the run: {body[:300]!r}")
        if not json.loads(body).get("facts"):
            raise SystemExit(f"{name}: no facts for {paths[0]}: is the history seeded? {body[:300]!r}")
    rows = []
    for name, paths, label in ((ACTIVITY, activity, "activity"), (WEEKLY, weekly, "weekly")):
        print(f"  measuring {name} ({len(paths)} rotating requests) ...", file=sys.stderr)
        script = lua_script(folder, label, paths, args.threads)
        rows.append({"case": name, "rotating": len(paths), **measure(base + paths[0], token, args, script)})

    warm_n = int(ENROLL_RATE_CEILING * args.warmup) + 1
    pairs = enroll_pairs(get, warm_n + int(ENROLL_RATE_CEILING * args.duration) + 1)
    warm, timed = pairs[:warm_n], pairs[warm_n:]
    before = sandbox_info(base)["counts"].get("enrollments", 0)
    print(f"  measuring {ENROLL} ({len(timed)} fresh (student, course) pairs) ...", file=sys.stderr)
    if args.warmup > 0:
        warmed = run_wrk(base + warm[0], token, args.warmup, args.connections, args.threads,
                         lua_script(folder, "enroll-warmup", warm, args.threads, "POST", "{}"))
    else:
        warmed = {"requests": 0, "errors": 0}
    row = run_wrk(base + timed[0], token, args.duration, args.connections, args.threads,
                  lua_script(folder, "enroll", timed, args.threads, "POST", "{}"))
    after = sandbox_info(base)["counts"].get("enrollments", 0)
    answered_2xx = (warmed["requests"] - warmed["errors"]) + (row["requests"] - row["errors"])
    # wrk stops counting at the deadline with up to one request per connection still in flight: the
    # server completes (and stores) those too, so `stored` may exceed the 2xx count by that much.
    in_flight = args.connections * (2 if args.warmup > 0 else 1)
    book = {"stored": after - before, "answered2xx": answered_2xx, "inFlightAllowance": in_flight,
            "pairsExhausted": warmed["requests"] + args.connections > len(warm)
            or row["requests"] + args.connections > len(timed)}
    rows.append({"case": ENROLL, "rotating": len(timed), **row})
    return rows, book


def verdicts_for(by: dict[str, dict], book: dict) -> list[tuple[str, bool]]:
    out: list[tuple[str, bool]] = []
    for case, floor in TARGET_RPS.items():
        r = by[case]
        out.append((f"{case} req/s >= {floor:.0f} ({r['rps']:.0f})", r["rps"] >= floor))
        if case in TARGET_P99_MS:
            limit = TARGET_P99_MS[case]
            out.append((f"{case} p99 < {limit:.0f} ms ({fmt(r['p99'], '.2f')} ms)",
                        r["p99"] is not None and r["p99"] < limit))
        out.append((f"{case} answered without errors ({r['errors']} non-2xx/socket errors)", r["errors"] == 0))
    stored, answered, slack = book["stored"], book["answered2xx"], book["inFlightAllowance"]
    out.append((f"{ENROLL} every 2xx stored a new enrollment ({stored} stored for {answered} 2xx, up to "
                f"{slack} more in flight at wrk's deadline{'; pairs repeated' if book['pairsExhausted'] else ''})",
                answered <= stored <= answered + slack and not book["pairsExhausted"]))
    return out


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.profile_only:
        print_profiles(args)
        return 0
    if not shutil.which("wrk"):
        print("wrk not found: install it with apt-get install -y wrk (the cases rotate requests with wrk Lua "
              "scripts)", file=sys.stderr)
        return 2

    load_before = os.getloadavg()[0]
    seeding: dict = {}
    with tempfile.TemporaryDirectory(prefix="edubridge-bench-") as tmp, ExitStack() as outer:
        if not args.no_seed_compare:
            with ExitStack() as stack:
                _base, seconds, counts = boot(stack, args.size, 0, args.boot_timeout)
            seeding["bootSecondsNoHistory"] = round(seconds, 2)
            print(f"sandbox ({args.size}, --history-weeks 0) up in {seconds:.1f}s", file=sys.stderr)
        base, seconds, counts = boot(outer, args.size, DEFAULT_HISTORY_WEEKS, args.boot_timeout)
        seeding.update(bootSeconds=round(seconds, 2), historyWeeks=DEFAULT_HISTORY_WEEKS,
                       seededEvents=counts.get("caliperEvents", 0))
        if "bootSecondsNoHistory" in seeding:
            seeding["historySeconds"] = round(seconds - seeding["bootSecondsNoHistory"], 2)
        print(f"sandbox ({args.size}, {DEFAULT_HISTORY_WEEKS} weeks of history) up in {seconds:.1f}s on {base}",
              file=sys.stderr)
        rows, book = run_cases(base, args, Path(tmp))

    by = {r["case"]: r for r in rows}
    print()
    print(f"size {args.size}, {args.connections} connections, {args.duration:.0f}s per case after "
          f"{args.warmup:.0f}s warm-up ({rows[0]['tool']})")
    print(f"{'case':<28} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'requests':>9} {'errors':>7}  rotating over")
    for r in rows:
        print(f"{r['case']:<28} {r['rps']:>9.0f} {fmt(r['p50'], '8.2f')} {fmt(r['p99'], '8.2f')} "
              f"{r['requests']:>9} {r['errors']:>7}  {r['rotating']} requests")
    print(f"enrollments stored during the enroll case (warm-up included): {book['stored']} for "
          f"{book['answered2xx']} 2xx answers (+ at most {book['inFlightAllowance']} in flight at wrk's deadlines)")
    print(f"seeded events: {seeding['seededEvents']} ({DEFAULT_HISTORY_WEEKS} school weeks); boot "
          f"{seeding['bootSeconds']:.1f}s" + (f" vs {seeding['bootSecondsNoHistory']:.1f}s with --history-weeks 0: "
                                                f"history adds {seeding['historySeconds']:.1f}s"
                                                if "historySeconds" in seeding else ""))
    load = {"before": round(load_before, 2), "after": round(os.getloadavg()[0], 2)}
    print(f"1-minute load average {load['before']:.2f} before the run, {load['after']:.2f} after (the sandbox and "
          f"wrk take about 2){'' if load_before < 1.0 else ': other work was running, the figures understate the sandbox'}")
    verdicts = verdicts_for(by, book)
    print()
    for text, ok in verdicts:
        print(f"{'PASS' if ok else 'FAIL'}  {text}")

    result: dict = {"size": args.size, "connections": args.connections, "duration": args.duration,
                    "warmup": args.warmup, "bareDates": args.bare_dates, "seeding": seeding, "rows": rows,
                    "enroll": book, "loadAverage": load, "verdicts": [{"check": t, "ok": ok} for t, ok in verdicts]}
    if args.profile:
        result["profile"] = print_profiles(args)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))
    return 0 if all(ok for _, ok in verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
