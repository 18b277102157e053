"""The sandbox plugin as a plugin: conformance, fail-closed behaviour, settings, tool, CLI, layers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any, ClassVar

import pytest
from sandbox_judges import BASE_SETTINGS, build_sandbox

import purpose_agent_sandbox
from purpose_agent.errors import SandboxUnavailable, UnknownComponentError
from purpose_agent.testing import make_kernel
from purpose_agent_conformance import SandboxConformance, ToolConformance
from purpose_agent_sandbox.settings import LAYER_NAMES
from purpose_agent_sandbox.tool import PythonExecTool

# --------------------------------------------------------------------------- conformance


class TestSandboxConformance(SandboxConformance):
    plugin = purpose_agent_sandbox
    sandbox_name = "sandbox"
    config: ClassVar[dict[str, Any]] = {"plugins": {"sandbox": BASE_SETTINGS}}


class TestToolConformance(ToolConformance):
    plugin = purpose_agent_sandbox
    tool_name = "python"
    valid_arguments: ClassVar[dict[str, Any]] = {"code": "print(6 * 7)"}
    config: ClassVar[dict[str, Any]] = {"plugins": {"sandbox": BASE_SETTINGS}}


# --------------------------------------------------------------------------- packaging


def test_one_plugin_id_names_the_same_object_in_every_role() -> None:
    groups = {"purpose_agent.sandbox", "purpose_agent.tool", "purpose_agent.command"}
    found = {group: ep.value for group in groups for ep in metadata.entry_points(group=group) if ep.name == "sandbox"}
    assert found == dict.fromkeys(groups, "purpose_agent_sandbox")


def test_importing_the_plugin_is_cheap() -> None:
    probe = (
        "import sys, purpose_agent_sandbox\n"
        "heavy = ['pyseccomp', 'ctypes', 'pydantic', 'purpose_agent_sandbox.sandbox', 'subprocess']\n"
        "print([m for m in heavy if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --------------------------------------------------------------------------- fail closed


def test_missing_bubblewrap_refuses_to_run_and_says_how_to_install_it(tmp_path: Path) -> None:
    sandbox = build_sandbox(**BASE_SETTINGS, bwrap=str(tmp_path / "no-bwrap-here"))
    with pytest.raises(SandboxUnavailable) as caught:
        sandbox.run("open('/tmp/ran', 'w')")
    message = str(caught.value)
    assert "'bwrap'" in message and "apt-get install bubblewrap" in message
    layers = {layer.name: layer for layer in sandbox.layers()}
    assert not layers["bwrap"].available and "apt-get install bubblewrap" in layers["bwrap"].detail


def test_a_bwrap_that_cannot_make_namespaces_is_refused() -> None:
    # What bwrap says in a container whose seccomp profile or sysctl forbids user namespaces.
    # The fake lives in a world-readable place because the probe runs it as the jail's uid.
    with tempfile.TemporaryDirectory(dir="/var/tmp") as directory:
        os.chmod(directory, 0o755)
        fake = Path(directory) / "bwrap"
        fake.write_text("#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n")
        fake.chmod(0o755)
        sandbox = build_sandbox(**BASE_SETTINGS, bwrap=str(fake))
        with pytest.raises(SandboxUnavailable, match="No permissions to create new namespace") as caught:
            sandbox.run("print('must not run')")
    assert "user namespaces" in str(caught.value)


def test_a_missing_interpreter_is_refused_with_the_setting_to_change() -> None:
    sandbox = build_sandbox(**BASE_SETTINGS, python="/nonexistent/python3")
    with pytest.raises(SandboxUnavailable, match=r"python"):
        sandbox.run("pass")


def test_strict_cannot_be_combined_with_a_disabled_layer() -> None:
    kernel = make_kernel(purpose_agent_sandbox, config={"plugins": {"sandbox": {"disable_layers": ["landlock"]}}})
    with pytest.raises(UnknownComponentError, match="both disabled and required"):
        kernel.sandbox("sandbox")
    record = kernel.records["sandbox"]
    assert record.status == "failed" and "both disabled and required" in record.reason


def test_standard_policy_runs_without_seccomp_and_landlock_and_reports_it() -> None:
    sandbox = build_sandbox(**{**BASE_SETTINGS, "policy": "standard", "disable_layers": ["seccomp", "landlock"]})
    result = sandbox.run("print('ran')")
    assert result.stdout == "ran\n"
    assert result.layers["seccomp"] is False and result.layers["landlock"] is False
    assert result.layers["bwrap"] and result.layers["uid"] and result.layers["rlimits"]


def test_required_layers_adds_to_the_policy() -> None:
    sandbox = build_sandbox(
        **{**BASE_SETTINGS, "policy": "standard", "required_layers": ["seccomp"], "disable_layers": ["landlock"]}
    )
    assert "seccomp" in sandbox.settings.required() and "landlock" not in sandbox.settings.required()


@pytest.mark.parametrize(
    ("section", "key"),
    [
        ({"policy": "lax"}, "policy"),
        ({"required_layers": ["magic"]}, "required_layers"),
        ({"memory_mb": 1}, "memory_mb"),
    ],
)
def test_invalid_settings_fail_the_plugin_with_the_key(section: dict[str, Any], key: str) -> None:
    kernel = make_kernel(purpose_agent_sandbox, config={"plugins": {"sandbox": section}})
    with pytest.raises(UnknownComponentError, match=key):
        kernel.sandbox("sandbox")
    assert f"'{key}'" in kernel.records["sandbox"].reason


# --------------------------------------------------------------------------- layers


def test_every_layer_is_reported_with_a_detail(strict_sandbox: Any) -> None:
    layers = list(strict_sandbox.layers())
    assert [layer.name for layer in layers] == list(LAYER_NAMES)
    assert all(layer.detail for layer in layers)


def test_each_run_reports_its_active_layers(strict_sandbox: Any) -> None:
    result = strict_sandbox.run("pass")
    assert set(result.layers) == set(LAYER_NAMES) and all(result.layers.values())


def test_rlimits_are_set_and_cannot_be_raised(strict_sandbox: Any) -> None:
    code = (
        "import resource\n"
        "for name in ('RLIMIT_AS', 'RLIMIT_NPROC', 'RLIMIT_NOFILE', 'RLIMIT_FSIZE', 'RLIMIT_CORE'):\n"
        "    soft, hard = resource.getrlimit(getattr(resource, name))\n"
        "    print(name, soft, hard)\n"
        "try:\n"
        "    resource.setrlimit(resource.RLIMIT_AS, (-1, -1))\n"
        "    print('raised')\n"
        "except (ValueError, OSError) as exc:\n"
        "    print('refused', exc)\n"
    )
    out = strict_sandbox.run(code).stdout
    assert f"RLIMIT_AS {256 << 20} {256 << 20}" in out
    assert "RLIMIT_NPROC 16 16" in out and "RLIMIT_CORE 0 0" in out
    assert "refused" in out and "raised" not in out


def test_seccomp_refuses_the_denied_interfaces(strict_sandbox: Any) -> None:
    code = (
        "import ctypes, errno, socket\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        "def errno_of(rc):\n"
        "    return errno.errorcode.get(ctypes.get_errno(), rc) if rc == -1 else 'ALLOWED'\n"
        "print('ptrace', errno_of(libc.ptrace(0, 0, 0, 0)))\n"
        "print('unshare', errno_of(libc.unshare(0x20000)))\n"
        "print('mount', errno_of(libc.mount(b'none', b'/work', b'tmpfs', 0, None)))\n"
        "print('bpf', errno_of(libc.syscall(321, 0, 0, 0)))\n"
        "print('io_uring_setup', errno_of(libc.syscall(425, 1, 0)))\n"
        "print('keyctl', errno_of(libc.syscall(250, 0, 0, 0)))\n"
        "try:\n"
        "    socket.socket(socket.AF_INET)\n"
        "    print('inet ALLOWED')\n"
        "except OSError as exc:\n"
        "    print('inet', errno.errorcode[exc.errno])\n"
        "print('unix', socket.socket(socket.AF_UNIX).family.name)\n"
    )
    out = strict_sandbox.run(code).stdout
    for name in ("ptrace", "unshare", "mount", "bpf", "io_uring_setup", "keyctl"):
        assert f"{name} EPERM" in out, out
    assert "inet EAFNOSUPPORT" in out and "unix AF_UNIX" in out


def test_landlock_limits_writes_to_the_work_directory(strict_sandbox: Any) -> None:
    code = (
        "import os\n"
        "open('/work/ok.txt', 'w').write('fine')\n"
        "for path in ('/dev/shm/x', '/proc/self/attr/x'):\n"
        "    try:\n"
        "        open(path, 'w')\n"
        "        print(path, 'WRITTEN')\n"
        "    except OSError as exc:\n"
        "        print(path, 'refused', exc.errno)\n"
        "print(open('/work/ok.txt').read())\n"
    )
    result = strict_sandbox.run(code)
    assert "WRITTEN" not in result.stdout and "fine" in result.stdout


def test_timeout_is_capped_by_max_timeout_s() -> None:
    sandbox = build_sandbox(**{**BASE_SETTINGS, "max_timeout_s": 1, "timeout_s": 1})
    result = sandbox.run("import time\ntime.sleep(30)", timeout=600)
    assert result.timed_out and result.duration_s < 4 and "1 s" in result.reason


# --------------------------------------------------------------------------- tool


@pytest.fixture
def tool() -> PythonExecTool:
    kernel = make_kernel(purpose_agent_sandbox, config={"plugins": {"sandbox": BASE_SETTINGS}})
    return kernel.create("tool", "python")


def test_tool_returns_output_and_exit_status(tool: PythonExecTool) -> None:
    observation = tool.run({"code": "import sys\nprint('to stdout')\nprint('to stderr', file=sys.stderr)"})
    assert observation.ok and "to stdout" in observation.output and "[stderr]\nto stderr" in observation.output
    assert observation.data["exit_code"] == 0 and observation.data["layers"]["seccomp"] is True


def test_tool_reports_failures_as_observations(tool: PythonExecTool) -> None:
    failed = tool.run({"code": "raise SystemExit(3)"})
    assert not failed.ok and failed.error == "exit status 3"
    timed_out = tool.run({"code": "while True: pass", "timeout": 0.5})
    assert not timed_out.ok and timed_out.data["timed_out"] and "wall-clock" in (timed_out.error or "")
    for bad in ({"code": 3}, {"code": "1", "timeout": -1}, {"code": "1", "timeout": True}, {"code": "1", "extra": 1}):
        observation = tool.run(bad)
        assert not observation.ok and observation.error


def test_tool_turns_an_unavailable_sandbox_into_an_observation(tmp_path: Path) -> None:
    kernel = make_kernel(
        purpose_agent_sandbox, config={"plugins": {"sandbox": {**BASE_SETTINGS, "bwrap": str(tmp_path / "none")}}}
    )
    observation = kernel.create("tool", "python").run({"code": "print(1)"})
    assert not observation.ok and "code was not run" in (observation.error or "") and "bubblewrap" in observation.error


# --------------------------------------------------------------------------- CLI


def _cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    config = tmp_path / "purpose-agent.toml"
    settings = "\n".join(f"{key} = {json.dumps(value)}" for key, value in BASE_SETTINGS.items())
    config.write_text(f"[plugins.sandbox]\n{settings}\n")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "xdg")}
    return subprocess.run(
        [sys.executable, "-m", "purpose_agent", "sandbox", *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=60,
    )


def test_cli_runs_a_file_and_reports_status_output_and_layers(tmp_path: Path) -> None:
    script = tmp_path / "hello.py"
    script.write_text("import sys\nprint('hello from the jail')\nsys.exit(4)\n")
    human = _cli(tmp_path, "run", str(script))
    assert human.returncode == 4, human.stderr
    assert "exit status 4" in human.stdout and "hello from the jail" in human.stdout
    assert "layers active: process, env_scrub, bwrap" in human.stdout
    machine = _cli(tmp_path, "run", str(script), "--json")
    data = json.loads(machine.stdout)
    assert data["exit_code"] == 4 and data["stdout"] == "hello from the jail\n" and data["layers"]["landlock"]


def test_cli_timeout_exits_124(tmp_path: Path) -> None:
    script = tmp_path / "loop.py"
    script.write_text("while True:\n    pass\n")
    result = _cli(tmp_path, "run", str(script), "--timeout", "0.5")
    assert result.returncode == 124 and "wall-clock" in result.stdout


def test_cli_layers_lists_every_layer(tmp_path: Path) -> None:
    result = _cli(tmp_path, "layers", "--json")
    data = json.loads(result.stdout)
    assert result.returncode == 0 and [layer["name"] for layer in data["layers"]] == list(LAYER_NAMES)
