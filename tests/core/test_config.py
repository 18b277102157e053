"""Layered TOML configuration: precedence, provenance, errors, and safe writing."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import pytest

from purpose_agent.config import check_not_secret, load_config, set_value, user_config_path
from purpose_agent.errors import ConfigError


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_user_file_honours_xdg_config_home(tmp_path: Path) -> None:
    env = {"XDG_CONFIG_HOME": str(tmp_path / "xdg"), "HOME": str(tmp_path / "home")}
    assert user_config_path(env) == tmp_path / "xdg" / "purpose-agent" / "config.toml"
    assert user_config_path({"HOME": str(tmp_path / "home")}) == tmp_path / "home" / ".config" / "purpose-agent" / "config.toml"


def test_layers_apply_in_order_and_each_value_knows_its_source(isolated_config: Path, tmp_path: Path) -> None:
    user = write(isolated_config / ".config" / "purpose-agent" / "config.toml",
                 '[plugins.a]\nx = "user"\ny = "user"\nz = "user"\nw = "user"\n')
    project = write(Path.cwd() / "purpose-agent.toml", '[plugins.a]\ny = "project"\nz = "project"\nw = "project"\n')
    env_file = write(tmp_path / "env.toml", '[plugins.a]\nz = "env"\nw = "env"\n')
    config = load_config({"plugins": {"a": {"w": "kwargs"}}}, environ={**os.environ, "PURPOSE_AGENT_CONFIG": str(env_file)})
    assert config.get("plugins.a") == {"x": "user", "y": "project", "z": "env", "w": "kwargs"}
    assert config.source_of("plugins.a.x") == f"user: {user}"
    assert config.source_of("plugins.a.y") == f"project: {project}"
    assert config.source_of("plugins.a.z") == f"env: {env_file}"
    assert config.source_of("plugins.a.w") == "keyword arguments"


def test_project_file_is_found_in_a_parent_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(Path.cwd() / "purpose-agent.toml", "[plugins.a]\nenabled = false\n")
    nested = Path.cwd() / "src" / "deep"
    nested.mkdir(parents=True)
    monkeypatch.chdir(nested)
    assert load_config().activation("a")[0] is False


def test_pyproject_tool_table_is_a_project_layer() -> None:
    write(Path.cwd() / "pyproject.toml", '[project]\nname = "x"\n\n[tool.purpose-agent.plugins.a]\nenabled = false\n')
    config = load_config()
    enabled, why = config.activation("a")
    assert not enabled and "[tool.purpose-agent]" in why


def test_purpose_agent_plugins_restricts_everything_including_builtins() -> None:
    config = load_config(environ={"PURPOSE_AGENT_PLUGINS": "a, b"})
    assert config.load_only == ["a", "b"]
    assert config.activation("memory") == (False, "not in the allowed plugin list (environment)")
    assert config.activation("a") == (True, "")
    assert load_config(environ={"PURPOSE_AGENT_PLUGINS": ""}).load_only == []


def test_keyword_arguments_beat_the_environment() -> None:
    config = load_config({"kernel": {"plugins": ["x"]}}, environ={"PURPOSE_AGENT_PLUGINS": "a"})
    assert config.load_only == ["x"]


def test_malformed_toml_names_the_file_and_says_what_to_do(isolated_config: Path) -> None:
    path = write(isolated_config / ".config" / "purpose-agent" / "config.toml", "[plugins.a\nx = 1\n")
    with pytest.raises(ConfigError) as err:
        load_config()
    message = str(err.value)
    assert str(path) in message and "not valid TOML" in message and "line 1" in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[kernel]\nstrict = \"yes\"\n", "'kernel.strict' must be a boolean"),
        ("[kernel]\nverbose = true\n", "unknown key 'kernel.verbose'"),
        ("[plugins]\na = 3\n", "'plugins.a' must be a table"),
        ("[plugins.a]\nenabled = \"no\"\n", "'plugins.a.enabled' must be true or false"),
        ("[kernel]\nplugins = [1, 2]\n", "'kernel.plugins' must be a list of plugin ids"),
    ],
)
def test_wrong_kernel_keys_are_reported_with_file_and_key(text: str, expected: str) -> None:
    path = write(Path.cwd() / "purpose-agent.toml", text)
    with pytest.raises(ConfigError) as err:
        load_config()
    assert expected in str(err.value) and str(path) in str(err.value)


def test_missing_env_config_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="PURPOSE_AGENT_CONFIG names .* which does not exist"):
        load_config(environ={"PURPOSE_AGENT_CONFIG": str(tmp_path / "nope.toml")})


def test_set_value_writes_valid_toml_and_keeps_other_keys(tmp_path: Path) -> None:
    path = write(tmp_path / "c.toml", '[plugins.a]\nx = 1\n\n[kernel]\nstrict = true\n')
    set_value(path, "plugins.a.enabled", False)
    set_value(path, "plugins.b.timeout", 3.5)
    data = tomllib.loads(path.read_text())
    assert data == {"plugins": {"a": {"x": 1, "enabled": False}, "b": {"timeout": 3.5}}, "kernel": {"strict": True}}


def test_set_value_refuses_secrets_and_points_at_env_variables(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    for key in ("plugins.groq.api_key", "plugins.x.token", "plugins.y.password", "plugins.z.apikey"):
        with pytest.raises(ConfigError, match=r"environment variable .*_env"):
            set_value(path, key, "sk-live-123")
    assert not path.exists()
    set_value(path, "plugins.groq.api_key_env", "GROQ_API_KEY")
    assert tomllib.loads(path.read_text())["plugins"]["groq"]["api_key_env"] == "GROQ_API_KEY"
    check_not_secret("plugins.groq.max_tokens", 5)  # 'tokens' is not a secret


def test_a_failed_write_leaves_the_old_file_intact(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path / "c.toml", "[plugins.a]\nx = 1\n")
    before = path.read_bytes()

    def boom(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        set_value(path, "plugins.a.x", 2)
    assert path.read_bytes() == before
    assert not list(tmp_path.glob(".c.toml.*")), "temporary file left behind"


def test_set_value_refuses_to_write_an_invalid_kernel_value(tmp_path: Path) -> None:
    path = write(tmp_path / "c.toml", "")
    with pytest.raises(ConfigError):
        set_value(path, "kernel.strict", "maybe")
    assert path.read_text() == ""
