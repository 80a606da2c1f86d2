"""The hash-chained audit log in PostgreSQL.

The same entries and the same chain as ``core.audit.AuditLog`` (each entry carries the SHA-256
of the previous one; :meth:`PgAuditLog.verify` says where the chain breaks), kept in the
``audit_log`` table, one row per entry holding its canonical line. Appends from every process
are serialised by a transaction-scoped advisory lock on the chain head. An append made while
the thread's connection is inside a transaction joins it: the operation and its audit line
commit together or not at all (a ``kill -9`` between them cannot leave one without the other).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from centre.db import AUDIT_LOCK, Database
from core.audit import GENESIS, AuditLog, AuditProblem, _canonical, entry_hash
from core.security import redact_mapping

DDL = """
CREATE TABLE IF NOT EXISTS audit_log (
    seq BIGINT PRIMARY KEY, ts TEXT NOT NULL, "user" TEXT NOT NULL, action TEXT NOT NULL,
    case_no TEXT, hash TEXT NOT NULL, line TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS audit_log_user ON audit_log ("user", seq);
CREATE INDEX IF NOT EXISTS audit_log_action ON audit_log (action, seq);
"""


class PgAuditLog(AuditLog):
    """The centre's audit trail (see the module docstring)."""

    def __init__(self, db: Database) -> None:
        from core.security import redact

        super().__init__(Path(f"<audit_log table of {redact(db.url)}>"))
        self.db = db
        db.ensure_schema([s for s in DDL.split(";") if s.strip()])

    def append(
        self,
        user: str,
        action: str,
        params: Mapping[str, Any] | None = None,
        *,
        case: str | None = None,
        purpose: str | None = None,
    ) -> dict[str, Any]:
        """Append one entry (joining the thread's open transaction, if any) and return it."""
        with self.db.transaction(serialised=False) as con:
            con.execute("SELECT pg_advisory_xact_lock(?)", (AUDIT_LOCK,))
            last = con.execute(
                "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1"
            ).fetchone()
            entry: dict[str, Any] = {
                "seq": (int(last[0]) + 1) if last else 1,
                "ts": datetime.now(UTC).isoformat(timespec="microseconds"),
                "user": user,
                "action": action,
                "params": redact_mapping(dict(params or {})),
                "prev": last[1] if last else GENESIS,
            }
            if case is not None:
                entry["case"] = case
            if purpose is not None:
                entry["purpose"] = purpose
            entry["hash"] = entry_hash(entry)
            line = _canonical(entry).decode("utf-8")
            con.execute(
                "INSERT INTO audit_log (seq, ts, user, action, case_no, hash, line) "
                "VALUES (?,?,?,?,?,?,?)",
                (entry["seq"], entry["ts"], user, action, case, entry["hash"], line),
            )
        return entry

    def _lines(self, where: str = "", args: tuple[Any, ...] = ()) -> Iterator[tuple[int, str]]:
        last = 0
        while True:
            rows = self.db.connection.execute(
                f"SELECT seq, line FROM audit_log WHERE seq > ?{where} ORDER BY seq LIMIT 5000",
                (last, *args),
            ).fetchall()
            if not rows:
                return
            yield from rows
            last = rows[-1][0]

    def entries(self) -> Iterator[dict[str, Any]]:
        for _, line in self._lines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, dict):
                yield entry

    def search(
        self, *, user: str | None = None, action: str | None = None, case: str | None = None
    ) -> list[dict[str, Any]]:
        where, args = "", []
        if user:
            where += " AND user = ?"
            args.append(user)
        if action:
            if action.endswith("*"):
                where += " AND starts_with(action, ?)"
                args.append(action[:-1])
            else:
                where += " AND action = ?"
                args.append(action)
        if case:
            where += " AND case_no = ?"
            args.append(case)
        out = []
        for _, line in self._lines(where, tuple(args)):
            try:
                out.append(json.loads(line))
            except ValueError:
                continue
        return out

    def verify(self) -> list[AuditProblem]:
        """Check the whole chain; an empty list means intact (``line`` is the entry's seq)."""
        problems: list[AuditProblem] = []
        prev_hash, prev_seq = GENESIS, 0
        for seq, line in self._lines():
            try:
                entry = json.loads(line)
            except ValueError:
                entry = None
            if not isinstance(entry, dict):
                problems.append(AuditProblem(seq, "not a JSON entry (edited or corrupted)"))
                continue
            if entry.get("hash") != entry_hash(entry):
                problems.append(
                    AuditProblem(seq, f"entry seq {entry.get('seq')} was altered (hash mismatch)")
                )
            elif line.encode("utf-8", "backslashreplace") != _canonical(entry):
                problems.append(AuditProblem(seq, f"entry seq {entry.get('seq')} was rewritten"))
            if entry.get("prev") != prev_hash:
                problems.append(
                    AuditProblem(
                        seq,
                        "chain broken: an entry before this one was "
                        "removed, inserted, reordered or altered",
                    )
                )
            if entry.get("seq") != prev_seq + 1 or seq != entry.get("seq"):
                problems.append(
                    AuditProblem(seq, f"sequence jumps from {prev_seq} to {entry.get('seq')}")
                )
            prev_hash = str(entry.get("hash"))
            prev_seq = seq
        return problems
