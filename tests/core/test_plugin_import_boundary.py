"""Plugins import only the kernel's public contract modules (see docs/architecture.md).

Anything else in ``purpose_agent`` is the kernel's own business and may change without notice; a
plugin that reaches into it breaks when the kernel is refactored.
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

#: The modules of the ``purpose_agent`` distribution a plugin may import.
PUBLIC_MODULES = {
    "purpose_agent",
    "purpose_agent.hookspecs",
    "purpose_agent.models",
    "purpose_agent.interfaces",
    "purpose_agent.errors",
    "purpose_agent.testing",
    "purpose_agent.config",
    "purpose_agent.terminal_text",
}

#: Known violations, (plugin source file, module). Issue #18 items 1-2 move ``purpose_agent.llm``
#: into the ``purpose_agent_http`` distribution; each entry goes away as that lands, and the
#: allowlist must end empty. Never add to it: import a public module or another distribution.
KNOWN_VIOLATIONS = {
    ("plugins/anthropic/src/purpose_agent_anthropic/__init__.py", "purpose_agent.llm.provider_plugin"),
    ("plugins/anthropic/src/purpose_agent_anthropic/backend.py", "purpose_agent.llm.errors"),
    ("plugins/anthropic/src/purpose_agent_anthropic/backend.py", "purpose_agent.llm.http"),
    ("plugins/anthropic/src/purpose_agent_anthropic/backend.py", "purpose_agent.llm.openai_compat"),
    ("plugins/anthropic/src/purpose_agent_anthropic/backend.py", "purpose_agent.llm.streaming"),
    ("plugins/cerebras/src/purpose_agent_cerebras/__init__.py", "purpose_agent.llm.provider_plugin"),
    ("plugins/cerebras/src/purpose_agent_cerebras/backend.py", "purpose_agent.llm.openai_compat"),
    ("plugins/deepseek/src/purpose_agent_deepseek/__init__.py", "purpose_agent.llm.provider_plugin"),
    ("plugins/deepseek/src/purpose_agent_deepseek/backend.py", "purpose_agent.llm.openai_compat"),
    ("plugins/fireworks/src/purpose_agent_fireworks/__init__.py", "purpose_agent.llm.provider_plugin"),
    ("plugins/fireworks/src/purpose_agent_fireworks/backend.py", "purpose_agent.llm.openai_compat"),
    ("plugins/groq/src/purpose_agent_groq/__init__.py", "purpose_agent.llm.provider_plugin"),
    ("plugins/groq/src/purpose_agent_groq/backend.py", "purpose_agent.llm.errors"),
    ("plugins/groq/src/purpose_agent_groq/backend.py", "purpose_agent.llm.openai_compat"),
    ("plugins/hf/src/purpose_agent_hf/__init__.py", "purpose_agent.llm.provider_plugin"),
    ("plugins/hf/src/purpose_agent_hf/backend.py", "purpose_agent.llm.openai_compat"),
    ("plugins/llamacpp/src/purpose_agent_llamacpp/backend.py", "purpose_agent.llm.errors"),
    ("plugins/mistral/src/purpose_agent_mistral/__init__.py", "purpose_agent.llm.provider_plugin"),
    ("plugins/mistral/src/purpose_agent_mistral/backend.py", "purpose_agent.llm.openai_compat"),
    ("plugins/ollama/src/purpose_agent_ollama/__init__.py", "purpose_agent.llm.provider_plugin"),
    ("plugins/ollama/src/purpose_agent_ollama/backend.py", "purpose_agent.llm.errors"),
    ("plugins/ollama/src/purpose_agent_ollama/backend.py", "purpose_agent.llm.http"),
    ("plugins/ollama/src/purpose_agent_ollama/backend.py", "purpose_agent.llm.openai_compat"),
    ("plugins/ollama/src/purpose_agent_ollama/backend.py", "purpose_agent.llm.resolve"),
    ("plugins/ollama/src/purpose_agent_ollama/backend.py", "purpose_agent.llm.streaming"),
    ("plugins/openai/src/purpose_agent_openai/__init__.py", "purpose_agent.llm.provider_plugin"),
    ("plugins/openai/src/purpose_agent_openai/backend.py", "purpose_agent.llm.openai_compat"),
    ("plugins/openai/src/purpose_agent_openai/settings.py", "purpose_agent.llm.settings"),
    ("plugins/openrouter/src/purpose_agent_openrouter/__init__.py", "purpose_agent.llm.provider_plugin"),
    ("plugins/openrouter/src/purpose_agent_openrouter/backend.py", "purpose_agent.llm.http"),
    ("plugins/openrouter/src/purpose_agent_openrouter/backend.py", "purpose_agent.llm.openai_compat"),
    ("plugins/together/src/purpose_agent_together/__init__.py", "purpose_agent.llm.provider_plugin"),
    ("plugins/together/src/purpose_agent_together/backend.py", "purpose_agent.llm.http"),
    ("plugins/together/src/purpose_agent_together/backend.py", "purpose_agent.llm.openai_compat"),
    ("plugins/together/src/purpose_agent_together/backend.py", "purpose_agent.llm.retry"),
}


def kernel_imports(path: Path) -> set[str]:
    """Every ``purpose_agent`` module ``path`` imports, at top level or inside functions."""
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
    return {m for m in modules if m == "purpose_agent" or m.startswith("purpose_agent.")}


def violations() -> set[tuple[str, str]]:
    """(file, module) for each import of a non-public kernel module by a plugin."""
    found = set()
    for source in [*REPO.glob("plugins/*/src/**/*.py"), *REPO.glob("contrib/*/src/**/*.py")]:
        for module in kernel_imports(source):
            if module not in PUBLIC_MODULES:
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
