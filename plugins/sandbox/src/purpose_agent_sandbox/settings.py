"""The ``[plugins.sandbox]`` settings and the policy levels.

Example::

    [plugins.sandbox]
    policy = "strict"          # every layer must be available, or nothing runs
    memory_mb = 512            # address-space limit per process
    jail_memory_mb = 1024      # everything one run holds together (cgroup), all processes and /work
    timeout_s = 10             # default wall-clock limit for the tool and the CLI
    max_output_bytes = 1000000 # per stream; the run is killed when a stream exceeds it
    tmpfs_mb = 64              # size of the writable work directory
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

#: Every layer the sandbox knows, in the order ``layers()`` reports them.
LAYER_NAMES: tuple[str, ...] = (
    "process",
    "env_scrub",
    "bwrap",
    "die_with_parent",
    "uid",
    "rlimits",
    "jail_bound",
    "seccomp",
    "landlock",
    "output_cap",
)

#: What each policy requires. ``strict`` requires everything; ``standard`` lets seccomp and
#: Landlock be missing (they are still applied when available, and each run reports them).
#: ``jail_bound`` is available whenever the jail can be bounded as a whole: by a cgroup, or by
#: the documented rlimit fallback unless ``jail_bound = "cgroup"`` forbids it.
POLICY_LAYERS: dict[str, frozenset[str]] = {
    "strict": frozenset(LAYER_NAMES),
    "standard": frozenset(
        {"process", "env_scrub", "bwrap", "die_with_parent", "uid", "rlimits", "jail_bound", "output_cap"}
    ),
}


# Upper bounds keep every value inside what the kernel's interfaces take (rlimits, uids, pid_max).
_MAX_MIB = 1 << 30  # 1 EiB in MiB
_MAX_SECONDS = 7 * 24 * 3600.0
_MAX_PIDS = 1 << 22
_MAX_ID = (1 << 32) - 2


class SandboxSettings(BaseModel):
    """Validated ``[plugins.sandbox]`` section."""

    # nan and inf are never meant: nan passes no comparison, and inf overflows the rlimits
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    policy: Literal["strict", "standard"] = Field(
        default="strict",
        description="'strict' requires every layer; 'standard' requires bwrap, uid and rlimits.",
    )
    required_layers: list[str] = Field(
        default_factory=list, description="Layers required on top of the policy's (e.g. ['seccomp'])."
    )
    disable_layers: list[Literal["seccomp", "landlock"]] = Field(
        default_factory=list,
        description="Switch off an optional layer (for a kernel where it misbehaves, or to test the others).",
    )
    timeout_s: float = Field(default=10.0, gt=0, le=_MAX_SECONDS, description="Default wall-clock limit (tool and CLI).")
    max_timeout_s: float = Field(default=120.0, gt=0, le=_MAX_SECONDS, description="No run may ask for more than this.")
    memory_mb: int = Field(default=512, ge=64, le=_MAX_MIB, description="RLIMIT_AS per process, in MiB.")
    cpu_s: int | None = Field(default=None, ge=1, le=_MAX_SECONDS, description="RLIMIT_CPU; default: the run's timeout + 1 s.")
    max_processes: int = Field(default=32, ge=1, le=_MAX_PIDS, description="RLIMIT_NPROC inside the jail's user namespace.")
    jail_memory_mb: int = Field(
        default=1024,
        ge=64,
        le=_MAX_MIB,
        description="Memory the whole jail may hold (every process and the /work tmpfs), in MiB; a cgroup enforces it.",
    )
    jail_bound: Literal["auto", "cgroup", "rlimits"] = Field(
        default="auto",
        description=(
            "How the whole jail is bounded: 'auto' (a cgroup when one can be created here, else the rlimit "
            "fallback), 'cgroup' (refuse to run without one), 'rlimits' (always the fallback)."
        ),
    )
    cgroup_parent: str | None = Field(
        default=None,
        description="A delegated cgroup v2 directory to create each run's cgroup in (default: this process's own).",
    )
    host_memory_share: float = Field(
        default=0.25,
        gt=0,
        le=1,
        description=(
            "Without a cgroup: max_processes is lowered so that memory_mb x processes + tmpfs_mb stays within "
            "this share of the host's RAM."
        ),
    )
    max_open_files: int = Field(default=64, ge=16, le=1 << 20, description="RLIMIT_NOFILE.")
    max_file_mb: int = Field(default=16, ge=1, le=_MAX_MIB, description="RLIMIT_FSIZE: the largest file the code may write.")
    max_output_bytes: int = Field(default=1_000_000, ge=1024, le=1 << 40, description="Cap per stream (stdout, stderr).")
    tmpfs_mb: int = Field(default=64, ge=1, le=_MAX_MIB, description="Size of the writable tmpfs work directory (/work).")
    run_as_uid: int = Field(default=65534, ge=1, le=_MAX_ID, description="Host uid to drop to when the host runs as root.")
    run_as_gid: int = Field(default=65534, ge=1, le=_MAX_ID, description="Host gid to drop to when the host runs as root.")
    python: str = Field(default="/usr/bin/python3", description="Interpreter inside the jail (a host path).")
    extra_ro_paths: list[str] = Field(
        default_factory=list, description="More host paths bound read-only at the same place (e.g. a venv)."
    )
    bwrap: str | None = Field(default=None, description="Path of bwrap; default: found on PATH.")

    @field_validator("required_layers")
    @classmethod
    def _known_layers(cls, value: list[str]) -> list[str]:
        unknown = [name for name in value if name not in LAYER_NAMES]
        if unknown:
            raise ValueError(f"unknown layer(s) {', '.join(unknown)}; known layers: {', '.join(LAYER_NAMES)}")
        return value

    @field_validator("python", "extra_ro_paths", "cgroup_parent", "bwrap")
    @classmethod
    def _absolute(cls, value: str | list[str] | None) -> str | list[str] | None:
        for path in [value] if isinstance(value, str) else value or []:
            if not path.startswith("/"):
                raise ValueError(f"{path!r} must be an absolute host path")
            if any(char < " " or char == "\x7f" for char in path):
                raise ValueError(f"{path!r} contains a control character; give the path as it is on the host")
        return value

    @model_validator(mode="after")
    def _timeouts_agree(self) -> SandboxSettings:
        if self.timeout_s > self.max_timeout_s:
            raise ValueError(f"timeout_s ({self.timeout_s}) is larger than max_timeout_s ({self.max_timeout_s})")
        return self

    @model_validator(mode="after")
    def _tmpfs_fits_the_jail(self) -> SandboxSettings:
        # the /work tmpfs is charged to the jail's cgroup: it must leave room for the code itself
        if self.tmpfs_mb + 32 > self.jail_memory_mb:
            raise ValueError(
                f"tmpfs_mb ({self.tmpfs_mb}) leaves no room in jail_memory_mb ({self.jail_memory_mb}); "
                "raise jail_memory_mb or lower tmpfs_mb"
            )
        return self

    @model_validator(mode="after")
    def _disabled_not_required(self) -> SandboxSettings:
        clash = sorted(set(self.disable_layers) & self.required())
        if clash:
            raise ValueError(
                f"layer(s) {', '.join(clash)} are both disabled and required (policy '{self.policy}' or "
                'required_layers); use policy = "standard" to run without them'
            )
        return self

    def required(self) -> frozenset[str]:
        """The layers that must be available before any code runs."""
        return POLICY_LAYERS[self.policy] | frozenset(self.required_layers)
