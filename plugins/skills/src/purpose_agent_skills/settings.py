"""The ``[plugins.skills]`` settings.

Example::

    [plugins.skills]
    store = "~/skills.sqlite"   # default: <state dir>/skills/skills.sqlite
    sandbox = "sandbox"         # the sandbox skill code and tests run in
    timeout_s = 20              # wall-clock limit of one sandbox run (a batch of calls)
    max_competing = 2           # promoted versions of one skill that compete for use
    replay_uses = 20            # recorded successful uses of the baseline replayed on promotion
    success_score = 7           # a run the critic scores at least this counts as a success of its skills
    seed = 7                    # fixes the choice among competing versions (tests, reproducible runs)
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class SkillsSettings(BaseModel):
    """Validated ``[plugins.skills]`` section."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    store: str = Field(default="", description="the SQLite file of the skills; empty: in the state directory")
    sandbox: str = Field(default="sandbox", description="the registered sandbox that runs skill code and tests")
    timeout_s: float = Field(default=20.0, gt=0, le=600, description="wall-clock limit of one sandbox run")
    max_competing: int = Field(default=2, ge=1, le=20, description="promoted versions of one skill in competition")
    replay_uses: int = Field(default=20, ge=0, le=1000, description="recorded uses replayed on promotion")
    success_score: float = Field(default=7.0, ge=0, le=10, description="critic score that makes a use a success")
    seed: int | None = Field(default=None, description="seed of the choice among competing versions")
