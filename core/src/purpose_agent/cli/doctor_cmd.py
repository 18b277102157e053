"""``purpose-agent doctor``: is this installation healthy, and if not, what to do."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ..errors import PurposeAgentError
from ..hookspecs import HOOK_API_VERSION
from ..terminal_text import printable
from ..version import __version__
from .models_cmd import advice, key_action, missing_key, status_cell
from .tables import colour_wanted, render_table


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.set_defaults(run=run)


def collect() -> dict[str, Any]:
    """Gather the report; every failure becomes a line in ``problems``."""
    import platform  # 8 ms to import; only doctor needs it

    from ..config import load_config
    from ..kernel import Kernel

    report: dict[str, Any] = {
        "purpose_agent": __version__,
        "hook_api": HOOK_API_VERSION,
        "python": f"{platform.python_implementation()} {platform.python_version()} ({sys.executable})",
        "config_files": [],
        "plugins": [],
        "backends": [],
        "sandboxes": [],
        "problems": [],
    }
    try:
        config = load_config()
    except PurposeAgentError as exc:
        # Without a configuration nothing can say which plugins are enabled, so none is loaded;
        # the installed ones are still listed, so a broken file is not mistaken for missing plugins.
        report["problems"].append(str(exc))
        report["config_error"] = str(exc)
        report["plugins"] = _installed_plugins()
        return report
    report["config_files"] = [
        {"layer": layer.label, "path": str(layer.path) if layer.path else None, "found": layer.exists}
        for layer in config.layers
    ]
    kernel = Kernel.load(config=config, strict=False)
    kernel.load_all()
    for name, registration in sorted(kernel.components("backend").items()):
        report["backends"].append(_backend_entry(kernel, name, registration.plugin_id))
    for name, registration in sorted(kernel.components("sandbox").items()):
        entry: dict[str, Any] = {"name": name, "plugin": registration.plugin_id}
        try:
            sandbox = kernel.sandbox(name)
            entry["layers"] = [layer.model_dump() for layer in sandbox.layers()]
        except Exception as exc:
            entry["error"] = f"{type(exc).__name__}: {exc}"
            report["problems"].append(f"sandbox {name}: {entry['error']}")
        report["sandboxes"].append(entry)
    report["memory"] = _memory_entry(kernel, config)
    if "error" in report["memory"]:
        report["problems"].append(f"memory store {report['memory']['store']}: {report['memory']['error']}")
    # A scanner that raises on every text only shows when it scans: scan one harmless sentence.
    kernel.check_scanners()
    # Last, so failures found while building components above are included.
    report["plugins"] = [r.as_dict() for r in kernel.plugins()]
    report["problems"] += kernel.problems()
    return report


def _installed_plugins() -> list[dict[str, Any]]:
    """Every installed plugin, from entry-point metadata alone (nothing imported), with status
    ``unchecked``: for when the configuration cannot be read."""
    from ..discovery import builtin_candidates, entry_point_candidates, merge_candidates
    from ..kernel import PluginRecord

    candidates = merge_candidates([builtin_candidates(__version__), entry_point_candidates()])
    return [
        PluginRecord(id=c.id, distribution=c.distribution, version=c.version, roles=sorted(c.roles),
                     status="unchecked", reason=c.problem or "not loaded: the configuration could not be read",
                     source=c.source, target=c.target).as_dict()
        for c in sorted(candidates.values(), key=lambda c: c.id)
    ]


def _memory_entry(kernel: Any, config: Any) -> dict[str, Any]:
    """The configured memory store and, when it says (an optional ``retrieval()`` returning
    ``{aspect: sentence}``), which retrieval it uses. Only a store named in ``[memory] store`` is
    opened: the default one is not created by asking after it."""
    name = config.get("memory.store")
    if not name:
        from ..kernel import default_memory_store, missing_store_advice

        default = default_memory_store(kernel)
        if default is not None:
            return {"store": default, "configured": False}
        advice = missing_store_advice(kernel) or "the embedded memory stores are disabled and [memory] store names none"
        return {"store": "none", "configured": False, "note": f"teams do not remember lessons: {advice}"}
    entry: dict[str, Any] = {"store": name, "configured": True}
    try:
        store = kernel.memory_store(name)
    except Exception as exc:
        entry["error"] = f"{type(exc).__name__}: {exc}"
        return entry
    try:
        report = getattr(store, "retrieval", None)
        if callable(report):
            entry["retrieval"] = {str(key): str(value) for key, value in report().items()}
    except Exception as exc:
        entry["error"] = f"{type(exc).__name__}: {exc}"
    finally:
        close = getattr(store, "close", None)
        if callable(close):
            close()
    return entry


def _backend_entry(kernel: Any, name: str, plugin_id: str) -> dict[str, Any]:
    """One provider's health with the stable keys ``name``, ``plugin``, ``status`` (see
    :data:`models_cmd.STATUS_LABELS`), ``reachable``, ``detail`` and ``action``."""
    entry: dict[str, Any] = {"name": name, "plugin": plugin_id, "status": "ok", "reachable": True, "detail": "",
                             "action": None}
    try:
        backend = kernel.backend(f"{name}:")
        env_var = missing_key(backend)
        health = getattr(backend, "health", None)
        if env_var is not None:
            # No request is sent without a key; saying so needs no network round trip.
            entry.update(status="no_api_key", reachable=False, detail=f"{env_var} is not set",
                         action=key_action(env_var))
        elif health is None:
            entry.update(status="unchecked", reachable=None, detail="backend offers no health check")
        else:
            ok, detail = health()
            entry.update(status="ok" if ok else "unreachable", reachable=bool(ok), detail=detail)
    except Exception as exc:
        entry.update(status="failed", reachable=False, detail=f"{type(exc).__name__}: {exc}")
    return entry


def run(args: argparse.Namespace) -> int:
    report = collect()
    if args.json:
        print(json.dumps(report, indent=2))
        return 1 if report["problems"] else 0
    print(f"purpose-agent {report['purpose_agent']} (hook API {report['hook_api']}) on {report['python']}")
    if report.get("config_error"):
        print(f"\nconfiguration: BROKEN - {printable(report['config_error'])}")
    print("\nconfiguration files (later wins):")
    for entry in report["config_files"]:
        print(f"  {entry['layer']:8} {entry['path'] or '(none)'}  [{'found' if entry['found'] else 'not found'}]")
    print("\nplugins:")
    for plugin in report["plugins"]:
        reason = f" - {plugin['reason']}" if plugin["reason"] else ""
        # a plugin's reason quotes exception messages and settings: untrusted text
        print(printable(f"  {plugin['id']:20} {plugin['status']:9} {','.join(plugin['roles'])}{reason}", one_line=True))
    print("\nmodels:")
    unchecked = "  not checked: the configuration could not be read (see problems below)"
    if report.get("config_error"):
        print(unchecked)
    elif not report["backends"]:
        print("  no backend plugin installed: pip install purpose-agent-llamacpp (local) or a provider package")
    else:
        rows = [[b["name"], status_cell(b["status"]), b["action"] or b["detail"]] for b in report["backends"]]
        for line in render_table(("PROVIDER", "STATUS", "DETAIL / WHAT TO DO"), rows, indent="  ",
                                 colour=colour_wanted(sys.stdout)):
            print(line)
        for sentence in advice([b["status"] for b in report["backends"]]):
            print(f"\n  {sentence}")
    print("\nsandboxes:")
    if report.get("config_error"):
        print(unchecked)
    elif not report["sandboxes"]:
        print("  no sandbox plugin installed: agent-written code cannot run (pip install purpose-agent-sandbox)")
    for sandbox in report["sandboxes"]:
        print(f"  {sandbox['name']}:")
        for layer in sandbox.get("layers", []):
            mark = "yes" if layer["available"] else "NO "
            print(f"    [{mark}] {layer['name']:14} {printable(layer['detail'], one_line=True)}")
        if "error" in sandbox:
            print(f"    error: {printable(sandbox['error'], one_line=True)}")
    memory = report.get("memory")
    if memory is not None:
        print("\nmemory:")
        default = "" if memory["configured"] or "note" in memory else " (the default)"
        print(printable(f"  store          {memory['store']}{default}", one_line=True))
        if "note" in memory:
            print(f"  {memory['note']}")
        for aspect, sentence in memory.get("retrieval", {}).items():
            print(printable(f"  {aspect:14} {sentence}", one_line=True))
        if "error" in memory:
            print(f"  error: {printable(memory['error'], one_line=True)}")
    if report["problems"]:
        print("\nproblems:")
        for problem in report["problems"]:
            print(f"  - {printable(problem)}")
        return 1
    print("\nno problems found")
    return 0
