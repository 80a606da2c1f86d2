"""Alerts: watchlist hits, saved-search matches, geofence entry/exit and face matches.

Rules run on every ingested record (the ops ingest stage calls :meth:`AlertCenter.evaluate`)
and other engines raise alerts through :meth:`AlertCenter.raise_alert` (e.g. the face engine
with ``kind="face_match"``). Every alert is a row of ``ops_alerts`` with a monotonically
increasing id — another console polls :meth:`AlertCenter.since` — and is pushed to in-process
subscribers. Acknowledgements are audited.
"""

from __future__ import annotations

import builtins
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from core.model import EntityRef, Record
from core.progress import CancelToken, ProgressCallback, ProgressMeter
from ops.config import Geofence
from ops.db import ALERT_COLUMNS, alert_from_row, dumps
from ops.errors import NotOwnerError, OpsError, UnknownAlertError
from ops.events import OpsContext, Tx
from ops.geofence import crossings
from ops.model import Alert, OpsEvent
from ops.watch import SavedSearch, WatchIndex, kind_of

log = logging.getLogger(__name__)

#: Watchlisting (布控) is an operational decision: commanders and supervisors hold it.
WATCH_PERMISSION = "ops.dispatch"


class AlertCenter:
    """Raises, lists, pushes and acknowledges alerts; holds the watchlist and saved searches."""

    def __init__(self, ctx: OpsContext) -> None:
        self.ctx = ctx
        self.config = ctx.config.alerts
        self._search_saved: Any = None  # the record matchers, loaded on first use

    def _query_searches(self, records: Sequence[Record]) -> list[tuple[str, str, str]]:
        """(search id, search name, record uid) for records that other engines' saved queries
        match: the ``superbrain.record_matchers`` entry points (the search engine's saved
        searches — full query language, same answers as the search engines). Found through
        core.extensions, so ops does not import search; none installed: only ops predicates."""
        if self._search_saved is None:
            from core.extensions import RECORD_MATCHERS, load_all

            matchers = []
            for _ext, factory in load_all(RECORD_MATCHERS):
                matcher = factory(self.ctx.workspace)
                if matcher is None:
                    return []  # nothing saved yet: ask again next time
                matchers.append(matcher)
            self._search_saved = matchers
        found: list[tuple[str, str, str]] = []
        for matcher in self._search_saved:
            try:
                found.extend(matcher(records))
            except Exception as exc:  # a bad saved-search file must not stop an ingest
                log.error("saved searches of %s were not evaluated: %s", matcher, exc)
        return found

    # -- raising ------------------------------------------------------------------------------
    def _insert(
        self,
        tx: Tx,
        kind: str,
        *,
        title: str,
        rule: str,
        subject: str,
        record_uid: str | None,
        severity: str | None,
        payload: Mapping[str, Any],
        dedup_key: str | None,
        user: str,
    ) -> Alert | None:
        sev = severity or self.config.severity.get(kind, "medium")
        cur = tx.con.execute(
            "INSERT OR IGNORE INTO ops_alerts (ts, kind, rule, severity, title, subject, "
            "record_uid, payload, dedup_key) VALUES (?,?,?,?,?,?,?,?,?)",
            (tx.now, kind, rule, sev, title, subject, record_uid, dumps(dict(payload)), dedup_key),
        )
        if not cur.rowcount:
            return None  # already raised (the same record handed to the stage again)
        row = tx.con.execute(
            f"SELECT {ALERT_COLUMNS} FROM ops_alerts WHERE id=?", (cur.lastrowid,)
        ).fetchone()
        alert = alert_from_row(row)
        tx.event("alert.raised", alert.id, user, alert.as_dict())
        return alert

    def raise_alert(
        self,
        kind: str,
        *,
        title: str,
        rule: str = "",
        subject: str = "",
        record_uid: str | None = None,
        severity: str | None = None,
        payload: Mapping[str, Any] | None = None,
        score: float | None = None,
        dedup_key: str | None = None,
        user: str | None = None,
    ) -> Alert | None:
        """Raise an alert from another engine.

        Parameters
        ----------
        kind:
            ``"face_match"``, ``"watchlist"``, ``"saved_search"``, ``"geofence"`` or any other
            word a console can show.
        title:
            One line for the alert tray.
        score:
            For ``face_match``: the similarity; below ``[face_match] threshold`` of
            ``alerts.toml`` nothing is raised and ``None`` is returned.
        dedup_key:
            Raising twice with the same key raises once (returns ``None`` the second time).

        Returns
        -------
        The new :class:`Alert`, or ``None`` when below threshold or a duplicate.
        """
        if not kind or not title:
            raise OpsError("an alert needs a kind and a title")
        data = dict(payload or {})
        if score is not None:
            data["score"] = float(score)
        if kind == "face_match":
            if score is None:
                raise OpsError("face_match alert without a score")
            if score < self.config.face_threshold:
                log.debug(
                    "face match %.3f below threshold %.3f: no alert",
                    score,
                    self.config.face_threshold,
                )
                return None
            data.setdefault("threshold", self.config.face_threshold)
        who = self.ctx.user(user)
        with self.ctx.tx() as tx:
            alert = self._insert(
                tx,
                kind,
                title=title,
                rule=rule or kind,
                subject=subject,
                record_uid=record_uid,
                severity=severity,
                payload=data,
                dedup_key=dedup_key,
                user=who,
            )
            if alert is not None:
                tx.audit(
                    who,
                    "ops.alert.raise",
                    {"alert": alert.id, "kind": kind, "subject": subject, "score": score},
                )
        return alert

    # -- reading, pushing, acknowledging --------------------------------------------------------
    def get(self, alert_id: int) -> Alert:
        """The alert, or :class:`UnknownAlertError`."""
        row = self.ctx.con.execute(
            f"SELECT {ALERT_COLUMNS} FROM ops_alerts WHERE id=?", (int(alert_id),)
        ).fetchone()
        if row is None:
            raise UnknownAlertError(f"unknown alert {alert_id!r}")
        return alert_from_row(row)

    def since(self, after_id: int = 0, *, limit: int = 500) -> list[Alert]:
        """Alerts with id > ``after_id``, oldest first: what a polling console has not seen."""
        rows = self.ctx.con.execute(
            f"SELECT {ALERT_COLUMNS} FROM ops_alerts WHERE id > ? ORDER BY id LIMIT ?",
            (int(after_id), int(limit)),
        )
        return [alert_from_row(r) for r in rows]

    def list(
        self, *, unacked_only: bool = False, kind: str | None = None, limit: int = 200
    ) -> builtins.list[Alert]:
        """Newest first."""
        sql = f"SELECT {ALERT_COLUMNS} FROM ops_alerts"
        where, args = [], []
        if unacked_only:
            where.append("acked_at IS NULL")
        if kind:
            where.append("kind=?")
            args.append(kind)
        if where:
            sql += " WHERE " + " AND ".join(where)
        rows = self.ctx.con.execute(sql + " ORDER BY id DESC LIMIT ?", (*args, int(limit)))
        return [alert_from_row(r) for r in rows]

    def last_id(self) -> int:
        """The id of the newest alert (0 when none): where a poller starts."""
        return int(
            self.ctx.con.execute("SELECT coalesce(max(id), 0) FROM ops_alerts").fetchone()[0]
        )

    def subscribe(self, callback: Callable[[Alert], None]) -> Callable[[], None]:
        """Call ``callback(alert)`` for each new alert raised in this process (after commit).
        Returns an unsubscribe function. Other processes' alerts: poll :meth:`since`."""

        def on_event(event: OpsEvent) -> None:
            callback(self.get(int(event.ref)))

        return self.ctx.bus.subscribe(on_event, {"alert.raised"})

    def ack(self, alert_id: int, *, user: str | None = None, note: str = "") -> Alert:
        """Acknowledge an alert (audited). The first acknowledgement stands: acknowledging an
        acknowledged alert changes nothing and returns it with the first user's name."""
        self.ctx.require("alerts.ack", action="alert.ack", alert=alert_id)
        who = self.ctx.user(user)
        with self.ctx.tx() as tx:
            alert = self.get(alert_id)
            if alert.acked:
                return alert
            tx.con.execute(
                "UPDATE ops_alerts SET acked_by=?, acked_at=?, ack_note=? WHERE id=?",
                (who, tx.now, note, alert.id),
            )
            acked = self.get(alert_id)
            tx.event("alert.acked", alert.id, who, acked.as_dict())
            tx.audit(
                who,
                "ops.alert.ack",
                {"alert": alert_id, "kind": alert.kind, "subject": alert.subject, "note": note},
            )
        return acked

    def geofences_geojson(self) -> dict[str, Any]:
        """The configured geofences as a GeoJSON FeatureCollection (lon, lat; rings closed),
        properties ``id``, ``name``, ``alert_on``, for the map."""
        features = []
        for g in self.config.geofences:
            ring = [[lon, lat] for lat, lon in g.polygon]
            if ring[0] != ring[-1]:
                ring.append(ring[0])
            features.append(
                {
                    "type": "Feature",
                    "properties": {"id": g.id, "name": g.name, "alert_on": g.alert_on},
                    "geometry": {"type": "Polygon", "coordinates": [ring]},
                }
            )
        return {"type": "FeatureCollection", "features": features}

    # -- watchlist and saved searches -----------------------------------------------------------
    def watch(
        self, kind: str, value: str, *, reason: str = "", label: str = "", user: str | None = None
    ) -> str:
        """Put an identifier on the watchlist; ``kind``: vehicle/plate, person/id_number, phone.
        Returns the normalised key (any written form of it will hit)."""
        etype, key = kind_of(kind, value)
        self.ctx.require(WATCH_PERMISSION, action="watch.add", kind=kind)
        who = self.ctx.user(user)
        with self.ctx.tx() as tx:
            tx.con.execute(
                "INSERT OR REPLACE INTO ops_watchlist VALUES (?,?,?,?,?,?,?)",
                (etype, key, label or value, reason, None, who, tx.now),
            )
            tx.audit(who, "ops.watch.add", {"kind": etype, "key": key, "reason": reason})
        return key

    def unwatch(self, kind: str, value: str, *, user: str | None = None) -> bool:
        """Take an identifier off the watchlist; False when it was not on it."""
        etype, key = kind_of(kind, value)
        self.ctx.require(WATCH_PERMISSION, action="watch.remove", kind=kind)
        who = self.ctx.user(user)
        with self.ctx.tx() as tx:
            n = tx.con.execute(
                "DELETE FROM ops_watchlist WHERE kind=? AND key=?", (etype, key)
            ).rowcount
            tx.audit(who, "ops.watch.remove", {"kind": etype, "key": key})
        return bool(n)

    def watchlist(self) -> builtins.list[dict[str, Any]]:
        """Watched identifiers: kind, key, label, reason, source_uid, added_by."""
        rows = self.ctx.con.execute(
            "SELECT kind, key, label, reason, source_uid, added_by "
            "FROM ops_watchlist ORDER BY kind, key"
        )
        cols = ("kind", "key", "label", "reason", "source_uid", "added_by")
        return [dict(zip(cols, r, strict=True)) for r in rows]

    def save_search(
        self,
        name: str,
        *,
        text: str = "",
        fields: Mapping[str, str] | None = None,
        sources: Iterable[str] = (),
        record_types: Iterable[str] = (),
        user: str | None = None,
    ) -> int:
        """Save a search whose matches among newly ingested records raise alerts.

        A record matches when every word of ``text`` occurs in its text or field values, every
        ``fields`` entry equals the record's field (case- and width-insensitive), and its
        source / record type is among ``sources`` / ``record_types`` when given.
        """
        search = SavedSearch.build(
            0, name, text=text, fields=fields or {}, sources=sources, record_types=record_types
        )
        self.ctx.require("search", action="search.save", name=name)
        who = self.ctx.user(user)
        with self.ctx.tx() as tx:
            self._check_owner(tx, name, "change")
            cur = tx.con.execute(
                "INSERT INTO ops_saved_searches (name, query, owner, created_at) VALUES "
                "(?,?,?,?) ON CONFLICT(name) DO UPDATE SET query=excluded.query, "
                "owner=excluded.owner",
                (name, dumps(search.query()), who, tx.now),
            )
            sid = int(
                cur.lastrowid
                or tx.con.execute(
                    "SELECT id FROM ops_saved_searches WHERE name=?", (name,)
                ).fetchone()[0]
            )
            tx.audit(who, "ops.search.save", {"id": sid, "name": name, **search.query()})
        return sid

    def delete_search(self, name: str, *, user: str | None = None) -> bool:
        """Delete an ops saved search by name; False when there was none."""
        self.ctx.require("search", action="search.delete", name=name)
        who = self.ctx.user(user)
        with self.ctx.tx() as tx:
            self._check_owner(tx, name, "delete")
            n = tx.con.execute("DELETE FROM ops_saved_searches WHERE name=?", (name,)).rowcount
            tx.audit(who, "ops.search.delete", {"name": name})
        return bool(n)

    def _check_owner(self, tx: Tx, name: str, what: str) -> None:
        """Only the owner of a saved search (the session's user, never a ``user=`` given by
        calling code) or an administrator (``users.manage``) may change or delete it."""
        from core.security import current_session

        row = tx.con.execute(
            "SELECT owner FROM ops_saved_searches WHERE name=?", (name,)
        ).fetchone()
        session = current_session(self.ctx.workspace)
        if row is None or row[0] in ("", session.user) or session.can("users.manage"):
            return
        raise NotOwnerError(
            f"saved search {name!r} belongs to {row[0]!r}: {session.user!r} "
            f"may not {what} it (its owner or an administrator may)"
        )

    def saved_searches(self) -> builtins.list[SavedSearch]:
        """The ops saved searches (the search engine keeps its own)."""
        return [
            SavedSearch.from_row(r)
            for r in self.ctx.con.execute(
                "SELECT id, name, query FROM ops_saved_searches ORDER BY id"
            )
        ]

    # -- evaluation on ingested records -----------------------------------------------------------
    def evaluate(
        self, records: Sequence[Record], *, user: str | None = None
    ) -> builtins.list[Alert]:
        """Run every rule on a batch of records; returns the alerts newly raised.

        Records of the watchlist sources (``alerts.toml``) add their identifiers to the
        watchlist instead. Idempotent: a batch handed over twice raises nothing new.
        """
        if not records:
            return []
        who = self.ctx.user(user)
        raised: builtins.list[Alert] = []
        searches = self.saved_searches()
        # Other engines' saved queries first, outside the transaction: loading them may discover
        # plugins, whose audit entries write the store's trust anchor (waiting on this very
        # transaction's lock for 30 s each, once ~3.5 min for seven sources).
        searched = self._query_searches(
            [r for r in records if r.source not in self.config.watch_sources]
        )
        with self.ctx.tx() as tx:
            watch = WatchIndex.load(tx.con, self.config)
            others = []
            for rec in records:
                if rec.source in self.config.watch_sources:
                    watch.add_from_record(tx, rec)
                else:
                    others.append(rec)
            for rec in others:
                hits = () if rec.source in self.config.watch_ignore_sources else watch.hits(rec)
                for etype, key, label, reason in hits:
                    a = self._insert(
                        tx,
                        "watchlist",
                        title=f"布控命中 watchlist hit: {label or key} "
                        f"({etype}) in {rec.source} {rec.id}",
                        rule=f"watchlist:{etype}",
                        subject=key,
                        record_uid=rec.uid,
                        severity=None,
                        payload={
                            "entity_type": etype,
                            "key": key,
                            "reason": reason,
                            "source": rec.source,
                            "record_title": rec.title(),
                        },
                        dedup_key=f"watchlist:{etype}:{key}:{rec.uid}",
                        user=who,
                    )
                    if a:
                        raised.append(a)
                for s in searches:
                    if s.matches(rec):
                        a = self._insert(
                            tx,
                            "saved_search",
                            title=f"订阅命中 saved search “{s.name}”: {rec.title()}",
                            rule=f"saved_search:{s.id}",
                            subject=s.name,
                            record_uid=rec.uid,
                            severity=None,
                            payload={"search": s.name, "source": rec.source},
                            dedup_key=f"saved_search:{s.id}:{rec.uid}",
                            user=who,
                        )
                        if a:
                            raised.append(a)
            titles = {r.uid: r.title() for r in others}
            for sid, name, uid in searched:
                a = self._insert(
                    tx,
                    "saved_search",
                    title=f"订阅命中 saved search “{name}”: {titles[uid]}",
                    rule=f"search:{sid}",
                    subject=name,
                    record_uid=uid,
                    severity=None,
                    payload={"search": name, "search_id": sid, "source": uid.split(":")[0]},
                    dedup_key=f"saved_search:search:{sid}:{uid}",
                    user=who,
                )
                if a:
                    raised.append(a)
            raised += crossings(tx, self.config.geofences, others, self._geofence_alert(tx, who))
            if raised:
                tx.audit(
                    who,
                    "ops.alert.raise",
                    {
                        "alerts": [a.id for a in raised][:200],
                        "count": len(raised),
                        "kinds": sorted({a.kind for a in raised}),
                    },
                )
        return raised

    def _geofence_alert(self, tx: Tx, who: str) -> Callable[..., Alert | None]:
        def alert(
            fence: Geofence, subject: str, rec: Record, lat: float, lon: float
        ) -> Alert | None:
            verb = "驶出 left" if fence.alert_on == "exit" else "驶入 entered"
            return self._insert(
                tx,
                "geofence",
                title=f"电子围栏 geofence: {subject} {verb} {fence.name}",
                rule=f"geofence:{fence.id}",
                subject=subject,
                record_uid=rec.uid,
                severity=None,
                payload={
                    "fence": fence.id,
                    "event": fence.alert_on,
                    "lat": lat,
                    "lon": lon,
                    "source": rec.source,
                },
                dedup_key=f"geofence:{fence.id}:{subject}:{rec.uid}",
                user=who,
            )

        return alert

    def rescan(
        self,
        *,
        sources: Iterable[str] | None = None,
        batch_size: int = 2000,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
        user: str | None = None,
    ) -> int:
        """Run the rules over records already in the store (e.g. after loading a watchlist or
        saving a search). Watchlist sources are read first, so every sighting meets the whole
        watchlist. Idempotent: alerts already raised are not raised again. Geofence crossings
        are judged in time order within each batch only. Returns the number of alerts raised.
        """
        counts = self.ctx.store.sources()
        order = sorted(counts, key=lambda s: (s not in self.config.watch_sources, s))
        if sources is not None:
            wanted = set(sources)
            order = [s for s in order if s in wanted]
        meter = ProgressMeter(progress, sum(counts[s] for s in order))
        raised = 0
        batch: builtins.list[Record] = []

        def flush() -> int:
            n = len(self.evaluate(_with_entities(self.ctx.con, batch), user=user))
            meter.advance(len(batch), force=True)
            batch.clear()
            return n

        for source in order:
            # The store's per-record graph read also fetches links; only entities matter here.
            for rec in self.ctx.store.iter_records(source, with_graph=False):
                batch.append(rec)
                if len(batch) >= batch_size:
                    raised += flush()
                    if cancel is not None and cancel.cancelled:
                        return raised
        return raised + flush()


def _with_entities(con: Any, records: Sequence[Record]) -> builtins.list[Record]:
    """The records with the entities they mention (one query per 500 records)."""
    found: dict[str, list[EntityRef]] = {}
    uids = [r.uid for r in records]
    for i in range(0, len(uids), 500):
        chunk = uids[i : i + 500]
        rows = con.execute(
            "SELECT re.record_uid, e.type, e.key, e.label FROM record_entities re JOIN entities "
            f"e ON e.id = re.entity_id WHERE re.record_uid IN ({','.join('?' * len(chunk))})",
            chunk,
        )
        for uid, etype, key, label in rows:
            found.setdefault(uid, []).append(EntityRef(etype, key, label))
    return [replace(r, entities=tuple(found.get(r.uid, ()))) for r in records]
