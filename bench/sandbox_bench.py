"""Sandbox HTTP benchmark: throughput and latency of hot read paths, against Prism 5 as a baseline.

Starts ``tbconform mock --size SIZE`` (and ``prism mock`` on the rostering spec) as subprocesses on
free loopback ports, gets a token, and measures requests/s and p50/p99 latency at 32 concurrent
connections with ``wrk --latency`` (falls back to a Python asyncio load generator, which is itself
CPU-bound on a 2-core machine, when wrk is missing) for:

    a) GET one user                 /ims/oneroster/rostering/v1p2/users/{id}
    b) GET users?limit=100
    c) GET users?filter=status='active' AND roles.role='student'    (indexed: status + value table)
    d) GET enrollments?filter=class.sourcedId='…'                    (indexed: class.sourcedId)
    e) GET classes/{id}/students                                    (nested path: via enrollments)

Prism answers every case from the spec's examples (it ignores filters), so each sandbox figure is
printed with its ratio to Prism's in the same run. Targets (issue 7; exit status 1 if one is missed):

    GET one user            >= 1.5x Prism's req/s, p99 < 50 ms, no errors           (every size)
    GET users?limit=100     >= 1.5x Prism's req/s, p99 < 100 ms, no errors          (district)
    c, d, e                 >= 500 req/s on district, >= 300 req/s on large; p99 < 100 ms, no errors

``--profile`` adds a cProfile of each case driven in-process through the ASGI app (no sockets), to
show where the time goes.

Usage: python bench/sandbox_bench.py [--size district|large] [--duration 10] [--warmup 2]
                                     [--connections 32] [--no-prism] [--profile] [--json FILE]
Needs: wrk (``apt-get install -y wrk``) and Node >= 18 for Prism; Prism 5.14 is installed on first use
into bench/.prism/ with ``npm install --prefix bench/.prism @stoplight/prism-cli@5.14``.
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Iterator
from urllib.parse import quote

REPO = Path(__file__).resolve().parents[1]
PRISM_DIR = REPO / "bench" / ".prism"
PRISM_BIN = PRISM_DIR / "node_modules" / ".bin" / "prism"
PRISM_VERSION = "5.14"
ROSTERING = "/ims/oneroster/rostering/v1p2"
CLIENT_ID, CLIENT_SECRET = "tbconform-sandbox", "tbconform-sandbox-secret"
FILTER = "status='active' AND roles.role='student'"
TARGET_RATIO = 1.5
TARGET_P99_MS = 50.0  # GET one user
LIST_P99_MS = 100.0  # every list case
INDEXED_RPS = {"district": 500.0, "large": 300.0}  # the three indexed cases
ONE, LIST, USERS_FILTER, ENROLLMENTS, STUDENTS = (
    "GET one user", "GET users?limit=100", "GET users?filter=…", "GET enrollments?filter=…",
    "GET classes/{id}/students")
INDEXED_CASES = (USERS_FILTER, ENROLLMENTS, STUDENTS)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http(method: str, url: str, headers: dict | None = None, body: bytes | None = None,
         timeout: float = 5.0) -> tuple[int, bytes]:
    import urllib.error
    import urllib.request
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def stop(proc: subprocess.Popen, name: str) -> None:
    """Stop a child we started (its own process group), politely first."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=10)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            print(f"warning: could not stop {name} (pid {proc.pid})", file=sys.stderr)


@contextmanager
def child(name: str, argv: list[str], ready: callable, timeout: float, cwd: Path = REPO) -> Iterator[None]:
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(argv, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                log.seek(0)
                raise SystemExit(f"{name} exited with {proc.returncode}:\n{log.read().decode(errors='replace')[-3000:]}")
            try:
                if ready():
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                log.seek(0)
                raise SystemExit(f"{name} not ready after {timeout:.0f}s:\n{log.read().decode(errors='replace')[-3000:]}")
            time.sleep(0.2)
        yield
    finally:
        stop(proc, name)
        log.close()


def sandbox_command(port: int, size: str) -> list[str]:
    exe = Path(sys.executable).with_name("tbconform")
    if exe.exists():
        return [str(exe), "mock", "--host", "127.0.0.1", "--port", str(port), "--size", size]
    return [sys.executable, "-c", "import sys; from tbconform.harness.cli import main; sys.exit(main())",
            "mock", "--host", "127.0.0.1", "--port", str(port), "--size", size]


def token_for(base: str) -> str | None:
    basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    status, body = http("POST", f"{base}/oauth2/token", {"Authorization": f"Basic {basic}",
                        "Content-Type": "application/x-www-form-urlencoded"}, b"grant_type=client_credentials")
    return json.loads(body)["access_token"] if status == 200 else None


def ensure_prism() -> Path | None:
    if PRISM_BIN.exists():
        return PRISM_BIN
    npm = shutil.which("npm")
    if not npm:
        print("Prism baseline skipped: npm not found (install Node >= 18)", file=sys.stderr)
        return None
    print(f"installing @stoplight/prism-cli@{PRISM_VERSION} into {PRISM_DIR} ...", file=sys.stderr)
    PRISM_DIR.mkdir(parents=True, exist_ok=True)
    try:
        done = subprocess.run([npm, "install", "--prefix", str(PRISM_DIR), f"@stoplight/prism-cli@{PRISM_VERSION}",
                               "--no-audit", "--no-fund", "--loglevel", "error"],
                              capture_output=True, text=True, timeout=600)
    except subprocess.TimeoutExpired:
        print("Prism baseline skipped: npm install timed out", file=sys.stderr)
        return None
    if done.returncode != 0 or not PRISM_BIN.exists():
        print(f"Prism baseline skipped: npm install failed:\n{done.stderr[-1500:]}", file=sys.stderr)
        return None
    return PRISM_BIN


# ── load generation ──────────────────────────────────────────────────────────────────────────

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if not match:
        raise ValueError(f"unparsable wrk latency {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def run_wrk(url: str, token: str, duration: float, connections: int, threads: int,
            script: str | None = None) -> dict:
    """One wrk run; `script` (a Lua file) lets a run vary its requests (paths, method, body)."""
    argv = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(duration))}s", "--latency",
            "--timeout", "5s", "-H", f"Authorization: Bearer {token}", *(["-s", script] if script else []), url]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 30).stdout
    return parse_wrk(out, f"wrk -t{threads} -c{connections}")


def parse_wrk(out: str, tool: str) -> dict:
    """req/s, p50/p99 (ms), requests and errors (non-2xx/3xx plus socket errors) from `wrk --latency`."""
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    pct = {p: _ms(v) for p, v in re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", out, re.M)}
    total = int(re.search(r"(\d+) requests in", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = (int(non2xx.group(1)) if non2xx else 0) + (sum(int(x) for x in sock.groups()) if sock else 0)
    return {"rps": rps, "p50": pct.get("50"), "p99": pct.get("99"), "requests": total, "errors": errors,
            "tool": tool}


async def _read_response(reader: asyncio.StreamReader) -> int:
    """Read one HTTP/1.1 response (Content-Length or chunked); return its status."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    fields = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
    if "content-length" in fields:
        await reader.readexactly(int(fields["content-length"]))
    elif fields.get("transfer-encoding", "").lower() == "chunked":
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    return status


async def _pyload(url: str, token: str, duration: float, connections: int) -> dict:
    """Keep-alive HTTP/1.1 load over raw asyncio streams (much cheaper per request than httpx)."""
    from urllib.parse import urlsplit
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    request = (f"GET {target} HTTP/1.1\r\nHost: {parts.netloc}\r\nAuthorization: Bearer {token}\r\n"
               f"Accept: application/json\r\n\r\n").encode()
    latencies: list[float] = []
    errors = 0
    end = time.perf_counter() + duration

    async def worker() -> None:
        nonlocal errors
        reader = writer = None
        while time.perf_counter() < end:
            start = time.perf_counter()
            try:
                if writer is None:
                    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
                writer.write(request)
                status = await asyncio.wait_for(_read_response(reader), timeout=5)
                if status >= 300:
                    errors += 1
            except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError, ValueError):
                errors += 1
                if writer is not None:
                    writer.close()
                reader = writer = None
            latencies.append((time.perf_counter() - start) * 1000)
        if writer is not None:
            writer.close()

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    elapsed = time.perf_counter() - began
    latencies.sort()
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] if latencies else None  # noqa: E731
    return {"rps": len(latencies) / elapsed, "p50": pick(0.50), "p99": pick(0.99), "requests": len(latencies),
            "errors": errors, "tool": f"python asyncio streams c{connections} (CPU-bound on the client side)"}


def measure(url: str, token: str, args: argparse.Namespace, script: str | None = None) -> dict:
    """Warm up, then measure; a wrk Lua `script` needs wrk (the Python load sends `url` only)."""
    if script and not args.wrk:
        raise SystemExit("this case needs wrk (a Lua script varies its requests): apt-get install -y wrk")
    if args.warmup > 0:
        if args.wrk:
            run_wrk(url, token, args.warmup, args.connections, args.threads, script)
        else:
            asyncio.run(_pyload(url, token, args.warmup, args.connections))
    if args.wrk:
        return run_wrk(url, token, args.duration, args.connections, args.threads, script)
    return asyncio.run(_pyload(url, token, args.duration, args.connections))


# ── the cases ────────────────────────────────────────────────────────────────────────────────

def pick_cases(get) -> list[tuple[str, str, str]]:
    """(label, path, query) of every case; `get(path, query)` answers (status, body) from the sandbox.

    The user is one from the middle of the listing; the class is the first of the listing that has
    students (so the nested path answers a real roster).
    """
    status, body = get(f"{ROSTERING}/users", "limit=1&offset=500")
    if status != 200:
        raise SystemExit(f"sandbox GET users failed: {status} {body[:300]!r}")
    user = json.loads(body)["users"][0]["sourcedId"]
    status, body = get(f"{ROSTERING}/classes", "limit=50&offset=0")
    klass = None
    for candidate in json.loads(body)["classes"]:
        got, roster = get(f"{ROSTERING}/classes/{candidate['sourcedId']}/students", "limit=1")
        if got == 200 and json.loads(roster).get("totalCount"):
            klass = candidate["sourcedId"]
            break
    if klass is None:
        raise SystemExit("no class with students among the first 50")
    return [(ONE, f"{ROSTERING}/users/{user}", ""),
            (LIST, f"{ROSTERING}/users", "limit=100"),
            (USERS_FILTER, f"{ROSTERING}/users", "filter=" + quote(FILTER, safe="")),
            (ENROLLMENTS, f"{ROSTERING}/enrollments", "filter=" + quote(f"class.sourcedId='{klass}'", safe="")),
            (STUDENTS, f"{ROSTERING}/classes/{klass}/students", "")]


# ── in-process profile of the GET-one-user path ──────────────────────────────────────────────

def asgi_caller(app) -> callable:
    """`await call(method, path, headers, body, query)` -> (status, body): one request through an
    ASGI app in-process (no sockets, no uvicorn), for profiling."""
    async def call(method: str, path: str, headers: list[tuple[bytes, bytes]], body: bytes = b"",
                   query: bytes = b"") -> tuple[int, bytes]:
        sent: list[dict] = []

        async def receive() -> dict:
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict) -> None:
            sent.append(message)

        scope = {"type": "http", "method": method, "path": path, "raw_path": path.encode(), "query_string": query,
                 "headers": [(b"host", b"127.0.0.1:8765"), *headers], "scheme": "http",
                 "server": ("127.0.0.1", 8765), "http_version": "1.1"}
        await app(scope, receive, send)
        return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])

    return call


def profile_cases(size: str, requests: int, top: int) -> list[dict]:
    """Drive the ASGI app in-process (no sockets, no uvicorn) and cProfile each hot path."""
    import cProfile
    import io
    import pstats

    sys.path.insert(0, str(REPO))
    from tbconform.mocks.app import SandboxApp
    from tbconform.mocks.sandbox import Sandbox, SandboxConfig

    call = asgi_caller(SandboxApp(Sandbox(SandboxConfig(size=size))))
    basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode())
    loop = asyncio.new_event_loop()
    out = []
    try:
        status, body = loop.run_until_complete(call("POST", "/oauth2/token", [
            (b"authorization", b"Basic " + basic), (b"content-type", b"application/x-www-form-urlencoded")],
            b"grant_type=client_credentials"))
        assert status == 200, body
        auth = [(b"authorization", b"Bearer " + json.loads(body)["access_token"].encode())]
        found = pick_cases(lambda path, query: loop.run_until_complete(call("GET", path, auth, query=query.encode())))
        cases = [(label, path, query.encode(), requests if label == ONE else max(20, requests // 10))
                 for label, path, query in found]
        for label, path, query, n in cases:
            async def burst(count: int, path: str = path, query: bytes = query) -> None:
                for _ in range(count):
                    got, _body = await call("GET", path, auth, query=query)
                    if got != 200:
                        raise RuntimeError(f"GET {path}?{query.decode()} -> {got}: {_body[:200]!r}")

            loop.run_until_complete(burst(max(2, n // 10)))  # warm caches
            t0 = time.perf_counter()
            loop.run_until_complete(burst(n))
            plain_us = (time.perf_counter() - t0) / n * 1e6
            profiler = cProfile.Profile()
            profiler.enable()
            loop.run_until_complete(burst(n))
            profiler.disable()
            text = io.StringIO()
            stats = pstats.Stats(profiler, stream=text)
            stats.sort_stats("tottime").print_stats(top)
            out.append({"case": label, "requests": n, "app_us_per_request": round(plain_us, 1),
                        "profile": text.getvalue()})
    finally:
        loop.close()
    return out


# ── main ─────────────────────────────────────────────────────────────────────────────────────

def fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="sandbox vs Prism HTTP benchmark")
    parser.add_argument("--size", default="district", help="seed size: district or large (targets are set for these)")
    parser.add_argument("--boot-timeout", type=float, default=None,
                        help="seconds to wait for the sandbox to seed (default 180, 900 for large)")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per measurement")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up before each")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (1 leaves a core to the server)")
    parser.add_argument("--no-prism", action="store_true")
    parser.add_argument("--python-load", action="store_true", help="use the Python load generator even with wrk")
    parser.add_argument("--profile", action="store_true", help="also cProfile each case in-process (ASGI app, no sockets)")
    parser.add_argument("--profile-requests", type=int, default=3000)
    parser.add_argument("--profile-top", type=int, default=20)
    parser.add_argument("--profile-only", action="store_true", help="only the in-process profile, no HTTP runs")
    parser.add_argument("--json", help="write the figures here as JSON")
    args = parser.parse_args(argv)
    if args.boot_timeout is None:
        args.boot_timeout = 900.0 if args.size == "large" else 180.0

    if args.profile_only:
        for prof in profile_cases(args.size, args.profile_requests, args.profile_top):
            print(f"\nin-process {prof['case']}: {prof['app_us_per_request']:.0f} µs/request\n{prof['profile']}")
        return 0
    args.wrk = bool(shutil.which("wrk")) and not args.python_load
    if not shutil.which("wrk"):
        print("wrk not found; using the Python load generator (CPU-bound: it competes with the server for the "
              "2 cores and understates both). Install wrk with: apt-get install -y wrk", file=sys.stderr)

    rows: list[dict] = []
    with ExitStack() as stack:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        t0 = time.perf_counter()
        stack.enter_context(child("sandbox", sandbox_command(port, args.size), lambda: token_for(base) is not None,
                                  timeout=args.boot_timeout))
        boot = time.perf_counter() - t0
        token = token_for(base)
        auth = {"Authorization": f"Bearer {token}"}
        cases = pick_cases(lambda path, query: http("GET", f"{base}{path}?{query}", auth, timeout=60))
        print(f"sandbox ({args.size}) up in {boot:.1f}s on {base}", file=sys.stderr)
        for name, path, query in cases:
            url = f"{base}{path}" + (f"?{query}" if query else "")
            status, body = http("GET", url, auth, timeout=60)  # also fills the count memo, as a client's first page would
            if status != 200:
                raise SystemExit(f"{name}: sandbox answered {status} before the run: {body[:300]!r}")
            total = json.loads(body).get("totalCount")
            print(f"  measuring sandbox {name}" + (f" ({total} matching)" if total is not None else "") + " ...",
                  file=sys.stderr)
            rows.append({"target": "sandbox", "case": name, **measure(url, token, args)})
        stack.close()  # stop the sandbox before Prism runs: both get the machine to themselves

        prism = None if args.no_prism else ensure_prism()
        if prism is not None and shutil.which("node"):
            pport = free_port()
            pbase = f"http://127.0.0.1:{pport}"
            argv = [str(prism), "mock", "-h", "127.0.0.1", "-p", str(pport), "--errors", "false",
                    str(REPO / "specs" / "oneroster" / "rostering.yaml")]
            probe = f"{pbase}{ROSTERING}/users/any-user-id"
            stack.enter_context(child("prism", argv, lambda: http("GET", probe, auth, timeout=2)[0] > 0, timeout=120))
            for name, path, query in cases:
                url = f"{pbase}{path}" + (f"?{query}" if query else "")
                status, body = http("GET", url, auth)
                if status != 200:
                    print(f"  warning: prism answered {status} to {name}: {body[:200]!r}", file=sys.stderr)
                print(f"  measuring prism {name} ...", file=sys.stderr)
                rows.append({"target": "prism", "case": name, **measure(url, token, args)})

    by = {(r["target"], r["case"]): r for r in rows}

    def ratio(case: str) -> float | None:
        mine, theirs = by.get(("sandbox", case)), by.get(("prism", case))
        return mine["rps"] / theirs["rps"] if mine and theirs and theirs["rps"] else None

    print()
    print(f"size {args.size}, {args.connections} connections")
    print(f"{'case':<26} {'target':<8} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}  vs prism (req/s)")
    for r in rows:
        shown = ratio(r["case"]) if r["target"] == "sandbox" else None
        print(f"{r['case']:<26} {r['target']:<8} {r['rps']:>9.0f} {fmt(r['p50'], '8.2f')} {fmt(r['p99'], '8.2f')} "
              f"{r['errors']:>7}  {'' if shown is None else f'{shown:.2f}x'}")
    print(f"(load: {rows[0]['tool']}, {args.duration:.0f}s per case after {args.warmup:.0f}s warm-up)")

    verdicts: list[tuple[str, bool | None]] = []

    def versus_prism(case: str) -> None:
        got = ratio(case)
        if got is None:
            verdicts.append((f"{case} req/s >= {TARGET_RATIO}x Prism (no Prism figure: not checked)", None))
        else:
            verdicts.append((f"{case} req/s >= {TARGET_RATIO}x Prism ({got:.2f}x)", got >= TARGET_RATIO))

    def p99_below(case: str, limit: float) -> None:
        r = by[("sandbox", case)]
        verdicts.append((f"{case} p99 < {limit:.0f} ms ({fmt(r['p99'], '.2f')} ms)",
                         r["p99"] is not None and r["p99"] < limit))

    def no_errors(case: str) -> None:
        r = by[("sandbox", case)]
        verdicts.append((f"{case} answered without errors ({r['errors']} non-2xx/socket errors)", r["errors"] == 0))

    versus_prism(ONE)
    p99_below(ONE, TARGET_P99_MS)
    no_errors(ONE)
    if args.size == "district":
        versus_prism(LIST)
        p99_below(LIST, LIST_P99_MS)
        no_errors(LIST)
    floor = INDEXED_RPS.get(args.size)
    for case in INDEXED_CASES:
        r = by[("sandbox", case)]
        if floor is not None:
            verdicts.append((f"{case} req/s >= {floor:.0f} ({r['rps']:.0f})", r["rps"] >= floor))
        p99_below(case, LIST_P99_MS)
        no_errors(case)
    print()
    for text, ok in verdicts:
        print(f"{'SKIP' if ok is None else 'PASS' if ok else 'FAIL'}  {text}")
    for r in rows:
        if r["errors"] and r["target"] == "prism":
            print(f"NOTE  prism {r['case']}: {r['errors']} non-2xx or socket errors")

    result: dict = {"size": args.size, "rows": rows, "verdicts": [{"check": t, "ok": ok} for t, ok in verdicts]}
    if args.profile:
        result["profile"] = []
        for prof in profile_cases(args.size, args.profile_requests, args.profile_top):
            print(f"\nin-process {prof['case']} (ASGI app only, no sockets): {prof['app_us_per_request']:.0f} µs/request"
                  f" = {1e6 / prof['app_us_per_request']:.0f} req/s ceiling on one core; top functions by own time:")
            print(prof["profile"])
            result["profile"].append({k: v for k, v in prof.items() if k != "profile"})
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))
    return 0 if all(ok is not False for _, ok in verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
