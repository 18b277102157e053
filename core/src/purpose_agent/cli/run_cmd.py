"""``purpose-agent run "TASK"`` and the interactive wizard."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from ..errors import PurposeAgentError
from ..terminal_text import printable


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("task", help="what to do, in words")
    parser.add_argument("--purpose", default="", help="the team's purpose (default: the task itself)")
    parser.add_argument("--model", default=None, help="provider:model (default: see 'purpose-agent models')")
    parser.add_argument("--critic", default=None, metavar="NAME",
                        help="the critic that scores the run, e.g. standard, delta, falsification "
                             "(default: [runtime] critic, else standard when installed)")
    parser.add_argument("--max-steps", type=int, default=6, help="steps per team member (default 6)")
    parser.add_argument("--trace", default=None, help="write every event to this JSONL file")
    parser.add_argument("--learn", action="store_true",
                        help="learn from this run into the team's memory (extraction, screening and replay "
                             "re-run the team, so this is several times slower)")
    parser.set_defaults(run=run)


class Progress:
    """Prints one line per step and tool call as events arrive."""

    def __init__(self, stream: Any = sys.stdout) -> None:
        self.stream = stream
        self.tokens = 0

    def __call__(self, event: Any) -> None:
        data = event.data
        if event.type == "model.finished":
            self.tokens += data.get("prompt_tokens", 0) + data.get("completion_tokens", 0)
            what = f"tool {data['tool']}" if data.get("action") == "tool" else data.get("action")
            self._say(f"  step {event.step}: {what}  (tokens so far {self.tokens})")
        elif event.type == "tool.finished":
            self._say(f"    {data['tool']}: {'ok' if data['ok'] else 'failed: ' + str(data.get('error'))[:100]}")
        elif event.type == "model.repair":
            self._say(f"    reply unusable; repair {'worked' if data['recovered'] else 'failed: stopped safely'}")
        elif event.type == "run.finished":
            self._say(f"  finished: {data['stopped']} after {data['steps']} step(s)")

    def _say(self, line: str) -> None:
        print(printable(line, one_line=True), file=self.stream, flush=True)  # tool errors quote untrusted text


def run_watched(bus: Any, run: Callable[[], Any], trace_path: str | None) -> Any:
    """``run()`` with its progress printed as events arrive on ``bus`` and, given ``trace_path``,
    every event written there as JSON lines (closed however the run ends)."""
    from ..runtime.events import JsonlTrace

    bus.listen(Progress())
    trace = JsonlTrace(trace_path) if trace_path else None
    if trace is not None:
        bus.listen(trace)
    try:
        return run()
    finally:
        if trace is not None:
            trace.close()


def run(args: argparse.Namespace) -> int:
    from ..kernel import Kernel
    from ..runtime.agents import Team
    from ..runtime.loop import Budget

    kernel = Kernel.load(strict=args.strict)
    system = kernel.config.get("system")
    if isinstance(system, dict) and not args.purpose:  # a generated project (purpose-agent generate)
        return _project_runner(kernel).run_system(args, kernel, system, run_watched)
    team = Team(args.purpose or args.task, model=args.model, kernel=kernel, budget=Budget(max_steps=args.max_steps),
                learn=bool(getattr(args, "learn", False)), critic=getattr(args, "critic", None))
    # Naming the backend chooses it: a run needs a model, so a missing one is reported here.
    print(printable(f"team: {', '.join(team.roles)} on {team.backend.name}", one_line=True), flush=True)
    result = run_watched(team.bus, lambda: team.run(args.task), args.trace)
    # the model's answer and the critic's reason are untrusted: no control sequences on the terminal
    print("\nanswer:\n" + (printable(result.answer) if result.answer else "(no answer)"))
    if result.score is not None:
        reason = result.score.reason.strip().splitlines()[0][:200] if result.score.reason.strip() else ""
        print(f"\nscore: {result.score.value:.1f}/10 ({printable(f'{result.score.critic}: {reason}', one_line=True)})")
    print(f"tokens: {result.usage.prompt_tokens} prompt + {result.usage.completion_tokens} completion")
    if result.trajectory.memory_ids:
        print(f"lessons used: {len(result.trajectory.memory_ids)}")
    if result.learning is not None:
        promoted = result.learning.promoted()
        print(f"learned: {result.learning.proposed} proposed, {len(promoted)} promoted")
    if result.no_answer_reason:
        # A run without an answer is a failure a script must notice: exit 1, and say why on stderr.
        print(f"purpose-agent: {printable(result.no_answer_reason)}", file=sys.stderr)
        return 1
    return 0


def _project_runner(kernel: Any) -> Any:
    """The command that runs a generated project's ``[system]``: ``generate``, from the
    purpose-agent-generate distribution (the kernel does not import it; it asks the registry)."""
    from ..builtins.commands import OPTIONAL_COMMANDS, optional_command_missing

    plugin_id, _package = OPTIONAL_COMMANDS["generate"]
    if "generate" not in kernel.components("command", plugin_id=plugin_id):
        raise optional_command_missing(kernel, "generate", "this project's [system] table (a system written by "
                                       "`purpose-agent generate`; --purpose runs a plain team instead)")
    runner = kernel.create("command", "generate")
    if not callable(getattr(runner, "run_system", None)):
        raise PurposeAgentError("the command 'generate' here cannot run a generated system (it has no "
                                "run_system); 'purpose-agent plugins info generate' shows where it comes from")
    return runner


def wizard(stdin: Any = sys.stdin, stdout: Any = sys.stdout) -> int:
    """Ask for a purpose and a task, then run them (``python -m purpose_agent`` with no arguments)."""

    def ask(question: str, default: str = "") -> str:
        suffix = f" [{default}]" if default else ""
        print(f"{question}{suffix}: ", end="", file=stdout, flush=True)
        line = stdin.readline()
        if not line:
            raise EOFError
        return line.strip() or default

    print("purpose-agent: let's set up a team. (Ctrl-D to quit)", file=stdout)
    try:
        purpose = ask("What should the team help with?", "Help me write Python code")
        task = ask("What is the first task?", "Write a fibonacci function")
        model = ask("Which model? (provider:model, empty for the default)")
    except EOFError:
        print("", file=stdout)
        return 0
    namespace = argparse.Namespace(task=task, purpose=purpose, model=model or None, max_steps=6, trace=None, strict=None,
                                   learn=False)
    try:
        return run(namespace)
    except PurposeAgentError as exc:
        print(f"purpose-agent: error: {printable(str(exc))}", file=sys.stderr)
        return 1
