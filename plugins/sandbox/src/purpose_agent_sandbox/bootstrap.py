"""The first Python code that runs inside the jail (trusted; written by us, not by the agent).

The host passes this file's source with ``python -I -c`` (no file needs to be readable inside the
jail) and the status-pipe fd as the only argument. It reads a JSON payload from stdin, then:

1. writes the payload's files into the tmpfs work directory;
2. points stdin at ``/dev/null`` (the untrusted code gets no channel back to the host but its
   stdout and stderr, which the host reads with a byte cap);
3. lowers soft *and* hard rlimits, so the code cannot raise them again;
4. applies Landlock (filesystem, TCP, and on ABI 6 signal and abstract-socket scoping);
5. writes ONE status line to the status pipe and closes it — the host trusts only that first
   line, which is written before any untrusted code exists, so the code cannot forge it;
6. runs the untrusted code in this interpreter as ``__main__``.

Seccomp is not applied here: bubblewrap loads the filter (``--add-seccomp-fd``) before it
executes this interpreter, so it already covers every step above.

Standard library only, and compatible with older interpreters (the jail may use the system
Python, not the host's).
"""

import ctypes
import json
import os
import resource
import sys

WORKDIR = "/work"

# Landlock ABI constants (include/uapi/linux/landlock.h). The syscall numbers are the same on
# every architecture because Landlock arrived after the syscall tables were unified.
SYS_LANDLOCK_CREATE_RULESET = 444
SYS_LANDLOCK_ADD_RULE = 445
SYS_LANDLOCK_RESTRICT_SELF = 446
LANDLOCK_CREATE_RULESET_VERSION = 1
LANDLOCK_RULE_PATH_BENEATH = 1
PR_SET_NO_NEW_PRIVS = 38

FS_EXECUTE = 1 << 0
FS_WRITE_FILE = 1 << 1
FS_READ_FILE = 1 << 2
FS_READ_DIR = 1 << 3
FS_TRUNCATE = 1 << 14
FS_IOCTL_DEV = 1 << 15
NET_BIND_TCP = 1 << 0
NET_CONNECT_TCP = 1 << 1
SCOPE_ABSTRACT_UNIX_SOCKET = 1 << 0
SCOPE_SIGNAL = 1 << 1

RLIMITS = {
    "memory_bytes": "RLIMIT_AS",
    "cpu_s": "RLIMIT_CPU",
    "processes": "RLIMIT_NPROC",
    "file_bytes": "RLIMIT_FSIZE",
    "open_files": "RLIMIT_NOFILE",
    "core_bytes": "RLIMIT_CORE",
}


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("fs", ctypes.c_uint64), ("net", ctypes.c_uint64), ("scoped", ctypes.c_uint64)]


class _PathBeneath(ctypes.Structure):
    _pack_ = 1  # the kernel struct is __attribute__((packed)): 12 bytes, not 16
    _fields_ = [("allowed", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def _fs_rights(abi):
    """Every filesystem right the kernel's Landlock ABI knows (all of them are then handled)."""
    rights = (1 << 13) - 1  # ABI 1: EXECUTE .. MAKE_SYM
    if abi >= 2:
        rights |= 1 << 13  # REFER
    if abi >= 3:
        rights |= FS_TRUNCATE
    if abi >= 5:
        rights |= FS_IOCTL_DEV
    return rights


def apply_landlock(read_only, read_write_files, writable_dirs):
    """Restrict this process and its future children; return the ABI version applied.

    ``read_only``: directories the code may read and execute from. ``read_write_files``:
    device files it may read and write (``/dev/null``…). ``writable_dirs``: full access.
    Everything else — including creating files anywhere but the work directory, TCP bind and
    connect, and (ABI ≥ 6) signals or abstract unix sockets out of this domain — is denied.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    abi = libc.syscall(
        SYS_LANDLOCK_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(LANDLOCK_CREATE_RULESET_VERSION)
    )
    if abi < 1:
        raise OSError(ctypes.get_errno(), "Landlock is not supported or not enabled by this kernel")
    fs_all = _fs_rights(abi)
    attr = _RulesetAttr(fs=fs_all, net=0, scoped=0)
    size = 8
    if abi >= 4:
        attr.net = NET_BIND_TCP | NET_CONNECT_TCP
        size = 16
    if abi >= 6:
        attr.scoped = SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL
        size = 24
    ruleset = libc.syscall(SYS_LANDLOCK_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size), ctypes.c_uint32(0))
    if ruleset < 0:
        raise OSError(ctypes.get_errno(), "landlock_create_ruleset failed")
    file_rw = FS_READ_FILE | FS_WRITE_FILE | (FS_TRUNCATE if abi >= 3 else 0)
    try:
        for paths, rights in (
            (read_only, FS_EXECUTE | FS_READ_FILE | FS_READ_DIR),
            (read_write_files, file_rw),
            (writable_dirs, fs_all),
        ):
            for path in paths:
                try:
                    fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
                except OSError:
                    continue  # not present in this jail: nothing to allow
                try:
                    allowed = rights
                    if not os.path.isdir(path):
                        # Directory-only rights on a file rule are EINVAL.
                        allowed &= FS_EXECUTE | FS_READ_FILE | FS_WRITE_FILE | FS_TRUNCATE | FS_IOCTL_DEV
                    rule = _PathBeneath(allowed=allowed, parent_fd=fd)
                    if (
                        libc.syscall(
                            SYS_LANDLOCK_ADD_RULE,
                            ctypes.c_int(ruleset),
                            ctypes.c_int(LANDLOCK_RULE_PATH_BENEATH),
                            ctypes.byref(rule),
                            ctypes.c_uint32(0),
                        )
                        < 0
                    ):
                        raise OSError(ctypes.get_errno(), "landlock_add_rule failed for " + path)
                finally:
                    os.close(fd)
        if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
        if libc.syscall(SYS_LANDLOCK_RESTRICT_SELF, ctypes.c_int(ruleset), ctypes.c_uint32(0)) < 0:
            raise OSError(ctypes.get_errno(), "landlock_restrict_self failed")
    finally:
        os.close(ruleset)
    return abi


def apply_rlimits(limits):
    """Set soft and hard limits (lowering the hard limit needs no privilege, raising it does)."""
    for key, name in RLIMITS.items():
        value = limits.get(key)
        if value is None:
            continue
        resource.setrlimit(getattr(resource, name), (value, value if key != "cpu_s" else value + 1))


def write_files(files):
    """Write the host-provided files into the work directory; names stay inside it."""
    for name, content in files.items():
        path = os.path.normpath(os.path.join(WORKDIR, name))
        if not path.startswith(WORKDIR + "/"):
            raise ValueError(f"file name {name!r} leaves the work directory")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(content)


def report(status_fd, status):
    data = (json.dumps(status) + "\n").encode()
    os.write(status_fd, data)
    os.close(status_fd)


def main():
    status_fd = int(sys.argv[1])
    payload = json.loads(sys.stdin.buffer.read().decode("utf-8"))
    devnull = os.open("/dev/null", os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    status = {"ok": True, "landlock": 0, "rlimits": False, "error": "", "stage": ""}
    try:
        status["stage"] = "files"
        write_files(payload.get("files") or {})
        status["stage"] = "rlimits"
        apply_rlimits(payload["limits"])
        status["rlimits"] = True
        landlock = payload.get("landlock") or {}
        if landlock.get("wanted"):
            status["stage"] = "landlock"
            try:
                status["landlock"] = apply_landlock(landlock["read_only"], landlock["read_write_files"], [WORKDIR])
            except OSError as exc:
                if landlock.get("required"):
                    raise
                status["landlock_error"] = str(exc)
        status["stage"] = "run"
    except Exception as exc:  # report, never run the code half-confined
        status.update(ok=False, error=f"{type(exc).__name__}: {exc}")
        report(status_fd, status)
        sys.exit(125)
    report(status_fd, status)
    run_untrusted(payload["code"])


def run_untrusted(code):
    """Run the code as ``__main__``; show its traceback without this bootstrap's frames."""
    import linecache
    import traceback
    import types

    filename = "<sandbox>"
    linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
    module = types.ModuleType("__main__")
    module.__dict__["__builtins__"] = __builtins__
    sys.modules["__main__"] = module
    sys.argv = [filename]
    try:
        exec(compile(code, filename, "exec"), module.__dict__)
    except SystemExit:
        raise
    except BaseException as exc:
        traceback.print_exception(type(exc), exc, exc.__traceback__.tb_next)
        sys.stderr.flush()
        sys.exit(1)


if __name__ == "__main__":
    main()
