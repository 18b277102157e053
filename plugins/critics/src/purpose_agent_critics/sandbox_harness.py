"""The program the falsification critic runs *inside the sandbox*; never imported to run on the host.

It reads ``falsify_input.json`` (candidate source, assertions, a per-run nonce), deletes it, sends
the candidate's own stdout/stderr to /dev/null, executes the candidate as a module, then each
assertion in a fresh copy of the candidate's namespace under a per-assertion alarm, and writes one
line ``PA-FALSIFY <nonce> <json report>`` to the saved original stdout.

The critic sends this file's source followed by ``main()``; importing the module does nothing.
"""

from __future__ import annotations

import json
import os
import signal
from typing import Any

INPUT_FILE = "falsify_input.json"
REPORT_MARK = "PA-FALSIFY"


class _AssertionTimeout(BaseException):
    """Raised by the alarm; a BaseException so candidate code catching Exception cannot swallow it."""


def _describe(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return text[:300]


def _run_timed(source: str, filename: str, namespace: dict[str, Any], seconds: float) -> str | None:
    """Execute ``source`` in ``namespace``; return None on success or the error in words."""
    try:
        try:
            signal.setitimer(signal.ITIMER_REAL, seconds)
            exec(compile(source, filename, "exec"), namespace)
            signal.setitimer(signal.ITIMER_REAL, 0)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    except _AssertionTimeout:
        return f"timed out after {seconds:g} s"
    except BaseException as exc:  # SystemExit and KeyboardInterrupt from candidate code are failures too
        return _describe(exc)
    return None


def main() -> None:
    """Run the candidate and the assertions; report once, tagged with the nonce."""
    with open(INPUT_FILE, encoding="utf-8") as handle:
        spec = json.load(handle)
    os.remove(INPUT_FILE)  # the candidate cannot read the nonce from disk
    nonce = spec.pop("nonce")
    report_fd = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # candidate prints cannot flood the output cap or imitate the report
    os.dup2(devnull, 2)

    def on_alarm(signum: int, frame: Any) -> None:
        raise _AssertionTimeout()

    signal.signal(signal.SIGALRM, on_alarm)
    seconds = float(spec["per_assertion_timeout"])
    namespace: dict[str, Any] = {"__name__": "candidate", "__builtins__": __builtins__}
    load_error = _run_timed(spec["candidate"], "candidate.py", namespace, seconds)
    results = []
    for assertion in spec["assertions"]:
        if load_error is not None:
            error: str | None = f"the candidate did not load: {load_error}"
        else:
            error = _run_timed(assertion["code"], f"<assertion {assertion['name']}>", dict(namespace), seconds)
        results.append({"name": assertion["name"], "passed": error is None, "error": error})
    line = f"{REPORT_MARK} {nonce} {json.dumps({'load_error': load_error, 'results': results})}\n".encode()
    view = memoryview(line)
    while view:
        view = view[os.write(report_fd, view) :]
