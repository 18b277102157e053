"""Finding plugins without importing them.

A plugin is declared by entry points: group ``purpose_agent.<role>``, name = plugin id, value =
the object to register (``package.module`` or ``package.module:attr``). Discovery reads only the
installed distributions' metadata; nothing is imported here. The kernel then filters the
candidates through the configuration and imports just the enabled ones, and only when one of
their roles is needed.

Only installed entry points (and the kernel's own built-ins) can ever be loaded: the kernel
never imports a ``module:attr`` string taken from configuration, memory, or model output.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from .hookspecs import ROLES

GROUP_PREFIX = "purpose_agent."
# The one definition of a plugin id's form (entry-point name = TOML key = CLI argument): every id
# our plugins use fits it, it needs no quoting as a TOML key, and it has no '.' that would split a
# dotted config key. Discovery, `plugins enable|disable|info` and `plugins new` all check it here.
_VALID_ID = re.compile(r"[a-z][a-z0-9_-]{0,63}")
PLUGIN_ID_RULE = "lower-case letters, digits, '-' and '_', starting with a letter, at most 64 characters"


def plugin_id_problem(plugin_id: str) -> str:
    """Why ``plugin_id`` is not a valid plugin id (a sentence), or ``""`` if it is valid."""
    if _VALID_ID.fullmatch(plugin_id):  # fullmatch: a `$` anchor would accept a trailing newline
        return ""
    return f"plugin id {plugin_id!r} is not valid: use {PLUGIN_ID_RULE}"


#: The kernel's built-in plugins, registered through the same hooks as everything else.
#: id -> (module, roles). They can be disabled or excluded like any other plugin, except those
#: in :data:`ALWAYS_ENABLED`.
BUILTIN_PLUGINS: dict[str, tuple[str, tuple[str, ...]]] = {
    "cli": ("purpose_agent.builtins.commands", ("command",)),
    "checkpointers": ("purpose_agent.builtins.checkpointers", ("checkpointer",)),
    "executors": ("purpose_agent.builtins.executors", ("executor",)),
}
#: Built-ins that configuration cannot turn off: the CLI's own commands are how a plugin is
#: enabled again, so ``[plugins.cli] enabled = false`` or an allowlist without it must not lose them.
ALWAYS_ENABLED = frozenset({"cli"})

Source = Literal["entry-point", "built-in", "in-memory"]


@dataclass
class Candidate:
    """A plugin that could be loaded: what declares it and what it claims to do."""

    id: str
    distribution: str
    version: str
    roles: set[str]
    target: str
    source: Source
    load: Callable[[], Any]
    problem: str = ""
    origins: list[str] = field(default_factory=list)
    always_enabled: bool = False  # configuration cannot disable it (see ALWAYS_ENABLED)

    def label(self) -> str:
        """``distribution version`` as a user would recognise it."""
        return f"{self.distribution} {self.version}".strip()


def role_of_group(group: str) -> str | None:
    """Return the role for an entry-point group name, or ``None`` if it is not ours."""
    if not group.startswith(GROUP_PREFIX):
        return None
    role = group[len(GROUP_PREFIX) :]
    return role if role in ROLES else None


def _import_target(target: str) -> Callable[[], Any]:
    def load() -> Any:
        module_name, _, attr = target.partition(":")
        obj: Any = importlib.import_module(module_name)
        for part in filter(None, attr.split(".")):
            obj = getattr(obj, part)
        return obj

    return load


def builtin_candidates(version: str) -> list[Candidate]:
    """The kernel's own plugins as candidates."""
    return [
        Candidate(
            id=plugin_id,
            distribution="purpose-agent",
            version=version,
            roles=set(roles),
            target=module,
            source="built-in",
            load=_import_target(module),
            origins=["purpose-agent (built-in)"],
            always_enabled=plugin_id in ALWAYS_ENABLED,
        )
        for plugin_id, (module, roles) in BUILTIN_PLUGINS.items()
    ]


def local_store_candidates() -> list[Candidate]:
    """The plugins of ``purpose-agent-sqlite`` (the embedded memory stores ``sqlite`` and
    ``memory``), if it is installed: what the testing kit offers beside the built-ins."""
    return [c for c in entry_point_candidates() if c.distribution == "purpose-agent-sqlite"]


def entry_point_candidates() -> list[Candidate]:
    """Read every ``purpose_agent.<role>`` entry point of every installed distribution.

    One candidate per (distribution, id); the roles are the groups it appears in. Unknown groups
    under our prefix (``purpose_agent.frobnicator``) are kept as a problem on the candidate, so
    ``plugins list`` can say which role names are valid.
    """
    found: dict[tuple[str, str], Candidate] = {}
    for dist_name, version, group, name, value in _entry_point_rows():
        key = (dist_name, name)
        candidate = found.get(key)
        if candidate is None:
            candidate = Candidate(
                id=name,
                distribution=dist_name,
                version=version,
                roles=set(),
                target=value,
                source="entry-point",
                load=_import_target(value),
                origins=[f"{dist_name} {version}".strip()],
            )
            found[key] = candidate
        role = role_of_group(group)
        if role is None:
            candidate.problem = (
                f"declares entry-point group '{group}', which is not a role; valid groups are "
                + ", ".join(GROUP_PREFIX + r for r in ROLES)
            )
        else:
            candidate.roles.add(role)
        if value != candidate.target:
            candidate.problem = (
                f"its entry points point at different objects ({candidate.target!r} and {value!r}); "
                "one plugin id must name one object in every role group"
            )
        candidate.problem = plugin_id_problem(name) or candidate.problem
    return list(found.values())


_DIST_DIR = re.compile(r"^(?P<name>[^-]+)-(?P<version>[^-]+?)(?:-py[0-9.]+)?\.(?:dist|egg)-info$")
Row = tuple[str, str, str, str, str]  # distribution, version, group, entry-point name, value


def normalise(name: str) -> str:
    """PEP 503 normalisation: lower case, runs of ``-_.`` become one ``-``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _entry_point_rows() -> list[Row]:
    """Our entry points, read straight from ``*.dist-info/entry_points.txt`` on ``sys.path``.

    This is what ``importlib.metadata`` does, minus its import (~40 ms: it pulls in the e-mail
    parser for METADATA) — a third of ``plugins list``'s budget. Anything this reader does not
    handle (a zip archive on ``sys.path``, a folder name it cannot parse) falls back to
    ``importlib.metadata`` for the whole scan; ``tests/core/test_stevedore_agreement.py``
    checks both agree with stevedore.
    """
    import os
    import sys

    rows: list[Row] = []
    seen: set[str] = set()
    prefix = GROUP_PREFIX.encode()
    for entry in sys.path:
        try:
            with os.scandir(entry or ".") as listing:
                children = sorted((c for c in listing if c.name.endswith((".dist-info", ".egg-info"))),
                                  key=lambda e: e.name)
        except NotADirectoryError:
            return _importlib_rows()
        except OSError:
            continue
        for child in children:
            match = _DIST_DIR.match(child.name)
            if match is None or not child.is_dir():
                return _importlib_rows()
            key = normalise(match["name"])
            if key in seen:
                continue  # the first distribution of a name on sys.path wins, as in importlib
            seen.add(key)
            try:  # bytes: most distributions are not plugins, and decoding theirs would be wasted
                data = _read_bytes(os.path.join(child.path, "entry_points.txt"))
            except OSError:  # most distributions declare no entry points at all
                continue
            if prefix not in data:
                continue
            text = data.decode("utf-8")
            rows.extend((key, match["version"], group, name, value) for group, name, value in _parse_entry_points(text))
    return rows


def _read_bytes(path: str) -> bytes:
    """The file's bytes through the OS calls alone: ``open()`` builds a buffered file object per
    call, and discovery tries one file in every installed distribution."""
    import os

    fd = os.open(path, os.O_RDONLY)
    try:
        chunks = []
        while chunk := os.read(fd, 65536):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def _parse_entry_points(text: str) -> list[tuple[str, str, str]]:
    """``(group, name, value)`` for our groups in an ``entry_points.txt`` (INI format)."""
    out = []
    group = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            group = line[1:-1].strip()
            continue
        if group.startswith(GROUP_PREFIX) and "=" in line:
            name, _, value = line.partition("=")
            out.append((group, name.strip(), value.split("[", 1)[0].strip()))
    return out


def _importlib_rows() -> list[Row]:
    from importlib.metadata import distributions

    rows: list[Row] = []
    seen: set[str] = set()
    for dist in distributions():
        key = normalise(dist.metadata["Name"] or "")
        if key in seen:
            continue
        seen.add(key)
        rows.extend((key, dist.version, ep.group, ep.name, ep.value)
                    for ep in dist.entry_points if ep.group.startswith(GROUP_PREFIX))
    return rows


def merge_candidates(groups: Iterable[Iterable[Candidate]]) -> dict[str, Candidate]:
    """Combine candidate lists into one per id; an id claimed twice becomes a problem.

    pluggy would silently keep whichever plugin registered first; here both claimants are named
    and neither loads, because guessing which one the operator meant is worse than stopping.
    """
    merged: dict[str, Candidate] = {}
    for group in groups:
        for candidate in group:
            existing = merged.get(candidate.id)
            if existing is None:
                merged[candidate.id] = candidate
                continue
            existing.origins.extend(candidate.origins)
            existing.roles |= candidate.roles
            existing.problem = (
                f"plugin id '{candidate.id}' is provided by more than one distribution: "
                + " and ".join(existing.origins)
                + "; uninstall all but one"
            )
    return merged
