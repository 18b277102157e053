"""Every CLI command and every config key, fed wrong types and odd text: a sentence, never a traceback.

Commands are enumerated from the commands registered through ``register_commands``, by the
built-in plugin ``cli`` and by installed plugins; config keys from the kernel's ``KERNEL_KEYS`` and from each installed plugin's settings
model. Nothing here is a hand-kept list of what exists. Each command runs in-process through
``main()`` (a few subprocess runs cover what only a real process shows: non-UTF-8 arguments),
except servers, which run as real processes and are stopped with Ctrl-C once serving.

What is asserted, for every run:

- ``main()`` returns (or argparse exits); no exception escapes and nothing prints a traceback;
- no run ends as an *internal error* (exit 70): that would be a bug reached by user input;
- an input that is invalid by construction (a lone surrogate, a malformed number, a value its
  key's type refuses) exits non-zero;
- a non-zero exit prints one sentence on stderr (after argparse's usage lines, if any).
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from purpose_agent.cli import EXIT_INTERNAL_ERROR, main
from purpose_agent.config import KERNEL_KEYS

#: Odd text for any text argument: a lone surrogate (what non-UTF-8 argv bytes become), terminal
#: escapes with C1 and bidi controls and line breaks, the empty string, and a very long value.
#: (NUL cannot occur in a real argv; main() refuses it, tested once below.)
ODD_TEXT = {
    "surrogate": "id\udcff",
    "controls": "\x1b]0;owned\x07\x1b[2J\x9b31m\u202eevil\na\r",
    "empty": "",
    "long": "x" * 5000,
}
#: Odd numbers for numeric options; the ones no option of that type may take are invalid.
ODD_NUMBERS = {"nan": "nan", "inf": "inf", "negative": "-1", "huge": "9" * 400, "word": "soon"}
INVALID_INT = {"nan", "inf", "word"}
INVALID_FLOAT = {"nan", "inf", "word", "huge"}
#: TOML values of every type, and odd ones, for config keys.
ODD_TOML = {"int": "-1", "bool": "true", "nan": "nan", "empty": '""', "escape": '"\\u001b[2J\\u0000"',
            "list": "[1, 2]", "table": "{ a = 1 }", "text": '"text"'}


@dataclass
class Outcome:
    code: int
    out: str
    err: str


def run_main(*args: str) -> Outcome:
    """``main(args)`` with stdout/stderr as strict UTF-8 text streams (as on a real terminal)."""
    out, err = io.BytesIO(), io.BytesIO()
    out_text = io.TextIOWrapper(out, encoding="utf-8", errors="strict", write_through=True)
    err_text = io.TextIOWrapper(err, encoding="utf-8", errors="backslashreplace", write_through=True)
    saved = sys.stdout, sys.stderr, sys.stdin
    sys.stdout, sys.stderr, sys.stdin = out_text, err_text, io.StringIO("")
    try:
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse: usage errors exit 2
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        sys.stdout, sys.stderr, sys.stdin = saved
    return Outcome(code, out.getvalue().decode("utf-8", "replace"), err.getvalue().decode("utf-8", "replace"))


def assert_clean(result: Outcome, what: str, *, invalid: bool) -> None:
    """The promises of this file, for one run."""
    what = what if len(what) < 300 else what[:300] + "…"
    both = result.out + result.err
    assert "Traceback (most recent call last)" not in both, f"{what}: a traceback\n{both[-3000:]}"
    assert result.code != EXIT_INTERNAL_ERROR, f"{what}: an internal error (a bug)\n{result.err[-2000:]}"
    if invalid:
        assert result.code != 0, f"{what}: invalid input was accepted\n{both[-2000:]}"
    if result.code != 0 and result.code not in (124,):  # 124: the sandbox's time limit, not an error
        sentences = _error_lines(result.err)
        assert len(sentences) == 1, f"{what}: expected one sentence on stderr, got {sentences!r}"


def _error_lines(err: str) -> list[str]:
    """stderr without argparse's usage block and without indented detail lines of a sentence."""
    lines, in_usage = [], False
    for line in err.splitlines():
        if line.startswith("usage:"):
            in_usage = True
            continue
        if in_usage and (line.startswith(" ") or not line.strip()):
            continue
        in_usage = False
        if line.strip() and not line.startswith("  "):
            lines.append(line)
    return lines


# --------------------------------------------------------------------------- enumerating commands


@dataclass
class Command:
    words: list[str]
    parser: argparse.ArgumentParser


def _leaves(words: list[str], parser: argparse.ArgumentParser) -> Iterator[Command]:
    subparsers = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subparsers:
        yield Command(words, parser)
        return
    for action in subparsers:
        seen: set[int] = set()
        for name, child in action.choices.items():
            if id(child) in seen:  # an alias
                continue
            seen.add(id(child))
            yield from _leaves([*words, name], child)


def all_commands() -> list[Command]:
    """Every leaf of every command, the built-in plugin's and the installed plugins'."""
    from purpose_agent.kernel import Kernel

    found: list[Command] = []
    kernel = Kernel.load(strict=False)
    for name in sorted(kernel.components("command")):
        command = kernel.create("command", name)
        parser = argparse.ArgumentParser(prog=f"purpose-agent {name}")
        command.add_arguments(parser)
        found += list(_leaves([name], parser))
    return found


COMMANDS = all_commands()


def _slots(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    """Arguments that take a value (positionals and options with a value)."""
    return [
        a for a in parser._actions
        if not isinstance(a, argparse._HelpAction | argparse._SubParsersAction)
        and a.nargs != 0 and a.dest not in ("help",) and (a.option_strings or a.nargs not in ("?", "*") or a.required)
    ]


def _plausible(action: argparse.Action, workdir: Path) -> str:
    """A value that passes argparse for ``action`` (to fill the slots not being fuzzed)."""
    if action.choices:
        return str(next(iter(action.choices)))
    if action.type in (int, float) or getattr(action.type, "__name__", "") in ("seconds",):
        return "1"
    name = action.dest.lower()
    if name in ("file", "path") or action.metavar in ("FILE.py", "PATH"):
        return str(workdir / "input.txt")
    return "x"


def _argv(command: Command, slot: argparse.Action, value: str, workdir: Path) -> list[str]:
    argv = list(command.words)
    for action in _slots(command.parser):
        text = value if action is slot else None
        if text is None and not (action.required or not action.option_strings):
            continue
        if text is None:
            text = _plausible(action, workdir)
        if action.option_strings:
            argv += [action.option_strings[-1], text]
        else:
            argv.append(text)
    if "memory" in command.words[:1]:
        argv += ["--db", str(workdir / "memory.db")]
    return argv


def _numeric(action: argparse.Action) -> str:
    kind = action.type
    if kind is int:
        return "int"
    if kind is float or getattr(kind, "__name__", "") == "seconds":
        return "float"
    return ""


def _cases() -> Iterator[Any]:
    for command in COMMANDS:
        for slot in _slots(command.parser):
            label = f"{' '.join(command.words)} {slot.option_strings[-1] if slot.option_strings else slot.dest}"
            kind = _numeric(slot)
            if slot.choices:
                values = {"surrogate": ODD_TEXT["surrogate"], "controls": ODD_TEXT["controls"], "empty": ""}
                for name, value in values.items():
                    yield pytest.param(command, slot, value, True, id=f"{label}={name}")
            elif kind:
                invalid = INVALID_INT if kind == "int" else INVALID_FLOAT
                for name, value in ODD_NUMBERS.items():
                    yield pytest.param(command, slot, value, name in invalid, id=f"{label}={name}")
            else:
                for name, value in ODD_TEXT.items():
                    yield pytest.param(command, slot, value, name == "surrogate", id=f"{label}={name}")


@pytest.fixture
def quiet_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No reachable model (a run fails fast with a sentence), no colour, data under tmp_path."""
    monkeypatch.delenv("PURPOSE_AGENT_DEBUG", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("OLLAMA_HOST", "http://127.0.0.1:9")
    for name in list(os.environ):
        if name.endswith("_API_KEY"):
            monkeypatch.delenv(name)
    (Path.cwd() / "purpose-agent.toml").write_text('[model]\ndefault = "no-such-provider:model"\n')
    (tmp_path / "input.txt").write_text("print('hello')\n")
    return tmp_path


def is_server(command: Command) -> bool:
    """A command that serves until stopped (``a2a serve``, ``mcp serve``, ``ui``): valid input makes
    it run for good, so it cannot run in-process here."""
    return "serve" in command.words or command.words == ["ui"]


#: How long a server may run before it counts as serving (then it is stopped with Ctrl-C).
SERVING_SECONDS = 6


def run_server(argv: list[str], cwd: Path) -> Outcome:
    """Run a server command as a real process. If it is still running after SERVING_SECONDS, it
    was serving: stop it as a person would (SIGINT) and report exit 0 with what it printed, so a
    traceback on the way down still fails the test."""
    import signal

    env = {k: v for k, v in os.environ.items() if k not in ("PURPOSE_AGENT_DEBUG",)}
    process = subprocess.Popen([sys.executable, "-m", "purpose_agent", *argv], cwd=cwd, env=env,
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        out, err = process.communicate(timeout=SERVING_SECONDS)
        code = process.returncode
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGINT)
        try:
            out, err = process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            out, err = process.communicate()
            pytest.fail(f"purpose-agent {argv!r} did not stop within 20 s of Ctrl-C")
        code = 0
    return Outcome(code, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"))


@pytest.mark.parametrize(("command", "slot", "value", "invalid"), list(_cases()))
def test_every_command_argument_takes_odd_input_without_a_traceback(
    quiet_environment: Path, command: Command, slot: argparse.Action, value: str, invalid: bool
) -> None:
    argv = _argv(command, slot, value, quiet_environment)
    if is_server(command):
        outcome = run_server(argv, Path.cwd())  # a lone surrogate reaches it as a non-UTF-8 byte
    else:
        outcome = run_main(*argv)
    assert_clean(outcome, f"purpose-agent {' '.join(map(repr, argv))}", invalid=invalid)


def test_the_fuzzed_commands_include_built_in_and_plugin_commands() -> None:
    words = {tuple(c.words) for c in COMMANDS}
    assert ("memory", "show") in words and ("config", "set") in words
    try:
        import purpose_agent_sandbox  # noqa: F401
    except ImportError:
        return
    assert ("sandbox", "run") in words, "a plugin-provided command was not enumerated"


# --------------------------------------------------------------------------- config keys


#: The command that reads each kernel section, so a value of the right type is also *used*.
READERS = {"kernel": ["plugins", "list"], "memory": ["memory", "stats"], "model": ["models"],
           "runtime": ["run", "hello", "--max-steps", "1"]}


@pytest.mark.parametrize(("section", "key"), [(s, k) for s, keys in KERNEL_KEYS.items() for k in keys])
def test_every_kernel_key_with_odd_values(quiet_environment: Path, section: str, key: str) -> None:
    # Keep the quiet environment's unreachable model: a valid runtime value must not start a real
    # model run (the embedded model takes minutes per run on a loaded machine).
    no_model = '\n[model]\ndefault = "no-such-provider:model"\n' if section != "model" else ""
    for value in ODD_TOML.values():
        text = f"[{section}]\n{key} = {value}\n"
        (Path.cwd() / "purpose-agent.toml").write_text(text + no_model)
        parsed = tomllib.loads(text)[section][key]
        invalid = not KERNEL_KEYS[section][key].accepts(parsed)
        # the command that reads the section: it validates every file first, then uses the value
        reader = READERS.get(section, ["config", "show"])
        result = run_main(*reader)
        assert_clean(result, f"{section}.{key} = {value} then {' '.join(reader)}", invalid=invalid)
        if invalid:
            assert f"'{section}.{key}'" in result.err and "purpose-agent.toml" in result.err, result.err


def _plugin_models() -> dict[str, Any]:
    """Each installed plugin's settings model, by plugin id."""
    from purpose_agent.kernel import Kernel

    kernel = Kernel.load(strict=False)
    kernel.load_all()
    models = {}
    for record in kernel.plugins():
        impls = [i for i in kernel.pm.hook.settings_model.get_hookimpls() if i.plugin_name == record.id]
        if impls:
            model = impls[0].function()
            if model is not None:
                models[record.id] = model
    return models


PLUGIN_MODELS = _plugin_models()


@pytest.mark.parametrize("plugin_id", sorted(PLUGIN_MODELS))
def test_every_plugin_setting_with_odd_values_fails_that_plugin_with_the_key_and_file(
    quiet_environment: Path, plugin_id: str
) -> None:
    from pydantic import ValidationError

    from purpose_agent.kernel import Kernel

    model = PLUGIN_MODELS[plugin_id]
    project = Path.cwd() / "purpose-agent.toml"
    for field_name in model.model_fields:
        for name, value in ODD_TOML.items():
            text = f"[plugins.{plugin_id}]\n{field_name} = {value}\n"
            project.write_text(text)
            section = tomllib.loads(text)["plugins"][plugin_id]
            try:
                model.model_validate(section)
                invalid = False
            except ValidationError:
                invalid = True
            kernel = Kernel.load(strict=False)
            record = kernel.ensure_plugin(plugin_id)
            assert record is not None
            what = f"[plugins.{plugin_id}] {field_name} = {value} ({name})"
            if invalid:
                assert record.status == "failed", what
                # The key is named (quoted by pydantic, or in a model validator's own sentence).
                assert field_name in record.reason and str(project) in record.reason, (what, record.reason)
            else:
                assert record.status == "ok", (what, record.reason)


@pytest.mark.parametrize("plugin_id", sorted(PLUGIN_MODELS))
def test_doctor_and_strict_commands_report_a_bad_plugin_setting_in_one_sentence(
    quiet_environment: Path, plugin_id: str
) -> None:
    """Through the CLI: `doctor` lists the problem; `--strict` makes any command fail with it."""
    (Path.cwd() / "purpose-agent.toml").write_text(f"[plugins.{plugin_id}]\nno_such_setting_here = {{ a = 1 }}\n")
    model = PLUGIN_MODELS[plugin_id]
    first = next(iter(model.model_fields), None)
    if first is not None:
        (Path.cwd() / "purpose-agent.toml").write_text(f"[plugins.{plugin_id}]\n{first} = {{ a = 1 }}\n")
    result = run_main("plugins", "list", "--strict")
    assert_clean(result, f"plugins list --strict with a bad [plugins.{plugin_id}]", invalid=True)
    assert plugin_id in result.err


def test_a_plugin_command_with_bad_settings_names_the_setting(quiet_environment: Path) -> None:
    from purpose_agent.kernel import Kernel

    kernel = Kernel.load(strict=False)
    commands = kernel.components("command")
    checked = 0
    for word, registration in sorted(commands.items()):
        model = PLUGIN_MODELS.get(registration.plugin_id)
        if model is None or registration.plugin_id != word or not model.model_fields:
            continue
        field_name = next(iter(model.model_fields))
        project = Path.cwd() / "purpose-agent.toml"
        project.write_text(f"[plugins.{word}]\n{field_name} = {{ a = 1 }}\n")
        result = run_main(word, "--help")
        assert_clean(result, f"{word} with a bad setting", invalid=True)
        assert "invalid choice" not in result.err and f"'{field_name}" in result.err and str(project) in result.err
        checked += 1
    if "sandbox" in commands:
        assert checked, "the sandbox command was not checked"


# --------------------------------------------------------------------------- files and odd text


def test_config_files_with_odd_bytes_are_sentences(quiet_environment: Path) -> None:
    project = Path.cwd() / "purpose-agent.toml"
    for name, payload in {"latin-1": b"[kernel]\nstrict = true # caf\xe9\n", "nul": b"[kernel]\x00\n",
                          "bom-utf16": "[kernel]\n".encode("utf-16"), "escape": b'[memory]\npath = "\x1b[2J"\n',
                          "binary": bytes(range(256))}.items():
        project.write_bytes(payload)
        for command in (["config", "show"], ["memory", "stats"], ["plugins", "list"]):
            result = run_main(*command)
            assert_clean(result, f"{name} config then {' '.join(command)}", invalid=True)
            assert str(project) in result.err


def test_memory_import_of_odd_text_is_refused_with_a_sentence_and_leaves_the_store_intact(
    quiet_environment: Path,
) -> None:
    db = quiet_environment / "memory.db"
    header = '{"format":"purpose-agent-memory","version":1}\n'
    item = ('{"history":[%s],"item":%s}\n')
    good = ('{"id":"ok1","text":"fine","version":1,"kind":"heuristic","status":"candidate"}')
    assert_clean(run_main("memory", "import", str(_file(quiet_environment, "good.jsonl", header + item % (good, good))),
                          "--db", str(db)), "import good", invalid=False)
    for name, text in {"surrogate": "\\ud800 lone", "nul": "\\u0000", "escape": "\\u001b[2J"}.items():
        bad = good.replace('"ok1"', '"bad1"').replace('"fine"', f'"{text}"')
        path = _file(quiet_environment, f"{name}.jsonl", header + item % (bad, bad))
        result = run_main("memory", "import", str(path), "--db", str(db))
        assert_clean(result, f"import {name}", invalid=name == "surrogate")
    for name, payload in {"latin-1": b"caf\xe9\n", "binary": bytes(range(256))}.items():
        path = quiet_environment / f"{name}.jsonl"
        path.write_bytes(payload)
        assert_clean(run_main("memory", "import", str(path), "--db", str(db)), f"import {name}", invalid=True)
    listed = run_main("memory", "list", "--db", str(db))
    assert listed.code == 0 and "ok1" in listed.out


def _file(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_lesson_with_a_lone_surrogate_is_refused_and_the_store_is_untouched(tmp_path: Path) -> None:
    from purpose_agent.memory.errors import MemoryStoreError
    from purpose_agent.models import MemoryItem
    from purpose_agent.testing import make_kernel

    store = make_kernel(builtins=True).memory_store("sqlite", path=str(tmp_path / "m.db"))
    store.add(MemoryItem(id="kept", text="a good lesson"))
    with pytest.raises(MemoryStoreError, match="lone surrogate"):
        store.add(MemoryItem(id="bad", text="broken \udcff text"))
    assert [i.id for i in store.list()] == ["kept"] and store.integrity_check() == "ok"
    store.close()


def test_a_nul_in_an_argument_is_one_sentence(quiet_environment: Path) -> None:
    result = run_main("memory", "show", "a\x00b")
    assert_clean(result, "NUL in an argument", invalid=True)
    assert "contains a NUL character" in result.err


# --------------------------------------------------------------------------- --debug and bugs


def test_a_bug_is_one_sentence_with_exit_70_and_the_traceback_only_with_debug(
    monkeypatch: pytest.MonkeyPatch, quiet_environment: Path
) -> None:
    from purpose_agent.cli import config_cmd

    def broken(args: argparse.Namespace) -> int:
        raise KeyError("boom")

    monkeypatch.setattr(config_cmd, "run_path", broken)
    plain = run_main("config", "path")
    assert plain.code == 70 and "Traceback" not in plain.err
    assert plain.err.strip() == ("purpose-agent: internal error: KeyError: 'boom' (run with --debug for the "
                                 "traceback). This is a bug; please report it.")
    debug = run_main("--debug", "config", "path")
    assert debug.code == 70 and "Traceback (most recent call last)" in debug.err
    monkeypatch.setenv("PURPOSE_AGENT_DEBUG", "1")
    assert "Traceback (most recent call last)" in run_main("config", "path").err


def test_debug_shows_the_traceback_of_a_user_error_too(quiet_environment: Path) -> None:
    (Path.cwd() / "purpose-agent.toml").write_text("[memory]\npath = 5\n")
    assert "Traceback" not in run_main("memory", "stats").err
    shown = run_main("--debug", "memory", "stats")
    assert shown.code == 1 and "Traceback (most recent call last)" in shown.err and "'memory.path'" in shown.err


# --------------------------------------------------------------------------- real processes


def _process(*args: bytes, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    env = {k: v for k, v in os.environ.items() if k not in ("PURPOSE_AGENT_DEBUG",)}
    return subprocess.run([sys.executable.encode(), b"-m", b"purpose_agent", *args], capture_output=True, cwd=cwd,
                          env=env, timeout=60, check=False)


@pytest.mark.parametrize("argv", [[b"memory", b"show", b"caf\xe9"], [b"config", b"set", b"kernel.str\xffict", b"1"],
                                  [b"run", b"\xff\xfe task"]])
def test_arguments_that_are_not_utf8_are_one_sentence(quiet_environment: Path, argv: list[bytes]) -> None:
    done = _process(*argv, cwd=Path.cwd())
    err = done.stderr.decode("utf-8", "replace")
    assert done.returncode == 1 and "Traceback" not in err, err
    assert len(_error_lines(err)) == 1 and "is not UTF-8 text: byte 0x" in err, err
