"""The shapes of the components plugins register: backends, critics, stores, tools, ….

These are ``typing.Protocol`` classes: a plugin's component needs the methods, not a base class.
The conformance suites in ``purpose_agent_conformance`` (its own distribution) check a component
against them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

# Small rules every plugin that prints untrusted text or serves on a network must follow, part of
# the contract so plugins import them from here (their code lives in the kernel modules named).
from .loopback import is_loopback as is_loopback
from .terminal_text import printable as printable
from .terminal_text import printable_json as printable_json

if TYPE_CHECKING:
    import argparse
    from pathlib import Path

    import numpy

    from .contract_records import IndexedText as IndexedText
    from .contract_records import Passage as Passage
    from .contract_records import SearchHit as SearchHit
    from .contract_records import WorkerSpec as WorkerSpec
    from .embedding_cache import text_digest as text_digest
    from .kernel import PluginRecord
    from .memory.errors import MemoryImportError as MemoryImportError
    from .memory.errors import MemoryItemNotFound as MemoryItemNotFound
    from .memory.errors import MemoryStoreError as MemoryStoreError
    from .memory.transfer import export_jsonl as export_jsonl
    from .memory.transfer import import_records as import_records
    from .memory.transfer import read_jsonl as read_jsonl
    from .memory.usefulness import apply_use as apply_use
    from .models import (
        ChatRequest,
        ChatResponse,
        Checkpoint,
        Event,
        ExecResult,
        Finding,
        LayerStatus,
        MemoryItem,
        MemoryStatus,
        Observation,
        ScanRequest,
        Score,
        ScoredItem,
        StreamChunk,
        Trajectory,
    )
    from .store_kit import DEFAULT_POLICY as DEFAULT_POLICY
    from .store_kit import HYBRID_CANDIDATES as HYBRID_CANDIDATES
    from .store_kit import LEXICAL_FLOOR as LEXICAL_FLOOR
    from .store_kit import MAX_QUERY_TERMS as MAX_QUERY_TERMS
    from .store_kit import MIN_SIMILARITY as MIN_SIMILARITY
    from .store_kit import RRF_K as RRF_K
    from .store_kit import SEMANTIC_CHOICES as SEMANTIC_CHOICES
    from .store_kit import STOPWORDS as STOPWORDS
    from .store_kit import StoredHit as StoredHit
    from .store_kit import StoreEmbedder as StoreEmbedder
    from .store_kit import UsefulnessPolicy as UsefulnessPolicy
    from .store_kit import canonical_json as canonical_json
    from .store_kit import query_terms as query_terms
    from .store_kit import reciprocal_rank_fusion as reciprocal_rank_fusion


class KernelServices(Protocol):
    """What a plugin may ask of the kernel: the part of :class:`purpose_agent.kernel.Kernel` that is
    public contract. Plugins type against this, never against ``Kernel`` or its private attributes.
    """

    def backend(self, spec: str) -> Backend:
        """The backend serving ``provider:model`` ``spec``."""
        ...

    def critic(self, name: str, **options: Any) -> Critic:
        """The critic registered as ``name``, built with ``options``."""
        ...

    def memory_store(self, name: str, **options: Any) -> MemoryStore:
        """The memory store registered as ``name``, built with ``options``."""
        ...

    def sandbox(self, name: str, **options: Any) -> Sandbox:
        """The sandbox registered as ``name``, built with ``options``."""
        ...

    def tools(self) -> list[Tool]:
        """Every tool the enabled plugins register."""
        ...

    def embedder(self, name: str | None = None) -> Embedder:
        """The embedder ``name`` (the configured default when ``None``)."""
        ...

    def embedder_if_available(self) -> Embedder | None:
        """The default embedder, or ``None`` when none is installed or it cannot be used (a
        ``RuntimeWarning`` says why): for features that only get better with one."""
        ...

    def scanners(self) -> list[str]:
        """Names of the enabled immune scanners."""
        ...

    def scan(self, request: ScanRequest) -> list[Finding]:
        """Findings of every enabled scanner on one text."""
        ...

    def scan_many(self, requests: Sequence[ScanRequest]) -> list[list[Finding]]:
        """Findings per request, in order, batched where scanners support it."""
        ...

    def blocking_reasons(
        self, text: str, source: Literal["lesson", "prompt", "document", "tool_output", "other"] = "prompt", *, limit: int = 3
    ) -> str:
        """``""`` when no active scanner blocks ``text``, else ``"scanner/category: explanation; …"``
        (nothing to screen with, no scanner active and none broken, also gives ``""``)."""
        ...

    def screening_refusal(self) -> str:
        """``""`` when every enabled scanner can run, else the sentence screening refuses with."""
        ...

    def plugins(self) -> list[PluginRecord]:
        """All known plugins, sorted by id."""
        ...

    def emit(self, event: Event) -> None:
        """Deliver ``event`` to every observer plugin (``on_event``); for what a component sees
        happen outside a run's own event stream (a remote agent's circuit opening, say)."""
        ...

    def state_dir(self) -> Path:
        """Where purpose-agent keeps state on this machine (``$XDG_STATE_HOME/purpose-agent``)."""
        ...


@dataclass
class ComponentContext:
    """What a component factory receives: its plugin's settings and the kernel that built it.

    ``kernel`` gives access to the other roles (a critic that needs a backend asks
    ``context.kernel.backend(...)``); ``settings`` is the plugin's validated section or ``None``.
    """

    kernel: KernelServices
    plugin_id: str
    settings: Any = None
    options: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class Backend(Protocol):
    """An LLM backend. ``name`` is the full ``provider:model`` string it serves.

    Optional attributes the kernel uses when present: ``supports_tools`` (``True`` if the backend
    accepts ``ChatRequest.tools`` and returns native tool calls; otherwise the actor asks for
    JSON actions constrained by ``response_schema``) and ``health() -> (ok, detail)`` (used by
    ``purpose-agent doctor``).
    """

    name: str

    def complete(self, request: ChatRequest) -> ChatResponse:
        """Send one request and return the whole reply."""
        ...

    async def acomplete(self, request: ChatRequest) -> ChatResponse:
        """Async twin of :meth:`complete`."""
        ...

    def stream(self, request: ChatRequest) -> Iterator[StreamChunk]:
        """Yield the reply as it arrives."""
        ...

    def astream(self, request: ChatRequest) -> AsyncIterator[StreamChunk]:
        """Async twin of :meth:`stream`."""
        ...


@dataclass(frozen=True)
class BackendProfile:
    """What the kernel needs to know about a backend to choose a default model and to route by cost.

    A backend plugin returns these from the ``backend_profiles`` hook, so a provider the kernel has
    never heard of takes part in the default chain and in cost-aware routing like any other.

    ``name``: the registered backend name (the ``provider`` in ``provider:model``).
    ``priority``: its place in the default chain when no ``[model] default`` is configured; the
    usable backend with the highest priority wins (ties: by name). Conventions: a cloud provider
    with a key 300-399, a local server 200-299, an embedded model 100-199, 0 never a default.
    ``detect(environ)``: why the backend is usable here (``"GROQ_API_KEY is set"``), or ``None``
    when it is not; called only for backends ranked above every usable one found so far, so a slow
    check (is a local server up?) runs only when it matters. ``None``: never a default.
    ``local``: runs on this machine (no per-token cost; first under ``routing = "local-first"``).
    ``prices``: model -> (USD per 1M prompt tokens, USD per 1M completion tokens), list prices for
    ``routing = "cheapest"``; a local backend's models cost nothing without being listed.
    """

    name: str
    priority: int = 0
    detect: Callable[[Mapping[str, str]], str | None] | None = None
    local: bool = False
    prices: Mapping[str, tuple[float, float]] = field(default_factory=dict)

    def price_of(self, model: str) -> tuple[float, float] | None:
        """The (prompt, completion) price per 1M tokens of ``model``, or ``None`` if unknown."""
        if self.local:
            return (0.0, 0.0)
        price = self.prices.get(model)
        return None if price is None else (float(price[0]), float(price[1]))


@runtime_checkable
class Critic(Protocol):
    """Scores a trajectory: Φ(s) from 0 (nothing achieved) to 10 (done and verified)."""

    name: str

    def score(self, trajectory: Trajectory) -> Score:
        """Return the score of the trajectory's latest state."""
        ...


@runtime_checkable
class MemoryStore(Protocol):
    """Stores memory items with versions and an append-only history."""

    def add(self, item: MemoryItem) -> MemoryItem:
        """Insert a new item; raise ``ValueError`` if its id exists."""
        ...

    def get(self, item_id: str) -> MemoryItem | None:
        """Return the current version of an item, or ``None``."""
        ...

    def update(self, item: MemoryItem) -> MemoryItem:
        """Write a new version (version + 1); the old one stays in the history."""
        ...

    def list(
        self, *, status: MemoryStatus | None = None, limit: int | None = None
    ) -> Sequence[MemoryItem]:
        """Return current items, newest first, optionally filtered by status."""
        ...

    def search(
        self, query: str, *, limit: int = 10, status: MemoryStatus | None = None
    ) -> Sequence[ScoredItem]:
        """Return the items most relevant to ``query``, best first."""
        ...

    def history(self, item_id: str) -> Sequence[MemoryItem]:
        """Return every version of an item, oldest first."""
        ...

    def close(self) -> None:
        """Release files and connections."""
        ...


@runtime_checkable
class Tool(Protocol):
    """Something the actor can call. ``parameters`` is a JSON schema for ``arguments``.

    Optional: ``offered = False`` on a built tool says it has nothing to offer at the moment
    (``use_skill`` before any skill is promoted); ``kernel.tools()``, the default tool set of a
    team, leaves it out.
    """

    name: str
    description: str
    parameters: dict[str, Any]

    def run(self, arguments: dict[str, Any]) -> Observation:
        """Run with validated arguments; report failures in the observation, do not raise."""
        ...


@runtime_checkable
class Sandbox(Protocol):
    """Runs untrusted code in isolation."""

    name: str

    def layers(self) -> Sequence[LayerStatus]:
        """Report each isolation layer and whether it is available on this machine."""
        ...

    def run(self, code: str, *, timeout: float = 10.0, files: dict[str, str] | None = None) -> ExecResult:
        """Run Python ``code`` (with extra ``files`` in its work directory) and return the result.

        Must refuse (raise ``purpose_agent.errors.SandboxUnavailable``) rather than run code with
        a required isolation layer missing.
        """
        ...


@runtime_checkable
class Checkpointer(Protocol):
    """Persists run state after each completed step."""

    def save(self, checkpoint: Checkpoint) -> None:
        """Durably store a checkpoint (the latest for its run wins)."""
        ...

    def latest(self, run_id: str) -> Checkpoint | None:
        """Return the latest checkpoint of a run, or ``None``."""
        ...


@runtime_checkable
class ProtocolAdapter(Protocol):
    """A bridge to an outside protocol (MCP, A2A, AG-UI, AGENTS.md).

    The kernel builds each adapter once (``kernel.protocols()``). Besides :meth:`tools`, an
    adapter may offer, and the kernel uses when present:

    * ``problems() -> Sequence[str]``: one sentence per part that is unavailable right now (an MCP
      server that did not start, a remote agent whose circuit is open), asked after
      :meth:`tools`; each becomes a ``protocol.unavailable`` event and the run goes on without it;
    * ``close() -> None``: release connections and processes; called when the last run using the
      adapter's tools ends. Must be idempotent, and a tool used after it opens anew;
    * ``async serve(team, *, ready=None, **options) -> None``: the server side, see
      :class:`ProtocolServer`.

    :class:`purpose_agent_conformance.ProtocolAdapterConformance` and
    ``ProtocolServerConformance`` check these.
    """

    name: str

    def tools(self) -> Sequence[Tool]:
        """Tools this protocol contributes (an MCP server's tools, a remote A2A agent, …).

        Called at the start of every team run that uses the kernel's tools (so it may connect,
        start a process or list a server's tools, within its own timeouts); may return ``[]``.
        Raise only when the whole protocol is unusable: the run then goes on without it. Each
        tool's observations carry an untrusted origin (``kind="mcp"`` or ``"remote_agent"``).
        """
        ...


@runtime_checkable
class ProtocolServer(Protocol):
    """The server side of a protocol adapter: serves one team to outside clients."""

    name: str

    async def serve(self, team: ServedTeam, *, ready: Callable[[str], None] | None = None, **options: Any) -> None:
        """Serve ``team`` until cancelled; then stop accepting, end open streams and return.

        ``ready(address)`` is called once the server accepts requests, with where it listens
        (``"http://127.0.0.1:8765/mcp"``, ``"stdio"``). ``options`` are the protocol's own
        (``host``, ``port``, …); an option the server does not know is a ``TypeError``.
        A bind beyond loopback must be refused unless the options carry authentication.
        """
        ...


@runtime_checkable
class RunHandle(Protocol):
    """One team run, seen from outside while it happens (``team.start(task)``, :func:`watch_run`).

    Its events go from ``team.started`` to ``team.finished`` (always the last one, also after an
    error or a cancel), member runs' events in between (their ``parent_run_id`` is ``run_id``).
    """

    run_id: str
    task: str

    @property
    def done(self) -> bool:
        """Whether ``team.finished`` has been emitted."""
        ...

    @property
    def dropped(self) -> int:
        """Events lost by :meth:`events` readers that fell more than their queue behind."""
        ...

    def listen(self, callback: Callable[[Event], None]) -> None:
        """Call ``callback(event)`` for every later event, synchronously in the run's thread."""
        ...

    def events(self, *, replay: bool = True, queue_size: int = 1000) -> AsyncIterator[Event]:
        """Iterate the run's events from any event loop; ends after ``team.finished``.

        ``replay`` first yields the events emitted before the call (a reader that attaches late
        sees the whole run). Events beyond ``queue_size`` unread are dropped for this reader and
        counted in :attr:`dropped`; ``team.finished`` is never dropped.
        """
        ...

    def cancel(self) -> None:
        """Ask the run to stop after the step in progress (thread-safe); it still finishes cleanly."""
        ...

    async def result(self) -> Any:
        """Wait for the run and return its ``TeamResult`` (or raise what the run raised)."""
        ...


@runtime_checkable
class ServedTeam(Protocol):
    """What a protocol server serves: one team. ``purpose_agent.Team`` satisfies it."""

    purpose: str
    roles: tuple[str, ...]

    def start(self, task: str) -> RunHandle:
        """Start a run of ``task`` on the running event loop and return its handle at once."""
        ...

    def ask(self, question: str) -> str:
        """Answer from the team's purpose and knowledge with one model call, no tools."""
        ...

    def teach(self, text: str) -> MemoryItem | list[Finding]:
        """Screen a lesson and keep it; raises ``LessonRejected`` (with a sentence) if it is not kept."""
        ...

    def search_memory(self, query: str, *, limit: int = 5) -> Sequence[ScoredItem]:
        """The promoted lessons most relevant to ``query``, best first (empty without memory)."""
        ...

    def status(self) -> dict[str, Any]:
        """Purpose, roles, model, tools, critic, runs and memory counts, as plain data."""
        ...


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into sentence vectors, for retrieval by meaning and semantic screening.

    ``model_id`` names the model *and its weights* (for example ``"minilm:all-MiniLM-L6-v2@<hash>"``);
    it must change whenever the vectors for the same text would change, because the kernel's
    vector cache is keyed by ``(model_id, sha256(text))``. ``dimension`` is the vector length.

    A text longer than the model's input limit must not fail: the embedder truncates or windows
    it and says which in its documentation. The conformance suite
    :class:`purpose_agent_conformance.EmbedderConformance` checks all of this.

    An embedder that sends text off this machine (a hosted API) sets an attribute ``remote =
    True``; the kernel then uses it only when the configuration names it (memory and documents
    never leave the machine by default). Without the attribute an embedder counts as local.
    """

    # Read-only properties in the protocol, so a plain attribute and a property both satisfy it.
    @property
    def model_id(self) -> str:
        """The model and its weights; changes whenever the vectors for a text would."""
        ...

    @property
    def dimension(self) -> int:
        """The length of every vector."""
        ...

    def embed(self, texts: Sequence[str]) -> numpy.ndarray:
        """Return a float32 array of shape ``(len(texts), dimension)``, one row per text.

        Rows are L2-normalised (unit length), so a dot product of two rows is their cosine
        similarity. The same text always gives the same row. An empty sequence gives shape
        ``(0, dimension)``.
        """
        ...


class TextIndex(Protocol):
    """A plugin's own texts searchable by words and meaning (``purpose-agent-sqlite``'s
    ``SearchIndex`` is one: BM25 and embeddings fused by rank, several named indexes in one SQLite
    file); entries are :class:`IndexedText`, results :class:`SearchHit`; writes are whole batches."""

    def upsert(self, texts: Iterable[IndexedText]) -> int:
        """Add or replace texts by id; return how many changed (unchanged ones are skipped)."""
        ...

    def delete(self, ids: Iterable[str]) -> int:
        """Remove the texts with these ids; return how many were there."""
        ...

    def get(self, text_id: str) -> IndexedText | None:
        """The text with this id, or ``None``."""
        ...

    def ids(self) -> list[str]:
        """Every id, in the order the texts were first added."""
        ...

    def search(self, query: str, k: int = 10, mode: str = "hybrid",
               where: Mapping[str, Any] | None = None) -> list[SearchHit]:
        """The ``k`` best texts for ``query``: ``mode`` is "hybrid", "lexical" or "dense";
        ``where`` keeps only texts whose metadata has these values."""
        ...

    def embed_pending(self) -> int:
        """Embed every text that has no vector for the current embedder yet; return how many."""
        ...

    def integrity_check(self) -> str:
        """SQLite's integrity check of the file plus the index's own ("ok" when sound)."""
        ...

    def rebuild(self) -> int:
        """Rebuild the word index from the stored texts; return how many texts it holds."""
        ...

    def close(self) -> None:
        """Close the index's connection (idempotent)."""
        ...


@runtime_checkable
class KnowledgeSource(Protocol):
    """Documents a team can search and cite (a vault over a directory).

    Passages never include text the immune scanners flagged. The team searches it through
    :meth:`as_tool` during runs and through :meth:`search` in ``team.ask()``.
    """

    def search(self, query: str, k: int = 5) -> Sequence[Passage]:
        """The ``k`` passages best matching ``query``, best first."""
        ...

    def as_tool(self, name: str = "search_documents") -> Tool:
        """A tool named ``name`` the actor calls to search; its observations carry
        ``TextOrigin(kind="document")``, so the runner screens them and marks them as data."""
        ...


@runtime_checkable
class Executor(Protocol):
    """Runs a batch of tasks: in this process, or spread over other processes and machines.

    ``max_in_flight`` bounds the tasks submitted and not yet finished (backpressure: the rest wait
    in the caller). ``worker`` is a :class:`WorkerSpec` (any executor) or an agent / function
    object (an executor in this process; one that sends work elsewhere may refuse what it cannot
    pickle, saying so).
    """

    max_in_flight: int

    async def amap(self, worker: Any, tasks: Sequence[Any], *, retries: int = 0) -> list[Any]:
        """Run ``worker`` on every task; return the results in task order.

        A task that raises is run again, up to ``retries`` more times; if every attempt fails, its
        last exception is returned in its place (not raised), so one failure loses no other
        result. Cancelling the coroutine cancels the tasks running and starts no more.
        """
        ...

    def close(self) -> None:
        """Release workers and connections; the executor may not be used afterwards."""
        ...


@runtime_checkable
class Command(Protocol):
    """A ``purpose-agent`` subcommand contributed by a plugin."""

    help: str

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """Declare the subcommand's arguments."""
        ...

    def run(self, args: argparse.Namespace) -> int:
        """Run it; return the process exit code."""
        ...


ComponentFactory = Callable[..., Any]


def plugin_id_problem(plugin_id: str) -> str:
    """Why ``plugin_id`` is not a valid plugin id (a sentence), or ``""`` if it is valid: the rule
    discovery applies to entry-point names, for plugins that name new plugins."""
    from .discovery import plugin_id_problem as problem

    return problem(plugin_id)


def extract_json_object(text: str) -> tuple[dict[str, Any] | None, str]:
    """The JSON object in a model's reply, bare, fenced or with chatter around it, and ``""``; or
    ``None`` and why there is none (a sentence). The actor reads structured replies this way; a
    plugin that asks a model for JSON uses it too."""
    from .runtime.actor import _extract_json_object

    return _extract_json_object(text)


#: Contract records defined in :mod:`purpose_agent.contract_records`, created on first access.
_LAZY_RECORDS = frozenset({"IndexedText", "Passage", "SearchHit", "WorkerSpec"})
#: What every memory store shares (query words, rank fusion, hybrid defaults, the usefulness policy,
#: canonical JSON, the lazy search hit): kept in ``purpose_agent.store_kit``, offered to store
#: plugins from here, on first access.
_STORE_KIT = frozenset({
    "DEFAULT_POLICY",
    "HYBRID_CANDIDATES",
    "LEXICAL_FLOOR",
    "MAX_QUERY_TERMS",
    "MIN_SIMILARITY",
    "RRF_K",
    "SEMANTIC_CHOICES",
    "STOPWORDS",
    "StoreEmbedder",
    "StoredHit",
    "UsefulnessPolicy",
    "canonical_json",
    "query_terms",
    "reciprocal_rank_fusion",
})
#: What a memory store does the kernel's way, so the kernel's memory pipeline and CLI see every
#: store alike: the errors they catch, one use recorded by the usefulness policy, a rollback by
#: the lifecycle's rules, the JSONL export format, and the digest the embedding cache keys texts
#: by. name -> (module, name there); kept where the kernel uses them, offered here on first access.
_MEMORY_KIT = {
    "MemoryStoreError": ("purpose_agent.memory.errors", "MemoryStoreError"),
    "MemoryItemNotFound": ("purpose_agent.memory.errors", "MemoryItemNotFound"),
    "MemoryImportError": ("purpose_agent.memory.errors", "MemoryImportError"),
    "apply_use": ("purpose_agent.memory.usefulness", "apply_use"),
    "rollback_item": ("purpose_agent.memory.lifecycle", "rollback"),
    "export_jsonl": ("purpose_agent.memory.transfer", "export_jsonl"),
    "read_jsonl": ("purpose_agent.memory.transfer", "read_jsonl"),
    "import_records": ("purpose_agent.memory.transfer", "import_records"),
    "text_digest": ("purpose_agent.embedding_cache", "text_digest"),
}


#: What every protocol server shares so that clients see the same server whichever protocol they
#: use: the progress line for a loop event, and the bearer-token check (how a request is answered
#: stays the protocol plugin's). name -> (module, name there), offered here on first access.
_SERVING_KIT = {
    "describe_event": ("purpose_agent.runtime.events", "describe_event"),
    "bearer_token_matches": ("purpose_agent.loopback", "bearer_token_matches"),
}


def _lazy_home(name: str) -> tuple[str, str] | None:
    if name in _LAZY_RECORDS:
        return "purpose_agent.contract_records", name
    if name in _STORE_KIT:
        return "purpose_agent.store_kit", name
    return _MEMORY_KIT.get(name) or _SERVING_KIT.get(name)


def __getattr__(name: str) -> Any:
    home = _lazy_home(name)
    if home is None:
        raise AttributeError(f"module 'purpose_agent.interfaces' has no attribute '{name}'")
    import importlib

    value = getattr(importlib.import_module(home[0]), home[1])
    globals()[name] = value  # once: later lookups are plain module attributes
    return value
