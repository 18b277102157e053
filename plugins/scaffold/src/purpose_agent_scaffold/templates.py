"""``purpose-agent plugins new NAME --role ROLE`` (or ``purpose-agent new-plugin``): a plugin
package that works on day one.

The generated package has a pyproject with the right entry point, a small working component for
the role, and tests that run the role's conformance suite — they pass before you change a line.

The templates are files in this package's ``templates/`` directory, read when a package is
generated (importing this module reads none of them): ``pyproject.toml.tmpl`` and
``README.md.tmpl`` for every role, and under ``templates/ROLE/`` the package's modules
(``src/FILE.tmpl`` becomes ``src/MODULE/FILE``) and its test (``tests/test.py.tmpl`` becomes
``tests/test_MODULE.py``). Each is a :class:`string.Template`: ``$name`` (the plugin id),
``$module``, ``$role``, ``$api`` (the hook-API version), ``$kernel_min`` and ``$kernel_next``.
"""

from __future__ import annotations

from pathlib import Path
from string import Template

from purpose_agent import __version__
from purpose_agent.errors import PurposeAgentError

#: The roles with a template directory (a test checks this against ``templates/``).
ROLES_WITH_TEMPLATES = (
    "backend", "critic", "memory_store", "scanner", "tool", "checkpointer", "observer", "command", "protocol", "sandbox",
)

_SUFFIX = ".tmpl"


def create_plugin_package(name: str, role: str, directory: Path) -> Path:
    """Write ``purpose-agent-NAME/`` under ``directory`` and return its path."""
    from purpose_agent.interfaces import plugin_id_problem

    # The name becomes the plugin id (entry-point name, TOML key), so it follows the id rule.
    problem = plugin_id_problem(name)
    if problem:
        raise PurposeAgentError(problem)
    if role not in ROLES_WITH_TEMPLATES:
        raise PurposeAgentError(f"no template for role {role!r}; choose one of {', '.join(ROLES_WITH_TEMPLATES)}")
    root = directory / f"purpose-agent-{name}"
    if root.exists():
        raise PurposeAgentError(f"{root} already exists; choose another name or directory")
    major, minor, *_ = __version__.split(".")
    module = "purpose_agent_" + name.replace("-", "_")
    values = {
        "name": name,
        "module": module,
        "role": role,
        "api": _hook_api(),
        "kernel_min": f"{major}.{minor}",
        "kernel_next": f"{major}.{int(minor) + 1}" if major == "0" else f"{int(major) + 1}",
    }
    templates = template_files(role)
    files = {
        root / "pyproject.toml": templates.pop("pyproject.toml"),
        root / "README.md": templates.pop("README.md"),
        root / "tests" / f"test_{module}.py": templates.pop("tests/test.py"),
        **{root / "src" / module / file.removeprefix("src/"): text for file, text in templates.items()},
    }
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(Template(text).substitute(values))
    return root


def template_files(role: str) -> dict[str, str]:
    """A role's templates, unsubstituted: path in the template tree (without ``.tmpl``) -> text.

    ``pyproject.toml`` and ``README.md`` are shared by every role; ``tests/test.py`` and the
    ``src/`` modules are the role's own."""
    from importlib.resources import files

    base = files(__package__) / "templates"
    found = {name: (base / (name + _SUFFIX)).read_text(encoding="utf-8") for name in ("pyproject.toml", "README.md")}
    pending = [("", base / role)]
    while pending:
        prefix, folder = pending.pop()
        for entry in folder.iterdir():
            if entry.is_dir():
                pending.append((f"{prefix}{entry.name}/", entry))
            elif entry.name.endswith(_SUFFIX):
                found[prefix + entry.name.removesuffix(_SUFFIX)] = entry.read_text(encoding="utf-8")
    return found


def _hook_api() -> str:
    from purpose_agent.hookspecs import HOOK_API_VERSION

    return HOOK_API_VERSION
