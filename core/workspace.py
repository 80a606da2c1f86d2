"""A workspace: one folder with the config, the operational store, the search index, the face
index, the audit log, rejects and user plugins."""

from __future__ import annotations

import getpass
import logging
import os
import tomllib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.audit import AuditLog
from core.errors import WorkspaceError

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from core.anchor import Trust
    from core.model import RecordSchema
    from core.security import Session
    from core.store import Store
    from core.users import UserStore
    from plugins.registry import Discovery

log = logging.getLogger(__name__)

CONFIG_NAME = "superbrain.toml"

#: The [search] and [plugins] tables of a new configuration file. A workspace's superbrain.toml
#: and a centre's centre.toml (centre.config) are read by the same code (search_config,
#: plugin_folders), so both files start from this one text. ``str.format`` fields: ``backend``,
#: ``search_url``.
SEARCH_AND_PLUGINS_TEMPLATE = """\
[search]
# "embedded" (default; no server) or "elasticsearch"
backend = {backend!r}
# Elasticsearch only: the cluster URL(s), credentials and CA certificate.
url = {search_url!r}
api_key = ""
username = ""
password = ""
ca_certs = ""
index_prefix = "superbrain"
# Primary shards per index, and replicas of each: on a cluster of two or more nodes set
# replicas = 1 (or more) so that losing a node loses no searchable data.
shards = 1
replicas = 0

[plugins]
# Folders (relative to the workspace folder; a centre's data_dir) searched for user plugins
# (*.py, packages, *.toml mappings).
folders = ["plugins"]
entry_points = true
"""

CONFIG_TEMPLATE = (
    """\
# superbrain workspace configuration
[workspace]
name = {name!r}
# IANA time zone every time is shown in (listings, facets, exports, charts, map).
timezone = "Asia/Shanghai"

"""
    + SEARCH_AND_PLUGINS_TEMPLATE
    + """
[map]
# Tile URL template of your own tile server, e.g. "http://tiles.local/{{z}}/{{x}}/{{y}}.png".
# Empty: the tiles of an MBTiles file of your city dropped at map/<name>.mbtiles (or named
# below, relative to the workspace), else the offline basemap (district outlines, streets and
# place names) shipped with superbrain.
tile_url = ""
mbtiles = ""

[ops]
# Days each unit's position fixes are kept; older ones are deleted by
# `superbrain ops prune-positions` (a centre server runs it daily). 0 keeps them forever.
position_retention_days = 90
"""
)


@dataclass(frozen=True)
class SearchConfig:
    backend: str
    url: str
    api_key: str
    username: str
    password: str
    ca_certs: str
    index_prefix: str
    shards: int = 1
    replicas: int = 0
    # the console searches the last N days unless the analyst picks days or "all time"
    # (0: no default window). Default: 90 on a cluster, where a search without a time range
    # asks every shard; 0 on the embedded engine.
    default_window_days: int = 0


def _make_private(root: Path, config_path: Path) -> None:
    """A workspace made before its files were private (its config is readable by others: it
    may hold the Elasticsearch password): config and store 0600, the folder and its standard
    sub-folders (face galleries included) 0700. Logged, never fatal."""
    targets = [(config_path, 0o600), (root / "store.sqlite", 0o600), (root, 0o700)]
    targets += [(root / sub, 0o700) for sub in ("search", "faces", "rejects", "plugins", "data")]
    for path, mode in targets:
        try:
            if path.exists() and path.stat().st_mode & 0o077:
                os.chmod(path, mode)
                log.warning("%s was readable by other users; now %o", path, mode)
        except OSError as exc:
            log.warning("%s is readable by other users and cannot be made private: %s", path, exc)


class Workspace:
    """An opened workspace folder. Create one with :meth:`init`, open it with :meth:`open`."""

    def __init__(self, root: Path, config: dict[str, Any]) -> None:
        self.root = root
        self.config = config
        #: The name claimed before authentication ($SUPERBRAIN_USER or the OS user); what
        #: engines audit is :attr:`user`, the acting session's name once there is one.
        self.claimed_user = os.environ.get("SUPERBRAIN_USER") or getpass.getuser()

    @property
    def user(self) -> str:
        """The acting user: a running service call's session, else this workspace's session,
        else (not yet authenticated) the claimed name."""
        from core.security import bound_session

        session = bound_session(self) or self._session
        return session.user if session is not None else self.claimed_user

    @user.setter
    def user(self, name: str) -> None:
        self.claimed_user = name

    # -- creation -----------------------------------------------------------------------------
    @classmethod
    def init(
        cls, root: Path, *, backend: str = "embedded", url: str = "", name: str | None = None
    ) -> Workspace:
        """Create the folder layout and a default config; an existing workspace is kept."""
        root = Path(root).resolve()
        if backend not in ("embedded", "elasticsearch"):
            raise WorkspaceError(f"unknown search backend {backend!r} (embedded, elasticsearch)")
        root.mkdir(parents=True, exist_ok=True, mode=0o700)
        config_path = root / CONFIG_NAME
        if not config_path.exists():
            os.chmod(root, 0o700)  # a new workspace is private to its OS user (no umask)
            # 0600: the config may hold the Elasticsearch password (docs/SECURITY.md)
            fd = os.open(config_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(
                    CONFIG_TEMPLATE.format(
                        name=name or root.name,
                        backend=backend,
                        search_url=url or "http://127.0.0.1:9200",
                    )
                )
        for sub in ("search", "faces", "rejects", "plugins", "data"):
            if not (root / sub).exists():
                (root / sub).mkdir()
                os.chmod(root / sub, 0o700)
        ws = cls.open(root)
        ws.store  # noqa: B018 - creates the SQLite schema now
        return ws

    @classmethod
    def open(cls, root: Path) -> Workspace:
        """Open an initialised workspace; a missing or invalid config names the problem."""
        root = Path(root).resolve()
        config_path = root / CONFIG_NAME
        if not config_path.exists():
            raise WorkspaceError(
                f"{str(root)!r} is not a superbrain workspace (no {CONFIG_NAME}); "
                f"create one with `superbrain init {root}`"
            )
        if config_path.stat().st_mode & 0o077:
            _make_private(root, config_path)
        try:
            config = tomllib.loads(config_path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise WorkspaceError(f"{str(config_path)!r}: {exc}") from None
        ws = cls(root, config)
        ws.search_config  # noqa: B018 - validate early
        ws.zone  # noqa: B018
        return ws

    # -- paths --------------------------------------------------------------------------------
    @property
    def store_path(self) -> Path:
        return self.root / "store.sqlite"

    @property
    def search_dir(self) -> Path:
        return self.root / "search"

    @property
    def faces_dir(self) -> Path:
        return self.root / "faces"

    @property
    def rejects_dir(self) -> Path:
        return self.root / "rejects"

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def audit_path(self) -> Path:
        return self.root / "audit.jsonl"

    # -- services -----------------------------------------------------------------------------
    @cached_property
    def search_config(self) -> SearchConfig:
        s = self.config.get("search", {})
        backend = s.get("backend", "embedded")
        if backend not in ("embedded", "elasticsearch"):
            raise WorkspaceError(
                f"{str(self.root / CONFIG_NAME)!r}: [search] backend {backend!r} must be "
                "'embedded' or 'elasticsearch'"
            )
        return SearchConfig(
            backend=backend,
            url=str(s.get("url", "")),
            api_key=str(s.get("api_key", "")),
            username=str(s.get("username", "")),
            password=str(s.get("password", "")),
            ca_certs=str(s.get("ca_certs", "")),
            index_prefix=str(s.get("index_prefix", "superbrain")),
            shards=self._count(s, "shards", 1, minimum=1),
            replicas=self._count(s, "replicas", 0, minimum=0),
            default_window_days=self._count(
                s, "default_window_days", 90 if backend == "elasticsearch" else 0, minimum=0
            ),
        )

    def _count(self, table: dict[str, Any], key: str, default: int, *, minimum: int) -> int:
        value = table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise WorkspaceError(
                f"{str(self.root / CONFIG_NAME)!r}: [search] {key} must be a whole number "
                f">= {minimum}, got {value!r}"
            )
        return value

    @property
    def config_file(self) -> Path:
        """The configuration file (``superbrain.toml``; a centre's ``centre.toml``), for
        messages that name where a setting is."""
        return self.root / CONFIG_NAME

    @cached_property
    def zone(self) -> ZoneInfo:
        """The workspace's time zone (``[workspace] timezone``, default Asia/Shanghai).

        Show times with ``core.timezones.format_local(value, workspace.zone)``.
        """
        from core.timezones import DEFAULT_ZONE, TimeZoneError, zone_named

        name = self.config.get("workspace", {}).get("timezone", DEFAULT_ZONE)
        try:
            return zone_named(name)
        except TimeZoneError as exc:
            raise WorkspaceError(
                f"{str(self.root / CONFIG_NAME)!r}: [workspace] timezone: {exc}"
            ) from None

    @cached_property
    def store(self) -> Store:
        from core.store import Store

        return Store(self.store_path)

    @cached_property
    def trust(self) -> Trust:
        """The trust anchors (audit tip, accounts enabled) kept outside the files they vouch
        for: the store and a signed file outside the workspace (see core.anchor). A centre
        server may replace this with its own anchors (e.g. a PostgreSQL row)."""
        from core.anchor import Trust

        return Trust.for_workspace(self.root, self.store_path)

    @cached_property
    def audit(self) -> AuditLog:
        return AuditLog(self.audit_path, self.trust)

    @cached_property
    def accounts(self) -> UserStore:
        """The user accounts (``users.sqlite``; in PostgreSQL on a centre)."""
        from core.users import USERS_FILE, UserStore

        return UserStore(self.root / USERS_FILE)

    def plugin_folders(self) -> list[Path]:
        folders = self.config.get("plugins", {}).get("folders", ["plugins"])
        return [self.root / f for f in folders]

    def plugin_settings(self) -> dict[str, Any]:
        """``[plugins]`` trust settings: ``allowed_sha256`` (None: no allow-list),
        ``load_timeout`` and ``read_timeout`` in seconds (see core.timeouts)."""
        from core.timeouts import LOAD_TIMEOUT, READ_TIMEOUT

        table = self.config.get("plugins", {})
        where = f"{str(self.root / CONFIG_NAME)!r}: [plugins]"
        allowed = table.get("allowed_sha256")
        if allowed is not None and (
            not isinstance(allowed, list)
            or not all(isinstance(h, str) and len(h) == 64 for h in allowed)
        ):
            raise WorkspaceError(
                f"{where} allowed_sha256 must be a list of SHA-256 hex strings (64 characters each)"
            )
        out: dict[str, Any] = {"allowed_sha256": allowed}
        for key, default in (("load_timeout", LOAD_TIMEOUT), ("read_timeout", READ_TIMEOUT)):
            value = table.get(key, default)
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                raise WorkspaceError(
                    f"{where} {key} must be a number of seconds > 0, got {value!r}"
                )
            out[key] = float(value)
        return out

    def discover_sources(self) -> Discovery:
        """Discover plugins from entry points and this workspace's folders; audits each load
        (and each refusal) with the code's SHA-256. Every caller that loads plugin code —
        the CLI, the console, the search engine's field registry — goes through here."""
        from plugins.registry import discover

        use_eps = bool(self.config.get("plugins", {}).get("entry_points", True))
        settings = self.plugin_settings()
        found = discover(
            self.plugin_folders(),
            use_entry_points=use_eps,
            allowed_sha256=settings["allowed_sha256"],
            load_timeout=settings["load_timeout"],
        )
        for name, lp in found.loaded.items():
            self.audit.append(
                self.user,
                "plugin.load",
                {
                    "name": name,
                    "version": lp.plugin.version,
                    "origin": lp.origin,
                    "sha256": lp.sha256,
                },
            )
        for failure in found.failed:
            self.audit.append(
                self.user,
                "plugin.fail",
                {"name": failure.name, "origin": failure.origin, "error": failure.error},
            )
        return found

    def source_schemas(self) -> list[RecordSchema]:
        """The record schemas of every source plugin this workspace can load, for the engines
        (search takes schemas; it does not discover plugins). Discovery is audited and
        allow-listed (:meth:`discover_sources`), each plugin's answer time-limited; a plugin that
        fails or hangs is logged and left out."""
        from core.timeouts import call_with_timeout

        found = self.discover_sources()
        timeout = self.plugin_settings()["load_timeout"]
        schemas: list[RecordSchema] = []
        for name, lp in sorted(found.loaded.items()):
            try:
                schemas.extend(
                    call_with_timeout(
                        lp.plugin.record_schemas, timeout, f"source {name}: record_schemas()"
                    )
                )
            except Exception as exc:  # a broken or hanging plugin must not break an engine
                log.warning("source %s: record_schemas() failed: %s", name, exc)
        return schemas

    # -- security: who is acting (see core.security) -------------------------------------------
    _session: Session | None = None  # set by core.security.login / current_session

    @property
    def session(self) -> Session:
        """The current user's session; authenticated from the environment on first use."""
        from core.security import current_session

        return current_session(self)

    def login(self, user: str, password: str) -> Session:
        """Authenticate ``user`` (audited) and make them the acting user of this workspace."""
        from core.security import login

        return login(self, user, password)

    def close(self) -> None:
        """Close the engines the services opened on this workspace (core.services.shared),
        then the store."""
        for key, engine in list(self.__dict__.pop("_shared_engines", {}).items()):
            close = getattr(engine, "close", None)
            if callable(close):
                try:
                    close()
                except Exception as exc:  # closing must go on for the others and the store
                    logging.getLogger(__name__).warning("closing %s failed: %s", key, exc)
        if "store" in self.__dict__:
            self.store.close()
