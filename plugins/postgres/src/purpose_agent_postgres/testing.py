"""A throwaway PostgreSQL cluster for tests and benchmarks: a real server, loopback only.

::

    cluster = ThrowawayCluster.start()        # raises ClusterUnavailable with the reason
    with serving(cluster):                    # its password in os.environ[cluster.password_env]
        dsn = cluster.dsn                     # postgresql://pa@127.0.0.1:PORT/postgres
        ...                                   # on exit: the variable restored, the cluster stopped

``initdb`` writes a new cluster into a temporary directory with password (SCRAM) logins; the
server listens on 127.0.0.1 at a free port, with its Unix socket in that directory. PostgreSQL
refuses to run as root, so when this process is root the cluster belongs to an unprivileged
system user (``pa_test``, created if missing) and the server programs run through ``runuser``.
The server binaries are found on ``PATH``, else under ``/usr/lib/postgresql/*/bin`` (Debian).
"""

from __future__ import annotations

import glob
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

#: The unprivileged user that owns the cluster when the tests run as root.
TEST_USER = "pa_test"
#: The database role the tests log in as (the cluster's superuser).
ROLE = "pa"
PASSWORD_ENV = "PURPOSE_AGENT_TEST_PG_PASSWORD"


class ClusterUnavailable(RuntimeError):
    """A throwaway cluster cannot be started here; the message says why (tests skip with it)."""


def schema_for(key: str) -> str:
    """A schema name of its own for ``key`` (say, a test's ``tmp_path``): the same key, the same schema."""
    import hashlib

    return "t_" + hashlib.sha256(key.encode()).hexdigest()[:20]


def server_binaries() -> Path:
    """The directory holding ``initdb`` and ``pg_ctl``, or :class:`ClusterUnavailable`."""
    found = shutil.which("pg_ctl")
    if found and shutil.which("initdb"):
        return Path(os.path.realpath(found)).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), reverse=True)
    if candidates:
        return Path(candidates[0]).parent
    raise ClusterUnavailable(
        "PostgreSQL's server programs (initdb, pg_ctl) are not installed; on Debian or Ubuntu: "
        "apt-get install postgresql"
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _ensure_test_user() -> None:
    if subprocess.run(["id", "-u", TEST_USER], capture_output=True).returncode == 0:
        return
    made = subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", TEST_USER],
                          capture_output=True, text=True)
    if made.returncode != 0 and subprocess.run(["id", "-u", TEST_USER], capture_output=True).returncode != 0:
        raise ClusterUnavailable(f"running as root, and the unprivileged user {TEST_USER} for PostgreSQL cannot be "
                                 f"created: {made.stderr.strip() or made.returncode}")


def _base_directory(run_as: str | None) -> str | None:
    """Where the cluster's directory goes: the usual temporary directory, unless the cluster's
    user could not reach it (a root-only ``TMPDIR``), then ``/tmp``."""
    base = Path(tempfile.gettempdir())
    if run_as is None:
        return None
    reachable = all(part.stat().st_mode & 0o001 for part in (base, *base.parents))
    return None if reachable else "/tmp"


@dataclass
class ThrowawayCluster:
    """A running server in a temporary directory (see the module docstring)."""

    directory: Path
    port: int
    password: str
    bin_dir: Path
    run_as: str | None = None
    settings: dict[str, str] = field(default_factory=dict)
    password_env: str = PASSWORD_ENV

    @property
    def dsn(self) -> str:
        """A connection URI without the password (it goes through :attr:`password_env`)."""
        return f"postgresql://{ROLE}@127.0.0.1:{self.port}/postgres"

    @classmethod
    def start(cls, *, settings: dict[str, str] | None = None, timeout: float = 60.0) -> ThrowawayCluster:
        """initdb, then start the server; ``settings`` are extra ``postgres -c`` parameters."""
        bin_dir = server_binaries()
        run_as = None
        if os.geteuid() == 0:
            if not shutil.which("runuser"):
                raise ClusterUnavailable("running as root without runuser, so PostgreSQL cannot be started as an "
                                         "unprivileged user")
            _ensure_test_user()
            run_as = TEST_USER
        directory = Path(tempfile.mkdtemp(prefix="pa-postgres-", dir=_base_directory(run_as)))
        cluster = cls(directory=directory, port=_free_port(), password=secrets.token_urlsafe(18), bin_dir=bin_dir,
                      run_as=run_as, settings=dict(settings or {}))
        try:
            cluster._init(timeout)
            cluster._start(timeout)
        except BaseException:
            cluster.stop()
            raise
        return cluster

    def _command(self, program: str, *arguments: str) -> list[str]:
        command = [str(self.bin_dir / program), *arguments]
        return ["runuser", "-u", self.run_as, "--", *command] if self.run_as else command

    def _run(self, what: str, command: list[str], timeout: float) -> None:
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise ClusterUnavailable(f"{what} did not finish within {timeout:g} s") from None
        if done.returncode != 0:
            detail = (done.stderr or done.stdout).strip().splitlines()
            raise ClusterUnavailable(f"{what} failed: {detail[-1] if detail else done.returncode}")

    def _init(self, timeout: float) -> None:
        data = self.directory / "data"
        password_file = self.directory / "password"
        password_file.write_text(self.password + "\n")
        password_file.chmod(0o600)
        if self.run_as:
            shutil.chown(self.directory, self.run_as)
            shutil.chown(password_file, self.run_as)
        self._run("initdb", self._command(
            "initdb", "-D", str(data), "-U", ROLE, "--auth=scram-sha-256", f"--pwfile={password_file}",
            "--encoding=UTF8", "--locale=C.UTF-8", "--no-instructions"), timeout)
        password_file.unlink()

    def _start(self, timeout: float) -> None:
        options = {"listen_addresses": "127.0.0.1", "port": str(self.port),
                   "unix_socket_directories": str(self.directory), **self.settings}
        flags = " ".join(f"-c {key}={value}" for key, value in options.items())
        self._run("pg_ctl start", self._command(
            "pg_ctl", "-D", str(self.directory / "data"), "-l", str(self.directory / "server.log"), "-w",
            "-t", str(int(timeout)), "-o", flags, "start"), timeout + 10)

    def stop(self) -> None:
        """Stop the server (fast shutdown) and delete the directory."""
        if (self.directory / "data" / "postmaster.pid").exists():
            subprocess.run(self._command("pg_ctl", "-D", str(self.directory / "data"), "-m", "immediate", "-w", "stop"),
                           capture_output=True, timeout=60)
        shutil.rmtree(self.directory, ignore_errors=True)

    def log_tail(self, lines: int = 20) -> str:
        """The end of the server's log (for failure messages)."""
        try:
            return "\n".join((self.directory / "server.log").read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


@contextmanager
def serving(cluster: ThrowawayCluster) -> Iterator[ThrowawayCluster]:
    """``cluster`` with its password in the environment under ``password_env`` (where the store's
    ``password_env`` option reads it, and where processes started meanwhile inherit it); on exit
    the variable is as it was and the cluster is stopped."""
    previous = os.environ.get(cluster.password_env)
    os.environ[cluster.password_env] = cluster.password
    try:
        yield cluster
    finally:
        if previous is None:
            os.environ.pop(cluster.password_env, None)
        else:
            os.environ[cluster.password_env] = previous
        cluster.stop()
