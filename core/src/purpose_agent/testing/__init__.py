"""The testing kit: build kernels from in-memory plugins, and script a model.

::

    from purpose_agent.testing import make_kernel, plugin, ScriptedBackend

    kernel = make_kernel(plugin("fake", register_backends=lambda register: register(
        "fake", lambda model, context: ScriptedBackend(["hello"]))))
    assert kernel.backend("fake:any").complete(request).message.content == "hello"

A kernel from :func:`make_kernel` never reads config files, the environment or installed entry
points, so tests see exactly the plugins they pass in. The conformance suites for each role, built
on these helpers, are the distribution ``purpose-agent-conformance`` (package
``purpose_agent_conformance``); :class:`HashingEmbedder` is a deterministic stand-in embedder for
offline tests of code that uses embeddings.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import SimpleNamespace
from typing import Any

from ..config import load_config
from ..discovery import Candidate, builtin_candidates, local_store_candidates
from ..hookspecs import hookimpl
from ..kernel import Kernel
from ..version import __version__
from .backends import FunctionBackend, ScriptedBackend, ScriptExhausted
from .embedders import HashingEmbedder

__all__ = ["FunctionBackend", "HashingEmbedder", "ScriptExhausted", "ScriptedBackend", "make_kernel", "plugin"]


def plugin(plugin_id: str, **hooks: Callable[..., Any]) -> Any:
    """Make an in-memory plugin object from hook functions given by hook name.

    The functions' parameter names must be hook argument names (a subset is fine), exactly as
    in a real plugin. The object carries ``plugin_id`` so :func:`make_kernel` can name it.
    """
    namespace = SimpleNamespace(plugin_id=plugin_id)
    for hook_name, function in hooks.items():
        setattr(namespace, hook_name, hookimpl(specname=hook_name)(function))
    return namespace


def make_kernel(
    *plugins: Any,
    config: Mapping[str, Any] | None = None,
    builtins: bool = False,
    strict: bool = False,
    roles: Mapping[str, list[str]] | None = None,
) -> Kernel:
    """Build a kernel from in-memory plugins, isolated from whatever is installed.

    Args:
        plugins: plugin objects (modules, classes, :func:`plugin` results), or mappings
            ``{plugin_id: object}`` to give ids explicitly (use the id of your entry point). An
            object's id is otherwise its ``plugin_id`` attribute, else its module or class name
            with ``_`` turned into ``-``.
        config: configuration data, as if read from TOML (``{"plugins": {"x": {...}}}``).
        builtins: also offer the kernel's built-in plugins and, when ``purpose-agent-sqlite`` is
            installed, its memory stores ``sqlite`` and ``memory`` (built-ins until the kernel
            stopped shipping a store), so a team in a test remembers and ranks as in production.
        strict: turn every plugin problem into an error.
        roles: optional ``{plugin_id: [roles]}``; by default roles are inferred from the hooks
            each plugin implements.
    """
    candidates = [*builtin_candidates(__version__), *local_store_candidates()] if builtins else []
    named: list[tuple[str, Any]] = []
    for obj in plugins:
        if isinstance(obj, Mapping):
            named.extend((str(k), v) for k, v in obj.items())
        else:
            named.append((_plugin_id(obj), obj))
    for plugin_id, obj in named:
        candidates.append(
            Candidate(
                id=plugin_id,
                distribution="(in-memory)",
                version="",
                roles=set((roles or {}).get(plugin_id, [])),
                target=repr(obj),
                source="in-memory",
                load=_returns(obj),
                origins=["(in-memory)"],
            )
        )
    merged: dict[str, Candidate] = {}
    for candidate in candidates:
        if candidate.id in merged:
            raise ValueError(f"two in-memory plugins share the id '{candidate.id}'; give one a plugin_id")
        merged[candidate.id] = candidate
    kernel = Kernel(load_config(config, isolated=True), merged.values(), strict=strict)
    # In-memory plugins have no entry-point groups to declare roles, so load them now and let
    # the kernel infer roles from their hooks; lazy loading needs declared roles.
    for record in list(kernel.records.values()):
        if record.source == "in-memory" and record.status == "available":
            kernel.ensure_plugin(record.id)
    return kernel


def _returns(obj: Any) -> Callable[[], Any]:
    """A loader for an object that is already in memory."""
    return lambda: obj


def _plugin_id(obj: Any) -> str:
    explicit = getattr(obj, "plugin_id", None)
    if isinstance(explicit, str):
        return explicit
    name = getattr(obj, "__name__", None) or type(obj).__name__
    return str(name).rsplit(".", 1)[-1].lower().replace("_", "-")
