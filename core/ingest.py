"""The ingest pipeline: stream a file through a source plugin into the store and the engines.

Memory stays flat (batches), the run is idempotent (stable uids, upserts) and resumable (a
per-file checkpoint commits with each batch), bad rows go to a rejects file with their line and
reason, and a plugin that raises mid-read fails that file only.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.errors import RowError, SuperbrainError
from core.model import Record
from core.paths import confined_file
from core.progress import CancelToken, ProgressCallback, ProgressMeter
from core.security import require
from core.stages import IngestStage, default_stages
from core.store import Checkpoint
from core.timezones import as_utc, reading_in

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from core.workspace import Workspace
    from plugins.contract import SourcePlugin

log = logging.getLogger(__name__)

DEFAULT_BATCH = 2000
_PROGRESS_EVERY = 256  # rows between progress reports (the meter throttles them further)


def plural(n: int, word: str) -> str:
    """``"1 record"``, ``"2,000 records"``."""
    return f"{n:,} {word}" + ("" if n == 1 else "s")


@dataclass
class IngestReport:
    """What one file's ingest did.

    ``note`` says why a file was skipped or re-read (and how to force it).
    """

    source: str
    path: str
    status: str  # "done", "skipped" (already ingested), "failed", "cancelled"
    records: int = 0
    rejects: int = 0
    resumed_from: int = 0
    error: str | None = None
    rejects_path: str | None = None
    seconds: float = 0.0
    note: str | None = None

    def summary(self) -> str:
        s = f"{self.source}: {self.path}: {self.status}"
        if self.status == "skipped" and self.note:
            s += f" ({self.note})"
        s += f", {plural(self.records, 'record')}, {self.rejects:,} rejected"
        if self.rejects and self.rejects_path:
            s += f" (see {self.rejects_path})"
        if self.resumed_from:
            s += f", resumed after row {self.resumed_from:,}"
        if self.status != "skipped" and self.note:
            s += f"; {self.note}"
        if self.error:
            s += f"; error: {self.error}"
        return s


@dataclass
class _Rejects:
    path: Path
    pending: list[dict[str, Any]] = field(default_factory=list)

    def add(self, source: str, file: Path, index: int, err: RowError, values: Any) -> None:
        entry: dict[str, Any] = {
            "source": source,
            "file": str(file),
            "line": err.line,
            "column": err.column,
            "reason": err.reason,
            "row_index": index,
            "row": values if values is None else {k: str(v) for k, v in values.items()},
        }
        if values is None and err.raw is not None:  # a row the reader could not split
            entry["raw"] = err.raw
        self.pending.append(entry)

    def flush(self) -> None:
        if not self.pending:
            return
        with self.path.open("a", encoding="utf-8") as fh:
            for entry in self.pending:
                fh.write(json.dumps(entry, ensure_ascii=False) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        self.pending.clear()

    def truncate_after(self, rows_done: int) -> None:
        """On resume, drop rejects written for rows after the last committed checkpoint."""
        if not self.path.exists():
            return
        kept = [
            line
            for line in self.path.read_text(encoding="utf-8").splitlines()
            if line and json.loads(line)["row_index"] < rows_done
        ]
        self.path.write_text("".join(f"{k}\n" for k in kept), encoding="utf-8")


#: How long a second ingest into the same workspace waits for the first (then refused).
LOCK_WAIT_SECONDS = 600.0
LOCK_FILE = "ingest.lock"


class IngestBusyError(SuperbrainError):
    """Another process is ingesting into (or reindexing) the same workspace."""


@contextlib.contextmanager
def workspace_write_lock(
    workspace: Workspace, what: str, wait: float = LOCK_WAIT_SECONDS
) -> Iterator[None]:
    """Hold the workspace's ingest lock (``WORKSPACE/ingest.lock``) while ``what`` runs.

    Two ingests at once used to both report "done" while the search index kept one of them
    only; now the second waits up to ``wait`` seconds, then raises :class:`IngestBusyError`
    naming the process that holds the lock.
    """
    path = workspace.root / LOCK_FILE
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + wait
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "?"
                if time.monotonic() >= deadline:
                    raise IngestBusyError(
                        f"{str(workspace.root)!r}: another ingest or reindex is running "
                        f"({holder}); {what} was not started — try again when it has "
                        "finished"
                    ) from None
                if not told:
                    log.warning(
                        "%s: waiting for another ingest or reindex (%s) to finish", what, holder
                    )
                    told = True
                time.sleep(0.2)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()}: {what}".encode(), 0)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def fingerprint(path: Path) -> str:
    """SHA-256 of the file's content: the same data under another name is the same file."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def _estimate_rows(path: Path) -> int | None:
    if path.suffix.lower() not in (".csv", ".tsv", ".txt", ".jsonl", ".ndjson", ".json"):
        return None
    lines = 0
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            lines += chunk.count(b"\n")
    return max(0, lines - (1 if path.suffix.lower() in (".csv", ".tsv", ".txt") else 0))


def _check_attachments(record: Record, path: Path, plugin: SourcePlugin) -> None:
    """Every plugin's attachments stay in the data folder and are bounded regular files (a
    FIFO or /dev/zero would hang the face stage); a bad one rejects the row."""
    roots = tuple(getattr(plugin, "photo_roots", ()) or ())
    for name, raw in record.attachments.items():
        try:
            confined_file(str(raw), path.parent, roots)
        except ValueError as exc:
            raise RowError(str(exc), column=name) from None


def with_aware_times(record: Record, zone: ZoneInfo) -> Record:
    """``record`` with its time and its links' times made aware: a naive one (a plugin that
    did not say its zone) is wall-clock time in ``zone``, the workspace's. Every engine then
    reads the same instant (the store, the search day facet and ops intake would otherwise
    each guess a zone of their own)."""
    naive_time = record.time is not None and record.time.tzinfo is None
    naive_links = any(k.time is not None and k.time.tzinfo is None for k in record.links)
    if not (naive_time or naive_links):
        return record
    links = tuple(
        replace(k, time=as_utc(k.time, zone)) if k.time is not None else k for k in record.links
    )
    time = as_utc(record.time, zone) if record.time is not None else None
    return replace(record, time=time, links=links)


def _never_filled(plugin: SourcePlugin, filled: set[str]) -> str | None:
    """A warning naming declared fields that no record of the first batch had (a misspelt
    column in a JSON Lines file, where there is no header to check)."""
    empty = sorted(
        {spec.name for schema in plugin.record_schemas() for spec in schema.fields} - filled
    )
    if not empty:
        return None
    return (
        f"warning: field{'s' if len(empty) > 1 else ''} {', '.join(empty)} empty in every "
        "record read (check the column names with `superbrain ingest --dry-run`)"
    )


class Ingestor:
    """Runs ingests into one workspace.

    Parameters
    ----------
    workspace:
        The target workspace.
    stages:
        Engines to hand records to; default: every stage the installed packages provide.
    batch_size:
        Rows per committed batch (memory and checkpoint granularity).
    """

    def __init__(
        self,
        workspace: Workspace,
        stages: Sequence[IngestStage] | None = None,
        batch_size: int = DEFAULT_BATCH,
        lock_wait: float = LOCK_WAIT_SECONDS,
    ) -> None:
        self.ws = workspace
        self.stages = list(stages) if stages is not None else default_stages(workspace)
        self.batch_size = batch_size
        self.lock_wait = lock_wait

    def ingest_file(
        self,
        plugin: SourcePlugin,
        path: Path,
        *,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
        force: bool = False,
    ) -> IngestReport:
        """Ingest one file with one source; never raises for bad rows or a failing plugin.

        A file (by content) already ingested by this source with the same mapping is skipped,
        saying when and under which name; with another mapping it is read again from the
        start; an unfinished one resumes after its checkpoint. ``force`` always re-reads.

        Raises :class:`~core.security.PermissionDeniedError` (audited) unless the session holds
        the ``ingest`` permission, and :class:`IngestBusyError` when another ingest holds the
        workspace past ``lock_wait`` seconds.
        """
        path = Path(path).resolve()
        require(self.ws, "ingest", source=plugin.name, file=str(path))
        self.ws.audit.ensure_space()  # a full disk refuses now, not after the work is done
        with (
            workspace_write_lock(self.ws, f"ingest of {path.name}", self.lock_wait),
            reading_in(self.ws.zone),  # naive times without a source zone: the workspace's
        ):
            return self._ingest_file(plugin, path, progress, cancel, force)

    def _ingest_file(
        self,
        plugin: SourcePlugin,
        path: Path,
        progress: ProgressCallback | None,
        cancel: CancelToken | None,
        force: bool,
    ) -> IngestReport:
        started = time.monotonic()
        store = self.ws.store
        fp = fingerprint(path)
        digest = plugin.mapping_digest()
        cp = store.checkpoint(plugin.name, fp)
        first_path = Path(cp.path) if cp else path
        rejects = _Rejects(self.ws.rejects_dir / f"{plugin.name}-{first_path.stem}-{fp[:10]}.jsonl")
        self.ws.rejects_dir.mkdir(parents=True, exist_ok=True)
        same_mapping = cp is not None and cp.mapping_digest in ("", digest)
        note = None
        if cp and not same_mapping:
            note = "the source's mapping changed since this file was read: read again"
        if cp and cp.status == "done" and same_mapping and not force:
            return IngestReport(
                plugin.name,
                str(path),
                "skipped",
                cp.records,
                cp.rejects,
                rejects_path=str(rejects.path) if rejects.path.exists() else None,
                note=self._skip_reason(cp, path),
            )
        resume = cp.rows_done if cp and cp.status != "done" and same_mapping and not force else 0
        n_records = cp.records if resume and cp else 0
        n_rejects = cp.rejects if resume and cp else 0
        try:
            plugin.check_file(path)
        except SuperbrainError as exc:
            return self._refused(plugin, path, fp, str(exc), started)
        except Exception as exc:  # a plugin's own check failing is that file's failure
            return self._refused(plugin, path, fp, f"{type(exc).__name__}: {exc}", started)
        if resume:
            rejects.truncate_after(resume)
            log.info("%s: resuming after row %d", path, resume)
        elif rejects.path.exists():
            rejects.path.unlink()
        meter = ProgressMeter(progress, _estimate_rows(path))
        meter.done = resume
        batch: list[Record] = []
        index = 0
        in_row = False
        status, error = "done", None
        filled: set[str] = set()

        def commit(state: str, err: str | None = None) -> None:
            for stage in self.stages:
                if batch:
                    stage.process(batch)
            rejects.flush()
            # the checkpoint keeps the name the content was first ingested as (its rejects
            # file is named after it), whatever the name of this copy
            store.upsert_batch(
                batch,
                Checkpoint(
                    plugin.name,
                    fp,
                    str(first_path),
                    index,
                    n_records,
                    n_rejects,
                    state,
                    err,
                    digest,
                ),
            )
            batch.clear()

        from core.timeouts import timed_iter

        read_timeout = self.ws.plugin_settings()["read_timeout"]
        zone = self.ws.zone
        try:
            for item in timed_iter(
                lambda: plugin.read(path), read_timeout, f"source {plugin.name} reading {path.name}"
            ):
                index += 1
                if index <= resume:
                    continue
                in_row = True
                if isinstance(item, RowError):
                    n_rejects += 1
                    rejects.add(plugin.name, path, index - 1, item, None)
                else:
                    try:
                        record = with_aware_times(plugin.to_record(item, path), zone)
                        if record.attachments:
                            _check_attachments(record, path, plugin)
                        batch.append(record)
                        n_records += 1
                        if index <= self.batch_size:  # enough to spot a field never filled
                            filled.update(record.fields, record.text, record.attachments)
                    except RowError as exc:
                        if exc.line is None:
                            exc.line = item.line
                        n_rejects += 1
                        rejects.add(plugin.name, path, index - 1, exc, item.values)
                in_row = False
                if index % _PROGRESS_EVERY == 0:
                    meter.advance(index - meter.done, path.name)
                if index % self.batch_size == 0:
                    commit("running")
                    if cancel is not None and cancel.cancelled:
                        status = "cancelled"
                        break
        except Exception as exc:  # a plugin raising mid-read fails this file, not the run
            status, error = "failed", f"{type(exc).__name__}: {exc}"
            if in_row:
                index -= 1  # the row that raised was not consumed
            log.error("source %s failed on %s after row %d: %s", plugin.name, path, index, error)
        commit(status, error)
        for stage in self.stages:
            stage.finish()
        meter.advance(index - meter.done, path.name, force=True)
        if filled and not resume:
            note = "; ".join(filter(None, [note, _never_filled(plugin, filled)])) or None
        report = IngestReport(
            plugin.name,
            str(path),
            status,
            n_records,
            n_rejects,
            resume,
            error,
            str(rejects.path) if n_rejects else None,
            time.monotonic() - started,
            note,
        )
        self.ws.audit.append(
            self.ws.user,
            "ingest",
            {
                "source": plugin.name,
                "version": plugin.version,
                "file": str(path),
                "sha256": fp,
                "mapping": digest,
                "status": status,
                "records": n_records,
                "rejects": n_rejects,
                "error": error,
            },
        )
        return report

    def _skip_reason(self, cp: Checkpoint, path: Path) -> str:
        from core.timezones import format_local

        when = ""
        if cp.finished:
            with contextlib.suppress(ValueError):
                when = " " + format_local(datetime.fromisoformat(cp.finished), self.ws.zone)
        same = (
            "already ingested"
            if Path(cp.path) == path
            else f"same content as {cp.path}, already ingested"
        )
        return f"{same}{when} with this mapping; --force reads it again"

    def _refused(
        self, plugin: SourcePlugin, path: Path, fp: str, error: str, started: float
    ) -> IngestReport:
        """A file the plugin cannot read at all (checked before any row): nothing is written."""
        self.ws.audit.append(
            self.ws.user,
            "ingest",
            {
                "source": plugin.name,
                "version": plugin.version,
                "file": str(path),
                "sha256": fp,
                "status": "failed",
                "records": 0,
                "rejects": 0,
                "error": error,
            },
        )
        return IngestReport(
            plugin.name, str(path), "failed", error=error, seconds=time.monotonic() - started
        )
