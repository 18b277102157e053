"""The ``[plugins.critics]`` settings, shared by the three critics.

Example::

    [plugins.critics]
    model = "groq:llama-3.3-70b-versatile"  # judge model when the runtime passes no backend
    max_steps_in_prompt = 40                # standard: last N steps in full; delta: new steps cap
    cap_without_evidence = 3.0              # no verified quote from tool output -> score <= this
    timeout_s = 20                          # falsification: wall-clock limit per sandbox run
    calibrated_critic = "standard"          # calibrated: the model critic it calibrates
    grounded_critic = "reward"              # calibrated: where ground truth comes from
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class CriticSettings(BaseModel):
    """Validated ``[plugins.critics]`` section."""

    model_config = ConfigDict(extra="forbid")

    model: str | None = Field(
        default=None,
        description="'provider:model' of the judge, used when the runtime passes no backend= option.",
    )
    sandbox: str | None = Field(
        default=None,
        description="Name of a registered sandbox for falsification when the runtime passes no sandbox= option.",
    )
    temperature: float = Field(default=0.0, ge=0.0, le=2.0, description="Judge sampling temperature.")
    max_reply_tokens: int = Field(default=800, ge=64, description="max_tokens of each judge call.")
    max_steps_in_prompt: int = Field(
        default=40, ge=1,
        description="standard: the last N steps are shown in full (older ones are counted, not shown); "
        "delta: at most N new steps per call.",
    )
    max_chars_per_field: int = Field(
        default=1500, ge=100, description="Each action, observation and answer is clipped to this (head and tail kept)."
    )
    max_task_chars: int = Field(default=4000, ge=100, description="The task text is clipped to this.")
    summary_chars: int = Field(
        default=600, ge=100, description="delta: size of the carried-forward summary of the previous state."
    )
    cap_without_evidence: float = Field(
        default=3.0, ge=0.0, le=10.0,
        description="A score above this needs at least one quote the code finds in real tool output.",
    )
    cache_size: int = Field(default=10000, ge=1, description="delta and falsification: cached states kept (LRU).")
    timeout_s: float = Field(default=20.0, gt=0, description="falsification: wall-clock limit per sandbox run.")
    max_assertions: int = Field(default=12, ge=1, le=50, description="falsification: most assertions used.")

    # ------------------------------------------------------------------ calibration (critic ``calibrated``)
    calibrated_critic: str = Field(
        default="standard", description="calibrated: the registered model critic whose scores are calibrated."
    )
    grounded_critic: str = Field(
        default="reward",
        description="calibrated: the registered critic that knows the outcome (reward, hidden-tests, falsification).",
    )
    calibration_path: str | None = Field(
        default=None,
        description="calibrated: the SQLite file of recorded judgements (default: critic-calibration.sqlite "
        "in the kernel's state directory).",
    )
    success_threshold: float = Field(
        default=7.0, ge=0.0, le=10.0,
        description="A raw model score at or above this counts as a verdict of success (the learner's success_at).",
    )
    min_samples: int = Field(
        default=20, ge=2, description="calibrated: judgements with a grounded outcome needed before a mapping is trusted."
    )
    min_agreement: float = Field(
        default=0.8, ge=0.0, le=1.0,
        description="calibrated: below this agreement with the grounded outcome a family is marked unreliable.",
    )
    max_samples: int = Field(
        default=500, ge=2, description="calibrated: the most recent judgements per (model, family) that are used."
    )
