"""The system generator: a use case in a sentence becomes a runnable multi-agent system.

::

    from purpose_agent_generate import generate, write_project

    spec = generate("Monitor GitHub repos for CVEs and alert the team", model="groq:llama-3.3-70b-versatile")
    print(spec.repairs, spec.missing_tools)
    write_project(spec, "cve-monitor/")        # purpose-agent.toml + system.py
    # cd cve-monitor && purpose-agent run "Check pallets/flask"

The model proposes a :class:`SystemSpec` as JSON: agents (role, instructions, task, tools), a flow
(edges, and conditions on what an agent answered), an evaluation suite (tasks with expectations
a program can check) and a routing policy (a model per role, within a budget). The proposal is
validated by pydantic; a reply that is not JSON or not a valid spec is sent back **once** with the
validation errors, and a second failure is a :class:`GeneratorError` saying what was wrong.

A valid proposal is then **repaired** before anything runs, and every repair is listed in
``spec.repairs``: tools no installed plugin offers move to ``missing_tools`` (with the plugin
that would provide them, when one is known); edges to unknown agents are dropped; a flow without
an entry gets one; an agent the flow never reaches is removed; an agent without a task gets one
from its role; a cycle the flow can never leave gets an exit (its last agent ends the flow when
it answers ``APPROVED``); routes to backends that are not installed are dropped; routes whose
estimated cost exceeds the budget move to the cheapest installed model; evaluation cases with
nothing to check are dropped.

:class:`GeneratedSystem` runs a spec: one :class:`purpose_agent.Spark` per agent,
wired by a :class:`purpose_agent.Flow`. ``purpose-agent run`` runs the ``[system]``
table of the project's ``purpose-agent.toml`` when there is one. Nothing in a spec is code: the
conditions are words to look for, and tools are names of installed tools.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

import purpose_agent
from purpose_agent.errors import PurposeAgentError
from purpose_agent.models import ChatRequest, Message

__all__ = [
    "AgentSpec", "EdgeSpec", "EvalCase", "EvaluationReport", "GeneratedSystem", "GeneratorError", "MissingTool",
    "RoutingPolicy", "SystemResult", "SystemSpec", "check_project_directory", "generate", "load_project",
    "proposal_schema", "repair",
    "spec_from_table", "write_project",
]

#: Flow endpoints as a spec writes them.
BEGIN = "BEGIN"
DONE = "DONE"
#: The word an agent answers with to leave a cycle the generator had to give an exit.
EXIT_WORD = "APPROVED"
#: Tools the kernel knows a plugin for, when that plugin is not installed: name -> (plugin, what it does).
KNOWN_TOOL_PLUGINS: dict[str, tuple[str, str]] = {
    "python": ("purpose-agent-sandbox", "run Python code in a sandbox"),
    "search_documents": ("purpose-agent-vault", "search a directory of documents (knowledge=)"),
    "fetch__fetch": ("purpose-agent-mcp with mcp-server-fetch", "fetch a web page"),
    "git__git_log": ("purpose-agent-mcp with mcp-server-git", "read a git repository's history"),
    "time__get_current_time": ("purpose-agent-mcp with mcp-server-time", "the current time in a time zone"),
}
#: Rough tokens one agent spends per run (prompt, completion), for the routing budget estimate.
ESTIMATED_TOKENS_PER_AGENT = (6_000, 800)

_NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")


class GeneratorError(PurposeAgentError):
    """The model's proposal could not be made into a system, or a project could not be written."""


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AgentSpec(_Spec):
    """One agent: a name the flow uses, its role, standing instructions, its task, its tools."""

    name: str = Field(description="lower-case identifier, e.g. 'scanner'")
    role: str = Field(min_length=1, description="who the agent is, in a sentence")
    instructions: str = Field(default="", description="how the agent should work")
    task: str = Field(default="", description="what this agent does in the flow")
    tools: list[str] = Field(default_factory=list, description="names of tools the agent may call")

    @field_validator("name")
    @classmethod
    def _valid_name(cls, value: str) -> str:
        if not _NAME.fullmatch(value) or value.upper() in (BEGIN, DONE):
            raise ValueError(f"agent name {value!r} must be a lower-case identifier (a-z, 0-9, _), not BEGIN or DONE")
        return value


class EdgeSpec(_Spec):
    """After ``source`` (an agent, or ``BEGIN``) run ``target`` (an agent, or ``DONE``) — when
    ``source``'s answer contains ``when`` (case-insensitive), or always if ``when`` is empty.
    A source's conditional edges are tried in order; its edge without ``when`` is the otherwise."""

    source: str
    target: str
    when: str = ""


class MissingTool(_Spec):
    """A tool the system needs that no installed plugin offers."""

    name: str
    needed_by: list[str] = Field(default_factory=list)
    plugin: str = Field(default="", description="the package that would provide it, when one is known")


class EvalCase(_Spec):
    """A task, and what its answer must (``expect``) and must not (``reject``) contain, case-insensitive."""

    task: str = Field(min_length=1)
    expect: list[str] = Field(default_factory=list)
    reject: list[str] = Field(default_factory=list)

    def check(self, answer: str | None) -> list[str]:
        """The expectations ``answer`` fails, as sentences (empty: it passes)."""
        if answer is None:
            return ["there was no answer"]
        text = answer.casefold()
        problems = [f"the answer does not contain {e!r}" for e in self.expect if e.casefold() not in text]
        return problems + [f"the answer contains {r!r}" for r in self.reject if r.casefold() in text]


class RoutingPolicy(_Spec):
    """Which model plays which agent (``provider:model``), within ``budget_usd`` per run."""

    budget_usd: float | None = Field(default=None, ge=0)
    roles: dict[str, str] = Field(default_factory=dict)


class SystemSpec(_Spec):
    """A generated system. ``repairs`` and ``missing_tools`` say what the generator changed and what
    must still be installed or written."""

    name: str = Field(min_length=1)
    purpose: str = Field(min_length=1)
    agents: list[AgentSpec] = Field(min_length=1)
    flow: list[EdgeSpec] = Field(default_factory=list)
    evaluation: list[EvalCase] = Field(default_factory=list)
    routing: RoutingPolicy = Field(default_factory=RoutingPolicy)
    max_visits: int = Field(default=3, ge=1, le=25)
    missing_tools: list[MissingTool] = Field(default_factory=list)
    repairs: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_names(self) -> SystemSpec:
        names = [a.name for a in self.agents]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"agent names must be unique; repeated: {', '.join(duplicates)}")
        return self

    def agent(self, name: str) -> AgentSpec:
        """The agent called ``name``."""
        return next(a for a in self.agents if a.name == name)


# --------------------------------------------------------------------------- repair


def repair(spec: SystemSpec, *, tools: Sequence[str], backends: Sequence[str] = (),
           prices: dict[str, float] | None = None) -> SystemSpec:
    """``spec`` made runnable here (a copy; each change is added to ``repairs``).

    ``tools``: names of the tools installed; ``backends``: registered backend names (routes to
    others are dropped; empty: routes are not checked); ``prices``: ``provider:model`` -> estimated
    USD per agent run, for the budget (unknown prices are not counted)."""
    spec = spec.model_copy(deep=True)
    notes = spec.repairs
    _repair_tools(spec, set(tools), notes)
    _repair_edges(spec, notes)
    _repair_reachability(spec, notes)
    _repair_cycles(spec, notes)
    for agent in spec.agents:
        if not agent.task.strip():
            agent.task = f"Do your part of the task as {agent.role.rstrip('.')}."
            notes.append(f"agent '{agent.name}' had no task; it was given one from its role")
    _repair_routing(spec, backends, prices or {}, notes)
    checkable = [case for case in spec.evaluation if case.expect or case.reject]
    if len(checkable) < len(spec.evaluation):
        notes.append(f"{len(spec.evaluation) - len(checkable)} evaluation case(s) had nothing to check and were dropped")
        spec.evaluation = checkable
    if not spec.evaluation:
        notes.append("the evaluation suite is empty: add cases with 'expect' to [[system.evaluation]]")
    return spec


def _repair_tools(spec: SystemSpec, installed: set[str], notes: list[str]) -> None:
    missing: dict[str, MissingTool] = {m.name: m for m in spec.missing_tools}
    for agent in spec.agents:
        kept = []
        for name in dict.fromkeys(agent.tools):
            if name in installed:
                kept.append(name)
                continue
            entry = missing.setdefault(name, MissingTool(name=name, plugin=KNOWN_TOOL_PLUGINS.get(name, ("", ""))[0]))
            entry.needed_by.append(agent.name)
            where = f"install {entry.plugin}" if entry.plugin else "no known plugin offers it: write it as a @pa.tool"
            notes.append(f"agent '{agent.name}' asked for tool '{name}', which is not installed ({where})")
        agent.tools = kept
    spec.missing_tools = list(missing.values())


def _repair_edges(spec: SystemSpec, notes: list[str]) -> None:
    names = {a.name for a in spec.agents}
    kept: list[EdgeSpec] = []
    for edge in spec.flow:
        if (edge.source != BEGIN and edge.source not in names) or (edge.target != DONE and edge.target not in names):
            notes.append(f"edge {edge.source} -> {edge.target} names an agent that does not exist; dropped")
        elif edge.source == BEGIN and edge.target == DONE:
            notes.append("edge BEGIN -> DONE would run no agent; dropped")
        else:
            kept.append(edge)
    begins = [e for e in kept if e.source == BEGIN]
    if not begins:
        kept.insert(0, EdgeSpec(source=BEGIN, target=spec.agents[0].name))
        notes.append(f"the flow had no entry; it now starts at '{spec.agents[0].name}'")
    elif len(begins) > 1 or begins[0].when:
        for extra in begins:
            kept.remove(extra)
        kept.insert(0, EdgeSpec(source=BEGIN, target=begins[0].target))
        notes.append(f"the flow must start at one agent (nothing has answered yet to choose by); it starts at '{begins[0].target}'")
    for source in dict.fromkeys(e.source for e in kept):
        outgoing = [e for e in kept if e.source == source]
        defaults = [e for e in outgoing if not e.when]
        for extra in defaults[1:]:
            kept.remove(extra)
            notes.append(f"'{source}' had several unconditional edges; kept the first ({source} -> {defaults[0].target})")
        if not defaults:
            kept.append(EdgeSpec(source=source, target=DONE))
            notes.append(f"'{source}' had only conditional edges; when none matches, the flow now ends")
    # Conditional edges first, then the otherwise: the order the flow tries them in.
    spec.flow = [e for e in kept if e.when or e.source == BEGIN] + [e for e in kept if not e.when and e.source != BEGIN]


def _successors(spec: SystemSpec) -> dict[str, list[str]]:
    graph: dict[str, list[str]] = {BEGIN: [], **{a.name: [] for a in spec.agents}}
    for edge in spec.flow:
        graph[edge.source].append(edge.target)
    return graph


def _repair_reachability(spec: SystemSpec, notes: list[str]) -> None:
    graph = _successors(spec)
    seen: set[str] = set()
    stack = [BEGIN]
    while stack:
        node = stack.pop()
        for target in graph.get(node, []):
            if target != DONE and target not in seen:
                seen.add(target)
                stack.append(target)
    for agent in [a for a in spec.agents if a.name not in seen]:
        spec.agents.remove(agent)
        spec.flow = [e for e in spec.flow if agent.name not in (e.source, e.target)]
        notes.append(f"agent '{agent.name}' is never reached by the flow (no task in it); removed")


def _repair_cycles(spec: SystemSpec, notes: list[str]) -> None:
    """Give every cycle the flow could never leave an exit: its last agent ends the flow on APPROVED."""
    graph = _successors(spec)
    for component in _strongly_connected(graph):
        cyclic = len(component) > 1 or component[0] in graph[component[0]]
        if not cyclic:
            continue
        leaves = any(t not in component for node in component for t in graph[node])
        if leaves:
            continue
        order = [a.name for a in spec.agents]
        last = max(component, key=order.index)
        spec.flow.insert(0, EdgeSpec(source=last, target=DONE, when=EXIT_WORD))
        agent = spec.agent(last)
        agent.instructions = (agent.instructions + "\n" if agent.instructions else "") + (
            f"When the work is complete and good enough, include the word {EXIT_WORD} in your answer; that ends the work.")
        notes.append(f"the cycle {' -> '.join(sorted(component, key=order.index))} had no exit; "
                     f"'{last}' now ends the flow when it answers {EXIT_WORD}")


def _strongly_connected(graph: dict[str, list[str]]) -> list[list[str]]:
    """Tarjan's algorithm over the agents (BEGIN and DONE are never in a cycle)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, []):
            if target == DONE:
                continue
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            found.append(component)

    for node in graph:
        if node != BEGIN and node not in index:
            visit(node)
    return found


def _repair_routing(spec: SystemSpec, backends: Sequence[str], prices: dict[str, float], notes: list[str]) -> None:
    names = {a.name for a in spec.agents}
    routes: dict[str, str] = {}
    for role, model in spec.routing.roles.items():
        provider = model.partition(":")[0]
        if role not in names:
            notes.append(f"routing names agent '{role}', which does not exist; dropped")
        elif backends and provider not in backends:
            notes.append(f"routing sends '{role}' to '{model}', but no installed plugin serves '{provider}'; "
                         "it uses the default model")
        else:
            routes[role] = model
    budget = spec.routing.budget_usd
    if budget is not None and prices:
        cheapest = min(prices, key=lambda m: prices[m])

        def cost() -> float:
            return sum(prices.get(routes.get(a.name, ""), 0.0) for a in spec.agents)

        while cost() > budget:
            dearest = max(routes, key=lambda r: prices.get(routes[r], 0.0))
            if prices.get(routes[dearest], 0.0) <= prices[cheapest]:
                notes.append(f"the estimated cost (${cost():.4f} per run) stays over the budget (${budget:g}) "
                             "even on the cheapest installed model")
                break
            notes.append(f"'{dearest}' moved from '{routes[dearest]}' to '{cheapest}' to stay within the budget "
                         f"(${budget:g} per run)")
            routes[dearest] = cheapest
    spec.routing.roles = routes


# --------------------------------------------------------------------------- generating


def proposal_schema() -> dict[str, Any]:
    """The JSON schema the model writes to: :class:`SystemSpec` without what the generator itself
    fills in (``missing_tools``, ``repairs``), so a small context window holds it."""
    schema = SystemSpec.model_json_schema()
    for name in ("missing_tools", "repairs"):
        schema["properties"].pop(name, None)
    schema.get("$defs", {}).pop("MissingTool", None)
    schema["description"] = "A multi-agent system for a use case."
    return schema


def _proposal_prompt(use_case: str, tools: dict[str, str], backends: dict[str, str], budget_usd: float | None) -> str:
    installed = "\n".join(f"- {name}: {text}" for name, text in sorted(tools.items())) or "(none)"
    installable = "\n".join(f"- {name}: {text} (plugin: {plugin})" for name, (plugin, text) in KNOWN_TOOL_PLUGINS.items()
                            if name not in tools)
    models = "\n".join(f"- {spec}: {text}" for spec, text in sorted(backends.items())) or "(only the default model)"
    schema = json.dumps(proposal_schema(), separators=(",", ":"))
    return (
        f"Design a small multi-agent system for this use case: {use_case}\n\n"
        f"Installed tools (use these names):\n{installed}\n\nTools that exist in plugins not installed here:\n"
        f"{installable or '(none)'}\n\nA tool nobody offers may still be named; it will be listed as missing.\n\n"
        f"Models that can be routed to (provider:model):\n{models}\n"
        f"Budget per run: {'$' + format(budget_usd, 'g') if budget_usd is not None else 'none given'}.\n\n"
        f"Reply with one JSON object and nothing else, matching this JSON schema:\n{schema}\n\n"
        "Agents: 2 to 5, each with a distinct role, instructions and task. Flow: edges from BEGIN through the "
        "agents to DONE; a loop (reviewer back to writer, say) must have an edge whose 'when' word the agent "
        "writes to leave it. Evaluation: 2 to 5 tasks a user of this system would give, each with 'expect' "
        "words the answer must contain. Routing: a model per agent from the list (a strong model where judgement "
        "matters, a cheap one elsewhere), within the budget."
    )


def generate(use_case: str, *, model: Any = None, kernel: Any = None, budget_usd: float | None = None) -> SystemSpec:
    """Ask the model for a system for ``use_case``, validate it, repair it, and return the spec.

    ``model``: a backend or ``provider:model`` (default: the configured chain); ``kernel``: whose
    installed tools, protocol tools and backends the system may use (default: ``Kernel.load()``);
    ``budget_usd``: the routing budget per run (the model's own figure otherwise).
    Raises :class:`GeneratorError` when the model's reply is unusable after one repair."""
    if not use_case.strip():
        raise GeneratorError("the use case is empty: describe in a sentence what the system should do")
    kernel = kernel if kernel is not None else purpose_agent.Kernel.load()
    backend = model if model is not None and not isinstance(model, str) else purpose_agent.resolve_backend(model, kernel).backend
    tools = _installed_tools(kernel)
    prices = _route_prices(kernel)
    backends = {spec: (f"about ${price:.4f} per agent run" if price else "local or free") for spec, price in prices.items()}
    messages = [Message(role="system", content="You design multi-agent systems. You reply with JSON only."),
                Message(role="user", content=_proposal_prompt(use_case, tools, backends, budget_usd))]
    text, spec, problem = _propose(backend, messages)
    if spec is None:
        messages += [Message(role="assistant", content=text[:1500]), Message(
            role="user", content=f"That proposal could not be used: {problem}. Reply again with the whole system "
                                 "as one JSON object matching the schema, and nothing else.")]
        try:
            _, spec, second = _propose(backend, messages)
        except Exception as exc:  # say that the proposal was the problem, not only that the repair failed
            raise GeneratorError(f"the model's proposal could not be used ({problem}), and asking for a repair "
                                 f"failed ({type(exc).__name__}: {exc}). Try a stronger model (--model "
                                 "provider:model) or a more concrete use case") from exc
        if spec is None:
            raise GeneratorError(f"the model's proposal could not be used after one repair: {second}. "
                                 "Try a stronger model (--model provider:model) or a more concrete use case")
    if budget_usd is not None:
        spec.routing.budget_usd = budget_usd
    registered = sorted(kernel.components("backend"))
    return repair(spec, tools=list(tools), backends=registered, prices=prices)


def _propose(backend: Any, messages: list[Message]) -> tuple[str, SystemSpec | None, str]:
    """Ask for a proposal: the reply's text, the spec (or ``None``) and what is wrong with it."""
    from purpose_agent.errors import StructuredOutputError

    try:
        reply = backend.complete(ChatRequest(messages=messages, response_schema=proposal_schema()))
    except StructuredOutputError as exc:  # a backend that checks structured output itself: the same problem
        return "", None, f"the reply was not valid JSON ({exc})"
    return reply.message.content, *_parse_proposal(reply.message.content)


def _parse_proposal(text: str) -> tuple[SystemSpec | None, str]:
    from purpose_agent.interfaces import extract_json_object

    data, problem = extract_json_object(text)
    if data is None:
        return None, problem
    data.pop("repairs", None)
    data.pop("missing_tools", None)
    try:
        return SystemSpec.model_validate(data), ""
    except ValidationError as exc:
        errors = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'the object'}: {e['msg']}" for e in exc.errors()[:8])
        return None, f"it is not a valid system ({errors})"


def _installed_tools(kernel: Any) -> dict[str, str]:
    """Name -> description of every tool a run here could call: plugins' tools and protocol tools."""
    tools = {t.name: t.description for t in kernel.tools()}
    if kernel.components("protocol"):
        offered, _problems = kernel.acquire_protocol_tools()
        try:
            tools.update({t.name: t.description for t in offered if t.name not in tools})
        finally:
            kernel.release_protocol_tools()
    return tools


def _route_prices(kernel: Any) -> dict[str, float]:
    """``provider:model`` -> estimated USD per agent run, for every model a backend profile prices
    (local backends' listed models cost 0)."""
    prompt_tokens, completion_tokens = ESTIMATED_TOKENS_PER_AGENT
    registered = kernel.components("backend")
    prices: dict[str, float] = {}
    for name, profile in kernel.backend_profiles().items():
        if name not in registered:
            continue
        for model, (per_prompt, per_completion) in profile.prices.items():
            cost = 0.0 if profile.local else (prompt_tokens * per_prompt + completion_tokens * per_completion) / 1e6
            prices[f"{name}:{model}"] = cost
    return prices


# --------------------------------------------------------------------------- the project


PROJECT_FILE = "purpose-agent.toml"
PYTHON_FILE = "system.py"

_PYTHON_TEMPLATE = '''"""{name}: {purpose}

Generated by `purpose-agent generate`. The system (agents, flow, tools, evaluation, routing) is the
[system] table of purpose-agent.toml next to this file: edit it there.

    purpose-agent run "TASK"        # in this directory: runs the system
    python system.py "TASK"         # the same, with the tools in TOOLS below
    python system.py --evaluate     # runs the evaluation suite; exits 1 unless every case passes
{missing}"""

import sys
from pathlib import Path

from purpose_agent_generate import load_project

# Your own tools (@pa.tool functions), for the missing ones above: `python system.py` passes them
# to the system. `purpose-agent run` uses only the tools installed plugins offer.
TOOLS: list = []


def main(argv: list[str]) -> int:
    system = load_project(Path(__file__).resolve().parent, tools=TOOLS)
    if argv[:1] == ["--evaluate"]:
        report = system.evaluate()
        print(report)
        return 0 if report.passed == report.total else 1
    if not argv:
        print('usage: python system.py "TASK" | --evaluate', file=sys.stderr)
        return 2
    result = system.run(" ".join(argv))
    print(result.answer if result.answer is not None else result.no_answer_reason)
    return 0 if result.answer is not None else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
'''


def write_project(spec: SystemSpec, directory: str | Path, *, model: str | None = None, force: bool = False) -> list[Path]:
    """Write ``purpose-agent.toml`` (the spec as ``[system]``; ``[model] default`` when ``model``
    is given) and ``system.py`` into ``directory``; return the paths. Refuses to overwrite either
    file unless ``force``."""
    import tomli_w

    paths = check_project_directory(directory, force=force)
    paths[0].parent.mkdir(parents=True, exist_ok=True)
    document: dict[str, Any] = {"system": spec.model_dump(mode="json", exclude_none=True)}
    if model:
        document["model"] = {"default": model}
    header = (f"# {spec.name}, generated by `purpose-agent generate`. `purpose-agent run \"TASK\"` in this\n"
              "# directory runs [system]. Repairs the generator made are listed in system.repairs.\n")
    _write_whole(paths[0], header.encode() + tomli_w.dumps(document).encode())
    missing = "".join(f"\nMissing tool {m.name} (needed by {', '.join(m.needed_by)}): "
                      f"{'install ' + m.plugin if m.plugin else 'write it as a @pa.tool and add it to TOOLS'}."
                      for m in spec.missing_tools)
    text = _PYTHON_TEMPLATE.format(name=spec.name, purpose=spec.purpose.replace('"""', "'''"),
                                   missing=("\n" + missing.strip() + "\n") if missing else "")
    _write_whole(paths[1], text.encode())
    return paths


def _write_whole(path: Path, payload: bytes) -> None:
    """Write ``path`` through a temporary file and a rename, so a failed write leaves no half a file."""
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(payload)
    os.replace(temporary, path)


def check_project_directory(directory: str | Path, *, force: bool = False) -> list[Path]:
    """The project's two paths in ``directory``; a :class:`GeneratorError` if it is a file, or
    already holds a project and ``force`` is not given (checked before the model is asked)."""
    target = Path(directory)
    if target.exists() and not target.is_dir():
        raise GeneratorError(f"{target} is a file, not a directory; choose another --out")
    paths = [target / PROJECT_FILE, target / PYTHON_FILE]
    existing = [p.name for p in paths if p.exists()]
    if existing and not force:
        raise GeneratorError(f"{target} already has {' and '.join(existing)}; choose another --out directory "
                             "or pass --force to overwrite")
    return paths


def load_project(directory: str | Path, **options: Any) -> GeneratedSystem:
    """The system of a generated project (its ``purpose-agent.toml``), ready to run; ``options``
    go to :class:`GeneratedSystem`. Its kernel reads that project's configuration."""
    path = Path(directory) / PROJECT_FILE
    if not path.is_file():
        raise GeneratorError(f"{path} does not exist; generate a project with `purpose-agent generate`")
    # The project file is the nearest one from its own directory, so [system] is this project's
    # (a broken file is a ConfigError naming the line).
    data = purpose_agent.load_config(cwd=Path(directory)).get("system")
    if not isinstance(data, dict):
        raise GeneratorError(f"{path} has no [system] table; generate one with `purpose-agent generate`")
    if options.get("kernel") is None:
        options["kernel"] = purpose_agent.Kernel.load(cwd=Path(directory))
    return GeneratedSystem(spec_from_table(data, str(path)), **options)


def spec_from_table(data: dict[str, Any], where: str) -> SystemSpec:
    """The spec in a ``[system]`` table; a :class:`GeneratorError` naming ``where`` if it is invalid."""
    try:
        return SystemSpec.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        at = ".".join(str(p) for p in first["loc"])
        raise GeneratorError(f"{where}: [system] is not a valid system at '{at}': {first['msg']} "
                             f"({len(exc.errors())} problem(s) in all)") from None


# --------------------------------------------------------------------------- running


@dataclass
class SystemResult:
    """A run of a generated system: the answer, every agent's answer in the order they ran."""

    answer: str | None
    answers: list[tuple[str, str]]
    no_answer_reason: str | None = None


@dataclass
class EvaluationReport:
    """The evaluation suite's outcome: per case, the task, whether it passed, and why not."""

    cases: list[tuple[str, bool, list[str]]] = field(default_factory=list)

    @property
    def passed(self) -> int:
        """How many cases passed."""
        return sum(ok for _, ok, _ in self.cases)

    @property
    def total(self) -> int:
        """How many cases ran."""
        return len(self.cases)

    def __str__(self) -> str:
        lines = [f"{'PASS' if ok else 'FAIL'}  {task}" + ("" if ok else f"  ({'; '.join(why)})") for task, ok, why in self.cases]
        return "\n".join([*lines, f"{self.passed}/{self.total} passed"])


class GeneratedSystem:
    """Runs a :class:`SystemSpec`: an agent per spec agent, in a :class:`purpose_agent.Flow`.

    ``model``: the default model (routes in the spec take precedence for their agents);
    ``tools``: extra tool objects (for the spec's missing tools); ``max_steps``: per agent run.
    Every agent's events go to ``bus``."""

    def __init__(self, spec: SystemSpec, *, kernel: Any = None, model: Any = None, tools: Sequence[Any] = (),
                 max_steps: int = 6) -> None:
        self.spec = spec
        self.kernel = kernel if kernel is not None else purpose_agent.Kernel.load()
        self.model = model
        self.extra_tools = list(tools)
        self.max_steps = max_steps
        self.bus = purpose_agent.EventBus(kernel=self.kernel)
        self._backends: dict[str, Any] = {}

    def backend_for(self, agent: str) -> Any:
        """The model ``agent`` runs on: its route, else ``model``, else the default chain; each
        ``provider:model`` chosen once per system (at its first call), so runs share it."""
        route = self.spec.routing.roles.get(agent)
        if route is None and self.model is not None and not isinstance(self.model, str):
            return self.model
        spec = route or self.model or ""
        if spec not in self._backends:
            self._backends[spec] = purpose_agent.DeferredBackend(spec or None, self.kernel)
        return self._backends[spec]

    def flow(self, agents: dict[str, Any]) -> Any:
        """The flow over ``agents`` (name -> agent with ``arun``), as the spec's edges say."""
        from purpose_agent import BEGIN as FLOW_BEGIN
        from purpose_agent import DONE_SIGNAL, Flow

        flow: Flow[dict[str, Any]] = Flow(max_visits=self.spec.max_visits)
        for name, agent in agents.items():
            flow.node(name, _agent_node(name, self.spec.agent(name), agent))

        def endpoint(name: str) -> str:
            return {BEGIN: FLOW_BEGIN, DONE: DONE_SIGNAL}.get(name, name)

        for source in dict.fromkeys(e.source for e in self.spec.flow):
            edges = [e for e in self.spec.flow if e.source == source]
            if len(edges) == 1 and not edges[0].when:
                flow.edge(endpoint(source), endpoint(edges[0].target))
            else:
                flow.conditional_edge(endpoint(source), _chooser(source, edges, endpoint))
        return flow

    async def arun(self, task: str) -> SystemResult:
        """Run the flow on ``task``; the answer is the last agent's."""
        import asyncio

        from purpose_agent import Budget, Spark

        offered: list[Any] = []
        acquired = bool(self.kernel.components("protocol"))
        if acquired:
            offered, _problems = await asyncio.to_thread(self.kernel.acquire_protocol_tools)
        try:
            available = {t.name: t for t in [*self.kernel.tools(), *offered, *self.extra_tools]}
            agents = {}
            for spec in self.spec.agents:
                # a missing tool is used once someone supplies it (``tools=``, system.py's TOOLS)
                wanted = [*spec.tools, *(m.name for m in self.spec.missing_tools if spec.name in m.needed_by)]
                agents[spec.name] = Spark(
                    role=spec.role, purpose=self.spec.purpose, kernel=self.kernel, bus=self.bus,
                    model=self.backend_for(spec.name),
                    tools=[available[n] for n in wanted if n in available],
                    instructions=[spec.instructions] if spec.instructions else [],
                    budget=Budget(max_steps=self.max_steps))
            state = await self.flow(agents).arun({"task": task, "answers": [], "answer": None, "reasons": []})
        finally:
            if acquired:
                await asyncio.to_thread(self.kernel.release_protocol_tools)
        reason = None if state["answer"] is not None else (
            "no answer: " + ("; ".join(state["reasons"]) or "no agent ran"))
        return SystemResult(state["answer"], state["answers"], reason)

    def run(self, task: str) -> SystemResult:
        """Synchronous twin of :meth:`arun`."""
        return purpose_agent.run_sync(self.arun(task))

    def evaluate(self) -> EvaluationReport:
        """Run every evaluation case and check its expectations."""
        report = EvaluationReport()
        for case in self.spec.evaluation:
            result = self.run(case.task)
            problems = case.check(result.answer)
            report.cases.append((case.task, not problems, problems))
        return report


def _agent_node(name: str, spec: AgentSpec, agent: Any) -> Any:
    async def node(state: dict[str, Any]) -> dict[str, Any]:
        brief = f"{state['task']}\n\nYour part: {spec.task}"
        if state["answers"]:
            brief += "\n\nWork so far:\n" + "\n\n".join(f"[{who}] {text}" for who, text in state["answers"])
        result = await agent.arun(brief)
        if result.answer is None:
            return {"reasons": [*state["reasons"], f"{name}: {result.no_answer_reason}"], "last": name}
        return {"answers": [*state["answers"], (name, result.answer)], "answer": result.answer, "last": name}

    return node


def _chooser(source: str, edges: list[EdgeSpec], endpoint: Any) -> Any:
    def choose(state: dict[str, Any]) -> str:
        said = next((text for who, text in reversed(state["answers"]) if who == source), "") if source != BEGIN else ""
        for edge in edges:
            if not edge.when or edge.when.casefold() in said.casefold():
                return str(endpoint(edge.target))
        return str(endpoint(DONE))

    return choose
