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
_VALID_ID = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")

#: The kernel's built-in plugins, registered through the same hooks as everything else.
#: id -> (module, roles). They can be disabled or excluded like any other plugin.
BUILTIN_PLUGINS: dict[str, tuple[str, tuple[str, ...]]] = {
    "memory": ("purpose_agent.builtins.memory_store", ("memory_store",)),
    "sqlite": ("purpose_agent.builtins.sqlite_store", ("memory_store",)),
    "checkpointers": ("purpose_agent.builtins.checkpointers", ("checkpointer",)),
}

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
        )
        for plugin_id, (module, roles) in BUILTIN_PLUGINS.items()
    ]


def entry_point_candidates() -> list[Candidate]:
    """Read every ``purpose_agent.<role>`` entry point of every installed distribution.

    One candidate per (distribution, id); the roles are the groups it appears in. Unknown groups
    under our prefix (``purpose_agent.frobnicator``) are kept as a problem on the candidate, so
    ``plugins list`` can say which role names are valid.
    """
    from importlib.metadata import distributions  # 30+ ms; only paid when discovering

    found: dict[tuple[str, str], Candidate] = {}
    for dist, ep in _our_entry_points(distributions()):
        dist_name = dist.metadata["Name"]
        version = dist.version
        key = (dist_name, ep.name)
        candidate = found.get(key)
        if candidate is None:
            candidate = Candidate(
                id=ep.name,
                distribution=dist_name,
                version=version,
                roles=set(),
                target=ep.value,
                source="entry-point",
                load=ep.load,
                origins=[f"{dist_name} {version}".strip()],
            )
            found[key] = candidate
        role = role_of_group(ep.group)
        if role is None:
            candidate.problem = (
                f"declares entry-point group '{ep.group}', which is not a role; valid groups are "
                + ", ".join(GROUP_PREFIX + r for r in ROLES)
            )
        else:
            candidate.roles.add(role)
        if ep.value != candidate.target:
            candidate.problem = (
                f"its entry points point at different objects ({candidate.target!r} and {ep.value!r}); "
                "one plugin id must name one object in every role group"
            )
        if not _VALID_ID.match(ep.name):
            candidate.problem = (
                f"plugin id {ep.name!r} is not valid: use lower-case letters, digits, '-' and '_', "
                "starting with a letter"
            )
    return list(found.values())


def _our_entry_points(dists: Iterable[Any]) -> Iterable[tuple[Any, Any]]:
    """Yield ``(distribution, entry point)`` for our groups, one copy per distribution name.

    A distribution found twice on ``sys.path`` (say, an editable and a regular install) counts
    once, the first found, as ``importlib.metadata.entry_points()`` itself does.
    """
    seen: set[str] = set()
    for dist in dists:
        key = getattr(dist, "_normalized_name", None) or re.sub(r"[-_.]+", "-", dist.metadata["Name"] or "").lower()
        if key in seen:
            continue
        seen.add(key)
        for ep in dist.entry_points:
            if ep.group.startswith(GROUP_PREFIX):
                yield dist, ep


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
