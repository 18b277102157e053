"""Detect, at run time, which isolation layers this machine can provide, and say how to get the rest.

Each probe is real: bubblewrap is run once (as the uid the code would run as) to prove it can
create the namespaces; the seccomp filter is compiled; Landlock's ABI version is asked of the
kernel. Results are cached per process and per relevant setting.
"""

from __future__ import annotations

import ctypes
import functools
import os
import shutil
import subprocess
from dataclasses import dataclass

from .settings import LAYER_NAMES

#: What to do when a layer is missing, in a sentence a user can act on.
INSTALL_HINTS: dict[str, str] = {
    "bwrap": (
        "install bubblewrap (Debian/Ubuntu: 'apt-get install bubblewrap'; Fedora: 'dnf install bubblewrap') "
        "and make sure unprivileged user namespaces are allowed (sysctl user.max_user_namespaces > 0; on "
        "Ubuntu 24.04+ kernel.apparmor_restrict_unprivileged_userns=0 or an AppArmor profile for bwrap; "
        "in Docker, a seccomp profile that permits unshare/clone with namespace flags)"
    ),
    "die_with_parent": "install bubblewrap 0.3 or newer, which has --die-with-parent",
    "uid": (
        "run purpose-agent as an unprivileged user, or when it must run as root set "
        "[plugins.sandbox] run_as_uid / run_as_gid to an unprivileged uid that can run bwrap"
    ),
    "rlimits": "run on a POSIX system whose Python has the 'resource' module (Linux)",
    "seccomp": (
        "'pip install pyseccomp' and the libseccomp shared library ('apt-get install libseccomp2'; "
        "Fedora: 'dnf install libseccomp'), on a kernel built with CONFIG_SECCOMP_FILTER"
    ),
    "jail_bound": (
        "run purpose-agent as root on a host that mounts the cgroup v1 memory and pids hierarchies, or set "
        "[plugins.sandbox] cgroup_parent to a cgroup v2 directory delegated to this user with the memory and "
        "pids controllers enabled for its children (systemd: Delegate=yes); or accept the rlimit fallback "
        'with jail_bound = "auto"'
    ),
    "landlock": (
        "use Linux 5.13 or newer with Landlock enabled (CONFIG_SECURITY_LANDLOCK=y and 'landlock' in the "
        "lsm= boot parameter); in containers the runtime's seccomp profile must allow the landlock_* syscalls"
    ),
}

_LANDLOCK_CREATE_RULESET = 444
_LANDLOCK_CREATE_RULESET_VERSION = 1


@dataclass(frozen=True)
class Probe:
    """One layer's availability on this machine, with a detail or install hint."""

    name: str
    available: bool
    detail: str


@functools.lru_cache(maxsize=1)
def landlock_abi() -> int:
    """The kernel's Landlock ABI version, or 0 when Landlock is unavailable."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.syscall.restype = ctypes.c_long
        abi = libc.syscall(
            _LANDLOCK_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(_LANDLOCK_CREATE_RULESET_VERSION)
        )
    except (OSError, AttributeError):
        return 0
    return int(abi) if abi > 0 else 0


@functools.lru_cache(maxsize=1)
def seccomp_probe() -> tuple[bool, str]:
    """Whether the seccomp filter can be compiled here and the kernel can load it."""
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            if "Seccomp:" not in handle.read():
                return False, "this kernel has no seccomp support"
    except OSError:
        return False, "cannot read /proc/self/status to check for seccomp support"
    try:
        from .seccomp_filter import compiled_filter

        program = compiled_filter()
    except ImportError as exc:
        return False, f"pyseccomp is not importable ({exc})"
    except (OSError, AttributeError, TypeError) as exc:
        return False, f"libseccomp could not build the filter ({exc})"
    return True, f"denylist filter, {len(program) // 8} BPF instructions, loaded by bwrap"


def find_bwrap(configured: str | None) -> str | None:
    """The bwrap executable to use, or ``None``."""
    if configured:
        return configured if os.access(configured, os.X_OK) else None
    return shutil.which("bwrap", path=os.environ.get("PATH", "") + ":/usr/bin:/bin")


@functools.lru_cache(maxsize=8)
def bwrap_probe(bwrap: str, uid: int | None, gid: int | None, python: str) -> tuple[bool, str]:
    """Run bwrap once, as the uid the code will run as, with the namespaces a run uses."""
    argv = [
        bwrap,
        "--unshare-all",
        "--unshare-user",
        "--disable-userns",
        "--die-with-parent",
        "--new-session",
        "--ro-bind",
        "/",
        "/",
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--tmpfs",
        "/tmp",
        "--clearenv",
        "--",
        python,
        "-I",
        "-c",
        "import os; print(os.getuid())",
    ]
    kwargs: dict = {}
    if uid is not None:
        kwargs.update(user=uid, group=gid, extra_groups=[])
    try:
        done = subprocess.run(
            argv, env={}, cwd="/", capture_output=True, timeout=20, stdin=subprocess.DEVNULL, check=False, **kwargs
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return False, f"could not start {bwrap}: {exc}"
    if done.returncode != 0:
        why = (done.stderr or done.stdout).decode("utf-8", "replace").strip()[:300]
        if done.returncode == 127 or ("no such file" in why.lower() and python in why):
            return False, f"the jail interpreter {python} is missing; set [plugins.sandbox] python ({why})"
        return False, f"bwrap could not create its namespaces here: {why or 'exit status ' + str(done.returncode)}"
    version = subprocess.run([bwrap, "--version"], capture_output=True, env={}, check=False).stdout.decode().strip()
    return True, f"{version or 'bwrap'}: user, pid, net, ipc, uts, cgroup and mount namespaces"


def probe_all(
    bwrap_setting: str | None,
    run_as_uid: int,
    run_as_gid: int,
    python: str,
    disabled: frozenset[str] = frozenset(),
    jail_bound: tuple[bool, str] = (False, "not probed"),
) -> dict[str, Probe]:
    """Probe every layer; the keys are :data:`purpose_agent_sandbox.settings.LAYER_NAMES`.

    ``jail_bound`` is the result of :func:`purpose_agent_sandbox.jail_bound.probe` (it needs the
    whole settings, so the caller probes it).
    """
    probes: dict[str, Probe] = {}
    probes["process"] = Probe("process", True, "separate process; the parent kills it at the wall-clock deadline")
    probes["env_scrub"] = Probe(
        "env_scrub", True, "bwrap is started with an empty environment; the jail gets PATH, HOME, LANG only"
    )
    probes["output_cap"] = Probe("output_cap", True, "stdout and stderr are read with a byte cap each")

    root = os.geteuid() == 0
    switch = (run_as_uid, run_as_gid) if root else (None, None)
    bwrap = find_bwrap(bwrap_setting)
    if bwrap is None:
        ok, detail = False, "bwrap was not found" + (f" at {bwrap_setting}" if bwrap_setting else " on PATH")
    elif not os.path.exists(python):
        ok, detail = False, f"the jail interpreter {python} does not exist; set [plugins.sandbox] python"
    else:
        ok, detail = bwrap_probe(bwrap, switch[0], switch[1], python)
    probes["bwrap"] = Probe("bwrap", ok, detail)
    probes["die_with_parent"] = Probe(
        "die_with_parent",
        ok,
        "bwrap --die-with-parent: the jail gets SIGKILL when its parent dies" if ok else "needs a working bwrap",
    )

    if not root:
        probes["uid"] = Probe("uid", True, f"host uid {os.geteuid()} (not root)")
    elif ok:
        probes["uid"] = Probe("uid", True, f"host root drops to uid {run_as_uid}/gid {run_as_gid} before bwrap")
    else:
        probes["uid"] = Probe("uid", False, f"needs a working bwrap started as uid {run_as_uid}")

    try:
        import resource  # noqa: F401

        probes["rlimits"] = Probe("rlimits", True, "address space, CPU, processes, file size, open files, core")
    except ImportError:
        probes["rlimits"] = Probe("rlimits", False, "the 'resource' module is missing")

    seccomp_ok, seccomp_detail = seccomp_probe()
    probes["seccomp"] = Probe("seccomp", seccomp_ok, seccomp_detail)

    abi = landlock_abi()
    if abi:
        scope = (
            "filesystem"
            + (", TCP bind/connect" if abi >= 4 else "")
            + (", signals, abstract sockets" if abi >= 6 else "")
        )
        probes["landlock"] = Probe("landlock", True, f"Landlock ABI {abi}: {scope}")
    else:
        probes["landlock"] = Probe("landlock", False, "the kernel does not offer Landlock")

    probes["jail_bound"] = Probe("jail_bound", *jail_bound)

    for name in disabled:
        probes[name] = Probe(name, False, "disabled by [plugins.sandbox] disable_layers")
    return {name: probes[name] for name in LAYER_NAMES}
