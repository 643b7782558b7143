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

`run_http_load_test` drives real HTTP servers on this machine the same way (aiohttp, one connection per
request in flight, a timeout per request, bounded in count and in time), and `sustained_rate` climbs a
ladder of rates to find the highest one a service holds under a p99 limit, several services interleaved
rate by rate so that they see the same machine.
"""

from __future__ import annotations

import asyncio
import gc
import math
import threading
import time
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
    _check_settings(handlers, requests, rate_per_s, warmup)
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

    return _in_thread(main)


def _in_thread(main: Callable[[], Awaitable[Any]]):
    """Run the coroutine function `main` on a fresh event loop in a thread of its own (works inside a
    notebook, whose kernel already runs a loop), with the caller's objects frozen out of the collector."""
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



LOOPBACK = ("127.0.0.1", "localhost", "::1")


def check_loopback(url: str) -> str:
    """The URL without a trailing slash, if it points at this machine; a LoadTestError otherwise.
    Load tests never send traffic to another host."""
    from urllib.parse import urlsplit

    parts = urlsplit(str(url))
    if parts.scheme != "http" or parts.hostname not in LOOPBACK:
        raise LoadTestError(f"load tests run against this machine only (http://127.0.0.1:PORT), got {url!r}")
    return str(url).rstrip("/")


def run_http_load_test(targets: Mapping[str, str], bodies: Sequence, rate_per_s: float, *, path: str = "/predict",
                       warmup: int = 50, timeout_s: float = 5.0, max_seconds: float = 300.0,
                       concurrent: bool = False) -> dict[str, LoadTestResult]:
    """POST each of `bodies` (JSON) to `path` of each target URL at `rate_per_s`, open loop.

    `targets`: {name: "http://127.0.0.1:PORT"} (loopback only). A request counts as an error unless it is
    answered 200 within `timeout_s`; its latency runs from its due time to the end of the response body.
    Bounded in count (len(bodies) per target) and in time: a test whose schedule alone would take longer
    than `max_seconds` is refused before it starts, and no request outlives its timeout.
    `concurrent=False` (the default) tests the targets one after the other, so they do not share the
    machine's cores with each other; `True` sends to all at once.
    """
    urls = {name: check_loopback(url) for name, url in targets.items()}
    if not urls:
        raise LoadTestError("give at least one target: {name: 'http://127.0.0.1:PORT'}")
    if isinstance(timeout_s, bool) or not isinstance(timeout_s, (int, float)) or not timeout_s > 0:
        raise LoadTestError(f"timeout_s={timeout_s!r} must be a positive number of seconds")
    if isinstance(rate_per_s, (int, float)) and not isinstance(rate_per_s, bool) and rate_per_s > 0:
        planned = expected_seconds(len(bodies), rate_per_s)
        if planned > max_seconds:
            raise LoadTestError(f"{len(bodies)} requests at {rate_per_s} per second take {planned:.0f} s, more "
                                f"than max_seconds={max_seconds}: send fewer requests or raise max_seconds")

    async def main() -> dict[str, LoadTestResult]:
        import aiohttp

        timeout = aiohttp.ClientTimeout(total=timeout_s)
        # no connection limit: an open-loop generator must not queue requests behind a pool of its own
        connector = aiohttp.TCPConnector(limit=0, force_close=False)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
            def handler(url: str):
                async def post(body) -> None:
                    async with session.post(url + path, json=body) as response:
                        text = await response.read()
                        if response.status != 200:
                            raise RuntimeError(f"HTTP {response.status}: {text[:200]!r}")
                return post

            handlers = {name: handler(url) for name, url in urls.items()}
            if concurrent:
                results = await asyncio.gather(*(_run_one(n, h, bodies, rate_per_s, warmup)
                                                 for n, h in handlers.items()))
                return {r.name: r for r in results}
            return {n: await _run_one(n, h, bodies, rate_per_s, warmup) for n, h in handlers.items()}

    _check_settings(urls, bodies, rate_per_s, warmup)
    return _in_thread(main)


def _check_settings(handlers, requests, rate_per_s, warmup) -> None:
    if isinstance(rate_per_s, bool) or not isinstance(rate_per_s, (int, float)) or not 0 < rate_per_s <= 100_000:
        raise LoadTestError(f"rate_per_s={rate_per_s!r} must be a positive number of requests per second")
    if isinstance(warmup, bool) or not isinstance(warmup, int) or warmup < 0:
        raise LoadTestError(f"warmup={warmup!r} must be a whole number >= 0")
    if len(requests) < warmup + 2:
        raise LoadTestError(f"{len(requests)} requests leave fewer than 2 to measure after a warm-up of {warmup}: "
                            f"give at least warmup + 2 requests, or a smaller warm-up")


def sustains(result: LoadTestResult, p99_limit_ms: float, tolerance: float = 0.05) -> bool:
    """Did the service hold this rate? No errors, the generator kept the rate, p99 under the limit."""
    return result.errors == 0 and result.n > 0 and result.kept_rate(tolerance) and result.percentile(99) < p99_limit_ms


@dataclass
class RateStep:
    """One rung of the ladder: a target at one rate, its result, whether it held, the 1-min load average."""

    name: str
    rate: float
    result: LoadTestResult
    held: bool
    load_average: float


def sustained_rate(targets: Mapping[str, str], make_bodies: Callable[[int], Sequence], rates: Sequence[float], *,
                   seconds: float = 10.0, p99_limit_ms: float = 200.0, warmup_s: float = 1.0,
                   timeout_s: float = 5.0, max_seconds: float = 60.0, pause_s: float = 1.0) -> list[RateStep]:
    """Climb `rates` (ascending) for every target, interleaved rate by rate, `seconds` per rung.

    A target leaves the ladder at its first rung it does not hold (`sustains`), so an overloaded service is
    not pushed further. `make_bodies(n)` gives n request bodies. The highest rung a target held is
    `highest_held(steps)[name]`. Returns every rung run, in order.
    """
    import os

    rates = [float(r) for r in rates]
    if not rates or rates != sorted(rates):
        raise LoadTestError(f"rates={rates!r} must be a non-empty ascending list of requests per second")
    if not 0 < seconds <= max_seconds:
        raise LoadTestError(f"seconds={seconds!r} must be positive and at most max_seconds={max_seconds}")
    active = list(targets)
    steps: list[RateStep] = []
    for rate in rates:
        for name in list(active):
            warmup = max(1, int(rate * warmup_s))
            n = warmup + max(2, int(rate * seconds))
            result = run_http_load_test({name: targets[name]}, make_bodies(n), rate, warmup=warmup,
                                        timeout_s=timeout_s, max_seconds=max_seconds + warmup_s)[name]
            held = sustains(result, p99_limit_ms)
            steps.append(RateStep(name, rate, result, held, os.getloadavg()[0]))
            if not held:
                active.remove(name)
            time.sleep(pause_s)  # let a queue that built up drain before the next test
        if not active:
            break
    return steps


def highest_held(steps: Sequence[RateStep]) -> dict[str, float]:
    """{target: the highest rate it held} (0.0 when it held none) from `sustained_rate`'s steps."""
    best: dict[str, float] = {}
    for s in steps:
        best.setdefault(s.name, 0.0)
        if s.held:
            best[s.name] = max(best[s.name], s.rate)
    return best
