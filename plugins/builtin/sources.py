"""The seven built-in data sources, published through the ``superbrain.sources`` entry points.

Each is a :class:`~plugins.mapping.MappingSource` — its record schema, entities and links come
from ``plugins/builtin/mappings/<name>.toml``, exactly like a third-party mapping — plus a
deterministic generator of synthetic rows drawn from the shared world
(:mod:`plugins.builtin.world`), with the structure listed by
:func:`plugins.builtin.planted.planted` planted in it.

The module-level names (``incidents``, ``population``, …) are zero-argument factories, which is
what the entry points in ``pyproject.toml`` refer to.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path

from plugins.builtin import gen_events, gen_identity, gen_registry
from plugins.builtin.world import World
from plugins.mapping import MappingSource, load_mapping

log = logging.getLogger(__name__)

MAPPINGS_DIR = Path(__file__).resolve().parent / "mappings"

_Writer = Callable[[World, Path, int], Path]


class BuiltinSource(MappingSource):
    """A mapping-defined source with a synthetic-data generator.

    Parameters
    ----------
    name:
        The mapping file stem under :data:`MAPPINGS_DIR` (also the source name).
    writer:
        ``writer(world, out_dir, count) -> path`` streaming ``count`` rows to one file.
    """

    def __init__(self, name: str, writer: _Writer, *, demo_fraction: float = 1.0) -> None:
        super().__init__(load_mapping(MAPPINGS_DIR / f"{name}.toml"))
        self._writer = writer
        self.demo_fraction = demo_fraction

    def generate(self, out_dir: Path, count: int, seed: int = 0) -> list[Path]:
        """Write ``count`` rows (planted rows first) for ``seed``; same seed, same file."""
        return [self._write(out_dir, count, seed, self._writer)]

    def _write(self, out_dir: Path, count: int, seed: int, writer: _Writer) -> Path:
        if count < 0:
            raise ValueError(f"{self.name}: count must be >= 0, got {count}")
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        path = writer(World(seed), out_dir, count)
        log.info("%s: wrote %d rows to %s", self.name, count, path)
        return path


class PopulationSource(BuiltinSource):
    """The population registry; can also write the GBK-encoded CSV many bureaus export."""

    def generate(
        self, out_dir: Path, count: int, seed: int = 0, *, encoding: str = "utf-8"
    ) -> list[Path]:
        """Write ``count`` residents; ``encoding="gbk"`` writes ``population.gbk.csv``.

        Also writes ``identity_truth.json`` beside it (not a source file: the planted
        identities that entity resolution is measured against, see gen_identity)."""

        def writer(world: World, out: Path, n: int) -> Path:
            gen_identity.write_truth(world, out)
            return gen_registry.write_population(world, out, n, encoding=encoding)

        return [self._write(out_dir, count, seed, writer)]


class HotelSource(BuiltinSource):
    """Hotel check-ins; can also write an Excel workbook."""

    def generate(self, out_dir: Path, count: int, seed: int = 0, *, fmt: str = "csv") -> list[Path]:
        """Write ``count`` check-ins as ``hotel.csv`` or, with ``fmt="xlsx"``, ``hotel.xlsx``."""

        def writer(world: World, out: Path, n: int) -> Path:
            return gen_registry.write_hotel(world, out, n, fmt=fmt)

        return [self._write(out_dir, count, seed, writer)]


def incidents() -> BuiltinSource:
    """110 emergency calls and incident reports."""
    return BuiltinSource("incidents", gen_events.write_incidents)


def population() -> PopulationSource:
    """Population–house–unit registry."""
    return PopulationSource("population", gen_registry.write_population)


def hotel() -> HotelSource:
    """Hotel check-ins."""
    return HotelSource("hotel", gen_registry.write_hotel)


def checkpoint() -> BuiltinSource:
    """Vehicle checkpoint plate reads."""
    return BuiltinSource("checkpoint", gen_events.write_checkpoint)


def cdr() -> BuiltinSource:
    """Call detail records."""
    return BuiltinSource("cdr", gen_events.write_cdr)


def ebike() -> BuiltinSource:
    """E-bike RFID tag reads at community gates."""
    return BuiltinSource("ebike", gen_events.write_ebike)


class WatchlistSource(BuiltinSource):
    """Watchlist entries; their photos may also lie in the shared face-photo folder."""

    @property
    def photo_roots(self) -> tuple[Path, ...]:  # type: ignore[override]
        """``$SUPERBRAIN_FACES_DIR``: the generator references those photos, never copies."""
        faces = os.environ.get("SUPERBRAIN_FACES_DIR", "")
        return (Path(faces),) if faces else ()


def watchlist() -> WatchlistSource:
    """Watchlist entries."""
    # A watchlist holds about 2 % of the people a registry of the same demo size holds.
    return WatchlistSource("watchlist", gen_registry.write_watchlist, demo_fraction=0.02)


#: Every built-in source factory, by name (the same names as the entry points).
FACTORIES: dict[str, Callable[[], BuiltinSource]] = {
    "incidents": incidents,
    "population": population,
    "hotel": hotel,
    "checkpoint": checkpoint,
    "cdr": cdr,
    "ebike": ebike,
    "watchlist": watchlist,
}
