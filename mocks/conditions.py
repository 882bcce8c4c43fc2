"""Realistic target conditions: a delay on every answer and a request-rate limit.

Both wrap the app's async `answer(scope, receive) -> Response` step, and only when configured
(`SandboxConfig.latency_ms`/`jitter_ms`/`rate_limit`, `tbconform mock --latency/--rate-limit`), so an
unconditioned sandbox runs exactly as before. Delays use `asyncio.sleep`: other requests keep being
served while one waits.
"""
from __future__ import annotations

import asyncio
import math
import random
import time
from typing import TYPE_CHECKING, Any, Awaitable, Callable

from tbconform.mocks.context import Response

if TYPE_CHECKING:
    from tbconform.mocks.sandbox import SandboxConfig

Answer = Callable[[dict[str, Any], Any], Awaitable[Response]]


class TokenBucket:
    """Admits `rate` requests per second on average and bursts of up to max(1, rate)."""

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        if not rate > 0:
            raise ValueError(f"rate limit must be a positive number of requests per second, got {rate!r}")
        self.rate = rate
        self.capacity = max(1.0, rate)
        self.tokens = self.capacity
        self.clock = clock
        self.stamp = clock()

    def take(self) -> float:
        """0.0 when the request is admitted; otherwise the seconds until one would be."""
        now = self.clock()
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / self.rate


def rate_limited(answer: Answer, rate: float, reject: Callable[[int], Response]) -> Answer:
    """Beyond `rate` requests/s (all clients, every path): `reject(retry_after_seconds)`, never the app."""
    bucket = TokenBucket(rate)

    async def run(scope: dict[str, Any], receive: Any) -> Response:
        wait = bucket.take()
        if wait > 0:
            return reject(max(1, math.ceil(wait)))
        return await answer(scope, receive)
    return run


def delayed(answer: Answer, latency_ms: float, jitter_ms: float, rng: random.Random | None = None) -> Answer:
    """Every answer (429s included) leaves latency_ms ± jitter_ms (uniform, never below 0) after it is ready."""
    if latency_ms < 0 or jitter_ms < 0:
        raise ValueError(f"latency and jitter must not be negative, got {latency_ms!r} and {jitter_ms!r}")
    draw = rng or random.Random()

    async def run(scope: dict[str, Any], receive: Any) -> Response:
        response = await answer(scope, receive)
        delay = max(0.0, draw.uniform(latency_ms - jitter_ms, latency_ms + jitter_ms))
        if delay:
            await asyncio.sleep(delay / 1000)
        return response
    return run


def apply(answer: Answer, config: "SandboxConfig", reject: Callable[[int], Response]) -> Answer:
    """The rate check sits inside the delay: a request is counted when it arrives, not when it leaves."""
    if config.rate_limit is not None:
        answer = rate_limited(answer, config.rate_limit, reject)
    if config.latency_ms or config.jitter_ms:
        answer = delayed(answer, config.latency_ms, config.jitter_ms)
    return answer
