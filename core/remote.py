"""The centre server's HTTP API seen from a client (the console, the benchmark, scripts).

:class:`CentreClient` logs in (``POST /api/v1/session``), calls services by name
(``POST /api/v1/call/{service}``), lists them, asks for health, logs out, and follows the live
event stream (``GET /api/v1/events``, Server-Sent Events) with automatic reconnection that
resumes after the last event id seen, so a client that loses its connection misses nothing.

Plain standard library (``http.client``): no Qt, no third-party HTTP stack. One keep-alive
connection per thread. Everything the server sends is bounded (response size, line length,
time), because a client must not trust the far end more than the far end trusts it.

Errors form one tree under :class:`RemoteError`; a refusal for lack of a permission is also an
:class:`core.errors.AccessDeniedError`, so callers show it as they show a local refusal.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from core.errors import AccessDeniedError, SuperbrainError
from core.mbtiles import MAX_TILE_BYTES, MEDIA_TYPES

log = logging.getLogger(__name__)

API = "/api/v1"
MAX_RESPONSE = 64 * 1024 * 1024  # bytes of one JSON answer
MAX_EVENT_LINE = 1024 * 1024  # bytes of one SSE line
MAX_EVENT_DATA = 8 * 1024 * 1024  # bytes of one event's data
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
STREAM_IDLE = 60.0  # seconds of silence (no event, no keep-alive comment) before reconnecting


# -- errors --------------------------------------------------------------------------------------
class RemoteError(SuperbrainError):
    """Root of errors talking to a centre server; names the server and what failed.

    Attributes
    ----------
    status:
        The HTTP status (0 when the server could not be reached).
    kind:
        The server's error type (``PermissionDenied``, ``NotFound``, ``Conflict``,
        ``Invalid``, …) or a client-side kind (``Unreachable``, ``Protocol``).
    """

    def __init__(self, message: str, *, status: int = 0, kind: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.kind = kind


class UnreachableError(RemoteError):
    """The server could not be reached (refused, timed out, TLS failure)."""


class AuthError(RemoteError):
    """Wrong user name or password (401 on login)."""


class LockedOutError(AuthError):
    """Too many failed logins: the account is locked for a while (423)."""


class SessionExpiredError(RemoteError):
    """The token is missing, expired or revoked (401 on a call): log in again."""


class RemotePermissionDeniedError(RemoteError, AccessDeniedError):
    """The session's role lacks the permission the service needs (403)."""


class RemoteNotFoundError(RemoteError):
    """The service or the thing it was asked about does not exist (404)."""


class RemoteConflictError(RemoteError):
    """The change lost a race (stale version, unit already taken) (409)."""


class RemoteInvalidError(RemoteError):
    """The server refused the parameters (422)."""


_BY_STATUS: dict[int, type[RemoteError]] = {
    403: RemotePermissionDeniedError,
    404: RemoteNotFoundError,
    409: RemoteConflictError,
    422: RemoteInvalidError,
}


# -- values --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RemoteSession:
    """What a successful login returns."""

    token: str
    expires_at: str
    user: str
    role: str
    #: The centre's time zone (``[centre] timezone``): the console shows times in it.
    timezone: str = "Asia/Shanghai"


@dataclass(frozen=True)
class ServiceInfo:
    """One service as ``GET /api/v1/services`` lists it."""

    name: str
    permission: str
    allowed: bool
    doc: str = ""


@dataclass(frozen=True)
class ServerEvent:
    """One event of the live stream.

    ``id`` is ``None`` for an announced change that is not journalled (a unit's position fix):
    it is delivered live, never replayed. Kind ``reset`` means events the client missed are
    no longer kept: reload what is shown.
    """

    id: int | None
    kind: str
    data: Any


# -- the client ----------------------------------------------------------------------------------
class CentreClient:
    """A connection to one centre server.

    Parameters
    ----------
    url:
        Base URL, ``https://host:port`` (``http://`` only for 127.0.0.1 tests and benchmarks).
    ca_certs:
        A PEM file of the CA that signed the server's certificate ("" : the system's CAs).
    timeout:
        Seconds to wait for any one request.
    token:
        A token from an earlier login, to reuse it.
    """

    def __init__(
        self, url: str, *, ca_certs: str = "", timeout: float = 30.0, token: str | None = None
    ) -> None:
        parts = urlsplit(url.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise RemoteError(f"server URL {url!r} must be http(s)://host[:port]", kind="Invalid")
        if parts.scheme == "http" and parts.hostname not in LOOPBACK:
            # a password and then a token would cross the network in clear text
            raise RemoteError(
                f"server URL {url!r}: plain http is only for this machine "
                "(127.0.0.1); use https:// and --ca-certs",
                kind="Invalid",
            )
        self.url = f"{parts.scheme}://{parts.netloc}"
        self.scheme = parts.scheme
        self.host = parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.timeout = timeout
        self._ssl: ssl.SSLContext | None = None
        if parts.scheme == "https":
            self._ssl = ssl.create_default_context(cafile=ca_certs or None)
        self.token = token
        self.session: RemoteSession | None = None
        self._local = threading.local()

    # -- connections ------------------------------------------------------------------------
    def _connect(self, timeout: float | None = None) -> http.client.HTTPConnection:
        t = self.timeout if timeout is None else timeout
        if self._ssl is not None:
            return http.client.HTTPSConnection(self.host, self.port, timeout=t, context=self._ssl)
        return http.client.HTTPConnection(self.host, self.port, timeout=t)

    def _conn(self) -> http.client.HTTPConnection:
        con = getattr(self._local, "con", None)
        if con is None:
            con = self._local.con = self._connect()
        return con

    def _drop(self) -> None:
        con = getattr(self._local, "con", None)
        if con is not None:
            con.close()
            self._local.con = None

    def _headers(self, auth: bool = True) -> dict[str, str]:
        headers = {"Accept": "application/json", "Content-Type": "application/json"}
        if auth and self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers

    def request(
        self, method: str, path: str, body: Any = None, *, auth: bool = True
    ) -> tuple[int, Any]:
        """Send one request and return (status, decoded JSON or None); retries once when a
        kept-alive connection turned out to be closed."""
        payload = None if body is None else json.dumps(body, ensure_ascii=False).encode()
        status, _media, raw = self._exchange(
            method, path, payload, self._headers(auth), MAX_RESPONSE
        )
        if not raw:
            return status, None
        try:
            return status, json.loads(raw)
        except ValueError:
            raise RemoteError(
                f"{self.url}{API}{path}: answer {status} is not JSON: {raw[:200]!r}",
                status=status,
                kind="Protocol",
            ) from None

    def _exchange(
        self, method: str, path: str, payload: bytes | None, headers: dict[str, str], limit: int
    ) -> tuple[int, str, bytes]:
        """One request on this thread's kept-alive connection: (status, media type, body of at
        most ``limit`` bytes); retried once when the connection turned out to be closed."""
        for attempt in (1, 2):
            con = self._conn()
            try:
                con.request(method, API + path, body=payload, headers=headers)
                resp = con.getresponse()
                raw = resp.read(limit + 1)
                break
            except (
                http.client.RemoteDisconnected,
                ConnectionResetError,
                BrokenPipeError,
                http.client.CannotSendRequest,
                http.client.ResponseNotReady,
            ) as exc:
                self._drop()
                if attempt == 2:
                    raise UnreachableError(
                        f"{self.url}: connection lost: {exc}", kind="Unreachable"
                    ) from None
            except ssl.SSLError as exc:
                self._drop()
                raise UnreachableError(
                    f"{self.url}: TLS failed: {exc}", kind="Unreachable"
                ) from None
            except (OSError, http.client.HTTPException) as exc:
                self._drop()
                raise UnreachableError(
                    f"{self.url}: cannot reach the server: {exc}", kind="Unreachable"
                ) from None
        if len(raw) > limit:
            self._drop()
            raise RemoteError(
                f"{self.url}{API}{path}: answer larger than {limit} bytes",
                status=resp.status,
                kind="Protocol",
            )
        if resp.getheader("Connection", "").lower() == "close":
            self._drop()
        media = (resp.getheader("Content-Type") or "").split(";", 1)[0].strip().lower()
        return resp.status, media, raw

    def _raise(self, path: str, status: int, body: Any) -> None:
        error = body.get("error") if isinstance(body, dict) else None
        kind = str(error.get("type", "")) if isinstance(error, dict) else ""
        message = str(error.get("message", "")) if isinstance(error, dict) else ""
        message = message or (f"HTTP {status}" if body is None else str(body)[:300])
        if status == 401:
            raise SessionExpiredError(
                f"{self.url}: not logged in or the session expired ({message}); log in again",
                status=401,
                kind=kind,
            )
        cls = _BY_STATUS.get(status, RemoteError)
        raise cls(f"{self.url}{API}{path}: {message}", status=status, kind=kind)

    # -- the API ------------------------------------------------------------------------------
    def login(self, user: str, password: str) -> RemoteSession:
        """Log in; the token is kept for every later call. Wrong credentials raise
        :class:`AuthError`, a locked account :class:`LockedOutError`."""
        status, body = self.request(
            "POST", "/session", {"user": user, "password": password}, auth=False
        )
        if status == 423:
            raise LockedOutError(
                _message(body)
                or f"account {user!r} is locked out after too many failed logins; try again later",
                status=423,
                kind="Locked",
            )
        if status == 401:
            raise AuthError(
                _message(body) or f"cannot log in as {user!r}: wrong user name or password",
                status=401,
                kind="Unauthorized",
            )
        if status != 200 or not isinstance(body, dict) or "token" not in body:
            self._raise("/session", status, body)
        self.token = str(body["token"])
        self.session = RemoteSession(
            self.token,
            str(body.get("expires_at", "")),
            str(body.get("user", user)),
            str(body.get("role", "")),
            str(body.get("timezone") or "Asia/Shanghai"),
        )
        return self.session

    def logout(self) -> None:
        """End the session on the server (the token stops working) and forget it here."""
        if not self.token:
            return
        status, body = self.request("DELETE", "/session")
        self.token, self.session = None, None
        if status not in (200, 204, 401):
            self._raise("/session", status, body)

    def services(self) -> list[ServiceInfo]:
        """Every service the server offers, and whether this session may call it."""
        status, body = self.request("GET", "/services")
        if status != 200 or not isinstance(body, list):
            self._raise("/services", status, body)
        return [
            ServiceInfo(
                str(s.get("name")),
                str(s.get("permission", "")),
                bool(s.get("allowed")),
                str(s.get("doc", "")),
            )
            for s in body
        ]

    def call(self, service: str, **params: Any) -> Any:
        """Call ``service`` with keyword ``params`` and return its JSON result."""
        path = "/call/" + quote(service, safe=".")
        status, body = self.request("POST", path, {"params": params})
        if status != 200 or not isinstance(body, dict) or "result" not in body:
            self._raise(path, status, body)
        return body["result"]

    def download(
        self, service: str, param: str, target: str | Path, **params: Any
    ) -> tuple[Any, list[Path]]:
        """Call ``service`` (one that writes a file, e.g. ``graph.export``) so that the server
        makes the file in a folder of its own and sends it back (``param`` = {"download":
        name}, :mod:`server.downloads`); each file is checked against its SHA-256 on arrival
        and written beside ``target`` (:func:`core.remote_files.save_downloads`). Returns the
        service's result and the paths written here."""
        from core.remote_files import save_downloads

        target = Path(target)
        path = "/call/" + quote(service, safe=".")
        status, body = self.request(
            "POST", path, {"params": {**params, param: {"download": target.name}}}
        )
        if status != 200 or not isinstance(body, dict) or "result" not in body:
            self._raise(path, status, body)
        files = body.get("files")
        if not isinstance(files, list) or not files:
            raise RemoteError(
                f"{self.url}{API}{path}: the server made no file to download",
                status=status,
                kind="Protocol",
            )
        return body["result"], save_downloads(files, target)

    def tiles(self) -> dict[str, Any]:
        """The centre's own map tiles (``GET /api/v1/tiles``): ``{"available": False}``, or
        their name, zoom range, bounds and media type."""
        status, body = self.request("GET", "/tiles")
        if status != 200 or not isinstance(body, dict):
            self._raise("/tiles", status, body)
        return body

    def tile(self, z: int, x: int, y: int) -> tuple[str, bytes] | None:
        """One tile of the centre's map as ``(media type, bytes)`` with this session's token;
        None where the centre has none (404). Only raster images of at most
        :data:`MAX_TILE_BYTES` are accepted."""
        path = f"/tiles/{int(z)}/{int(x)}/{int(y)}"
        headers = self._headers()
        headers["Accept"] = "image/*"
        status, media, raw = self._exchange("GET", path, None, headers, MAX_TILE_BYTES)
        if status == 404:
            return None
        if status != 200:  # plain text from the tile route, JSON from the session gate
            body: Any = {"error": {"message": raw[:200].decode("utf-8", "replace")}}
            if media == "application/json":
                with contextlib.suppress(ValueError):
                    body = json.loads(raw)
            self._raise(path, status, body)
        if media not in MEDIA_TYPES.values():
            raise RemoteError(
                f"{self.url}{API}{path}: a tile of type {media!r} is not a map image",
                status=status,
                kind="Protocol",
            )
        return media, raw

    def health(self) -> dict[str, Any]:
        status, body = self.request("GET", "/health")
        if status != 200 or not isinstance(body, dict):
            self._raise("/health", status, body)
        return body

    def close(self) -> None:
        self._drop()

    # -- the live stream ----------------------------------------------------------------------
    def events(
        self,
        after: int | None = None,
        *,
        stop: threading.Event | None = None,
        reconnect_delay: float = 1.0,
        on_state: Callable[[str], None] | None = None,
    ) -> Iterator[ServerEvent]:
        """Yield live events for ever (until ``stop`` is set), reconnecting after a lost
        connection with ``Last-Event-ID`` so no event is missed or repeated.

        Parameters
        ----------
        after:
            Start after this event id (None: only events from now on).
        stop:
            Set it to end the iteration (checked at least every second).
        on_state:
            Told ``"connected"`` / ``"disconnected: reason"`` as the connection changes.
        """
        last = after
        stop = stop or threading.Event()
        while not stop.is_set():
            try:
                for event in self._stream(last, stop, on_state):
                    if event.id is not None:  # id-less announcements are never replayed
                        last = event.id
                    yield event
            except SessionExpiredError:
                raise
            except (RemoteError, OSError, http.client.HTTPException) as exc:
                if on_state:
                    on_state(f"disconnected: {exc}")
                log.info("event stream from %s lost (%s); reconnecting", self.url, exc)
            stop.wait(reconnect_delay)

    def _stream(
        self, last: int | None, stop: threading.Event, on_state: Callable[[str], None] | None
    ) -> Iterator[ServerEvent]:
        con = self._connect(timeout=STREAM_IDLE)
        done = threading.Event()

        def watch() -> None:  # `stop` ends a read blocked on a quiet stream
            while not done.wait(0.2):
                if stop.is_set():
                    sock = con.sock
                    if sock is not None:
                        with contextlib.suppress(OSError):
                            sock.shutdown(socket.SHUT_RDWR)
                    return

        threading.Thread(target=watch, name="sse-stop", daemon=True).start()
        try:
            headers = self._headers()
            headers["Accept"] = "text/event-stream"
            path = API + "/events"
            if last is not None:
                headers["Last-Event-ID"] = str(last)
                path += f"?after={int(last)}"
            con.request("GET", path, headers=headers)
            resp = con.getresponse()
            if resp.status != 200:
                raw = resp.read(65536)
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = None
                self._raise("/events", resp.status, body)
            if on_state:
                on_state("connected")
            yield from _parse_sse(resp, stop)
        finally:
            done.set()
            con.close()


def _message(body: Any) -> str:
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            return str(error.get("message", ""))
        if "message" in body:
            return str(body["message"])
    return ""


def _readline(resp: http.client.HTTPResponse) -> bytes | None:
    """One line of the stream; None at its end (closed, or stopped by the watcher)."""
    try:
        line = resp.readline(MAX_EVENT_LINE + 1)
    except (OSError, ValueError, http.client.HTTPException):
        return None
    if not line:
        return None
    if len(line) > MAX_EVENT_LINE and not line.endswith(b"\n"):
        raise RemoteError(f"event stream line longer than {MAX_EVENT_LINE} bytes", kind="Protocol")
    return line


def _parse_sse(resp: http.client.HTTPResponse, stop: threading.Event) -> Iterator[ServerEvent]:
    """Server-Sent Events (the subset the centre sends: id, event, data, comments)."""
    event_id: str | None = None
    kind = "message"
    data: list[str] = []
    size = 0
    while not stop.is_set():
        raw = _readline(resp)
        if raw is None:
            return
        line = raw.decode("utf-8", "replace").rstrip("\r\n")
        if not line:
            if kind == "session-ended":  # the token expired or was revoked while streaming
                raise SessionExpiredError(
                    "the server ended the session (expired, revoked or "
                    "the account was disabled); log in again",
                    status=401,
                    kind="Unauthenticated",
                )
            if data:
                text = "\n".join(data)
                try:
                    payload = json.loads(text)
                except ValueError:
                    payload = text
                number = None
                if event_id is not None:
                    try:
                        number = int(event_id)
                    except ValueError:
                        raise RemoteError(
                            f"event id {event_id!r} is not a number", kind="Protocol"
                        ) from None
                yield ServerEvent(number, kind, payload)
            event_id, kind, data, size = None, "message", [], 0
            continue
        if line.startswith(":"):
            continue  # keep-alive comment
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "id":
            event_id = value
        elif name == "event":
            kind = value
        elif name == "data":
            size += len(value)
            if size > MAX_EVENT_DATA:
                raise RemoteError(f"event data larger than {MAX_EVENT_DATA} bytes", kind="Protocol")
            data.append(value)


def wait_until_up(url: str, *, timeout: float = 30.0, ca_certs: str = "") -> None:
    """Wait until something answers HTTP at ``url`` (for scripts that start a server)."""
    client = CentreClient(url, ca_certs=ca_certs, timeout=2.0)
    deadline = time.monotonic() + timeout
    while True:
        try:
            client.request("GET", "/health")
            return
        except UnreachableError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
        finally:
            client.close()
