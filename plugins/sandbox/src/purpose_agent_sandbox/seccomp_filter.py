"""The seccomp filter: compiled on the host with ``pyseccomp``, loaded by bubblewrap.

What it is, honestly: a **denylist** over a default-allow policy. It removes kernel interfaces
that agent-written Python has no use for and that are either escape tools or large kernel attack
surface (the classes of syscall behind most container-escape CVEs). It is not an allowlist: a
bug in an allowed syscall (``read``, ``mmap``, ``futex``, …) is not stopped by it. Denied calls
fail with ``EPERM`` (``ENOSYS`` for ``clone3``, so libc falls back to ``clone``, whose flags we
can inspect); a syscall from a foreign ABI (i386, x32) kills the process, because the syscall
numbers below would not match it.
"""

from __future__ import annotations

import errno
import functools

#: Syscalls denied outright, grouped by why.
DENIED_SYSCALLS: dict[str, tuple[str, ...]] = {
    "inspect or write other processes": (
        "ptrace",
        "process_vm_readv",
        "process_vm_writev",
        "process_madvise",
        "pidfd_getfd",
        "kcmp",
    ),
    "change mounts or namespaces": (
        "mount",
        "umount2",
        "pivot_root",
        "chroot",
        "move_mount",
        "open_tree",
        "fsopen",
        "fsconfig",
        "fsmount",
        "fspick",
        "mount_setattr",
        "unshare",
        "setns",
    ),
    "large kernel attack surface": (
        "bpf",
        "perf_event_open",
        "userfaultfd",
        "io_uring_setup",
        "io_uring_enter",
        "io_uring_register",
        "keyctl",
        "add_key",
        "request_key",
        "open_by_handle_at",
        "name_to_handle_at",
        "fanotify_init",
        "move_pages",
        "migrate_pages",
        "mbind",
        "set_mempolicy",
    ),
    "administer the machine": (
        "kexec_load",
        "kexec_file_load",
        "init_module",
        "finit_module",
        "delete_module",
        "reboot",
        "swapon",
        "swapoff",
        "syslog",
        "acct",
        "iopl",
        "ioperm",
        "quotactl",
        "quotactl_fd",
        "vhangup",
        "settimeofday",
        "clock_settime",
        "clock_adjtime",
        "adjtimex",
        "sethostname",
        "setdomainname",
        "uselib",
        "ustat",
        "sysfs",
        "_sysctl",
        "lookup_dcookie",
    ),
}

#: Namespace flags ``clone`` may not carry (new namespaces are how sandboxes are escaped).
_CLONE_NAMESPACE_FLAGS = {
    "CLONE_NEWNS": 0x00020000,
    "CLONE_NEWCGROUP": 0x02000000,
    "CLONE_NEWUTS": 0x04000000,
    "CLONE_NEWIPC": 0x08000000,
    "CLONE_NEWUSER": 0x10000000,
    "CLONE_NEWPID": 0x20000000,
    "CLONE_NEWNET": 0x40000000,
}
_AF_UNIX = 1
_TIOCSTI = 0x5412  # push bytes into a terminal's input queue
_TIOCLINUX = 0x541C
_ADDR_NO_RANDOMIZE = 0x0040000
_READ_IMPLIES_EXEC = 0x0400000


def describe() -> list[str]:
    """Human-readable lines saying what the filter does (for ``layers()`` and the docs)."""
    lines = [f"denied ({why}): {', '.join(names)}" for why, names in DENIED_SYSCALLS.items()]
    lines.append("socket() only for AF_UNIX (no AF_INET/INET6/NETLINK/PACKET/…)")
    lines.append(
        "clone() with namespace flags, clone3() (ENOSYS), ioctl TIOCSTI/TIOCLINUX, personality ADDR_NO_RANDOMIZE/READ_IMPLIES_EXEC"
    )
    lines.append("foreign syscall ABIs (i386, x32) kill the process")
    return lines


@functools.lru_cache(maxsize=1)
def compiled_filter() -> bytes:
    """The filter as a classic-BPF program for ``bwrap --add-seccomp-fd``.

    Raises ``ImportError`` when pyseccomp or libseccomp is missing, ``OSError`` when libseccomp
    cannot build the program.
    """
    import os
    import tempfile

    import pyseccomp as sc

    deny = sc.ERRNO(errno.EPERM)
    flt = sc.SyscallFilter(sc.ALLOW)
    flt.set_attr(sc.Attr.ACT_BADARCH, sc.KILL_PROCESS)
    for names in DENIED_SYSCALLS.values():
        for name in names:
            try:
                flt.add_rule(deny, name)
            except (OSError, ValueError):
                continue  # the syscall does not exist on this architecture: nothing to deny
    for flag in _CLONE_NAMESPACE_FLAGS.values():
        flt.add_rule(deny, "clone", sc.Arg(0, sc.MASKED_EQ, flag, flag))
    flt.add_rule(sc.ERRNO(errno.ENOSYS), "clone3")
    flt.add_rule(sc.ERRNO(errno.EAFNOSUPPORT), "socket", sc.Arg(0, sc.NE, _AF_UNIX))
    for request in (_TIOCSTI, _TIOCLINUX):
        flt.add_rule(deny, "ioctl", sc.Arg(1, sc.MASKED_EQ, 0xFFFFFFFF, request))
    # personality() flags that weaken memory protections for the code's children: turning
    # off ASLR, and making every readable mapping executable.
    for flag in (_ADDR_NO_RANDOMIZE, _READ_IMPLIES_EXEC):
        flt.add_rule(deny, "personality", sc.Arg(0, sc.MASKED_EQ, flag, flag))
    with tempfile.TemporaryFile() as handle:
        flt.export_bpf(handle)
        handle.flush()
        os.lseek(handle.fileno(), 0, os.SEEK_SET)
        return handle.read()
