"""purpose-agent-optimize: traces, capability fingerprints, dataset export and prompt packs.

The plugin plays three roles under one id, ``optimize``:

* **observer** (``watch_run``): every finished team run is recorded, one record per member
  role, in ``<state dir>/optimize/optimize.sqlite`` (``[plugins.optimize] record = false`` stops it);
* **protocol** (``instructions``): the prompt pack adopted for a role is given to that role's
  runs as standing instructions (``apply_packs = false`` stops it);
* **command**: ``purpose-agent optimize fingerprint|export|propose|shadow|status|rollback``.

Importing it imports nothing heavy: SQLite, pydantic and the analysis modules load on first use.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

from purpose_agent.hookspecs import hookimpl, register_lazily

if TYPE_CHECKING:
    from .store import OptimizeStore

PURPOSE_AGENT_HOOK_API = "1.6"

#: The id ``purpose_agent.testing.make_kernel`` registers this module under (same as the entry point).
plugin_id = "optimize"

#: The success threshold on the critic's 0..10 scale when no settings are given.
DEFAULT_SUCCESS_SCORE = 7.0

_stores: dict[Path, OptimizeStore] = {}
_stores_lock = threading.Lock()
# Packs a shadow evaluation applies instead of the adopted ones, per kernel: role -> (version, text).
_overrides: WeakKeyDictionary[Any, dict[str, tuple[int | None, str | None]]] = WeakKeyDictionary()
_overrides_lock = threading.Lock()


@hookimpl
def settings_model() -> Any:
    """``[plugins.optimize]``: what is recorded, where, and what counts as a success."""
    from pydantic import BaseModel, Field

    class OptimizeSettings(BaseModel):
        record: bool = Field(default=True, description="record every finished team run")
        apply_packs: bool = Field(default=True, description="give each role its adopted prompt pack")
        directory: str = Field(default="", description="where the optimizer's file lives ('' = <state dir>/optimize)")
        success_score: float = Field(default=DEFAULT_SUCCESS_SCORE, ge=0.0, le=10.0,
                                     description="the critic score (0..10) from which a run counts as a success")
        max_text_chars: int = Field(default=20_000, ge=200, le=1_000_000,
                                    description="longest task, answer or tool output recorded, in characters")

    return OptimizeSettings


def store_path(kernel: Any, settings: Any = None) -> Path:
    """The optimizer's SQLite file for ``kernel`` and ``[plugins.optimize]``."""
    from .store import default_path

    directory = getattr(settings, "directory", "") if settings is not None else ""
    if directory:
        return Path(directory).expanduser() / "optimize.sqlite"
    return default_path(Path(kernel.state_dir()))


def open_store(kernel: Any, settings: Any = None) -> OptimizeStore:
    """The optimizer's store for ``kernel`` (one connection per file per process)."""
    return _open_store_at(store_path(kernel, settings))


def _open_store_at(path: Path) -> OptimizeStore:
    from .store import OptimizeStore

    with _stores_lock:
        store = _stores.get(path)
        if store is None:
            store = _stores[path] = OptimizeStore(path)
        return store


@contextmanager
def packs_applied(kernel: Any, packs: Mapping[str, tuple[int | None, str | None]]) -> Iterator[None]:
    """Within the block, runs on ``kernel`` get these packs (role -> (version, text or None))
    instead of the adopted ones, and are recorded as shadow runs. Used by shadow evaluation;
    one evaluation per kernel at a time."""
    with _overrides_lock:
        if kernel in _overrides:
            raise RuntimeError("a shadow evaluation is already running on this kernel; run them one after another")
        _overrides[kernel] = dict(packs)
    try:
        yield
    finally:
        with _overrides_lock:
            _overrides.pop(kernel, None)


def _override(kernel: Any) -> dict[str, tuple[int | None, str | None]] | None:
    with _overrides_lock:
        return _overrides.get(kernel)


def success_score_of(settings: Any) -> float:
    """The success threshold (0..10) from `[plugins.optimize]`, or the default."""
    return float(getattr(settings, "success_score", DEFAULT_SUCCESS_SCORE)) if settings is not None else DEFAULT_SUCCESS_SCORE


@hookimpl
def watch_run(run: Any, settings: Any, kernel: Any) -> None:
    """Record the run when it finishes (unless ``record = false``)."""
    if settings is not None and not settings.record:
        return
    from .traces import watch

    override = _override(kernel)

    def packs(roles: list[str]) -> dict[str, int | None]:
        if override is not None:
            return {role: override[role][0] for role in roles if role in override}
        if settings is not None and not settings.apply_packs:
            return {}
        store = open_store(kernel, settings)
        return {role: pack.version for role in roles if (pack := store.adopted(role)) is not None}

    # Where the run is recorded is decided now, as it starts: the recorder thread writes later,
    # when the state directory's environment may already name another place.
    destination = store_path(kernel, settings)
    watch(run, lambda: _open_store_at(destination), success_score=success_score_of(settings),
          shadow=override is not None, packs=packs,
          limit=settings.max_text_chars if settings is not None else 20_000)


@hookimpl
def instructions(role: str, settings: Any, kernel: Any) -> list[str] | None:
    """The prompt pack for ``role``: a shadow evaluation's, else the adopted one."""
    override = _override(kernel)
    if override is not None:
        _version, text = override.get(role, (None, None))
        return [text] if text else None
    if not role or (settings is not None and not settings.apply_packs):
        return None
    path = store_path(kernel, settings)
    if not path.exists():  # nothing was ever adopted here: do not create the file for a lookup
        return None
    pack = open_store(kernel, settings).adopted(role)
    return [pack.text] if pack is not None else None


register_commands = register_lazily("optimize", "purpose_agent_optimize.command:OptimizeCommand",
                                    description="fingerprints, dataset export, prompt packs adopted by shadow evaluation, rollback")
