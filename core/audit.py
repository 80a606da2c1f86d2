"""Append-only, hash-chained audit log (JSON Lines).

Each entry carries the SHA-256 of the previous entry, so editing, removing or reordering any line
breaks the chain at that line and :func:`AuditLog.verify` says where. Appends take an exclusive
file lock, so several consoles and CLIs on one workspace write one consistent chain.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core.errors import SuperbrainError
from core.security import redact_mapping

GENESIS = "0" * 64


def _canonical(entry: Mapping[str, Any]) -> bytes:
    # backslashreplace: a lone surrogate (an undecodable file name) becomes a JSON \u escape,
    # which reads back to the same string, so such entries hash and verify like any other.
    return json.dumps(entry, ensure_ascii=False, sort_keys=True, separators=(",", ":"),
                      default=str).encode("utf-8", "backslashreplace")


class AuditError(SuperbrainError):
    """The audit log cannot be appended to (its last entry is damaged); work that must be
    audited stops until an administrator has looked at it."""


def entry_hash(entry: Mapping[str, Any]) -> str:
    body = {k: v for k, v in entry.items() if k != "hash"}
    return hashlib.sha256(_canonical(body)).hexdigest()


@dataclass(frozen=True)
class AuditProblem:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


class AuditLog:
    """The workspace's audit trail: who did what, when, with which parameters and case number."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def append(
        self,
        user: str,
        action: str,
        params: Mapping[str, Any] | None = None,
        *,
        case: str | None = None,
        purpose: str | None = None,
    ) -> dict[str, Any]:
        """Append one entry and return it (with its ``seq`` and ``hash``)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a+b") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                last = _last_line(fh)
                prev = _parse_last(self.path, last) if last else None
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
                fh.seek(0, os.SEEK_END)
                fh.write(_canonical(entry) + b"\n")
                fh.flush()
                os.fsync(fh.fileno())
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)
        return entry

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

    def search(self, *, user: str | None = None, action: str | None = None,
               case: str | None = None) -> list[dict[str, Any]]:
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
        """Check the whole chain; an empty list means intact."""
        problems: list[AuditProblem] = []
        if not self.path.exists():
            return problems
        prev_hash, prev_seq = GENESIS, 0
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
                    problems.append(AuditProblem(
                        number, f"entry seq {entry.get('seq')} was altered (hash mismatch)"))
                elif raw != _canonical(entry) + b"\n":
                    problems.append(AuditProblem(
                        number, f"entry seq {entry.get('seq')} was rewritten (bytes differ from "
                                "the form it was written in)"))
                if entry.get("prev") != prev_hash:
                    problems.append(AuditProblem(
                        number, "chain broken: an entry before this one was removed, inserted, "
                                "reordered or altered"))
                if entry.get("seq") != prev_seq + 1:
                    problems.append(AuditProblem(
                        number, f"sequence jumps from {prev_seq} to {entry.get('seq')}"))
                prev_hash = str(entry.get("hash"))
                seq = entry.get("seq")
                prev_seq = seq if isinstance(seq, int) else prev_seq + 1
        return problems


def _parse_last(path: Path, raw: bytes) -> dict[str, Any]:
    try:
        entry = json.loads(raw)
        if isinstance(entry, dict) and isinstance(entry["seq"], int) and entry["hash"]:
            return entry
    except (ValueError, KeyError, TypeError):
        pass
    raise AuditError(f"{str(path)!r}: the last entry is damaged, so new entries cannot be "
                     "chained to it; run `superbrain audit verify` and see docs/SECURITY.md")


def _last_line(fh: Any) -> bytes:
    fh.seek(0, os.SEEK_END)
    size = fh.tell()
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
