"""The bound on the whole jail: how much memory and how many tasks one run may hold together.

RLIMIT_AS bounds one process and RLIMIT_NPROC the number of processes, so on their own they let
one run hold ``max_processes × memory_mb`` (32 × 512 MiB = 16 GiB with the defaults, 70% of a
24 GiB host). The jail as a whole is bounded by the first of these that works here:

1. **cgroup v2**: a child cgroup with ``memory.max`` (and ``memory.swap.max = 0``) and
   ``pids.max``, created under ``[plugins.sandbox] cgroup_parent`` or under this process's own
   cgroup when that delegates the ``memory`` and ``pids`` controllers to its children;
2. **cgroup v1** (hosts and containers that mount the v1 ``memory`` and ``pids`` hierarchies):
   a child of this process's own cgroup in each, with ``memory.limit_in_bytes`` (and
   ``memory.memsw.limit_in_bytes`` when swap is accounted) and ``pids.max``;
3. **the rlimit fallback** when no cgroup can be created: the process cap is lowered so that
   ``memory_mb × processes + tmpfs_mb`` stays within ``host_memory_share`` of the host's RAM.

The jail joins its cgroup before bubblewrap starts: a tiny trampoline (host Python, ``-I -S``)
writes its own pid into ``cgroup.procs``, drops to the jail's uid, and executes bwrap, so every
process of the jail is born inside the bound (moving bwrap afterwards would race its first
fork). After the run every process left in the cgroup is killed and the cgroup is removed.
Children are created under this process's own cgroup, so any limit above it still applies.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import json
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from .settings import SandboxSettings

MIB = 1024 * 1024
#: Tasks bubblewrap itself adds on top of the code's processes (its monitor and the jail's init).
BWRAP_TASKS = 2
_counter = itertools.count()
_counter_lock = threading.Lock()

#: Runs as the host's Python between fork and bwrap: join the cgroup(s), drop to the jail's
#: uid/gid, execute bwrap with an empty environment. argv: spec JSON, then bwrap's argv.
TRAMPOLINE = """
import json, os, sys
spec = json.loads(sys.argv[1])
pid = str(os.getpid())
for procs in spec["procs"]:
    try:
        with open(procs, "w") as handle:
            handle.write(pid)
    except OSError as exc:
        sys.stderr.write("could not move the jail into its cgroup (%s): %s\\n" % (procs, exc))
        sys.exit(125)
if spec["uid"] is not None:
    os.setgroups([])
    os.setgid(spec["gid"])
    os.setuid(spec["uid"])
os.execve(sys.argv[2], sys.argv[2:], {})
"""


class CgroupUnavailable(Exception):
    """No cgroup could be created for the jail; the message says why."""


@dataclass
class JailCgroup:
    """The cgroup directories of one run (one for v2; memory and pids for v1)."""

    version: int
    directories: list[Path]
    memory_dir: Path

    @property
    def procs_files(self) -> list[str]:
        return [str(d / "cgroup.procs") for d in self.directories]

    def oom_kills(self) -> int:
        """How many of the jail's processes the kernel killed for reaching the memory bound."""
        name = "memory.events" if self.version == 2 else "memory.oom_control"
        with contextlib.suppress(OSError, ValueError):
            for line in (self.memory_dir / name).read_text().splitlines():
                key, _, value = line.partition(" ")
                if key == "oom_kill":
                    return int(value)
        return 0

    def release(self) -> None:
        """Kill whatever is left in the cgroup(s) and remove them (retrying while tasks exit)."""
        for directory in self.directories:
            kill_file = directory / "cgroup.kill"
            if kill_file.exists():
                with contextlib.suppress(OSError):
                    kill_file.write_text("1")
        deadline = time.monotonic() + 3.0
        remaining = list(self.directories)
        while remaining:
            for directory in list(remaining):
                with contextlib.suppress(OSError, ValueError):
                    for pid in (directory / "cgroup.procs").read_text().split():
                        with contextlib.suppress(ProcessLookupError, PermissionError):
                            os.kill(int(pid), signal.SIGKILL)
                try:
                    directory.rmdir()
                    remaining.remove(directory)
                except FileNotFoundError:
                    remaining.remove(directory)
                except OSError:
                    pass  # still has tasks that are exiting
            if remaining:
                if time.monotonic() > deadline:
                    break  # leave it; it is empty soon and costs nothing
                time.sleep(0.02)


@dataclass
class JailBound:
    """How one run is bounded: the limits to apply and, with a cgroup, where to join it."""

    mechanism: str  # "cgroup v2", "cgroup v1" or "rlimits"
    memory_bytes: int  # everything the jail may hold together
    processes: int  # RLIMIT_NPROC for the code
    memory_per_process: int  # RLIMIT_AS per process
    detail: str
    cgroup: JailCgroup | None = None
    fallback_reason: str = ""

    def release(self) -> None:
        if self.cgroup is not None:
            self.cgroup.release()

    def outcome(self) -> str:
        """A clause for the run's reason when the bound was hit, or ``""``."""
        if self.cgroup is None:
            return ""
        kills = self.cgroup.oom_kills()
        if not kills:
            return ""
        return (
            f"the jail reached its memory bound of {self.memory_bytes // MIB} MiB ({self.mechanism}); "
            f"the kernel killed {kills} of its processes"
        )


# --------------------------------------------------------------------------- finding cgroups


def _mounts() -> list[tuple[str, str, str, str]]:
    """(mount root, mount point, fstype, super options) of every cgroup filesystem."""
    found = []
    try:
        lines = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return []
    for line in lines:
        before, _, after = line.partition(" - ")
        fields, tail = before.split(), after.split()
        if len(fields) >= 5 and len(tail) >= 3 and tail[0] in ("cgroup", "cgroup2"):
            found.append((fields[3], fields[4], tail[0], tail[2]))
    return found


def _own_cgroups() -> dict[str, str]:
    """This process's cgroup path per hierarchy: '' for v2, each controller's name for v1."""
    paths: dict[str, str] = {}
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return {}
    for line in lines:
        _, controllers, path = line.split(":", 2)
        for controller in controllers.split(",") if controllers else [""]:
            paths[controller] = path
    return paths


def _directory(mount_root: str, mount_point: str, path: str) -> Path | None:
    """The directory of cgroup ``path`` under a mount whose root is ``mount_root``."""
    if mount_root != "/" and not (path == mount_root or path.startswith(mount_root + "/")):
        return None
    relative = path[len(mount_root) :] if mount_root != "/" else path
    return Path(mount_point + relative)


def _v2_parent(configured: str | None) -> Path:
    if configured:
        parent = Path(configured)
        if not (parent / "cgroup.controllers").is_file():
            raise CgroupUnavailable(f"cgroup_parent {configured} is not a cgroup v2 directory")
    else:
        own = _own_cgroups().get("")
        mount = next(((root, point) for root, point, kind, _ in _mounts() if kind == "cgroup2"), None)
        if own is None or mount is None:
            raise CgroupUnavailable("no cgroup v2 hierarchy is mounted")
        found = _directory(mount[0], mount[1], own)
        if found is None:
            raise CgroupUnavailable("this process's cgroup v2 is outside the mounted hierarchy")
        parent = found
    try:
        available = (parent / "cgroup.controllers").read_text().split()
    except OSError as exc:
        raise CgroupUnavailable(f"cannot read {parent}/cgroup.controllers: {exc.strerror}") from exc
    missing = [c for c in ("memory", "pids") if c not in available]
    if missing:
        raise CgroupUnavailable(f"cgroup v2 at {parent} does not offer the {' and '.join(missing)} controller(s)")
    enabled = (parent / "cgroup.subtree_control").read_text().split()
    wanted = [c for c in ("memory", "pids") if c not in enabled]
    if wanted:
        try:
            (parent / "cgroup.subtree_control").write_text(" ".join(f"+{c}" for c in wanted))
        except OSError as exc:
            raise CgroupUnavailable(
                f"cannot delegate {' and '.join(wanted)} to children of {parent} ({exc.strerror}); set "
                "[plugins.sandbox] cgroup_parent to a delegated cgroup (e.g. systemd Delegate=yes)"
            ) from exc
    return parent


def _v1_parents() -> dict[str, Path]:
    own = _own_cgroups()
    parents: dict[str, Path] = {}
    for controller in ("memory", "pids"):
        mount = next(
            (
                (root, point)
                for root, point, kind, options in _mounts()
                if kind == "cgroup" and controller in options.split(",")
            ),
            None,
        )
        if mount is None or controller not in own:
            raise CgroupUnavailable(f"no cgroup v1 {controller} hierarchy is mounted")
        found = _directory(mount[0], mount[1], own[controller])
        if found is None or not found.is_dir():
            raise CgroupUnavailable(f"this process's cgroup v1 {controller} directory is not visible")
        parents[controller] = found
    return parents


def _unique_name() -> str:
    with _counter_lock:
        return f"purpose-agent-sandbox-{os.getpid()}-{next(_counter)}"


def _write(path: Path, value: str) -> None:
    try:
        path.write_text(value)
    except OSError as exc:
        raise CgroupUnavailable(f"cannot write {path}: {exc.strerror or exc}") from exc


def _create_v2(settings: SandboxSettings, name: str) -> JailCgroup:
    parent = _v2_parent(settings.cgroup_parent)
    directory = parent / name
    try:
        directory.mkdir()
    except OSError as exc:
        raise CgroupUnavailable(f"cannot create {directory}: {exc.strerror}") from exc
    cgroup = JailCgroup(2, [directory], directory)
    try:
        _write(directory / "memory.max", str(settings.jail_memory_mb * MIB))
        if (directory / "memory.swap.max").exists():
            _write(directory / "memory.swap.max", "0")
        _write(directory / "pids.max", str(settings.max_processes + BWRAP_TASKS))
    except CgroupUnavailable:
        cgroup.release()
        raise
    return cgroup


def _create_v1(settings: SandboxSettings, name: str) -> JailCgroup:
    parents = _v1_parents()
    created: list[Path] = []
    cgroup = JailCgroup(1, created, parents["memory"] / name)
    try:
        for controller in ("memory", "pids"):
            directory = parents[controller] / name
            try:
                directory.mkdir()
            except OSError as exc:
                raise CgroupUnavailable(f"cannot create {directory}: {exc.strerror}") from exc
            created.append(directory)
        memory = str(settings.jail_memory_mb * MIB)
        _write(cgroup.memory_dir / "memory.limit_in_bytes", memory)
        if (cgroup.memory_dir / "memory.memsw.limit_in_bytes").exists():
            with contextlib.suppress(CgroupUnavailable):  # swap accounting may be switched off
                _write(cgroup.memory_dir / "memory.memsw.limit_in_bytes", memory)
        _write(parents["pids"] / name / "pids.max", str(settings.max_processes + BWRAP_TASKS))
    except CgroupUnavailable:
        cgroup.release()
        raise
    return cgroup


def create_cgroup(settings: SandboxSettings) -> JailCgroup:
    """Create and configure the jail's cgroup (v2, else v1); raise :class:`CgroupUnavailable`."""
    name = _unique_name()
    try:
        return _create_v2(settings, name)
    except (CgroupUnavailable, OSError) as exc:
        v2_reason = f"cgroup v2: {exc}"
    if settings.cgroup_parent:  # the operator chose where; do not go looking elsewhere
        raise CgroupUnavailable(v2_reason)
    try:
        return _create_v1(settings, name)
    except (CgroupUnavailable, OSError) as exc:
        raise CgroupUnavailable(f"{v2_reason}; cgroup v1: {exc}") from None


# --------------------------------------------------------------------------- the fallback


def host_memory_bytes() -> int:
    """MemTotal of this host (or of the container, as /proc shows it)."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def rlimit_fallback(settings: SandboxSettings, why: str) -> JailBound:
    """Bound the jail with rlimits alone: fewer processes, so the product stays within the share."""
    host = host_memory_bytes()
    budget = int(host * settings.host_memory_share) - settings.tmpfs_mb * MIB
    per_process = min(settings.memory_mb * MIB, max(budget, 64 * MIB))
    processes = max(1, min(settings.max_processes, budget // per_process))
    total = per_process * processes + settings.tmpfs_mb * MIB
    detail = (
        f"no cgroup ({why}); fallback: RLIMIT_AS {per_process // MIB} MiB x {processes} process(es) "
        f"+ {settings.tmpfs_mb} MiB tmpfs = {total // MIB} MiB, within {settings.host_memory_share:.0%} "
        f"of this host's {host // MIB} MiB"
    )
    return JailBound("rlimits", total, processes, per_process, detail, fallback_reason=why)


def _cgroup_bound(settings: SandboxSettings, cgroup: JailCgroup) -> JailBound:
    detail = (
        f"cgroup v{cgroup.version}: the whole jail may hold {settings.jail_memory_mb} MiB and "
        f"{settings.max_processes + BWRAP_TASKS} tasks (bwrap's {BWRAP_TASKS} included)"
    )
    return JailBound(
        f"cgroup v{cgroup.version}",
        settings.jail_memory_mb * MIB,
        settings.max_processes,
        settings.memory_mb * MIB,
        detail,
        cgroup,
    )


def prepare(settings: SandboxSettings) -> JailBound:
    """The bound for one run; with a cgroup, the cgroup is created (``release()`` removes it).

    Raises :class:`CgroupUnavailable` when ``jail_bound = "cgroup"`` and none can be created.
    """
    if settings.jail_bound == "rlimits":
        return rlimit_fallback(settings, 'jail_bound = "rlimits"')
    try:
        return _cgroup_bound(settings, create_cgroup(settings))
    except CgroupUnavailable as exc:
        if settings.jail_bound == "cgroup":
            raise
        return rlimit_fallback(settings, str(exc))


@functools.lru_cache(maxsize=16)
def _probe(settings_json: str) -> tuple[bool, str]:
    settings = SandboxSettings.model_validate_json(settings_json)
    try:
        bound = prepare(settings)
    except CgroupUnavailable as exc:
        return False, f'jail_bound = "cgroup" but no cgroup can be created here: {exc}'
    bound.release()
    return True, bound.detail


def probe(settings: SandboxSettings) -> tuple[bool, str]:
    """Whether the jail can be bounded as configured, and how (creates and removes a cgroup once)."""
    return _probe(settings.model_dump_json())


def trampoline_argv(bound: JailBound, uid: int | None, gid: int | None, bwrap_argv: list[str]) -> list[str]:
    """The command that joins ``bound``'s cgroup, drops to ``uid``/``gid`` and executes bwrap."""
    assert bound.cgroup is not None
    spec = json.dumps({"procs": bound.cgroup.procs_files, "uid": uid, "gid": gid})
    host_python = sys.executable or "/usr/bin/python3"
    return [host_python, "-I", "-S", "-c", TRAMPOLINE, spec, *bwrap_argv]
