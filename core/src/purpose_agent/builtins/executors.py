"""Built-in plugin ``executors``: ``in-process``, where ``swarm`` runs its tasks by default.

Every task runs on the caller's event loop, at most ``max_in_flight`` at a time (option, default
8), as :func:`purpose_agent.swarm` always has. It accepts any worker: an agent, a function (sync or
async) or a :class:`purpose_agent.interfaces.WorkerSpec` (built once in this process).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from purpose_agent.hookspecs import hookimpl

PURPOSE_AGENT_HOOK_API = "1.5"


class InProcessExecutor:
    """Tasks on this process's event loop (see the module docstring)."""

    def __init__(self, max_in_flight: int = 8) -> None:
        if not isinstance(max_in_flight, int) or isinstance(max_in_flight, bool) or max_in_flight < 1:
            raise ValueError(f"max_in_flight must be a whole number of at least 1, not {max_in_flight!r}")
        self.max_in_flight = max_in_flight

    async def amap(self, worker: Any, tasks: Sequence[Any], *, retries: int = 0) -> list[Any]:
        """Run ``worker`` on every task; results in task order, exceptions in place."""
        from purpose_agent.runtime.flow import run_here

        if retries < 0:
            raise ValueError(f"retries must be 0 or more, not {retries}")
        return await run_here(tasks, worker, max_in_flight=self.max_in_flight, retries=retries)

    def close(self) -> None:
        """Nothing to release: the tasks ran on the caller's loop."""


def _in_process(context: Any) -> InProcessExecutor:
    return InProcessExecutor(**context.options)


@hookimpl
def register_executors(register: Callable[..., None]) -> None:
    """The ``in-process`` executor."""
    register("in-process", _in_process, description="tasks on the caller's event loop (the default)")
