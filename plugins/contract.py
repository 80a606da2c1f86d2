"""The whole contract between superbrain and a data-source plugin, in one file.

A plugin is an object that subclasses :class:`SourcePlugin`. It is published through the
``superbrain.sources`` entry-point group (built-in sources use exactly the same group) or dropped
into a workspace's ``plugins/`` folder. The entry point names a plugin instance or a zero-argument
callable that returns one; superbrain imports it only when sources are discovered.

Life of a row::

    read(path) ──► Row ──► to_record(row, path) ──► Record ──► store, search, graph, faces
          │                         │
          └── RowError ─────────────┴──► quarantined with file, line and reason; the rest goes on

Any other exception raised by ``read`` or ``to_record`` marks the plugin as failed for that file:
what was ingested before stays, the error is reported, other sources carry on.
``tests/test_plugin_docs.py`` fails when a public member of this contract has no docstring.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import RowError
from core.model import Record, RecordSchema

__all__ = ["CONTRACT_VERSION", "Row", "RowError", "SourcePlugin"]

#: Bumped when the contract changes incompatibly; a plugin may check it.
CONTRACT_VERSION = 1


@dataclass(frozen=True)
class Row:
    """One raw input row.

    Attributes
    ----------
    line:
        1-based line (CSV/JSONL) or sheet row (Excel) where the row starts; used in rejects.
    values:
        Column name to raw value (strings for CSV, parsed JSON values, Excel cell values).
    """

    line: int
    values: Mapping[str, Any]


class SourcePlugin(ABC):
    """Base class of every data source.

    Subclasses set the class attributes and implement :meth:`read` and :meth:`to_record`.
    :meth:`generate` is optional (synthetic demo and benchmark data).
    """

    #: Unique short name, used on the command line (``superbrain ingest --source NAME``).
    name: str = ""
    #: The plugin's own version string (shown in the Plugins panel and written to the audit).
    version: str = "0"
    #: One sentence saying what the source holds, for the Plugins panel.
    description: str = ""
    #: File kinds the plugin reads, by extension without the dot (e.g. ``("csv", "xlsx")``).
    formats: tuple[str, ...] = ()
    #: Share of ``superbrain demo``'s rows-per-source this source generates (a watchlist is a
    #: small fraction of a population; most sources keep 1.0).
    demo_fraction: float = 1.0

    @abstractmethod
    def record_schemas(self) -> Sequence[RecordSchema]:
        """Return the record types this source produces and the role of each field.

        Search backends build their index mappings from these; the console uses the labels.
        """

    @abstractmethod
    def read(self, path: Path) -> Iterator[Row | RowError]:
        """Yield the rows of ``path`` lazily, in file order.

        Yield (do not raise) a :class:`~core.errors.RowError` with its ``line`` for a row that
        cannot even be parsed (bad encoding, wrong column count, invalid JSON); the pipeline
        quarantines it and continues. Must not load the whole file into memory.
        """

    @abstractmethod
    def to_record(self, row: Row, path: Path) -> Record:
        """Map one row to a :class:`~core.model.Record` with its entities and links.

        Raise :class:`~core.errors.RowError` naming the column and the reason when a value is
        missing or invalid; the row is quarantined. Must be deterministic: the same row gives
        the same record id, so re-ingesting a file creates no duplicates.
        """

    def generate(self, out_dir: Path, count: int, seed: int = 0) -> list[Path]:
        """Write ``count`` synthetic rows (deterministic for ``seed``) and return the files.

        Optional: the default raises :class:`NotImplementedError`; :attr:`can_generate` tells.
        """
        raise NotImplementedError(f"source {self.name!r} has no data generator")

    @property
    def can_generate(self) -> bool:
        """True when the subclass overrides :meth:`generate`."""
        return type(self).generate is not SourcePlugin.generate

    def check_file(self, path: Path) -> None:
        """Check, before any row is read, that this plugin can read ``path`` at all.

        Raise :class:`~core.errors.PluginError` naming the problem (a mapping source checks the
        file's header holds every column its mapping reads). The default checks nothing.
        """
        return None

    def mapping_digest(self) -> str:
        """What decides how rows become records, as a string; a file already ingested under
        another digest is read again.

        The default is :attr:`version` (bump it when the mapping of rows changes); a mapping
        source returns the SHA-256 of its mapping.
        """
        return self.version

    def accepts(self, path: Path) -> bool:
        """True when ``path``'s extension is one of :attr:`formats` (override for sniffing)."""
        suffix = path.suffix.lower().lstrip(".")
        return not self.formats or suffix in self.formats
