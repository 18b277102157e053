"""``purpose-agent models``: which models each installed provider serves, and the default.

Also home of the provider table ``doctor`` prints: one row per provider (provider, status,
what to do), with the advice a status needs said once under the table instead of once per row.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ..errors import PurposeAgentError
from .tables import DIM, GREEN, RED, YELLOW, Styled, colour_wanted, render_table

#: Status words of a provider, as ``--json`` gives them (stable) and as the table shows them.
STATUS_LABELS: dict[str, tuple[str, str]] = {
    "ok": ("ok", GREEN),
    "no_api_key": ("no API key", YELLOW),
    "unreachable": ("unreachable", RED),
    "failed": ("failed", RED),
    "unchecked": ("not checked", DIM),
}

NO_KEY_ADVICE = (
    "To use a provider marked 'no API key', export its variable (export NAME=...); otherwise pick "
    "another model with [model] default in purpose-agent.toml or --model provider:model."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare ``models [--provider P] [--json]``."""
    parser.add_argument("--provider", metavar="P", help="only this provider (e.g. groq, ollama, llamacpp)")
    parser.add_argument("--json", action="store_true", help="print the listing as JSON")
    parser.set_defaults(run=run)


def missing_key(backend: Any) -> str | None:
    """The environment variable ``backend`` needs for its key and lacks, or ``None``.

    Mirrors the check the HTTP backends make before a request (``requires_key`` and no
    ``api_key()``), so reports can say "no API key" without sending anything.
    """
    api_key = getattr(backend, "api_key", None)
    if not getattr(backend, "requires_key", False) or not callable(api_key) or api_key() is not None:
        return None
    return getattr(backend, "api_key_env", None) or "(no variable configured)"


def key_action(env_var: str) -> str:
    """What to do about a missing key, short enough for a table cell."""
    return f"set {env_var}"


def collect(provider: str | None = None, kernel: Any = None) -> dict[str, Any]:
    """``{"default": {...}, "providers": [...]}``; each provider entry has the stable keys
    ``provider``, ``status`` (a key of :data:`STATUS_LABELS`), ``models``, ``default_model``,
    ``error`` (the full sentence, or ``None``) and ``action`` (what to do, or ``None``)."""
    from ..kernel import Kernel

    kernel = kernel or Kernel.load()
    registered = sorted(kernel.components("backend"))
    if provider is not None and provider not in registered:
        raise PurposeAgentError(
            f"no provider named '{provider}' is installed (installed: {', '.join(registered) or 'none'}). "
            f"Install it with: pip install purpose-agent-{provider}"
        )
    report: dict[str, Any] = {"default": None, "providers": []}
    for name in [provider] if provider else registered:
        entry: dict[str, Any] = {"provider": name, "status": "ok", "models": [], "default_model": None,
                                 "error": None, "action": None}
        try:
            backend = kernel.backend(f"{name}:")
            entry["default_model"] = getattr(backend, "model", None) or None
            env_var = missing_key(backend)
            lister = getattr(backend, "list_models", None)
            if env_var is not None:
                # The backend would refuse before sending anything; say so without trying.
                from ..errors import MissingAPIKeyError

                entry.update(status="no_api_key", error=str(MissingAPIKeyError(name, env_var)),
                             action=key_action(env_var))
            elif lister is None:
                entry.update(status="unchecked", error="this backend cannot list its models")
            else:
                entry["models"] = list(lister())
        except Exception as exc:  # one provider's failure must not hide the others
            env_var = getattr(exc, "env_var", None)
            message = str(exc) if isinstance(exc, PurposeAgentError) else f"{type(exc).__name__}: {exc}"
            if env_var:
                entry.update(status="no_api_key", error=message, action=key_action(env_var))
            else:
                entry.update(status="unreachable" if _is_connection_error(exc) else "failed", error=message)
        report["providers"].append(entry)
    if provider is None:
        try:
            from ..resolve import resolve_backend

            resolution = resolve_backend(None, kernel, fallback=False)
            report["default"] = {"spec": resolution.spec, "source": resolution.source}
        except PurposeAgentError as exc:
            report["default"] = {"spec": None, "source": str(exc)}
    return report


def _is_connection_error(exc: BaseException) -> bool:
    from ..errors import ProviderUnavailableError, RequestTimeoutError

    return isinstance(exc, ProviderUnavailableError | RequestTimeoutError)


def status_cell(status: str) -> Styled:
    """The table cell for a status key."""
    label, sgr = STATUS_LABELS.get(status, (status, ""))
    return Styled(label, sgr)


def advice(statuses: list[str]) -> list[str]:
    """The sentences a set of statuses calls for, each said once."""
    return [NO_KEY_ADVICE] if "no_api_key" in statuses else []


def run(args: argparse.Namespace) -> int:
    """Print the listing; exit 1 if a provider asked for by name failed."""
    report = collect(args.provider)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        colour = colour_wanted(sys.stdout)
        rows = []
        for entry in report["providers"]:
            if entry["status"] == "ok":
                count = len(entry["models"])
                detail = f"{count} model{'' if count == 1 else 's'}" + (" (listed below)" if count else "")
            else:
                detail = entry["action"] or entry["error"] or ""
            rows.append([entry["provider"], status_cell(entry["status"]), detail])
        for line in render_table(("PROVIDER", "STATUS", "MODELS / WHAT TO DO"), rows, colour=colour):
            print(line)
        for sentence in advice([e["status"] for e in report["providers"]]):
            print(f"\n{sentence}")
        listed = [f"  {e['provider']}:{m}" for e in report["providers"] for m in e["models"]]
        if listed:
            print("\nmodels:")
            print("\n".join(listed))
        if report["default"] is not None:
            default = report["default"]
            print(f"\ndefault model: {default['spec'] or 'none'} ({default['source']})")
    failed = [e for e in report["providers"] if e["status"] != "ok"]
    return 1 if args.provider and failed else 0
