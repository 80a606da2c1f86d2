"""Append-only, hash-chained audit log (JSON Lines).

Each entry carries the SHA-256 of the previous entry, so editing, removing or reordering any line
breaks the chain at that line and :func:`AuditLog.verify` says where. Appends take an exclusive
file lock, so several consoles and CLIs on one workspace write one consistent chain.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import shutil
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.anchor import GENESIS, TrustState
from core.errors import StoreError, SuperbrainError
from core.redaction import redact_mapping

if TYPE_CHECKING:
    from core.anchor import Trust

log = logging.getLogger(__name__)

#: Appends (and the audited work before them) are refused below this much free disk space, so
#: an action is never done and then left unrecorded, and no line is left half written.
MIN_FREE_BYTES = 8 * 1024 * 1024
REPAIR_HINT = (
    "run `superbrain audit verify`, then see 'Repairing the audit log' in docs/SECURITY.md"
)


def _canonical(entry: Mapping[str, Any]) -> bytes:
    # backslashreplace: a lone surrogate (an undecodable file name) becomes a JSON \u escape,
    # which reads back to the same string, so such entries hash and verify like any other.
    return json.dumps(
        entry, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str
    ).encode("utf-8", "backslashreplace")


class AuditError(SuperbrainError):
    """The audit log cannot be appended to (its last entry is damaged, history is missing, or
    the disk is full); work that must be audited stops until an administrator has looked at
    it."""


def entry_hash(entry: Mapping[str, Any]) -> str:
    body = {k: v for k, v in entry.items() if k != "hash"}
    return hashlib.sha256(_canonical(body)).hexdigest()


@dataclass(frozen=True)
class AuditProblem:
    """One thing wrong with the log: the line (0: the file as a whole or an anchor)."""

    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}" if self.line else self.reason


class AuditLog:
    """The workspace's audit trail: who did what, when, with which parameters and case number.

    Parameters
    ----------
    path:
        The JSON Lines file.
    trust:
        The workspace's trust anchors (:class:`core.anchor.Trust`): each append records the
        new last entry there, appends refuse to start a new chain where the anchors remember
        history, and :meth:`verify` reports a missing tail or file. None: the chain alone.
    """

    def __init__(self, path: Path, trust: Trust | None = None) -> None:
        self.path = Path(path)
        self.trust = trust

    @property
    def quarantine_dir(self) -> Path:
        return self.path.parent / "audit.quarantine"

    def ensure_space(self, needed: int | None = None) -> None:
        """Raise :class:`AuditError` when the disk holding the log has less than ``needed``
        bytes free (call it before audited work, so nothing is done and then left
        unrecorded)."""
        needed = MIN_FREE_BYTES if needed is None else needed
        folder = self.path.parent if self.path.parent.exists() else Path.cwd()
        free = shutil.disk_usage(folder).free
        if free < needed:
            raise AuditError(
                f"{str(self.path)!r}: only {free:,} bytes free on its disk (at "
                f"least {needed:,} needed); free disk space first — the action "
                "was not done, so nothing is left unrecorded"
            )

    @contextlib.contextmanager
    def _locked(self) -> Iterator[Any]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not self.path.exists():
            with contextlib.suppress(FileExistsError):
                os.close(os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        with self.path.open("r+b", buffering=0) as fh:  # unbuffered: no write at close
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield fh
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def append(
        self,
        user: str,
        action: str,
        params: Mapping[str, Any] | None = None,
        *,
        case: str | None = None,
        purpose: str | None = None,
    ) -> dict[str, Any]:
        """Append one entry and return it (with its ``seq`` and ``hash``).

        A half-written last line (a crash or a full disk during an earlier append) is moved
        to ``audit.quarantine/`` first and that move is itself audited.
        """
        self.ensure_space()
        existed = self.path.exists() and self.path.stat().st_size > 0
        with self._locked() as fh:
            anchored = self._anchored()
            if anchored.audit_seq and not existed:
                raise AuditError(
                    f"{str(self.path)!r} is missing or empty, but the trust anchors record "
                    f"{anchored.audit_seq} entries: a new chain is not started where history "
                    f"existed; {REPAIR_HINT}"
                )
            prev = self._tip(fh, anchored, user)
            entry = self._write(fh, prev, user, action, params, case, purpose)
            self._anchor(anchored, entry)
        return entry

    def _anchored(self) -> TrustState:
        if self.trust is None:
            return TrustState()
        reading = self.trust.read()
        if reading.storage:
            raise StoreError(reading.storage[0])  # a damaged store: its own recovery hint
        if reading.unverified:
            # a damaged, forged or unverifiable anchor (a moved workspace, a deleted key) is
            # not silently re-signed over: an administrator repairs, and that is audited
            raise AuditError(
                f"{str(self.path)!r}: {'; '.join(reading.problems)}; appends "
                f"stop until `superbrain audit repair` re-anchors the log; "
                f"{REPAIR_HINT}"
            )
        return reading.state or TrustState()

    def _anchor(self, anchored: TrustState, entry: Mapping[str, Any]) -> None:
        if self.trust is not None:
            self.trust.write(replace(anchored, audit_seq=entry["seq"], audit_hash=entry["hash"]))

    def _tip(self, fh: Any, anchored: TrustState, user: str) -> dict[str, Any] | None:
        """The last entry, checked against the anchors; a half-written line after it (an
        interrupted append that was never anchored) is quarantined first."""
        size = fh.seek(0, os.SEEK_END)
        cut = size
        if size:
            fh.seek(size - 1)
            if fh.read(1) != b"\n":
                cut = _last_newline_end(fh, size)
        last = _last_line(fh, cut)
        prev = _parse_last(self.path, last) if last else None
        seq = prev["seq"] if prev else 0
        # Checked before any quarantine: cutting into an anchored line is a removal, never
        # an "interrupted append", so it is refused rather than tidied away.
        if anchored.audit_seq > seq:
            raise AuditError(
                f"{str(self.path)!r}: ends at entry {seq} but the trust anchors record entry "
                f"{anchored.audit_seq}: entries were removed; {REPAIR_HINT}"
            )
        if anchored.audit_seq == seq and prev and prev["hash"] != anchored.audit_hash:
            raise AuditError(
                f"{str(self.path)!r}: entry {seq} is not the one the trust anchors recorded "
                f"(the file was rewritten); {REPAIR_HINT}"
            )
        if cut != size:
            prev = self._quarantine_partial(fh, cut, prev, anchored, user)
        return prev

    def _quarantine_partial(
        self, fh: Any, cut: int, prev: dict[str, Any] | None, anchored: TrustState, user: str
    ) -> dict[str, Any]:
        fh.seek(cut)
        partial = fh.read()
        self.quarantine_dir.mkdir(mode=0o700, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        target = self.quarantine_dir / f"partial-{stamp}.bin"
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(partial)
            out.flush()
            os.fsync(out.fileno())
        fh.truncate(cut)
        os.fsync(fh.fileno())
        log.warning(
            "%s: half-written last line (%d bytes) moved to %s", self.path, len(partial), target
        )
        entry = self._write(
            fh,
            prev,
            user,
            "audit.quarantine",
            {
                "reason": "half-written last line (interrupted append)",
                "bytes": len(partial),
                "sha256": hashlib.sha256(partial).hexdigest(),
                "file": str(target),
            },
            None,
            None,
        )
        self._anchor(anchored, entry)
        return entry

    def _write(
        self,
        fh: Any,
        prev: Mapping[str, Any] | None,
        user: str,
        action: str,
        params: Mapping[str, Any] | None,
        case: str | None,
        purpose: str | None,
    ) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "seq": (prev["seq"] + 1) if prev else 1,
            "ts": datetime.now(UTC).isoformat(timespec="microseconds"),
            "user": user,
            "action": action,
            "params": redact_mapping(dict(params or {})),  # no secrets in the audit
            "prev": prev["hash"] if prev else GENESIS,
        }
        if case is not None:
            entry["case"] = case
        if purpose is not None:
            entry["purpose"] = purpose
        entry["hash"] = entry_hash(entry)
        size = fh.seek(0, os.SEEK_END)
        line = memoryview(_canonical(entry) + b"\n")
        try:
            while line:
                line = line[os.write(fh.fileno(), line) :]
            os.fsync(fh.fileno())
        except OSError as exc:
            # A full disk mid-write: take the half line back out so the log stays appendable.
            with contextlib.suppress(OSError):
                os.ftruncate(fh.fileno(), size)
            raise AuditError(
                f"{str(self.path)!r}: cannot write the audit entry for "
                f"{action!r} ({exc.strerror or exc}); free disk space — "
                "the log is unchanged"
            ) from exc
        return entry

    def set_accounts_enabled(self) -> None:
        """Record in the trust anchors that this workspace has user accounts (for good)."""
        if self.trust is None:
            return
        with self._locked():
            state = self._anchored()
            if not state.accounts:
                self.trust.write(replace(state, accounts=True))

    def entries(self) -> Iterator[dict[str, Any]]:
        """Every entry in order (lines that are not JSON are skipped; verify reports them)."""
        if not self.path.exists():
            return
        with self.path.open("rb") as fh:
            for raw in fh:
                try:
                    entry = json.loads(raw)
                except ValueError:  # not JSON, or bytes that are not UTF-8
                    continue
                if isinstance(entry, dict):
                    yield entry

    def search(
        self, *, user: str | None = None, action: str | None = None, case: str | None = None
    ) -> list[dict[str, Any]]:
        """Entries matching every given criterion (``action`` may be a prefix ending in '*')."""
        out = []
        for e in self.entries():
            if user and e.get("user") != user:
                continue
            if action:
                if action.endswith("*"):
                    if not str(e.get("action", "")).startswith(action[:-1]):
                        continue
                elif e.get("action") != action:
                    continue
            if case and e.get("case") != case:
                continue
            out.append(e)
        return out

    def verify(self) -> list[AuditProblem]:
        """Check the whole chain, and its end against the trust anchors; empty means intact."""
        problems: list[AuditProblem] = []
        reading = self.trust.read() if self.trust is not None else None
        anchored = reading.state if reading is not None else None
        if reading is not None:
            problems += [AuditProblem(0, f"trust anchor: {p}") for p in reading.problems]
        if not self.path.exists():
            if anchored and anchored.audit_seq:
                problems.append(
                    AuditProblem(
                        0,
                        (
                            f"{str(self.path)!r} is missing: the trust anchors record "
                            f"{anchored.audit_seq} entries (the file was deleted or moved)"
                        ),
                    )
                )
            return problems
        prev_hash, prev_seq = GENESIS, 0
        anchored_hash_in_file: str | None = None
        with self.path.open("rb") as fh:
            for number, raw in enumerate(fh, start=1):
                try:
                    entry = json.loads(raw)
                except ValueError:  # not JSON, or bytes that are not UTF-8
                    entry = None
                if not isinstance(entry, dict):
                    problems.append(AuditProblem(number, "not a JSON entry (edited or corrupted)"))
                    continue
                if entry.get("hash") != entry_hash(entry):
                    problems.append(
                        AuditProblem(
                            number, f"entry seq {entry.get('seq')} was altered (hash mismatch)"
                        )
                    )
                elif raw != _canonical(entry) + b"\n":
                    problems.append(
                        AuditProblem(
                            number,
                            f"entry seq {entry.get('seq')} was rewritten (bytes differ from "
                            "the form it was written in)",
                        )
                    )
                if entry.get("prev") != prev_hash:
                    problems.append(
                        AuditProblem(
                            number,
                            "chain broken: an entry before this one was removed, inserted, "
                            "reordered or altered",
                        )
                    )
                if entry.get("seq") != prev_seq + 1:
                    problems.append(
                        AuditProblem(
                            number, f"sequence jumps from {prev_seq} to {entry.get('seq')}"
                        )
                    )
                prev_hash = str(entry.get("hash"))
                seq = entry.get("seq")
                prev_seq = seq if isinstance(seq, int) else prev_seq + 1
                if anchored is not None and seq == anchored.audit_seq:
                    anchored_hash_in_file = prev_hash
        if anchored is not None and anchored.audit_seq:
            if prev_seq < anchored.audit_seq:
                problems.append(
                    AuditProblem(
                        0,
                        (
                            f"missing tail: the log ends at entry {prev_seq} but the trust anchors "
                            f"record entry {anchored.audit_seq} (entries {prev_seq + 1}.."
                            f"{anchored.audit_seq} were removed)"
                        ),
                    )
                )
            elif anchored_hash_in_file != anchored.audit_hash:
                problems.append(
                    AuditProblem(
                        0,
                        (
                            f"entry {anchored.audit_seq} is not the one the trust anchors "
                            "recorded: "
                            "the file was rewritten (hashes recomputed)"
                        ),
                    )
                )
        return problems

    def repair(self, user: str) -> dict[str, Any]:
        """Make the log appendable again after damage, keeping every byte and saying so.

        Lines after the longest intact prefix of the chain (or the whole file, when that
        prefix disagrees with the trust anchors) move to ``audit.quarantine/``; then an
        ``audit.repair`` entry is appended that records what was moved and which anchored
        entries are missing, and the anchors are reset to it. Returns that entry.
        """
        with self._locked() as fh:
            fh.seek(0)
            data = fh.read()
            lines = data.splitlines(keepends=True)
            prev_hash, prev_seq, last_entry = GENESIS, 0, None  # the intact prefix's end
            for raw in lines:
                try:
                    entry = json.loads(raw)
                except ValueError:
                    break
                if not (
                    isinstance(entry, dict)
                    and raw == _canonical(entry) + b"\n"
                    and entry.get("hash") == entry_hash(entry)
                    and entry.get("prev") == prev_hash
                    and entry.get("seq") == prev_seq + 1
                ):
                    break
                prev_hash, prev_seq, last_entry = entry["hash"], entry["seq"], entry
            reading = self.trust.read() if self.trust is not None else None
            anchored = reading.state if reading and reading.state else TrustState()
            if reading is not None and reading.claimed_accounts:
                anchored = replace(anchored, accounts=True)  # accounts stay required
            if anchored.audit_seq and anchored.audit_seq <= prev_seq:
                at = json.loads(lines[anchored.audit_seq - 1])
                if at.get("hash") != anchored.audit_hash:
                    prev_seq, last_entry = 0, None  # rewritten: nothing is trusted
            kept_bytes = sum(len(line) for line in lines[:prev_seq])
            moved = data[kept_bytes:]
            target = ""
            if moved:
                self.quarantine_dir.mkdir(mode=0o700, exist_ok=True)
                stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
                path = self.quarantine_dir / f"repair-{stamp}.jsonl"
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "wb") as out:
                    out.write(moved)
                    out.flush()
                    os.fsync(out.fileno())
                target = str(path)
                fh.truncate(kept_bytes)
                os.fsync(fh.fileno())
            missing = (
                f"{prev_seq + 1}..{anchored.audit_seq}" if anchored.audit_seq > prev_seq else ""
            )
            entry = self._write(
                fh,
                last_entry,
                user,
                "audit.repair",
                {
                    "kept_entries": prev_seq,
                    "quarantined_bytes": len(moved),
                    "quarantined_lines": len(lines) - prev_seq,
                    "quarantine_file": target,
                    "anchored_seq": anchored.audit_seq,
                    "anchored_hash": anchored.audit_hash,
                    "missing_entries": missing,
                    "anchor_problems": list(reading.problems) if reading else [],
                },
                None,
                None,
            )
            if self.trust is not None:
                self.trust.write(
                    replace(anchored, audit_seq=entry["seq"], audit_hash=entry["hash"])
                )
        return entry


def _parse_last(path: Path, raw: bytes) -> dict[str, Any]:
    try:
        entry = json.loads(raw)
        if isinstance(entry, dict) and isinstance(entry["seq"], int) and entry["hash"]:
            return entry
    except (ValueError, KeyError, TypeError):
        pass
    raise AuditError(
        f"{str(path)!r}: the last entry is damaged, so new entries cannot be "
        "chained to it; run `superbrain audit verify` and see docs/SECURITY.md"
    )


def _last_line(fh: Any, end: int | None = None) -> bytes:
    """The last line of the file's first ``end`` bytes (default: all), without its newline."""
    size = fh.seek(0, os.SEEK_END) if end is None else end
    if size == 0:
        return b""
    block = min(size, 65536)
    while True:
        fh.seek(size - block)
        chunk = fh.read(block)
        lines = chunk.rstrip(b"\n").split(b"\n")
        if len(lines) > 1 or block == size:
            return lines[-1]
        block = min(size, block * 2)


def _last_newline_end(fh: Any, size: int) -> int:
    """Offset just after the last ``\\n`` in the file (0 when there is none)."""
    end = size
    while end > 0:
        start = max(0, end - 65536)
        fh.seek(start)
        at = fh.read(end - start).rfind(b"\n")
        if at >= 0:
            return start + at + 1
        end = start
    return 0
