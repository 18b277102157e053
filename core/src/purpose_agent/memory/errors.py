"""Errors of the memory pipeline and stores. Each message says what failed and what to do."""

from __future__ import annotations

from ..errors import PurposeAgentError


class MemoryStoreError(PurposeAgentError):
    """A store cannot be opened or used (bad path, locked, corrupt, too new, no FTS5, …)."""


class MemoryItemNotFound(PurposeAgentError, KeyError):
    """No item has the given id (or id prefix)."""

    def __str__(self) -> str:  # KeyError would print the repr of the message
        return str(self.args[0]) if self.args else ""


class InvalidTransition(PurposeAgentError, ValueError):
    """A status change the lifecycle does not allow (e.g. candidate straight to promoted)."""


class MemoryImportError(PurposeAgentError, ValueError):
    """A JSONL export file is malformed or conflicts with the store; nothing was written."""
