"""The console's exception root and its precise subclasses."""

from __future__ import annotations

from core.errors import SuperbrainError


class ConsoleError(SuperbrainError):
    """Root of the errors the console raises on purpose."""


class EngineUnavailableError(ConsoleError):
    """An engine the user asked for is not installed, not built yet, or failed to import."""

    def __init__(self, engine: str, reason: str) -> None:
        self.engine = engine
        self.reason = reason or "not installed"
        super().__init__(f"engine not available: {engine}: {self.reason}")


class MapError(ConsoleError):
    """The map page cannot be built (e.g. a vendored asset is missing)."""
