"""``use_skill``: the tool through which an agent uses a promoted skill.

The tool is built when a team or agent is (``kernel.tools()``); its description lists the skills
promoted at that moment with their inputs. Each call chooses among the skill's competing promoted
versions (Thompson sampling, :meth:`SkillCI.select`), validates the arguments against that
version's input schema, and then:

- a code skill runs in the sandbox (never in this process); its result comes back as JSON, as
  untrusted tool output (screened by the runner like any tool's);
- a steps-only skill returns its steps as data: an operator's or user's card as operator text, a
  model-written or imported card as untrusted text the runner screens and marks as data.

Every call that reached the skill is recorded as a use of that version (see :mod:`.outcomes`).
"""

from __future__ import annotations

import json
import random
import sqlite3
from typing import Any

from .ci import SkillCI
from .errors import SkillError, SkillRefused
from .outcomes import expect, origin_name
from .store import SkillVersion

TOOL_NAME = "use_skill"
#: The longest result (as JSON text) an agent is shown.
MAX_OUTPUT_CHARS = 20_000


def _describe(version: SkillVersion) -> str:
    properties = version.card.inputs.get("properties", {})
    required = set(version.card.inputs.get("required", []))
    arguments = ", ".join(f"{key}{'' if key in required else '?'}: {spec.get('type', 'any')}"
                          for key, spec in properties.items() if isinstance(spec, dict))
    # A card a model wrote or that was imported says so wherever the model reads its text.
    author = "" if version.card.provenance.trusted else f" [written by: {version.card.provenance.author}]"
    return f"- {version.name}({arguments}){author}: {version.card.purpose.strip().splitlines()[0][:200]}"


class UseSkillTool:
    """Runs a promoted skill by name with its arguments; failures come back as observations."""

    name = TOOL_NAME

    def __init__(self, ci: SkillCI, *, rng: random.Random, success_score: float = 7.0) -> None:
        self.ci = ci
        self.rng = rng
        self.success_score = success_score
        latest: dict[str, SkillVersion] = {}
        unavailable = ""
        try:
            # Every team builds this tool: without skills, leave the state directory untouched.
            for version in ci.store.promoted() if ci.store.path.exists() else []:
                latest[version.name] = version  # the newest promotion describes the skill
        except (OSError, sqlite3.Error, SkillError) as exc:  # every team gets this tool: never break one
            unavailable = f"(the skills store {ci.store.path} cannot be read: {exc})"
        self.skills = sorted(latest)
        # Without a promoted skill the tool is left out of teams' default tools (kernel.tools()):
        # a prompt listing a tool that can do nothing only distracts a small model.
        self.offered = bool(self.skills)
        listing = "\n".join(_describe(latest[name]) for name in self.skills) or unavailable or (
            "(no skill is promoted yet)")
        self.description = ("Use a tested, promoted skill: give its name and its arguments (an object). "
                            f"Skills:\n{listing}")
        skill: dict[str, Any] = {"type": "string", "description": "the skill's name"}
        if self.skills:
            skill["enum"] = self.skills
        self.parameters: dict[str, Any] = {
            "type": "object",
            "properties": {"skill": skill, "arguments": {"type": "object", "description": "the skill's arguments"}},
            "required": ["skill"],
            "additionalProperties": False,
        }

    def run(self, arguments: dict[str, Any]) -> Any:
        """Choose a version, validate, run or return steps; record the use. Never raises."""
        from purpose_agent.models import Observation

        try:
            return self._use(arguments)
        except (OSError, sqlite3.Error) as exc:  # the store failed under us: the run goes on
            return Observation(ok=False, error=f"the skills store {self.ci.store.path} failed: {exc}")

    def _use(self, arguments: dict[str, Any]) -> Any:
        from jsonschema import Draft202012Validator

        from purpose_agent.models import Observation, TextOrigin

        if not isinstance(arguments, dict) or not isinstance(arguments.get("skill"), str):
            return Observation(ok=False, error="give 'skill' (a skill's name) and 'arguments' (an object)")
        unknown = sorted(str(key) for key in arguments if key not in ("skill", "arguments"))
        if unknown:
            return Observation(ok=False, error=f"unknown argument(s) {', '.join(unknown)}; use_skill takes 'skill' "
                               "and 'arguments'")
        name = arguments["skill"]
        skill_arguments = arguments.get("arguments", {})
        if not isinstance(skill_arguments, dict):
            return Observation(ok=False, error="'arguments' must be an object of the skill's named arguments")
        if not self.ci.store.path.exists():
            return Observation(ok=False, error=f"no skill is stored yet, so there is no '{name}'; an operator adds "
                               "one with 'purpose-agent skills add FILE'")
        try:
            version = self.ci.select(name, self.rng)
        except SkillError as exc:
            return Observation(ok=False, error=str(exc))
        card = version.card
        error = next(iter(Draft202012Validator(card.inputs).iter_errors(skill_arguments)), None)
        if error is not None:
            where = "/".join(str(part) for part in error.absolute_path) or "(the arguments)"
            return Observation(ok=False, error=f"the arguments do not fit skill '{name}': {where}: {error.message}; "
                               f"its inputs are {json.dumps(card.inputs)[:500]}")
        if card.kind == "steps":
            use_id = self.ci.store.record_use(name, version.version, skill_arguments, True)
            expect(use_id, self.ci.store, self.success_score)
            steps = "\n".join(f"{index}. {step}" for index, step in enumerate(card.steps, 1))
            needs = f"\nTools it needs: {', '.join(card.tools)}" if card.tools else ""
            # Steps are instructions: only a principal's card may be read as such.
            kind = "operator" if card.provenance.trusted else "tool"
            return Observation(
                ok=True,
                output=f"Skill {name} (v{version.version}): {card.purpose}\nSteps:\n{steps}{needs}\n"
                       f"Arguments: {json.dumps(skill_arguments)}",
                origin=TextOrigin(kind=kind, name=origin_name(name, version.version, use_id)),
                data={"skill": name, "version": version.version, "use_id": use_id, "kind": "steps",
                      "author": card.provenance.author},
            )
        try:
            result = self.ci.call(card, skill_arguments)
        except SkillRefused as exc:  # not the skill's failure: no use is counted
            return Observation(ok=False, error=str(exc))
        use_id = self.ci.store.record_use(name, version.version, skill_arguments, result.ok)
        expect(use_id, self.ci.store, self.success_score)
        origin = TextOrigin(kind="tool", name=origin_name(name, version.version, use_id))
        data = {"skill": name, "version": version.version, "use_id": use_id, "kind": "code"}
        if not result.ok:
            return Observation(ok=False, output=result.printed, error=f"skill '{name}' v{version.version} failed: "
                               f"{result.error}", origin=origin, data=data)
        output = json.dumps(result.result)
        if len(output) > MAX_OUTPUT_CHARS:  # a result is read by a model: keep its prompt bounded
            output = output[:MAX_OUTPUT_CHARS] + f"\n[result truncated at {MAX_OUTPUT_CHARS} characters]"
        return Observation(ok=True, output=output, origin=origin, data=data)
