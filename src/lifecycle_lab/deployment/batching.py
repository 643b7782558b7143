"""Micro-batching for a model server: concurrent requests share one model call.

Why: a scikit-learn pipeline pays a fixed cost per call (input validation, dispatch, sparse-matrix set-up)
that dwarfs the cost per row: the ticket pipeline takes ~3 ms for one text and about the same for 8, so at
200 requests/s one call per request keeps a core busy with overhead and the queue grows. A `MicroBatcher`
collects the items of requests that arrive while the model is busy (or within `max_wait_s` of the first
one) into one call of at most `max_batch` items, runs it on a thread of its own (never on the event loop,
which must keep reading and answering requests), and hands every request its own slice of the result.

Under light load a request waits at most `max_wait_s` before its call starts; under heavy load batches grow
by themselves, which is what keeps the latency flat. Pure asyncio; one model thread (the model is called by
one thread at a time, so it needs no locking of its own).
"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from lifecycle_lab.base.errors import LifecycleLabError


class BatchingError(LifecycleLabError, ValueError):
    """A micro-batcher's settings are not usable as given."""


@dataclass
class BatchInfo:
    """What a request learns about the model call that answered it."""

    size: int          # items in the model call (this request's and others')
    model_s: float     # seconds the call took
    queued_s: float    # seconds this request waited before the call started


class MicroBatcher:
    """`await batcher.submit(items)` -> (results for these items, BatchInfo).

    `fn(items) -> results` is called with the concatenated items of one or more requests (a list) and must
    return one result per item, in order (e.g. rows of `predict_proba`). A request with more than
    `max_batch` items is called alone. An exception in `fn` is raised in every request of that batch.
    It starts on the event loop of its first request (or call `start()` there); stop it with `await stop()`.
    """

    def __init__(self, fn: Callable[[list], Sequence], *, max_batch: int = 16, max_wait_s: float = 0.001):
        if isinstance(max_batch, bool) or not isinstance(max_batch, int) or max_batch < 1:
            raise BatchingError(f"max_batch={max_batch!r} must be a whole number >= 1 (items per model call)")
        if isinstance(max_wait_s, bool) or not isinstance(max_wait_s, (int, float)) or not 0 <= max_wait_s <= 1:
            raise BatchingError(f"max_wait_s={max_wait_s!r} must be between 0 and 1 second")
        self.fn = fn
        self.max_batch = max_batch
        self.max_wait_s = float(max_wait_s)
        self.calls = 0            # model calls made
        self.items = 0            # items scored
        self._queue: asyncio.Queue | None = None
        self._task: asyncio.Task | None = None
        self._pool: ThreadPoolExecutor | None = None

    def start(self) -> None:
        """Start the batching task on the running event loop (again, if an earlier loop has gone)."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(1, thread_name_prefix="model")
        self._queue = asyncio.Queue()
        self._task = asyncio.get_running_loop().create_task(self._run(), name="micro-batcher")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    async def submit(self, items: Sequence) -> tuple[list, BatchInfo]:
        if self._task is None or self._task.done() or self._task.get_loop() is not asyncio.get_running_loop():
            self.start()  # first request, or a new event loop (a test client may run one per request)
        future = asyncio.get_running_loop().create_future()
        await self._queue.put((list(items), future, time.perf_counter()))
        return await future

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        queue = self._queue
        carry = None  # a request that did not fit in the previous batch opens the next one
        while True:
            first = carry if carry is not None else await queue.get()
            carry = None
            batch, size = [first], len(first[0])
            deadline = first[2] + self.max_wait_s
            while size < self.max_batch:
                if queue.empty():
                    wait = deadline - time.perf_counter()
                    if wait <= 0:
                        break
                    try:
                        nxt = await asyncio.wait_for(queue.get(), wait)
                    except asyncio.TimeoutError:
                        break
                else:
                    nxt = queue.get_nowait()
                if size + len(nxt[0]) > self.max_batch:
                    carry = nxt
                    break
                batch.append(nxt)
                size += len(nxt[0])
            items = [x for request in batch for x in request[0]]
            started = time.perf_counter()
            try:
                results = await loop.run_in_executor(self._pool, self.fn, items)
                if len(results) != len(items):
                    raise RuntimeError(f"the batch function returned {len(results)} results for {len(items)} items")
            except Exception as exc:  # every request of the batch gets the error
                for _, future, _ in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            model_s = time.perf_counter() - started
            self.calls += 1
            self.items += len(items)
            offset = 0
            for request_items, future, queued_at in batch:
                n = len(request_items)
                if not future.done():  # a client that went away leaves a cancelled future
                    future.set_result((results[offset:offset + n], BatchInfo(len(items), model_s, started - queued_at)))
                offset += n


def describe(batcher: Any) -> dict:
    """Counters of a batcher as plain data (for /model or a benchmark): calls, items, mean batch size."""
    calls, items = batcher.calls, batcher.items
    return {"max_batch": batcher.max_batch, "max_wait_ms": batcher.max_wait_s * 1000, "model_calls": calls,
            "items": items, "mean_batch": items / calls if calls else 0.0}
