"""Plugins import only the kernel's public contract modules (see docs/architecture.md).

Anything else in ``purpose_agent`` is the kernel's own business and may change without notice; a
plugin that reaches into it breaks when the kernel is refactored.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]

#: The modules of the ``purpose_agent`` distribution a plugin may import.
PUBLIC_MODULES = {
    "purpose_agent",
    "purpose_agent.hookspecs",
    "purpose_agent.models",
    "purpose_agent.interfaces",
    "purpose_agent.errors",
    "purpose_agent.testing",
}

#: What a plugin may import from another distribution of this workspace (a ``purpose_agent_*``
#: package that is not its own): the package itself, its public API, and its ``testing`` module.
PUBLIC_SUBMODULES_OF_OTHER_DISTRIBUTIONS = {"", ".testing"}

#: Known violations, (plugin source file, module). Empty since issue #18 moved ``purpose_agent.llm``
#: into the ``purpose_agent_http`` distribution; never add to it: import a public module instead.
KNOWN_VIOLATIONS: set[tuple[str, str]] = set()


def kernel_imports(path: Path) -> set[str]:
    """Every ``purpose_agent`` and ``purpose_agent_*`` module ``path`` imports, at top level or inside
    functions (relative imports stay inside the plugin's own package and are not counted)."""
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
    return {m for m in modules if m == "purpose_agent" or m.startswith(("purpose_agent.", "purpose_agent_"))}


def violations() -> set[tuple[str, str]]:
    """(file, module) for each import of a non-public kernel module, or of a non-public module of
    another distribution, by a plugin."""
    found = set()
    for source in [*REPO.glob("plugins/*/src/**/*.py"), *REPO.glob("contrib/*/src/**/*.py")]:
        own = source.relative_to(REPO).parts[3]  # plugins/<dir>/src/<package>/...
        for module in kernel_imports(source):
            package, _, rest = module.partition(".")
            if package == "purpose_agent":
                allowed = module in PUBLIC_MODULES
            else:  # another distribution's package, or the plugin's own
                allowed = package == own or ("." + rest if rest else "") in PUBLIC_SUBMODULES_OF_OTHER_DISTRIBUTIONS
            if not allowed:
                found.add((str(source.relative_to(REPO)), module))
    return found


def test_no_plugin_imports_a_kernel_internal_beyond_the_known_ones() -> None:
    new = violations() - KNOWN_VIOLATIONS
    assert not new, "plugins import kernel internals; use a public module instead:\n" + "\n".join(
        f"  {path}: {module}" for path, module in sorted(new)
    )


def test_the_allowlist_names_only_violations_that_still_exist() -> None:
    # So the list shrinks as the provider move lands instead of silently permitting regressions.
    fixed = KNOWN_VIOLATIONS - violations()
    assert not fixed, "remove these from KNOWN_VIOLATIONS, they are fixed:\n" + "\n".join(
        f"  {path}: {module}" for path, module in sorted(fixed)
    )


def test_the_check_sees_a_new_violation(tmp_path: Path, monkeypatch: Any) -> None:
    # The scan must still fail on a plugin that reaches into the kernel or into another
    # distribution's private module, now that the allowlist is empty.
    source = tmp_path / "plugins" / "rogue" / "src" / "purpose_agent_rogue" / "__init__.py"
    source.parent.mkdir(parents=True)
    source.write_text(
        "from purpose_agent.kernel import Kernel\n"
        "from purpose_agent_http.http import HTTPBackend\n"
        "from purpose_agent_http import OpenAICompatibleBackend\n"
        "from purpose_agent_http.testing import FakeLLMServer\n"
        "from purpose_agent_rogue.helpers import x\n"
        "def late():\n    import purpose_agent.discovery\n"
    )
    monkeypatch.setattr(sys.modules[__name__], "REPO", tmp_path)
    assert violations() == {
        ("plugins/rogue/src/purpose_agent_rogue/__init__.py", "purpose_agent.kernel"),
        ("plugins/rogue/src/purpose_agent_rogue/__init__.py", "purpose_agent_http.http"),
        ("plugins/rogue/src/purpose_agent_rogue/__init__.py", "purpose_agent.discovery"),
    }
