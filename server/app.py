"""The ASGI application: routes of CONTRACT.md §2 over the service layer.

Every route except ``POST /api/v1/session`` passes :class:`SessionGate` first, which answers
401 unless the request carries a valid, unexpired token; unknown paths included, so nothing
answers without a session. Services run in worker threads (the engines are synchronous).
"""

from __future__ import annotations

import base64
import contextlib
import functools
import inspect
import json
import logging
import os
import platform
import re
import secrets
from collections.abc import AsyncIterator
from typing import Any

import anyio
import anyio.to_thread
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from centre.db import first
from centre.workspace import CentreWorkspace
from server import downloads, field, upkeep, wire
from server.auth import Authenticator, LoginRefused, bearer_token
from server.config import ServerConfig
from server.push import EventHub, stream

log = logging.getLogger(__name__)

API = "/api/v1"
OPEN_ROUTES = frozenset({("POST", f"{API}/session")})
LOGIN_CONCURRENCY = 4


def _json(status: int, body: Any) -> Response:
    # no-store: tokens and case data must not be kept by any cache on the way
    return Response(
        wire.dumps(body) if not isinstance(body, bytes) else body,
        status,
        media_type="application/json",
        headers={"Cache-Control": "no-store"},
    )


def _error(kind: str, message: str, **extra: Any) -> Response:
    return _json(wire.STATUS[kind], wire.error_body(kind, message, **extra))


class SessionGate:
    """ASGI middleware: a valid session or 401, before any routing."""

    def __init__(self, app: ASGIApp, auth: Authenticator) -> None:
        self.app = app
        self.auth = auth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, send)
            return
        if scope["type"] != "http":  # websockets are not offered
            return
        if (scope["method"], scope["path"]) not in OPEN_ROUTES and not field.is_open(
            scope["method"], scope["path"]
        ):
            headers = {
                k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]
            }
            token = bearer_token(headers.get("authorization"))
            try:
                session = await run_in_threadpool(self._check, token) if token else None
            except Exception as exc:  # the database is down: say so, do not guess
                log.error("session check failed: %s", exc)
                await _error(
                    "Unavailable", "the centre's database cannot be reached; try again in a moment"
                )(scope, receive, send)
                return
            if session is None:
                response = _error(
                    "Unauthenticated",
                    "a valid session token is needed: POST "
                    f"{API}/session, then send Authorization: Bearer TOKEN",
                )
                response.headers["WWW-Authenticate"] = 'Bearer realm="superbrain"'
                await response(scope, receive, send)
                return
            scope.setdefault("state", {})
            scope["state"]["session"] = session
            scope["state"]["token"] = token
        await self.app(scope, receive, send)

    def _check(self, token: str) -> Any:
        from centre.db import DatabaseUnavailableError

        try:
            return self.auth.check(token)
        except DatabaseUnavailableError:  # a stale connection (the database restarted): once
            return self.auth.check(token)  # more on a fresh one; a read, safe to repeat


async def read_json(request: Request, limit: int) -> dict[str, Any]:
    """The request's JSON object, refusing bodies over ``limit`` bytes before reading them."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise BodyError("TooLarge", f"the request body is larger than {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyError("TooLarge", f"the request body is larger than {limit} bytes")
        chunks.append(chunk)
    if not size:
        return {}
    try:
        body = json.loads(b"".join(chunks))
    except RecursionError:
        raise BodyError("Invalid", "the request body is nested too deeply") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise BodyError("Invalid", f"the request body is not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise BodyError("Invalid", "the request body must be a JSON object")
    return body


class BodyError(Exception):
    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def build_app(workspace: CentreWorkspace, config: ServerConfig) -> Starlette:
    """The application of one server process on ``workspace``."""
    auth = Authenticator(workspace, lifetime_s=config.session_hours * 3600)
    hub = EventHub(workspace.db)

    def peer(request: Request) -> str:
        return request.client.host if request.client else ""

    # Each Argon2id check takes 64 MiB and tens of milliseconds: a few at a time, so that a
    # burst of logins (or an attacker) queues instead of exhausting memory and worker threads.
    login_slots = anyio.CapacityLimiter(LOGIN_CONCURRENCY)
    flood = field.FloodGate()

    async def login(request: Request) -> Response:
        try:
            body = await read_json(request, 64 * 1024)
            issued = await anyio.to_thread.run_sync(
                functools.partial(
                    auth.login, body.get("user"), body.get("password"), peer=peer(request)
                ),
                limiter=login_slots,
            )
        except BodyError as exc:
            return _error(exc.kind, str(exc))
        except LoginRefused as exc:
            kind = {401: "Unauthenticated", 423: "Locked"}.get(exc.status, "Invalid")
            return _error(kind, exc.message)
        except Exception as exc:
            if wire.error_type(exc) != "Unavailable":
                raise
            return _error("Unavailable", str(exc))
        return _json(
            200,
            {
                "token": issued.token,
                "expires_at": issued.expires_at,
                "user": issued.session.user,
                "role": issued.session.role,
                "timezone": str(workspace.zone),
            },
        )

    async def logout(request: Request) -> Response:
        await run_in_threadpool(auth.logout, request.state.token, request.state.session)
        return Response(status_code=204)

    async def list_services(request: Request) -> Response:
        from core.services import services

        session = request.state.session
        specs = await run_in_threadpool(services)
        return _json(
            200,
            [
                {
                    "name": s.name,
                    "permission": s.permission,
                    "allowed": session.can(s.permission),
                    "doc": s.doc,
                    "params": list(s.params),
                }
                for s in sorted(specs.values(), key=lambda s: s.name)
            ],
        )

    async def call(request: Request) -> Response:
        return await _run(request, request.path_params["service"], config.max_body_bytes)

    async def _run(request: Request, name: str, limit: int) -> Response:
        try:
            body = await read_json(request, limit)
        except BodyError as exc:
            return _error(exc.kind, str(exc))
        params = body.get("params", {})
        if not isinstance(params, dict):
            return _error("Invalid", '"params" must be a JSON object')
        try:
            result, files = await run_in_threadpool(
                _call_service,
                workspace,
                request.state.session,
                name,
                params,
                config.max_download_bytes,
            )
            answer: dict[str, Any] = {"result": wire.jsonable(result)}
            if files is not None:
                answer["files"] = files
            return _json(200, wire.dumps(answer))
        except (_CallError, downloads.DownloadError) as exc:
            return _error(exc.kind, str(exc))
        except Exception as exc:
            kind = wire.error_type(exc)
            if kind == "Internal":
                incident = secrets.token_hex(6)
                log.exception("service %s failed (error id %s)", name, incident)
                return _error(
                    "Internal",
                    f"internal error in {name!r} (error id {incident}; see the server log)",
                )
            return _error(kind, str(exc))

    async def public_call(request: Request, name: str) -> Response:
        """A public page's call: runs as ``public@ADDRESS`` with the role ``public``."""
        from core.security import Session
        from core.services import services

        spec = services().get(name)
        if spec is None or spec.permission != "report.submit":
            return _error("NotFound", f"no public service named {name[:100]!r}")
        address = peer(request) or "unknown"
        admitted, refusals = flood.admit(address)
        if refusals:
            await run_in_threadpool(
                workspace.audit.append,
                f"public@{address}",
                "public.flood",
                {"refused": refusals, "service": name},
            )
        if not admitted:
            return _error(
                "RateLimited",
                "too many requests from this address; try again in "
                "a minute, or call 110 in an emergency",
            )
        request.state.session = Session(f"public@{address}", "public", "public")
        return await _run(request, name, field.PUBLIC_BODY_LIMIT)

    async def events(request: Request) -> Response:
        after_text = request.headers.get("last-event-id") or request.query_params.get("after")
        after = None
        if after_text:
            if not after_text.isdigit() or len(after_text) > 18:
                return _error("Invalid", f"event id {after_text[:40]!r} is not a number")
            after = int(after_text)
        token = request.state.token

        def still_valid() -> bool:
            return auth.check(token) is not None

        session = request.state.session
        accept = await run_in_threadpool(field.unit_filter, workspace, session)
        body: AsyncIterator[str] = stream(
            hub,
            after,
            still_valid=still_valid,
            permissions=session.permissions,
            user=session.user,
            keepalive_s=config.keepalive_s,
            accept=accept,
        )
        return StreamingResponse(
            body,
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    async def health(request: Request) -> Response:
        report = await run_in_threadpool(_health, workspace, request.state.session, hub)
        return _json(200, report)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await run_in_threadpool(auth.sessions.prune)
        await run_in_threadpool(hub.start)
        try:
            async with upkeep.scheduled(workspace):  # position retention, at start and daily
                yield
        finally:
            await run_in_threadpool(hub.stop)

    routes = [
        Route(f"{API}/session", login, methods=["POST"]),
        Route(f"{API}/session", logout, methods=["DELETE"]),
        Route(f"{API}/services", list_services, methods=["GET"]),
        Route(f"{API}/call/{{service:str}}", call, methods=["POST"]),
        Route(f"{API}/events", events, methods=["GET"]),
        Route(f"{API}/health", health, methods=["GET"]),
        *field.routes(workspace, public_call),
        *field.tile_routes(workspace),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.add_middleware(SessionGate, auth=auth)
    app.state.hub = hub
    app.state.auth = auth
    return app


#: Parameters that name a file on the machine running the service. Over the network they would
#: let a caller read or write the server's files, so a string there is refused; a photo is sent
#: as ``{"base64": "..."}`` (any parameter may be), which the service receives as bytes.
SERVER_FILE_PARAMS = frozenset(
    {"path", "output", "photo", "probe", "photo_a", "photo_b", "folder", "file", "files"}
)
#: In-process hooks (progress and cancel callbacks, writers, compute functions) that no request
#: can supply: by name, and by any parameter annotated as one.
IN_PROCESS_PARAMS = frozenset({"progress", "cancel", "write", "compute"})
_IN_PROCESS_TYPES = re.compile(r"\b(Callable|CancelToken|ProgressCallback)\b")


def _decode_params(
    name: str, params: dict[str, Any], signature: inspect.Signature
) -> dict[str, Any]:
    hooks = {
        p.name for p in signature.parameters.values() if _IN_PROCESS_TYPES.search(str(p.annotation))
    }
    out = {}
    for key, value in params.items():
        if key in IN_PROCESS_PARAMS or key in hooks:
            raise _CallError("Invalid", f"service {name!r}: {key!r} is for in-process callers only")
        if downloads.requested(name, key, value) is not None:
            out[key] = value  # made in the request's own folder by _call_service
            continue
        if isinstance(value, dict) and set(value) == {"base64"}:
            try:
                value = base64.b64decode(str(value["base64"]), validate=True)
            except ValueError:
                raise _CallError(
                    "Invalid", f"service {name!r}: parameter {key!r} is not valid base64"
                ) from None
        elif key in SERVER_FILE_PARAMS and isinstance(value, str | list):
            raise _CallError(
                "Invalid",
                f"service {name!r}: parameter {key!r} would name a file "
                "on the server; send the file's content as "
                '{"base64": "..."}, or run file jobs on the server '
                "with the CLI (superbrain ... -w centre.toml)",
            )
        out[key] = value
    return out


class _CallError(Exception):
    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def _call_service(
    workspace: CentreWorkspace, session: Any, name: str, params: dict[str, Any], max_download: int
) -> tuple[Any, list[dict[str, Any]] | None]:
    """Run the service; ``(result, files)`` where ``files`` are the downloads it made
    (:mod:`server.downloads`), or None when none was asked for."""
    from core.services import ServiceContext, call, services

    specs = services()
    spec = specs.get(name)
    if spec is None:
        raise _CallError(
            "NotFound", f"no service named {name[:100]!r}; GET {API}/services lists them"
        )
    unknown = sorted(set(params) - set(spec.params))
    if unknown:
        raise _CallError(
            "Invalid",
            f"service {name!r}: unknown parameters {unknown}; it takes "
            f"{', '.join(spec.params) or 'none'}",
        )
    signature = inspect.signature(spec.fn)
    decoded = _decode_params(name, params, signature)
    missing = [
        p.name
        for p in list(signature.parameters.values())[1:]
        if p.default is inspect.Parameter.empty and p.name not in params
    ]
    if missing:
        raise _CallError("Invalid", f"service {name!r}: missing parameters {missing}")
    wanted: dict[str, str] = {}
    for key, value in decoded.items():
        asked = downloads.requested(name, key, value)
        if asked is not None:
            wanted[key] = asked
    if not wanted:
        return call(name, ServiceContext(workspace, session), **decoded), None
    with downloads.folder() as where:
        decoded.update({k: str(where / v) for k, v in wanted.items()})
        result = call(name, ServiceContext(workspace, session), **decoded)
        return result, downloads.collect(where, max_download)


def _health(workspace: CentreWorkspace, session: Any, hub: EventHub) -> dict[str, Any]:
    from importlib.metadata import PackageNotFoundError, version

    try:
        superbrain = version("superbrain")
    except PackageNotFoundError:
        superbrain = "unknown"
    report: dict[str, Any] = {
        "centre": workspace.centre.name,
        "superbrain": superbrain,
        "python": platform.python_version(),
        "pid": os.getpid(),
        "user": session.user,
        "role": session.role,
        "timezone": str(workspace.zone),
    }  # consoles show times in it
    try:
        row = first(workspace.db.connection.execute("SHOW server_version"))
        report["store"] = {"status": "green", "postgresql": row[0], "last_event": hub.last_id}
    except Exception as exc:
        report["store"] = {"status": "red", "error": str(exc)}
    cfg = workspace.search_config
    report["search"] = {"backend": cfg.backend}
    try:
        from core.services import ServiceContext, acting
        from search.backend import open_backend

        with acting(ServiceContext(workspace, session)):
            backend = open_backend(workspace)
            try:
                report["search"].update(wire.jsonable(backend.health()))
            finally:
                backend.close()
    except Exception as exc:
        report["search"].update(status="red", error=str(exc))
    faces = workspace.faces_dir
    report["gallery"] = {
        "status": "green" if faces.is_dir() else "red",
        "files": sum(1 for _ in faces.iterdir()) if faces.is_dir() else 0,
    }
    return report
