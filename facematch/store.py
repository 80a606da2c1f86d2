"""The gallery's metadata in SQLite: faces (with descriptors), enrolments, searches, reviews.

SQLite is the source of truth; the FAISS file is derived from it and can always be rebuilt
(``superbrain faces rebuild``). Each face row links to its record uid and graph entity id.

A face whose descriptor could not be re-computed by a re-embedding (:mod:`facematch.reembed`:
photo missing or changed, face not found again) keeps its row, ids and links but is marked
``excluded`` and left out of every index; new descriptors are staged in ``reembed_staged`` and
switched in one transaction (:meth:`FaceStore.switch_descriptors`).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from facematch.errors import FaceIndexError

SCHEMA = """
CREATE TABLE IF NOT EXISTS faces (
    face_id INTEGER PRIMARY KEY AUTOINCREMENT,
    record_uid TEXT NOT NULL,
    attachment TEXT NOT NULL,
    face_index INTEGER NOT NULL,
    entity_id TEXT,
    entity_label TEXT,
    photo_path TEXT NOT NULL,
    photo_sha256 TEXT NOT NULL,
    box TEXT NOT NULL,
    size INTEGER NOT NULL,
    quality REAL NOT NULL,
    descriptor BLOB NOT NULL,
    enrolled_at TEXT NOT NULL,
    enrolled_by TEXT NOT NULL,
    excluded TEXT,
    excluded_detail TEXT,
    UNIQUE (record_uid, attachment, face_index)
);
CREATE INDEX IF NOT EXISTS faces_entity ON faces(entity_id);
CREATE TABLE IF NOT EXISTS enrolments (
    record_uid TEXT NOT NULL,
    attachment TEXT NOT NULL,
    photo_path TEXT NOT NULL,
    photo_sha256 TEXT NOT NULL,
    faces INTEGER NOT NULL,
    error TEXT,
    at TEXT NOT NULL,
    PRIMARY KEY (record_uid, attachment)
);
CREATE TABLE IF NOT EXISTS searches (
    search_id TEXT PRIMARY KEY,
    at TEXT NOT NULL,
    user TEXT NOT NULL,
    case_no TEXT NOT NULL,
    purpose TEXT NOT NULL,
    kind TEXT NOT NULL,
    probe_sha256 TEXT NOT NULL,
    candidates TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS reviews (
    review_id INTEGER PRIMARY KEY AUTOINCREMENT,
    search_id TEXT NOT NULL REFERENCES searches(search_id),
    face_id INTEGER NOT NULL,
    decision TEXT NOT NULL,
    note TEXT NOT NULL,
    user TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS reembed_staged (
    face_id INTEGER PRIMARY KEY,
    target_key TEXT NOT NULL,
    photo_sha256 TEXT NOT NULL,
    photo_path TEXT NOT NULL,
    descriptor BLOB NOT NULL,
    box TEXT NOT NULL,
    size INTEGER NOT NULL,
    quality REAL NOT NULL
);
"""

#: Columns added after galleries were first shipped (added to older files on open).
ADDED_FACE_COLUMNS = (("excluded", "TEXT"), ("excluded_detail", "TEXT"))

#: Faces that belong in the index (the others are marked ``excluded``).
_INDEXED = "excluded IS NULL"


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True, slots=True)
class FaceRow:
    """One enrolled face and what it links to."""

    face_id: int
    record_uid: str
    attachment: str
    face_index: int
    entity_id: str | None
    entity_label: str | None
    photo_path: str
    photo_sha256: str
    box: tuple[int, int, int, int]
    size: int
    quality: float
    excluded: str | None = None
    excluded_detail: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "face_id": self.face_id,
            "record_uid": self.record_uid,
            "attachment": self.attachment,
            "face_index": self.face_index,
            "entity_id": self.entity_id,
            "entity_label": self.entity_label,
            "photo_path": self.photo_path,
            "box": list(self.box),
            "size": self.size,
            "quality": self.quality,
            "excluded": self.excluded,
            "excluded_detail": self.excluded_detail,
        }


_ROW_COLS = (
    "face_id, record_uid, attachment, face_index, entity_id, entity_label, photo_path, "
    "photo_sha256, box, size, quality, excluded, excluded_detail"
)


def _row(r: Sequence[Any]) -> FaceRow:
    return FaceRow(
        int(r[0]),
        r[1],
        r[2],
        int(r[3]),
        r[4],
        r[5],
        r[6],
        r[7],
        tuple(json.loads(r[8])),
        int(r[9]),
        float(r[10]),
        r[11],
        r[12],
    )


class FaceStore:
    """Thread-safe access to ``gallery.sqlite`` (one connection behind a lock)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        try:
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(SCHEMA)
            self._add_missing_columns()
        except sqlite3.Error as exc:
            raise FaceIndexError(
                f"{str(self.path)!r}: cannot open the face gallery ({exc})"
            ) from None

    def _add_missing_columns(self) -> None:
        have = {r[1] for r in self._db.execute("PRAGMA table_info(faces)")}
        for name, kind in ADDED_FACE_COLUMNS:
            if name not in have:
                self._db.execute(f"ALTER TABLE faces ADD COLUMN {name} {kind}")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def data_version(self) -> int:
        """Changes whenever another connection (another console or CLI) commits a change."""
        with self._lock:
            return int(self._db.execute("PRAGMA data_version").fetchone()[0])

    # -- meta ---------------------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    # -- faces --------------------------------------------------------------------------------
    def count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM faces").fetchone()[0])

    def enrolment(self, record_uid: str, attachment: str) -> tuple[str, int, str | None] | None:
        """(photo sha256, faces, error) of a previous enrolment of this record photo."""
        with self._lock:
            row = self._db.execute(
                "SELECT photo_sha256, faces, error FROM enrolments WHERE record_uid=? AND "
                "attachment=?",
                (record_uid, attachment),
            ).fetchone()
        return None if row is None else (row[0], int(row[1]), row[2])

    def replace_photo(
        self,
        record_uid: str,
        attachment: str,
        photo_path: str,
        sha256: str,
        faces: Sequence[dict[str, Any]],
        user: str,
        error: str | None = None,
    ) -> tuple[list[int], list[int]]:
        """Store the faces of one record photo, replacing earlier ones; (added, removed) ids."""
        with self._lock:
            cur = self._db.cursor()
            cur.execute("BEGIN IMMEDIATE")
            try:
                removed = [
                    int(r[0])
                    for r in cur.execute(
                        "SELECT face_id FROM faces WHERE record_uid=? AND attachment=?",
                        (record_uid, attachment),
                    )
                ]
                cur.execute(
                    "DELETE FROM faces WHERE record_uid=? AND attachment=?",
                    (record_uid, attachment),
                )
                added = []
                for f in faces:
                    cur.execute(
                        "INSERT INTO faces (record_uid, attachment, face_index, entity_id, "
                        "entity_label, photo_path, photo_sha256, box, size, quality, descriptor,"
                        " enrolled_at, enrolled_by) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                        (
                            record_uid,
                            attachment,
                            f["face_index"],
                            f.get("entity_id"),
                            f.get("entity_label"),
                            photo_path,
                            sha256,
                            json.dumps(list(f["box"])),
                            f["size"],
                            f["quality"],
                            np.asarray(f["vector"], dtype=np.float32).tobytes(),
                            now(),
                            user,
                        ),
                    )
                    added.append(int(cur.lastrowid or 0))
                cur.execute(
                    "INSERT OR REPLACE INTO enrolments VALUES (?,?,?,?,?,?,?)",
                    (record_uid, attachment, photo_path, sha256, len(faces), error, now()),
                )
                cur.execute("COMMIT")
            except BaseException:
                cur.execute("ROLLBACK")
                raise
        return added, removed

    def remove_record(self, record_uid: str) -> list[int]:
        with self._lock:
            cur = self._db.cursor()
            cur.execute("BEGIN IMMEDIATE")
            ids = [
                int(r[0])
                for r in cur.execute("SELECT face_id FROM faces WHERE record_uid=?", (record_uid,))
            ]
            cur.execute("DELETE FROM faces WHERE record_uid=?", (record_uid,))
            cur.execute("DELETE FROM enrolments WHERE record_uid=?", (record_uid,))
            cur.execute("COMMIT")
        return ids

    def remove_faces(self, face_ids: Iterable[int]) -> list[int]:
        ids = [int(i) for i in face_ids]
        with self._lock:
            present = [
                i
                for i in ids
                if self._db.execute("SELECT 1 FROM faces WHERE face_id=?", (i,)).fetchone()
            ]
            self._db.executemany("DELETE FROM faces WHERE face_id=?", [(i,) for i in present])
        return present

    def faces(self, face_ids: Iterable[int]) -> dict[int, FaceRow]:
        ids = [int(i) for i in face_ids]
        out: dict[int, FaceRow] = {}
        with self._lock:
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                marks = ",".join("?" * len(chunk))
                for r in self._db.execute(
                    f"SELECT {_ROW_COLS} FROM faces WHERE face_id IN ({marks})", chunk
                ):
                    out[int(r[0])] = _row(r)
        return out

    def faces_of_record(self, record_uid: str) -> list[FaceRow]:
        with self._lock:
            return [
                _row(r)
                for r in self._db.execute(
                    f"SELECT {_ROW_COLS} FROM faces WHERE record_uid=? ORDER BY attachment, "
                    "face_index",
                    (record_uid,),
                )
            ]

    def all_vectors(self) -> tuple[np.ndarray, np.ndarray]:
        """(ids, unit vectors) of every face that belongs in the index, for a rebuild."""
        with self._lock:
            rows = self._db.execute(
                f"SELECT face_id, descriptor FROM faces WHERE {_INDEXED} ORDER BY face_id"
            ).fetchall()
        ids = np.array([r[0] for r in rows], dtype=np.int64)
        vecs = (
            np.stack([np.frombuffer(r[1], dtype=np.float32) for r in rows])
            if rows
            else np.zeros((0, 128), dtype=np.float32)
        )
        return ids, vecs

    def vectors(self, face_ids: Sequence[int]) -> np.ndarray:
        with self._lock:
            rows = {
                int(r[0]): r[1]
                for r in self._db.execute(
                    f"SELECT face_id, descriptor FROM faces WHERE face_id IN "
                    f"({','.join('?' * len(face_ids))})",
                    list(face_ids),
                )
            }
        return np.stack([np.frombuffer(rows[int(i)], dtype=np.float32) for i in face_ids])

    def face_ids(self) -> np.ndarray:
        """Ids of the faces that belong in the index (not ``excluded``)."""
        with self._lock:
            return np.array(
                [r[0] for r in self._db.execute(f"SELECT face_id FROM faces WHERE {_INDEXED}")],
                dtype=np.int64,
            )

    # -- searches and reviews -----------------------------------------------------------------
    def add_search(
        self,
        search_id: str,
        user: str,
        case: str,
        purpose: str,
        kind: str,
        probe_sha256: str,
        candidates: Sequence[int],
    ) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO searches VALUES (?,?,?,?,?,?,?,?)",
                (
                    search_id,
                    now(),
                    user,
                    case,
                    purpose,
                    kind,
                    probe_sha256,
                    json.dumps(list(candidates)),
                ),
            )

    def search_info(self, search_id: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute(
                "SELECT search_id, at, user, case_no, purpose, kind, probe_sha256, candidates "
                "FROM searches WHERE search_id=?",
                (search_id,),
            ).fetchone()
        if row is None:
            return None
        keys = ("search_id", "at", "user", "case", "purpose", "kind", "probe_sha256")
        info = dict(zip(keys, row[:7], strict=True))
        info["candidates"] = json.loads(row[7])
        return info

    def add_review(self, search_id: str, face_id: int, decision: str, note: str, user: str) -> int:
        with self._lock:
            cur = self._db.execute(
                "INSERT INTO reviews (search_id, face_id, decision, note, user, at) "
                "VALUES (?,?,?,?,?,?)",
                (search_id, face_id, decision, note, user, now()),
            )
            return int(cur.lastrowid or 0)

    def reviews(self, search_id: str) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT review_id, face_id, decision, note, user, at FROM reviews "
                "WHERE search_id=? ORDER BY review_id",
                (search_id,),
            ).fetchall()
        return [
            dict(zip(("review_id", "face_id", "decision", "note", "user", "at"), r, strict=True))
            for r in rows
        ]

    def face_decisions(self, face_ids: list[int]) -> dict[int, str]:
        """The latest review decision (``confirmed``/``rejected``) of each reviewed face, over
        every earlier search (the console badges candidates already reviewed)."""
        ids = [int(i) for i in face_ids]
        if not ids:
            return {}
        with self._lock:
            rows = self._db.execute(
                f"SELECT face_id, decision FROM reviews WHERE face_id IN "
                f"({','.join('?' * len(ids))}) ORDER BY review_id",
                ids,
            ).fetchall()
        return {int(face): str(decision) for face, decision in rows}

    # -- re-embedding (facematch.reembed) -------------------------------------------------------
    def face_rows(self, *, only_excluded: bool = False) -> list[FaceRow]:
        """Every face (or only those marked ``excluded``), in face id order."""
        where = "WHERE excluded IS NOT NULL " if only_excluded else ""
        with self._lock:
            return [
                _row(r)
                for r in self._db.execute(f"SELECT {_ROW_COLS} FROM faces {where}ORDER BY face_id")
            ]

    def staged_ids(self, target_key: str) -> set[int]:
        """Faces whose new descriptor (for ``target_key``) an earlier, interrupted run staged."""
        with self._lock:
            return {
                int(r[0])
                for r in self._db.execute(
                    "SELECT s.face_id FROM reembed_staged s JOIN faces f USING (face_id) "
                    "WHERE s.target_key=? AND s.photo_sha256=f.photo_sha256",
                    (target_key,),
                )
            }

    def discard_staged(self, keep_key: str | None = None) -> int:
        """Drop staged descriptors (all, or those not for ``keep_key``); how many."""
        with self._lock:
            if keep_key is None:
                cur = self._db.execute("DELETE FROM reembed_staged")
            else:
                cur = self._db.execute(
                    "DELETE FROM reembed_staged WHERE target_key != ?", (keep_key,)
                )
            return int(cur.rowcount)

    def stage_descriptors(self, target_key: str, faces: Sequence[dict[str, Any]]) -> None:
        """Keep new descriptors aside (one transaction); the faces table is not touched.

        Each dict holds ``face_id``, ``photo_sha256``, ``photo_path``, ``vector`` (unit),
        ``box``, ``size``, ``quality``.
        """
        rows = [
            (
                int(f["face_id"]),
                target_key,
                f["photo_sha256"],
                f["photo_path"],
                np.asarray(f["vector"], dtype=np.float32).tobytes(),
                json.dumps(list(f["box"])),
                int(f["size"]),
                float(f["quality"]),
            )
            for f in faces
        ]
        if not rows:
            return
        with self._lock:
            cur = self._db.cursor()
            cur.execute("BEGIN IMMEDIATE")
            try:
                cur.executemany(
                    "INSERT OR REPLACE INTO reembed_staged VALUES (?,?,?,?,?,?,?,?)", rows
                )
                cur.execute("COMMIT")
            except BaseException:
                cur.execute("ROLLBACK")
                raise

    def switch_descriptors(
        self,
        *,
        from_key: str | None,
        target_key: str,
        failures: Mapping[int, tuple[str, str]],
        exclude_unstaged: bool,
    ) -> tuple[int, int]:
        """Swap the staged descriptors in, mark failures, record ``target_key``: one transaction.

        Parameters
        ----------
        from_key:
            The descriptor key the re-embedding started from; if the gallery's key changed
            meanwhile nothing is switched (:class:`FaceIndexError`).
        target_key:
            The key of the staged descriptors, recorded as the gallery's.
        failures:
            ``face_id -> (reason, detail)`` of faces to keep out of the index.
        exclude_unstaged:
            Also mark every face without a staged descriptor (a full migration: no face may
            keep a descriptor of the old key in the index).

        Returns
        -------
        (switched, excluded)
            Faces that got a new descriptor; faces now marked ``excluded`` in the gallery.
        """
        with self._lock:
            cur = self._db.cursor()
            cur.execute("BEGIN IMMEDIATE")
            try:
                row = cur.execute("SELECT value FROM meta WHERE key='descriptor_key'").fetchone()
                key = None if row is None else str(row[0])
                if key != from_key:
                    raise FaceIndexError(
                        f"{str(self.path)!r}: the gallery's descriptors changed to {key!r} "
                        f"while re-embedding from {from_key!r}; nothing was switched, run the "
                        "re-embedding again"
                    )
                cur.execute(
                    "UPDATE faces SET descriptor=s.descriptor, box=s.box, size=s.size, "
                    "quality=s.quality, photo_path=s.photo_path, excluded=NULL, "
                    "excluded_detail=NULL FROM reembed_staged AS s WHERE s.face_id=faces.face_id"
                    " AND s.target_key=? AND s.photo_sha256=faces.photo_sha256",
                    (target_key,),
                )
                switched = int(cur.rowcount)
                cur.executemany(
                    "UPDATE faces SET excluded=?, excluded_detail=? WHERE face_id=?",
                    [(reason, detail, int(fid)) for fid, (reason, detail) in failures.items()],
                )
                if exclude_unstaged:
                    cur.execute(
                        "UPDATE faces SET excluded=COALESCE(excluded, 'not-reembedded'), "
                        "excluded_detail=COALESCE(excluded_detail, ?) WHERE face_id NOT IN "
                        "(SELECT face_id FROM reembed_staged WHERE target_key=?)",
                        (f"no descriptor computed for {target_key!r}", target_key),
                    )
                # a photo found at a new place (path mapping) is enrolled from there from now on
                cur.execute(
                    "UPDATE enrolments SET photo_path=f.photo_path FROM faces AS f "
                    "WHERE f.record_uid=enrolments.record_uid AND "
                    "f.attachment=enrolments.attachment AND "
                    "f.photo_sha256=enrolments.photo_sha256 AND "
                    "f.photo_path != enrolments.photo_path"
                )
                cur.executemany(
                    "INSERT OR REPLACE INTO meta VALUES (?, ?)",
                    [
                        ("descriptor_key", target_key),
                        ("reembedded_at", now()),
                        ("reembedded_from", from_key or ""),
                    ],
                )
                cur.execute("DELETE FROM reembed_staged")
                excluded = int(
                    cur.execute("SELECT COUNT(*) FROM faces WHERE excluded IS NOT NULL").fetchone()[
                        0
                    ]
                )
                cur.execute("COMMIT")
            except BaseException:
                cur.execute("ROLLBACK")
                raise
        return switched, excluded
