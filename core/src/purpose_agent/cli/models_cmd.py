"""``purpose-agent models``: which models each installed provider serves, and the default."""

from __future__ import annotations

import argparse
import json
from typing import Any

from ..errors import PurposeAgentError


def add_parser(sub: Any, name: str) -> None:
    """Declare ``models [--provider P] [--json]``."""
    parser = sub.add_parser(name, help="list the models each installed provider serves")
    parser.add_argument("--provider", metavar="P", help="only this provider (e.g. groq, ollama, llamacpp)")
    parser.add_argument("--json", action="store_true", help="print the listing as JSON")
    parser.set_defaults(run=run)


def collect(provider: str | None = None, kernel: Any = None) -> dict[str, Any]:
    """``{"default": {...}, "providers": [{"provider", "models", "error"}]}``."""
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
        entry: dict[str, Any] = {"provider": name, "models": [], "error": None}
        try:
            backend = kernel.backend(f"{name}:")
            lister = getattr(backend, "list_models", None)
            if lister is None:
                entry["error"] = "this backend cannot list its models"
            else:
                entry["models"] = list(lister())
            entry["default_model"] = getattr(backend, "model", "")
        except Exception as exc:  # one provider's failure must not hide the others
            entry["error"] = str(exc) if isinstance(exc, PurposeAgentError) else f"{type(exc).__name__}: {exc}"
        report["providers"].append(entry)
    if provider is None:
        try:
            from ..llm.resolve import resolve_backend

            resolution = resolve_backend(None, kernel, fallback=False)
            report["default"] = {"spec": resolution.spec, "source": resolution.source}
        except PurposeAgentError as exc:
            report["default"] = {"spec": None, "source": str(exc)}
    return report


def run(args: argparse.Namespace) -> int:
    """Print the listing; exit 1 if a provider asked for by name failed."""
    report = collect(args.provider)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        for entry in report["providers"]:
            print(f"{entry['provider']}:")
            if entry["error"]:
                print(f"  (unavailable) {entry['error']}")
            for model in entry["models"]:
                print(f"  {entry['provider']}:{model}")
        if report["default"] is not None:
            default = report["default"]
            print(f"\ndefault model: {default['spec'] or 'none'} ({default['source']})")
    failed = [e for e in report["providers"] if e["error"]]
    return 1 if args.provider and failed else 0
