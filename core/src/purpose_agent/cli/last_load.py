"""What ``plugins list`` remembers of the last time it imported the plugins.

Importing every installed plugin is most of what ``plugins list`` costs, and what an import finds
(the plugin loads, with these warnings) changes only when code or installed distributions
change. So the listing keeps the outcome of each successful load in the state directory
(``plugin-loads-*.json``), stamped with everything that outcome depended on:

- the interpreter, purpose-agent's version and hook API, and ``sys.path`` with the modification
  time of each entry (installing, upgrading or removing a distribution adds or removes a
  directory in its ``site-packages``, which changes that time) — for the working directory,
  whose time changes with any file written there, the distributions' metadata it holds;
- the size and modification time of every module file outside the standard library that was
  imported when the plugins were loaded, and of the directories holding them (an edited, added
  or removed file changes these).

A plugin is shown from memory only while the whole stamp matches, its distribution, version,
target and roles are the ones remembered, and it has no settings section (those are validated
on load). A failed plugin is never remembered: it is imported every time, so a broken plugin is
always shown failed with its current error. ``plugins list --check`` imports everything anew.
"""

from __future__ import annotations

import json
import os
import sys
import zlib
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..hookspecs import HOOK_API_VERSION
from ..kernel import STATUS_AVAILABLE, STATUS_OK, Kernel, PluginRecord
from ..version import __version__

#: Bump when the file's shape changes: a file of another format is ignored, never misread.
FORMAT = 1
#: One file per interpreter and ``sys.path`` (the console script and ``python -m`` in each
#: directory see different ones); beyond this many, the least recently written go.
KEEP_FILES = 8


def memory_file(state_dir: Path) -> Path:
    """The file that remembers loads for this interpreter and ``sys.path``."""
    # Two cheap checksums, not hashlib (its import alone costs ~4 ms of every listing): a clash
    # between two paths would only make them take turns, as the stamp inside still has to match.
    data = json.dumps([sys.executable, sys.path]).encode()
    key = f"{zlib.crc32(data):08x}{zlib.adler32(data):08x}"
    return state_dir / f"plugin-loads-{key}.json"


def listed_records(kernel: Kernel) -> tuple[list[PluginRecord], int]:
    """Every plugin's record as ``plugins list`` shows it, and how many came from memory.

    Enabled plugins the kernel has not imported are shown from memory when nothing they depend
    on changed, else imported now (and remembered if they load). The kernel's own records are
    not altered: one shown from memory stays ``available`` in the kernel, as it is not imported.
    """
    path = memory_file(kernel.state_dir())
    memory = _read(path)
    shown: dict[str, PluginRecord] = {}
    remembered: dict[str, dict[str, Any]] = {}
    imported_now = False
    for record in kernel.plugins():
        entry: Any = memory["plugins"].get(record.id) if memory else None
        if record.status == STATUS_AVAILABLE and _matches(record, entry) and not kernel.config.plugin_settings(record.id):
            shown[record.id] = replace(record, status=STATUS_OK, warnings=list(entry["warnings"]))
            remembered[record.id] = entry
            continue
        if record.status == STATUS_AVAILABLE:
            kernel.ensure_plugin(record.id)
            imported_now = True
        shown[record.id] = record
    if imported_now:
        _write(path, kernel, remembered, memory["files"] if memory else {})
    return sorted(shown.values(), key=lambda r: r.id), len(remembered)


def _matches(record: PluginRecord, entry: Any) -> bool:
    """Whether a remembered ``entry`` is about this plugin as it is installed now."""
    return (isinstance(entry, dict) and isinstance(entry.get("warnings"), list)
            and entry.get("distribution") == record.distribution and entry.get("version") == record.version
            and entry.get("target") == record.target and entry.get("roles") == list(record.roles))


def _stamp() -> dict[str, Any]:
    """What every remembered outcome depends on, apart from the imported files."""
    return {"format": FORMAT, "python": sys.version, "executable": sys.executable, "purpose_agent": __version__,
            "hook_api": HOOK_API_VERSION, "path": [[entry, _entry_stamp(entry)] for entry in sys.path]}


def _entry_stamp(entry: str) -> Any:
    """What says a ``sys.path`` entry gained or lost a distribution: its modification time, except
    for the working directory (``python -m`` puts it first), whose time changes with every file
    written there: for it, the names of the distributions' metadata directories it holds."""
    where = entry or "."
    try:
        if os.path.samefile(where, "."):
            return sorted(name for name in os.listdir(where) if name.endswith((".dist-info", ".egg-info")))
    except OSError:
        return None
    return _mtime(where)


def _mtime(path: str) -> int | None:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return None


def _file_stamp(path: str) -> list[int] | None:
    try:
        status = os.stat(path)
    except OSError:
        return None
    return [status.st_mtime_ns, status.st_size]


def _read(path: Path) -> dict[str, Any] | None:
    """The remembered outcomes, or ``None`` if there are none or anything they depend on changed."""
    try:
        memory = json.loads(path.read_bytes())
    except (OSError, ValueError):  # none yet, unreadable or half-written by a crashed run: import anew
        return None
    try:
        if memory["stamp"] != _stamp():
            return None
        for name, stamp in memory["files"].items():
            if _file_stamp(name) != stamp:
                return None
        for name, mtime in memory["directories"].items():
            if _mtime(name) != mtime:
                return None
        if not isinstance(memory["plugins"], dict):
            return None
    except (KeyError, TypeError, AttributeError):  # another shape: not ours to interpret
        return None
    return memory  # type: ignore[no-any-return]


def _imported_files() -> dict[str, list[int] | None]:
    """Size and modification time of every imported module file outside the standard library."""
    stdlib = sys.stdlib_module_names
    files = {}
    for name, module in list(sys.modules.items()):
        origin = getattr(module, "__file__", None)
        if origin and name.partition(".")[0] not in stdlib:
            files[origin] = _file_stamp(origin)
    return files


def _write(path: Path, kernel: Kernel, remembered: dict[str, dict[str, Any]], files: dict[str, Any]) -> None:
    """Remember every plugin that is loaded and ok now, with the stamp of what it depends on."""
    plugins = dict(remembered)
    for record in kernel.plugins():
        if record.status == STATUS_OK and record.obj is not None:
            plugins[record.id] = {"distribution": record.distribution, "version": record.version,
                                  "target": record.target, "roles": list(record.roles),
                                  "warnings": list(record.warnings)}
    files = {**files, **_imported_files()}
    directories = {os.path.dirname(name): _mtime(os.path.dirname(name)) for name in files}
    memory = {"stamp": _stamp(), "files": files, "directories": directories, "plugins": plugins}
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    try:  # a listing must work where state cannot be written (read-only home): then it just imports
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_text(json.dumps(memory))
        os.replace(temporary, path)  # atomic: a concurrent reader sees the old file or the new one
        others = sorted(path.parent.glob("plugin-loads-*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
        for stale in others[KEEP_FILES:]:
            stale.unlink(missing_ok=True)
    except OSError:
        try:
            temporary.unlink(missing_ok=True)
        except OSError:  # no directory to hold it either
            pass
