"""Outbound HTTP deliveries (webhooks) in the background, with bounded retries and an attempt log.

A plug-in hands the sandbox's `Deliveries` a *plan*: a function that the delivery thread runs and
that returns the POSTs to make (`Outbound`: URL, exact body bytes, headers, a label for the log and
a `wanted` check). The request that caused them is answered without waiting: planning, sending
and retrying all happen on one daemon thread with its own asyncio loop, started on first use. A
failing receiver (no 2xx, a timeout, a refused connection) is retried after `backoff`, doubled
each time up to `max_delay`, at most `attempts` times in all. `wanted()` is asked again before
every attempt, so a webhook deleted or deactivated meanwhile gets nothing more. Every attempt is
kept, newest last, in a bounded log that `GET /_sandbox/webhook-deliveries` shows. Unless told
otherwise (`loopback_only=False`), only loopback targets (127.0.0.0/8, ::1, localhost) are sent
to: any other is logged as `refused` without a connection, so a sandbox on a CI machine or a
fuzzed webhook never reaches out to the network.
"""
from __future__ import annotations

import asyncio
import collections
import ipaddress
import sys
import threading
import time
import traceback
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Iterable
from urllib.parse import urlsplit

import httpx

LOG_SIZE = 10_000
CONCURRENCY = 16


@dataclass
class RetryPolicy:
    attempts: int = 6  # attempts in all, the first one included
    backoff: float = 1.0  # seconds before the second attempt; doubled before each further one
    max_delay: float = 30.0  # no wait between attempts is longer
    timeout: float = 5.0  # seconds for one attempt (connect + answer)

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based)."""
        return min(self.backoff * (2 ** (attempt - 1)), self.max_delay)


@dataclass
class Outbound:
    url: str
    body: bytes
    headers: dict[str, str]
    label: dict[str, Any] = field(default_factory=dict)  # copied into each log entry: ids, never secrets
    wanted: Callable[[], bool] | None = None  # False before an attempt cancels the rest


def is_loopback(url: str) -> bool:
    """The URL names this machine by a loopback address or `localhost` (no name is resolved)."""
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return False
    if host.lower() == "localhost" or host.lower().endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class Deliveries:
    def __init__(self, policy: RetryPolicy | None = None, log_size: int = LOG_SIZE,
                 concurrency: int = CONCURRENCY, loopback_only: bool = True) -> None:
        self.policy = policy or RetryPolicy()
        self.loopback_only = loopback_only
        self._concurrency = concurrency
        self._log: collections.deque[dict[str, Any]] = collections.deque(maxlen=log_size)
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._pending = 0  # plans not yet run + deliveries not yet finished
        self._generation = 0  # bumped by clear(): work planned before it is dropped
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    # -- the caller's side ----------------------------------------------------------------------
    def plan(self, planner: Callable[[], Iterable[Outbound]]) -> None:
        """Run `planner` on the delivery thread and deliver what it returns; never blocks."""
        loop = self._ensure_loop()
        with self._lock:
            self._pending += 1
            generation = self._generation
        loop.call_soon_threadsafe(self._start, planner, generation)

    def attempts(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._log)

    def report(self) -> dict[str, Any]:
        with self._lock:
            return {"pending": self._pending, "policy": asdict(self.policy), "loopbackOnly": self.loopback_only,
                    "attempts": list(self._log)}

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until nothing is planned or in flight (tests and benchmarks); False on timeout."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._pending:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
        return True

    def clear(self) -> None:
        """Forget the log; work already planned stops before its next attempt."""
        with self._lock:
            self._log.clear()
            self._generation += 1

    def close(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)
        self._loop = self._thread = None

    # -- the delivery thread ----------------------------------------------------------------------
    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                ready = threading.Event()

                def run() -> None:
                    asyncio.set_event_loop(loop)
                    self._client = httpx.AsyncClient(timeout=self.policy.timeout, trust_env=False,
                                                     follow_redirects=False)
                    self._gate = asyncio.Semaphore(self._concurrency)
                    ready.set()
                    loop.run_forever()

                self._thread = threading.Thread(target=run, name="tbconform-deliveries", daemon=True)
                self._thread.start()
                ready.wait()
                self._loop = loop
            return self._loop

    def _done(self) -> None:
        with self._idle:
            self._pending -= 1
            if self._pending <= 0:
                self._pending = 0
                self._idle.notify_all()

    def _record(self, entry: dict[str, Any], generation: int) -> None:
        with self._lock:
            if generation == self._generation:
                self._log.append(entry)

    def _start(self, planner: Callable[[], Iterable[Outbound]], generation: int) -> None:
        try:
            outbound = list(planner()) if generation == self._generation else []
        except Exception as exc:  # a broken plan must not stop the thread: log it where it shows
            traceback.print_exc(file=sys.stderr)
            self._record({"at": _now(), "outcome": "plan-error", "error": f"{type(exc).__name__}: {exc}"},
                         generation)
            outbound = []
        for item in outbound:
            with self._lock:
                self._pending += 1
            asyncio.ensure_future(self._deliver(item, generation))
        self._done()

    def _wanted(self, item: Outbound, generation: int) -> bool:
        if generation != self._generation:
            return False
        try:
            return item.wanted() if item.wanted is not None else True
        except Exception:
            traceback.print_exc(file=sys.stderr)
            return False

    async def _deliver(self, item: Outbound, generation: int) -> None:
        delivery_id = str(uuid.uuid4())
        policy = self.policy
        try:
            for attempt in range(1, policy.attempts + 1):
                entry: dict[str, Any] = {"deliveryId": delivery_id, "attempt": attempt, "url": item.url,
                                         **item.label, "at": _now()}
                if self.loopback_only and not is_loopback(item.url):
                    self._record({**entry, "status": None, "outcome": "refused",
                                  "error": "not a loopback target: this sandbox delivers to its own machine only"},
                                 generation)
                    return
                if not self._wanted(item, generation):
                    self._record({**entry, "status": None, "outcome": "cancelled",
                                  "error": "no longer wanted (deleted, deactivated or no longer matching)"},
                                 generation)
                    return
                headers = {**item.headers, "X-Delivery-Id": delivery_id, "X-Delivery-Attempt": str(attempt)}
                started = time.perf_counter()
                status, error = None, None
                async with self._gate:
                    try:
                        response = await self._client.post(item.url, content=item.body, headers=headers)
                        status = response.status_code
                        if not 200 <= status < 300:
                            error = f"receiver answered {status}"
                    except Exception as exc:  # httpx.HTTPError, but also InvalidURL and friends
                        error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                entry.update(status=status, durationMs=round((time.perf_counter() - started) * 1000, 1))
                if error is None:
                    self._record({**entry, "outcome": "delivered", "error": None}, generation)
                    return
                if attempt == policy.attempts:
                    self._record({**entry, "outcome": "failed", "error": error + "; giving up"}, generation)
                    return
                wait = policy.delay(attempt)
                self._record({**entry, "outcome": "retrying", "error": error, "retryInSeconds": wait},
                             generation)
                await asyncio.sleep(wait)
        finally:
            self._done()
