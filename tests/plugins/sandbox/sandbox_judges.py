"""Host-side judges for the sandbox escape tests: canaries, listeners, a /proc watcher.

Every escape attempt is judged from the host — canary secrets that must not appear in the
output, listeners that must not receive a connection, sentinel processes that must stay alive,
deadlines, and a watcher thread that reads the jail's processes from the host's ``/proc`` —
never from what the probe prints about itself.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import purpose_agent_sandbox
from purpose_agent.testing import make_kernel

IS_ROOT = os.geteuid() == 0
#: A uid no other process on this host uses, so the watcher can attribute processes to the jail
#: (and so RLIMIT_NPROC, which counts per uid, counts only the jail). Only used as root.
TEST_UID = 60000 + os.getpid() % 5000

BASE_SETTINGS: dict[str, Any] = {
    "policy": "strict",
    "run_as_uid": TEST_UID,
    "run_as_gid": TEST_UID,
    "memory_mb": 256,
    "max_processes": 16,
    "max_open_files": 64,
    "tmpfs_mb": 16,
    "max_file_mb": 8,
    "max_output_bytes": 100_000,
    "timeout_s": 5,
}
#: Only the bubblewrap namespaces, uid, rlimits and the host-side layers: shows what holds
#: without seccomp and Landlock (the 'standard' policy on a machine that lacks them).
NAMESPACES_ONLY: dict[str, Any] = {**BASE_SETTINGS, "policy": "standard", "disable_layers": ["seccomp", "landlock"]}


def build_sandbox(**settings: Any) -> Any:
    """A sandbox built through the real hooks, with ``settings`` as its TOML section."""
    kernel = make_kernel(purpose_agent_sandbox, config={"plugins": {"sandbox": settings}}, strict=True)
    return kernel.sandbox("sandbox")


@dataclass
class Canaries:
    """Secrets on the host the code must never see."""

    env_name: str
    env_value: str
    directory: Path  # world-readable: only the sandbox stands between the code and it
    public_file: Path
    public_value: str
    root_only_file: Path
    root_only_value: str

    def all(self) -> list[str]:
        return [self.env_value, self.public_value, self.root_only_value]

    def assert_not_in(self, result: Any) -> None:
        text = result.stdout + result.stderr
        leaked = [value for value in self.all() if value in text]
        assert not leaked, f"host secret(s) reached the sandboxed code: {leaked}\n{text[-2000:]}"


# --------------------------------------------------------------------------- listeners


@dataclass
class Listeners:
    """Real host sockets the code tries to reach; ``contacts()`` is judged from the host."""

    tcp4: socket.socket
    tcp6: socket.socket | None
    udp4: socket.socket
    unix_path: Path
    unix: socket.socket
    abstract_name: str
    abstract: socket.socket

    @property
    def tcp4_port(self) -> int:
        return self.tcp4.getsockname()[1]

    @property
    def tcp6_port(self) -> int:
        return self.tcp6.getsockname()[1] if self.tcp6 else 0

    @property
    def udp4_port(self) -> int:
        return self.udp4.getsockname()[1]

    def contacts(self) -> list[str]:
        """Every connection or datagram that arrived, by listener name."""
        seen: list[str] = []
        for name, sock in (("tcp4", self.tcp4), ("tcp6", self.tcp6), ("unix", self.unix), ("abstract", self.abstract)):
            if sock is None:
                continue
            try:
                conn, _ = sock.accept()
                conn.close()
                seen.append(name)
            except (BlockingIOError, TimeoutError):
                pass
        try:
            self.udp4.recvfrom(1024)
            seen.append("udp4")
        except (BlockingIOError, TimeoutError):
            pass
        return seen


# --------------------------------------------------------------------------- processes


def process_state(pid: int) -> str:
    """The host's view of a process's state letter ('S', 'R', 't' traced, 'Z' zombie…), or ''."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return ""


def live_processes_with(marker: str) -> list[int]:
    """Host pids (not zombies) whose command line contains ``marker``."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                if marker.encode() not in handle.read():
                    continue
        except OSError:
            continue
        if process_state(int(entry)) not in ("", "Z", "X"):
            found.append(int(entry))
    return found


def _status_fields(pid: str) -> dict[str, str]:
    fields = {}
    with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as handle:
        for line in handle:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    return fields


def jail_pids() -> list[int]:
    """Host pids of live processes running as the jail's uid (root hosts only)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = _status_fields(entry)
        except OSError:
            continue
        if fields.get("Uid", "").split()[:1] == [str(TEST_UID)] and fields.get("State", "")[:1] not in ("Z", "X"):
            pids.append(int(entry))
    return pids


@dataclass
class Watch:
    """Peaks the host saw while the jail ran."""

    processes: int = 0
    rss_total_kb: int = 0
    rss_single_kb: int = 0
    fds_single: int = 0
    work_used_bytes: int = 0
    dev_used_bytes: int = 0
    samples: int = 0
    user_namespaces: set[str] = field(default_factory=set)


class Watcher:
    """Samples the jail's processes from the host's /proc every few milliseconds."""

    def __init__(self, interval: float = 0.02) -> None:
        self.interval = interval
        self.peak = Watch()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._host_mnt_ns = os.readlink("/proc/self/ns/mnt")

    def __enter__(self) -> Watch:
        self._thread.start()
        return self.peak

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self.interval)

    def _sample(self) -> None:
        peak = self.peak
        total = 0
        count = 0
        for pid in jail_pids():
            try:
                fields = _status_fields(str(pid))
                rss = int(fields.get("VmRSS", "0 kB").split()[0])
                fds = len(os.listdir(f"/proc/{pid}/fd"))
            except (OSError, ValueError):
                continue
            count += 1
            total += rss
            peak.rss_single_kb = max(peak.rss_single_kb, rss)
            peak.fds_single = max(peak.fds_single, fds)
            with contextlib.suppress(OSError):
                if os.readlink(f"/proc/{pid}/ns/mnt") == self._host_mnt_ns:
                    continue  # bwrap's monitor: its /work and /dev are the host's, not the jail's
                peak.user_namespaces.add(os.readlink(f"/proc/{pid}/ns/user"))
                for mount, attr in (("work", "work_used_bytes"), ("dev", "dev_used_bytes")):
                    st = os.statvfs(f"/proc/{pid}/root/{mount}")
                    used = (st.f_blocks - st.f_bfree) * st.f_frsize
                    setattr(peak, attr, max(getattr(peak, attr), used))
        peak.processes = max(peak.processes, count)
        peak.rss_total_kb = max(peak.rss_total_kb, total)
        peak.samples += 1


needs_root = pytest.mark.skipif(
    not IS_ROOT, reason="judging this from the host reads the jail's processes in /proc by uid, which needs root"
)


def wait_until_no_jail_processes(timeout: float = 3.0) -> list[int]:
    """Wait for the jail's processes to disappear; return any still alive."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        alive = jail_pids()
        if not alive:
            return []
        time.sleep(0.05)
    return jail_pids()


def kill_leftovers() -> None:
    """Last-resort cleanup so one failing test cannot leave processes behind for the next."""
    for pid in jail_pids():
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
