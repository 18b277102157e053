"""Errors the kernel raises. Every message says what failed, where, and what to do."""

from __future__ import annotations

from typing import Any


class PurposeAgentError(Exception):
    """Base of every error this project raises on purpose."""


class ConfigError(PurposeAgentError):
    """A configuration file or value is invalid."""


class PluginError(PurposeAgentError):
    """A plugin could not be loaded or used and the configuration says it must be."""


class UnknownComponentError(PurposeAgentError, LookupError):
    """A component name (backend, critic, store, …) that no active plugin registered."""


class MemoryWriteVetoed(PurposeAgentError):
    """Raised by a ``memory_write`` hook implementation to refuse a write; the message is why."""


class SandboxUnavailable(PurposeAgentError):
    """A sandbox cannot isolate code on this machine; the message names the missing layer."""


class LessonRejected(PurposeAgentError, ValueError):
    """A taught lesson was not kept. ``findings`` holds the scanners' :class:`~purpose_agent.models.Finding`
    objects for the text (empty when no scanner objected, e.g. a replay showed a regression, or no
    scanner was active); the message says why in words."""

    def __init__(self, message: str, findings: list[Any] | None = None) -> None:
        super().__init__(message)
        self.findings: list[Any] = list(findings or [])
