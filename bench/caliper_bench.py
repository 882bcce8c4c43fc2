"""Caliper benchmark: sustained ingestion, its cost floor, the offline validator, webhook latency.

Starts ``tbconform mock --api caliper`` as a subprocess on a free loopback port, gets a token and
measures, in one run:

    a) sustained ingestion, events/s, of envelopes of 1 and of 100 Timeback-profile ActivityEvents
       (every event a fresh id, so each one is judged and stored), 8 concurrent senders, with
       ``wrk`` and a Lua script (falls back to an httpx asyncio load generator without wrk). The
       stored count is read back afterwards and must equal what was acknowledged.
    b) the cost floor: the same events validated in this process by the ``jsonschema`` library
       alone (Draft 2020-12, with its FormatChecker) against specs/caliper/events.schema.json;
       the ratio sandbox events/s : jsonschema events/s is printed.
    c) ``tbconform validate caliper`` on 1,000 files (one envelope of one event each): files/s for
       the whole command, start-up included, and without start-up (less a 1-file run).
    d) webhook delivery latency p50/p99: a loopback receiver in this process, one webhook, events
       sent one at a time; latency is from just before the POST to the receipt of its delivery.

Target (issue 8; exit status 1 if missed): >= 5,000 events/s with 100-event envelopes on the
2-core machine.

``--profile`` instead drives the ASGI app in-process with 100-event envelopes under cProfile and
prints the self time by area (JSON parse, Caliper validator, request-schema validation, store
writes, the behaviour, the rest).

Usage: python bench/caliper_bench.py [--duration 8] [--warmup 1] [--senders 8] [--deliveries 200]
                                     [--files 1000] [--json FILE] [--profile]
Needs: wrk (``apt-get install -y wrk``) for the load; httpx otherwise.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
from sandbox_bench import child, free_port, http, parse_wrk, token_for  # noqa: E402

SCHEMA = REPO / "specs" / "caliper" / "events.schema.json"
CONTEXT = "http://purl.imsglobal.org/ctx/caliper/v1p2"
TARGET_EVENTS_PER_S = 5000.0
ID_MARK = "__EVENT_ID__"


def activity_event(event_id: str, n: int = 0) -> dict:
    """A valid Timeback-profile ActivityEvent (the shape the official client sends)."""
    return {
        "@context": CONTEXT, "id": event_id, "type": "ActivityEvent", "profile": "TimebackProfile",
        "actor": {"id": f"https://api.alpha-1edtech.ai/ims/oneroster/rostering/v1p2/users/user-{n % 500:04d}",
                  "type": "TimebackUser", "email": f"student{n % 500}@example.org", "role": "student"},
        "action": "Completed",
        "object": {"id": "https://app.example.org/activities/q3", "type": "TimebackActivityContext",
                   "subject": "Math", "app": {"name": "Example Math"}, "course": {"name": "Algebra 1"}},
        "generated": {"id": f"https://app.example.org/metrics/{event_id}", "type": "TimebackActivityMetricsCollection",
                      "items": [{"type": "totalQuestions", "value": 10}, {"type": "correctQuestions", "value": 8},
                                {"type": "xpEarned", "value": 12}]},
        "eventTime": "2025-09-15T14:03:12.000Z",
    }


def envelope(events: list[dict], sensor: str = "https://app.example.org/sensors/bench") -> dict:
    return {"sensor": sensor, "sendTime": "2025-09-15T14:05:00.000Z", "dataVersion": CONTEXT, "data": events}


def sandbox_command(port: int) -> list[str]:
    exe = Path(sys.executable).with_name("tbconform")
    head = [str(exe)] if exe.exists() else [sys.executable, "-c",
                                            "import sys; from tbconform.harness.cli import main; sys.exit(main())"]
    return head + ["mock", "--host", "127.0.0.1", "--port", str(port), "--api", "caliper"]


# ── a) ingestion ─────────────────────────────────────────────────────────────────────────────

LUA = r"""
-- every request: one envelope of N ActivityEvents, each with a fresh id (thread prefix + counter)
local counter, prefix = 0, "t"
local template = [==[%(event)s]==]
local head = [==[%(head)s]==]
local n = %(n)d
local threads = 0
function setup(thread) threads = threads + 1; thread:set("prefix", string.format("%(nonce)s%%02x", threads)) end
function init(args) prefix = wrk.thread:get("prefix") or prefix end
request = function()
  local parts = {}
  for i = 1, n do
    counter = counter + 1
    parts[i] = template:gsub("%(mark)s", "urn:uuid:" .. prefix .. "-b000-4000-8000-" .. string.format("%%012d", counter), 1)
  end
  return wrk.format("POST", "/caliper/event", nil, head .. table.concat(parts, ",") .. "]}")
end
"""


def lua_script(n: int, token: str) -> str:
    """The wrk script; every call has its own id prefix (a fresh nonce), so no run resends an id."""
    event = json.dumps(activity_event(ID_MARK), separators=(",", ":"))
    env = json.dumps(envelope([]), separators=(",", ":"))
    head = env[: env.rindex("[") + 1]  # ...,"data":[
    script = LUA % {"event": event.replace("%", "%%"), "head": head, "n": n, "mark": ID_MARK,
                     "nonce": uuid.uuid4().hex[:6]}
    return (f'wrk.headers["Authorization"] = "Bearer {token}"\n'
            f'wrk.headers["Content-Type"] = "application/json"\n' + script)


def stored_total(base: str, token: str) -> int:
    status, body = http("GET", f"{base}/caliper/events?limit=1", {"Authorization": f"Bearer {token}"}, timeout=30)
    return json.loads(body)["pagination"]["total"] if status == 200 else -1


async def _httpx_load(base: str, token: str, n: int, duration: float, senders: int) -> dict:
    import httpx

    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + duration

    async def sender(client: httpx.AsyncClient) -> None:
        nonlocal errors
        while time.perf_counter() < deadline:
            body = json.dumps(envelope([activity_event(f"urn:uuid:{uuid.uuid4()}", i) for i in range(n)]))
            started = time.perf_counter()
            response = await client.post("/caliper/event", content=body)
            latencies.append((time.perf_counter() - started) * 1000)
            errors += response.status_code != 200

    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as client:
        started = time.perf_counter()
        await asyncio.gather(*(sender(client) for _ in range(senders)))
        wall = time.perf_counter() - started
    latencies.sort()
    return {"rps": len(latencies) / wall, "requests": len(latencies), "errors": errors,
            "p50": latencies[len(latencies) // 2] if latencies else None,
            "p99": latencies[int(len(latencies) * 0.99)] if latencies else None, "tool": f"httpx x{senders}"}


def ingest(base: str, token: str, n: int, args: argparse.Namespace) -> dict:
    before = stored_total(base, token)
    if shutil.which("wrk"):
        def run(seconds: float) -> dict:
            with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
                fh.write(lua_script(n, token))
            try:
                return run_wrk_script(base, fh.name, seconds, args.senders)
            finally:
                os.unlink(fh.name)
        if args.warmup > 0:
            run(args.warmup)
            before = stored_total(base, token)
        result = run(args.duration)
    else:
        result = asyncio.run(_httpx_load(base, token, n, args.duration, args.senders))
    stored = stored_total(base, token) - before
    acknowledged = (result["requests"] - result["errors"]) * n
    # wrk counts the answers it read; the envelopes in flight when it stops (at most one per sender)
    # are stored too, unacknowledged. Fewer than acknowledged would be a lost event.
    result.update(events_per_s=result["rps"] * n, per_envelope=n, stored=stored, acknowledged=acknowledged,
                  stored_ok=acknowledged <= stored <= acknowledged + args.senders * n)
    return result


def run_wrk_script(base: str, script: str, duration: float, senders: int) -> dict:
    argv = ["wrk", f"-t{min(2, senders)}", f"-c{senders}", f"-d{max(1, round(duration))}s", "--latency",
            "--timeout", "10s", "-s", script, base]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 60).stdout
    return parse_wrk(out, f"wrk -c{senders} -s lua")


# ── b) cost floor ────────────────────────────────────────────────────────────────────────────


def jsonschema_floor(seconds: float = 3.0) -> dict:
    import jsonschema

    schema = json.loads(SCHEMA.read_text())
    cls = jsonschema.validators.validator_for(schema)
    validator = cls({"$ref": "#/$defs/ActivityEvent", "$defs": schema["$defs"]}, format_checker=cls.FORMAT_CHECKER)
    events = [json.loads(json.dumps(activity_event(f"urn:uuid:{uuid.uuid4()}", i))) for i in range(100)]
    errors = list(validator.iter_errors(events[0]))
    if errors:
        raise SystemExit(f"jsonschema refuses the bench event: {errors[0].message}")
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        for event in events:
            validator.validate(event)
        count += len(events)
    return {"events_per_s": count / (time.perf_counter() - started), "events": count}


# ── c) offline validator ─────────────────────────────────────────────────────────────────────


def validate_files(files: int) -> dict:
    exe = Path(sys.executable).with_name("tbconform")
    head = [str(exe)] if exe.exists() else [sys.executable, "-m", "tbconform.harness.cli"]
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for i in range(files):
            path = Path(tmp) / f"event-{i:05d}.json"
            path.write_text(json.dumps(envelope([activity_event(f"urn:uuid:{uuid.uuid4()}", i)])))
            paths.append(str(path))

        def timed(selected: list[str]) -> float:
            started = time.perf_counter()
            done = subprocess.run(head + ["validate", "caliper", *selected], capture_output=True, text=True,
                                  timeout=600)
            if done.returncode != 0:
                raise SystemExit(f"tbconform validate caliper exited {done.returncode}:\n{done.stdout[-1500:]}"
                                 f"{done.stderr[-1500:]}")
            return time.perf_counter() - started

        one = min(timed(paths[:1]) for _ in range(3))
        wall = min(timed(paths) for _ in range(2))
    net = wall - one
    return {"files": files, "seconds": wall, "files_per_s": files / wall, "startup_s": one,
            "files_per_s_without_startup": (files - 1) / net if net > 0.02 else None}


# ── d) webhook delivery latency ──────────────────────────────────────────────────────────────


class Receiver:
    def __init__(self) -> None:
        self.arrived: dict[str, float] = {}
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                now = time.perf_counter()
                owner.arrived.setdefault(json.loads(body)["id"], now)
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def webhook_latency(base: str, token: str, count: int) -> dict:
    import httpx

    receiver = Receiver()
    sensor = f"https://app.example.org/sensors/hook-{uuid.uuid4()}"
    headers = {"Authorization": f"Bearer {token}"}
    try:
        with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
            made = client.post("/webhooks/", json={"name": "bench", "targetUrl": receiver.url, "secret": "s3cret",
                                                   "active": True, "sensor": sensor})
            made.raise_for_status()
            sent: dict[str, float] = {}
            for i in range(count):
                event_id = f"urn:uuid:{uuid.uuid4()}"
                body = json.dumps(envelope([activity_event(event_id, i)], sensor=sensor))
                sent[event_id] = time.perf_counter()
                answer = client.post("/caliper/event", content=body, headers={"Content-Type": "application/json"})
                answer.raise_for_status()
                time.sleep(0.01)
            deadline = time.monotonic() + 15
            while len(receiver.arrived) < count and time.monotonic() < deadline:
                time.sleep(0.05)
            client.delete(f"/webhooks/{made.json()['webhook']['id']}")
    finally:
        receiver.close()
    latencies = sorted((receiver.arrived[k] - t) * 1000 for k, t in sent.items() if k in receiver.arrived)
    return {"sent": count, "received": len(latencies),
            "p50_ms": statistics.median(latencies) if latencies else None,
            "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] if latencies else None,
            "max_ms": latencies[-1] if latencies else None}


# ── --profile: where one 100-event envelope's time goes, in-process ──────────────────────────


def profile_ingestion(envelopes: int = 60, n: int = 100, top: int = 15) -> dict:
    """Drive the ASGI app in-process (no sockets) with n-event envelopes; cProfile it and group the
    self time by area: JSON parse, the Caliper validator, the store (SQLite), the rest."""
    import cProfile
    import io
    import pstats

    from tbconform.mocks.app import SandboxApp
    from tbconform.mocks.sandbox import Sandbox, SandboxConfig

    app = SandboxApp(Sandbox(SandboxConfig(apis=["caliper"])))

    async def call(method: str, path: str, headers: list, body: bytes = b"") -> tuple[int, bytes]:
        sent: list[dict] = []

        async def receive() -> dict:
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict) -> None:
            sent.append(message)

        scope = {"type": "http", "method": method, "path": path, "raw_path": path.encode(), "query_string": b"",
                 "headers": [(b"host", b"127.0.0.1:8765"), *headers], "scheme": "http",
                 "server": ("127.0.0.1", 8765), "http_version": "1.1"}
        await app(scope, receive, send)
        return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])

    import base64
    basic = base64.b64encode(b"tbconform-sandbox:tbconform-sandbox-secret")
    loop = asyncio.new_event_loop()
    try:
        status, body = loop.run_until_complete(call("POST", "/oauth2/token", [
            (b"authorization", b"Basic " + basic), (b"content-type", b"application/x-www-form-urlencoded")],
            b"grant_type=client_credentials"))
        auth = [(b"authorization", b"Bearer " + json.loads(body)["access_token"].encode()),
                (b"content-type", b"application/json")]
        bodies = [json.dumps(envelope([activity_event(f"urn:uuid:{uuid.uuid4()}", i) for i in range(n)])).encode()
                  for _ in range(envelopes * 2 + 5)]

        async def burst(chunk: list[bytes]) -> None:
            for raw in chunk:
                got, answer = await call("POST", "/caliper/event", auth, raw)
                if got != 200:
                    raise RuntimeError(f"POST /caliper/event -> {got}: {answer[:300]!r}")

        loop.run_until_complete(burst(bodies[:5]))
        started = time.perf_counter()
        loop.run_until_complete(burst(bodies[5:5 + envelopes]))
        plain = (time.perf_counter() - started) / envelopes
        profiler = cProfile.Profile()
        profiler.enable()
        loop.run_until_complete(burst(bodies[5 + envelopes:]))
        profiler.disable()
    finally:
        loop.close()
    stats = pstats.Stats(profiler)
    areas = {"JSON parse/dump (orjson, json)": 0.0, "Caliper validator (specs/caliper/validate.py)": 0.0,
             "request-schema validation (mocks/validation.py, jsonschema)": 0.0,
             "store writes (mocks/store.py, sqlite3)": 0.0, "caliper behaviour (mocks/behaviours/caliper.py)": 0.0,
             "other": 0.0}
    total = 0.0
    for (filename, _line, name), (_cc, _nc, tottime, _ct, _callers) in stats.stats.items():
        total += tottime
        if "orjson" in name or "loads" in name and filename == "~" or filename.endswith(("json/decoder.py", "json/encoder.py")):
            areas["JSON parse/dump (orjson, json)"] += tottime
        elif filename.endswith("caliper/validate.py"):
            areas["Caliper validator (specs/caliper/validate.py)"] += tottime
        elif "jsonschema" in filename or "referencing" in filename or filename.endswith("mocks/validation.py"):
            areas["request-schema validation (mocks/validation.py, jsonschema)"] += tottime
        elif filename.endswith("mocks/store.py") or "sqlite3" in name or "sqlite3" in filename:
            areas["store writes (mocks/store.py, sqlite3)"] += tottime
        elif filename.endswith("behaviours/caliper.py"):
            areas["caliper behaviour (mocks/behaviours/caliper.py)"] += tottime
        else:
            areas["other"] += tottime
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(top)
    return {"envelopes": envelopes, "events_per_envelope": n, "ms_per_envelope": plain * 1000,
            "in_process_events_per_s": n / plain,
            "share": {k: v / total for k, v in areas.items()}, "top": text.getvalue()}


# ── main ─────────────────────────────────────────────────────────────────────────────────────


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=8.0, help="seconds per ingestion case (default 8)")
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--senders", type=int, default=8)
    parser.add_argument("--deliveries", type=int, default=200)
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--profile", action="store_true",
                        help="only profile 100-event ingestion in-process (no sockets) and print where the time goes")
    args = parser.parse_args(argv)
    if args.profile:
        sys.path.insert(0, str(REPO))
        prof = profile_ingestion()
        print(f"in-process, no sockets: {prof['ms_per_envelope']:.1f} ms per {prof['events_per_envelope']}-event "
              f"envelope = {prof['in_process_events_per_s']:,.0f} events/s on one core; self time by area:")
        for area, share in sorted(prof["share"].items(), key=lambda kv: -kv[1]):
            print(f"  {share:6.1%}  {area}")
        print(prof["top"])
        return 0

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    results: dict = {}
    with child("sandbox", sandbox_command(port), lambda: http("GET", f"{base}/_sandbox")[0] == 200, timeout=60):
        token = token_for(base)
        if not token:
            raise SystemExit("no token from the sandbox")
        for n in (1, 100):
            results[f"ingest_{n}"] = ingest(base, token, n, args)
            r = results[f"ingest_{n}"]
            print(f"ingestion, {n:>3}-event envelopes, {args.senders} senders ({r['tool']}): "
                  f"{r['events_per_s']:,.0f} events/s ({r['rps']:,.0f} req/s), p50 {r['p50']:.1f} ms, "
                  f"p99 {r['p99']:.1f} ms, errors {r['errors']}, stored {r['stored']:,} "
                  f"of {r['acknowledged']:,} acknowledged ({'ok: none lost' if r['stored_ok'] else 'MISMATCH'})", flush=True)
        results["webhook"] = webhook_latency(base, token, args.deliveries)
    floor = results["jsonschema"] = jsonschema_floor()
    ratio = results["ingest_100"]["events_per_s"] / floor["events_per_s"]
    results["ratio_sandbox_to_jsonschema"] = ratio
    print(f"cost floor: jsonschema {floor['events_per_s']:,.0f} events/s in-process "
          f"(Draft 2020-12 + FormatChecker, ActivityEvent); sandbox/jsonschema = {ratio:.2f}", flush=True)
    v = results["validate"] = validate_files(args.files)
    print(f"tbconform validate caliper: {v['files']} files in {v['seconds']:.2f} s = {v['files_per_s']:,.0f} files/s "
          f"(best of 2; a 1-file run takes {v['startup_s']:.2f} s: "
          + (f"{v['files_per_s_without_startup']:,.0f} files/s without start-up)"
             if v["files_per_s_without_startup"] else "start-up is nearly all of it)"))
    w = results["webhook"]
    print(f"webhook delivery latency (ingestion -> receipt, loopback): p50 {w['p50_ms']:.1f} ms, "
          f"p99 {w['p99_ms']:.1f} ms, max {w['max_ms']:.1f} ms ({w['received']}/{w['sent']} received)"
          if w["received"] else f"webhook delivery: nothing received of {w['sent']}")
    hit = results["ingest_100"]["events_per_s"] >= TARGET_EVENTS_PER_S and results["ingest_100"]["errors"] == 0 \
        and results["ingest_100"]["stored_ok"]
    print(f"target >= {TARGET_EVENTS_PER_S:,.0f} events/s with 100-event envelopes, no errors, all stored: "
          f"{'PASS' if hit else 'FAIL'}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0 if hit else 1


if __name__ == "__main__":
    sys.exit(main())
