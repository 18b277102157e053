"""The whole jail is bounded, not just each process: judged from the host.

RLIMIT_AS (memory_mb) bounds one process and RLIMIT_NPROC (max_processes) the count, so without a
whole-jail bound one run could hold max_processes x memory_mb (16 GiB with the defaults). These
tests start 31 processes that each try to hold 400 MiB and measure, from the host's /proc, how
much the jail's processes hold together (PSS, so pages shared after fork count once). A guard
kills the jail as soon as it holds more than the bound, so a regression fails fast instead of
taking the host's memory.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import threading
from pathlib import Path
from typing import Any

import pytest
from sandbox_judges import BASE_SETTINGS, TEST_UID, jail_pids, needs_root

from purpose_agent.errors import SandboxUnavailable
from purpose_agent_sandbox import jail_bound
from purpose_agent_sandbox.settings import SandboxSettings

MIB = 1 << 20
HOLDERS = 31
#: Each holder allocates and touches this much, then reports "held" and keeps it for a while.
HOLD_MIB = 400
#: Processes that share pages after fork, page tables and the interpreter's own growth.
SLACK_MIB = 96

# Every holder starts at once (the attack); each one that manages to hold HOLD_MIB writes its pid
# to a pipe. After a while the parent counts the holders still alive and prints "alive N of M".
HOLD_CODE = f"""
import os, time
ready_r, ready_w = os.pipe()
started = 0
for _ in range({HOLDERS}):
    try:
        pid = os.fork()
    except OSError as exc:
        print("fork refused:", exc.strerror, flush=True)
        break
    if pid == 0:
        try:
            block = bytearray({HOLD_MIB} << 20)
            for offset in range(0, len(block), 4096):
                block[offset] = 1
        except MemoryError:
            os._exit(3)
        os.write(ready_w, b"%d\\n" % os.getpid())
        time.sleep(60)
        os._exit(0)
    started += 1
time.sleep({{wait}})
os.set_blocking(ready_r, False)
try:
    holders = [int(line) for line in os.read(ready_r, 65536).split()]
except BlockingIOError:
    holders = []
alive = sum(1 for pid in holders if os.waitpid(pid, os.WNOHANG) == (0, 0))
print("alive", alive, "of", started, "holders", len(holders), flush=True)
"""

#: Whole-jail settings for these tests: the defaults that made 16 GiB possible, per process.
SETTINGS: dict[str, Any] = {
    **BASE_SETTINGS,
    "policy": "standard",
    "memory_mb": 512,
    "max_processes": 32,
    "jail_memory_mb": 1024,
    "timeout_s": 20,
    "max_timeout_s": 30,
}


def _pss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/smaps_rollup", encoding="ascii", errors="replace") as handle:
        for line in handle:
            if line.startswith("Pss:"):
                return int(line.split()[1])
    return 0


class HostGuard:
    """Samples the jail's total PSS from the host; kills the jail if it passes ``limit_kb``."""

    def __init__(self, limit_kb: int) -> None:
        self.limit_kb = limit_kb
        self.peak_kb = 0
        self.peak_processes = 0
        self.tripped = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> HostGuard:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        while not self._stop.is_set():
            pids = jail_pids()
            total = 0
            for pid in pids:
                with contextlib.suppress(OSError, ValueError):
                    total += _pss_kb(pid)
            self.peak_kb = max(self.peak_kb, total)
            self.peak_processes = max(self.peak_processes, len(pids))
            if total > self.limit_kb and not self.tripped:
                self.tripped = True  # protect the host: the bound did not hold
                for pid in pids:
                    with contextlib.suppress(OSError):
                        os.kill(pid, signal.SIGKILL)
            self._stop.wait(0.01)


def _sandbox(**overrides: Any) -> Any:
    from sandbox_judges import build_sandbox

    sandbox = build_sandbox(**{**SETTINGS, **overrides})
    try:
        sandbox.run("pass", timeout=10)
    except SandboxUnavailable as exc:
        pytest.skip(f"the sandbox refuses to run on this machine: {exc}")
    return sandbox


def _leftover_cgroups() -> list[str]:
    found = []
    for root in ("/sys/fs/cgroup", "/sys/fs/cgroup/memory", "/sys/fs/cgroup/pids", "/sys/fs/cgroup/unified"):
        if os.path.isdir(root):
            for directory, subdirs, _ in os.walk(root):
                found += [os.path.join(directory, d) for d in subdirs if d.startswith(f"purpose-agent-sandbox-{os.getpid()}-")]
    return found


@needs_root
@pytest.mark.slow
def test_31_processes_holding_400_mib_each_stay_within_the_jail_cgroup() -> None:
    sandbox = _sandbox()
    if not sandbox.jail_bound_detail().startswith("cgroup"):
        pytest.skip(f"no cgroup can be created here: {sandbox.jail_bound_detail()}")
    bound_kb = SETTINGS["jail_memory_mb"] * 1024
    with HostGuard(bound_kb + SLACK_MIB * 1024) as guard:
        result = sandbox.run(HOLD_CODE.format(wait=6), timeout=20)
    assert guard.peak_processes >= 3, "the host never saw the jail's processes"
    assert not guard.tripped, f"the jail held {guard.peak_kb // 1024} MiB, above its bound of {bound_kb // 1024} MiB"
    assert guard.peak_kb <= bound_kb + SLACK_MIB * 1024
    assert "alive" in result.stdout, result.stdout + result.stderr + result.reason
    alive = int(result.stdout.split("alive ")[1].split()[0])
    assert alive * HOLD_MIB <= SETTINGS["jail_memory_mb"], result.stdout
    assert result.layers["jail_bound"] is True
    assert _leftover_cgroups() == [], "the run's cgroup was not removed"


@needs_root
@pytest.mark.slow
def test_without_a_cgroup_fewer_processes_keep_the_product_within_the_host_share() -> None:
    host = jail_bound.host_memory_bytes()
    # a share that leaves room for two 256 MiB processes and the tmpfs: a small, stated bound
    share = (2 * 256 + BASE_SETTINGS["tmpfs_mb"] + 8) * MIB / host
    sandbox = _sandbox(jail_bound="rlimits", memory_mb=256, host_memory_share=share)
    detail = sandbox.jail_bound_detail()
    assert "fallback" in detail and "x 2 process(es)" in detail, detail
    assert next(layer for layer in sandbox.layers() if layer.name == "jail_bound").available
    limit_kb = (2 * 256 + BASE_SETTINGS["tmpfs_mb"]) * 1024
    code = HOLD_CODE.replace(f"{HOLD_MIB} << 20", "200 << 20").format(wait=2)
    with HostGuard(limit_kb + SLACK_MIB * 1024) as guard:
        result = sandbox.run(code, timeout=20)
    assert "fork refused" in result.stdout, result.stdout + result.stderr
    assert not guard.tripped and guard.peak_kb <= limit_kb + SLACK_MIB * 1024, f"{guard.peak_kb // 1024} MiB"


@needs_root
def test_a_run_that_reaches_the_jail_bound_says_so() -> None:
    # one process may map 512 MiB (RLIMIT_AS) but the whole jail only 128 MiB
    sandbox = _sandbox(jail_memory_mb=128, tmpfs_mb=16)
    if not sandbox.jail_bound_detail().startswith("cgroup"):
        pytest.skip(f"no cgroup can be created here: {sandbox.jail_bound_detail()}")
    result = sandbox.run("block = bytearray(300 << 20)\nprint('held')", timeout=10)
    assert "held" not in result.stdout and result.exit_code != 0
    assert "memory bound of 128 MiB" in result.reason and "killed 1" in result.reason, result.reason
    assert _leftover_cgroups() == [], "the run's cgroup was not removed"


def test_a_required_cgroup_that_cannot_be_created_refuses_to_run(tmp_path: Path) -> None:
    from sandbox_judges import build_sandbox

    sandbox = build_sandbox(**{**SETTINGS, "jail_bound": "cgroup", "cgroup_parent": str(tmp_path)})
    layer = next(layer for layer in sandbox.layers() if layer.name == "jail_bound")
    assert not layer.available and "not a cgroup v2 directory" in layer.detail
    with pytest.raises(SandboxUnavailable, match="jail_bound"):
        sandbox.run("print('never')", timeout=5)


def test_a_cgroup_v2_child_gets_memory_max_pids_max_and_no_swap(tmp_path: Path) -> None:
    # cgroupfs stand-in: the files a delegated v2 parent has (memory and pids enabled for children)
    (tmp_path / "cgroup.controllers").write_text("cpu memory pids\n")
    (tmp_path / "cgroup.subtree_control").write_text("memory pids\n")
    settings = SandboxSettings(cgroup_parent=str(tmp_path), jail_memory_mb=768, max_processes=10)
    original_mkdir = Path.mkdir

    def mkdir_with_control_files(self: Path, *args: Any, **kwargs: Any) -> None:
        original_mkdir(self, *args, **kwargs)
        if self.parent == tmp_path:  # the kernel creates these in a new cgroup
            for name in ("memory.max", "memory.swap.max", "pids.max", "cgroup.procs"):
                (self / name).write_text("max\n")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Path, "mkdir", mkdir_with_control_files)
        cgroup = jail_bound.create_cgroup(settings)
    try:
        (directory,) = cgroup.directories
        assert cgroup.version == 2 and directory.parent == tmp_path
        assert (directory / "memory.max").read_text() == str(768 * MIB)
        assert (directory / "memory.swap.max").read_text() == "0"
        assert (directory / "pids.max").read_text() == str(10 + jail_bound.BWRAP_TASKS)
    finally:
        shutil.rmtree(cgroup.directories[0])


def test_a_parent_without_the_memory_controller_is_named() -> None:
    settings = SandboxSettings(jail_bound="cgroup", cgroup_parent="/proc")
    with pytest.raises(jail_bound.CgroupUnavailable, match="not a cgroup v2 directory"):
        jail_bound.prepare(settings)


@pytest.mark.parametrize(
    ("section", "key"),
    [
        ({"jail_memory_mb": 16}, "jail_memory_mb"),
        ({"jail_bound": "magic"}, "jail_bound"),
        ({"host_memory_share": 0}, "host_memory_share"),
        ({"host_memory_share": float("nan")}, "host_memory_share"),
        ({"cgroup_parent": "relative/path"}, "cgroup_parent"),
        ({"tmpfs_mb": 1000, "jail_memory_mb": 1000}, "tmpfs_mb"),
    ],
)
def test_invalid_jail_bound_settings_are_refused(section: dict[str, Any], key: str) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match=key):
        SandboxSettings.model_validate(section)


@needs_root
def test_the_trampoline_still_drops_every_jail_process_to_the_jail_uid() -> None:
    sandbox = _sandbox()
    with HostGuard(1 << 40) as guard:  # counts host processes owned by the jail's uid
        result = sandbox.run("import time\ntime.sleep(1)\nprint('done')", timeout=10)
    assert result.exit_code == 0 and result.stdout.strip() == "done"
    # bwrap's monitor, the jail's init and the code: all seen from the host as the jail uid
    assert guard.peak_processes >= 3, f"only {guard.peak_processes} process(es) ran as uid {TEST_UID}"
