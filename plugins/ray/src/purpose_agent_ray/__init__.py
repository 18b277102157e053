"""purpose-agent-ray: run a swarm's tasks on a Ray cluster.

::

    # purpose-agent.toml (the same file on every machine)
    [runtime]
    executor = "ray"              # or pa.swarm(tasks, spec, executor="ray")

    [plugins.ray]
    address = "auto"              # the cluster `ray start --head` started; unset: see RaySettings
    workers = 4                   # worker processes (Ray actors), each running many tasks at once

    spec = pa.WorkerSpec(factory=my_module.build_agent, config_path="/etc/agents/purpose-agent.toml")
    results = pa.swarm(tasks, spec, executor="ray", concurrency=64, retries=2)

Each worker process loads its kernel from ``config_path`` and builds the agent once; tasks go to
the least busy worker, at most ``concurrency`` in flight. Importing this module imports neither
ray nor pydantic; ray loads with the first batch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from purpose_agent.hookspecs import lazy_settings, register_lazily

if TYPE_CHECKING:
    from .executor import RayExecutor

PURPOSE_AGENT_HOOK_API = "1.5"

#: The id ``purpose_agent.testing.make_kernel`` registers this module under (same as the entry point).
plugin_id = "ray"

__all__ = ["RayExecutor"]


def __getattr__(name: str) -> Any:
    if name == "RayExecutor":
        from .executor import RayExecutor

        return RayExecutor
    raise AttributeError(f"module 'purpose_agent_ray' has no attribute '{name}'")


settings_model = lazy_settings("purpose_agent_ray.executor:settings_model")


register_executors = register_lazily("ray", "purpose_agent_ray.executor:open_executor",
                                     description="tasks spread over a Ray cluster's worker processes")
