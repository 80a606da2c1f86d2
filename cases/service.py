"""The case services: every read and change of a case goes through one of these functions.

Each is registered with ``@service(name, permission=...)`` (CONTRACT.md §1): the wrapper checks
the session's permission and writes one audit entry per call (a refusal or a failure too).
Inside, :func:`cases.access.case_for` checks the user's case role; every edit bumps the row's
``version`` (a stale one is refused with :class:`~cases.errors.CaseConflictError`) and journals
a ``case.*`` event in the same transaction (:func:`events` reads them back; the centre server
streams them). Parameters and results are JSON-friendly.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import TYPE_CHECKING, Any

from cases import access
from cases.access import case_for
from cases.chart import validate
from cases.db import (
    CHART_COLUMNS,
    NOTE_COLUMNS,
    PIN_COLUMNS,
    Tx,
    case_notes,
    case_pins,
    chart_from_row,
    dumps,
    ensure_schema,
    event_from_row,
    load_case,
    load_chart,
    load_note,
    note_from_row,
    pin_from_row,
)
from cases.errors import CaseConflictError, CaseInvalidError, CaseNotFoundError
from cases.model import (
    CASE_ROLES,
    CLASSIFICATIONS,
    DEFAULT_CLASSIFICATION,
    MAX_NAME,
    MAX_NOTE,
    MAX_TITLE,
    NOTE_TARGETS,
    PIN_KINDS,
    STATUSES,
    check_choice,
    check_number,
    check_text,
)
from cases.places import place_key
from core.services import ServiceContext, audit_detail, service

if TYPE_CHECKING:
    import sqlite3

#: ``@type:key`` or ``@[type:key with spaces]`` in a note's text names an entity.
MENTION = re.compile(r"@\[([a-z_]+:[^\]\n]{1,200})\]|@([a-z_]+:[^\s,;，。；、)）\]]{1,200})")


def _con(ctx: ServiceContext) -> sqlite3.Connection:
    ensure_schema(ctx.workspace.store)
    return ctx.workspace.store.connection


def _tx(ctx: ServiceContext) -> Tx:
    ensure_schema(ctx.workspace.store)
    return Tx(ctx.workspace.store, time.time())


def _bump_case(tx: Tx, number: str) -> None:
    tx.con.execute("UPDATE case_files SET updated_at=? WHERE number=?", (tx.now, number))


# -- case files -----------------------------------------------------------------------------------
@service("cases.create", permission="cases.create")
def create(
    ctx: ServiceContext, *, case: str, title: str, classification: str = DEFAULT_CLASSIFICATION
) -> dict[str, Any]:
    """Open a case; the user who opens it is its lead."""
    number = check_number(case)
    title = check_text("title", title, MAX_TITLE)
    check_choice("classification", classification, CLASSIFICATIONS)
    user = ctx.session.user
    with _tx(ctx) as tx:
        if load_case(tx.con, number) is not None:
            raise CaseConflictError(f"case {number!r} already exists")
        tx.con.execute(
            "INSERT INTO case_files VALUES (?,?,?,?,?,?,?,1)",
            (number, title, classification, "open", user, tx.now, tx.now),
        )
        tx.con.execute(
            "INSERT INTO case_members VALUES (?,?,?,?,?)", (number, user, "lead", user, tx.now)
        )
        tx.event("case.created", number, number, user, {"title": title})
    return load_case(_con(ctx), number).to_dict()  # type: ignore[union-attr]


@service("cases.list", permission="cases.read")
def list_cases(ctx: ServiceContext, *, status: str | None = None) -> list[dict[str, Any]]:
    """The cases the user is a member of (a case they are not in is not listed)."""
    if status is not None:
        check_choice("status", status, STATUSES)
    con = _con(ctx)
    rows = con.execute(
        "SELECT c.number FROM case_files c JOIN case_members m ON m.case_number = c.number "
        "WHERE m.user=? ORDER BY c.updated_at DESC",
        (ctx.session.user,),
    ).fetchall()
    out = []
    for (number,) in rows:
        case = load_case(con, number)
        if case is not None and (status is None or case.status == status):
            out.append({**case.to_dict(), "my_role": case.role_of(ctx.session.user)})
    audit_detail(listed=len(out))
    return out


@service("cases.get", permission="cases.read")
def get(ctx: ServiceContext, *, case: str) -> dict[str, Any]:
    """One case with its members and how many charts, notes and pins it holds."""
    con = _con(ctx)
    found = case_for(con, check_number(case), ctx.session.user, "read")
    counts = {
        t: con.execute(
            f"SELECT count(*) FROM case_{t} WHERE case_number=?", (found.number,)
        ).fetchone()[0]
        for t in ("charts", "notes", "pins")
    }
    return {**found.to_dict(), "my_role": found.role_of(ctx.session.user), "counts": counts}


@service("cases.update", permission="cases.write")
def update(
    ctx: ServiceContext,
    *,
    case: str,
    version: int,
    title: str | None = None,
    classification: str | None = None,
    status: str | None = None,
) -> dict[str, Any]:
    """Change the title, classification or status (the lead only; ``version`` must be the
    case's current one)."""
    number = check_number(case)
    changes: dict[str, Any] = {}
    if title is not None:
        changes["title"] = check_text("title", title, MAX_TITLE)
    if classification is not None:
        changes["classification"] = check_choice("classification", classification, CLASSIFICATIONS)
    if status is not None:
        changes["status"] = check_choice("status", status, STATUSES)
    if not changes:
        raise CaseInvalidError("nothing to change: give a title, classification or status")
    with _tx(ctx) as tx:
        current = case_for(tx.con, number, ctx.session.user, "manage")
        _check_version("case", number, current.version, version)
        sets = ", ".join(f"{k}=?" for k in changes)
        tx.con.execute(
            f"UPDATE case_files SET {sets}, version=version+1, updated_at=? WHERE number=?",
            (*changes.values(), tx.now, number),
        )
        tx.event(
            "case.updated", number, number, ctx.session.user, {**changes, "version": version + 1}
        )
    return load_case(_con(ctx), number).to_dict()  # type: ignore[union-attr]


def _check_version(what: str, ref: str, current: int, given: int | None) -> None:
    if given is None or int(given) != current:
        raise CaseConflictError(
            f"{what} {ref!r} was changed by someone else (version {current}, yours {given}); "
            "reload it and apply your change again"
        )


@service("cases.member_set", permission="cases.write")
def member_set(ctx: ServiceContext, *, case: str, member: str, role: str) -> dict[str, Any]:
    """Add ``member`` to the case or change their case role (lead, contributor, reader). Only
    the lead may, or an administrator holding ``cases.admin`` (audited like any call)."""
    number = check_number(case)
    check_choice("case role", role, CASE_ROLES)
    user = check_text("member", member, 64)
    _check_account(ctx, user)
    override = ctx.session.can("cases.admin")
    with _tx(ctx) as tx:
        current = case_for(tx.con, number, ctx.session.user, "manage", override=override)
        if current.role_of(user) == "lead" and role != "lead" and _leads(current) == 1:
            raise CaseInvalidError(
                f"case {number!r}: {user!r} is its only lead; make someone else lead first"
            )
        tx.con.execute(
            "INSERT INTO case_members VALUES (?,?,?,?,?) ON CONFLICT(case_number, user) "
            "DO UPDATE SET role=excluded.role",
            (number, user, role, ctx.session.user, tx.now),
        )
        _bump_case(tx, number)
        tx.event("case.member", number, user, ctx.session.user, {"user": user, "role": role})
    return load_case(_con(ctx), number).to_dict()  # type: ignore[union-attr]


def _leads(case: Any) -> int:
    return sum(1 for m in case.members if m.role == "lead")


def _check_account(ctx: ServiceContext, user: str) -> None:
    from core.security import user_store

    store = user_store(ctx.workspace)
    if store.has_users() and store.get(user) is None:
        raise CaseInvalidError(f"no user account {user!r} in this workspace")


@service("cases.member_remove", permission="cases.write")
def member_remove(ctx: ServiceContext, *, case: str, member: str) -> dict[str, Any]:
    """Take ``member`` off the case (the lead, or ``cases.admin``); never its only lead."""
    number = check_number(case)
    user = member
    override = ctx.session.can("cases.admin")
    with _tx(ctx) as tx:
        current = case_for(tx.con, number, ctx.session.user, "manage", override=override)
        role = current.role_of(user)
        if role is None:
            raise CaseNotFoundError(f"{user!r} is not a member of case {number!r}")
        if role == "lead" and _leads(current) == 1:
            raise CaseInvalidError(f"case {number!r}: {user!r} is its only lead")
        tx.con.execute("DELETE FROM case_members WHERE case_number=? AND user=?", (number, user))
        _bump_case(tx, number)
        tx.event("case.member_removed", number, user, ctx.session.user, {"user": user})
    return load_case(_con(ctx), number).to_dict()  # type: ignore[union-attr]


# -- saved charts ---------------------------------------------------------------------------------
@service("cases.charts", permission="cases.read")
def charts(ctx: ServiceContext, *, case: str) -> list[dict[str, Any]]:
    """The case's saved charts (without their contents), newest first."""
    con = _con(ctx)
    number = case_for(con, check_number(case), ctx.session.user, "read").number
    rows = con.execute(
        f"SELECT {CHART_COLUMNS} FROM case_charts WHERE case_number=? ORDER BY updated_at DESC",
        (number,),
    ).fetchall()
    return [chart_from_row(r).to_dict(with_data=False) for r in rows]


@service("cases.chart_save", permission="cases.write")
def chart_save(
    ctx: ServiceContext,
    *,
    case: str,
    name: str,
    data: dict[str, Any],
    chart_id: str | None = None,
    version: int | None = None,
) -> dict[str, Any]:
    """Save a chart document (:mod:`cases.chart`). Without ``chart_id`` a new chart is made
    (save / save as: ``name`` must be new in the case); with it, the chart is overwritten if
    ``version`` is its current one (a stale version is refused, nothing is lost)."""
    return _save_chart(ctx, check_number(case), name, data, chart_id, version)


def _save_chart(
    ctx: ServiceContext,
    number: str,
    name: str,
    data: dict[str, Any],
    chart_id: str | None,
    version: int | None,
) -> dict[str, Any]:
    name = check_text("chart name", name, MAX_NAME)
    doc = validate(data)
    user = ctx.session.user
    with _tx(ctx) as tx:
        case_for(tx.con, number, user, "edit")
        _name_free(tx.con, number, name, chart_id)
        if chart_id is None:
            chart_id = uuid.uuid4().hex
            tx.con.execute(
                f"INSERT INTO case_charts ({CHART_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,1)",
                (chart_id, number, name, dumps(doc), user, tx.now, user, tx.now),
            )
            new_version = 1
        else:
            row = tx.con.execute(
                "SELECT version FROM case_charts WHERE id=? AND case_number=?", (chart_id, number)
            ).fetchone()
            if row is None:
                raise CaseNotFoundError(f"case {number!r} has no chart {chart_id!r}")
            _check_version("chart", name, row[0], version)
            new_version = row[0] + 1
            tx.con.execute(
                "UPDATE case_charts SET name=?, data=?, updated_by=?, updated_at=?, "
                "version=? WHERE id=?",
                (name, dumps(doc), user, tx.now, new_version, chart_id),
            )
        _bump_case(tx, number)
        tx.event(
            "case.chart_saved",
            number,
            chart_id,
            user,
            {"name": name, "version": new_version, "nodes": len(doc["nodes"])},
        )
    audit_detail(chart_id=chart_id, chart_version=new_version, nodes=len(doc["nodes"]))
    return load_chart(_con(ctx), number, chart_id).to_dict(with_data=False)


def _name_free(con: sqlite3.Connection, number: str, name: str, chart_id: str | None) -> None:
    row = con.execute(
        "SELECT id FROM case_charts WHERE case_number=? AND name=?", (number, name)
    ).fetchone()
    if row is not None and row[0] != chart_id:
        raise CaseConflictError(
            f"case {number!r} already has a chart named {name!r}; choose "
            "another name or open that chart"
        )


@service("cases.chart_open", permission="cases.read")
def chart_open(
    ctx: ServiceContext, *, case: str, chart_id: str, offer_new_links: bool = True
) -> dict[str, Any]:
    """A saved chart exactly as saved, and (``offered``) the links among its nodes that were
    ingested since: the caller offers them, the chart does not change by itself."""
    from cases.chart import offered_links

    con = _con(ctx)
    number = case_for(con, check_number(case), ctx.session.user, "read").number
    chart = load_chart(con, number, chart_id)
    offered = offered_links(ctx.workspace.store, chart.data) if offer_new_links else []
    audit_detail(chart_version=chart.version, offered=len(offered))
    return {"chart": chart.to_dict(), "offered": offered}


@service("cases.chart_duplicate", permission="cases.write")
def chart_duplicate(ctx: ServiceContext, *, case: str, chart_id: str, name: str) -> dict[str, Any]:
    """A copy of a saved chart under a new name."""
    number = check_number(case)
    con = _con(ctx)
    case_for(con, number, ctx.session.user, "edit")
    source = load_chart(con, number, chart_id)
    return _save_chart(ctx, number, name, source.data, None, None)


@service("cases.chart_delete", permission="cases.write")
def chart_delete(ctx: ServiceContext, *, case: str, chart_id: str, version: int) -> None:
    """Delete a saved chart (``version`` must be its current one)."""
    number = check_number(case)
    with _tx(ctx) as tx:
        case_for(tx.con, number, ctx.session.user, "edit")
        chart = load_chart(tx.con, number, chart_id)
        _check_version("chart", chart.name, chart.version, version)
        tx.con.execute("DELETE FROM case_charts WHERE id=?", (chart_id,))
        _bump_case(tx, number)
        tx.event("case.chart_deleted", number, chart_id, ctx.session.user, {"name": chart.name})


# -- notes ----------------------------------------------------------------------------------------
def mentions_in(text: str) -> list[str]:
    """Entity ids a note's text names as ``@type:key`` or ``@[type:key]``, in order."""
    return list(dict.fromkeys((a or b).strip() for a, b in MENTION.findall(text)))


def _check_mentions(ctx: ServiceContext, ids: list[str]) -> list[str]:
    store = ctx.workspace.store
    missing = [m for m in ids if store.get_entity(m) is None]
    if missing:
        raise CaseInvalidError(
            f"the note mentions {', '.join(map(repr, missing))}, which "
            "no record names; write an entity id as @type:key"
        )
    return ids


@service("cases.note_add", permission="cases.write")
def note_add(
    ctx: ServiceContext,
    *,
    case: str,
    target_kind: str,
    target: str,
    text: str,
    mentions: list[str] | None = None,
) -> dict[str, Any]:
    """A note on the case (``target_kind`` case), or on an entity, link
    (``source|target|type``), record (uid), timeline point (``record_uid`` or ISO time) or map
    place (``lat,lon`` in degrees, kept with six decimals). Entities named as ``@type:key``
    in the text (and ``mentions``) must exist; they become the note's links."""
    number = check_number(case)
    check_choice("note target", target_kind, NOTE_TARGETS)
    target = check_text("note target", target if target_kind != "case" else number, 500)
    if target_kind == "place":
        target = place_key(target)  # a place no map can show is refused, not kept
    text = check_text("note", text, MAX_NOTE)
    named = _check_mentions(ctx, list(dict.fromkeys([*mentions_in(text), *(mentions or [])])))
    note_id = uuid.uuid4().hex
    user = ctx.session.user
    with _tx(ctx) as tx:
        case_for(tx.con, number, user, "edit")
        tx.con.execute(
            f"INSERT INTO case_notes ({NOTE_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,1)",
            (note_id, number, target_kind, target, text, dumps(named), user, tx.now, tx.now),
        )
        _bump_case(tx, number)
        tx.event(
            "case.note_added",
            number,
            note_id,
            user,
            {"target_kind": target_kind, "target": target, "mentions": named},
        )
    audit_detail(note_id=note_id, target_kind=target_kind, target=target)
    return load_note(_con(ctx), number, note_id).to_dict()


@service("cases.note_edit", permission="cases.write")
def note_edit(
    ctx: ServiceContext, *, case: str, note_id: str, text: str, version: int
) -> dict[str, Any]:
    """Rewrite a note (its author or the case lead; ``version`` must be current)."""
    number = check_number(case)
    text = check_text("note", text, MAX_NOTE)
    named = _check_mentions(ctx, mentions_in(text))
    user = ctx.session.user
    with _tx(ctx) as tx:
        current = case_for(tx.con, number, user, "edit")
        note = load_note(tx.con, number, note_id)
        _own_or_lead(current, note, user)
        _check_version("note", note_id, note.version, version)
        tx.con.execute(
            "UPDATE case_notes SET text=?, mentions=?, updated_at=?, version=version+1 WHERE id=?",
            (text, dumps(named), tx.now, note_id),
        )
        _bump_case(tx, number)
        tx.event("case.note_edited", number, note_id, user, {"version": version + 1})
    return load_note(_con(ctx), number, note_id).to_dict()


def _own_or_lead(case: Any, note: Any, user: str) -> None:
    from cases.errors import CaseAccessError

    if note.author != user and case.role_of(user) != "lead":
        raise CaseAccessError(user, case.number, "manage", case.role_of(user))


@service("cases.note_delete", permission="cases.write")
def note_delete(ctx: ServiceContext, *, case: str, note_id: str, version: int) -> None:
    """Delete a note (its author or the case lead)."""
    number = check_number(case)
    user = ctx.session.user
    with _tx(ctx) as tx:
        current = case_for(tx.con, number, user, "edit")
        note = load_note(tx.con, number, note_id)
        _own_or_lead(current, note, user)
        _check_version("note", note_id, note.version, version)
        tx.con.execute("DELETE FROM case_notes WHERE id=?", (note_id,))
        _bump_case(tx, number)
        tx.event("case.note_deleted", number, note_id, user, {})


@service("cases.notes", permission="cases.read")
def notes(
    ctx: ServiceContext, *, case: str, target_kind: str | None = None, target: str | None = None
) -> list[dict[str, Any]]:
    """The case's notes (on one kind of target, or one target), oldest first."""
    con = _con(ctx)
    number = case_for(con, check_number(case), ctx.session.user, "read").number
    sql, args = f"SELECT {NOTE_COLUMNS} FROM case_notes WHERE case_number=?", [number]
    if target_kind:
        sql, args = sql + " AND target_kind=?", [*args, target_kind]
    if target:
        sql, args = sql + " AND target=?", [*args, target]
    rows = con.execute(sql + " ORDER BY created_at, id", args).fetchall()
    return [note_from_row(r).to_dict() for r in rows]


@service("cases.note_places", permission="cases.read")
def note_places(ctx: ServiceContext, *, case: str) -> list[dict[str, Any]]:
    """The case's notes that have a place on a map, each with ``lat``, ``lon`` and
    ``placed_by``: notes on map places at their point, on entities at the entity's location
    (its coordinates, else its latest located record), on records and timeline points at the
    record's place (:mod:`cases.places`)."""
    from cases.places import note_points

    con = _con(ctx)
    number = case_for(con, check_number(case), ctx.session.user, "read").number
    return note_points(ctx.workspace.store, [n.to_dict() for n in case_notes(con, number)])


# -- pinned evidence ------------------------------------------------------------------------------
@service("cases.pin", permission="cases.write")
def pin(
    ctx: ServiceContext,
    *,
    case: str,
    kind: str,
    ref: str,
    title: str = "",
    data: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Pin evidence to the case: a record (uid), a saved search (the query; its hit count is
    taken now), a face lead (``search_id:face_id``; similarity, threshold and false-match rate
    in ``data``; the review state is read from the face store), or a co-occurrence result
    (``data``: the pairs). Who pinned it and when are kept."""
    from cases.evidence import snapshot

    number = check_number(case)
    check_choice("pin kind", kind, PIN_KINDS)
    ref = check_text("pin reference", ref, 2000)
    user = ctx.session.user
    con = _con(ctx)
    case_for(con, number, user, "edit")
    title, snap = snapshot(ctx.workspace, kind, ref, title, dict(data or {}))
    pin_id = uuid.uuid4().hex
    with _tx(ctx) as tx:
        case_for(tx.con, number, user, "edit")
        if tx.con.execute(
            "SELECT 1 FROM case_pins WHERE case_number=? AND kind=? AND ref=?", (number, kind, ref)
        ).fetchone():
            raise CaseConflictError(f"case {number!r}: {kind} {ref!r} is already pinned")
        tx.con.execute(
            f"INSERT INTO case_pins ({PIN_COLUMNS}) VALUES (?,?,?,?,?,?,?,?)",
            (pin_id, number, kind, ref, title, dumps(snap), user, tx.now),
        )
        _bump_case(tx, number)
        tx.event("case.pinned", number, pin_id, user, {"kind": kind, "ref": ref})
    audit_detail(pin_id=pin_id, kind=kind, ref=ref)
    row = _con(ctx).execute(f"SELECT {PIN_COLUMNS} FROM case_pins WHERE id=?", (pin_id,)).fetchone()
    return pin_from_row(row).to_dict()


@service("cases.unpin", permission="cases.write")
def unpin(ctx: ServiceContext, *, case: str, pin_id: str) -> None:
    """Take a pin off the case."""
    number = check_number(case)
    with _tx(ctx) as tx:
        case_for(tx.con, number, ctx.session.user, "edit")
        if (
            tx.con.execute(
                "DELETE FROM case_pins WHERE id=? AND case_number=?", (pin_id, number)
            ).rowcount
            == 0
        ):
            raise CaseNotFoundError(f"case {number!r} has no pin {pin_id!r}")
        _bump_case(tx, number)
        tx.event("case.unpinned", number, pin_id, ctx.session.user, {})


@service("cases.pins", permission="cases.read")
def pins(ctx: ServiceContext, *, case: str, recount: bool = False) -> list[dict[str, Any]]:
    """The case's pinned evidence, oldest first; ``recount`` adds each saved search's hit
    count now (``data.hits_now``) beside the count when pinned."""
    from cases.evidence import refresh

    con = _con(ctx)
    number = case_for(con, check_number(case), ctx.session.user, "read").number
    out = [p.to_dict() for p in case_pins(con, number)]
    return refresh(ctx.workspace, out) if recount else out


# -- live updates ---------------------------------------------------------------------------------
@service("cases.events", permission="cases.read", audit_repeats=300.0)
def events(
    ctx: ServiceContext, *, after: int = 0, case: str | None = None, limit: int = 500
) -> list[dict[str, Any]]:
    """Journalled changes with id > ``after`` of the cases the user is a member of (or of
    ``case``), oldest first: what a console polls, and what the centre streams."""
    con = _con(ctx)
    limit = max(1, min(int(limit), 5000))
    if case:
        number = case_for(con, check_number(case), ctx.session.user, "read").number
        rows = con.execute(
            "SELECT id, ts, kind, case_number, ref, user, payload FROM "
            "case_events WHERE id > ? AND case_number=? ORDER BY id LIMIT ?",
            (int(after), number, limit),
        ).fetchall()
    else:
        rows = con.execute(
            "SELECT e.id, e.ts, e.kind, e.case_number, e.ref, e.user, e.payload FROM "
            "case_events e JOIN case_members m ON m.case_number = e.case_number AND m.user=? "
            "WHERE e.id > ? ORDER BY e.id LIMIT ?",
            (ctx.session.user, int(after), limit),
        ).fetchall()
    return [event_from_row(r).to_dict() | {"ts_epoch": r[1]} for r in rows]


def last_event_id(ctx: ServiceContext) -> int:
    """Where a poller starts (no case content: just a number)."""
    return int(_con(ctx).execute("SELECT coalesce(max(id), 0) FROM case_events").fetchone()[0])


__all__ = [
    "ServiceContext",
    "access",
    "chart_delete",
    "chart_duplicate",
    "chart_open",
    "chart_save",
    "charts",
    "create",
    "events",
    "get",
    "list_cases",
    "member_remove",
    "member_set",
    "note_add",
    "note_delete",
    "note_edit",
    "note_places",
    "notes",
    "pin",
    "pins",
    "unpin",
    "update",
]
