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
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.errors import RowError, SuperbrainError
from core.model import Record
from core.progress import CancelToken, ProgressCallback, ProgressMeter
from core.security import require
from core.stages import IngestStage, default_stages
from core.store import Checkpoint

if TYPE_CHECKING:
    from core.workspace import Workspace
    from plugins.contract import SourcePlugin

log = logging.getLogger(__name__)

DEFAULT_BATCH = 2000


@dataclass
class IngestReport:
    """What one file's ingest did."""

    source: str
    path: str
    status: str  # "done", "skipped" (already ingested), "failed", "cancelled"
    records: int = 0
    rejects: int = 0
    resumed_from: int = 0
    error: str | None = None
    rejects_path: str | None = None
    seconds: float = 0.0

    def summary(self) -> str:
        s = f"{self.source}: {self.path}: {self.status}, {self.records:,} records"
        s += f", {self.rejects:,} rejected"
        if self.rejects and self.rejects_path:
            s += f" (see {self.rejects_path})"
        if self.resumed_from:
            s += f", resumed after row {self.resumed_from:,}"
        if self.error:
            s += f"; error: {self.error}"
        return s


@dataclass
class _Rejects:
    path: Path
    pending: list[dict[str, Any]] = field(default_factory=list)

    def add(self, source: str, file: Path, index: int, err: RowError, values: Any) -> None:
        self.pending.append({
            "source": source, "file": str(file), "line": err.line, "column": err.column,
            "reason": err.reason, "row_index": index,
            "row": values if values is None else {k: str(v) for k, v in values.items()},
        })

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
        kept = [line for line in self.path.read_text(encoding="utf-8").splitlines()
                if line and json.loads(line)["row_index"] < rows_done]
        self.path.write_text("".join(f"{k}\n" for k in kept), encoding="utf-8")


#: How long a second ingest into the same workspace waits for the first (then refused).
LOCK_WAIT_SECONDS = 600.0
LOCK_FILE = "ingest.lock"


class IngestBusyError(SuperbrainError):
    """Another process is ingesting into (or reindexing) the same workspace."""


@contextlib.contextmanager
def workspace_write_lock(workspace: Workspace, what: str,
                         wait: float = LOCK_WAIT_SECONDS) -> Iterator[None]:
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
                        "finished") from None
                if not told:
                    log.warning("%s: waiting for another ingest or reindex (%s) to finish",
                                what, holder)
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

    def __init__(self, workspace: Workspace, stages: Sequence[IngestStage] | None = None,
                 batch_size: int = DEFAULT_BATCH, lock_wait: float = LOCK_WAIT_SECONDS) -> None:
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

        Raises :class:`~core.security.PermissionDeniedError` (audited) unless the session holds
        the ``ingest`` permission, and :class:`IngestBusyError` when another ingest holds the
        workspace past ``lock_wait`` seconds.
        """
        path = Path(path).resolve()
        require(self.ws, "ingest", source=plugin.name, file=str(path))
        self.ws.audit.ensure_space()  # a full disk refuses now, not after the work is done
        with workspace_write_lock(self.ws, f"ingest of {path.name}", self.lock_wait):
            return self._ingest_file(plugin, path, progress, cancel, force)

    def _ingest_file(self, plugin: SourcePlugin, path: Path, progress: ProgressCallback | None,
                     cancel: CancelToken | None, force: bool) -> IngestReport:
        started = time.monotonic()
        store = self.ws.store
        fp = fingerprint(path)
        cp = store.checkpoint(plugin.name, fp)
        rejects = _Rejects(self.ws.rejects_dir / f"{plugin.name}-{path.stem}-{fp[:10]}.jsonl")
        self.ws.rejects_dir.mkdir(parents=True, exist_ok=True)
        if cp and cp.status == "done" and not force:
            return IngestReport(plugin.name, str(path), "skipped", cp.records, cp.rejects,
                                rejects_path=str(rejects.path) if cp.rejects else None)
        resume = cp.rows_done if cp and cp.status != "done" and not force else 0
        n_records = cp.records if resume and cp else 0
        n_rejects = cp.rejects if resume and cp else 0
        if resume:
            rejects.truncate_after(resume)
            log.info("%s: resuming after row %d", path, resume)
        elif rejects.path.exists():
            rejects.path.unlink()
        meter = ProgressMeter(progress, _estimate_rows(path))
        meter.done = resume
        batch: list[Record] = []
        index = 0
        status, error = "done", None

        def commit(state: str, err: str | None = None) -> None:
            for stage in self.stages:
                if batch:
                    stage.process(batch)
            rejects.flush()
            store.upsert_batch(batch, Checkpoint(plugin.name, fp, str(path), index, n_records,
                                                 n_rejects, state, err))
            batch.clear()

        from plugins.registry import timed_iter

        read_timeout = self.ws.plugin_settings()["read_timeout"]
        try:
            for item in timed_iter(lambda: plugin.read(path), read_timeout,
                                   f"source {plugin.name} reading {path.name}"):
                index += 1
                if index <= resume:
                    continue
                if isinstance(item, RowError):
                    n_rejects += 1
                    rejects.add(plugin.name, path, index - 1, item, None)
                else:
                    try:
                        batch.append(plugin.to_record(item, path))
                        n_records += 1
                    except RowError as exc:
                        if exc.line is None:
                            exc.line = item.line
                        n_rejects += 1
                        rejects.add(plugin.name, path, index - 1, exc, item.values)
                if index % self.batch_size == 0:
                    commit("running")
                    meter.advance(self.batch_size, path.name)
                    if cancel is not None and cancel.cancelled:
                        status = "cancelled"
                        break
        except Exception as exc:  # a plugin raising mid-read fails this file, not the run
            status, error = "failed", f"{type(exc).__name__}: {exc}"
            index -= 1  # the row that raised was not consumed
            log.error("source %s failed on %s after row %d: %s", plugin.name, path, index, error)
        commit(status, error)
        for stage in self.stages:
            stage.finish()
        meter.advance(0, path.name, force=True)
        report = IngestReport(
            plugin.name, str(path), status, n_records, n_rejects, resume, error,
            str(rejects.path) if n_rejects else None, time.monotonic() - started)
        self.ws.audit.append(self.ws.user, "ingest", {
            "source": plugin.name, "version": plugin.version, "file": str(path),
            "sha256": fp, "status": status, "records": n_records, "rejects": n_rejects,
            "error": error})
        return report
