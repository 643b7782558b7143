"""An open-loop load test of async request handlers at a target rate, and quantile intervals for its latencies.

Why a module of its own: a latency criterion ("p99 < 200 ms at 200 requests/s") is only evidence when the
p99 was measured by sending requests at that rate to the real serving code, including its I/O waits and
the queueing they cause. The generator is *open loop*: request i is due at start + i / rate whatever
happened to earlier requests, and its latency is counted from when it was due, not from when it was sent,
so a service (or a generator) that falls behind shows up in the numbers instead of silently slowing the
test down ("coordinated omission").

The handlers run on an event loop in a thread of their own, so this works from a notebook (whose kernel
already runs an event loop) as well as from a script. During the test the objects the calling process already
holds are frozen out of the garbage collector (`gc.freeze`, as servers do with their start-up objects): a
notebook's heap is far larger than a model server's, and one full collection of it stalls every request in
flight for a quarter of a second, which would measure the notebook, not the service.
Pure Python and numpy; scipy only for the interval.
"""

from __future__ import annotations

import asyncio
import gc
import math
import threading
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Mapping, Sequence

import numpy as np

from lifecycle_lab.base.errors import LifecycleLabError


class LoadTestError(LifecycleLabError, ValueError):
    """A load test's settings or requests are not usable as given."""


def quantile_ci(values, q: float, level: float = 0.95) -> tuple[float, float]:
    """Distribution-free interval for the q-quantile from order statistics (no bootstrap needed).

    Why: a p99 from 1,000 requests rests on its ten slowest; how sure is it? The number of observations
    below the true quantile is Binomial(n, q), so the order statistics at ranks binom.ppf(a/2) and
    binom.ppf(1 - a/2) + 1 bracket it with probability >= level. Ranks beyond the sample are clipped to it.
    """
    from scipy.stats import binom

    x = np.sort(np.asarray(values, dtype=float).ravel())
    n = x.size
    if n < 2:
        raise LoadTestError(f"need at least two values for a quantile interval, got {n}: measure more requests")
    if not 0 < q < 1 or not 0 < level < 1:
        raise LoadTestError(f"q={q!r} and level={level!r} must be between 0 and 1")
    a = (1 - level) / 2
    lo_rank = int(binom.ppf(a, n, q))            # 1-based rank of the lower order statistic
    hi_rank = int(binom.ppf(1 - a, n, q)) + 1
    return float(x[max(lo_rank, 1) - 1]), float(x[min(hi_rank, n) - 1])


@dataclass
class LoadTestResult:
    """Latencies (ms, counted from each request's due time) of the measured requests, after warm-up."""

    name: str
    target_rps: float
    warmup: int
    latencies_ms: np.ndarray
    errors: int
    achieved_rps: float
    max_send_lag_ms: float
    error_messages: list[str] = field(default_factory=list)

    @property
    def n(self) -> int:
        return int(self.latencies_ms.size)

    def percentile(self, q: float) -> float:
        """The q-th percentile (0-100) of the measured latencies, in ms."""
        return float(np.percentile(self.latencies_ms, q))

    def p99_ci(self, level: float = 0.95) -> tuple[float, float]:
        return quantile_ci(self.latencies_ms, 0.99, level)

    def kept_rate(self, tolerance: float = 0.05) -> bool:
        """Did the generator send at the target rate (within `tolerance`)? If not, the test measured less
        load than asked and its latencies say nothing about the target rate."""
        return abs(self.achieved_rps / self.target_rps - 1) <= tolerance

    def summary(self) -> dict:
        lo, hi = self.p99_ci()
        return {"model": self.name, "requests": self.n, "errors": self.errors, "target_rps": self.target_rps,
                "achieved_rps": self.achieved_rps, "p50_ms": self.percentile(50), "p99_ms": self.percentile(99),
                "p99_ci_ms": (lo, hi), "max_send_lag_ms": self.max_send_lag_ms}


async def _run_one(name: str, handler, requests: Sequence, rate: float, warmup: int) -> LoadTestResult:
    loop = asyncio.get_running_loop()
    gap = 1.0 / rate
    due = np.empty(len(requests))
    done = np.full(len(requests), np.nan)
    sent = np.empty(len(requests))
    errors: list[str] = []

    async def one(i: int) -> None:
        try:
            await handler(requests[i])
        except Exception as exc:  # a failing request is counted and reported, not raised
            errors.append(f"request {i}: {type(exc).__name__}: {exc}")
            return
        done[i] = loop.time()

    tasks = []
    start = loop.time() + 0.01
    for i in range(len(requests)):
        due[i] = start + i * gap
        while (wait := due[i] - loop.time()) > 0:  # never send early (a timer may fire a hair before its time)
            await asyncio.sleep(wait)
        sent[i] = loop.time()
        tasks.append(asyncio.create_task(one(i)))
    await asyncio.gather(*tasks)
    measured = slice(warmup, None)
    lat = (done[measured] - due[measured]) * 1000
    ok = lat[~np.isnan(lat)]
    # from the first measured request's due time to the last send: never shorter than the schedule, so the
    # achieved rate is at most the target and falls below it when the generator falls behind
    span = sent[-1] - due[warmup]
    achieved = (len(requests) - warmup - 1) / span if span > 0 else float("nan")
    lag = float(np.max(sent[measured] - due[measured]) * 1000)
    n_err = int(np.isnan(done[measured]).sum())
    return LoadTestResult(name, rate, warmup, ok, n_err, float(achieved), lag, errors[:5])


def run_load_test(handlers: Mapping[str, Callable[[Any], Awaitable[Any]]], requests: Sequence,
                  rate_per_s: float, warmup: int = 100, concurrent: bool = True) -> dict[str, LoadTestResult]:
    """Send `requests` to each handler at `rate_per_s` (open loop); measure every latency after `warmup`.

    `handlers`: {name: async function(request)}. With `concurrent`, the services are tested side by side on
    one event loop (each at the full rate, as if on their own servers); otherwise one after the other.
    The first `warmup` requests are sent but not measured (caches, thread pools, lazy imports).
    Returns {name: LoadTestResult}.
    """
    if not handlers:
        raise LoadTestError("give at least one handler: {name: async function(request)}")
    if isinstance(rate_per_s, bool) or not isinstance(rate_per_s, (int, float)) or not 0 < rate_per_s <= 100_000:
        raise LoadTestError(f"rate_per_s={rate_per_s!r} must be a positive number of requests per second")
    if isinstance(warmup, bool) or not isinstance(warmup, int) or warmup < 0:
        raise LoadTestError(f"warmup={warmup!r} must be a whole number >= 0")
    if len(requests) < warmup + 2:
        raise LoadTestError(f"{len(requests)} requests leave fewer than 2 to measure after a warm-up of {warmup}: "
                            f"give at least warmup + 2 requests, or a smaller warm-up")
    for name, h in handlers.items():
        if not callable(h):
            raise LoadTestError(f"handler {name!r} is not callable: give an async function(request), e.g. "
                                f"RecsysWorld.handler('challenger')")

    async def main() -> dict[str, LoadTestResult]:
        if concurrent:
            results = await asyncio.gather(*(_run_one(n, h, requests, rate_per_s, warmup)
                                             for n, h in handlers.items()))
            return {r.name: r for r in results}
        return {n: await _run_one(n, h, requests, rate_per_s, warmup) for n, h in handlers.items()}

    box: dict = {}

    def target() -> None:
        try:
            box["result"] = asyncio.run(main())
        except BaseException as exc:  # re-raised in the caller's thread
            box["error"] = exc

    thread = threading.Thread(target=target, name="load-test")
    gc.freeze()
    try:
        thread.start()
        thread.join()
    finally:
        gc.unfreeze()
    if "error" in box:
        raise box["error"]
    return box["result"]


def expected_seconds(n_requests: int, rate_per_s: float) -> float:
    """How long a load test of n requests at this rate takes at least: (n - 1) / rate."""
    return max(0, n_requests - 1) / rate_per_s if rate_per_s > 0 else math.inf

