"""A workspace backed by a centre: shared state in PostgreSQL, files in the server's folder.

``open_centre("centre.toml")`` returns a :class:`CentreWorkspace`, a
:class:`core.workspace.Workspace` whose store, audit log and user accounts live in PostgreSQL
(see :mod:`centre.store`, :mod:`centre.audit`, :mod:`centre.users`), so every engine and the
service layer run on it unchanged, from any number of processes: server processes, ingest
jobs, the CLI.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from centre.config import CentreConfig, load_centre_config
from centre.db import Database
from core.workspace import Workspace

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from centre.audit import PgAuditLog
    from centre.store import PgStore
    from centre.users import PgUserStore, SessionStore


class CentreWorkspace(Workspace):
    """The centre as a workspace (see the module docstring)."""

    def __init__(self, config: CentreConfig, *, application_name: str = "superbrain") -> None:
        super().__init__(config.data_dir, config.raw)
        self.centre = config
        self.db = Database(config.database_url, application_name=application_name)

    @cached_property
    def zone(self) -> ZoneInfo:
        """The centre's time zone (``[centre] timezone`` of centre.toml)."""
        from core.timezones import zone_named

        return zone_named(self.centre.timezone)

    @property
    def config_file(self) -> Path:
        """``centre.toml``."""
        return self.centre.path

    @property
    def store_path(self) -> Path:
        return Path(self.store.path)

    @cached_property
    def store(self) -> PgStore:
        from centre.store import PgStore

        return PgStore(self.db)

    @cached_property
    def audit(self) -> PgAuditLog:
        from centre.audit import PgAuditLog

        return PgAuditLog(self.db)

    @cached_property
    def accounts(self) -> PgUserStore:
        from centre.users import PgUserStore

        return PgUserStore(self.db)

    def sessions(self, lifetime_s: float) -> SessionStore:
        from centre.users import SessionStore

        return SessionStore(self.db, lifetime_s=lifetime_s)

    def close(self) -> None:
        """Close the engines the services opened, then every database connection."""
        super().close()
        self.db.close()


def open_centre(path: Path, *, application_name: str = "superbrain") -> CentreWorkspace:
    """Open the centre described by ``path`` (a ``centre.toml``); creates the data folder's
    sub-folders and the database tables when missing."""
    config = load_centre_config(path)
    for sub in ("", "search", "faces", "rejects", "plugins", "data"):
        (config.data_dir / sub).mkdir(parents=True, exist_ok=True)
    ws = CentreWorkspace(config, application_name=application_name)
    ws.search_config  # noqa: B018 - validate early
    ws.store  # noqa: B018 - the tables exist from here on
    ws.audit  # noqa: B018
    ws.accounts  # noqa: B018
    prepare_engines(ws.db)
    return ws


def prepare_engines(db: Database) -> None:
    """Create the tables of every engine a workspace may hold (the ``superbrain.store_tables``
    entry points: operations, cases, entity resolution …) and the journal triggers, so a
    server, an ingest job and ``superbrain migrate`` all find the same schema (a migrated
    workspace's rows land in the tables the server reads).

    ``case_events`` takes its ids from ``ops_events``' sequence: the two journals share one id
    space, written under the same writers' lock (centre.db), so the push stream orders and
    resumes both by one ``Last-Event-ID``.
    """
    from core.errors import StoreError
    from core.extensions import STORE_TABLES, extensions
    from ops.db import DDL as OPS_DDL

    db.ensure_schema(OPS_DDL)  # first: case_events takes its ids from ops_events' sequence
    db.ensure_schema(CASE_EVENTS_DDL)
    for ext in extensions(STORE_TABLES):  # ops, cases, entity resolution, an add-on's …
        ddl = ext.load()
        if not isinstance(ddl, str):
            raise StoreError(
                f"store tables {ext.name!r} ({ext.value}, {ext.origin}): expected "
                f"SQLite DDL text, got {type(ddl).__name__}"
            )
        db.ensure_schema(ddl)
    db.ensure_schema(NOTIFY_DDL)


#: Every committed row of ``ops_events`` (the change journal) is announced on this channel;
#: server processes LISTEN and push the rows to their consoles (server.push).
EVENTS_CHANNEL = "superbrain_events"
#: The case journal on a centre (cases.db's table, with ids from ``ops_events``' sequence).
CASE_EVENTS_DDL = [
    """CREATE TABLE IF NOT EXISTS case_events (
    id BIGINT PRIMARY KEY DEFAULT nextval(pg_get_serial_sequence('ops_events', 'id')::regclass),
    ts DOUBLE PRECISION NOT NULL, kind TEXT NOT NULL, case_number TEXT NOT NULL,
    ref TEXT NOT NULL, "user" TEXT NOT NULL, payload TEXT NOT NULL DEFAULT '{}')""",
]
NOTIFY_DDL = [
    f"""CREATE OR REPLACE FUNCTION superbrain_notify_event() RETURNS trigger AS $$
    BEGIN PERFORM pg_notify('{EVENTS_CHANNEL}', NEW.id::text); RETURN NULL; END;
    $$ LANGUAGE plpgsql""",
    """CREATE OR REPLACE TRIGGER ops_events_notify AFTER INSERT ON ops_events
    FOR EACH ROW EXECUTE FUNCTION superbrain_notify_event()""",
    """CREATE OR REPLACE TRIGGER case_events_notify AFTER INSERT ON case_events
    FOR EACH ROW EXECUTE FUNCTION superbrain_notify_event()""",
]


def open_path(path: Path, application_name: str) -> CentreWorkspace | None:
    """The ``superbrain.workspaces`` opener: a centre when ``path`` is a ``centre.toml`` file
    (``-w centre.toml``), else None (not a centre: the next opener, or a workspace folder)."""
    path = Path(path)
    if path.suffix == ".toml" and path.is_file():
        return open_centre(path, application_name=application_name)
    return None
