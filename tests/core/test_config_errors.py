"""Configuration mistakes are sentences that name the file and the key the bad value came from."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import purpose_agent_sandbox
from purpose_agent.cli import main
from purpose_agent.config import KERNEL_KEYS, load_config
from purpose_agent.discovery import Candidate
from purpose_agent.errors import ConfigError
from purpose_agent.kernel import Kernel


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


def user_file(home: Path) -> Path:
    return home / ".config" / "purpose-agent" / "config.toml"


def kernel_with_sandbox_plugin() -> Kernel:
    """The real sandbox plugin (a real settings model) over the layered configuration on disk."""
    candidate = Candidate(id="sandbox", distribution="(in-memory)", version="", roles=set(), target="",
                          source="in-memory", load=lambda: purpose_agent_sandbox, origins=["(in-memory)"])
    kernel = Kernel(load_config(), [candidate])
    kernel.ensure_plugin("sandbox")
    return kernel


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    try:
        code = main(list(args))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


# --------------------------------------------------------------------------- item 5: provenance


def test_a_bad_value_in_a_section_started_in_another_file_is_blamed_on_its_own_file(isolated_config: Path) -> None:
    user = write(user_file(isolated_config), "[plugins.sandbox]\nmemory_mb = 256\n")
    project = write(Path.cwd() / "purpose-agent.toml", '[plugins.sandbox]\ntimeout_s = "soon"\n')
    record = kernel_with_sandbox_plugin().records["sandbox"]
    assert record.status == "failed"
    assert f"'timeout_s' = 'soon' (project: {project})" in record.reason, record.reason
    assert str(user) not in record.reason, f"blamed on the user file: {record.reason}"
    # the same answer as `config show` gives for that key
    assert load_config().source_of("plugins.sandbox.timeout_s") == f"project: {project}"


def test_a_bad_value_in_the_first_file_is_blamed_on_it_when_a_later_file_adds_keys(isolated_config: Path) -> None:
    user = write(user_file(isolated_config), "[plugins.sandbox]\nmemory_mb = -5\n")
    project = write(Path.cwd() / "purpose-agent.toml", "[plugins.sandbox]\ntimeout_s = 5\n")
    record = kernel_with_sandbox_plugin().records["sandbox"]
    assert f"'memory_mb' = -5 (user: {user})" in record.reason, record.reason
    assert str(project) not in record.reason


def test_a_table_spread_over_two_files_names_both_as_its_source(isolated_config: Path) -> None:
    user = write(user_file(isolated_config), "[plugins.sandbox]\nmemory_mb = 256\n")
    project = write(Path.cwd() / "purpose-agent.toml", "[plugins.sandbox]\ntimeout_s = 5\n")
    assert load_config().source_of("plugins.sandbox") == f"project: {project}, user: {user}"


# --------------------------------------------------------------------------- item 8: kernel keys


@pytest.mark.parametrize(("section", "key"), [(s, k) for s, keys in KERNEL_KEYS.items() for k in keys])
@pytest.mark.parametrize("value", ["5", "-1", "true", "[1, 2]", '""', '"\\u0000"', "{ a = 1 }", "inf"])
def test_every_kernel_key_refuses_a_wrong_type_naming_the_file_and_key(section: str, key: str, value: str) -> None:
    project = write(Path.cwd() / "purpose-agent.toml", f"[{section}]\n{key} = {value}\n")
    kind = KERNEL_KEYS[section][key]
    import tomllib

    parsed = tomllib.loads(f"v = {value}")["v"]
    if kind.accepts(parsed):
        load_config()  # a value of the right type is taken
        return
    with pytest.raises(ConfigError) as caught:
        load_config()
    message = str(caught.value)
    assert f"'{section}.{key}' must be a {kind.words}" in message and str(project) in message


def test_memory_path_of_the_wrong_type_is_a_sentence_not_a_type_error(capsys: pytest.CaptureFixture[str]) -> None:
    project = write(Path.cwd() / "purpose-agent.toml", "[memory]\npath = 5\n")
    code, _, err = cli(capsys, "memory", "list")
    assert code == 1 and "Traceback" not in err
    assert err.strip() == (
        f"purpose-agent: error: project: {project}: 'memory.path' must be a non-empty path string without "
        "control characters, not 5. Fix that line."
    )


def test_a_config_file_that_is_not_utf8_names_the_file_and_the_byte_offset(
    isolated_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    user = write(user_file(isolated_config), b'[kernel]\nstrict = false\n# caf\xe9\n')
    code, _, err = cli(capsys, "config", "show")
    assert code == 1 and "Traceback" not in err
    assert f"the user config file {user} is not UTF-8 text: byte 0xe9 at offset 29" in err


# --------------------------------------------------------------------------- item 8: plugin settings


def test_an_invalid_sandbox_setting_names_the_setting_instead_of_invalid_choice(
    capsys: pytest.CaptureFixture[str],
) -> None:
    pytest.importorskip("purpose_agent_sandbox")
    project = write(Path.cwd() / "purpose-agent.toml", '[plugins.sandbox]\npolicy = "lax"\n')
    script = write(Path.cwd() / "hello.py", "print('hello')\n")
    code, _, err = cli(capsys, "sandbox", "run", str(script))
    assert code == 1 and "invalid choice" not in err and "Traceback" not in err
    assert "the command 'sandbox' is not available: plugin 'sandbox' is failed" in err
    assert f"'policy' = 'lax' (project: {project})" in err


@pytest.mark.parametrize("setting", ["memory_mb = 1e999", "run_as_uid = 99999999999", 'python = "/usr/bin/py\\u0000"',
                                     "timeout_s = nan", "max_timeout_s = inf", 'bwrap = "bwrap"'])
def test_sandbox_settings_out_of_range_are_refused_with_the_key(setting: str) -> None:
    write(Path.cwd() / "purpose-agent.toml", f"[plugins.sandbox]\n{setting}\n")
    record = kernel_with_sandbox_plugin().records["sandbox"]
    key = setting.split(" ")[0]
    assert record.status == "failed" and f"'{key}'" in record.reason, record.reason


def test_sandbox_run_refuses_a_timeout_that_is_not_a_finite_positive_number(
    capsys: pytest.CaptureFixture[str],
) -> None:
    pytest.importorskip("purpose_agent_sandbox")
    script = write(Path.cwd() / "hello.py", "print('hello')\n")
    for bad in ("nan", "inf", "-1", "0", "soon", ""):
        code, _, err = cli(capsys, "sandbox", "run", str(script), "--timeout", bad)
        assert code == 2 and "Traceback" not in err, (bad, err)
        assert "argument --timeout" in err.splitlines()[-1], err


def test_the_sandbox_refuses_a_nan_timeout_from_code() -> None:
    from purpose_agent_sandbox.sandbox import BwrapSandbox

    sandbox: Any = BwrapSandbox()
    if not all(p.available for name, p in sandbox._probes().items() if name in sandbox.settings.required()):
        pytest.skip("the sandbox cannot run here")
    with pytest.raises(ValueError, match="finite number of seconds"):
        sandbox.run("print(1)", timeout=float("nan"))
