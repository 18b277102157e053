"""``PythonExecTool``: the actor's ``python`` tool, which runs its code through the sandbox."""

from __future__ import annotations

import math
from typing import Any

_PARAMETERS: dict[str, Any] = {
    "type": "object",
    "properties": {
        "code": {"type": "string", "description": "Python source to run as a script; print what you need to see."},
        "timeout": {"type": "number", "exclusiveMinimum": 0, "description": "Wall-clock limit in seconds."},
    },
    "required": ["code"],
    "additionalProperties": False,
}


class PythonExecTool:
    """Runs Python in an isolated sandbox and returns its exit status and output.

    Errors — bad arguments, a sandbox that refuses to run on this machine, a non-zero exit, a
    timeout — come back as an ``Observation`` with ``ok=False`` and a readable ``error``; the
    tool never raises, so one bad call cannot end the agent's run.
    """

    name = "python"
    description = (
        "Run Python 3 code in an isolated sandbox (no network, read-only system, a small writable "
        "work directory that is discarded afterwards) and return its stdout, stderr and exit status."
    )
    parameters = _PARAMETERS

    def __init__(self, sandbox: Any, *, default_timeout: float = 10.0) -> None:
        self.sandbox = sandbox
        self.default_timeout = default_timeout

    def _validate(self, arguments: Any) -> tuple[str, float] | str:
        if not isinstance(arguments, dict):
            return f"arguments must be an object with 'code', got {type(arguments).__name__}"
        unknown = sorted(str(key) for key in arguments if key not in ("code", "timeout"))
        if unknown:
            return f"unknown argument(s) {', '.join(unknown)}; the python tool takes 'code' and optional 'timeout'"
        code = arguments.get("code")
        if not isinstance(code, str):
            return "argument 'code' is required and must be a string of Python source"
        timeout = arguments.get("timeout", self.default_timeout)
        if (
            isinstance(timeout, bool)
            or not isinstance(timeout, int | float)
            or not math.isfinite(timeout)
            or timeout <= 0
        ):
            return f"argument 'timeout' must be a positive number of seconds, got {timeout!r}"
        return code, float(timeout)

    def run(self, arguments: dict[str, Any]) -> Any:
        """Run ``arguments["code"]``; ``ok`` is true only for exit status 0 within the time limit."""
        from purpose_agent.errors import SandboxUnavailable
        from purpose_agent.models import Observation

        checked = self._validate(arguments)
        if isinstance(checked, str):
            return Observation(ok=False, error=checked)
        code, timeout = checked
        try:
            result = self.sandbox.run(code, timeout=timeout)
        except SandboxUnavailable as exc:
            return Observation(ok=False, error=f"the sandbox is unavailable, so the code was not run: {exc}")
        output = result.stdout
        if result.stderr:
            output += ("\n" if output and not output.endswith("\n") else "") + "[stderr]\n" + result.stderr
        if result.truncated:
            output += "\n[output truncated]"
        ok = result.exit_code == 0 and not result.timed_out
        return Observation(
            ok=ok,
            output=output,
            error=None if ok else result.reason,
            data={
                "exit_code": result.exit_code,
                "timed_out": result.timed_out,
                "truncated": result.truncated,
                "duration_s": round(result.duration_s, 3),
                "layers": result.layers,
            },
        )
