"""An example third-party source: grid-worker patrol logs in a line-oriented text format.

Each line is ``TIME | WORKER_ID | WORKER_NAME | PHONE | DISTRICT | NOTE``. This plugin is written
in code (not a mapping file) to show the whole contract; see docs/PLUGINS.md.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path

from core.errors import RowError
from core.model import EntityRef, FieldRole, FieldSpec, LinkRef, Record, RecordSchema, to_utc
from core.normalize import phone
from plugins.contract import Row, SourcePlugin

COLUMNS = ("time", "worker_id", "worker_name", "phone", "district", "note")


class GridLogSource(SourcePlugin):
    """Community grid-worker patrol logs (网格员巡查日志)."""

    name = "gridlog"
    version = "1.0.0"
    description = "Grid-worker patrol logs (pipe-separated text)"
    formats = ("log", "txt")

    def record_schemas(self) -> Sequence[RecordSchema]:
        """One record type: a patrol log line."""
        return [
            RecordSchema(
                "patrol_log",
                "Patrol log",
                (
                    FieldSpec("note", FieldRole.TEXT, "Note"),
                    FieldSpec("district", FieldRole.KEYWORD, "District", facet=True),
                    FieldSpec("worker_id", FieldRole.KEYWORD, "Worker"),
                    FieldSpec("phone", FieldRole.IDENTIFIER, "Phone", normalizer="phone"),
                ),
            )
        ]

    def read(self, path: Path) -> Iterator[Row | RowError]:
        """One row per non-empty line; a line with the wrong number of fields is a RowError."""
        with path.open(encoding="utf-8") as fh:
            for number, line in enumerate(fh, start=1):
                if not line.strip() or line.startswith("#"):
                    continue
                parts = [p.strip() for p in line.rstrip("\n").split("|")]
                if len(parts) != len(COLUMNS):
                    yield RowError(f"expected {len(COLUMNS)} fields, got {len(parts)}", line=number)
                    continue
                yield Row(number, dict(zip(COLUMNS, parts, strict=True)))

    def to_record(self, row: Row, path: Path) -> Record:
        """Map a log line to a record linking the worker's phone to the worker."""
        v = row.values
        try:
            when = to_utc(datetime.fromisoformat(v["time"]))
        except ValueError:
            raise RowError(f"bad time {v['time']!r}", line=row.line, column="time") from None
        number = phone(v["phone"])
        worker = EntityRef(
            "person", f"GRID-{v['worker_id']}", v["worker_name"], {"name": v["worker_name"]}
        )
        handset = EntityRef("phone", number, number, {"number": number})
        return Record(
            source=self.name,
            id=f"{v['worker_id']}|{v['time']}",
            type="patrol_log",
            time=when,
            text={"note": v["note"]},
            fields={"district": v["district"], "worker_id": v["worker_id"], "phone": number},
            entities=(worker, handset),
            links=(LinkRef("owns", worker.id, handset.id, when),),
            origin=f"{path.name}:{row.line}",
        )

    def generate(self, out_dir: Path, count: int, seed: int = 0) -> list[Path]:
        """Write ``count`` deterministic log lines."""
        rng = random.Random(seed)
        start = datetime(2024, 3, 1, 8, 0, 0)
        path = Path(out_dir) / "gridlog.log"
        with path.open("w", encoding="utf-8") as fh:
            for i in range(count):
                worker = rng.randrange(20)
                t = start + timedelta(minutes=17 * i)
                fh.write(
                    f"{t.isoformat()} | W{worker:03d} | 网格员{worker:02d} | "
                    f"138{worker:08d} | 南湖区 | 巡查第{i}次 no issues\n"
                )
        return [path]
