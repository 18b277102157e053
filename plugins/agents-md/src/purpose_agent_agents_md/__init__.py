"""purpose-agent protocol plugin ``agents-md``: AGENTS.md files become standing instructions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from purpose_agent.hookspecs import hookimpl

PURPOSE_AGENT_HOOK_API = "1.0"

DEFAULT_FILE_NAMES = ("AGENTS.override.md", "AGENTS.md")
DEFAULT_MAX_BYTES = 32 * 1024


@hookimpl
def settings_model() -> Any:
    from pydantic import BaseModel, Field

    class Settings(BaseModel):
        max_bytes: int = Field(default=DEFAULT_MAX_BYTES, ge=256)
        file_names: list[str] = Field(default_factory=lambda: list(DEFAULT_FILE_NAMES), min_length=1)

    return Settings


def folders_up(start: Path) -> list[Path]:
    """``start`` and its parents up to the repository root (a folder with ``.git``), nearest first."""
    folders = []
    for folder in (start, *start.parents):
        folders.append(folder)
        if (folder / ".git").exists():
            break
    return folders


def read_capped(path: Path, max_bytes: int) -> str:
    """The file's text, cut at ``max_bytes`` with a note saying so."""
    data = path.read_bytes()
    text = data[:max_bytes].decode("utf-8", errors="replace")
    if len(data) > max_bytes:
        text += f"\n[{path.name} cut at {max_bytes} bytes of {len(data)}]"
    return text


def collect(workdir: str | Path, *, file_names: tuple[str, ...] | list[str] = DEFAULT_FILE_NAMES,
            max_bytes: int = DEFAULT_MAX_BYTES) -> list[str]:
    """Instruction texts for a run in ``workdir``: farthest first, closest last (closest wins)."""
    found = []
    for folder in folders_up(Path(workdir).resolve()):
        for name in file_names:
            candidate = folder / name
            if candidate.is_file():
                found.append(f"From {candidate}:\n{read_capped(candidate, max_bytes)}")
                break
    return list(reversed(found))


@hookimpl
def instructions(task: str, workdir: str, settings: Any) -> list[str]:
    """The AGENTS.md instructions that apply in ``workdir``."""
    if settings is None:
        return collect(workdir)
    return collect(workdir, file_names=settings.file_names, max_bytes=settings.max_bytes)
