"""Kernels and cards for the skills tests (imported by this unique name; a module named
``conftest`` may be another directory's)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from phrase_scanner import phrase_scanner_plugin

import purpose_agent_sandbox
import purpose_agent_skills
from purpose_agent.testing import make_kernel


def skills_kernel(tmp_path: Path, *, scanners: Any = "phrase", sandbox: bool = True, skills: dict | None = None,
                  sandbox_settings: dict | None = None, extra: tuple = ()) -> Any:
    """The skills plugin with its store in ``tmp_path``, the real sandbox (unless ``sandbox`` is
    false) and a scanner: the phrase scanner, the immune plugin's real ones (``"immune"``) or none."""
    plugins: list[Any] = [{"skills": purpose_agent_skills}, *extra]
    if sandbox:
        plugins.append({"sandbox": purpose_agent_sandbox})
    if scanners == "immune":
        from purpose_agent_immune import plugins as immune

        plugins.append({"immune-injection": immune.injection, "immune-tools": immune.tools})
    elif scanners == "phrase":
        plugins.append(phrase_scanner_plugin())
    config = {"plugins": {"skills": {"store": str(tmp_path / "skills.sqlite"), "seed": 7, **(skills or {})},
                          "sandbox": {"timeout_s": 10, **(sandbox_settings or {})}}}
    return make_kernel(*plugins, config=config)


SUM_CODE = '''
import csv, io

def run(text, column):
    return sum(float(row[column]) for row in csv.DictReader(io.StringIO(text)))
'''

#: A second version: also skips empty cells (same results on the first version's tests).
SUM_CODE_V2 = '''
import csv, io

def run(text, column):
    return sum(float(row[column]) for row in csv.DictReader(io.StringIO(text)) if row[column].strip())
'''

#: A regression: every sum is off by one, though its own test is written to match.
SUM_CODE_BROKEN = '''
import csv, io

def run(text, column):
    return 1 + sum(float(row[column]) for row in csv.DictReader(io.StringIO(text)))
'''

SUM_INPUTS = {"type": "object", "required": ["text", "column"], "additionalProperties": False,
              "properties": {"text": {"type": "string", "description": "CSV with a header row"},
                             "column": {"type": "string"}}}


def sum_card(code: str = SUM_CODE, tests: list[dict] | None = None, **fields: Any) -> Any:
    """A csv-column-sum card (validated)."""
    from purpose_agent_skills.card import card_from_data

    default_tests = [
        {"name": "two rows", "arguments": {"text": "a,b\n1,2\n3,4\n", "column": "b"}, "expected": 6.0},
        {"name": "positive", "arguments": {"text": "a\n5\n", "column": "a"}, "check": "assert result > 0"},
    ]
    data = {"name": "csv-column-sum", "purpose": "Sum one numeric column of CSV text.", "inputs": SUM_INPUTS,
            "code": code, "tests": default_tests if tests is None else tests, **fields}
    return card_from_data(data, where="test card")


def sum_card_toml(provenance: str, tests: str) -> str:
    """The csv-column-sum card (:data:`SUM_CODE`) as the text of a TOML file, with the given
    ``[provenance]`` fields and ``[[tests]]`` tables."""
    return f'''
name = "csv-column-sum"
purpose = "Sum one numeric column of CSV text."
code = """{SUM_CODE}"""
tools = []

[inputs]
type = "object"
required = ["text", "column"]
properties.text = {{type = "string"}}
properties.column = {{type = "string"}}

[provenance]
{provenance.strip()}

{tests.strip()}
'''


def steps_card(steps: list[str], *, author: str = "operator", name: str = "release-checklist", **fields: Any) -> Any:
    from purpose_agent_skills.card import card_from_data

    data = {"name": name, "purpose": "Prepare a release.", "steps": steps,
            "inputs": {"type": "object", "properties": {"version": {"type": "string"}}, "required": ["version"]},
            "provenance": {"author": author, "by": "tester"}, **fields}
    return card_from_data(data, where="test card")


def skip_unless_the_sandbox_runs(kernel: Any) -> None:
    """Skip the calling test when the real sandbox refuses to run on this machine."""
    from purpose_agent.errors import SandboxUnavailable

    try:
        kernel.sandbox("sandbox").run("pass", timeout=10)
    except SandboxUnavailable as exc:
        pytest.skip(f"the sandbox refuses to run on this machine: {exc}")


def skills_ci(kernel: Any, tmp_path: Path, **settings: Any) -> Any:
    """Skill CI as the plugin builds it, over the store :func:`skills_kernel` configured."""
    from purpose_agent_skills.settings import SkillsSettings

    return purpose_agent_skills.skill_ci(kernel, SkillsSettings(store=str(tmp_path / "skills.sqlite"), **settings))
