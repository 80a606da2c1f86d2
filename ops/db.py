"""The operations tables (``ops_*``) in the workspace store's SQLite file, and row converters.

Every write goes through ``store.transaction()`` (BEGIN IMMEDIATE), so two consoles on one
workspace serialise their writes; rows that consoles race for carry a ``version`` column that a
write checks and bumps (compare-and-set).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import Any

from ops.model import Alert, Assignment, Incident, OpsEvent, Unit, from_epoch

DDL = """
CREATE TABLE IF NOT EXISTS ops_incidents (
    id INTEGER PRIMARY KEY AUTOINCREMENT, source_uid TEXT UNIQUE,
    category TEXT NOT NULL, priority INTEGER NOT NULL, status TEXT NOT NULL,
    received_at REAL NOT NULL, lat REAL, lon REAL, address TEXT NOT NULL DEFAULT '',
    district TEXT NOT NULL DEFAULT '', reporter TEXT NOT NULL DEFAULT '',
    reporter_phone TEXT NOT NULL DEFAULT '', text TEXT NOT NULL DEFAULT '',
    routing TEXT NOT NULL DEFAULT '{}', stamps TEXT NOT NULL DEFAULT '{}',
    dispute INTEGER NOT NULL DEFAULT 0, mediation TEXT, feedback TEXT NOT NULL DEFAULT '',
    assessment TEXT NOT NULL DEFAULT '', created_by TEXT NOT NULL DEFAULT '',
    version INTEGER NOT NULL DEFAULT 1, updated_at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS ops_incidents_queue ON ops_incidents(status, priority, received_at);
CREATE INDEX IF NOT EXISTS ops_incidents_received ON ops_incidents(received_at);
CREATE TABLE IF NOT EXISTS ops_units (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, type TEXT NOT NULL, capabilities TEXT NOT NULL,
    precinct TEXT NOT NULL DEFAULT '', district TEXT NOT NULL DEFAULT '', status TEXT NOT NULL,
    lat REAL, lon REAL, position_at REAL, status_at REAL, incident_id INTEGER,
    assigned_by TEXT, version INTEGER NOT NULL DEFAULT 1, updated_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS ops_assignments (
    id INTEGER PRIMARY KEY AUTOINCREMENT, incident_id INTEGER NOT NULL, unit_id TEXT NOT NULL,
    assigned_at REAL NOT NULL, assigned_by TEXT NOT NULL, ended_at REAL, ended_by TEXT,
    end_reason TEXT);
CREATE INDEX IF NOT EXISTS ops_assignments_incident ON ops_assignments(incident_id);
CREATE INDEX IF NOT EXISTS ops_assignments_unit ON ops_assignments(unit_id, ended_at);
CREATE TABLE IF NOT EXISTS ops_alerts (
    id INTEGER PRIMARY KEY AUTOINCREMENT, ts REAL NOT NULL, kind TEXT NOT NULL,
    rule TEXT NOT NULL, severity TEXT NOT NULL, title TEXT NOT NULL,
    subject TEXT NOT NULL DEFAULT '', record_uid TEXT, payload TEXT NOT NULL DEFAULT '{}',
    dedup_key TEXT UNIQUE, acked_by TEXT, acked_at REAL, ack_note TEXT NOT NULL DEFAULT '');
CREATE INDEX IF NOT EXISTS ops_alerts_open ON ops_alerts(acked_at, id);
CREATE TABLE IF NOT EXISTS ops_watchlist (
    kind TEXT NOT NULL, key TEXT NOT NULL, label TEXT NOT NULL DEFAULT '',
    reason TEXT NOT NULL DEFAULT '', source_uid TEXT, added_by TEXT NOT NULL DEFAULT '',
    added_at REAL NOT NULL, PRIMARY KEY (kind, key));
CREATE TABLE IF NOT EXISTS ops_saved_searches (
    id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE, query TEXT NOT NULL,
    owner TEXT NOT NULL DEFAULT '', created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS ops_geofence_state (
    fence_id TEXT NOT NULL, subject TEXT NOT NULL, inside INTEGER NOT NULL,
    seen_at REAL, record_uid TEXT, PRIMARY KEY (fence_id, subject));
CREATE TABLE IF NOT EXISTS ops_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS ops_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT, ts REAL NOT NULL, kind TEXT NOT NULL,
    ref TEXT NOT NULL, user TEXT NOT NULL, payload TEXT NOT NULL DEFAULT '{}');
-- Audit lines written in the same transaction as the change, then appended to the audit log
-- after COMMIT and deleted; a row left here means the process died in between (recovered by
-- the next OpsService, see ops.events.OpsContext.recover_audit).
CREATE TABLE IF NOT EXISTS ops_audit_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT, ts REAL NOT NULL, user TEXT NOT NULL,
    action TEXT NOT NULL, params TEXT NOT NULL);
-- The field loop (ops.field, ops.reports): unit devices, what units report from the ground,
-- public reports with their receipt codes and ratings, photos (base64), mediation.
CREATE TABLE IF NOT EXISTS ops_unit_devices (
    account TEXT PRIMARY KEY, unit_id TEXT NOT NULL, bound_by TEXT NOT NULL,
    bound_at REAL NOT NULL, revoked_at REAL, revoked_by TEXT);
CREATE TABLE IF NOT EXISTS ops_field_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT, ts REAL NOT NULL, unit_id TEXT NOT NULL,
    incident_id INTEGER, kind TEXT NOT NULL, account TEXT NOT NULL,
    payload TEXT NOT NULL DEFAULT '{}');
CREATE INDEX IF NOT EXISTS ops_field_log_unit ON ops_field_log(unit_id, incident_id, kind);
CREATE TABLE IF NOT EXISTS ops_reports (
    code TEXT PRIMARY KEY, incident_id INTEGER NOT NULL, ts REAL NOT NULL, peer TEXT NOT NULL,
    phone TEXT NOT NULL, photos INTEGER NOT NULL DEFAULT 0, rating INTEGER,
    rating_note TEXT NOT NULL DEFAULT '', rated_at REAL);
CREATE INDEX IF NOT EXISTS ops_reports_peer ON ops_reports(peer, ts);
CREATE INDEX IF NOT EXISTS ops_reports_phone ON ops_reports(phone, ts);
CREATE INDEX IF NOT EXISTS ops_reports_incident ON ops_reports(incident_id);
-- Every position fix as sent (ops.positions): the audit log has one entry per account and
-- unit per minute that names these rows (count, id range, chained SHA-256).
CREATE TABLE IF NOT EXISTS ops_positions (
    id INTEGER PRIMARY KEY AUTOINCREMENT, unit_id TEXT NOT NULL, lat REAL NOT NULL,
    lon REAL NOT NULL, at REAL NOT NULL, ts REAL NOT NULL, account TEXT NOT NULL,
    via TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS ops_positions_unit ON ops_positions(unit_id, at);
CREATE TABLE IF NOT EXISTS ops_position_audit (
    account TEXT NOT NULL, unit_id TEXT NOT NULL, since REAL NOT NULL, fixes INTEGER NOT NULL,
    first_fix TEXT, last_fix TEXT, first_id INTEGER, last_id INTEGER, digest TEXT NOT NULL,
    PRIMARY KEY (account, unit_id));
-- Retention of the fixes (ops.retention): per account and unit, the first fix of an audit entry
-- in each hour (where a prune may cut without splitting an entry's summary), and the id below
-- which a prune deleted them (what ops.positions.check_entry calls pruned, not altered).
CREATE TABLE IF NOT EXISTS ops_position_marks (
    account TEXT NOT NULL, unit_id TEXT NOT NULL, hour INTEGER NOT NULL,
    fix_id INTEGER NOT NULL, PRIMARY KEY (account, unit_id, hour));
CREATE TABLE IF NOT EXISTS ops_position_pruned (
    account TEXT NOT NULL, unit_id TEXT NOT NULL, below_id INTEGER NOT NULL,
    cutoff REAL NOT NULL, PRIMARY KEY (account, unit_id));
CREATE TABLE IF NOT EXISTS ops_photos (
    id INTEGER PRIMARY KEY AUTOINCREMENT, owner TEXT NOT NULL, mime TEXT NOT NULL,
    sha256 TEXT NOT NULL, size INTEGER NOT NULL, data TEXT NOT NULL, ts REAL NOT NULL);
CREATE INDEX IF NOT EXISTS ops_photos_owner ON ops_photos(owner);
CREATE TABLE IF NOT EXISTS ops_mediations (
    id INTEGER PRIMARY KEY AUTOINCREMENT, incident_id INTEGER NOT NULL, mediator TEXT NOT NULL,
    district TEXT NOT NULL DEFAULT '', assigned_by TEXT NOT NULL, assigned_at REAL NOT NULL,
    outcome TEXT, agreement TEXT NOT NULL DEFAULT '', closed_at REAL);
CREATE INDEX IF NOT EXISTS ops_mediations_mediator ON ops_mediations(mediator);
CREATE TABLE IF NOT EXISTS ops_mediation_sessions (
    id INTEGER PRIMARY KEY AUTOINCREMENT, mediation_id INTEGER NOT NULL, at REAL NOT NULL,
    place TEXT NOT NULL DEFAULT '', parties TEXT NOT NULL DEFAULT '[]',
    created_by TEXT NOT NULL, created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS ops_mediation_invites (
    code TEXT PRIMARY KEY, session_id INTEGER NOT NULL, party TEXT NOT NULL,
    opened_at REAL);
"""


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def ensure_schema(con: sqlite3.Connection) -> None:
    """Create the ops tables if missing (idempotent; safe from several processes)."""
    con.executescript(DDL)


INCIDENT_COLUMNS = (
    "id, source_uid, category, priority, status, received_at, lat, lon, address, "
    "district, reporter, reporter_phone, text, routing, stamps, dispute, "
    "mediation, feedback, assessment, created_by, version"
)


def incident_from_row(row: Sequence[Any], units: Sequence[str] = ()) -> Incident:
    (
        iid,
        source_uid,
        category,
        priority,
        status,
        received_at,
        lat,
        lon,
        address,
        district,
        reporter,
        reporter_phone,
        text,
        routing,
        stamps,
        dispute,
        mediation,
        feedback,
        assessment,
        created_by,
        version,
    ) = row
    stamp_map = {k: from_epoch(v) for k, v in json.loads(stamps).items()}
    return Incident(
        id=iid,
        category=category,
        priority=priority,
        status=status,
        received_at=from_epoch(received_at),  # type: ignore[arg-type]
        lat=lat,
        lon=lon,
        address=address,
        district=district,
        reporter=reporter,
        reporter_phone=reporter_phone,
        text=text,
        routing=json.loads(routing),
        stamps=stamp_map,  # type: ignore[arg-type]
        dispute=bool(dispute),
        mediation=mediation,
        feedback=feedback,
        assessment=assessment,
        source_uid=source_uid,
        created_by=created_by,
        units=tuple(units),
        version=version,
    )


UNIT_COLUMNS = (
    "id, name, type, capabilities, precinct, district, status, lat, lon, "
    "position_at, status_at, incident_id, assigned_by, version"
)


def unit_from_row(row: Sequence[Any]) -> Unit:
    (
        uid,
        name,
        utype,
        caps,
        precinct,
        district,
        status,
        lat,
        lon,
        position_at,
        status_at,
        incident_id,
        assigned_by,
        version,
    ) = row
    return Unit(
        uid,
        name,
        utype,
        tuple(json.loads(caps)),
        precinct,
        district,
        status,
        lat,
        lon,
        from_epoch(position_at),
        from_epoch(status_at),
        incident_id,
        assigned_by,
        version,
    )


ASSIGNMENT_COLUMNS = (
    "id, incident_id, unit_id, assigned_at, assigned_by, ended_at, ended_by, end_reason"
)


def assignment_from_row(row: Sequence[Any]) -> Assignment:
    aid, incident_id, unit_id, assigned_at, assigned_by, ended_at, ended_by, reason = row
    return Assignment(
        aid,
        incident_id,
        unit_id,
        from_epoch(assigned_at),  # type: ignore[arg-type]
        assigned_by,
        from_epoch(ended_at),
        ended_by,
        reason,
    )


ALERT_COLUMNS = (
    "id, ts, kind, rule, severity, title, subject, record_uid, payload, acked_by, "
    "acked_at, ack_note"
)


def alert_from_row(row: Sequence[Any]) -> Alert:
    aid, ts, kind, rule, severity, title, subject, record_uid, payload, acked_by, acked_at, note = (
        row
    )
    return Alert(
        aid,
        from_epoch(ts),  # type: ignore[arg-type]
        kind,
        rule,
        severity,
        title,
        subject,
        record_uid,
        json.loads(payload),
        acked_by,
        from_epoch(acked_at),
        note,
    )


def event_from_row(row: Sequence[Any]) -> OpsEvent:
    eid, ts, kind, ref, user, payload = row
    return OpsEvent(
        eid,
        from_epoch(ts),  # type: ignore[arg-type]
        kind,
        ref,
        user,
        json.loads(payload),
    )
