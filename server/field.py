"""The field pages of ``superbrain serve``: the unit app and the public report page.

Thin routes only. The pages are static files from ``resources/field`` (plain JavaScript, every
asset vendored, no CDN) served with a strict Content-Security-Policy; what they do is a call to
a service (``field.*`` with the unit's own session, ``public.*`` with a public session). The
public services answer under ``/api/v1/public/SERVICE`` without a login: the request runs as
``public@ADDRESS`` (role ``public``: ``report.submit`` only), the client's address being the
one the connection came from, so the service layer checks, limits and audits it like any call.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import Route

RESOURCES = Path(__file__).resolve().parent.parent / "resources"
PAGES = RESOURCES / "field"
VENDOR = RESOURCES / "vendor" / "leaflet"
DISTRICTS = RESOURCES / "geo" / "districts.geojson"
BASEMAP = RESOURCES / "geo" / "basemap.geojson"
TILES_PATH = "/api/v1/tiles"
PUBLIC_PREFIX = "/api/v1/public/"
FIELD_PREFIX = "/field/"
PUBLIC_BODY_LIMIT = 10 * 1024 * 1024  # three photos of 2 MB in base64, and the text
TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".json": "application/json",
    ".geojson": "application/geo+json",
    ".webmanifest": "application/manifest+json",
    ".wav": "audio/wav",
}
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data: blob:; "
    "style-src 'self'; script-src 'self'; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
    "Permissions-Policy": "geolocation=(self), camera=(self)",
}


class FloodGate:
    """Per server process: an address making more than ``limit`` public calls within
    ``window_s`` is answered 429 at once, before the service (and its database work and audit
    entry) runs; the refusals are audited once per window per address, with their count. The
    service's own limits (``public.toml``, counted in PostgreSQL across processes) stay the
    rule; this only bounds what a flood costs."""

    def __init__(self, limit: int = 60, window_s: float = 60.0) -> None:
        self.limit, self.window_s = limit, window_s
        self._calls: dict[str, list[float]] = {}
        self._refused: dict[str, int] = {}
        self._lock = threading.Lock()

    def admit(self, address: str, now: float | None = None) -> tuple[bool, int]:
        """(admitted, refusals to audit now: 0 unless a window of refusals just closed)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            if len(self._calls) > 10_000:  # many addresses: forget the quiet ones
                self._calls = {
                    a: t for a, t in self._calls.items() if t and now - t[-1] < self.window_s
                }
            times = [t for t in self._calls.get(address, []) if now - t < self.window_s]
            if len(times) < self.limit:
                times.append(now)
                self._calls[address] = times
                return True, self._refused.pop(address, None) or 0
            self._calls[address] = times
            pending = self._refused.get(address)
            if pending is None:  # the first refusal of a flood is audited at once
                self._refused[address] = 0
                return False, 1
            pending += 1
            if pending >= self.limit:  # then one entry per `limit` refusals
                self._refused[address] = 0
                return False, pending
            self._refused[address] = pending
            return False, 0


def is_open(method: str, path: str) -> bool:
    """Requests that need no session: the field pages and the public services."""
    return (method in ("GET", "HEAD") and (path.startswith(FIELD_PREFIX) or path == "/field")) or (
        method == "POST" and path.startswith(PUBLIC_PREFIX)
    )


def _file(root: Path, rel: str) -> Response:
    path = (root / rel).resolve()
    if not path.is_relative_to(root.resolve()) or not path.is_file() or path.suffix not in TYPES:
        return Response("not found", 404, media_type="text/plain")
    return FileResponse(path, media_type=TYPES[path.suffix], headers=SECURITY_HEADERS)


def unit_filter(workspace: Any, session: Any) -> Callable[[Any], bool] | None:
    """For a unit device's session: which journalled events it may receive (those of its own
    unit: its status, its assignments). None for any other session.

    The binding is read once (call this in a worker thread) and then followed through the
    journal itself: a ``unit.device`` event for this account (bound elsewhere, or revoked)
    changes what the stream lets through from that event on, so a revoked device stops hearing
    at once and no database query runs per event."""
    if "field.unit" not in session.permissions or "ops.read" in session.permissions:
        return None
    from ops.field import unit_of
    from ops.service import ops_for

    state = {"unit": unit_of(ops_for(workspace).ctx.con, session.user)}

    def accept(event: Any) -> bool:
        family = event.kind.split(".", 1)[0]
        if family not in ("unit", "assignment"):
            return False
        if event.kind == "unit.device":
            try:
                change = json.loads(event.payload)
            except ValueError:
                return False
            if change.get("account") == session.user:
                state["unit"] = change.get("unit_id") if change.get("bound") else None
            return False
        unit = state["unit"]
        if unit is None:
            return False
        if family == "unit":
            return bool(event.ref == unit)
        try:
            return bool(json.loads(event.payload).get("unit_id") == unit)
        except ValueError:
            return False

    return accept


def routes(workspace: Any, run_public: Callable[..., Any]) -> list[Route]:
    """The field routes; ``run_public(request, service)`` runs a public service call."""

    async def page(request: Request) -> Response:
        name = request.path_params["name"]
        return _file(PAGES, f"{name}.html")

    async def asset(request: Request) -> Response:
        return _file(PAGES, request.path_params["path"])

    async def vendor(request: Request) -> Response:
        return _file(VENDOR, request.path_params["path"])

    async def districts(request: Request) -> Response:
        return _file(DISTRICTS.parent, DISTRICTS.name)

    async def basemap(request: Request) -> Response:
        return _file(BASEMAP.parent, BASEMAP.name)

    async def home(request: Request) -> Response:
        return RedirectResponse("/field/report", 302)

    async def public(request: Request) -> Response:
        result: Response = await run_public(request, request.path_params["service"])
        return result

    return [
        Route("/field", home, methods=["GET"]),
        Route("/field/", home, methods=["GET"]),
        Route("/field/districts.geojson", districts, methods=["GET"]),
        Route("/field/basemap.geojson", basemap, methods=["GET"]),
        Route("/field/vendor/leaflet/{path:path}", vendor, methods=["GET"]),
        Route("/field/assets/{path:path}", asset, methods=["GET"]),
        Route("/field/{name:str}", page, methods=["GET"]),
        Route(PUBLIC_PREFIX + "{service:str}", public, methods=["POST"]),
    ]


def tile_routes(workspace: Any) -> list[Route]:
    """``GET /api/v1/tiles`` (what the centre has) and ``GET /api/v1/tiles/{z}/{x}/{y}``: the
    centre's own map tiles from the MBTiles file in its data folder (``map/*.mbtiles``, or
    ``[map] mbtiles``), for any signed-in session (the session gate runs before the route).

    Bounded: the path must be three short integers inside the zoom's grid (else 400), a tile
    larger than :data:`core.mbtiles.MAX_TILE_BYTES` is refused, and the file is opened
    read-only once, when first asked for; a file that cannot be served is logged and the
    pages keep their offline basemap."""
    import logging

    from starlette.concurrency import run_in_threadpool

    from core.mbtiles import (
        MBTiles,
        TileError,
        TileRequestError,
        find_mbtiles,
        parse_tile_path,
    )

    log = logging.getLogger(__name__)
    state: dict[str, Any] = {"tiles": None}
    lock = threading.Lock()

    def source() -> MBTiles | None:
        with lock:
            if state["tiles"] is None:
                config = (getattr(workspace, "config", {}) or {}).get("map", {}) or {}
                try:
                    path = find_mbtiles(Path(workspace.root), str(config.get("mbtiles", "")))
                    state["tiles"] = MBTiles(path) if path is not None else None
                except TileError as exc:
                    log.warning("map tiles not served: %s", exc)
            tiles: MBTiles | None = state["tiles"]
            return tiles

    def headers(cache: bool) -> dict[str, str]:
        return {
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, max-age=3600" if cache else "no-store",
        }

    async def info(request: Request) -> Response:
        tiles = await run_in_threadpool(source)
        body: dict[str, Any] = {"available": tiles is not None}
        if tiles is not None:
            body.update(
                name=tiles.name,
                minzoom=tiles.min_zoom,
                maxzoom=tiles.max_zoom,
                bounds=tiles.bounds,
                media_type=tiles.media_type,
            )
        return Response(
            json.dumps(body, ensure_ascii=False),
            200,
            media_type="application/json",
            headers=headers(False),
        )

    async def tile(request: Request) -> Response:
        coords = parse_tile_path(request.path_params["path"])
        if coords is None:
            return Response(
                "bad tile path: /api/v1/tiles/Z/X/Y",
                400,
                media_type="text/plain",
                headers=headers(False),
            )
        tiles = await run_in_threadpool(source)
        if tiles is None:
            return Response(
                "this centre has no tiles", 404, media_type="text/plain", headers=headers(False)
            )
        try:
            data = await run_in_threadpool(tiles.tile, *coords)
        except TileRequestError as exc:
            return Response(str(exc), 400, media_type="text/plain", headers=headers(False))
        except TileError as exc:  # the file's fault: logged with its path, not shown
            log.warning("map tile not served: %s", exc)
            return Response(
                "this tile cannot be served", 500, media_type="text/plain", headers=headers(False)
            )
        if data is None:
            return Response("no such tile", 404, media_type="text/plain", headers=headers(False))
        return Response(data, 200, media_type=tiles.media_type, headers=headers(True))

    return [
        Route(TILES_PATH, info, methods=["GET"]),
        Route(TILES_PATH + "/{path:path}", tile, methods=["GET"]),
    ]
