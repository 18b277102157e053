"""The skill card: what a skill is, as an operator writes it (TOML or JSON) and the store keeps it.

A card is immutable once stored: a change is a new version with its own status. The text fields
(purpose, steps, code, checks) are untrusted until the immune scanners have read them, and the
card says who wrote it (:class:`SkillProvenance`), so a model-written skill's steps reach an agent
marked as data.
"""

from __future__ import annotations

import ast
import hashlib
import json
import time
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .errors import CardError

#: Who wrote a card. ``user`` and ``operator`` are the run's principals (trusted); a ``model`` or an
#: ``imported`` card is untrusted text: its steps reach an agent marked as data.
Author = Literal["user", "operator", "model", "imported"]

#: What each field needs, appended to a schema error so the sentence says what to do.
_FIELD_HINTS = {
    "name": "use lower-case letters, digits, '-' and '_', starting with a letter (at most 64 characters)",
    "purpose": "say in one sentence what the skill achieves",
    "inputs": 'give a JSON schema of type "object" for the arguments, e.g. {type = "object", properties = {}}',
    "steps": "give the steps as a list of strings",
    "code": "give Python source that defines the entry function",
    "entry": "name the function in code that the skill calls",
    "tools": "list the names of the tools the skill needs",
    "tests": "give each test 'arguments' and either 'expected' or 'check'",
    "provenance": "give author = user, operator, model or imported, and optionally by and run_id",
}


class SkillTest(BaseModel):
    """One test case: the arguments, and either the ``expected`` result or a ``check``.

    ``check`` is Python run in the sandbox with ``result`` and ``arguments`` bound; it passes when
    it raises nothing (``assert result > 0``). ``expected`` is compared with the result on the
    host after a JSON round trip.
    """

    model_config = ConfigDict(extra="forbid")

    name: str = ""
    arguments: dict[str, Any] = Field(default_factory=dict)
    expected: Any = None
    check: str = ""

    @model_validator(mode="after")
    def _one_expectation(self) -> SkillTest:
        has_expected = "expected" in self.model_fields_set
        if has_expected == bool(self.check.strip()):
            raise ValueError("a test needs exactly one of 'expected' (the result) or 'check' (Python that asserts)")
        if self.check.strip():
            try:
                compile(self.check, "<check>", "exec")
            except SyntaxError as exc:
                raise ValueError(f"'check' is not valid Python: {exc.msg} on line {exc.lineno}") from None
        try:
            json.dumps(self.expected)
        except (TypeError, ValueError):
            raise ValueError("'expected' must be JSON data") from None
        return self

    @property
    def has_expected(self) -> bool:
        """Whether the test compares with an expected result (else it runs ``check``)."""
        return "expected" in self.model_fields_set

    def key(self) -> str:
        """Identifies the case across versions: the arguments and what is expected of them."""
        blob = json.dumps({"arguments": self.arguments, "expected": self.expected if self.has_expected else None,
                           "check": self.check}, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def arguments_key(self) -> str:
        """Identifies the arguments alone (a newer card's test of the same arguments supersedes)."""
        return arguments_key(self.arguments)


def arguments_key(arguments: dict[str, Any]) -> str:
    """A short stable key of an argument set."""
    return hashlib.sha256(json.dumps(arguments, sort_keys=True).encode()).hexdigest()[:16]


class SkillProvenance(BaseModel):
    """Who or what wrote the card: ``author`` kind, ``by`` (a person or a model id), the run."""

    model_config = ConfigDict(extra="forbid")

    author: Author = "operator"
    by: str = ""
    run_id: str = ""
    source: str = Field(default="", description="Where the card was read from (a file), filled in on add.")
    created_at: float = Field(default_factory=time.time)

    @property
    def trusted(self) -> bool:
        """Whether the author is one of the run's principals (a user or the operator)."""
        return self.author in ("user", "operator")


class SkillCard(BaseModel):
    """A skill: name, purpose, input schema, steps (prose) or code, tools required, tests, provenance."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z][a-z0-9_-]{0,63}$")
    purpose: str
    inputs: dict[str, Any] = Field(default_factory=lambda: {"type": "object", "properties": {}})
    steps: list[str] = Field(default_factory=list)
    code: str = ""
    entry: str = "run"
    tools: list[str] = Field(default_factory=list)
    tests: list[SkillTest] = Field(default_factory=list)
    provenance: SkillProvenance = Field(default_factory=SkillProvenance)

    @field_validator("purpose")
    @classmethod
    def _purpose_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the purpose is blank")
        return value

    @field_validator("inputs")
    @classmethod
    def _inputs_is_an_object_schema(cls, value: dict[str, Any]) -> dict[str, Any]:
        from jsonschema import Draft202012Validator
        from jsonschema.exceptions import SchemaError

        if value.get("type") != "object":
            raise ValueError('the input schema must have type "object" (the arguments are named)')
        try:
            Draft202012Validator.check_schema(value)
        except SchemaError as exc:
            raise ValueError(f"not a valid JSON schema: {exc.message}") from None
        return value

    @model_validator(mode="after")
    def _steps_or_code(self) -> SkillCard:
        if bool(self.code.strip()) == bool(self.steps):
            raise ValueError("a card needs exactly one of 'steps' (prose) or 'code' (Python run in the sandbox)")
        if self.steps and self.tests:
            raise ValueError("only a code skill can have tests: steps are followed by an agent, not executed")
        if self.code.strip():
            try:
                tree = ast.parse(self.code)
            except SyntaxError as exc:
                raise ValueError(f"'code' is not valid Python: {exc.msg} on line {exc.lineno}") from None
            defined = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
            if self.entry not in defined:
                raise ValueError(f"'code' defines no top-level function '{self.entry}' (the entry the skill calls)")
        from jsonschema import Draft202012Validator

        validator = Draft202012Validator(self.inputs)
        for index, test in enumerate(self.tests):
            error = next(iter(validator.iter_errors(test.arguments)), None)
            if error is not None:
                label = test.name or f"#{index + 1}"
                raise ValueError(f"test {label}: its arguments do not fit 'inputs': {error.message}")
        return self

    @property
    def kind(self) -> Literal["code", "steps"]:
        """``code`` (run in the sandbox) or ``steps`` (returned to the agent to follow)."""
        return "code" if self.code.strip() else "steps"

    def to_data(self) -> dict[str, Any]:
        """The card as JSON data that :func:`card_from_data` reads back unchanged (a test keeps
        only the expectation it was given: ``expected: null`` is a real expectation)."""
        data = self.model_dump(mode="json")
        data["tests"] = [test.model_dump(mode="json", exclude_unset=True) for test in self.tests]
        return data

    def content_hash(self) -> str:
        """SHA-256 of the card without its provenance: two versions with the same hash are the same skill."""
        body = {key: value for key, value in self.to_data().items() if key != "provenance"}
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()

    def screened_text(self) -> str:
        """Every text an agent or the sandbox would act on, for the immune scanners."""
        parts = [self.purpose, *self.steps, self.code, *(test.check for test in self.tests)]
        parts.extend(_schema_descriptions(self.inputs))
        return "\n\n".join(part for part in parts if part.strip())


def _schema_descriptions(schema: Any) -> list[str]:
    """The argument names, ``description`` and ``title`` strings anywhere in a JSON schema (the
    model reads them in the tool's description)."""
    found: list[str] = []
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key in ("description", "title") and isinstance(value, str):
                found.append(value)
            else:
                if key == "properties" and isinstance(value, dict):
                    found.append(" ".join(str(name) for name in value))
                found.extend(_schema_descriptions(value))
    elif isinstance(schema, list):
        for value in schema:
            found.extend(_schema_descriptions(value))
    return found


def card_from_data(data: Any, *, where: str) -> SkillCard:
    """Validate card data; a schema error becomes one sentence naming the field and what to do."""
    if not isinstance(data, dict):
        raise CardError(f"{where}: a skill card must be a table (TOML) or an object (JSON), not {type(data).__name__}")
    try:
        return SkillCard.model_validate(data)
    except ValidationError as exc:
        raise CardError(f"{where}: {describe_validation_error(exc)}") from None


def describe_validation_error(exc: ValidationError) -> str:
    """The first error of ``exc`` as ``field 'x': what is wrong; what to do`` (and how many more)."""
    errors = exc.errors()
    first = errors[0]
    location = ".".join(str(part) for part in first["loc"])
    message = str(first["msg"]).removeprefix("Value error, ")
    top = str(first["loc"][0]) if first["loc"] else ""
    if first["type"] == "extra_forbidden":
        known = ", ".join(_FIELD_HINTS)
        text = f"unknown field '{location}'; a card has {known}" if len(first["loc"]) == 1 else (
            f"unknown field '{location}'; {_FIELD_HINTS.get(top, 'remove it')}")
    elif first["type"] == "missing":
        text = f"field '{location}' is missing; {_FIELD_HINTS.get(top, 'add it')}"
    elif location:
        hint = _FIELD_HINTS.get(top)
        text = f"field '{location}': {message}" + (f"; {hint}" if hint and first["type"] != "value_error" else "")
    else:
        text = message
    more = len(errors) - 1
    return text + (f" ({more} more error(s) after fixing this one)" if more else "")


def load_card(path: Path) -> SkillCard:
    """Read a card from a ``.toml`` or ``.json`` file; every failure is one :class:`CardError` sentence."""
    import tomllib

    where = str(path)
    suffix = path.suffix.lower()
    if suffix not in (".toml", ".json"):
        raise CardError(f"{where}: a skill card is a .toml or .json file; rename it or convert it")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CardError(f"cannot read the skill card {where}: {exc}") from None
    try:
        data = tomllib.loads(text) if suffix == ".toml" else json.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CardError(f"{where} is not valid TOML: {exc}; fix the syntax") from None
    except json.JSONDecodeError as exc:
        raise CardError(f"{where} is not valid JSON: {exc.msg} at line {exc.lineno}; fix the syntax") from None
    card = card_from_data(data, where=where)
    return card.model_copy(update={"provenance": card.provenance.model_copy(update={"source": where})})
