"""The plugin contract: every hook a purpose-agent plugin can implement.

This one file is the whole contract between the kernel and its plugins. ``docs/hooks.md`` is
generated from it (``purpose-agent hooks --markdown``) and a test fails if the two drift.

How plugins are found
    A plugin is an object (usually a module) named by an entry point. The entry-point *group*
    says which role the plugin plays (``purpose_agent.backend``, ``purpose_agent.scanner``, …,
    see :data:`ROLES`); the entry-point *name* is the plugin id, which is also its TOML key
    (``[plugins.<id>]``) and the name ``purpose-agent plugins list`` prints. A plugin that plays
    several roles declares the same name, pointing at the same object, in several groups.

How hooks are called
    The kernel always passes arguments by keyword, and an implementation may accept fewer
    arguments than the spec offers (``def register_tools(register): ...`` is fine). New arguments
    are only ever added, never renamed, so a plugin keeps working on newer kernels of the same
    :data:`HOOK_API_VERSION` major.

    Hooks marked *per plugin* are called once for each plugin that implements them, each in
    isolation: if one plugin raises, that plugin is reported and disabled and the others still
    run. Such calls receive ``settings``: the plugin's own validated ``[plugins.<id>]`` section
    (see :func:`settings_model`), or ``None`` if it declares no settings model.

Writing the hooks
    The end of this module offers what every plugin would otherwise write by hand:
    ``lazy("package.module:Name")``, a component factory that imports its module on first call
    (the kernel imports every plugin module to list plugins, so keep that import cheap);
    ``register_lazily(name, target, description=...)`` and ``lazy_settings(target)``, whole
    ``register_<role>`` and :func:`settings_model` implementations built from such a target; and
    ``BaseCommand``, a base for a CLI subcommand whose actions are its ``do_<action>`` methods
    (``docs/writing-a-plugin.md``, section 7).

Compatibility
    A plugin states the hook-API version it was written for with a module attribute,
    ``PURPOSE_AGENT_HOOK_API = "1.0"``. It loads when the major versions match and its minor
    version is not newer than the kernel's; otherwise it is skipped with a sentence that says
    which version to install.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:  # the models import pydantic; keep this module cheap to import
    import argparse
    from collections.abc import Callable

    from .interfaces import BackendProfile, ComponentContext, KernelServices, RunHandle
    from .models import Event, Finding, MemoryItem, ScanRequest

PROJECT_NAME = "purpose_agent"

#: The version of this contract. Minor bumps add hooks or arguments; major bumps break.
#: 1.1 added the ``embedder`` role (:func:`register_embedders`).
#: 1.2 added :func:`backend_profiles`: how a backend is detected, ranked for the default model,
#: and priced for cost-aware routing.
#: 1.3 added the protocol capabilities (adapters that serve a team, close, report problems) and
#: :func:`watch_run`, a run's events live from its start to its finish.
#: 1.4 added the ``knowledge`` role (:func:`register_knowledge`): searchable document sources,
#: so ``knowledge="./docs/"`` becomes a vault the team searches and cites.
#: 1.5 added the ``executor`` role (:func:`register_executors`): where ``swarm`` runs its tasks
#: (in this process by default; a cluster such as Ray through a plugin).
#: 1.6 gave :func:`instructions` the member's ``role`` and the ``kernel``, and :func:`watch_run`
#: the ``kernel``: per-role instructions (prompt packs) and state under ``kernel.state_dir()``.
HOOK_API_VERSION = "1.6"

#: The roles a plugin can play, each an entry-point group ``purpose_agent.<role>``.
ROLES: tuple[str, ...] = (
    "backend",
    "critic",
    "memory_store",
    "scanner",
    "tool",
    "protocol",
    "sandbox",
    "checkpointer",
    "observer",
    "command",
    "embedder",
    "knowledge",
    "executor",
)

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
#: Decorate a plugin's hook implementations with this marker.
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


# ---------------------------------------------------------------------------------------------
# Configure phase: called once while the kernel loads a plugin, before any component is used.
# ---------------------------------------------------------------------------------------------


@hookspec
def settings_model() -> Any:
    """Return the pydantic model class that validates this plugin's ``[plugins.<id>]`` section.

    Called: per plugin, right after the plugin is imported, and again only if the configuration
    changes. Import pydantic inside the function body so that listing plugins stays cheap.

    Returns: a ``pydantic.BaseModel`` subclass, or ``None`` for a plugin with no settings. The
    kernel validates the section (without the reserved keys ``enabled`` and ``required``); if
    validation fails the plugin is reported as ``failed`` with the file, key and expected type,
    and is skipped. The validated instance is what later per-plugin hooks receive as ``settings``.
    """


@hookspec(historic=True)
def configure(config: dict[str, Any]) -> None:
    """React to the kernel's merged configuration.

    Called: once when the kernel starts, and for a plugin loaded later (roles load lazily) at the
    moment it is registered, so every plugin sees it exactly once.

    Args:
        config: the merged configuration as plain data (a read-only view; do not mutate).

    Returns: nothing.
    """


# ---------------------------------------------------------------------------------------------
# Registration phase: per plugin; each hook receives a ``register`` callback for named things.
# A component name must be unique within its role; a clash is reported naming both plugins.
# What every registration hook's arguments are is written once, by ``_registers``, which ends
# each spec's docstring with them (``purpose-agent hooks --markdown`` shows them per hook).
# ---------------------------------------------------------------------------------------------


def _registers(component: str, more: str = "") -> Callable[[Callable[..., None]], Any]:
    """Make a registration hook's spec: its docstring (what the hook is for, when it is called) ends
    with the arguments and result every ``register_<role>`` hook shares, ``factory(context)``
    returning a :class:`purpose_agent.interfaces` ``component``, then ``more``."""
    words = (f'``register(name, factory, *, description="")``; ``factory(context)`` returns a '
             f":class:`purpose_agent.interfaces.{component}`. {more}").split()
    lines = ["        register:"]
    # Wrapped at 100 columns, as the docstrings are written. Not textwrap: every command imports this
    # module, and importing textwrap (re and its patterns) cost ~1 ms per start (measured 2026-12-03).
    for word in words:
        if len(lines[-1]) + 1 + len(word) > 100:
            lines.append("           ")
        lines[-1] += " " + word
    args = "\n".join(["", "", "    Args:", *lines, "        settings: this plugin's validated settings, or ``None``.",
                      "", "    Returns: nothing.", "    "])

    def spec(function: Callable[..., None]) -> Any:
        function.__doc__ = (function.__doc__ or "").rstrip() + args
        return hookspec(function)

    return spec


@hookspec
def register_backends(register: Callable[..., None], settings: Any) -> None:
    """Register LLM backends (providers).

    Called: per plugin, the first time a backend is needed.

    Args:
        register: ``register(name, factory, *, description="")``. ``name`` is the provider
            prefix in ``"provider:model"`` strings (``ollama`` in ``"ollama:qwen3:1.7b"``).
            ``factory(model, context)`` returns an object satisfying
            :class:`purpose_agent.interfaces.Backend`; ``model`` is everything after the first
            colon (may be empty for the provider's default) and ``context`` is a
            :class:`purpose_agent.interfaces.ComponentContext`.
        settings: this plugin's validated settings, or ``None``.

    Returns: nothing.
    """


@_registers("Critic")
def register_critics(register: Callable[..., None], settings: Any) -> None:
    """Register critics, which score a trajectory Φ(s) on 0..10.

    Called: per plugin, the first time a critic is needed.
    """


@_registers("MemoryStore")
def register_memory_stores(register: Callable[..., None], settings: Any) -> None:
    """Register memory stores.

    Called: per plugin, the first time a memory store is needed.
    """


@_registers("Tool")
def register_tools(register: Callable[..., None], settings: Any) -> None:
    """Register tools the actor may call.

    Called: per plugin, the first time the tool list is built.
    """


@_registers("ProtocolAdapter", "It should not connect anywhere yet: connect on first use.")
def register_protocols(register: Callable[..., None], settings: Any) -> None:
    """Register protocol adapters (MCP, A2A, AG-UI, AGENTS.md, …).

    Called: per plugin, the first time protocols are needed. The kernel builds each adapter once
    and keeps it (``kernel.protocols()``), so an adapter may hold connections between runs.

    An adapter (:class:`purpose_agent.interfaces.ProtocolAdapter`) has up to three capabilities,
    each optional except ``tools``:

    * **client** — ``tools()`` returns tools that reach the outside (an MCP server's tools, a
      remote A2A agent). A team built without ``tools=`` asks every adapter at the start of each
      run; ``problems()`` names the parts that are unavailable (a server that did not start), each
      reported as a ``protocol.unavailable`` event while the run goes on without it. ``close()``
      is called when the last run using the tools ends; the next call to a tool opens anew.
      Text a tool brings back carries its provenance (``Observation.origin``, e.g.
      ``TextOrigin(kind="mcp", name="git/git_log")``) and is screened as tool output.
    * **server** — ``async serve(team, *, ready=None, **options)`` serves a
      :class:`purpose_agent.interfaces.ServedTeam` (``purpose_agent.Team`` is one) to outside
      clients until cancelled, calling ``ready(address)`` once it accepts requests. The plugin
      exposes it as a CLI subcommand through :func:`register_commands` (``purpose-agent mcp
      serve``), building the team with ``purpose_agent.team_from_arguments``.
    * **observer** — a run's events live, through the run handle: a server that starts a run
      with ``team.start(task)`` reads ``handle.events()``; a plugin that watches runs it did not
      start implements :func:`watch_run`.
    """


@_registers("Sandbox")
def register_sandboxes(register: Callable[..., None], settings: Any) -> None:
    """Register sandboxes that execute untrusted (agent-written) code.

    Called: per plugin, the first time a sandbox is needed.
    """


@_registers("Checkpointer")
def register_checkpointers(register: Callable[..., None], settings: Any) -> None:
    """Register checkpointers that persist run state so a killed run can resume.

    Called: per plugin, the first time a checkpointer is needed.
    """


@_registers(
    "Embedder",
    "``name`` is what ``[runtime] embedder`` and ``kernel.embedder(name)`` select. The kernel "
    "wraps the embedder in its vector cache, so the factory should not cache vectors itself.",
)
def register_embedders(register: Callable[..., None], settings: Any) -> None:
    """Register embedders, which turn texts into sentence vectors (retrieval, semantic screening).

    Called: per plugin, the first time an embedder is needed (``kernel.embedder()``).
    """


@_registers(
    "KnowledgeSource",
    'It serves the directory ``context.options["path"]``. Building it should be quick: index '
    "on first search. Its passages are untrusted ``document`` text: screen them at ingestion "
    "with ``context.kernel.scan_many`` and keep flagged ones out of search results.",
)
def register_knowledge(register: Callable[..., None], settings: Any) -> None:
    """Register knowledge sources: searchable indexes of documents a team reads and cites.

    Called: per plugin, the first time a knowledge source is needed: a team given a directory as
    ``knowledge=`` (``pa.purpose(..., knowledge="./docs/")``) asks ``kernel.knowledge(path)``.
    """


@_registers(
    "Executor",
    '``context.options["max_in_flight"]`` bounds the tasks submitted and not yet finished. '
    "Building it should be quick: connect to a cluster on the first batch.",
)
def register_executors(register: Callable[..., None], settings: Any) -> None:
    """Register executors: where a batch of tasks runs (``pa.swarm(tasks, agent, executor=...)``).

    Called: per plugin, the first time an executor is needed: ``swarm`` given ``executor="NAME"``,
    or ``[runtime] executor = "NAME"`` in the configuration. Without either, tasks run in the
    caller's process (the built-in ``in-process`` executor).
    """


@_registers("Command", "``name`` is the subcommand word.")
def register_commands(register: Callable[..., None], settings: Any) -> None:
    """Register ``purpose-agent`` CLI subcommands.

    Called: per plugin, when the CLI meets a subcommand that is not built in, or builds its help.
    """


@hookspec
def backend_profiles(settings: Any) -> list[BackendProfile] | None:
    """Describe this plugin's backends for choosing the default model and for routing by cost.

    Called: per plugin (backend role), when a model is needed and none is configured
    (``[model] default``), and when a fallback chain is ordered by ``[model] routing =
    "local-first"`` or ``"cheapest"``. The kernel knows no provider by name: what it knows about
    one comes from here, so a third-party provider is treated exactly like ours.

    Args:
        settings: this plugin's validated settings, or ``None`` (a provider whose key variable or
            server address is configurable detects with the configured one).

    Returns: a list of :class:`purpose_agent.interfaces.BackendProfile`, one per backend name the
    plugin registers (``name``, ``priority`` in the default chain, ``detect(environ)`` that says
    why the backend is usable here or returns ``None``, ``local``, ``prices`` per model), or
    ``None``. A backend without a profile is never chosen as the default and has an unknown price.
    Keep ``detect`` quick; a check that must wait (a local server) should time out within a second.
    """


# ---------------------------------------------------------------------------------------------
# Run phase: broadcast hooks; every active plugin that implements one takes part.
# ---------------------------------------------------------------------------------------------


@hookspec
def scan(request: ScanRequest, settings: Any, context: ComponentContext) -> list[Finding] | None:
    """Screen a piece of text (usually a memory candidate) for attacks; immune scanners.

    Called: per plugin, for every candidate memory item before it can be promoted, for every
    lesson given with ``team.teach()``, and by ``purpose-agent immune eval``.

    Args:
        request: a :class:`purpose_agent.models.ScanRequest` with the text, what it is (lesson,
            prompt, document, tool output) and, for memory candidates, the item itself.
        settings: this plugin's validated settings (thresholds), or ``None``.
        context: a :class:`purpose_agent.interfaces.ComponentContext`; ``context.kernel`` gives
            access to backends for an optional model-assisted check.

    Returns: a list of :class:`purpose_agent.models.Finding` (empty when clean), or ``None``.

    Fails closed: if a scanner raises, the kernel turns the error into a blocking finding, so a
    broken scanner can never wave an item through; a scanner the configuration enables that
    cannot load makes screening refuse. The kernel calls this on a worker thread, not the
    caller's, under a deadline (``[kernel] scan_timeout_s``, more for a scanner's first call:
    ``scan_warmup_s``); an answer that comes later is a blocking ``scanner_timeout`` finding. Do
    slow one-time preparation at import or in ``settings_model`` (both run before the clock
    starts), and keep no state that only works on one thread.
    """


@hookspec
def instructions(task: str, workdir: str, settings: Any, role: str, kernel: KernelServices) -> list[str] | None:
    """Contribute standing instructions for a task (AGENTS.md and similar files).

    Called: per plugin, once at the start of every agent's run.

    Args:
        task: the task text.
        workdir: the directory the run works in.
        settings: this plugin's validated settings, or ``None``.
        role: (1.6) the role of the agent about to run (``"coder"``, ``"assistant"``, …), so
            instructions can be given to one role only; ``""`` when the caller names none.
        kernel: (1.6) the :class:`purpose_agent.interfaces.KernelServices` running the agent.

    Returns: a list of instruction texts (each already size-capped by the plugin), or ``None``.
    """


@hookspec
def on_event(event: Event) -> None:
    """Observe a kernel event (run, step, model call, tool call, critic, memory, error).

    Called: per plugin, for every event the event bus delivers to synchronous observers. Keep it
    fast: the loop waits for synchronous observers. An observer that raises is disabled and
    reported; the run goes on.

    Args:
        event: a :class:`purpose_agent.models.Event`.

    Returns: nothing.
    """


@hookspec
def watch_run(run: RunHandle, settings: Any, kernel: KernelServices) -> None:
    """Watch one team run's events live, from ``team.started`` to ``team.finished``.

    Called: per plugin (observer role), when a team run starts, before its first event, in the
    thread that starts it. Return at once; subscribe to what you want:

    * ``run.listen(callback)`` calls ``callback(event)`` for each event in the run's own thread
      (keep it fast: the run waits);
    * ``run.events()`` returns an async iterator over the events, read from any event loop in
      any thread, through a bounded queue: a reader that falls more than ``queue_size`` events
      behind loses events (counted in ``run.dropped``), never the run's final ``team.finished``.

    Every event of the run comes through, member runs included (their ``parent_run_id`` is the
    team run's ``run_id``). :func:`on_event` still sees every event of every run, one at a time.

    Args:
        run: a :class:`purpose_agent.interfaces.RunHandle`: ``run_id``, ``task``, ``listen``,
            ``events``, ``cancel``, ``result``.
        settings: this plugin's validated settings, or ``None``.
        kernel: (1.6) the :class:`purpose_agent.interfaces.KernelServices` running the team
            (``kernel.state_dir()`` for a plugin that records runs).

    Returns: nothing. A plugin that raises is disabled and reported; the run goes on.
    """


@hookspec(firstresult=True)
def memory_write(item: MemoryItem) -> MemoryItem | None:
    """Veto or rewrite a memory item before the store writes it.

    Called: through pluggy, for every memory write. Implement it as ``@hookimpl(wrapper=True)``
    to see the final result, or as a plain implementation that returns a replacement item.

    Args:
        item: the :class:`purpose_agent.models.MemoryItem` about to be written.

    Returns: the item to write instead, or ``None`` to leave it unchanged. To veto the write,
    raise :class:`purpose_agent.errors.MemoryWriteVetoed` with the reason. The first non-None
    result wins.
    """


# ---------------------------------------------------------------------------------------------
# Writing hook implementations: what every plugin's registration and commands would otherwise
# spell out again. Nothing here is a hook; it only builds what the hooks above receive.
# ---------------------------------------------------------------------------------------------


class LazyFactory:
    """A factory that imports what it builds on its first call: see :func:`lazy`."""

    __slots__ = ("_target", "target")

    def __init__(self, target: str) -> None:
        module, colon, attribute = target.partition(":")
        if not (module and colon and attribute):
            raise ValueError(f"lazy() takes 'package.module:Name', not {target!r}")
        #: ``"package.module:Name"``, as given.
        self.target = target
        self._target: Any = None

    def resolve(self) -> Any:
        """The object the target names, imported on the first call and kept."""
        if self._target is None:
            import importlib

            module, _, attribute = self.target.partition(":")
            found: Any = importlib.import_module(module)
            for part in attribute.split("."):
                found = getattr(found, part)
            self._target = found
        return self._target

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.resolve()(*args, **kwargs)

    def __repr__(self) -> str:
        return f"lazy({self.target!r})"


def lazy(target: str) -> LazyFactory:
    """A factory for a ``register(name, factory, ...)`` call that imports its module on first use.

    ``target`` is ``"package.module:Name"``: a class or function in your own package, written in
    your code (never read from configuration). Calling the factory imports ``package.module``
    (once), then calls ``Name`` with the arguments the kernel passes (``context``, or ``model,
    context`` for a backend). The kernel imports every plugin module to list plugins and build
    ``--help``, so a plugin module registers its components with ``lazy`` and keeps its heavy
    imports (pydantic, an SDK, the component's own module) out of its top level::

        @hookimpl
        def register_commands(register):
            register("ui", lazy("purpose_agent_agui.command:UiCommand"), description="serve the live view")

    A malformed target raises ``ValueError`` at once; a missing module or name raises
    ``ImportError`` or ``AttributeError`` when the factory is first called (a test that builds
    each registered component, as the conformance suites do, finds it).
    """
    return LazyFactory(target)


def register_lazily(name: str, target: str, *, description: str = "") -> Callable[..., None]:
    """A ``register_<role>`` implementation that registers one component, ``name``, whose factory
    is ``lazy(target)``, with its one-line ``description``.

    Assign it under the hook's name in the plugin module; a plugin that registers several
    components for one role writes the hook itself, with :func:`lazy` factories::

        register_commands = register_lazily("ui", "purpose_agent_agui.command:UiCommand",
                                            description="serve an AG-UI event stream of runs")
    """
    factory = LazyFactory(target)

    def registration(register: Callable[..., None]) -> None:
        register(name, factory, description=description)

    registration.__doc__ = f"Register ``{name}``: ``{target}``."
    return hookimpl(registration)


def lazy_settings(target: str) -> Callable[[], Any]:
    """A :func:`settings_model` implementation returning the pydantic model ``target`` names
    (``"package.module:Model"``), imported when the kernel first asks for it. ``target`` may also
    name a function that builds and returns the model (a model defined inside a function, so
    that importing its module stays cheap); it is called each time the kernel asks.

    Assign it under the hook's name in the plugin module::

        settings_model = lazy_settings("purpose_agent_agui.settings:AguiSettings")
    """
    model = LazyFactory(target)

    def settings_model() -> Any:
        found = model.resolve()
        return found if isinstance(found, type) else found()

    settings_model.__doc__ = f"The settings model ``{target}``."
    return hookimpl(settings_model)


class BaseCommand:
    """A base for a plugin's ``purpose-agent`` subcommand (:class:`purpose_agent.interfaces.Command`).

    It keeps the :class:`~purpose_agent.interfaces.ComponentContext` the factory receives as
    ``self.context`` (``context.kernel``, ``context.settings``), so the class itself is the
    factory: ``register("word", lazy("pkg.command:WordCommand"), description=...)``.

    A command with actions (``purpose-agent vault index|search|ask``) declares each one once, as
    a method ``do_<action>(args)`` whose docstring's first line is the action's line of help
    (``_`` in the method name is ``-`` in the word). :meth:`actions` finds them, in definition
    order with a base class's first; :meth:`add_arguments` adds one sub-parser per action (the
    chosen word is ``args.action``) and hands them to :meth:`add_action_arguments`, and
    :meth:`run` calls the chosen method::

        class VaultCommand(BaseCommand):
            help = "Index a directory of documents and search it."

            def add_action_arguments(self, parsers):
                parsers["index"].add_argument("dir")
                parsers["search"].add_argument("query")

            def do_index(self, args):
                '''index DIR'''
                ...
                return 0

            def do_search(self, args):
                '''the passages best matching a query'''
                ...

    A ``do_`` method without a docstring is a :class:`TypeError` when the parser is built; an
    override without one keeps the help of the method it overrides. A command that needs
    something ready before any action (a store, a check shared by all) overrides :meth:`run`
    and calls :meth:`dispatch` with extra arguments for the actions. A command without actions
    has no ``do_`` method and overrides :meth:`add_arguments` and :meth:`run`.
    """

    #: The description ``purpose-agent WORD --help`` shows.
    help: str = ""

    def __init__(self, context: Any = None) -> None:
        self.context = context

    @classmethod
    def actions(cls) -> dict[str, str]:
        """Action word -> its line of help, from the ``do_`` methods, in the order ``--help`` lists them."""
        found: dict[str, str | None] = {}
        for klass in reversed(cls.__mro__):
            for name, value in vars(klass).items():
                if name.startswith("do_") and callable(value):
                    lines = (value.__doc__ or "").strip().splitlines()
                    word = name[3:].replace("_", "-")
                    found[word] = lines[0].strip() if lines else found.get(word)
        undocumented = [f"do_{word.replace('-', '_')}" for word, text in found.items() if not text]
        if undocumented:
            raise TypeError(f"{cls.__qualname__}: {', '.join(undocumented)} needs a docstring; "
                            "its first line is the action's help in --help")
        return {word: text for word, text in found.items() if text}

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """Add one sub-parser per action (``args.action`` is the word given; one is required)."""
        actions = self.actions()
        if not actions:
            return
        sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
        self.add_action_arguments({word: sub.add_parser(word, help=text) for word, text in actions.items()})

    def add_action_arguments(self, parsers: dict[str, argparse.ArgumentParser]) -> None:
        """Declare each action's arguments on ``parsers[word]``. By default: none."""

    def run(self, args: argparse.Namespace) -> int:
        """Run the action ``args.action`` names (see :meth:`dispatch`); return the exit code."""
        return self.dispatch(args)

    def dispatch(self, args: argparse.Namespace, *extra: Any) -> int:
        """``self.do_<action>(args, *extra)``, as an exit code (``None`` is 0)."""
        method = getattr(self, "do_" + args.action.replace("-", "_"))
        return int(method(args, *extra) or 0)

    def kernel_for(self, args: argparse.Namespace) -> Any:
        """The kernel the CLI found this command with (``args.kernel``), else the one that built it."""
        return getattr(args, "kernel", None) or self.context.kernel
