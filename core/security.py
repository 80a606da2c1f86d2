"""Who may do what: roles as data, sessions, enforcement at service entry points, redaction.

Roles and their permissions are declared in ``resources/security/roles.toml``. A
:class:`Session` is one user acting with one role. Front ends never check: every operation is a
service of :mod:`core.services`, whose wrapper checks ``session.require(permission)`` and
audits. Engines keep :func:`require` (or :func:`requires`) at their public entry points as a
second line, so a user without the permission gets a :class:`PermissionDeniedError` — whatever
the caller — and the refusal is audited. While a service runs, its session is *bound*
(:func:`bound`): :func:`current_session` and ``workspace.user`` answer with it.

The workspace hands out the current session (``workspace.session``): after
``workspace.login(user, password)``, or else authenticated from ``SUPERBRAIN_USER`` and
``SUPERBRAIN_PASSWORD`` (or a password prompt on a terminal). A workspace with no accounts yet
keeps working as before: the OS user (or ``SUPERBRAIN_USER``) acts as administrator, with a
warning, until the first account is added.

:mod:`core.redaction` (re-exported here): :func:`redact` and :func:`redact_mapping` strip
passwords, API keys and URL credentials from text before it reaches a log, an error message or
the audit log.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import getpass
import logging
import os
import sys
import tomllib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from core.errors import AccessDeniedError, SuperbrainError
from core.redaction import REDACTED as REDACTED  # re-exported: redaction used to live here
from core.redaction import RedactingFilter as RedactingFilter
from core.redaction import redact as redact
from core.redaction import redact_mapping as redact_mapping
from core.redaction import secret_forms as secret_forms

if TYPE_CHECKING:
    from core.users import UserStore
    from core.workspace import Workspace

log = logging.getLogger(__name__)

ROLES_FILE = Path(__file__).resolve().parent.parent / "resources" / "security" / "roles.toml"
ALL = "*"


# -- errors --------------------------------------------------------------------------------------
class SecurityError(SuperbrainError):
    """Root of security errors: invalid roles file, unknown permission, bad session."""


class AuthenticationError(SecurityError):
    """The user could not be authenticated (wrong password, unknown or disabled account)."""


class PermissionDeniedError(AccessDeniedError):
    """The session's role lacks a permission; names the user, the role and the permission."""

    def __init__(self, user: str, role: str, permission: str, description: str = "") -> None:
        self.user, self.role, self.permission = user, role, permission
        what = f" ({description})" if description else ""
        super().__init__(
            f"access denied: user {user!r} with role {role!r} lacks permission {permission!r}{what}"
        )


# -- roles as data -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Roles:
    """Declared permissions (name → description) and roles (name → granted permissions)."""

    permissions: Mapping[str, str]
    grants: Mapping[str, frozenset[str]]
    descriptions: Mapping[str, str]

    def allows(self, role: str, permission: str) -> bool:
        return permission in self.grants.get(role, frozenset())


def load_roles(path: Path = ROLES_FILE) -> Roles:
    """Read and validate a roles file; errors name the file and the key."""
    where = repr(str(path))
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SecurityError(f"{where}: roles file not found") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SecurityError(f"{where}: {exc}") from None
    perms = data.get("permissions")
    if not isinstance(perms, dict) or not perms:
        raise SecurityError(f"{where}: missing [permissions] table")
    roles = data.get("roles")
    if not isinstance(roles, dict) or not roles:
        raise SecurityError(f"{where}: missing [roles.*] tables")
    grants: dict[str, frozenset[str]] = {}
    descriptions: dict[str, str] = {}
    for name, spec in roles.items():
        listed = spec.get("permissions") if isinstance(spec, dict) else None
        if not isinstance(listed, list) or not all(isinstance(p, str) for p in listed):
            raise SecurityError(f"{where}: [roles.{name}] permissions must be a list of names")
        unknown = sorted(set(listed) - set(perms) - {ALL})
        if unknown:
            raise SecurityError(f"{where}: [roles.{name}] unknown permissions {unknown}")
        grants[name] = frozenset(perms) if ALL in listed else frozenset(listed)
        descriptions[name] = str(spec.get("description", ""))
    return Roles({k: str(v) for k, v in perms.items()}, grants, descriptions)


@cache
def default_roles() -> Roles:
    """The roles shipped in ``resources/security/roles.toml`` (loaded once)."""
    return load_roles()


# -- sessions ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Session:
    """One user acting with one role.

    Parameters
    ----------
    user:
        Account name (or the OS user when the workspace has no accounts yet).
    role:
        One of the roles in ``roles.toml``.
    via:
        How the session was obtained: ``"password"``, ``"no-accounts"`` (a workspace without
        accounts: the OS user acts as administrator) or ``"explicit"`` (built in code).
    """

    user: str
    role: str
    via: str = "explicit"

    def __post_init__(self) -> None:
        if self.role not in default_roles().grants:
            raise SecurityError(
                f"user {self.user!r}: unknown role {self.role!r}; one of "
                f"{', '.join(default_roles().grants)}"
            )

    @property
    def permissions(self) -> frozenset[str]:
        return default_roles().grants[self.role]

    def can(self, permission: str) -> bool:
        """Whether the role grants ``permission`` (which must be declared)."""
        _check_declared(permission)
        return default_roles().allows(self.role, permission)

    def require(self, permission: str) -> None:
        """Raise :class:`PermissionDeniedError` unless the role grants ``permission``."""
        if not self.can(permission):
            raise PermissionDeniedError(
                self.user, self.role, permission, default_roles().permissions[permission]
            )


def _check_declared(permission: str) -> None:
    if permission not in default_roles().permissions:
        raise SecurityError(
            f"unknown permission {permission!r} (declared in {ROLES_FILE.name}: "
            f"{', '.join(sorted(default_roles().permissions))})"
        )


def user_store(workspace: Workspace) -> UserStore:
    return workspace.accounts


def login(workspace: Workspace, user: str, password: str) -> Session:
    """Authenticate ``user`` and make the session current for ``workspace``.

    Per-user Elasticsearch credentials from the account replace the workspace-level ones in
    ``workspace.search_config``. Success and failure are both audited (never the password).
    """
    from core.users import LockedOutError, has_accounts

    has_accounts(workspace)  # a missing users file with accounts enabled refuses everyone
    store = user_store(workspace)
    try:
        record = store.authenticate(user, password)
    except LockedOutError as exc:
        workspace.audit.append(user, "auth.fail", {"reason": "locked out"})
        raise AuthenticationError(str(exc)) from None
    if record is None:
        known = store.get(user)
        reason = "account disabled" if known and known.disabled else "wrong name or password"
        workspace.audit.append(user, "auth.fail", {"reason": reason})
        raise AuthenticationError(
            f"cannot log in as {user!r}: wrong user name or password, or the account is disabled"
        )
    session = Session(record.name, record.role, "password")
    if record.has_es_credentials:
        cfg = replace(
            workspace.search_config,
            api_key=record.es_api_key,
            username=record.es_username,
            password=record.es_password,
        )
        problem = transport_problem(cfg.url, cfg.ca_certs)
        if problem and cfg.backend == "elasticsearch":
            raise SecurityError(f"user {user!r}: {problem}")
        workspace.__dict__["search_config"] = cfg
    _set_session(workspace, session)
    workspace.audit.append(session.user, "auth.login", {"role": session.role})
    return session


def _set_session(workspace: Workspace, session: Session) -> None:
    workspace._session = session
    workspace.user = session.user


# A service call binds its session for the current thread or task (core.services), so engine
# code asking for the workspace's user or session answers with the caller's, even when one
# workspace object serves several sessions (the centre server).
_BOUND: contextvars.ContextVar[tuple[Any, Session] | None] = contextvars.ContextVar(
    "superbrain_bound_session", default=None
)


@contextlib.contextmanager
def bound(workspace: Workspace, session: Session) -> Iterator[Session]:
    """Make ``session`` the acting session of ``workspace`` in this thread/task for a block."""
    token = _BOUND.set((workspace, session))
    try:
        yield session
    finally:
        _BOUND.reset(token)


def bound_session(workspace: Any) -> Session | None:
    """The session bound to ``workspace`` by a running service call, or None."""
    found = _BOUND.get()
    return found[1] if found is not None and found[0] is workspace else None


def current_session(workspace: Workspace) -> Session:
    """The acting session: the one a running service call bound, else the workspace's own,
    authenticating from the environment on first use."""
    session = bound_session(workspace) or workspace._session
    if session is not None:
        return session
    from core.users import has_accounts

    if not has_accounts(workspace):  # fails closed when accounts were enabled and are gone
        session = Session(workspace.user, "administrator", "no-accounts")
        log.warning(
            "workspace %s has no user accounts: %r acts as administrator; add accounts "
            "with `superbrain users add`",
            workspace.root,
            workspace.user,
        )
        _set_session(workspace, session)
        return session
    user = workspace.user
    password = os.environ.get("SUPERBRAIN_PASSWORD")
    if password is None:
        if not sys.stdin.isatty():
            raise AuthenticationError(
                f"workspace {str(workspace.root)!r} has user accounts: set SUPERBRAIN_USER and "
                "SUPERBRAIN_PASSWORD, or run on a terminal to be asked for the password"
            )
        password = getpass.getpass(f"password for {user}: ")
    return login(workspace, user, password)


def require(workspace: Workspace, permission: str, **context: Any) -> Session:
    """Check the current session holds ``permission``; audit and raise if it does not.

    Parameters
    ----------
    workspace:
        The workspace whose session acts.
    permission:
        A permission declared in ``roles.toml``.
    context:
        What was attempted (e.g. ``query=…``), recorded with a refusal (secrets redacted).

    Returns
    -------
    Session
        The session, for callers that want the user name.
    """
    session = current_session(workspace)
    try:
        session.require(permission)
    except PermissionDeniedError:
        workspace.audit.append(
            session.user,
            "access.denied",
            {**context, "permission": permission, "role": session.role},
        )
        log.warning("access denied: %s (%s) lacks %s", session.user, session.role, permission)
        raise
    return session


F = TypeVar("F", bound=Callable[..., Any])


def requires(permission: str) -> Callable[[F], F]:
    """Decorate a service entry point so it runs only for sessions holding ``permission``.

    The workspace is the first argument, or the ``workspace`` / ``ws`` attribute of the first
    argument (a method of a service object holding its workspace).
    """
    _check_declared(permission)

    def decorate(fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            require(_workspace_of(fn, args, kwargs), permission, call=fn.__qualname__)
            return fn(*args, **kwargs)

        wrapper.required_permission = permission  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


def _workspace_of(
    fn: Callable[..., Any], args: tuple[Any, ...], kwargs: Mapping[str, Any]
) -> Workspace:
    from core.workspace import Workspace

    candidates = [kwargs.get("workspace"), *args[:1]]
    if args:
        candidates += [getattr(args[0], a, None) for a in ("workspace", "ws", "_ws")]
    for obj in candidates:
        if isinstance(obj, Workspace):
            return obj
    raise SecurityError(
        f"{fn.__qualname__}: @requires found no workspace to take the session "
        "from (first argument, or its .workspace / .ws attribute)"
    )


# -- audit as a guarded service --------------------------------------------------------------------
def audit_entries(
    workspace: Workspace,
    *,
    user: str | None = None,
    action: str | None = None,
    case: str | None = None,
) -> list[dict[str, Any]]:
    """Search the audit log as the workspace's session: the ``audit.list`` service (needs
    ``audit.read``; the read is audited)."""
    from core.services import call, local_context

    found: list[dict[str, Any]] = call(
        "audit.list", local_context(workspace), user=user, action=action, case=case
    )
    return found


def export_audit(
    workspace: Workspace,
    output: Path,
    *,
    user: str | None = None,
    action: str | None = None,
    case: str | None = None,
) -> int:
    """Write matching audit entries as JSON Lines to ``output`` as the workspace's session:
    the ``audit.export`` service (needs ``audit.export``; audited). Returns the number of
    entries written."""
    from core.services import call, local_context

    return int(
        call(
            "audit.export",
            local_context(workspace),
            output=str(output),
            user=user,
            action=action,
            case=case,
        )
    )


# -- transport (redaction lives in core.redaction) ------------------------------------------------
_LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")


def transport_problem(url: str, ca_certs: str = "") -> str | None:
    """Why credentials must not be sent to ``url`` (plain HTTP to another host), or None."""
    from urllib.parse import urlsplit

    for one in filter(None, (u.strip() for u in url.split(","))):
        parts = urlsplit(one)
        if parts.scheme == "http" and (parts.hostname or "") not in _LOOPBACK:
            return (
                f"Elasticsearch URL {redact(one)!r} is plain HTTP: credentials would travel "
                "in clear; use https:// with [search] ca_certs"
            )
        if parts.scheme == "https" and ca_certs and not Path(ca_certs).is_file():
            return f"[search] ca_certs {ca_certs!r} is not a file"
    return None


def workspace_secrets(workspace: Workspace) -> list[str]:
    """Every secret the workspace knows: search credentials and ``SUPERBRAIN_PASSWORD``."""
    cfg = workspace.search_config
    return secret_forms(
        [cfg.password, cfg.api_key, os.environ.get("SUPERBRAIN_PASSWORD", "")], cfg.username
    )
