"""Services of the workspace itself: ingest, the audit log, user accounts, one's own session.

Each function is registered with :func:`core.services.service`, which checks the permission and
writes the audit entry; see that module. The ingest and the account changes are audited by the
code that makes the change (with the file's SHA-256, the role before and after), so they are
declared ``audit=False``: refusals and failures are still audited by the wrapper.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from core.progress import CancelToken, ProgressCallback
from core.services import ServiceContext, audit_detail, service


# -- ingest ----------------------------------------------------------------------------------------
@service("ingest.file", permission="ingest", audit=False)
def ingest_file(
    ctx: ServiceContext,
    *,
    source: str,
    path: str,
    force: bool = False,
    batch_size: int | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> Any:
    """Ingest one file with a source plugin (resumable; bad rows go to rejects/).

    Returns the :class:`core.ingest.IngestReport`; the ingest writes its own audit entry with the
    file's SHA-256 and counts.
    """
    from core.errors import SuperbrainError
    from core.ingest import DEFAULT_BATCH, Ingestor

    found = ctx.workspace.discover_sources()
    try:
        plugin = found.get(source)
    except KeyError as exc:
        raise SuperbrainError(str(exc.args[0])) from None
    if not Path(path).is_file():
        raise SuperbrainError(f"{str(path)!r}: no such file")
    ingestor = Ingestor(ctx.workspace, batch_size=batch_size or DEFAULT_BATCH)
    return ingestor.ingest_file(plugin, Path(path), progress=progress, cancel=cancel, force=force)


# -- the audit log ---------------------------------------------------------------------------------
@service("audit.list", permission="audit.read")
def audit_list(
    ctx: ServiceContext,
    *,
    user: str | None = None,
    action: str | None = None,
    case: str | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """Audit entries matching every filter (``action`` may end in ``*``), the last ``limit``."""
    entries = ctx.workspace.audit.search(user=user, action=action, case=case)
    if limit is not None:
        entries = entries[-max(0, int(limit)) :] if limit else []
    audit_detail(entries=len(entries))
    return entries


@service("audit.export", permission="audit.export")
def audit_export(
    ctx: ServiceContext,
    *,
    output: str,
    user: str | None = None,
    action: str | None = None,
    case: str | None = None,
) -> int:
    """Write matching entries as JSON Lines to ``output``; returns how many were written."""
    entries = ctx.workspace.audit.search(user=user, action=action, case=case)
    with open(output, "w", encoding="utf-8") as fh:
        for e in entries:
            fh.write(json.dumps(e, ensure_ascii=False) + "\n")
    audit_detail(entries=len(entries), file=str(output))
    return len(entries)


# -- accounts --------------------------------------------------------------------------------------
def _account(record: Any) -> dict[str, Any]:
    return {
        "name": record.name,
        "role": record.role,
        "disabled": record.disabled,
        "created": record.created,
        "es_credentials": record.has_es_credentials,
    }


@service("users.list", permission="users.manage")
def users_list(ctx: ServiceContext) -> list[dict[str, Any]]:
    """Every account: name, role, disabled, created, whether it has search credentials."""
    from core import users

    return [_account(u) for u in users.list_users(ctx.workspace)]


@service("users.add", permission="users.manage", audit=False)
def users_add(ctx: ServiceContext, *, name: str, role: str, password: str) -> dict[str, Any]:
    """Create an account (the first one must be an administrator)."""
    from core import users

    return _account(users.add_user(ctx.workspace, name, role, password))


@service("users.passwd", permission="account", audit=False)
def users_passwd(ctx: ServiceContext, *, name: str, password: str) -> None:
    """Set a new password: one's own (logged in with a password), or anyone's with
    ``users.manage``."""
    from core import users

    if name != ctx.session.user or ctx.session.via != "password":
        ctx.require("users.manage", target=name)
    users.change_password(ctx.workspace, name, password)


@service("users.enable", permission="users.manage", audit=False)
def users_enable(ctx: ServiceContext, *, name: str, enabled: bool) -> None:
    """Disable or re-enable an account (re-enabling also lifts a lock-out)."""
    from core import users

    users.set_enabled(ctx.workspace, name, enabled)


@service("users.role", permission="users.manage", audit=False)
def users_role(ctx: ServiceContext, *, name: str, role: str) -> None:
    """Give an account another role (the last administrator keeps theirs)."""
    from core import users

    users.change_role(ctx.workspace, name, role)


@service("users.es_credentials", permission="users.manage", audit=False)
def users_es_credentials(
    ctx: ServiceContext, *, name: str, username: str = "", password: str = "", api_key: str = ""
) -> None:
    """Store per-user Elasticsearch credentials (an API key, or a username and password)."""
    from core import users

    users.set_es_credentials(
        ctx.workspace, name, username=username, password=password, api_key=api_key
    )


@service("users.whoami", permission="account")
def users_whoami(ctx: ServiceContext) -> dict[str, Any]:
    """The acting user, role, how they logged in, and their permissions."""
    s = ctx.session
    return {"user": s.user, "role": s.role, "via": s.via, "permissions": sorted(s.permissions)}
