"""The helpers ``purpose_agent.hookspecs`` offers plugin authors: ``lazy``, ``lazy_settings``,
``register_lazily`` and ``BaseCommand``, exercised through a real plugin package written to disk
and loaded by a kernel, and over every lazy registration of the installed plugins."""

from __future__ import annotations

import argparse
import sys
import uuid
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from purpose_agent.hookspecs import ROLES, BaseCommand, LazyFactory, lazy
from purpose_agent.testing import make_kernel

PLUGIN = '''
from purpose_agent.hookspecs import lazy_settings, register_lazily

PURPOSE_AGENT_HOOK_API = "1.0"
plugin_id = "greeter"

settings_model = lazy_settings("{package}.settings:GreeterSettings")
register_commands = register_lazily("greet", "{package}.command:GreetCommand", description="greet someone")
'''

SETTINGS = '''
from pydantic import BaseModel


class GreeterSettings(BaseModel):
    greeting: str = "hello"


def build_model():
    class Built(BaseModel):
        size: int = 1

    return Built
'''

COMMAND = '''
from purpose_agent.hookspecs import BaseCommand


class GreetCommand(BaseCommand):
    help = "Greet someone, or count."

    def add_action_arguments(self, parsers):
        parsers["say-hello"].add_argument("name")
        parsers["count"].add_argument("n", type=int)

    def do_say_hello(self, args):
        \"\"\"greet NAME

        The rest of the docstring is not help.\"\"\"
        print(f"{self.context.settings.greeting}, {args.name}")

    def do_count(self, args):
        \"\"\"count to N\"\"\"
        print(" ".join(str(i) for i in range(1, args.n + 1)))
        return 3
'''


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A plugin package on sys.path, with a name no other test uses; forgotten afterwards."""
    name = f"pa_helper_probe_{uuid.uuid4().hex[:8]}"
    root = tmp_path / name
    root.mkdir()
    (root / "__init__.py").write_text(PLUGIN.format(package=name))
    (root / "settings.py").write_text(SETTINGS)
    (root / "command.py").write_text(COMMAND)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name
    for module in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
        del sys.modules[module]


def _load(name: str) -> ModuleType:
    import importlib

    return importlib.import_module(name)


def test_a_plugin_written_with_the_helpers_imports_its_command_only_when_it_is_built(package: str) -> None:
    plugin = _load(package)
    assert f"{package}.command" not in sys.modules and f"{package}.settings" not in sys.modules

    kernel = make_kernel(plugin, config={"plugins": {"greeter": {"greeting": "hi"}}}, strict=True)
    registry = kernel.components("command")
    assert registry["greet"].description == "greet someone"
    assert f"{package}.command" not in sys.modules  # listed, with its help line, without the import

    command = kernel.create("command", "greet")
    assert f"{package}.command" in sys.modules
    assert type(command).__name__ == "GreetCommand" and command.context.kernel is kernel
    assert command.context.settings.greeting == "hi"  # the lazily named model validated the section


def test_a_settings_section_the_lazy_model_rejects_fails_the_plugin(package: str) -> None:
    kernel = make_kernel(_load(package), config={"plugins": {"greeter": {"greeting": ["not", "text"]}}})
    record = kernel.records["greeter"]
    assert record.status == "failed" and "greeting" in record.reason


def test_lazy_settings_returns_a_named_model_or_calls_a_function_that_builds_one(package: str) -> None:
    from purpose_agent.hookspecs import lazy_settings

    settings = sys.modules.get(f"{package}.settings")
    assert settings is None  # nothing imported yet
    model = lazy_settings(f"{package}.settings:GreeterSettings")()
    assert model is sys.modules[f"{package}.settings"].GreeterSettings
    built = lazy_settings(f"{package}.settings:build_model")()
    assert built.__name__ == "Built" and built().size == 1


def _parse(command: Any, argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="purpose-agent greet")
    command.add_arguments(parser)
    return parser.parse_args(argv)


def test_actions_become_sub_parsers_and_run_dispatches_to_do_methods(package: str, capsys: Any) -> None:
    kernel = make_kernel(_load(package), strict=True)
    command = kernel.create("command", "greet")

    assert command.run(_parse(command, ["say-hello", "ann"])) == 0  # a do_ method returning None: 0
    assert capsys.readouterr().out == "hello, ann\n"
    assert command.run(_parse(command, ["count", "3"])) == 3
    assert capsys.readouterr().out == "1 2 3\n"

    with pytest.raises(SystemExit) as exit_info:  # an action is required
        _parse(command, [])
    assert exit_info.value.code == 2
    assert "required: ACTION" in capsys.readouterr().err

    with pytest.raises(SystemExit):
        _parse(command, ["--help"])
    listing = capsys.readouterr().out
    assert listing.index("say-hello") < listing.index("count")  # the methods' order
    assert "greet NAME" in listing and "count to N" in listing and "not help" not in listing


class _Store:
    def __init__(self) -> None:
        self.closed = False


class _PreparingCommand(BaseCommand):
    """A command that opens something every action needs, and hands it on through dispatch."""

    help = "prepare, then act"

    def run(self, args: argparse.Namespace) -> int:
        store = _Store()
        try:
            return self.dispatch(args, self.kernel_for(args), store)
        finally:
            store.closed = True

    def do_show(self, args: argparse.Namespace, kernel: Any, store: _Store) -> int:
        """show the store"""
        assert not store.closed
        return 7 if kernel == "from args" else 8


def test_dispatch_passes_extra_arguments_and_kernel_for_prefers_the_cli_kernel() -> None:
    context = argparse.Namespace(kernel="from context", settings=None)
    command = _PreparingCommand(context)
    assert command.run(argparse.Namespace(action="show", kernel="from args")) == 7
    assert command.run(argparse.Namespace(action="show", kernel=None)) == 8
    assert command.run(argparse.Namespace(action="show")) == 8


def test_a_command_without_actions_declares_nothing() -> None:
    parser = argparse.ArgumentParser()
    BaseCommand().add_arguments(parser)
    assert parser.parse_args([]) == argparse.Namespace()
    assert BaseCommand.actions() == {}


class _Base(BaseCommand):
    def do_list(self, args: argparse.Namespace) -> None:
        """every item"""

    def do_drop_all(self, args: argparse.Namespace) -> None:
        """  forget every item

        Not part of the help."""

    def helper(self) -> None:  # not an action: no do_ prefix
        pass


class _Derived(_Base):
    def do_add(self, args: argparse.Namespace) -> None:
        """add an item"""

    def do_list(self, args: argparse.Namespace) -> None:  # an override without a docstring keeps the help
        pass

    def do_drop_all(self, args: argparse.Namespace) -> None:
        """forget everything, for good"""


def test_actions_are_the_do_methods_base_classes_first_with_their_docstrings_first_line() -> None:
    assert _Base.actions() == {"list": "every item", "drop-all": "forget every item"}
    # overrides keep the base's place; a new action comes after the inherited ones
    assert list(_Derived.actions().items()) == [
        ("list", "every item"), ("drop-all", "forget everything, for good"), ("add", "add an item"),
    ]
    parser = argparse.ArgumentParser()
    _Derived().add_arguments(parser)
    assert parser.parse_args(["drop-all"]).action == "drop-all"


class _Undocumented(BaseCommand):
    def do_show(self, args: argparse.Namespace) -> None:
        """show it"""

    def do_purge_old(self, args: argparse.Namespace) -> None:
        pass


def test_an_action_method_without_a_docstring_is_a_clear_error_when_the_command_is_used() -> None:
    with pytest.raises(TypeError, match=r"_Undocumented: do_purge_old needs a docstring"):
        _Undocumented().add_arguments(argparse.ArgumentParser())


def test_lazy_resolves_on_first_call_passes_arguments_and_keeps_what_it_found() -> None:
    factory = lazy("fractions:Fraction.from_float")
    assert repr(factory) == "lazy('fractions:Fraction.from_float')"
    assert factory(0.5) == Fraction(1, 2)
    assert factory.resolve() is factory.resolve()  # imported and looked up once
    assert factory.resolve() == Fraction.from_float


def test_a_missing_module_fails_at_the_first_call_not_at_registration() -> None:
    factory = lazy("pa_no_such_module_anywhere:Thing")  # registering costs nothing and checks nothing
    with pytest.raises(ModuleNotFoundError):
        factory()
    with pytest.raises(AttributeError):
        lazy("fractions:NoSuchName")()


@pytest.mark.parametrize("target", ["fractions", "fractions:", ":Fraction", ""])
def test_a_malformed_target_is_refused_at_once(target: str) -> None:
    with pytest.raises(ValueError, match="package.module:Name"):
        lazy(target)


def test_every_lazy_registration_of_the_installed_plugins_resolves() -> None:
    """A typo in a target string would only show when that component is first built."""
    from purpose_agent import Kernel

    kernel = Kernel.load(strict=False)
    checked = []
    for role in ROLES:
        if role in ("scanner", "observer"):  # broadcast hooks: nothing is registered by name
            continue
        for name, registration in kernel.components(role).items():
            if isinstance(registration.factory, LazyFactory):
                assert callable(registration.factory.resolve()), (role, name)
                checked.append((role, name))
    # the workspace's command plugins register this way (when installed, as in this repository)
    assert ("command", "vault") in checked or "vault" not in kernel.components("command")
    assert checked
