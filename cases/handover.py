"""Hand-over: a whole case in one file, and its import into another workspace or centre.

The file is a ZIP (``.sbcase``) holding ``case.json`` — the case, its members, charts, notes
and pins with their ids, versions, authors and times, plus the records the case cites (so the
receiving side can read the sources even before it has ingested them) — and ``attachments/``:
the photos of pinned records and face leads, each listed in ``case.json`` with its SHA-256.

Import is all or nothing (one transaction) and keeps every id. It refuses, saying what clashes
and changing nothing, when the case number or any chart, note or pin id already exists. What
is read is bounded: the ZIP's entries, their names (no paths out of the folder) and sizes.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any

from cases.access import case_for
from cases.chart import record_uids, validate
from cases.db import (
    CHART_COLUMNS,
    NOTE_COLUMNS,
    PIN_COLUMNS,
    Tx,
    case_charts,
    case_notes,
    case_pins,
    dumps,
    ensure_schema,
    load_case,
)
from cases.errors import CaseConflictError, CaseInvalidError
from cases.exports import _output, _written
from cases.model import (
    CASE_ROLES,
    CLASSIFICATIONS,
    NOTE_TARGETS,
    PIN_KINDS,
    STATUSES,
    check_choice,
    check_number,
)
from cases.service import ServiceContext, _con, audit_detail, service

FORMAT = "superbrain-case/1"
MAX_JSON = 256 * 1024 * 1024
MAX_ATTACHMENT = 64 * 1024 * 1024
MAX_TOTAL = 2 * 1024 * 1024 * 1024
MAX_ENTRIES = 10_000
MAX_CITED_RECORDS = 20_000


@service("cases.handover_export", permission="export")
def handover_export(ctx: ServiceContext, *, case: str, path: str) -> dict[str, Any]:
    """Write the whole case to one ``.sbcase`` file (JSON plus attachments)."""
    number = check_number(case)
    out = _output(path, (".sbcase", ".zip"))
    con = _con(ctx)
    found = case_for(con, number, ctx.session.user, "read")
    charts = [c.to_dict() for c in case_charts(con, number)]
    notes = case_notes(con, number)
    pins = case_pins(con, number)
    cited: dict[str, None] = {}
    for p in pins:
        if p.kind == "record":
            cited.setdefault(p.ref, None)
        elif p.data.get("record_uid"):
            cited.setdefault(str(p.data["record_uid"]), None)
    for n in notes:
        if n.target_kind in ("record", "timeline"):
            cited.setdefault(n.target, None)
    for c in charts:
        for uid in record_uids(c["data"]):
            cited.setdefault(uid, None)
    records = ctx.workspace.store.get_records(list(cited)[:MAX_CITED_RECORDS])
    attachments, files = _attachments(ctx.workspace, pins, records)
    doc = {
        "format": FORMAT,
        "exported_at": time.time(),
        "exported_by": ctx.session.user,
        "case": {
            "number": found.number,
            "title": found.title,
            "classification": found.classification,
            "status": found.status,
            "created_by": found.created_by,
            "created_at": found.created_at,
            "updated_at": found.updated_at,
            "version": found.version,
        },
        "members": [
            {"user": m.user, "role": m.role, "added_by": m.added_by, "added_at": m.added_at}
            for m in found.members
        ],
        "charts": [
            {**c, "created_at": _epoch(c["created_at"]), "updated_at": _epoch(c["updated_at"])}
            for c in charts
        ],
        "notes": [
            {
                "id": n.id,
                "target_kind": n.target_kind,
                "target": n.target,
                "text": n.text,
                "mentions": list(n.mentions),
                "author": n.author,
                "created_at": n.created_at,
                "updated_at": n.updated_at,
                "version": n.version,
            }
            for n in notes
        ],
        "pins": [
            {
                "id": p.id,
                "kind": p.kind,
                "ref": p.ref,
                "title": p.title,
                "data": p.data,
                "pinned_by": p.pinned_by,
                "pinned_at": p.pinned_at,
            }
            for p in pins
        ],
        "records": [_record_json(r) for r in records],
        "attachments": attachments,
    }
    tmp = out.with_name(out.name + ".part")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("case.json", json.dumps(doc, ensure_ascii=False, indent=1))
        for name, source in files.items():
            zf.write(source, f"attachments/{name}")
    os.replace(tmp, out)
    audit_detail(
        charts=len(charts),
        notes=len(notes),
        pins=len(pins),
        records=len(records),
        attachments=len(files),
    )
    return _written(out)


def _epoch(iso_text: str | None) -> float | None:
    from datetime import datetime

    return datetime.fromisoformat(iso_text).timestamp() if iso_text else None


def _record_json(r: Any) -> dict[str, Any]:
    return {
        "uid": r.uid,
        "source": r.source,
        "id": r.id,
        "type": r.type,
        "time": r.time.timestamp() if r.time else None,
        "geo": list(r.geo) if r.geo else None,
        "text": dict(r.text),
        "fields": dict(r.fields),
        "origin": r.origin,
    }


def _attachments(
    workspace: Any, pins: list[Any], records: list[Any]
) -> tuple[list[dict[str, Any]], dict[str, Path]]:
    """Photos of the pinned records (and face leads' records): listed with their SHA-256."""
    wanted = {p.ref for p in pins if p.kind == "record"} | {
        str(p.data["record_uid"]) for p in pins if p.data.get("record_uid")
    }
    listed, files = [], {}
    for r in records:
        if r.uid not in wanted:
            continue
        for key, raw in dict(r.attachments).items():
            path = Path(str(raw))
            if not path.is_absolute():
                path = workspace.root / path
            if not path.is_file() or path.stat().st_size > MAX_ATTACHMENT:
                continue
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            name = f"{digest[:16]}{path.suffix.lower()[:8]}"
            files[name] = path
            listed.append(
                {
                    "record_uid": r.uid,
                    "key": key,
                    "file": name,
                    "sha256": digest,
                    "original": path.name,
                }
            )
    return listed, files


@service("cases.handover_import", permission="cases.import")
def handover_import(ctx: ServiceContext, *, path: str) -> dict[str, Any]:
    """Import a ``.sbcase`` file, keeping every id; refused with the clashing ids when the
    case number or an id exists already (nothing is changed then). The importer becomes the
    case's lead if the file does not make them a member."""
    source = Path(path).expanduser()
    if not source.is_file():
        raise CaseInvalidError(f"{str(source)!r}: no such file")
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    audit_detail(file=str(source.resolve()), sha256=digest)
    doc, blobs = _read(source)
    number = check_number(str(doc["case"].get("number", "")))
    ensure_schema(ctx.workspace.store)
    user = ctx.session.user
    members = doc["members"]
    added_lead = not any(m["user"] == user for m in members)
    with Tx(ctx.workspace.store, time.time()) as tx:
        _conflicts(tx.con, number, doc)
        c = doc["case"]
        tx.con.execute(
            "INSERT INTO case_files VALUES (?,?,?,?,?,?,?,?)",
            (
                number,
                str(c["title"]),
                c["classification"],
                c["status"],
                str(c.get("created_by", "")),
                float(c["created_at"]),
                float(c["updated_at"]),
                int(c.get("version", 1)),
            ),
        )
        for m in members:
            tx.con.execute(
                "INSERT INTO case_members VALUES (?,?,?,?,?)",
                (
                    number,
                    m["user"],
                    m["role"],
                    str(m.get("added_by", "")),
                    float(m.get("added_at") or tx.now),
                ),
            )
        if added_lead:
            tx.con.execute(
                "INSERT INTO case_members VALUES (?,?,?,?,?)", (number, user, "lead", user, tx.now)
            )
        for ch in doc["charts"]:
            tx.con.execute(
                f"INSERT INTO case_charts ({CHART_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?)",
                (
                    ch["id"],
                    number,
                    ch["name"],
                    dumps(validate(ch["data"])),
                    ch["created_by"],
                    ch["created_at"],
                    ch["updated_by"],
                    ch["updated_at"],
                    int(ch["version"]),
                ),
            )
        for n in doc["notes"]:
            tx.con.execute(
                f"INSERT INTO case_notes ({NOTE_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (
                    n["id"],
                    number,
                    n["target_kind"],
                    n["target"],
                    n["text"],
                    dumps(list(n.get("mentions", []))),
                    n["author"],
                    n["created_at"],
                    n["updated_at"],
                    int(n["version"]),
                ),
            )
        for p in doc["pins"]:
            tx.con.execute(
                f"INSERT INTO case_pins ({PIN_COLUMNS}) VALUES (?,?,?,?,?,?,?,?)",
                (
                    p["id"],
                    number,
                    p["kind"],
                    p["ref"],
                    p["title"],
                    dumps(p.get("data", {})),
                    p["pinned_by"],
                    p["pinned_at"],
                ),
            )
        tx.event(
            "case.imported",
            number,
            number,
            user,
            {
                "from": doc.get("exported_by"),
                "charts": len(doc["charts"]),
                "notes": len(doc["notes"]),
                "pins": len(doc["pins"]),
            },
        )
    folder = ctx.workspace.root / "cases" / number
    if blobs:
        (folder / "attachments").mkdir(parents=True, exist_ok=True)
        for name, data in blobs.items():
            (folder / "attachments" / name).write_bytes(data)
    if doc["records"]:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "records.json").write_text(
            json.dumps(doc["records"], ensure_ascii=False), "utf-8"
        )
    audit_detail(
        case_number=number,
        charts=len(doc["charts"]),
        notes=len(doc["notes"]),
        pins=len(doc["pins"]),
        added_as_lead=added_lead,
    )
    found = load_case(ctx.workspace.store.connection, number)
    return {**found.to_dict(), "added_as_lead": added_lead}  # type: ignore[union-attr]


def _conflicts(con: Any, number: str, doc: dict[str, Any]) -> None:
    problems = []
    existing = load_case(con, number)
    if existing is not None:
        problems.append(
            f"case {number!r} already exists here (title {existing.title!r}, "
            f"version {existing.version})"
        )
    for table, key in (("case_charts", "charts"), ("case_notes", "notes"), ("case_pins", "pins")):
        ids = [x["id"] for x in doc[key]]
        for i in range(0, len(ids), 400):
            chunk = ids[i : i + 400]
            clash = [
                r[0]
                for r in con.execute(
                    f"SELECT id FROM {table} WHERE id IN ({','.join('?' * len(chunk))})", chunk
                )
            ]
            if clash:
                problems.append(
                    f"{key} ids already here: {', '.join(clash[:5])}"
                    + (f" and {len(clash) - 5} more" if len(clash) > 5 else "")
                )
    if problems:
        raise CaseConflictError(
            "import refused, nothing was changed: "
            + "; ".join(problems)
            + ". Import into a workspace that does not hold this case, "
            "or ask its lead to merge by hand."
        )


def _read(source: Path) -> tuple[dict[str, Any], dict[str, bytes]]:
    """``case.json`` (checked) and the attachments (hashes checked) of a hand-over file."""
    where = repr(str(source))
    try:
        zf = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError) as exc:
        raise CaseInvalidError(f"{where}: not a case hand-over file ({exc})") from None
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_ENTRIES or sum(i.file_size for i in infos) > MAX_TOTAL:
            raise CaseInvalidError(f"{where}: too many or too large entries")
        names = {i.filename: i for i in infos}
        if "case.json" not in names or names["case.json"].file_size > MAX_JSON:
            raise CaseInvalidError(
                f"{where}: no case.json (or larger than {MAX_JSON // 2**20} MiB)"
            )
        try:
            doc = json.loads(zf.read("case.json"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise CaseInvalidError(f"{where}: case.json is not JSON: {exc}") from None
        _check_doc(where, doc)
        blobs: dict[str, bytes] = {}
        for a in doc["attachments"]:
            name = str(a.get("file", ""))
            if PurePosixPath(name).name != name or name in ("", ".", ".."):
                raise CaseInvalidError(
                    f"{where}: attachment name {name!r} is not a plain file name"
                )
            info = names.get(f"attachments/{name}")
            if info is None or info.file_size > MAX_ATTACHMENT:
                raise CaseInvalidError(f"{where}: attachment {name!r} missing or too large")
            data = zf.read(info)
            if hashlib.sha256(data).hexdigest() != a.get("sha256"):
                raise CaseInvalidError(
                    f"{where}: attachment {name!r} does not match its "
                    "SHA-256 (the file was altered)"
                )
            blobs[name] = data
    return doc, blobs


def _check_doc(where: str, doc: Any) -> None:
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise CaseInvalidError(f"{where}: case.json format is not {FORMAT}")
    for key in ("case", "members", "charts", "notes", "pins", "records", "attachments"):
        if key not in doc:
            raise CaseInvalidError(f"{where}: case.json lacks {key!r}")
    c = doc["case"]
    try:
        check_choice("classification", c["classification"], CLASSIFICATIONS)
        check_choice("status", c["status"], STATUSES)
        for m in doc["members"]:
            check_choice(f"member {m.get('user')!r} role", m["role"], CASE_ROLES)
        for n in doc["notes"]:
            check_choice(f"note {n.get('id')!r} target", n["target_kind"], NOTE_TARGETS)
        for p in doc["pins"]:
            check_choice(f"pin {p.get('id')!r} kind", p["kind"], PIN_KINDS)
        for ch in doc["charts"]:
            str(ch["id"]), str(ch["name"]), int(ch["version"])
    except (KeyError, TypeError, ValueError) as exc:
        raise CaseInvalidError(f"{where}: case.json is incomplete: {exc}") from None
