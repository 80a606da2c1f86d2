"""Every position fix kept, and audited by the minute: accountability without an audit entry per
fix.

A unit device reports every 10 s while on duty; 200 units make 1.7 million fixes a day. Each
fix is kept in ``ops_positions`` (unit, position, the fix's time, when it arrived, the session
account that sent it, and how: ``device``, ``commander``, ``panic``, ``gps``, ``seed``), written
in the transaction that moves the unit. The audit log gets, per account and unit, one entry per
:data:`POSITION_AUDIT_S` window with fixes (:func:`audit_fix`): the entry is written with the
window's *first* fix (so a device that reports once is audited at once) and also summarises the
fixes that came after the previous entry — their count, first and last position, id range and a
SHA-256 chained over them (:func:`chain`). The summary's state lives in ``ops_position_audit``
(same transaction as the fix), so it is exact across server processes and survives a restart.

A fix in the table can be checked against the audit chain: recompute the digest of the rows an
entry names (:func:`check_entry`, :func:`verify_entry`); a row edited, removed or added
afterwards changes it. Fixes older than the retention period are deleted by
:func:`ops.retention.prune`, which cuts each account's and unit's fixes at the first fix of an
entry (:data:`MARK_S`: one remembered per hour) and records the cut, so an entry's fixes are
either all kept or all pruned, and a pruned entry is told apart from an altered one. Measured
cost (bench/server/bench_field.py) and the choice are in docs/SECURITY.md.
"""

from __future__ import annotations

import hashlib
from typing import Any

#: One audit entry per account and unit per this many seconds with fixes.
POSITION_AUDIT_S = 60.0
#: The first fix of an entry in each such period is remembered (``ops_position_marks``) as a
#: place where retention may cut.
MARK_S = 3600


def chain(
    digest: str, fix_id: int, unit_id: str, lat: float, lon: float, at: float, account: str
) -> str:
    """The running SHA-256 over a window's fixes, each with its id, position, time and sender."""
    line = f"{digest}|{fix_id}|{unit_id}|{lat!r}|{lon!r}|{at!r}|{account}"
    return hashlib.sha256(line.encode("utf-8")).hexdigest()


def record(
    tx: Any, unit_id: str, lat: float, lon: float, at: float, *, account: str, via: str
) -> int:
    """Keep one fix in ``ops_positions``; returns its id."""
    cur = tx.con.execute(
        "INSERT INTO ops_positions (unit_id, lat, lon, at, ts, account, via) "
        "VALUES (?,?,?,?,?,?,?)",
        (unit_id, lat, lon, at, tx.now, account, via),
    )
    return int(cur.lastrowid or 0)


def _fix(fix_id: int, lat: float, lon: float, at: float) -> dict[str, Any]:
    return {"id": fix_id, "lat": lat, "lon": lon, "at": at}


def audit_fix(
    tx: Any,
    fix_id: int,
    unit_id: str,
    lat: float,
    lon: float,
    at: float,
    *,
    account: str,
    action: str,
    via: str,
    window_s: float = POSITION_AUDIT_S,
) -> bool:
    """Audit a fix as the module docstring says: the first of a window gets an entry (naming
    it, and summarising the fixes since the previous entry); the others are counted and chained
    until the next. True when an entry was written."""
    row = tx.con.execute(
        "SELECT since, fixes, first_fix, last_fix, first_id, last_id, digest "
        "FROM ops_position_audit WHERE account=? AND unit_id=?",
        (account, unit_id),
    ).fetchone()
    if row is not None and tx.now - float(row[0]) < window_s:
        fixes = int(row[1]) + 1
        fix = dumps_fix(fix_id, lat, lon, at)
        tx.con.execute(
            "UPDATE ops_position_audit SET fixes=?, first_fix=coalesce(first_fix, ?), "
            "last_fix=?, first_id=coalesce(first_id, ?), last_id=?, digest=? "
            "WHERE account=? AND unit_id=?",
            (
                fixes,
                fix,
                fix,
                fix_id,
                fix_id,
                chain(str(row[6]), fix_id, unit_id, lat, lon, at, account),
                account,
                unit_id,
            ),
        )
        return False
    params: dict[str, Any] = {
        "unit": unit_id,
        "via": via,
        "position_id": fix_id,
        "lat": lat,
        "lon": lon,
        "at": at,
        "window_s": window_s,
    }
    if row is not None and int(row[1]):
        import json

        params["since_last_entry"] = {
            "fixes": int(row[1]),
            "first": json.loads(row[2]),
            "last": json.loads(row[3]),
            "ids": [row[4], row[5]],
            "sha256": row[6],
        }
    tx.audit(account, action, params)
    tx.con.execute(  # the first entry of the hour: where a prune may cut (ops.retention)
        "INSERT OR IGNORE INTO ops_position_marks (account, unit_id, hour, fix_id) "
        "VALUES (?,?,?,?)",
        (account, unit_id, int(tx.now // MARK_S), fix_id),
    )
    if row is None:
        tx.con.execute(
            "INSERT INTO ops_position_audit (account, unit_id, since, fixes, digest) "
            "VALUES (?,?,?,0,'')",
            (account, unit_id, tx.now),
        )
    else:
        tx.con.execute(
            "UPDATE ops_position_audit SET since=?, fixes=0, first_fix=NULL, "
            "last_fix=NULL, first_id=NULL, last_id=NULL, digest='' WHERE account=? "
            "AND unit_id=?",
            (tx.now, account, unit_id),
        )
    return True


def dumps_fix(fix_id: int, lat: float, lon: float, at: float) -> str:
    import json

    return json.dumps(_fix(fix_id, lat, lon, at))


def check_entry(con: Any, user: str, params: dict[str, Any]) -> str:
    """What became of the fixes an audit entry names (its own fix, and the fixes it summarises
    in ``since_last_entry``):

    * ``"intact"``: all in ``ops_positions`` as they were (same values, count and SHA-256);
    * ``"pruned"``: deleted by retention — below the cut :func:`ops.retention.prune` recorded
      for the account and unit — and any others as they were;
    * ``"altered"``: a fix changed, removed or added otherwise.
    """
    unit = params.get("unit")
    row = con.execute(
        "SELECT below_id FROM ops_position_pruned WHERE account=? AND unit_id=?", (user, unit)
    ).fetchone()
    below = int(row[0]) if row is not None else 0
    states = {_own_fix(con, user, params, below)}
    summary = params.get("since_last_entry")
    if summary is not None:
        states.add(_summarised(con, user, unit, summary, below))
    if "altered" in states:
        return "altered"
    return "pruned" if "pruned" in states else "intact"


def _own_fix(con: Any, user: str, params: dict[str, Any], below: int) -> str:
    fix_id = params.get("position_id")
    row = con.execute(
        "SELECT lat, lon, at, account FROM ops_positions WHERE id=?", (fix_id,)
    ).fetchone()
    if row is None:
        return "pruned" if isinstance(fix_id, int) and fix_id < below else "altered"
    same = (row[0], row[1], row[2], row[3]) == (
        params.get("lat"),
        params.get("lon"),
        params.get("at"),
        user,
    )
    return "intact" if same else "altered"


def _summarised(con: Any, user: str, unit: Any, summary: dict[str, Any], below: int) -> str:
    first, last = summary["ids"]
    rows = con.execute(
        "SELECT id, unit_id, lat, lon, at, account FROM ops_positions WHERE "
        "id BETWEEN ? AND ? AND unit_id=? AND account=? ORDER BY id",
        (first, last, unit, user),
    ).fetchall()
    if len(rows) < int(summary["fixes"]) and int(last) < below:
        return "pruned"  # all (or, after a cancelled prune, some) deleted by retention
    digest = ""
    for r in rows:
        digest = chain(
            digest, int(r[0]), str(r[1]), float(r[2]), float(r[3]), float(r[4]), str(r[5])
        )
    intact = len(rows) == int(summary["fixes"]) and digest == summary["sha256"]
    return "intact" if intact else "altered"


def verify_entry(con: Any, user: str, params: dict[str, Any]) -> bool:
    """Whether nothing but retention touched the fixes an audit entry names: True when
    :func:`check_entry` says ``"intact"`` or ``"pruned"``."""
    return check_entry(con, user, params) != "altered"
