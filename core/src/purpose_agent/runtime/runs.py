"""A team run seen from outside while it happens: its events live, its result, cancelling it.

``team.start(task)`` returns a :class:`TeamRun` at once; protocol servers (MCP progress, A2A
streaming, AG-UI) read ``handle.events()`` and map each event to their protocol, and plugins
that watch runs they did not start receive the same handle through the ``watch_run`` hook.
Every team run has one, ``team.run()`` and ``team.arun()`` included.

Readers may live on any event loop in any thread: each reader has its own bounded buffer, so a
slow reader never blocks the run (it loses events, counted in :attr:`TeamRun.dropped`), and the
run's last event, ``team.finished``, always arrives.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import Any

from ..models import Event, new_id
from . import events as ev

__all__ = ["TeamRun"]

#: Events kept for readers that attach late (``events(replay=True)``); older ones are forgotten.
HISTORY_LIMIT = 10_000


class _Reader:
    """One reader's buffer: filled from the run's thread, drained on the reader's event loop."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.items: deque[Event] = deque()
        self.closed = False
        self.dropped = 0
        self.waiter: tuple[asyncio.AbstractEventLoop, asyncio.Future[None]] | None = None

    def offer(self, event: Event, *, last: bool) -> None:
        # Called with the run's lock held.
        if len(self.items) >= self.limit and not last:
            self.dropped += 1
            return
        self.items.append(event)
        if last:
            self.closed = True
        self._wake()

    def close(self) -> None:
        self.closed = True
        self._wake()

    def _wake(self) -> None:
        if self.waiter is None:
            return
        loop, future = self.waiter
        self.waiter = None
        try:
            loop.call_soon_threadsafe(_resolve, future)
        except RuntimeError:  # the reader's loop is closed: nobody is waiting any more
            pass


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class TeamRun:
    """The handle of one team run (satisfies :class:`purpose_agent.interfaces.RunHandle`)."""

    def __init__(self, task: str, *, run_id: str | None = None) -> None:
        self.run_id = run_id or new_id()
        self.task = task
        self._lock = threading.Lock()
        self._history: deque[Event] = deque(maxlen=HISTORY_LIMIT)
        self._listeners: list[Callable[[Event], None]] = []
        self._readers: list[_Reader] = []
        self._lost = 0  # events dropped by readers that have since finished
        self._stop = threading.Event()
        self._finished = threading.Event()
        self._outcome: tuple[Any, BaseException | None] | None = None
        self._task: asyncio.Task[Any] | None = None

    # ------------------------------------------------------------------ state

    @property
    def done(self) -> bool:
        """Whether ``team.finished`` has been emitted."""
        return self._finished.is_set()

    @property
    def cancelled(self) -> bool:
        """Whether :meth:`cancel` was called."""
        return self._stop.is_set()

    @property
    def stop_signal(self) -> threading.Event:
        """The event the run's member loops watch (``Runner.stop``)."""
        return self._stop

    @property
    def dropped(self) -> int:
        """Events lost by readers that fell more than their queue behind."""
        with self._lock:
            return self._lost + sum(reader.dropped for reader in self._readers)

    # ------------------------------------------------------------------ subscribing

    def listen(self, callback: Callable[[Event], None]) -> None:
        """Call ``callback(event)`` for every later event, synchronously in the run's thread."""
        with self._lock:
            self._listeners.append(callback)

    def events(self, *, replay: bool = True, queue_size: int = 1000) -> AsyncIterator[Event]:
        """Iterate the run's events from any event loop; ends after ``team.finished``.

        The reader is registered by this call (not at the first ``anext``), so nothing emitted
        after it is missed. With ``replay``, the events already emitted come first.
        """
        if queue_size < 1:
            raise ValueError(f"queue_size must be at least 1, got {queue_size}")
        reader = _Reader(queue_size)
        with self._lock:
            if replay:
                reader.items.extend(self._history)  # the replayed past is not counted against the bound
            if self._finished.is_set():
                reader.closed = True
            else:
                self._readers.append(reader)
        return self._read(reader)

    async def _read(self, reader: _Reader) -> AsyncIterator[Event]:
        try:
            while True:
                with self._lock:
                    if reader.items:
                        event = reader.items.popleft()
                    elif reader.closed:
                        return
                    else:
                        loop = asyncio.get_running_loop()
                        future: asyncio.Future[None] = loop.create_future()
                        reader.waiter = (loop, future)
                        event = None
                if event is None:
                    await future
                    continue
                yield event
        finally:
            with self._lock:
                reader.waiter = None
                if reader in self._readers:
                    self._readers.remove(reader)
                    self._lost += reader.dropped

    # ------------------------------------------------------------------ the run's side

    def emit(self, event: Event) -> None:
        """Deliver one event of this run to its listeners and readers (called by the team)."""
        last = event.type == ev.TEAM_FINISHED
        with self._lock:
            self._history.append(event)
            listeners = list(self._listeners)
            for reader in self._readers:
                reader.offer(event, last=last)
        for callback in listeners:
            callback(event)

    def finish(self, result: Any = None, error: BaseException | None = None) -> None:
        """Record the outcome after ``team.finished`` was emitted; wakes :meth:`result` waiters."""
        with self._lock:
            self._outcome = (result, error)
            for reader in self._readers:
                reader.close()
        self._finished.set()

    def attach(self, task: asyncio.Task[Any]) -> None:
        """Remember the asyncio task that runs this (``team.start``)."""
        self._task = task

    # ------------------------------------------------------------------ control

    def cancel(self) -> None:
        """Ask the run to stop after the step in progress (thread-safe); it still finishes cleanly."""
        self._stop.set()

    async def result(self) -> Any:
        """Wait for the run and return its ``TeamResult`` (or raise what the run raised)."""
        if not self._finished.is_set():
            task = self._task
            if task is not None and task.get_loop() is asyncio.get_running_loop():
                await asyncio.shield(task)
            else:  # waited for from another loop or thread
                await asyncio.to_thread(self._finished.wait)
        assert self._outcome is not None
        result, error = self._outcome
        if error is not None:
            raise error
        return result

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the run finished (from a thread that is not running it); ``False`` on timeout."""
        return self._finished.wait(timeout)
