"""The centre's one configuration file (``centre.toml``): database, data folder, search,
server. See docs/DEPLOYMENT.md for a complete example."""

from __future__ import annotations

import logging
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from core.errors import WorkspaceError
from core.timezones import DEFAULT_ZONE, TimeZoneError, zone_named
from core.workspace import SEARCH_AND_PLUGINS_TEMPLATE

log = logging.getLogger(__name__)

#: A new ``centre.toml`` (:func:`write_template`); its [search] and [plugins] tables are a
#: workspace's, read by the same code.
TEMPLATE = (
    """\
# superbrain centre configuration: `superbrain serve --config {path}`
[centre]
name = {name!r}
# Server-side folder (relative to this file): the face gallery, ops overrides, user plugins.
data_dir = {data_dir!r}
# The centre's time zone (an IANA name): every time is shown in it, on the server's pages and
# in the consoles that log in here, and dates typed without an offset are read in it.
timezone = "Asia/Shanghai"

[database]
# PostgreSQL holding the shared state. The password may instead come from password_file
# (a file readable only by the server's user) or the whole URL from the variable url_env.
url = {url!r}
password_file = ""
url_env = ""

[server]
host = "127.0.0.1"
port = 8443
# TLS certificate and key (PEM). Without them the server listens on loopback only, in plain
# HTTP; `superbrain centre cert` makes a self-signed pair for trials.
certificate = {certificate!r}
private_key = {private_key!r}
session_hours = 12

"""
    + SEARCH_AND_PLUGINS_TEMPLATE
    + """
[map]
tile_url = ""
# the phone pages' tiles: an MBTiles file in the data folder's map/ (or named here, relative
# to the data folder), served to signed-in sessions at GET /api/v1/tiles/Z/X/Y
mbtiles = ""

[ops]
# Days each unit's position fixes are kept; the server deletes older ones at start and daily
# (so does `superbrain ops prune-positions -w centre.toml`). 0 keeps them forever.
position_retention_days = 90
"""
)


@dataclass(frozen=True)
class CentreConfig:
    """A parsed ``centre.toml``.

    Attributes
    ----------
    path: the file.
    name: the centre's name.
    data_dir: the server-side folder (faces gallery, ops config overrides, plugins).
    database_url: the PostgreSQL URL with its password filled in.
    raw: the whole file as a dict (``[server]`` is read by ``server.config``).
    timezone: the centre's time zone (``[centre] timezone``, default Asia/Shanghai).
    """

    path: Path
    name: str
    data_dir: Path
    database_url: str
    raw: dict[str, Any]
    timezone: str = DEFAULT_ZONE

    def where(self, key: str) -> str:
        return f"{str(self.path)!r}: {key}"


def load_centre_config(path: Path) -> CentreConfig:
    """Read and check ``centre.toml``; every error names the file and the key."""
    path = Path(path).resolve()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise WorkspaceError(f"{str(path)!r}: centre configuration not found") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise WorkspaceError(f"{str(path)!r}: {exc}") from None
    centre = _table(raw, "centre", path)
    database = _table(raw, "database", path)
    data_dir = Path(str(centre.get("data_dir", "centre-data")))
    if not data_dir.is_absolute():
        data_dir = path.parent / data_dir
    _warn_if_readable(path, raw)
    timezone = centre.get("timezone", DEFAULT_ZONE)
    try:
        zone_named(timezone)
    except TimeZoneError as exc:
        raise WorkspaceError(f"{str(path)!r}: [centre] timezone: {exc}") from None
    return CentreConfig(
        path,
        str(centre.get("name", path.stem)),
        data_dir.resolve(),
        _database_url(database, path),
        raw,
        timezone,
    )


def secrets_in(raw: dict[str, Any]) -> list[str]:
    """The keys of ``centre.toml`` that hold a secret (a password in the database URL, search
    credentials)."""
    found = []
    url = str(raw.get("database", {}).get("url", "") or "")
    if urlsplit(url).password:
        found.append("[database] url")
    search = raw.get("search", {})
    for key in ("password", "api_key"):
        if isinstance(search, dict) and search.get(key):
            found.append(f"[search] {key}")
    return found


def _warn_if_readable(path: Path, raw: dict[str, Any]) -> None:
    mode = path.stat().st_mode & 0o077
    found = secrets_in(raw)
    if mode and found:
        log.warning(
            "%r holds secrets (%s) but other users may read it (mode %o): chmod 600 it",
            str(path),
            ", ".join(found),
            path.stat().st_mode & 0o777,
        )


def _table(raw: dict[str, Any], key: str, path: Path) -> dict[str, Any]:
    value = raw.get(key, {})
    if not isinstance(value, dict):
        raise WorkspaceError(f"{str(path)!r}: [{key}] must be a table")
    return value


def _database_url(database: dict[str, Any], path: Path) -> str:
    env = str(database.get("url_env", "") or "")
    url = os.environ.get(env, "") if env else str(database.get("url", "") or "")
    if not url:
        what = f"the variable {env} is empty" if env else "[database] url is empty"
        raise WorkspaceError(
            f"{str(path)!r}: {what}; give the PostgreSQL URL, e.g. "
            "postgresql://superbrain@127.0.0.1:5432/superbrain"
        )
    parts = urlsplit(url)
    if parts.scheme not in ("postgresql", "postgres"):
        raise WorkspaceError(f"{str(path)!r}: [database] url must start with postgresql://")
    password_file = str(database.get("password_file", "") or "")
    if password_file:
        pw_path = Path(password_file)
        if not pw_path.is_absolute():
            pw_path = path.parent / pw_path
        try:
            password = pw_path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise WorkspaceError(
                f"{str(path)!r}: [database] password_file {password_file!r}: {exc.strerror}"
            ) from None
        host = parts.netloc.rsplit("@", 1)[-1]
        user = parts.username or "superbrain"
        url = urlunsplit(parts._replace(netloc=f"{quote(user)}:{quote(password)}@{host}"))
    return url


def write_template(
    path: Path,
    *,
    database_url: str,
    data_dir: str = "centre-data",
    certificate: str = "",
    private_key: str = "",
    backend: str = "embedded",
    search_url: str = "http://127.0.0.1:9200",
) -> None:
    """Write a starting ``centre.toml`` (an existing file is kept)."""
    if path.exists():
        raise WorkspaceError(f"{str(path)!r} exists; edit it, or pick another name")
    path.write_text(
        TEMPLATE.format(
            path=path.name,
            name=path.stem,
            data_dir=data_dir,
            url=database_url,
            certificate=certificate,
            private_key=private_key,
            backend=backend,
            search_url=search_url,
        ),
        encoding="utf-8",
    )
    os.chmod(path, 0o600)
