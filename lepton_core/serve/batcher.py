"""A greedy micro-batcher: whatever requests are waiting when the model is free run as one batch.

It never waits for a batch to fill. When the server is idle a request runs at once, alone; requests that
arrive while the model is busy are grouped into the next call (up to ``max_batch_size`` items). The
queue is bounded in items: ``submit`` raises ``QueueFull`` rather than letting latency grow. The
``before_results`` hook sees each batch's answered requests before any of their results is released
(the prediction log writes them there, so an answered prediction is always logged).

Fast models (a batch under ``inline_budget_s``) run on the event loop itself: no thread hand-off and no
GIL ping-pong, which is what dominates a small model's latency. Slower models run on one dedicated
thread, so the loop keeps reading requests (and answering health checks) while torch computes.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

__all__ = ["MicroBatcher", "QueueFull"]

Outcome = list[Any] | BaseException


class QueueFull(Exception):
    """The bounded queue has no room for the request (answer 503 with Retry-After)."""


@dataclass(eq=False)
class _Entry:
    items: Sequence[Any]
    records: Sequence[Any]
    future: asyncio.Future[list[Any]]
    request_id: str = ""
    started: float = 0.0


class MicroBatcher:
    """Group concurrent requests' items into model calls, one call at a time."""

    def __init__(
        self,
        predict: Callable[[list[Any]], list[Any]],
        max_batch_size: int = 64,
        max_queue_items: int = 1024,
        on_batch: Callable[[int, float], None] | None = None,
        inline_budget_s: float = 0.02,
        before_results: Callable[[list[tuple[str, float, Sequence[Any], list[Any]]]], None] | None = None,
    ) -> None:
        self.predict = predict
        self.max_batch_size = max_batch_size
        self.max_queue_items = max_queue_items
        self.on_batch = on_batch
        self.inline_budget_s = inline_budget_s
        self.before_results = before_results
        self.batch_seconds = 0.0
        self._pending: deque[_Entry] = deque()
        self._pending_items = 0
        self._draining: asyncio.Task[None] | None = None
        self._executor: ThreadPoolExecutor | None = None

    @property
    def depth(self) -> int:
        """Items waiting for the model."""
        return self._pending_items

    @property
    def offloaded(self) -> bool:
        """True when batches run on the model thread (the model is slower than the inline budget)."""
        return self.batch_seconds > self.inline_budget_s

    def start(self) -> None:
        """Create the model thread (used once batches prove slower than the inline budget)."""
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lepton-model")

    def stop(self) -> None:
        """Let running batches finish and release the model thread."""
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None

    async def submit(
        self, items: Sequence[Any], records: Sequence[Any] = (), request_id: str = "", started: float = 0.0
    ) -> list[Any]:
        """Predict ``items`` (validated) within some batch; ``records`` (raw) go to the batch hooks."""
        if self._pending_items and self._pending_items + len(items) > self.max_queue_items:
            raise QueueFull(f"{self._pending_items} items waiting")
        future: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()
        self._pending.append(_Entry(items, records, future, request_id, started))
        self._pending_items += len(items)
        if self._draining is None:
            self._draining = asyncio.get_running_loop().create_task(self._drain())
        return await future

    def _take(self) -> list[_Entry]:
        batch = [self._pending.popleft()]
        size = len(batch[0].items)
        while self._pending and size + len(self._pending[0].items) <= self.max_batch_size:
            entry = self._pending.popleft()
            batch.append(entry)
            size += len(entry.items)
        self._pending_items -= size
        return batch

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._pending:
                batch = self._take()
                if self.offloaded and self._executor is not None:
                    outcomes = await loop.run_in_executor(self._executor, self._run_and_record, batch)
                else:
                    outcomes = self._run_and_record(batch)
                for entry, outcome in zip(batch, outcomes, strict=True):
                    if entry.future.done():
                        continue
                    if isinstance(outcome, BaseException):
                        entry.future.set_exception(outcome)
                    else:
                        entry.future.set_result(outcome)
                await asyncio.sleep(0)
        finally:
            self._draining = None

    def _run_and_record(self, batch: list[_Entry]) -> list[Outcome]:
        """``_run``, then the before-results hook on the answered requests (one call per batch, a group commit).

        When the hook fails (a full disk under the log), those requests fail with its error: nothing is
        answered that was not recorded.
        """
        outcomes = self._run(batch)
        if self.before_results is not None:
            answered = [
                (entry.request_id, entry.started, entry.records, outcome)
                for entry, outcome in zip(batch, outcomes, strict=True)
                if not isinstance(outcome, BaseException) and not entry.future.done()
            ]
            try:
                if answered:
                    self.before_results(answered)
            except Exception as exc:  # noqa: BLE001 - handed to the requests it could not record
                return [outcome if isinstance(outcome, BaseException) else exc for outcome in outcomes]
        return outcomes

    def _run(self, batch: list[_Entry]) -> list[Outcome]:
        """Outcome per request; a failed batch reruns each request alone, so one bad request fails only itself."""
        items = [item for entry in batch for item in entry.items]
        start = time.perf_counter()
        try:
            outputs = self.predict(items)
            if len(outputs) != len(items):
                raise RuntimeError(f"predictor returned {len(outputs)} outputs for {len(items)} items")
        except Exception as exc:  # noqa: BLE001 - handed to the request that caused it
            if len(batch) == 1:
                return [exc]
            return [outcome for entry in batch for outcome in self._run([entry])]
        seconds = time.perf_counter() - start
        self.batch_seconds = seconds if not self.batch_seconds else 0.8 * self.batch_seconds + 0.2 * seconds
        if self.on_batch is not None:
            self.on_batch(len(items), seconds)
        outcomes: list[Outcome] = []
        offset = 0
        for entry in batch:
            outcomes.append(outputs[offset : offset + len(entry.items)])
            offset += len(entry.items)
        return outcomes
