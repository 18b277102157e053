"""Real escape attempts against the sandbox, each judged from the host.

The probe code *tries* to escape and prints whatever it gets; the verdict never rests on what it
prints about itself. Secrets are random canaries the host creates (a world-readable file, a
root-only file, an environment variable) and looks for in everything the code returned;
network and unix-socket attempts are judged by real host listeners; process attacks by a
sentinel process and by reading the jail's processes in the host's /proc; resource attacks by
deadlines and a watcher thread that samples memory, processes, fds and tmpfs use from the host.

Attempts that must hold without seccomp and Landlock run twice (``any_sandbox``): with every
layer, and with the namespaces, uid and rlimits only. ``docs/security.md`` has the table.
"""

from __future__ import annotations

import os
import resource
import secrets
import signal
import subprocess
import sys
import textwrap
import time
from typing import Any

import pytest
from sandbox_judges import (
    BASE_SETTINGS,
    IS_ROOT,
    TEST_UID,
    Canaries,
    Listeners,
    Watcher,
    build_sandbox,
    kill_leftovers,
    live_processes_with,
    needs_root,
    process_state,
    wait_until_no_jail_processes,
)

PRELUDE = """
import os, sys
def attempt(label, fn):
    try:
        print(label, "->", repr(fn())[:3000], flush=True)
    except BaseException as exc:
        print(label, "-> blocked:", type(exc).__name__, str(exc)[:200], flush=True)
"""


def probe(sandbox: Any, body: str, *, timeout: float = 5.0, files: dict[str, str] | None = None) -> Any:
    """Run the attempt (with the ``attempt`` helper defined) and return the ExecResult."""
    return sandbox.run(PRELUDE + textwrap.dedent(body), timeout=timeout, files=files)


@pytest.fixture(autouse=True)
def _no_leftovers() -> Any:
    yield
    if IS_ROOT:
        kill_leftovers()


# =========================================================================== secrets on the host


class TestHostSecretsStayOutside:
    """Files and environment of the host: judged by random canaries absent from all output."""

    def test_control_a_canary_bound_into_the_jail_is_detected(self, canaries: Canaries) -> None:
        # Proves the judge can fail: bind the canary directory in on purpose and the public
        # canary shows up, while the root-only one still does not (the code is not root).
        sandbox = build_sandbox(**BASE_SETTINGS, extra_ro_paths=[str(canaries.directory)])
        result = probe(
            sandbox,
            f"""
            attempt("public", lambda: open({str(canaries.public_file)!r}).read())
            attempt("root-only", lambda: open({str(canaries.root_only_file)!r}).read())
            """,
        )
        assert canaries.public_value in result.stdout
        assert canaries.root_only_value not in result.stdout + result.stderr  # the uid layer

    def test_read_host_files_by_absolute_path(self, any_sandbox: Any, canaries: Canaries) -> None:
        result = probe(
            any_sandbox,
            f"""
            for path in [{str(canaries.public_file)!r}, {str(canaries.root_only_file)!r}]:
                attempt(path, lambda: open(path).read())
            attempt("listdir", lambda: os.listdir({str(canaries.directory)!r}))
            attempt("traversal", lambda: open("/work/../../.." + {str(canaries.public_file)!r}).read())
            """,
        )
        canaries.assert_not_in(result)
        assert "blocked" in result.stdout

    def test_read_through_proc_root_and_cwd_links(self, any_sandbox: Any, canaries: Canaries) -> None:
        result = probe(
            any_sandbox,
            f"""
            target = {str(canaries.public_file)!r}
            for pid in ["self", "1", "2", str(os.getppid())] + [p for p in os.listdir("/proc") if p.isdigit()]:
                attempt(pid + " root", lambda: open("/proc/" + pid + "/root" + target).read())
                attempt(pid + " cwd", lambda: os.listdir("/proc/" + pid + "/cwd/../var/tmp"))
            """,
        )
        canaries.assert_not_in(result)

    def test_symlinks_and_hardlinks_out_of_the_work_directory(self, any_sandbox: Any, canaries: Canaries) -> None:
        result = probe(
            any_sandbox,
            f"""
            target = {str(canaries.public_file)!r}
            os.symlink(target, "/work/link")
            attempt("symlink", lambda: open("/work/link").read())
            os.symlink({str(canaries.directory)!r}, "/work/dirlink")
            attempt("dir symlink", lambda: os.listdir("/work/dirlink"))
            os.symlink("/proc/1/root/var/tmp", "/work/proclink")
            attempt("proc symlink", lambda: os.listdir("/work/proclink"))
            attempt("hardlink", lambda: os.link(target, "/work/hard") or open("/work/hard").read())
            """,
        )
        canaries.assert_not_in(result)

    def test_file_names_cannot_climb_out_of_the_work_directory(self, strict_sandbox: Any, canaries: Canaries) -> None:
        escape = canaries.directory / "escaped.txt"
        for name in ["../" * 6 + str(escape).lstrip("/"), str(escape), "a/../../b"]:
            with pytest.raises(ValueError, match="inside the work directory"):
                strict_sandbox.run("pass", files={name: "x"})
        assert not escape.exists()

    def test_environment_canary_does_not_reach_the_code(self, any_sandbox: Any, canaries: Canaries) -> None:
        assert os.environ[canaries.env_name] == canaries.env_value  # set in the host process
        result = probe(
            any_sandbox,
            """
            attempt("os.environ", lambda: dict(os.environ))
            paths = ["/proc/self/environ", "/proc/1/environ", "/proc/%d/environ" % os.getppid()]
            paths += ["/proc/%s/environ" % p for p in os.listdir("/proc") if p.isdigit()]
            for path in paths:
                attempt(path, lambda: open(path, "rb").read())
            """,
        )
        canaries.assert_not_in(result)
        assert "/proc/1/environ" in result.stdout  # the attempt really ran

    def test_host_processes_are_invisible(self, any_sandbox: Any, sentinel: subprocess.Popen[bytes]) -> None:
        marker = sentinel.marker  # type: ignore[attr-defined]
        result = probe(
            any_sandbox,
            f"""
            attempt("pids", lambda: sorted(p for p in os.listdir("/proc") if p.isdigit()))
            for pid in [p for p in os.listdir("/proc") if p.isdigit()] + [{str(sentinel.pid)!r}]:
                attempt(pid, lambda: open("/proc/" + pid + "/cmdline", "rb").read())
            """,
        )
        assert marker not in result.stdout + result.stderr
        assert "pids ->" in result.stdout


#: Python-level routes to os/subprocess, each with what its output shows once the attempt ran.
#: None is a boundary (audit hooks are not either); each reaches only the jail, which is what the
#: host-side canaries check. ``{commands}`` reads both canary files, PID 1's environment and the
#: environment; ``{public}``, ``{root_only}`` and ``{env_name}`` are the canaries' paths and name.
INTERPRETER_TRICKS = {
    "class hierarchy walk to os system": (
        """
        subclasses = ().__class__.__base__.__subclasses__()
        wrap = [c for c in subclasses if c.__name__ == "_wrap_close"][0]
        g = wrap.__init__.__globals__
        attempt("system", lambda: g["system"]({commands!r}))
        attempt("popen", lambda: g["popen"]({commands!r}).read())
        """,
        "system ->",
    ),
    "class hierarchy walk to subprocess popen": (
        """
        import subprocess  # makes Popen reachable through object.__subclasses__()
        popen = [c for c in object.__subclasses__() if c.__name__ == "Popen"][0]
        attempt("popen", lambda: popen(["/bin/sh", "-c", {commands!r}], stdout=-1).communicate())
        """,
        "popen ->",
    ),
    "ctypes libc open read and system": (
        """
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        buf = ctypes.create_string_buffer(4096)
        for path in [{public!r}, {root_only!r}, "/proc/1/environ"]:
            fd = libc.open(path.encode(), 0)
            attempt("open " + path, lambda: (fd, libc.read(fd, buf, 4096), buf.raw[:200]))
            attempt("openat syscall " + path, lambda: libc.syscall(257, -100, path.encode(), 0))
        attempt("libc.system", lambda: libc.system({commands!r}.encode()))
        """,
        "libc.system ->",
    ),
    # The audit-hook bypass confirmed on 3.11-3.13 (DESIGN.md §6): it spawns a process
    # without raising a subprocess audit event. Inside the jail it is just another process.
    "posixsubprocess fork exec": (
        """
        import _posixsubprocess
        r, w = os.pipe()
        args = [b"/bin/sh", b"-c", {commands!r}.encode()]
        common = (args, [b"/bin/sh"], True, (), None, None, -1, -1, -1, 1, -1, 2, r, w, True, False, -1,
                  None, None, None, -1, None)
        def spawn():
            try:
                pid = _posixsubprocess.fork_exec(*common, False)
            except TypeError:  # the signature changes between versions
                pid = _posixsubprocess.fork_exec(*common)
            return os.waitpid(pid, 0)
        attempt("fork_exec", spawn)
        """,
        "fork_exec ->",
    ),
    "modules the interpreter already imported": (
        """
        for name, module in list(sys.modules.items()):
            for attr in ("system", "popen"):
                fn = getattr(module, attr, None)
                if callable(fn):
                    attempt(name + "." + attr, lambda: fn({commands!r}))
        attempt("posix.open", lambda: sys.modules["posix"].read(
            sys.modules["posix"].open({public!r}, 0), 200))
        """,
        "posix.open ->",
    ),
    # The bootstrap's frames are reachable from the code; they hold nothing secret, and
    # the status line the host trusts was written and closed before the code started.
    "frame walk into the bootstrap": (
        """
        frame = sys._getframe()
        while frame is not None:
            g = frame.f_globals
            attempt("frame " + frame.f_code.co_name, lambda: sorted(frame.f_locals))
            if "report" in g:
                attempt("forge status", lambda: g["report"](3, {{"ok": True, "landlock": 0}}))
            if "os" in g:
                attempt("os via frame", lambda: g["os"].system({commands!r}))
            frame = frame.f_back
        """,
        "forge status",
    ),
    "gc scan of every object": (
        """
        import gc
        texts = [o for o in gc.get_objects() if isinstance(o, (str, bytes, dict))]
        dump = repr(texts)
        attempt("objects", lambda: len(texts))
        attempt("secrets in memory", lambda: [w for w in dump.split("'") if "canary-" in w and "/" not in w][:20])
        attempt("env dicts", lambda: [o for o in gc.get_objects() if isinstance(o, dict) and {env_name!r} in o])
        """,
        "objects ->",
    ),
    "pickle payload": (
        """
        import pickle
        for module in ("posix", "os"):
            payload = ("c" + module + "\\nsystem\\n(S" + repr({commands!r}) + "\\ntR.").encode()
            attempt("pickle " + module, lambda: pickle.loads(payload))
        """,
        "pickle posix ->",
    ),
    "marshal payload": (
        """
        import marshal
        source = "print(open({public!r}).read()); import os; os.system('env')"
        blob = marshal.dumps(compile(source, "payload", "exec"))
        attempt("marshal", lambda: exec(marshal.loads(blob)))
        """,
        "marshal ->",
    ),
}


@pytest.mark.parametrize("trick", list(INTERPRETER_TRICKS))
def test_interpreter_tricks_reach_only_the_jail(any_sandbox: Any, canaries: Canaries, trick: str) -> None:
    body, ran = INTERPRETER_TRICKS[trick]
    result = probe(
        any_sandbox,
        body.format(
            commands=f"cat {canaries.public_file} {canaries.root_only_file}; cat /proc/1/environ; env",
            public=str(canaries.public_file),
            root_only=str(canaries.root_only_file),
            env_name=canaries.env_name,
        ),
    )
    canaries.assert_not_in(result)
    assert ran in result.stdout, result.stderr
    # nothing the code did (a forged status line included) changed what the host learns of the run
    assert result.layers["bwrap"] and result.exit_code == 0, (result.layers, result.exit_code)


# =========================================================================== the host stays unchanged


class TestHostIsNotModified:
    def test_writes_outside_the_work_directory(self, any_sandbox: Any, canaries: Canaries) -> None:
        before = sorted(p.name for p in canaries.directory.iterdir())
        token = secrets.token_hex(6)
        with open("/proc/sys/kernel/core_pattern") as handle:
            core_pattern = handle.read()
        hostname = os.uname().nodename
        targets = [
            str(canaries.directory / f"w-{token}"),
            str(canaries.public_file),
            f"/usr/w-{token}",
            f"/etc/w-{token}",
            f"/var/tmp/w-{token}",
            f"/proc/1/root{canaries.directory}/w-{token}",
        ]
        result = probe(
            any_sandbox,
            f"""
            for path in {targets!r}:
                attempt("write " + path, lambda: open(path, "w").write("pwned"))
            attempt("core_pattern", lambda: open("/proc/sys/kernel/core_pattern", "w").write("|/work/evil"))
            attempt("sethostname", lambda: open("/proc/sys/kernel/hostname", "w").write("pwned"))
            for fd in os.listdir("/proc/self/fd"):
                attempt("reopen fd " + fd, lambda: open("/proc/self/fd/" + fd, "w").write(""))
            """,
        )
        assert "write " in result.stdout
        assert sorted(p.name for p in canaries.directory.iterdir()) == before
        assert canaries.public_file.read_text() == canaries.public_value
        for path in (f"/usr/w-{token}", f"/etc/w-{token}", f"/var/tmp/w-{token}"):
            assert not os.path.exists(path)
        with open("/proc/sys/kernel/core_pattern") as handle:
            assert handle.read() == core_pattern
        assert os.uname().nodename == hostname

    def test_the_work_directory_does_not_survive_a_run(self, strict_sandbox: Any) -> None:
        token = secrets.token_hex(8)
        strict_sandbox.run(f"open('/work/left-behind', 'w').write({token!r})")
        result = strict_sandbox.run("import os; print(os.listdir('/work'))")
        assert "left-behind" not in result.stdout and token not in result.stdout


# =========================================================================== network


NETWORK_ATTEMPTS = {
    "tcp to 127.0.0.1": 'import socket; attempt("c", lambda: socket.create_connection(("127.0.0.1", {tcp4}), timeout=1))',
    "tcp to ::1": 'import socket; attempt("c", lambda: socket.create_connection(("::1", {tcp6}), timeout=1))',
    "udp to 127.0.0.1": (
        'import socket; attempt("c", lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM)'
        '.sendto(b"pwned", ("127.0.0.1", {udp4})))'
    ),
    "raw socket() + connect() via ctypes": textwrap.dedent(
        """
        import ctypes, socket, struct
        libc = ctypes.CDLL(None, use_errno=True)
        fd = libc.socket(2, 1, 0)
        addr = struct.pack("<HH4s8x", 2, socket.htons({tcp4}), socket.inet_aton("127.0.0.1"))
        attempt("c", lambda: (fd, libc.connect(fd, addr, 16), ctypes.get_errno()))
        """
    ),
    "unix socket file": (
        'import socket; s = socket.socket(socket.AF_UNIX); attempt("c", lambda: s.connect({unix_path!r}))'
    ),
    "abstract unix socket": (
        'import socket; s = socket.socket(socket.AF_UNIX); attempt("c", lambda: s.connect("\\0" + {abstract!r}))'
    ),
}


@pytest.mark.parametrize("channel", list(NETWORK_ATTEMPTS))
def test_network_and_sockets_do_not_reach_host_listeners(any_sandbox: Any, listeners: Listeners, channel: str) -> None:
    if channel == "tcp to ::1" and listeners.tcp6 is None:
        pytest.skip("the host has no IPv6 loopback to listen on")
    body = NETWORK_ATTEMPTS[channel].format(
        tcp4=listeners.tcp4_port,
        tcp6=listeners.tcp6_port,
        udp4=listeners.udp4_port,
        unix_path=str(listeners.unix_path),
        abstract=listeners.abstract_name,
    )
    result = probe(any_sandbox, body)
    assert "c ->" in result.stdout, result.stderr
    time.sleep(0.2)
    assert listeners.contacts() == [], f"{channel} reached the host: {result.stdout}"


# =========================================================================== processes


class TestHostProcesses:
    def test_killing_a_host_process(self, any_sandbox: Any, sentinel: subprocess.Popen[bytes]) -> None:
        result = probe(
            any_sandbox,
            f"""
            import signal
            attempt("kill pid", lambda: os.kill({sentinel.pid}, signal.SIGKILL))
            attempt("killpg", lambda: os.killpg({sentinel.pid}, signal.SIGKILL))
            attempt("pidfd", lambda: os.pidfd_open({sentinel.pid}))
            attempt("kill -1", lambda: os.kill(-1, signal.SIGKILL))
            """,
        )
        assert "kill -1" in result.stdout
        time.sleep(0.2)
        assert sentinel.poll() is None, "the host sentinel was killed"
        assert process_state(sentinel.pid) not in ("", "Z", "X", "t", "T")

    def test_tracing_a_host_process(self, any_sandbox: Any, sentinel: subprocess.Popen[bytes]) -> None:
        result = probe(
            any_sandbox,
            f"""
            import ctypes
            libc = ctypes.CDLL(None, use_errno=True)
            attempt("PTRACE_ATTACH", lambda: (libc.ptrace(16, {sentinel.pid}, 0, 0), ctypes.get_errno()))
            attempt("PTRACE_SEIZE", lambda: (libc.ptrace(0x4206, {sentinel.pid}, 0, 0), ctypes.get_errno()))
            attempt("mem", lambda: open("/proc/{sentinel.pid}/mem", "rb").read(16))
            """,
        )
        assert "PTRACE_SEIZE" in result.stdout
        assert sentinel.poll() is None
        assert process_state(sentinel.pid) not in ("t", "T"), "the host sentinel is being traced"

    @needs_root
    def test_nested_user_namespace(self, any_sandbox: Any) -> None:
        # A new user namespace gives full capabilities inside it: the usual first step of a
        # kernel exploit from a sandbox. bwrap --disable-userns and seccomp both refuse it.
        with Watcher() as seen:
            result = probe(
                any_sandbox,
                """
                import ctypes, time
                libc = ctypes.CDLL(None, use_errno=True)
                attempt("unshare", lambda: (libc.unshare(0x10000000), ctypes.get_errno()))
                attempt("unshare cmd", lambda: os.system("unshare -U -r id"))
                time.sleep(0.3)
                """,
            )
        assert "unshare ->" in result.stdout
        assert seen.processes >= 1, "the host never saw the jail"
        assert len(seen.user_namespaces) == 1, f"the code made a new user namespace: {seen.user_namespaces}"


DAEMON = """
import os, socket, time, signal
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        for sig in (signal.SIGHUP, signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, signal.SIG_IGN)
        devnull = os.open("/dev/null", os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)  # let go of the output pipes so the run looks finished
        {payload}
    os._exit(0)
print("parent leaves", flush=True)
{parent_tail}
"""


class TestDaemonsDoNotOutliveTheRun:
    @pytest.mark.slow
    @pytest.mark.parametrize("parent", ["exits", "is killed at the deadline"])
    def test_double_fork_daemon_tries_to_reach_the_host_after_the_run(
        self, any_sandbox: Any, listeners: Listeners, canaries: Canaries, parent: str
    ) -> None:
        payload = f"""
        time.sleep(1.0)
        for _ in range(15):
            try: socket.create_connection(("127.0.0.1", {listeners.tcp4_port}), timeout=0.2)
            except Exception: pass
            try: socket.socket(socket.AF_UNIX).connect({str(listeners.unix_path)!r})
            except Exception: pass
            try: open({str(canaries.directory / "daemon-was-here")!r}, "w").write("x")
            except Exception: pass
            time.sleep(0.1)
        os._exit(0)
        """
        code = DAEMON.format(
            payload=textwrap.indent(textwrap.dedent(payload), " " * 8).strip(),
            parent_tail="time.sleep(60)" if parent != "exits" else "",
        )
        result = any_sandbox.run(code, timeout=1.0 if parent != "exits" else 5.0)
        assert "parent leaves" in result.stdout
        time.sleep(2.5)  # the daemon would have acted by now
        assert listeners.contacts() == []
        assert not (canaries.directory / "daemon-was-here").exists()
        if IS_ROOT:
            assert wait_until_no_jail_processes(0.5) == []

    @pytest.mark.slow
    def test_exec_daemon_with_a_host_visible_marker(self, any_sandbox: Any) -> None:
        marker = "daemon-marker-" + secrets.token_hex(8)
        payload = f'os.execv("/usr/bin/python3", ["python3", "-c", "import time; time.sleep(120)", {marker!r}])'
        result = any_sandbox.run(DAEMON.format(payload=payload, parent_tail=""), timeout=5)
        assert result.exit_code == 0
        time.sleep(0.5)
        assert live_processes_with(marker) == [], "a process started in the jail is still running on the host"

    @pytest.mark.slow
    def test_the_jail_dies_with_its_parent(self) -> None:
        # A host process runs the sandbox; we SIGKILL it mid-run (no cleanup code runs) and
        # check from the host that the jail's processes are gone.
        marker = "orphan-marker-" + secrets.token_hex(8)
        jail_code = (
            "import os, time\n"
            "if os.fork() == 0:\n"
            "    os.setsid()\n"
            f"    os.execv('/usr/bin/python3', ['python3', '-c', 'import time; time.sleep(120)', {marker!r}])\n"
            "time.sleep(120)\n"
        )
        runner = (
            "import sys, json\n"
            "from purpose_agent_sandbox.sandbox import BwrapSandbox\n"
            "from purpose_agent_sandbox.settings import SandboxSettings\n"
            f"settings = SandboxSettings(**json.loads({__import__('json').dumps(BASE_SETTINGS)!r}))\n"
            f"BwrapSandbox(settings).run({jail_code!r}, timeout=60)\n"
        )
        host = subprocess.Popen([sys.executable, "-c", runner])
        try:
            deadline = time.monotonic() + 10
            while not live_processes_with(marker) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert live_processes_with(marker), "the jail never started"
            host.send_signal(signal.SIGKILL)
            host.wait()
            deadline = time.monotonic() + 3
            while live_processes_with(marker) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert live_processes_with(marker) == [], "the jail outlived the process that ran it"
        finally:
            host.kill()
            host.wait()
            for pid in live_processes_with(marker):
                os.kill(pid, signal.SIGKILL)


# =========================================================================== resources


HANGS = {
    "busy loop": "while True:\n    pass",
    "time.sleep in C": "import time\ntime.sleep(60)",
    "signal.pause": "import signal\nsignal.pause()",
    "blocking os.read": "import os\nr, w = os.pipe()\nos.read(r, 1)",
    "ignores SIGTERM and SIGINT": (
        "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "signal.signal(signal.SIGINT, signal.SIG_IGN)\ntime.sleep(60)"
    ),
    "lock deadlock": "import threading\nlock = threading.Lock()\nlock.acquire()\nlock.acquire()",
}


@pytest.mark.slow
@pytest.mark.parametrize("kind", list(HANGS))
def test_hangs_are_killed_at_the_wall_clock_deadline(strict_sandbox: Any, kind: str) -> None:
    start = time.monotonic()
    result = strict_sandbox.run(HANGS[kind], timeout=1.0)
    elapsed = time.monotonic() - start
    assert result.timed_out and result.exit_code != 0
    assert elapsed < 1.0 + 2.5, f"the deadline was 1 s but the run took {elapsed:.1f} s"
    if IS_ROOT:
        assert wait_until_no_jail_processes() == []


@pytest.mark.slow
def test_cpu_time_limit_ends_a_busy_loop_before_the_wall_clock(canaries: Canaries) -> None:
    sandbox = build_sandbox(**{**BASE_SETTINGS, "cpu_s": 1})
    start = time.monotonic()
    result = sandbox.run("while True:\n    pass", timeout=15)
    elapsed = time.monotonic() - start
    assert not result.timed_out and elapsed < 8, f"RLIMIT_CPU did not stop the loop ({elapsed:.1f} s)"
    assert result.exit_code not in (0, None)
    assert "SIGXCPU" in result.reason or "SIGKILL" in result.reason


@needs_root
@pytest.mark.slow
def test_memory_bomb_is_capped(strict_sandbox: Any) -> None:
    with Watcher() as seen:
        result = strict_sandbox.run("chunks = []\nwhile True:\n    chunks.append(b'x' * (16 << 20))", timeout=10)
    assert result.exit_code != 0 and "MemoryError" in result.stderr
    limit_kb = BASE_SETTINGS["memory_mb"] * 1024
    assert seen.rss_single_kb > 0, "the host never saw the jail"
    assert seen.rss_single_kb <= limit_kb + 16 * 1024, f"peak RSS {seen.rss_single_kb} kB"


@needs_root
@pytest.mark.slow
def test_memory_bomb_across_processes_is_bounded_by_processes_times_memory() -> None:
    # RLIMIT_AS is per process: a process tree can use up to max_processes x memory_mb
    # (a documented limit; there is no cgroup memory cap). Check the bound holds.
    sandbox = build_sandbox(**{**BASE_SETTINGS, "memory_mb": 64, "max_processes": 8})
    code = (
        "import os, time\n"
        "for _ in range(20):\n"
        "    try:\n"
        "        if os.fork() == 0:\n"
        "            break\n"
        "    except OSError:\n"
        "        break\n"
        "chunks = []\n"
        "try:\n"
        "    while True:\n"
        "        chunks.append(b'x' * (4 << 20))\n"
        "except MemoryError:\n"
        "    time.sleep(1)\n"
    )
    with Watcher() as seen:
        sandbox.run(code, timeout=4)
    assert seen.processes >= 2, "the host never saw the jail's processes"
    assert seen.rss_total_kb <= 8 * 64 * 1024 + 32 * 1024, f"total RSS {seen.rss_total_kb} kB"


@needs_root
@pytest.mark.slow
def test_fork_bomb_is_capped(strict_sandbox: Any) -> None:
    code = "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass"
    with Watcher() as seen:
        result = strict_sandbox.run(code, timeout=1.5)
    assert result.timed_out
    # RLIMIT_NPROC counts every process of the jail's uid, bwrap's two included.
    assert seen.processes >= 2, "the host never saw the jail's processes"
    assert seen.processes <= BASE_SETTINGS["max_processes"] + 1, f"{seen.processes} processes"
    assert wait_until_no_jail_processes() == []


@needs_root
@pytest.mark.slow
def test_disk_bomb_is_capped_by_the_tmpfs(strict_sandbox: Any) -> None:
    code = textwrap.dedent(
        """
        import os
        block = b"x" * (1 << 20)
        for place in ("/work", "/tmp", "/dev/shm", "/dev", "/"):
            for i in range(200):
                try:
                    with open(f"{place}/fill-{i}", "wb") as handle:
                        for _ in range(4):
                            handle.write(block)
                except OSError as exc:
                    print(place, i, exc)
                    break
        """
    )
    with Watcher() as seen:
        result = strict_sandbox.run(code, timeout=10)
    assert "No space left" in result.stdout
    cap = BASE_SETTINGS["tmpfs_mb"] << 20
    assert 0 < seen.work_used_bytes <= cap, f"/work used {seen.work_used_bytes} bytes"
    assert seen.dev_used_bytes < 1 << 20, f"/dev used {seen.dev_used_bytes} bytes"


@pytest.mark.slow
@pytest.mark.parametrize("fd", [1, 2])
def test_output_bomb_is_capped_and_cut_short(strict_sandbox: Any, fd: int) -> None:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.monotonic()
    result = strict_sandbox.run(f"import os\nwhile True:\n    os.write({fd}, b'x' * 65536)", timeout=20)
    elapsed = time.monotonic() - start
    cap = BASE_SETTINGS["max_output_bytes"]
    assert result.truncated and not result.timed_out and elapsed < 5
    assert len(result.stdout.encode()) <= cap and len(result.stderr.encode()) <= cap
    grown_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kb < 64 * 1024, f"the host process grew by {grown_kb} kB"


@needs_root
def test_fd_exhaustion_is_capped(strict_sandbox: Any) -> None:
    host_fds = len(os.listdir("/proc/self/fd"))
    code = "import os, time\nfds = []\ntry:\n    while True:\n        fds.append(os.open('/dev/null', 0))\nexcept OSError as e:\n    print(len(fds), e)\ntime.sleep(0.5)"
    with Watcher() as seen:
        result = strict_sandbox.run(code, timeout=5)
    assert "Too many open files" in result.stdout
    assert seen.fds_single > 0, "the host never saw the jail"
    assert seen.fds_single <= BASE_SETTINGS["max_open_files"] + 1, f"{seen.fds_single} fds"
    assert len(os.listdir("/proc/self/fd")) == host_fds


@pytest.mark.parametrize(
    "crash",
    [
        "import ctypes\nctypes.string_at(0)",
        "import sys\nsys.setrecursionlimit(10**7)\nx = []\nfor _ in range(2 * 10**5):\n    x = [x]\nrepr(x)",
    ],
    ids=["ctypes segfault", "C stack overflow"],
)
def test_interpreter_crashes_are_contained(strict_sandbox: Any, crash: str) -> None:
    result = strict_sandbox.run(crash, timeout=10)
    assert result.exit_code == 128 + signal.SIGSEGV and "SIGSEGV" in result.reason
    assert strict_sandbox.run("print('still fine')").stdout == "still fine\n"


def test_uid_inside_is_not_root_and_not_the_host_user(strict_sandbox: Any) -> None:
    if not IS_ROOT:
        pytest.skip("as a non-root host the jail runs as the host user by design")
    with Watcher() as seen:
        result = strict_sandbox.run("import os, time\nprint(os.getuid())\ntime.sleep(0.3)")
    assert result.stdout.strip() == "65534"
    assert seen.processes >= 1, f"the host saw no process of uid {TEST_UID}: the jail did not run as it"
