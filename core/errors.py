"""One exception root for the core, with precise subclasses whose messages name the culprit."""

from __future__ import annotations


class SuperbrainError(Exception):
    """Root of every error superbrain raises on purpose."""


class SchemaError(SuperbrainError):
    """A schema or mapping file is invalid (names the file and the key)."""


class WorkspaceError(SuperbrainError):
    """A workspace folder is missing, not initialised, or its config is invalid."""


class StoreError(SuperbrainError):
    """The operational store cannot be read or written."""


class RowError(SuperbrainError):
    """One input row cannot be turned into a record; the row is quarantined, the rest goes on."""

    def __init__(
        self, reason: str, *, line: int | None = None, column: str | None = None, raw: object = None
    ):
        self.reason = reason
        self.line = line
        self.column = column
        self.raw = raw  # the unparsed row (cells or text) a reader could not make a Row of
        where = f"line {line}: " if line is not None else ""
        col = f"column {column!r}: " if column else ""
        super().__init__(f"{where}{col}{reason}")


class PluginError(SuperbrainError):
    """A data-source plugin failed to load or failed while reading."""


class AccessDeniedError(SuperbrainError):
    """The current user's role does not allow this action."""


class CaseRefusedError(SuperbrainError):
    """A case number refused by the case gate (:mod:`core.case_gate`): no such case, a malformed
    number, or a user who is not a member. The cases package raises its own subclasses."""
