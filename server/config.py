"""The ``[server]`` table of ``centre.toml``."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path

from centre.config import CentreConfig
from core.errors import WorkspaceError

LOOPBACK_NAMES = ("localhost",)


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class ServerConfig:
    """Where and how the server listens.

    Attributes
    ----------
    host, port: the address to bind.
    certificate, private_key: PEM files; None for plain HTTP (loopback only).
    session_hours: lifetime of a login token.
    max_body_bytes: the largest request body accepted (a probe photo in base64 fits).
    max_download_bytes: the most an export made for a client may carry
        (:mod:`server.downloads`; base64 adds a third on the wire).
    """

    host: str
    port: int
    certificate: Path | None
    private_key: Path | None
    session_hours: float = 12.0
    max_body_bytes: int = 16 * 1024 * 1024
    keepalive_s: float = 15.0  # an event stream's heartbeat; its token is re-checked at each
    max_download_bytes: int = 32 * 1024 * 1024

    @property
    def tls(self) -> bool:
        return self.certificate is not None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'https' if self.tls else 'http'}://{host}:{self.port}"


def load_server_config(
    centre: CentreConfig, *, host: str | None = None, port: int | None = None
) -> ServerConfig:
    """Read ``[server]``; plain HTTP is refused unless the address is a loopback one."""
    raw = centre.raw.get("server", {})
    if not isinstance(raw, dict):
        raise WorkspaceError(f"{centre.where('[server]')} must be a table")
    host = host or str(raw.get("host", "127.0.0.1"))
    port = int(port if port is not None else raw.get("port", 8443))
    if not 0 <= port <= 65535:
        raise WorkspaceError(f"{centre.where('[server] port')}: {port} is not a TCP port")
    cert, key = (_file(centre, raw, k) for k in ("certificate", "private_key"))
    if (cert is None) != (key is None):
        raise WorkspaceError(
            f"{centre.where('[server]')}: give both certificate and private_key, or neither"
        )
    if cert is None and not is_loopback(host):
        raise WorkspaceError(
            f"{centre.where('[server]')}: refusing plain HTTP on {host!r}: tokens and case data "
            "would travel in clear. Set certificate and private_key (`superbrain centre cert` "
            "makes a self-signed pair for trials), or listen on 127.0.0.1"
        )
    hours = raw.get("session_hours", 12)
    if isinstance(hours, bool) or not isinstance(hours, int | float) or not 0 < hours <= 24 * 30:
        raise WorkspaceError(
            f"{centre.where('[server] session_hours')}: a number of hours "
            f"between 0 and 720, got {hours!r}"
        )
    max_body = raw.get("max_body_bytes", 16 * 1024 * 1024)
    if isinstance(max_body, bool) or not isinstance(max_body, int) or max_body < 1024:
        raise WorkspaceError(
            f"{centre.where('[server] max_body_bytes')}: a whole number >= 1024, got {max_body!r}"
        )
    keepalive = raw.get("keepalive_seconds", 15)
    if (
        isinstance(keepalive, bool)
        or not isinstance(keepalive, int | float)
        or not 0.5 <= keepalive <= 300
    ):
        raise WorkspaceError(
            f"{centre.where('[server] keepalive_seconds')}: between 0.5 and 300, got {keepalive!r}"
        )
    max_download = raw.get("max_download_bytes", 32 * 1024 * 1024)
    if (
        isinstance(max_download, bool)
        or not isinstance(max_download, int)
        or not 1024 <= max_download <= 40 * 1024 * 1024
    ):
        raise WorkspaceError(
            f"{centre.where('[server] max_download_bytes')}: a whole number "
            f"between 1024 and {40 * 1024 * 1024} (a client reads at most "
            f"64 MiB of base64), got {max_download!r}"
        )
    return ServerConfig(
        host, port, cert, key, float(hours), max_body, float(keepalive), max_download
    )


def _file(centre: CentreConfig, raw: dict[str, object], key: str) -> Path | None:
    value = str(raw.get(key, "") or "")
    if not value:
        return None
    path = Path(value)
    if not path.is_absolute():
        path = centre.path.parent / path
    if not path.is_file():
        raise WorkspaceError(f"{centre.where(f'[server] {key}')}: {str(path)!r} is not a file")
    return path
