"""Live push: the change journals (``ops_events``, ``case_events``) streamed to consoles as
Server-Sent Events.

Both journals take their ids from one sequence (centre.workspace), so they read as one journal
in id order. Every committed row of either is announced by a PostgreSQL trigger on the channel
``superbrain_events`` (NOTIFY is delivered at commit, to every process). Each server process
runs one :class:`EventHub`: a thread that LISTENs on its own connection, reads the new rows
(``id > last``; rows commit in id order, see centre.db) and hands them to the process's
streams. It also polls once a second, so a lost notification delays an event, never loses it.

A stream starts after the id the console last saw (``Last-Event-ID`` or ``?after=``) and first
replays what it missed from the tables; a console too slow to keep up is switched back to
reading from the table. So a console that reconnects misses nothing that the journal still
holds; one that comes back after what it missed was pruned (``OpsService.prune_events``) gets
``event: reset`` first, and reloads its boards.

Who sees what: an operations event needs its kind's permission (:data:`KIND_PERMISSIONS`); a
case event (``event: case``) needs ``cases.read`` *and* membership of that case when it is
delivered (:class:`CaseMembership`), so a user who is not a member never learns the case exists.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from centre.db import Database, first
from centre.store import VOLATILE_CHANNEL
from centre.workspace import EVENTS_CHANNEL

log = logging.getLogger(__name__)

PAGE = 500
QUEUE_LIMIT = 2000


@dataclass(frozen=True)
class Event:
    id: int
    ts: float
    kind: str
    ref: str
    user: str
    payload: str  # JSON text, as stored
    case: str = ""  # a case event's case number ("" for an operations event)

    def sse(self) -> str:
        """The event in text/event-stream form (``event:`` is the kind's first part:
        alert, incident, unit, assignment, case …; no ``id:`` for an announced change).
        A case event carries ``case`` (its number), as ``cases.events`` returns it."""
        case = f'"case":{json.dumps(self.case, ensure_ascii=False)},' if self.case else ""
        data = (
            f'{{"id":{self.id},"ts":{self.ts!r},"kind":{json.dumps(self.kind)},{case}'
            f'"ref":{json.dumps(self.ref, ensure_ascii=False)},'
            f'"user":{json.dumps(self.user, ensure_ascii=False)},'
            f'"payload":{self.payload}}}'
        )
        head = f"id: {self.id}\n" if self.id else ""
        return f"{head}event: {self.kind.split('.', 1)[0]}\ndata: {data}\n\n"


def _volatile_event(payload: str) -> Event | None:
    """An announced change (a GPS fix: ``unit.moved``) as an event without an id: it is not
    journalled, so a console that reconnects gets the unit's current position from the board
    instead of a replay."""
    try:
        note = json.loads(payload)
        return Event(
            0,
            float(note["ts"]),
            str(note["kind"]),
            str(note["ref"]),
            str(note["user"]),
            json.dumps(note["payload"], ensure_ascii=False),
        )
    except (ValueError, KeyError, TypeError):
        log.warning("push: unreadable announcement %r", payload[:200])
        return None


def fetch_events(db: Database, after: int, limit: int = PAGE) -> list[Event]:
    """Rows of both journals with id > ``after``, in id order (one id space)."""
    rows = db.connection.execute(
        "SELECT id, ts, kind, ref, user, payload, '' FROM ops_events WHERE id > ? "
        "UNION ALL SELECT id, ts, kind, ref, user, payload, case_number FROM case_events "
        "WHERE id > ? ORDER BY 1 LIMIT ?",
        (after, after, limit),
    ).fetchall()
    return [Event(int(r[0]), float(r[1]), r[2], r[3], r[4], r[5], r[6]) for r in rows]


def oldest_event_id(db: Database) -> int | None:
    """The oldest id the operations journal still holds (it is pruned; the case journal is
    not, so a console that missed more than that reloads)."""
    row = first(db.connection.execute("SELECT min(id) FROM ops_events"))
    return int(row[0]) if row[0] is not None else None


def last_event_id(db: Database) -> int:
    return int(
        first(
            db.connection.execute(
                "SELECT greatest((SELECT coalesce(max(id), 0) FROM ops_events), "
                "(SELECT coalesce(max(id), 0) FROM case_events))"
            )
        )[0]
    )


@dataclass(eq=False)
class Subscriber:
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[Event] = field(default_factory=lambda: asyncio.Queue(QUEUE_LIMIT))
    lagging: bool = False  # the queue overflowed: re-read from the table

    def offer(self, event: Event) -> None:
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.lagging = True


class EventHub:
    """One per server process: LISTEN, read new journal rows, fan them out."""

    def __init__(self, db: Database, *, poll_s: float = 1.0) -> None:
        self.db = db
        self.poll_s = poll_s
        self.last_id = 0
        self._subs: set[Subscriber] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self.last_id = last_event_id(self.db)
        self._thread = threading.Thread(target=self._run, name="superbrain-push", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def subscribe(self) -> Subscriber:
        sub = Subscriber(asyncio.get_running_loop())
        with self._lock:
            self._subs.add(sub)
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        with self._lock:
            self._subs.discard(sub)

    def _publish(self, events: list[Event]) -> None:
        with self._lock:
            subs = list(self._subs)
        for sub in subs:
            for event in events:
                try:
                    sub.loop.call_soon_threadsafe(sub.offer, event)
                except RuntimeError:  # its loop closed: the stream ended
                    self.unsubscribe(sub)
                    break

    def _drain(self) -> None:
        while True:
            events = fetch_events(self.db, self.last_id)
            if not events:
                return
            self.last_id = events[-1].id
            self._publish(events)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                con = self.db.connect_raw()
            except Exception as exc:  # the database is down: keep trying, say so
                log.error("push: cannot reach PostgreSQL (%s); retrying", exc)
                self._stop.wait(2.0)
                continue
            try:
                con.execute(f"LISTEN {EVENTS_CHANNEL}")
                con.execute(f"LISTEN {VOLATILE_CHANNEL}")
                while not self._stop.is_set():
                    self._drain()
                    for note in con.notifies(timeout=self.poll_s):
                        if note.channel != VOLATILE_CHANNEL:
                            break  # a journal row committed: read it now
                        volatile = _volatile_event(note.payload)
                        if volatile is not None:
                            self._publish([volatile])
            except Exception as exc:
                log.warning("push: listener lost PostgreSQL (%s); reconnecting", exc)
                self._stop.wait(0.2)
            finally:
                con.close()


#: What a session needs to receive each kind of journalled change (the part before the dot).
#: A kind not listed here is not pushed at all: a new journal must say who may see it before
#: it reaches any console. ``case`` also needs membership of the case (:class:`CaseMembership`).
KIND_PERMISSIONS = {
    "alert": "ops.read",
    "incident": "ops.read",
    "unit": "ops.read",
    "assignment": "ops.read",
    "case": "cases.read",
}
#: Case event kinds after which a case's membership may have changed.
MEMBERSHIP_KINDS = frozenset(
    {"case.created", "case.imported", "case.member", "case.member_removed"}
)


class CaseMembership:
    """Whether one stream's user is a member of a case, asked of the database when a case's
    event first arrives and again after each change of its members (so an added member starts
    receiving its events, and a removed one stops)."""

    def __init__(self, db: Database, user: str) -> None:
        self.db = db
        self.user = user
        self._known: dict[str, bool] = {}

    def _ask(self, case: str) -> bool:
        return (
            self.db.connection.execute(
                "SELECT 1 FROM case_members WHERE case_number=? AND user=?", (case, self.user)
            ).fetchone()
            is not None
        )

    async def member(self, event: Event) -> bool:
        from starlette.concurrency import run_in_threadpool

        if event.kind in MEMBERSHIP_KINDS:
            self._known.pop(event.case, None)
        if event.case not in self._known:
            self._known[event.case] = await run_in_threadpool(self._ask, event.case)
        return self._known[event.case]


def visible(event: Event, permissions: frozenset[str]) -> bool:
    """Whether the session's ``permissions`` let it see ``event``'s kind (a case event also
    needs membership: :func:`deliver`)."""
    needed = KIND_PERMISSIONS.get(event.kind.split(".", 1)[0])
    return needed is not None and needed in permissions


async def deliver(
    event: Event,
    permissions: frozenset[str],
    members: CaseMembership | None,
    accept: Callable[[Event], bool] | None = None,
) -> bool:
    """Whether to send ``event`` to one stream: the kind's permission, and for a case event
    membership of its case (never without a user to ask about); ``accept`` may let through
    more operations events (never a case's)."""
    if event.case or event.kind.startswith("case."):
        return (
            visible(event, permissions)
            and members is not None
            and bool(event.case)
            and await members.member(event)
        )
    return visible(event, permissions) or (accept is not None and accept(event))


async def stream(
    hub: EventHub,
    after: int | None,
    *,
    still_valid: Callable[[], Any],
    permissions: frozenset[str],
    user: str | None = None,
    keepalive_s: float = 15.0,
    accept: Callable[[Event], bool] | None = None,
) -> Any:
    """The text/event-stream body for one console (an async generator of str): the events
    its session's ``permissions`` let it see (:data:`KIND_PERMISSIONS`), the events of the
    cases ``user`` is a member of, plus the operations events ``accept`` lets through (a unit
    device's own events, :func:`server.field.unit_filter`)."""
    from starlette.concurrency import run_in_threadpool

    members = CaseMembership(hub.db, user) if user else None
    sub = hub.subscribe()
    try:
        last = hub.last_id if after is None else after
        yield f"retry: 2000\n: superbrain events after {last}\n\n"
        if after is not None:
            oldest = await run_in_threadpool(oldest_event_id, hub.db)
            if oldest is not None and after < oldest - 1:
                # What the console missed was pruned from the journal: replaying would leave
                # holes, so it is told to reload its boards (and goes on from here).
                yield (f'event: reset\ndata: {{"after":{after},"oldest":{oldest}}}\n\n')
        while True:
            # Replay from the table: on connect, and whenever this stream fell behind.
            sub.lagging = False
            while True:
                events = await run_in_threadpool(fetch_events, hub.db, last)
                for event in events:
                    if await deliver(event, permissions, members, accept):
                        yield event.sse()
                    last = event.id
                if len(events) < PAGE:
                    break
            while not sub.lagging:
                try:
                    event = await asyncio.wait_for(sub.queue.get(), keepalive_s)
                except TimeoutError:
                    if not await run_in_threadpool(still_valid):
                        yield "event: session-ended\ndata: {}\n\n"
                        return
                    yield ": keepalive\n\n"
                    continue
                if not event.id:  # announced, not journalled: pass it on as it comes
                    if await deliver(event, permissions, members):
                        yield event.sse()
                    continue
                if event.id <= last:  # already replayed from the table
                    continue
                if await deliver(event, permissions, members, accept):
                    yield event.sse()
                last = event.id
            while not sub.queue.empty():
                sub.queue.get_nowait()
    finally:
        hub.unsubscribe(sub)
