"""The one service layer: every operation is a typed function that checks the role and audits.

A service is a plain function ``fn(ctx, *, params...)`` registered with :func:`service`. The
wrapper is the choke point for trust, whoever calls (CLI, console, centre server):

1. it checks that ``ctx.session`` holds the service's permission; a refusal raises
   :class:`~core.security.PermissionDeniedError` and is audited as ``access.denied``;
2. it runs the function with the session *bound* (:func:`acting`), so engine code that asks
   ``workspace.user`` or calls :func:`core.security.require` sees this session and no other;
3. on success it appends ONE audit entry: user = ``ctx.session.user`` (never a parameter),
   action = the service name, params = the call's parameters (JSON-friendly, bounded, secrets
   redacted) plus what the function added with :func:`audit_detail`; ``case`` and ``purpose``
   parameters go to the entry's own fields;
4. a failure after the check (bad input, unreadable probe, unknown incident …) is audited too,
   with ``outcome: "failed"`` and the error's reason, and the error is raised unchanged.

Services whose engine writes the audit entry itself, in the same transaction as the change (the
operations outbox, a face search with its candidates), are declared with ``audit=False``: the
wrapper still checks, binds the session and audits refusals and failures.

:func:`services` lists every registered service (importing the modules of the
``superbrain.services`` entry-point group, built-ins declared in pyproject.toml); :func:`call`
calls one by name. Front ends build a :class:`ServiceContext` only from an authenticated session
(:func:`local_context` for the CLI and the console). :mod:`core.service_data` turns parameters
and results into data (bounded for the audit, :func:`to_json` in full) and errors into kinds a
remote caller acts on (:func:`error_kind`).
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import inspect
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from core.security import (
    PermissionDeniedError,
    Session,
    _check_declared,
    bound,
    current_session,
    default_roles,
)
from core.service_data import (  # noqa: F401 - error_kind, to_json: part of this API
    ServiceError,
    audit_params,
    error_kind,
    to_json,
)

if TYPE_CHECKING:
    from core.workspace import Workspace

log = logging.getLogger(__name__)

#: Modules that register services, imported by :func:`services` (absent ones are skipped).
#: Entry-point group of the service modules, built-in (pyproject.toml) and added by packages.
ENTRY_POINT_GROUP = "superbrain.services"

#: Parameters that are hooks of the calling process, not data: progress callbacks, cancel
#: tokens, ``compute`` and ``write`` (a front end doing the work its own way, e.g. the
#: console's chart growth in its helper process, or its chart picture). They are never
#: audited and never offered remotely.
RUNTIME_PARAMS = frozenset({"progress", "cancel", "compute", "write"})


@dataclass(frozen=True)
class ServiceContext:
    """Who calls a service, on which workspace.

    Parameters
    ----------
    workspace:
        The opened workspace (local, or backed by a centre).
    session:
        The authenticated session; only authentication paths (CLI and console login, the
        server's token check) build contexts. Tests may build one.
    """

    workspace: Workspace
    session: Session

    @property
    def user(self) -> str:
        return self.session.user

    def require(self, permission: str, **context: Any) -> None:
        """Check one more permission inside a service (e.g. ``users.manage`` to change someone
        else's password); a refusal is audited like the wrapper's."""
        try:
            self.session.require(permission)
        except PermissionDeniedError:
            _audit_refusal(self, permission, context)
            raise


@dataclass(frozen=True)
class ServiceSpec:
    """One registered service: its name, the permission it needs, and the function."""

    name: str
    permission: str
    fn: Callable[..., Any]
    audit: bool
    doc: str
    params: tuple[str, ...]
    audit_repeats: float = 0.0
    required: tuple[str, ...] = ()

    @property
    def remote_params(self) -> tuple[str, ...]:
        """The parameters a remote caller may pass (JSON data, no process hooks)."""
        return tuple(p for p in self.params if p not in RUNTIME_PARAMS)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "permission": self.permission,
            "doc": self.doc,
            "params": list(self.remote_params),
            "audit": self.audit,
        }


_REGISTRY: dict[str, ServiceSpec] = {}
_LOADED = False
_DETAILS: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "superbrain_audit_details", default=None
)

F = TypeVar("F", bound=Callable[..., Any])


def service(
    name: str, *, permission: str, audit: bool = True, audit_repeats: float = 0.0
) -> Callable[[F], F]:
    """Register ``fn(ctx, *, params...)`` as the service ``name`` (dotted, e.g. ``graph.path``).

    Parameters
    ----------
    name:
        Unique dotted name; also the audit action of a successful call.
    permission:
        Permission of ``resources/security/roles.toml`` the session must hold.
    audit:
        False when the engine writes the entry itself (see the module docstring).
    audit_repeats:
        For a read a console polls (the status board every few seconds): the same session
        repeating the call with the same parameters within this many seconds is not audited
        again; the next entry says how many calls it stands for (``repeats``). The first call
        is always audited.
    """
    _check_declared(permission)

    def decorate(fn: F) -> F:
        sig = inspect.signature(fn)
        names = list(sig.parameters)
        if not names or any(
            p.kind is not inspect.Parameter.KEYWORD_ONLY for p in list(sig.parameters.values())[1:]
        ):
            raise ServiceError(f"service {name!r}: {fn.__qualname__} must take (ctx, *, ...)")
        if name in _REGISTRY and _REGISTRY[name].fn.__qualname__ != fn.__qualname__:
            raise ServiceError(
                f"service {name!r} registered twice ({fn.__qualname__} and "
                f"{_REGISTRY[name].fn.__qualname__})"
            )

        @functools.wraps(fn)
        def wrapper(ctx: ServiceContext, /, **params: Any) -> Any:
            return _run(spec, ctx, params)

        doc = inspect.getdoc(fn) or ""
        required = tuple(
            p.name
            for p in list(sig.parameters.values())[1:]
            if p.default is inspect.Parameter.empty
        )
        spec = ServiceSpec(
            name,
            permission,
            fn,
            audit,
            doc.split("\n\n")[0],
            tuple(names[1:]),
            audit_repeats,
            required,
        )
        _REGISTRY[name] = spec
        wrapper.service_spec = spec  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


def _run(spec: ServiceSpec, ctx: ServiceContext, params: dict[str, Any]) -> Any:
    if not isinstance(ctx, ServiceContext):
        raise ServiceError(
            f"service {spec.name!r}: the first argument must be a "
            f"ServiceContext, not {type(ctx).__name__}"
        )
    unknown = sorted(set(params) - set(spec.params))
    if unknown:
        raise ServiceError(
            f"service {spec.name!r}: unknown parameters {unknown}; it takes "
            f"{', '.join(spec.params) or 'none'}"
        )
    missing = [p for p in spec.required if p not in params]
    if missing:
        raise ServiceError(f"service {spec.name!r}: missing parameters {missing}")
    try:
        ctx.session.require(spec.permission)
    except PermissionDeniedError:
        _audit_refusal(
            ctx,
            spec.permission,
            {"service": spec.name, **{k: v for k, v in params.items() if k not in RUNTIME_PARAMS}},
        )
        raise
    details: dict[str, Any] = {}
    with acting(ctx):
        token = _DETAILS.set(details)
        try:
            result = spec.fn(ctx, **params)
        except PermissionDeniedError:
            raise  # a further permission checked inside: core.security audited the refusal
        except Exception as exc:
            _append(
                ctx,
                spec.name,
                params,
                {**details, "outcome": "failed", "error": f"{type(exc).__name__}: {exc}"},
            )
            raise
        finally:
            _DETAILS.reset(token)
    if spec.audit:
        repeats = _repeats(spec, ctx, params)
        if repeats is not None:
            _append(
                ctx, spec.name, params, {**details, **({"repeats": repeats} if repeats else {})}
            )
    return result


_recent: dict[tuple[int, str, str, str], tuple[float, int]] = {}
_recent_lock = threading.Lock()


def _repeats(spec: ServiceSpec, ctx: ServiceContext, params: Mapping[str, Any]) -> int | None:
    """None: do not audit this repeat; else how many unaudited repeats this entry stands for."""
    if spec.audit_repeats <= 0:
        return 0
    raw = json.dumps(
        audit_params({k: v for k, v in params.items() if k not in RUNTIME_PARAMS}),
        sort_keys=True,
        default=str,
    )
    key = (id(ctx.workspace), ctx.session.user, spec.name, raw)
    now = time.monotonic()
    with _recent_lock:
        last, skipped = _recent.get(key, (float("-inf"), 0))
        if now - last < spec.audit_repeats:
            _recent[key] = (last, skipped + 1)
            return None
        if len(_recent) > 10_000:  # distinct polled reads are few; never grow without bound
            _recent.clear()
        _recent[key] = (now, 0)
        return skipped


def audit_detail(**values: Any) -> None:
    """Add ``values`` (a result count, a file hash …) to the audit entry of the running service
    call; outside a service call this does nothing."""
    details = _DETAILS.get()
    if details is not None:
        details.update(values)


@contextlib.contextmanager
def acting(ctx: ServiceContext) -> Iterator[ServiceContext]:
    """Bind ``ctx`` for the current thread or task: ``workspace.user`` and
    :func:`core.security.current_session` on ``ctx.workspace`` answer with ``ctx.session``."""
    with bound(ctx.workspace, ctx.session):
        yield ctx


def local_context(workspace: Workspace) -> ServiceContext:
    """The context of the workspace's own session (CLI, console): authenticated on first use
    from the login, ``SUPERBRAIN_USER``/``SUPERBRAIN_PASSWORD`` or a prompt; a workspace
    without accounts makes the OS user its administrator (see core.security)."""
    return ServiceContext(workspace, current_session(workspace))


_cache_lock = threading.RLock()


def shared(workspace: Any, key: str, factory: Callable[[], Any]) -> Any:
    """An engine object (search backend, face gallery, ops service) opened once per workspace
    object and kept on it, shared by every service call on that workspace."""
    with _cache_lock:
        cache = workspace.__dict__.setdefault("_shared_engines", {})
        if key not in cache:
            cache[key] = factory()
        return cache[key]


def drop_shared(workspace: Any, key: str) -> Any:
    """Forget (and return, for closing) the shared object ``key`` of ``workspace``."""
    with _cache_lock:
        return workspace.__dict__.get("_shared_engines", {}).pop(key, None)


# -- registry --------------------------------------------------------------------------------------
def services() -> Mapping[str, ServiceSpec]:
    """Every registered service by name (imports the service modules on first use)."""
    global _LOADED
    if not _LOADED:
        from core.extensions import load_all

        def broken(ext: Any, exc: Exception) -> None:
            if ext.origin == "superbrain":  # a built-in service module must import
                raise exc
            # a broken add-on must not take the others down
            log.warning("service entry point %s failed to load: %s", ext.name, exc)

        load_all(ENTRY_POINT_GROUP, on_error=broken)
        _LOADED = True
    return dict(sorted(_REGISTRY.items()))


def get(name: str) -> ServiceSpec:
    """The service called ``name``; an unknown name is a :class:`ServiceError` naming it."""
    found = services().get(name)
    if found is None:
        raise ServiceError(f"no service named {name!r}")
    return found


def call(name: str, ctx: ServiceContext, /, **params: Any) -> Any:
    """Call the service ``name`` with ``params`` as ``ctx``'s session."""
    return _run(get(name), ctx, params)


def allowed(session: Session) -> list[str]:
    """Names of the services ``session`` may call."""
    grants = default_roles().grants.get(session.role, frozenset())
    return [name for name, spec in services().items() if spec.permission in grants]


# -- audit -----------------------------------------------------------------------------------------
def _audit_refusal(ctx: ServiceContext, permission: str, context: Mapping[str, Any]) -> None:
    ctx.workspace.audit.append(
        ctx.session.user,
        "access.denied",
        {**audit_params(context), "permission": permission, "role": ctx.session.role},
    )
    log.warning("access denied: %s (%s) lacks %s", ctx.session.user, ctx.session.role, permission)


def _append(
    ctx: ServiceContext, action: str, params: Mapping[str, Any], details: Mapping[str, Any]
) -> None:
    case = params.get("case")
    purpose = params.get("purpose")
    body = {
        k: v for k, v in params.items() if k not in ("case", "purpose") and k not in RUNTIME_PARAMS
    }
    ctx.workspace.audit.append(
        ctx.session.user,
        action,
        {**audit_params(body), **audit_params(details)},
        case=str(case) if case not in (None, "") else None,
        purpose=str(purpose) if purpose not in (None, "") else None,
    )
