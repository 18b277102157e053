"""``BwrapSandbox``: run untrusted Python in a bubblewrap jail, judged and killed from the host.

The layers, from the outside in (``docs/security.md`` says what each one protects):

- **process**: the code runs in another process; this parent enforces a wall-clock deadline and
  kills bwrap's process group with SIGKILL when it passes;
- **env_scrub**: bwrap itself is executed with an *empty* environment (bwrap's own first
  process keeps the environment it was started with, and ``/proc/1/environ`` would show it);
  the jail gets only ``PATH``, ``HOME``, ``TMPDIR``, ``LANG``;
- **uid**: when the host runs as root, bwrap is started as ``run_as_uid``/``run_as_gid``
  (default nobody), so the jail is an unprivileged user namespace owned by a non-root uid;
- **bwrap**: new user, pid, network, ipc, uts, cgroup and mount namespaces; the system is
  bound read-only, ``/work`` is a size-capped tmpfs, ``/dev`` is minimal and read-only, the
  network namespace has only its own loopback; no nested user namespaces;
- **die_with_parent**: the jail gets SIGKILL if this process dies;
- **seccomp**: a syscall denylist (see :mod:`purpose_agent_sandbox.seccomp_filter`);
- **rlimits** and **landlock**: applied by the in-jail bootstrap before the code exists;
- **output_cap**: stdout and stderr are read with a byte cap each; the run is killed when a
  stream overflows, so an output bomb costs neither host memory nor the whole timeout;
- **jail_bound**: the whole jail's memory and task count are bounded together — by a cgroup the
  jail is born in, or without one by fewer processes (see :mod:`purpose_agent_sandbox.jail_bound`).
"""

from __future__ import annotations

import json
import math
import os
import selectors
import signal
import subprocess
import time
from collections.abc import Sequence
from importlib import resources
from typing import Any

from . import jail_bound
from .layers import INSTALL_HINTS, Probe, find_bwrap, probe_all
from .settings import LAYER_NAMES, SandboxSettings

#: The writable, size-capped work directory inside the jail (also HOME, TMPDIR and /tmp).
WORKDIR = "/work"
#: Device files the code may read and write; everything else under /dev is read-only or absent.
_DEVICE_FILES = ("/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom")
#: Files from /etc the dynamic loader and the interpreter use; the rest of /etc stays outside.
_ETC_FILES = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime", "/etc/alternatives")
_STATUS_CAP = 64 * 1024
_READ_CHUNK = 64 * 1024
#: How long to wait for pipes to close after a kill before giving up on them.
_KILL_GRACE_S = 2.0


def _bootstrap_source() -> str:
    return resources.files(__package__).joinpath("bootstrap.py").read_text(encoding="utf-8")


class BwrapSandbox:
    """A sandbox built from bubblewrap and kernel features; see the module docstring.

    It refuses to run (``SandboxUnavailable``) when a layer its policy requires is missing.
    """

    name = "sandbox"

    def __init__(self, settings: SandboxSettings | None = None) -> None:
        self.settings = settings or SandboxSettings()
        self._bootstrap = _bootstrap_source()

    @classmethod
    def from_context(cls, context: Any) -> BwrapSandbox:
        """Build from a :class:`purpose_agent.interfaces.ComponentContext`; ``options`` override settings."""
        settings = context.settings if isinstance(context.settings, SandboxSettings) else SandboxSettings()
        if context.options:
            settings = SandboxSettings.model_validate({**settings.model_dump(), **context.options})
        return cls(settings)

    # ------------------------------------------------------------------ layers

    def _probes(self) -> dict[str, Probe]:
        s = self.settings
        return probe_all(
            s.bwrap, s.run_as_uid, s.run_as_gid, s.python, frozenset(s.disable_layers), jail_bound.probe(s)
        )

    def jail_bound_detail(self) -> str:
        """How the whole jail is bounded on this machine, in words (``sandbox run`` prints it)."""
        return jail_bound.probe(self.settings)[1]

    def layers(self) -> list[Any]:
        """Each layer, whether this machine provides it, and how to get it when it does not."""
        from purpose_agent.models import LayerStatus

        required = self.settings.required()
        result = []
        for name, probe in self._probes().items():
            need = "required" if name in required else "used when available"
            detail = f"{probe.detail} [{need}]"
            if not probe.available and name in INSTALL_HINTS and name not in self.settings.disable_layers:
                detail += f"; to enable it: {INSTALL_HINTS[name]}"
            result.append(LayerStatus(name=name, available=probe.available, detail=detail))
        return result

    def _check_required(self, probes: dict[str, Probe]) -> None:
        from purpose_agent.errors import SandboxUnavailable

        missing = [name for name in LAYER_NAMES if name in self.settings.required() and not probes[name].available]
        if not missing:
            return
        if "bwrap" in missing:  # these two only fail because bwrap does; name the cause once
            missing = [name for name in missing if name not in ("die_with_parent", "uid")]
        parts = [
            f"'{name}' ({probes[name].detail}); to enable it: {INSTALL_HINTS.get(name, 'see docs/security.md')}"
            for name in missing
        ]
        hint = ""
        if set(missing) <= {"seccomp", "landlock"} and self.settings.policy == "strict":
            hint = ' If you accept running without them, set [plugins.sandbox] policy = "standard".'
        raise SandboxUnavailable(
            f"the sandbox refuses to run code: policy '{self.settings.policy}' requires layer(s) this machine "
            f"lacks: {' | '.join(parts)}.{hint}"
        )

    # ------------------------------------------------------------------ the jail

    def _read_only_paths(self) -> list[str]:
        paths = ["/usr"]
        for name in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
            if os.path.exists(name):
                paths.append(name)
        python_real = os.path.realpath(self.settings.python)
        if not any(python_real == p or python_real.startswith(p + "/") for p in paths):
            # An interpreter outside /usr (e.g. /opt/python): bind its prefix, i.e. bin/..
            paths.append(os.path.dirname(os.path.dirname(python_real)))
        paths.extend(self.settings.extra_ro_paths)
        return paths

    def _bwrap_argv(self, bwrap: str, *, seccomp_fd: int | None, status_fd: int) -> list[str]:
        s = self.settings
        argv = [
            bwrap,
            "--unshare-all",  # user, ipc, pid, net, uts, cgroup: no network but an own loopback
            "--unshare-user",
            "--disable-userns",  # no nested user namespaces (the usual first step of an escape)
            "--die-with-parent",
            "--new-session",  # setsid: the code cannot push input into a host terminal (TIOCSTI)
            "--uid",
            "65534",
            "--gid",
            "65534",
            "--hostname",
            "sandbox",
        ]
        for path in self._read_only_paths():
            if os.path.islink(path):
                argv += ["--symlink", os.readlink(path), path]
            else:
                argv += ["--ro-bind", path, path]
        for path in _ETC_FILES:
            argv += ["--ro-bind-try", path, path]
        argv += [
            "--proc",
            "/proc",
            "--dev",
            "/dev",
            # bwrap's /dev is an uncapped tmpfs owned by the jail's uid: without this, /dev/shm
            # would be a way around the work directory's size cap. Device nodes stay usable.
            "--remount-ro",
            "/dev",
            "--size",
            str(s.tmpfs_mb * 1024 * 1024),
            "--tmpfs",
            WORKDIR,
            "--symlink",
            WORKDIR,
            "/tmp",
            "--chdir",
            WORKDIR,
            "--clearenv",
            "--setenv",
            "PATH",
            "/usr/local/bin:/usr/bin:/bin",
            "--setenv",
            "HOME",
            WORKDIR,
            "--setenv",
            "TMPDIR",
            WORKDIR,
            "--setenv",
            "LANG",
            "C.UTF-8",
        ]
        if seccomp_fd is not None:
            argv += ["--add-seccomp-fd", str(seccomp_fd)]
        argv += ["--", s.python, "-I", "-c", self._bootstrap, str(status_fd)]
        return argv

    def _limits(self, timeout: float, bound: jail_bound.JailBound) -> dict[str, int]:
        s = self.settings
        return {
            "memory_bytes": bound.memory_per_process,
            "cpu_s": s.cpu_s or math.ceil(timeout) + 1,
            "processes": bound.processes,
            "file_bytes": s.max_file_mb * 1024 * 1024,
            "open_files": s.max_open_files,
            "core_bytes": 0,
        }

    # ------------------------------------------------------------------ run

    def run(self, code: str, *, timeout: float = 10.0, files: dict[str, str] | None = None) -> Any:
        """Run ``code`` in the jail and return an :class:`purpose_agent.models.ExecResult`.

        Raises ``SandboxUnavailable`` (naming the missing layer and how to install it) instead
        of running with a required layer missing, or when the jail fails to start.
        """
        from purpose_agent.errors import SandboxUnavailable

        probes = self._probes()
        self._check_required(probes)
        s = self.settings
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not math.isfinite(timeout):
            raise ValueError(f"timeout must be a finite number of seconds, not {timeout!r}")
        timeout = min(max(float(timeout), 0.1), s.max_timeout_s)
        bwrap = find_bwrap(s.bwrap)
        assert bwrap is not None  # the bwrap layer is always required
        for name in files or {}:
            _check_file_name(name)
        try:
            bound = jail_bound.prepare(s)
        except jail_bound.CgroupUnavailable as exc:
            raise SandboxUnavailable(
                f'the sandbox refuses to run code: jail_bound = "cgroup" but no cgroup can be created here '
                f"({exc}); to enable it: {INSTALL_HINTS['jail_bound']}"
            ) from exc
        try:
            return self._run_bounded(code, timeout, files or {}, probes, bound, bwrap)
        finally:
            bound.release()

    def _run_bounded(
        self,
        code: str,
        timeout: float,
        files: dict[str, str],
        probes: dict[str, Probe],
        bound: jail_bound.JailBound,
        bwrap: str,
    ) -> Any:
        from purpose_agent.errors import SandboxUnavailable
        from purpose_agent.models import ExecResult

        s = self.settings
        use_seccomp = probes["seccomp"].available
        use_landlock = probes["landlock"].available
        payload = json.dumps(
            {
                "code": code,
                "files": dict(files),
                "limits": self._limits(timeout, bound),
                "landlock": {
                    "wanted": use_landlock,
                    "required": "landlock" in s.required(),
                    "read_only": [*self._read_only_paths(), "/etc", "/proc"],
                    "read_write_files": list(_DEVICE_FILES),
                },
            }
        ).encode("utf-8")

        seccomp_fd: int | None = None
        if use_seccomp:
            from .seccomp_filter import compiled_filter

            seccomp_fd = os.memfd_create("purpose-agent-seccomp")
            os.write(seccomp_fd, compiled_filter())
            os.lseek(seccomp_fd, 0, os.SEEK_SET)
        status_r, status_w = os.pipe()
        pass_fds = (status_w,) if seccomp_fd is None else (status_w, seccomp_fd)
        popen_kwargs: dict[str, Any] = {}
        argv = self._bwrap_argv(bwrap, seccomp_fd=seccomp_fd, status_fd=status_w)
        drop = (s.run_as_uid, s.run_as_gid) if os.geteuid() == 0 else (None, None)
        if bound.cgroup is not None:
            # joins the cgroup, then drops to the jail's uid: every jail process is born bounded
            argv = jail_bound.trampoline_argv(bound, drop[0], drop[1], argv)
        elif drop[0] is not None:
            popen_kwargs.update(user=drop[0], group=drop[1], extra_groups=[])
        start = time.monotonic()
        try:
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env={},  # scrubbed BEFORE the jail: bwrap's pid 1 keeps whatever it is given
                cwd="/",
                pass_fds=pass_fds,
                close_fds=True,
                start_new_session=True,  # one process group to kill; no controlling terminal
                bufsize=0,
                **popen_kwargs,
            )
        except OSError as exc:
            os.close(status_r)
            raise SandboxUnavailable(f"could not start bubblewrap ({bwrap}): {exc}") from exc
        finally:
            os.close(status_w)
            if seccomp_fd is not None:
                os.close(seccomp_fd)

        outcome = _Collector(proc, status_r, payload, s.max_output_bytes).collect(start + timeout)
        duration = time.monotonic() - start
        status = outcome.status
        if status is None and not outcome.timed_out:
            why = outcome.stderr.decode("utf-8", "replace").strip()[-500:]
            raise SandboxUnavailable(
                f"the jail failed to start (bwrap exit status {proc.returncode}): {why or 'no message'}. "
                "Run 'purpose-agent sandbox layers' to check each layer."
            )
        if status is not None and not status.get("ok", False):
            error = str(status.get("error", "unknown error"))
            if status.get("stage") == "landlock":
                raise SandboxUnavailable(
                    f"Landlock is required but could not be applied inside the jail: {error}; "
                    f"to enable it: {INSTALL_HINTS['landlock']}"
                )
            if status.get("stage") != "files":
                raise SandboxUnavailable(f"the jail could not apply its limits ({status.get('stage')}): {error}")
            message = f"the files could not be written to {WORKDIR} (tmpfs_mb = {s.tmpfs_mb}): {error}"
            return ExecResult(exit_code=125, stderr=message, duration_s=duration, reason=message)

        layers = {name: probes[name].available for name in LAYER_NAMES}
        layers["seccomp"] = use_seccomp
        layers["rlimits"] = bool(status and status.get("rlimits"))
        layers["landlock"] = bool(status and status.get("landlock"))
        layers["jail_bound"] = True  # a cgroup or the rlimit fallback; prepare() refused otherwise
        exit_code = proc.returncode
        if outcome.timed_out:
            reason = f"killed at the wall-clock limit of {timeout:g} s"
        elif outcome.overflow:
            reason = f"killed: {outcome.overflow} exceeded max_output_bytes ({s.max_output_bytes} bytes)"
        elif exit_code is not None and exit_code > 128 and exit_code - 128 in _SIGNAL_NAMES:
            reason = f"exit status {exit_code}: the code was killed by {_SIGNAL_NAMES[exit_code - 128]}"
        else:
            reason = f"exit status {exit_code}"
        hit = bound.outcome()
        if hit:
            reason += f"; {hit}"
        return ExecResult(
            exit_code=exit_code,
            stdout=outcome.stdout.decode("utf-8", "replace"),
            stderr=outcome.stderr.decode("utf-8", "replace"),
            timed_out=outcome.timed_out,
            truncated=outcome.truncated,
            duration_s=duration,
            layers=layers,
            reason=reason,
        )


_SIGNAL_NAMES = {int(sig): sig.name for sig in signal.Signals}


def _check_file_name(name: str) -> None:
    """Refuse file names that are absolute or climb out of the work directory."""
    parts = name.replace("\\", "/").split("/")
    if not name or name.startswith("/") or ".." in parts or "\x00" in name:
        raise ValueError(f"file name {name!r} must be a relative path inside the work directory")


class _Outcome:
    def __init__(self) -> None:
        self.stdout = b""
        self.stderr = b""
        self.status: dict[str, Any] | None = None
        self.timed_out = False
        self.truncated = False
        self.overflow = ""


class _Collector:
    """Feed the payload, read the three pipes with caps, and kill at the deadline or on overflow."""

    def __init__(self, proc: subprocess.Popen[bytes], status_fd: int, payload: bytes, cap: int) -> None:
        self.proc = proc
        self.payload = memoryview(payload)
        self.cap = cap
        assert proc.stdin and proc.stdout and proc.stderr
        self.fds = {proc.stdout.fileno(): "stdout", proc.stderr.fileno(): "stderr", status_fd: "status"}
        self.stdin_fd = proc.stdin.fileno()
        self.status_fd = status_fd
        self.buffers = {name: bytearray() for name in self.fds.values()}
        self.killed = False

    def kill(self) -> None:
        """SIGKILL bwrap's process group; bwrap's pid 1 then dies (die-with-parent), which
        takes every process in the jail's pid namespace with it, including daemons that
        called setsid() to leave the group."""
        self.killed = True
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.kill()
        except ProcessLookupError:
            pass

    def collect(self, deadline: float) -> _Outcome:
        outcome = _Outcome()
        selector = selectors.DefaultSelector()
        os.set_blocking(self.stdin_fd, False)
        selector.register(self.stdin_fd, selectors.EVENT_WRITE)
        for fd in self.fds:
            os.set_blocking(fd, False)
            selector.register(fd, selectors.EVENT_READ)
        written = 0
        give_up_at = math.inf
        try:
            while selector.get_map():
                now = time.monotonic()
                if not self.killed and now >= deadline:
                    outcome.timed_out = True
                    self.kill()
                if self.killed:
                    give_up_at = min(give_up_at, now + _KILL_GRACE_S)
                    if now >= give_up_at:
                        break
                wait = max(0.0, min(deadline - now, 0.5)) if not self.killed else 0.1
                for key, _ in selector.select(wait):
                    fd = key.fd
                    if fd == self.stdin_fd:
                        try:
                            written += os.write(fd, self.payload[written : written + _READ_CHUNK])
                        except BlockingIOError:
                            continue
                        except (BrokenPipeError, OSError):
                            written = len(self.payload)
                        if written >= len(self.payload):
                            selector.unregister(fd)
                            self.proc.stdin.close()  # type: ignore[union-attr]
                        continue
                    try:
                        data = os.read(fd, _READ_CHUNK)
                    except BlockingIOError:
                        continue
                    if not data:
                        selector.unregister(fd)
                        continue
                    name = self.fds[fd]
                    buffer = self.buffers[name]
                    cap = _STATUS_CAP if name == "status" else self.cap
                    room = cap - len(buffer)
                    buffer += data[: max(room, 0)]
                    if len(data) > room and name != "status":
                        outcome.truncated = True
                        if not self.killed:
                            outcome.overflow = name
                            self.kill()
        finally:
            selector.close()
            for handle in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
                if handle is not None and not handle.closed:
                    handle.close()
            os.close(self.status_fd)
        try:
            self.proc.wait(timeout=max(0.0, deadline - time.monotonic()) + _KILL_GRACE_S)
        except subprocess.TimeoutExpired:
            outcome.timed_out = True
            self.kill()
            self.proc.wait()
        outcome.stdout = bytes(self.buffers["stdout"])
        outcome.stderr = bytes(self.buffers["stderr"])
        first_line, newline, _ = bytes(self.buffers["status"]).partition(b"\n")
        if newline:  # only a complete first line counts: it was written before the code ran
            try:
                parsed = json.loads(first_line)
                outcome.status = parsed if isinstance(parsed, dict) else None
            except ValueError:
                outcome.status = None
        return outcome


def describe_layers(layers: Sequence[Any]) -> str:
    """A few lines for humans: one per layer, available or not, with its detail."""
    return "\n".join(f"  [{'x' if layer.available else ' '}] {layer.name}: {layer.detail}" for layer in layers)
