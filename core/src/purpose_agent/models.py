"""The data that crosses the plugin contract, as pydantic models.

Everything a hook receives or returns, and everything a component method takes or gives back, is
one of these models (or plain data). They are versioned with :data:`HOOK_API_VERSION`: fields are
only ever added, with defaults, so a plugin built against an older minor version keeps working.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


def new_id() -> str:
    """Return a fresh random identifier (32 hex characters)."""
    return uuid.uuid4().hex


class ContractModel(BaseModel):
    """Base of every contract model: unknown fields are rejected so typos surface early."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


# --------------------------------------------------------------------------- model calls


class ToolCall(ContractModel):
    """A model's request to call a tool."""

    id: str = Field(description="Provider-issued id; echoed back in the tool's result message.")
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)


class Message(ContractModel):
    """One chat message."""

    role: Literal["system", "user", "assistant", "tool"]
    content: str = ""
    tool_calls: list[ToolCall] = Field(default_factory=list)
    tool_call_id: str | None = Field(default=None, description="Set on role='tool' replies.")
    name: str | None = None
    reasoning: str | None = Field(default=None, description="Reasoning text, if the model gave any.")


class ToolSpec(ContractModel):
    """A tool as offered to a model: name, description and a JSON schema for its arguments."""

    name: str
    description: str = ""
    parameters: dict[str, Any] = Field(default_factory=lambda: {"type": "object", "properties": {}})


class ChatRequest(ContractModel):
    """A request to an LLM backend."""

    messages: list[Message]
    tools: list[ToolSpec] = Field(default_factory=list)
    response_schema: dict[str, Any] | None = Field(
        default=None, description="JSON schema the reply must satisfy (structured output)."
    )
    temperature: float | None = None
    max_tokens: int | None = None
    stop: list[str] = Field(default_factory=list)
    extra: dict[str, Any] = Field(default_factory=dict, description="Provider-specific options.")


class Usage(ContractModel):
    """Token accounting for one or more model calls."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float | None = Field(default=None, description="None when the price is unknown.")

    @property
    def total_tokens(self) -> int:
        """Prompt plus completion tokens."""
        return self.prompt_tokens + self.completion_tokens

    def __add__(self, other: Usage) -> Usage:
        cost = None
        if self.cost_usd is not None or other.cost_usd is not None:
            cost = (self.cost_usd or 0.0) + (other.cost_usd or 0.0)
        return Usage(
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
            cost_usd=cost,
        )


class ChatResponse(ContractModel):
    """A backend's complete reply."""

    message: Message
    usage: Usage = Field(default_factory=Usage)
    model: str = ""
    finish_reason: str | None = None


class StreamChunk(ContractModel):
    """One piece of a streamed reply. Tool-call chunks carry the full call seen so far."""

    content: str = ""
    reasoning: str = ""
    tool_calls: list[ToolCall] = Field(default_factory=list)
    usage: Usage | None = None
    finish_reason: str | None = None


# --------------------------------------------------------------------------- the loop


class Action(ContractModel):
    """What the actor decided to do in one step."""

    kind: Literal["tool", "answer", "done"]
    tool: str | None = None
    arguments: dict[str, Any] = Field(default_factory=dict)
    text: str = Field(default="", description="The answer, or the reason for stopping.")
    thought: str = ""


#: Where a piece of text came from. ``user`` (the task), ``operator`` (configuration, AGENTS.md,
#: taught lessons) and ``model`` (the agent's own replies) are the run's principals; the others
#: arrive from outside and are **untrusted**: screened, and marked as data in prompts.
OriginKind = Literal["user", "operator", "model", "memory", "tool", "document", "mcp", "remote_agent"]

#: The origins whose text is untrusted (see :attr:`TextOrigin.untrusted`).
UNTRUSTED_ORIGINS: frozenset[str] = frozenset({"tool", "document", "mcp", "remote_agent"})


class TextOrigin(ContractModel):
    """Where a piece of text came from: a kind and the name of the tool, document, server or peer.

    A plugin that brings outside text into a run (a tool, an MCP client, an A2A peer, a document
    store) says where it came from with this, e.g. ``TextOrigin(kind="mcp", name="git/log")``;
    the runner screens untrusted text and marks it as data in prompts (docs/immune.md,
    "Provenance")."""

    kind: OriginKind = "tool"
    name: str = Field(default="", description="The tool, document, MCP server/tool or remote agent, if any.")

    @property
    def label(self) -> str:
        """``kind:name`` (``tool:web_search``), or the kind alone when there is no name."""
        return f"{self.kind}:{self.name}" if self.name else self.kind

    @property
    def untrusted(self) -> bool:
        """Whether text of this origin comes from outside the run's principals."""
        return self.kind in UNTRUSTED_ORIGINS


class Observation(ContractModel):
    """What came back from acting: a tool's output or an error."""

    ok: bool = True
    output: str = ""
    error: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)
    origin: TextOrigin = Field(
        default_factory=TextOrigin,
        description="Where the output came from; the runner fills in the tool's name when it is empty.",
    )
    screened: bool = Field(
        default=False,
        description="Whether the kernel's immune scanners read this output (set by the runner or the learner, "
        "never trusted from a tool).",
    )
    flagged: list[Finding] = Field(
        default_factory=list, description="Scanner findings at or above high severity on the output."
    )


class Step(ContractModel):
    """One actor step: the action taken and what was observed."""

    index: int
    action: Action
    observation: Observation | None = None
    usage: Usage = Field(default_factory=Usage)
    started_at: float = Field(default_factory=time.time)
    duration_s: float = 0.0


class Trajectory(ContractModel):
    """A whole run: the task and its steps, plus the retrieved memories it was given."""

    run_id: str = Field(default_factory=new_id)
    task: str
    purpose: str = ""
    steps: list[Step] = Field(default_factory=list)
    final_answer: str | None = None
    memory_ids: list[str] = Field(
        default_factory=list,
        description="Memories injected into this run; lessons are never extracted from them.",
    )


class Score(ContractModel):
    """A critic's verdict Φ(s) on a state, 0 (nothing achieved) to 10 (done and verified)."""

    value: float = Field(ge=0.0, le=10.0)
    reason: str = ""
    critic: str = ""
    evidence: list[str] = Field(default_factory=list)
    details: dict[str, Any] = Field(default_factory=dict)


# --------------------------------------------------------------------------- memory


class MemoryKind(StrEnum):
    """The seven kinds of memory item (see docs/memory.md)."""

    HEURISTIC = "heuristic"
    PROCEDURE = "procedure"
    FACT = "fact"
    EPISODE = "episode"
    PREFERENCE = "preference"
    WARNING = "warning"
    TOOL_NOTE = "tool_note"


class MemoryStatus(StrEnum):
    """Where an item is in memory CI: candidate → quarantined → promoted, or rejected/archived."""

    CANDIDATE = "candidate"
    QUARANTINED = "quarantined"
    PROMOTED = "promoted"
    REJECTED = "rejected"
    ARCHIVED = "archived"


class Scope(ContractModel):
    """Where a memory applies. ``level`` global needs no ``value``; the others name one."""

    level: Literal["global", "purpose", "agent", "task_family"] = "global"
    value: str = ""


class FlaggedInput(ContractModel):
    """One input of a run that the scanners flagged (or that nothing screened): where and by what."""

    step: int | None = Field(default=None, description="Index of the step whose observation it was.")
    origin: str = Field(default="", description="TextOrigin.label, e.g. 'tool:web_search'.")
    scanner: str = Field(default="", description="The scanner plugin; empty when the input was never screened.")
    category: str = Field(default="", description="The finding's category, or 'not_screened'.")
    severity: Severity | None = None
    rule_id: str = ""


class Provenance(ContractModel):
    """Where a memory came from."""

    run_id: str | None = None
    step: int | None = None
    extractor: str = ""
    trust: Literal["taught", "learned", "imported"] = "learned"
    created_at: float = Field(default_factory=time.time)
    derived_from: list[str] = Field(
        default_factory=list,
        description="Origins of the text it was derived from, e.g. ['user', 'model', 'tool:web_search'].",
    )
    flagged_inputs: list[FlaggedInput] = Field(
        default_factory=list,
        description="Inputs of the source run(s) that were flagged or never screened; memory CI holds such an "
        "item for review instead of promoting it.",
    )


class Counters(ContractModel):
    """Usage counters of a memory item."""

    uses: int = 0
    helpful: int = 0
    harmful: int = 0


class MemoryItem(ContractModel):
    """A typed, scoped, versioned memory with provenance."""

    id: str = Field(default_factory=new_id)
    kind: MemoryKind = MemoryKind.HEURISTIC
    status: MemoryStatus = MemoryStatus.CANDIDATE
    text: str
    scope: Scope = Field(default_factory=Scope)
    version: int = 1
    provenance: Provenance = Field(default_factory=Provenance)
    counters: Counters = Field(default_factory=Counters)
    usefulness: float = 0.0
    tags: list[str] = Field(default_factory=list)
    status_reason: str = ""
    updated_at: float = Field(default_factory=time.time)

    @field_validator("text")
    @classmethod
    def _text_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("a memory item needs non-blank text")
        return value

    @property
    def content_hash(self) -> str:
        """SHA-256 of the whitespace-normalised, lower-cased text: the exact-duplicate key."""
        normalised = " ".join(self.text.lower().split())
        return hashlib.sha256(normalised.encode()).hexdigest()


class ScoredItem(ContractModel):
    """A retrieval result: an item and how well it matched."""

    item: MemoryItem
    score: float


# --------------------------------------------------------------------------- safety


class Severity(StrEnum):
    """How bad a finding is. ``high`` and ``critical`` block promotion by default."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """0 for low … 3 for critical, for comparisons."""
        return ["low", "medium", "high", "critical"].index(self.value)


class ScanRequest(ContractModel):
    """Text handed to the immune scanners."""

    text: str
    source: Literal["lesson", "prompt", "document", "tool_output", "other"] = "lesson"
    item: MemoryItem | None = None


class Finding(ContractModel):
    """One thing a scanner found."""

    scanner: str
    category: str
    severity: Severity
    explanation: str = Field(description="One line a reviewer can act on.")
    span: tuple[int, int] | None = Field(
        default=None, description="Character offsets [start, end) of the evidence in the text."
    )
    evidence: str = ""
    rule_id: str = Field(
        default="", description="The stable id of the rule or detector that produced this finding, when it has one."
    )


class ExecResult(ContractModel):
    """The outcome of running code in a sandbox."""

    exit_code: int | None
    stdout: str = ""
    stderr: str = ""
    timed_out: bool = False
    truncated: bool = False
    duration_s: float = 0.0
    layers: dict[str, bool] = Field(
        default_factory=dict, description="Which isolation layers were active for this run."
    )
    reason: str = Field(default="", description="Why the run ended, in words (e.g. killed at 5 s).")


class LayerStatus(ContractModel):
    """Whether one isolation layer of a sandbox is available here, and how to get it if not."""

    name: str
    available: bool
    detail: str = ""


# --------------------------------------------------------------------------- events and state


class Event(ContractModel):
    """Something that happened, as delivered to observers and written to traces."""

    type: str = Field(description="Dotted type, e.g. 'run.started', 'tool.finished'.")
    run_id: str = ""
    step: int | None = None
    time: float = Field(default_factory=time.time)
    data: dict[str, Any] = Field(default_factory=dict)
    parent_run_id: str = Field(
        default="", description="The team run this (member) run belongs to; empty for a run on its own."
    )


class Checkpoint(ContractModel):
    """The state of a run after its last completed step."""

    run_id: str
    step: int
    trajectory: Trajectory
    completed_tool_calls: list[str] = Field(
        default_factory=list, description="Ids of tool calls that finished; never re-run."
    )
    state: dict[str, Any] = Field(default_factory=dict)
    saved_at: float = Field(default_factory=time.time)
