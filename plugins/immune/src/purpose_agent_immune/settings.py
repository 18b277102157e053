"""The settings every immune scanner takes in its ``[plugins.<id>]`` TOML section.

::

    [plugins.immune-injection]
    min_severity = "medium"          # drop findings below this
    model_check = false              # also ask a model (see docs/immune.md)
    model = "ollama:qwen3:1.7b"      # the backend the model check uses
    decode_budget_chars = 262144     # decoded text one scan may rescan (scanners that decode)
    [plugins.immune-injection.categories]
    role_marker = false              # switch one category off

This module imports pydantic, so it is only imported from inside the ``settings_model`` hook.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


def build_settings_model(
    scanner: str, categories: Mapping[str, str], decode_budget: int | None = None
) -> type[BaseModel]:
    """Return the settings model of ``scanner``, which knows its own category names.

    ``decode_budget`` (for a scanner that decodes) adds ``decode_budget_chars`` with that default.
    """
    from .detectors import ALWAYS_REPORTED

    known = sorted(categories)

    class ImmuneScannerSettings(BaseModel):
        """Thresholds and switches of one immune scanner."""

        model_config = ConfigDict(extra="forbid")

        min_severity: Literal["low", "medium", "high", "critical"] = Field(
            default="low", description="Findings below this severity are not reported."
        )
        categories: dict[str, bool] = Field(
            default_factory=dict, description="Per-category switches; a category not listed is on."
        )
        model_check: bool = Field(
            default=False, description="Also ask a model whether the text is an attack (off by default)."
        )
        model: str = Field(default="", description="The 'provider:model' backend the model check uses.")
        model_severity: Literal["low", "medium", "high", "critical"] = Field(
            default="high", description="Severity of a finding raised by the model check."
        )

        @field_validator("categories")
        @classmethod
        def _known_categories(cls, value: dict[str, Any]) -> dict[str, Any]:
            unknown = sorted(set(value) - set(known))
            if unknown:
                raise ValueError(
                    f"unknown categor{'y' if len(unknown) == 1 else 'ies'} {', '.join(unknown)} for {scanner}; "
                    f"valid: {', '.join(known)}"
                )
            fixed = sorted(name for name in ALWAYS_REPORTED & set(value) if not value[name])
            if fixed:
                raise ValueError(
                    f"{', '.join(fixed)} cannot be switched off for {scanner}: it reports a text that was not read "
                    f"in full; raise decode_budget_chars instead"
                )
            return value

        @model_validator(mode="after")
        def _model_named_when_checking(self) -> ImmuneScannerSettings:
            if self.model_check and ":" not in self.model:
                raise ValueError(
                    f"model_check = true needs model = 'provider:model' (e.g. 'ollama:qwen3:1.7b') for {scanner}"
                )
            return self

    model: type[ImmuneScannerSettings] = ImmuneScannerSettings
    if decode_budget is not None:
        default_budget: int = decode_budget

        class DecodingScannerSettings(ImmuneScannerSettings):
            """The settings of a scanner that decodes (base64, Caesar, escapes …) and rescans."""

            decode_budget_chars: int = Field(
                default=default_budget,
                gt=0,
                strict=True,
                description="Characters of decoded text one scan may rescan; a text that needs more is blocked.",
            )

        model = DecodingScannerSettings
    model.__name__ = model.__qualname__ = "".join(part.title() for part in scanner.split("-")) + "Settings"
    return model
