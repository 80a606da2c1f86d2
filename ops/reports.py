"""Reports from the public page: citizens and grid workers report, follow and rate.

A report becomes an incident exactly like a 110 call (intake → routing rules → the open
queue); the reporter gets a receipt code to follow its status and, once it is closed, rates the
handling (1–5). Ratings are the *assess* step: :func:`satisfaction` feeds ``ops.metrics``.

The page calls these services with a public session (role ``public``, permission
``report.submit`` only) whose user is ``public@ADDRESS``, the client's address as the server
saw it; limits per address and per phone (``resources/ops/public.toml``) are counted in the
same serialised transaction as the insert, so a burst from one address cannot slip past them
and reports from everyone else go through untouched.
"""

from __future__ import annotations

import re
import secrets
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

from core.services import ServiceContext, audit_detail, service
from ops.errors import OpsError, UnknownIncidentError
from ops.photos import check_photos, store_photos

PUBLIC_FILE = Path(__file__).resolve().parent.parent / "resources" / "ops" / "public.toml"
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L
CODE_LENGTH = 10
CLOSED = ("resolved", "feedback", "assessed")
MAX_RATING_NOTE = 500
_PHONE = re.compile(r"^\+?[0-9][0-9 \-]{5,18}[0-9]$")


class InvalidReportError(OpsError):
    """A public report, status request or rating is malformed; the message names the field."""


class RateLimitedError(OpsError):
    """Too many reports from one address or one phone in the configured window."""


@cache
def public_config() -> dict[str, Any]:
    data = tomllib.loads(PUBLIC_FILE.read_text(encoding="utf-8"))
    cats = {}
    for key, value in data["categories"].items():
        category, priority, label = value
        cats[key] = {"category": str(category), "priority": int(priority), "label": str(label)}
    return {"limits": dict(data["limits"]), "categories": cats}


def _peer(ctx: ServiceContext) -> str:
    user = ctx.session.user
    return user.partition("@")[2] or user if user.startswith("public@") else user


def _ops(ctx: ServiceContext) -> Any:
    from ops.service import ops_for

    return ops_for(ctx.workspace)


def normalise_phone(phone: str) -> str:
    if not isinstance(phone, str) or not _PHONE.match(phone.strip()):
        raise InvalidReportError("phone: give a phone number of 7 to 20 digits (e.g. 13800000000)")
    return re.sub(r"[ \-]", "", phone.strip())


def _code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


@service("public.categories", permission="report.submit", audit_repeats=300.0)
def categories(ctx: ServiceContext) -> list[dict[str, Any]]:
    """What the public page offers: key and label of each category."""
    return [{"key": k, "label": v["label"]} for k, v in public_config()["categories"].items()]


@service("public.report_submit", permission="report.submit")
def submit(
    ctx: ServiceContext,
    *,
    category: str,
    text: str,
    phone: str,
    lat: float | None = None,
    lon: float | None = None,
    address: str = "",
    photos: list[bytes] | None = None,
) -> dict[str, Any]:
    """Submit a report; returns its receipt code. Refused with the field named when
    malformed, and with :class:`RateLimitedError` past the limits of ``public.toml``."""
    cfg = public_config()
    limits = cfg["limits"]
    cat = cfg["categories"].get(category)
    if cat is None:
        raise InvalidReportError(
            f"category: {str(category)[:40]!r} is not one of {', '.join(cfg['categories'])}"
        )
    if not isinstance(text, str) or not text.strip():
        raise InvalidReportError("text: describe what happened")
    if len(text) > limits["max_text"]:
        raise InvalidReportError(f"text: {len(text)} characters; at most {limits['max_text']}")
    if not isinstance(address, str) or len(address) > limits["max_address"]:
        raise InvalidReportError(f"address: at most {limits['max_address']} characters")
    if (lat is None) != (lon is None):
        raise InvalidReportError("place: give both lat and lon, or neither")
    if lat is None and not address.strip():
        raise InvalidReportError("place: pick the place on the map or type its address")
    for name, value in (("lat", lat), ("lon", lon)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise InvalidReportError(f"{name}: must be a number")
    phone = normalise_phone(phone)
    checked = check_photos(photos, "report")
    peer = _peer(ctx)
    ops = _ops(ctx)
    # First without the writers' lock, so that a flood is refused without queueing behind (or
    # in front of) the commanders' writes; then again under the lock, where it is exact.
    _check_limits(ops.ctx.con, limits, peer, phone, ops.ctx.clock())
    with ops.ctx.tx() as tx:
        now = tx.now
        _check_limits(tx.con, limits, peer, phone, now)
        code = _code()
        inc = ops.incidents.insert(
            tx,
            cat["category"],
            cat["priority"],
            lat=lat,
            lon=lon,
            address=address.strip(),
            reporter="市民上报 public report",
            reporter_phone=phone,
            text=text.strip(),
            user=ctx.session.user,
            audit={"via": "public", "receipt": code},
        )
        ids = store_photos(tx, f"report:{code}", checked)
        tx.con.execute(
            "INSERT INTO ops_reports (code, incident_id, ts, peer, phone, photos) "
            "VALUES (?,?,?,?,?,?)",
            (code, inc.id, now, peer, phone, len(ids)),
        )
    audit_detail(incident=inc.id, receipt=code, photos=len(ids))
    return {
        "code": code,
        "incident_id": inc.id,
        "status": inc.status,
        "routing": inc.routing.get("description", ""),
    }


def _check_limits(con: Any, limits: dict[str, Any], peer: str, phone: str, now: float) -> None:
    (by_peer,) = con.execute(
        "SELECT count(*) FROM ops_reports WHERE peer=? AND ts>?",
        (peer, now - limits["per_address_window_s"]),
    ).fetchone()
    if by_peer >= limits["per_address"]:
        raise RateLimitedError(
            f"too many reports from this address ({by_peer} in "
            f"{limits['per_address_window_s'] // 60} minutes); try later, "
            "or call 110 in an emergency"
        )
    (by_phone,) = con.execute(
        "SELECT count(*) FROM ops_reports WHERE phone=? AND ts>?",
        (phone, now - limits["per_phone_window_s"]),
    ).fetchone()
    if by_phone >= limits["per_phone"]:
        raise RateLimitedError(
            f"too many reports from this phone ({by_phone} in "
            f"{limits['per_phone_window_s'] // 60} minutes); try later, "
            "or call 110 in an emergency"
        )


def _report(con: Any, code: str) -> tuple[Any, ...]:
    if not isinstance(code, str) or len(code) != CODE_LENGTH:
        raise InvalidReportError(f"code: a receipt code has {CODE_LENGTH} characters")
    row = con.execute(
        "SELECT code, incident_id, ts, rating, rating_note FROM ops_reports WHERE code=?",
        (code.strip().upper(),),
    ).fetchone()
    if row is None:
        raise UnknownIncidentError(f"no report with receipt code {code[:20]!r}")
    return tuple(row)


@service("public.report_status", permission="report.submit")
def report_status(ctx: ServiceContext, *, code: str) -> dict[str, Any]:
    """Where a report stands, by its receipt code (no personal data)."""
    from core.timezones import format_local

    ops = _ops(ctx)
    code, incident_id, _, rating, note = _report(ops.ctx.con, code)
    inc = ops.incidents.get(incident_id)
    machine = ops.config.incident_states
    cat_label = next(
        (
            c["label"]
            for c in public_config()["categories"].values()
            if c["category"] == inc.category
        ),
        inc.category,
    )
    return {
        "code": code,
        "status": inc.status,
        "status_label": machine.label(inc.status),
        "category": cat_label,
        "district": inc.district,
        "received": format_local(inc.received_at, ctx.workspace.zone),
        "steps": [
            {"status": s, "label": machine.label(s), "at": format_local(t, ctx.workspace.zone)}
            for s, t in sorted(inc.stamps.items(), key=lambda kv: kv[1])
        ],
        "can_rate": inc.status in CLOSED and rating is None,
        "rating": rating,
        "rating_note": note,
    }


@service("public.report_rate", permission="report.submit")
def report_rate(ctx: ServiceContext, *, code: str, rating: int, note: str = "") -> dict[str, Any]:
    """Rate the handling of a closed report (1–5), once; recorded as the incident's
    feedback (回访)."""
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise InvalidReportError("rating: a whole number from 1 to 5")
    if not isinstance(note, str) or len(note) > MAX_RATING_NOTE:
        raise InvalidReportError(f"note: at most {MAX_RATING_NOTE} characters")
    from ops.incidents import advance_incident, load_incident

    ops = _ops(ctx)
    with ops.ctx.tx() as tx:
        code, incident_id, _, rated, _ = _report(tx.con, code)
        inc = load_incident(tx.con, incident_id)
        if inc.status not in CLOSED:
            raise InvalidReportError(
                f"report {code} is not closed yet (status "
                f"{ops.config.incident_states.label(inc.status)}); rate "
                "it once it is"
            )
        if rated is not None:
            raise InvalidReportError(f"report {code} was already rated")
        tx.con.execute(
            "UPDATE ops_reports SET rating=?, rating_note=?, rated_at=? WHERE code=?",
            (rating, note.strip(), tx.now, code),
        )
        text = f"市民评价 rating {rating}/5" + (f": {note.strip()}" if note.strip() else "")
        if inc.status == "resolved":
            advance_incident(tx, ops.config, inc, "feedback", ctx.session.user, feedback=text)
        else:
            tx.event(
                "incident.rated",
                inc.id,
                ctx.session.user,
                {"incident_id": inc.id, "rating": rating},
            )
    audit_detail(incident=incident_id, rating=rating)
    return {"code": code, "rating": rating}


@service("ops.reports", permission="ops.read")
def reports(
    ctx: ServiceContext, *, incident_id: int | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    """Public reports (receipt, incident, address it came from, phone, rating), newest first."""
    sql = "SELECT code, incident_id, ts, peer, phone, photos, rating, rating_note FROM ops_reports"
    args: list[Any] = []
    if incident_id is not None:
        sql += " WHERE incident_id=?"
        args.append(int(incident_id))
    rows = (
        _ops(ctx).ctx.con.execute(sql + " ORDER BY ts DESC LIMIT ?", (*args, int(limit))).fetchall()
    )
    keys = ("code", "incident_id", "ts", "peer", "phone", "photos", "rating", "rating_note")
    return [dict(zip(keys, r, strict=True)) for r in rows]


def satisfaction(con: Any, start: float | None = None, end: float | None = None) -> dict[str, Any]:
    """Ratings of public reports received in [start, end): count, mean, share of 4–5, per
    district."""
    sql = (
        "SELECT i.district, r.rating FROM ops_reports r JOIN ops_incidents i ON "
        "i.id = r.incident_id WHERE r.rating IS NOT NULL"
    )
    args: list[Any] = []
    if start is not None:
        sql += " AND i.received_at >= ?"
        args.append(start)
    if end is not None:
        sql += " AND i.received_at < ?"
        args.append(end)
    by: dict[str, list[int]] = {}
    everything: list[int] = []
    for district, rating in con.execute(sql, args).fetchall():
        by.setdefault(district or "(unknown)", []).append(int(rating))
        everything.append(int(rating))

    def summary(values: list[int]) -> dict[str, Any]:
        n = len(values)
        return {
            "ratings": n,
            "mean": round(sum(values) / n, 2) if n else None,
            "satisfied_rate": round(sum(v >= 4 for v in values) / n, 4) if n else None,
        }

    return {**summary(everything), "by_district": {d: summary(v) for d, v in sorted(by.items())}}
