"""The graph package's exception root and its precise subclasses."""

from __future__ import annotations

from core.errors import SuperbrainError


class GraphError(SuperbrainError):
    """Root of every error the link-graph engine raises on purpose."""


class EntityNotFoundError(GraphError):
    """An entity id or raw identifier does not name any entity in the store."""


class NoPathError(GraphError):
    """Two entities are not connected within the limits asked for."""


class ResolutionError(GraphError):
    """A merge proposal or merge cannot be accepted, rejected or undone (names which and why)."""


class AlreadyDecidedError(ResolutionError):
    """A review decision on a pair someone else has decided since the queue was read (names
    who and how): the analyst's queue was stale; nothing was changed."""


class ExportError(GraphError):
    """A graph cannot be written in the format asked for."""
