"""Layered TOML configuration: where settings come from, and writing them back safely.

Layers, later wins:

1. built-in defaults;
2. the user file, ``$XDG_CONFIG_HOME/purpose-agent/config.toml`` (``~/.config/...`` by default);
3. the project file: the nearest ``purpose-agent.toml``, or ``[tool.purpose-agent]`` in the
   nearest ``pyproject.toml``, searching from the working directory upwards;
4. the file named by ``PURPOSE_AGENT_CONFIG``;
5. ``PURPOSE_AGENT_PLUGINS`` (a comma list: only these plugins load, built-ins included; empty
   means none) and ``PURPOSE_AGENT_STRICT``;
6. keyword arguments given in code.

This module deliberately avoids pydantic: it runs on every CLI start, and ``plugins list`` must
stay fast. Plugin sections are validated later by each plugin's own model.
"""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigError

USER_FILE_NAME = "config.toml"
PROJECT_FILE_NAME = "purpose-agent.toml"
PYPROJECT_TABLE = "purpose-agent"
ENV_CONFIG = "PURPOSE_AGENT_CONFIG"
ENV_PLUGINS = "PURPOSE_AGENT_PLUGINS"
ENV_STRICT = "PURPOSE_AGENT_STRICT"

#: Keys inside ``[plugins.<id>]`` that belong to the kernel, not to the plugin's settings.
RESERVED_PLUGIN_KEYS = frozenset({"enabled", "required"})

DEFAULTS: dict[str, Any] = {
    "kernel": {"strict": False},
    "plugins": {},
}



@dataclass(frozen=True)
class KeyType:
    """What a key the kernel owns accepts: a check, and the words an error uses for it."""

    words: str
    accepts: Callable[[Any], bool]


def _is_text(value: Any) -> bool:
    # NUL cannot reach a file name or most C APIs; other control characters are never intended.
    return isinstance(value, str) and bool(value.strip()) and not any(c < " " or c == "\x7f" for c in value)


def _is_text_list(value: Any) -> bool:
    return isinstance(value, list) and all(_is_text(item) for item in value)


BOOLEAN = KeyType("boolean (true or false)", lambda value: isinstance(value, bool))
NAME = KeyType("non-empty string without control characters", _is_text)
PATH = KeyType("non-empty path string without control characters", _is_text)
NAME_LIST = KeyType("list of non-empty strings", _is_text_list)
PLUGIN_IDS = KeyType("list of plugin ids (strings)", _is_text_list)
PATH_OR_FALSE = KeyType("non-empty path string, or false to turn it off", lambda value: value is False or _is_text(value))
# bool is an int in Python; ``true`` is never meant as a number. NaN fails the comparison.
SECONDS = KeyType("number of seconds above 0 (e.g. 2 or 0.5)",
                  lambda value: isinstance(value, int | float) and not isinstance(value, bool) and 0 < value < float("inf"))
POSITIVE_COUNT = KeyType("whole number above 0 (e.g. 16000)",
                         lambda value: isinstance(value, int) and not isinstance(value, bool) and value > 0)
FLAGGED_OUTPUT_MODE = KeyType('choice of "mark" or "withhold"', lambda value: value in ("mark", "withhold"))
SPOTLIGHT_MODE = KeyType('choice of "delimit" or "datamark"', lambda value: value in ("delimit", "datamark"))

#: How long :meth:`purpose_agent.kernel.Kernel.scan` waits for the scanners (``[kernel] scan_timeout_s``).
DEFAULT_SCAN_TIMEOUT_S = 2.0
#: How long a scan may take when it calls a scanner for the first time in the process
#: (``[kernel] scan_warmup_s``): room for one-time preparation such as compiling rules or loading a model.
DEFAULT_SCAN_WARMUP_S = 30.0
#: The longest lesson ``teach()`` and memory CI accept (``[memory] max_lesson_chars``): benign agent
#: lessons in the dev data are 40-500 characters, so 16,000 is generous and still bounds the scan.
DEFAULT_MAX_LESSON_CHARS = 16_000

#: Every key the kernel itself reads, by section, with the type it must have. Files are checked
#: against this when they are read, so a wrong value is an error naming the file and the key,
#: not a traceback wherever the value is first used. A part of the kernel that reads a new key
#: adds it here (and to docs/configuration.md). Only ``[kernel]`` rejects unknown keys; the
#: other sections may hold keys for parts that read them without the kernel knowing them.
KERNEL_KEYS: dict[str, dict[str, KeyType]] = {
    "kernel": {"strict": BOOLEAN, "plugins": PLUGIN_IDS, "scan_timeout_s": SECONDS, "scan_warmup_s": SECONDS},
    "memory": {"store": NAME, "path": PATH, "max_lesson_chars": POSITIVE_COUNT},
    "model": {"default": NAME, "fallback": NAME_LIST, "routing": NAME},
    "runtime": {"critic": NAME, "checkpoint_path": PATH, "embedder": NAME, "embedding_cache": PATH_OR_FALSE,
                "flagged_tool_output": FLAGGED_OUTPUT_MODE, "spotlight": SPOTLIGHT_MODE, "executor": NAME},
}

# A key that would hold a credential. Its value must not be written to a file; configure the
# name of an environment variable instead (e.g. ``api_key_env = "GROQ_API_KEY"``).
_SECRET_KEY = r"(?i)(^|_)(api_?key|key|token|secret|password|passwd|credentials?)$"  # compiled when a value is set


def user_config_path(environ: Mapping[str, str] | None = None) -> Path:
    """Return the user config file path, honouring ``XDG_CONFIG_HOME``."""
    env = os.environ if environ is None else environ
    base = env.get("XDG_CONFIG_HOME") or str(Path(env.get("HOME", str(Path.home()))) / ".config")
    return Path(base) / "purpose-agent" / USER_FILE_NAME


def state_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Where purpose-agent keeps run state (checkpoints, traces): ``$XDG_STATE_HOME/purpose-agent``."""
    env = os.environ if environ is None else environ
    base = env.get("XDG_STATE_HOME") or str(Path(env.get("HOME", str(Path.home()))) / ".local" / "state")
    return Path(base) / "purpose-agent"


def find_project_file(start: Path | None = None) -> tuple[Path, bool] | None:
    """Find the nearest project config from ``start`` upwards.

    Returns ``(path, is_pyproject)`` or ``None``. In one directory ``purpose-agent.toml`` wins
    over ``pyproject.toml``; a ``pyproject.toml`` counts only if it has ``[tool.purpose-agent]``.
    """
    here = (start or Path.cwd()).resolve()
    for directory in (here, *here.parents):
        candidate = directory / PROJECT_FILE_NAME
        if candidate.is_file():
            return candidate, False
        pyproject = directory / "pyproject.toml"
        if pyproject.is_file():
            try:
                text = pyproject.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            if PYPROJECT_TABLE not in text:
                continue  # most pyproject files never name us: not parsing them saves a few ms per start
            import tomllib  # here: no TOML to read, no tomllib to import (5 ms of every CLI start)

            try:
                data = tomllib.loads(text)
            except tomllib.TOMLDecodeError:
                continue  # somebody else's broken pyproject is not our configuration error
            if PYPROJECT_TABLE in data.get("tool", {}):
                return pyproject, True
    return None


@dataclass
class ConfigLayer:
    """One place configuration can come from, and whether it was found."""

    label: str
    path: Path | None
    exists: bool
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class Config:
    """The merged configuration and the source of every value."""

    data: dict[str, Any]
    sources: dict[str, str]
    layers: list[ConfigLayer]

    # ---- reading

    def get(self, dotted: str, default: Any = None) -> Any:
        """Return the value at a dotted key such as ``"kernel.strict"``, or ``default``."""
        node: Any = self.data
        for part in dotted.split("."):
            if not isinstance(node, dict) or part not in node:
                return default
            node = node[part]
        return node

    @property
    def strict(self) -> bool:
        """Whether every plugin problem is an error (for CI)."""
        return bool(self.get("kernel.strict", False))

    @property
    def scan_timeout_s(self) -> float:
        """Seconds a scan may take before the scanners still running are blocking findings."""
        return float(self.get("kernel.scan_timeout_s", DEFAULT_SCAN_TIMEOUT_S))

    @property
    def scan_warmup_s(self) -> float:
        """Seconds a scan may take when it calls a scanner for the first time in the process."""
        return float(self.get("kernel.scan_warmup_s", DEFAULT_SCAN_WARMUP_S))

    @property
    def max_lesson_chars(self) -> int:
        """The longest lesson text ``teach()`` and memory CI accept, in characters."""
        return int(self.get("memory.max_lesson_chars", DEFAULT_MAX_LESSON_CHARS))

    @property
    def load_only(self) -> list[str] | None:
        """The allowlist of plugin ids, or ``None`` when every installed plugin may load."""
        value = self.get("kernel.plugins")
        return None if value is None else list(value)

    def plugin_table(self, plugin_id: str) -> dict[str, Any]:
        """Return ``[plugins.<id>]`` as written (reserved keys included)."""
        table = self.get(f"plugins.{plugin_id}", {})
        return table if isinstance(table, dict) else {}

    def plugin_settings(self, plugin_id: str) -> dict[str, Any]:
        """Return the plugin's own settings: its table without the kernel's reserved keys."""
        return {k: v for k, v in self.plugin_table(plugin_id).items() if k not in RESERVED_PLUGIN_KEYS}

    def source_of(self, dotted: str) -> str:
        """Return where a value came from (``default``, ``user: PATH``, …).

        For a table, every layer that set one of its values is named: a table written in one
        file and extended in another comes from both.
        """
        prefix = dotted + "."
        found = {src for key, src in self.sources.items() if key.startswith(prefix)}
        if dotted in self.sources and (not found or not isinstance(self.get(dotted), dict)):
            return self.sources[dotted]
        return ", ".join(sorted(found)) or "default"

    def explain_invalid_settings(self, plugin_id: str, errors: Sequence[Mapping[str, Any]]) -> str:
        """One sentence for a plugin section its settings model rejected.

        ``errors`` are pydantic's ``ValidationError.errors()``. Each bad key is named with the
        file it came from (the layer that set *that* key, which may not be the layer that
        started the section) and the value found there.
        """
        problems = []
        for error in errors:
            loc = [str(part) for part in error.get("loc", ())]
            if loc:
                where = self.source_of(f"plugins.{plugin_id}.{loc[0]}")
                found = "" if error.get("type") == "missing" else f" = {_shown(error.get('input'))}"
                problems.append(f"'{'.'.join(loc)}'{found} ({where}): {error.get('msg', 'invalid')}")
            else:  # a check across keys (e.g. timeout_s above max_timeout_s)
                problems.append(f"{error.get('msg', 'invalid')} ({self.source_of(f'plugins.{plugin_id}')})")
        return f"invalid configuration in [plugins.{plugin_id}]: {'; '.join(problems)}"

    def activation(self, plugin_id: str) -> tuple[bool, str]:
        """Decide whether a plugin may load: ``(enabled, reason-if-not)``."""
        only = self.load_only
        if only is not None and plugin_id not in only:
            origin = self.source_of("kernel.plugins")
            return False, f"not in the allowed plugin list ({origin})"
        enabled = self.plugin_table(plugin_id).get("enabled", True)
        if enabled is False:
            return False, f"disabled in configuration ({self.source_of(f'plugins.{plugin_id}.enabled')})"
        return True, ""

    def is_required(self, plugin_id: str) -> bool:
        """Whether the configuration marks the plugin required (its failure is fatal)."""
        return bool(self.plugin_table(plugin_id).get("required", False))

    def required_ids(self) -> list[str]:
        """Every plugin id the configuration marks required."""
        plugins = self.data.get("plugins", {})
        return sorted(pid for pid, table in plugins.items() if isinstance(table, dict) and table.get("required"))

    def leaves(self) -> Iterator[tuple[str, Any]]:
        """Yield ``(dotted key, value)`` for every leaf of the merged configuration."""
        yield from _flatten(self.data)


def _flatten(data: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for key, value in data.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            yield from _flatten(value, dotted + ".")
        else:
            yield dotted, value


def _merge(target: dict[str, Any], layer: Mapping[str, Any], label: str, sources: dict[str, str], prefix: str = "") -> None:
    for key, value in layer.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value, label, sources, dotted + ".")
        else:
            target[key] = copy.deepcopy(value)
            for stale in [k for k in sources if k.startswith(dotted + ".")]:
                del sources[stale]
            if isinstance(value, dict):
                for leaf, _ in _flatten(value, dotted + "."):
                    sources[leaf] = label
            sources[dotted] = label


def read_toml(path: Path, *, what: str) -> dict[str, Any]:
    """Read a TOML file; raise :class:`ConfigError` with the position and a fix if it is broken."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read the {what} {path}: {exc.strerror or exc}") from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"the {what} {path} is not UTF-8 text: byte 0x{raw[exc.start]:02x} at offset {exc.start} "
            f"({exc.reason}). Save the file as UTF-8."
        ) from exc
    import tomllib

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"the {what} {path} is not valid TOML: {exc}. Fix that line, or move the file away "
            "to run with the other configuration layers only."
        ) from exc


def _validate(data: Mapping[str, Any], label: str) -> None:
    """Check the keys the kernel owns; plugin sections are checked by each plugin's model."""
    for section, keys in KERNEL_KEYS.items():
        table = data.get(section, {})
        if not isinstance(table, dict):
            raise ConfigError(
                f"{label}: '{section}' must be a table ([{section}]), not {_shown(table)}. Fix that line."
            )
        for key, value in table.items():
            expected = keys.get(key)
            if expected is None:
                if section != "kernel":
                    continue
                raise ConfigError(
                    f"{label}: unknown key 'kernel.{key}'. Known keys: {', '.join(sorted(keys))}."
                )
            if not expected.accepts(value):
                raise ConfigError(
                    f"{label}: '{section}.{key}' must be a {expected.words}, not {_shown(value)}. Fix that line."
                )
    plugins = data.get("plugins", {})
    if not isinstance(plugins, dict):
        raise ConfigError(f"{label}: 'plugins' must be a table of [plugins.<id>] sections, not {_shown(plugins)}")
    for plugin_id, table in plugins.items():
        if not isinstance(table, dict):
            raise ConfigError(
                f"{label}: 'plugins.{plugin_id}' must be a table ([plugins.{plugin_id}]), not {_shown(table)}"
            )
        for key in RESERVED_PLUGIN_KEYS & table.keys():
            if not isinstance(table[key], bool):
                raise ConfigError(
                    f"{label}: 'plugins.{plugin_id}.{key}' must be true or false, not {_shown(table[key])}"
                )


def _shown(value: Any, limit: int = 60) -> str:
    """A value as it would be written in TOML-ish form, cut short; ``repr`` escapes control characters."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _env_plugins(raw: str) -> list[str]:
    return [p.strip() for p in raw.split(",") if p.strip()]


def load_config(
    overrides: Mapping[str, Any] | None = None,
    *,
    cwd: Path | None = None,
    environ: Mapping[str, str] | None = None,
    isolated: bool = False,
) -> Config:
    """Build the merged configuration.

    Args:
        overrides: keyword-argument layer, as nested data (``{"kernel": {"strict": True}}``).
        cwd: where to start looking for the project file (default: the working directory).
        environ: the environment to read (default: ``os.environ``).
        isolated: ignore files and environment; use defaults and ``overrides`` only (tests).

    Raises:
        ConfigError: a file is unreadable or invalid TOML, or a kernel key has the wrong type.
    """
    env = os.environ if environ is None else environ
    data: dict[str, Any] = {}
    sources: dict[str, str] = {}
    layers: list[ConfigLayer] = []
    _merge(data, DEFAULTS, "default", sources)

    def add_file(label: str, path: Path | None, *, table: str | None = None) -> None:
        exists = bool(path and path.is_file())
        layer = ConfigLayer(label=label, path=path, exists=exists)
        layers.append(layer)
        if not exists or path is None:
            return
        content = read_toml(path, what=f"{label} config file")
        if table is not None:
            content = content.get("tool", {}).get(table, {})
        where = f"{label}: {path}" + (f" [tool.{table}]" if table else "")
        _validate(content, where)
        layer.data = content
        _merge(data, content, where, sources)

    if not isolated:
        add_file("user", user_config_path(env))
        project = find_project_file(cwd)
        if project is None:
            layers.append(ConfigLayer(label="project", path=None, exists=False))
        else:
            path, is_pyproject = project
            add_file("project", path, table=PYPROJECT_TABLE if is_pyproject else None)
        if env.get(ENV_CONFIG):
            path = Path(env[ENV_CONFIG]).expanduser()
            if not path.is_file():
                raise ConfigError(
                    f"{ENV_CONFIG} names {path}, which does not exist. Point it at a TOML file "
                    f"or unset it."
                )
            add_file("env", path)
        env_layer: dict[str, Any] = {}
        if ENV_PLUGINS in env:
            env_layer.setdefault("kernel", {})["plugins"] = _env_plugins(env[ENV_PLUGINS])
        if env.get(ENV_STRICT):
            env_layer.setdefault("kernel", {})["strict"] = env[ENV_STRICT].lower() not in ("0", "false", "no", "")
        if env_layer:
            _merge(data, env_layer, "environment", sources)
    if overrides:
        _validate(overrides, "keyword arguments")
        _merge(data, overrides, "keyword arguments", sources)
    return Config(data=data, sources=sources, layers=layers)


# --------------------------------------------------------------------------- writing


def check_not_secret(dotted: str, value: Any) -> None:
    """Refuse to write a credential into a file; say how to reference it instead."""
    leaf = dotted.rsplit(".", 1)[-1]
    if re.search(_SECRET_KEY, leaf) and not leaf.endswith("_env") and value not in (None, ""):
        raise ConfigError(
            f"refusing to write a secret to a config file ('{dotted}'). Put it in an environment "
            f"variable and set '{dotted}_env' to that variable's name instead."
        )


def set_value(path: Path, dotted: str, value: Any, *, table: str | None = None) -> None:
    """Set ``dotted`` to ``value`` in the TOML file at ``path``, atomically.

    The file is read, changed in memory and written to a temporary file in the same directory,
    which then replaces the original: a crash leaves the old file or the new one, never half.
    Comments in the file are not preserved (tomli-w writes plain TOML).
    """
    import tomli_w  # only the writing commands need it

    check_not_secret(dotted, value)
    try:
        exists = path.is_file()
    except OSError as exc:  # e.g. a name too long for the file system
        raise ConfigError(f"cannot use {str(path)[:200]!r} as a config file: {exc.strerror or exc}") from exc
    document = read_toml(path, what="config file") if exists else {}
    root = document
    if table is not None:
        root = document.setdefault("tool", {}).setdefault(table, {})
    parts = dotted.split(".")
    node = root
    for part in parts[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise ConfigError(f"{path}: cannot set '{dotted}': '{part}' holds a value, not a table")
        node = child
    if value is None:
        node.pop(parts[-1], None)
    else:
        node[parts[-1]] = value
    _validate(root, str(path))
    atomic_write_bytes(path, tomli_w.dumps(document).encode())


def atomic_write_bytes(path: Path, payload: bytes) -> None:
    """Write ``payload`` to ``path`` via a synced temporary file and a rename."""
    import tempfile  # pulls in random and shutil; only writers pay for it

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except (OSError, ValueError) as exc:  # ValueError: a NUL in the name
        raise ConfigError(f"cannot write {str(path)[:200]!r}: {getattr(exc, 'strerror', None) or exc}") from exc
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        if path.exists():
            os.chmod(tmp_name, path.stat().st_mode & 0o777)
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
