"""Events: what the loop tells the world, and the bus that carries it.

Every transition of a run emits an :class:`~purpose_agent.models.Event`. The bus delivers it

* to synchronous observer plugins (the ``on_event`` hook), in the loop's thread — keep them fast;
* to async subscribers, each through its own bounded queue: a slow subscriber never blocks the
  loop; when its queue is full the event is dropped *for that subscriber* and counted, and the
  count is reported (``bus.dropped``) and emitted as a ``bus.dropped`` event at the end of a run.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..kernel import Kernel
    from ..models import Event

# Canonical event types. Plugins may emit others; these are the ones the loop guarantees.
RUN_STARTED = "run.started"
RUN_FINISHED = "run.finished"
RUN_RESUMED = "run.resumed"
STEP_STARTED = "step.started"
STEP_FINISHED = "step.finished"
MODEL_CALLED = "model.called"
MODEL_FINISHED = "model.finished"
MODEL_REPAIR = "model.repair"
TOOL_CALLED = "tool.called"
TOOL_FINISHED = "tool.finished"
TOOL_SKIPPED = "tool.skipped"  # already completed before a resume; not run twice
TOOL_FLAGGED = "tool.flagged"  # the immune scanners flagged a tool's output (after tool.finished)
CRITIC_SCORED = "critic.scored"
MEMORY_RETRIEVED = "memory.retrieved"
MEMORY_CHANGED = "memory.changed"
ERROR = "error"
BUS_DROPPED = "bus.dropped"
TEAM_STARTED = "team.started"  # a team run began: the first event of a run handle
TEAM_FINISHED = "team.finished"  # a team run ended (answer, error or cancel): always the last
PROTOCOL_UNAVAILABLE = "protocol.unavailable"  # a protocol adapter could not offer (part of) its tools

EVENT_TYPES = (
    RUN_STARTED, RUN_FINISHED, RUN_RESUMED, STEP_STARTED, STEP_FINISHED, MODEL_CALLED, MODEL_FINISHED,
    MODEL_REPAIR, TOOL_CALLED, TOOL_FINISHED, TOOL_SKIPPED, TOOL_FLAGGED, CRITIC_SCORED, MEMORY_RETRIEVED, MEMORY_CHANGED,
    ERROR, BUS_DROPPED, TEAM_STARTED, TEAM_FINISHED, PROTOCOL_UNAVAILABLE,
)

AsyncSubscriber = Callable[["Event"], Awaitable[None]]


@dataclass
class _Subscription:
    callback: AsyncSubscriber
    queue: asyncio.Queue[Event | None]
    loop: asyncio.AbstractEventLoop
    task: asyncio.Task[None] | None = None
    dropped: int = 0
    name: str = ""


@dataclass
class EventBus:
    """Delivers events to observer plugins, async subscribers and plain callbacks."""

    kernel: Kernel | None = None
    queue_size: int = 1000
    _subscriptions: list[_Subscription] = field(default_factory=list)
    _callbacks: list[Callable[[Event], None]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def listen(self, callback: Callable[[Event], None]) -> None:
        """Call ``callback(event)`` synchronously for every event (for progress displays, tests)."""
        self._callbacks.append(callback)

    def subscribe(self, callback: AsyncSubscriber, *, name: str = "", queue_size: int | None = None) -> None:
        """Deliver events to an async callback through a bounded queue on the running loop."""
        loop = asyncio.get_running_loop()
        subscription = _Subscription(callback, asyncio.Queue(queue_size or self.queue_size), loop,
                                     name=name or getattr(callback, "__name__", "subscriber"))
        subscription.task = loop.create_task(self._pump(subscription))
        with self._lock:
            self._subscriptions.append(subscription)

    async def _pump(self, subscription: _Subscription) -> None:
        while True:
            event = await subscription.queue.get()
            if event is None:
                return
            try:
                await subscription.callback(event)
            except Exception:  # a broken subscriber must not take the run down; it is dropped
                with self._lock:
                    if subscription in self._subscriptions:
                        self._subscriptions.remove(subscription)
                return

    def listening(self) -> bool:
        """Whether an event emitted now reaches anyone (a callback, a subscriber, an observer
        plugin): the loop builds its events only then, which a swarm of short runs notices."""
        if self._callbacks or self._subscriptions:
            return True
        if self.kernel is None:
            return False
        # a kernel-like object without the question (a stand-in in tests) is assumed to observe
        observes = getattr(self.kernel, "observes_events", None)
        return observes() if observes is not None else True

    def emit(self, event: Event) -> None:
        """Deliver ``event`` everywhere; never blocks on an async subscriber."""
        if self.kernel is not None:
            self.kernel.emit(event)
        for callback in self._callbacks:
            callback(event)
        with self._lock:
            subscriptions = list(self._subscriptions)
        for subscription in subscriptions:
            try:
                running = asyncio.get_running_loop()
            except RuntimeError:
                running = None
            if running is subscription.loop:
                self._offer(subscription, event)
            else:
                subscription.loop.call_soon_threadsafe(self._offer, subscription, event)

    @staticmethod
    def _offer(subscription: _Subscription, event: Event | None) -> None:
        try:
            subscription.queue.put_nowait(event)
        except asyncio.QueueFull:
            subscription.dropped += 1

    @property
    def dropped(self) -> dict[str, int]:
        """Events dropped per async subscriber because its queue was full."""
        with self._lock:
            return {s.name: s.dropped for s in self._subscriptions if s.dropped}

    async def drain(self) -> None:
        """Let every async subscriber finish what is queued, then stop them."""
        with self._lock:
            subscriptions = list(self._subscriptions)
        for subscription in subscriptions:
            while True:
                try:
                    subscription.queue.put_nowait(None)
                    break
                except asyncio.QueueFull:
                    await asyncio.sleep(0.001)
            if subscription.task is not None:
                await subscription.task


class JsonlTrace:
    """Writes every event as one JSON line (``purpose-agent run --trace FILE``)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._handle: IO[str] = self.path.open("a", encoding="utf-8")
        self._lock = threading.Lock()

    def __call__(self, event: Event) -> None:
        line = event.model_dump_json()
        with self._lock:
            self._handle.write(line + "\n")
            self._handle.flush()

    def close(self) -> None:
        """Close the file."""
        self._handle.close()


def read_trace(path: str | Path) -> list[dict[str, Any]]:
    """Read a JSONL trace back; a truncated last line (a crash mid-write) is skipped."""
    events = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return events


def describe_event(event: Event) -> str | None:
    """One line of progress a remote client reads for a loop event, or ``None`` for events not worth
    telling a waiting client about. The protocol servers (A2A ``working`` updates, MCP progress
    notifications) send these lines, so a client sees a run the same way whichever protocol it uses.
    Offered to plugins by :mod:`purpose_agent.interfaces`."""
    data = event.data
    if event.type == RUN_STARTED:
        return "member started"
    if event.type == PROTOCOL_UNAVAILABLE:
        return f"unavailable: {data.get('reason')}"
    if event.type == MODEL_FINISHED:
        action = data.get("action")
        return f"step {event.step}: calling tool {data.get('tool')}" if action == "tool" else f"step {event.step}: {action}"
    if event.type == TOOL_FINISHED:
        return f"tool {data.get('tool')}: {'ok' if data.get('ok') else 'failed'}"
    if event.type == TOOL_FLAGGED:
        return f"tool {data.get('tool')} output flagged by the immune scanners"
    if event.type == CRITIC_SCORED:
        return f"scored {data.get('score')}/10 by {data.get('critic')}"
    if event.type == RUN_FINISHED:
        return f"member finished: {data.get('stopped')}"
    return None
