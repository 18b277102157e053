"""``purpose-agent config show|path|set``."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from ..config import PROJECT_FILE_NAME, find_project_file, load_config, set_value, user_config_path
from ..errors import ConfigError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    show = actions.add_parser("show", help="the merged configuration and where each value came from")
    show.add_argument("--json", action="store_true", help="print JSON: {key: {value, source}}")
    show.set_defaults(run=run_show)
    path = actions.add_parser("path", help="the configuration files, in the order they apply")
    path.set_defaults(run=run_path)
    setter = actions.add_parser("set", help="set a value (written atomically; secrets are refused)")
    setter.add_argument("key", help="dotted key, e.g. plugins.groq.timeout")
    setter.add_argument("value", help="a TOML value (true, 3, \"text\", [\"a\"]); bare words are strings")
    add_target_arguments(setter)
    setter.set_defaults(run=run_set)
    unset = actions.add_parser("unset", help="remove a value")
    unset.add_argument("key")
    add_target_arguments(unset)
    unset.set_defaults(run=run_unset)


def add_target_arguments(parser: argparse.ArgumentParser) -> None:
    """``--user`` / ``--project`` / ``--file``: which file a writing command changes."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--user", action="store_true", help="write the user file")
    group.add_argument("--project", action="store_true", help=f"write ./{PROJECT_FILE_NAME} (created if missing)")
    group.add_argument("--file", type=Path, help="write this TOML file")


def target_file(args: argparse.Namespace) -> Path:
    """The file a writing command changes.

    Default: the nearest ``purpose-agent.toml`` if there is one, else the user file. A project
    configured inside ``pyproject.toml`` is not rewritten (that would drop its comments); the
    user file is used and the choice is printed.
    """
    if args.file:
        return Path(args.file)
    if args.project:
        return Path.cwd() / PROJECT_FILE_NAME
    if not args.user:
        project = find_project_file()
        if project is not None and not project[1]:
            return project[0]
    return user_config_path()


def parse_value(text: str) -> Any:
    """Parse a command-line value as TOML, falling back to a plain string."""
    import tomllib  # here: `plugins list` imports this module for its target options

    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def run_show(args: argparse.Namespace) -> int:
    config = load_config()
    rows = [(key, value, config.sources.get(key, "default")) for key, value in config.leaves()]
    if args.json:
        print(json.dumps({key: {"value": value, "source": src} for key, value, src in rows}, indent=2))
        return 0
    for key, value, src in rows:
        print(f"{key} = {json.dumps(value)}    # {src}")
    return 0


def run_path(args: argparse.Namespace) -> int:
    config = load_config()
    for layer in config.layers:
        state = "found" if layer.exists else "not found"
        print(f"{layer.label:8} {layer.path or '(none)'}  [{state}]")
    if "PURPOSE_AGENT_PLUGINS" in os.environ:
        print(f"env      PURPOSE_AGENT_PLUGINS={os.environ['PURPOSE_AGENT_PLUGINS']!r}")
    return 0


def run_set(args: argparse.Namespace) -> int:
    path = target_file(args)
    set_value(path, args.key, parse_value(args.value))
    print(f"set {args.key} in {path}")
    return 0


def run_unset(args: argparse.Namespace) -> int:
    path = target_file(args)
    if not path.is_file():
        raise ConfigError(f"{path} does not exist; nothing to unset")
    set_value(path, args.key, None)
    print(f"removed {args.key} from {path}")
    return 0
