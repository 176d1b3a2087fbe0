"""A greedy micro-batcher: one model thread takes whatever requests are waiting and runs them as one batch.

It never waits for a batch to fill: when the server is idle a request runs alone at once; under load,
requests that arrive while the model is busy are grouped into the next call (up to ``max_batch_size``
items). The queue is bounded in items: ``submit`` raises ``QueueFull`` instead of letting latency grow.
"""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["MicroBatcher", "QueueFull"]


class QueueFull(Exception):
    """The bounded queue has no room for the request (answer 503 with Retry-After)."""


@dataclass(eq=False)
class _Entry:
    items: Sequence[Any]
    records: Sequence[Any]
    future: asyncio.Future[list[Any]]
    loop: asyncio.AbstractEventLoop


def _settle(results: list[tuple[_Entry, list[Any] | BaseException]]) -> None:
    for entry, result in results:
        if entry.future.done():
            continue
        if isinstance(result, BaseException):
            entry.future.set_exception(result)
        else:
            entry.future.set_result(result)


class MicroBatcher:
    """Group concurrent requests' items into model calls on one dedicated thread."""

    def __init__(
        self,
        predict: Callable[[list[Any]], list[Any]],
        max_batch_size: int = 64,
        max_queue_items: int = 1024,
        on_batch: Callable[[int, float], None] | None = None,
        after_batch: Callable[[list[Any]], None] | None = None,
    ) -> None:
        self.predict = predict
        self.max_batch_size = max_batch_size
        self.max_queue_items = max_queue_items
        self.on_batch = on_batch
        self.after_batch = after_batch
        self._queue: queue.SimpleQueue[_Entry | None] = queue.SimpleQueue()
        self._submitted = 0
        self._taken = 0
        self._thread: threading.Thread | None = None

    @property
    def depth(self) -> int:
        """Items submitted and not yet taken by the model thread."""
        return self._submitted - self._taken

    def start(self) -> None:
        """Start the model thread."""
        self._thread = threading.Thread(target=self._work, name="lepton-batcher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the model thread after the batches already queued."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=30)
            self._thread = None

    async def submit(self, items: Sequence[Any], records: Sequence[Any] = ()) -> list[Any]:
        """Predict ``items`` (validated) within some batch; ``records`` (raw) feed the after-batch hook."""
        depth = self.depth
        if depth and depth + len(items) > self.max_queue_items:
            raise QueueFull(f"{depth} items waiting")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[list[Any]] = loop.create_future()
        self._submitted += len(items)
        self._queue.put(_Entry(items, records, future, loop))
        return await future

    def _work(self) -> None:
        carry: _Entry | None = None
        while True:
            entry = carry if carry is not None else self._queue.get()
            carry = None
            if entry is None:
                return
            batch, size = [entry], len(entry.items)
            while size < self.max_batch_size:
                try:
                    follower = self._queue.get_nowait()
                except queue.Empty:
                    break
                if follower is None:
                    self._queue.put(None)
                    break
                if size + len(follower.items) > self.max_batch_size:
                    carry = follower
                    break
                batch.append(follower)
                size += len(follower.items)
            self._taken += size
            results = self._run(batch)
            by_loop: dict[asyncio.AbstractEventLoop, list[tuple[_Entry, Any]]] = {}
            for result in results:
                by_loop.setdefault(result[0].loop, []).append(result)
            for loop, settled in by_loop.items():
                if not loop.is_closed():
                    loop.call_soon_threadsafe(_settle, settled)
            if self.after_batch is not None:
                self.after_batch([r for e in batch for r in e.records])

    def _run(self, batch: list[_Entry]) -> list[tuple[_Entry, list[Any] | BaseException]]:
        """Run a batch; if it fails, rerun each request alone so one bad request fails only itself."""
        items = [item for entry in batch for item in entry.items]
        start = time.perf_counter()
        try:
            outputs = self.predict(items)
            if len(outputs) != len(items):
                raise RuntimeError(f"predictor returned {len(outputs)} outputs for {len(items)} items")
        except Exception as exc:  # noqa: BLE001 - handed to the request that caused it
            if len(batch) == 1:
                return [(batch[0], exc)]
            return [result for entry in batch for result in self._run([entry])]
        if self.on_batch is not None:
            self.on_batch(len(items), time.perf_counter() - start)
        results: list[tuple[_Entry, list[Any] | BaseException]] = []
        offset = 0
        for entry in batch:
            results.append((entry, outputs[offset : offset + len(entry.items)]))
            offset += len(entry.items)
        return results
