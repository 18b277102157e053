"""The errors of the skills plugin; each message is one sentence that says what to do."""

from __future__ import annotations


class SkillError(Exception):
    """A skill operation cannot be done as asked (unknown skill or version, nothing to roll back)."""


class CardError(SkillError):
    """A skill card is malformed: the message names the file, the field and the fix."""


class SkillRefused(SkillError):
    """Skill CI refuses to go on: screening or the sandbox is unavailable (fail closed)."""
