"""Until ``core.services`` (CONTRACT.md §1) is merged: the same three names, same behaviour
(permission check with audited refusal, one audit entry per successful call, a failure audited
with its reason). Deleted by the merge of the service layer."""

from __future__ import annotations

import contextvars
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from core.security import PermissionDeniedError, Session, current_session

if TYPE_CHECKING:
    from core.workspace import Workspace

F = TypeVar("F", bound=Callable[..., Any])
_DETAILS: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "cases_audit_details", default=None)


@dataclass(frozen=True)
class ServiceContext:
    workspace: Workspace
    session: Session

    @property
    def user(self) -> str:
        return self.session.user


def local_context(workspace: Workspace) -> ServiceContext:
    return ServiceContext(workspace, current_session(workspace))


def audit_detail(**values: Any) -> None:
    details = _DETAILS.get()
    if details is not None:
        details.update(values)


def _params(params: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for k, v in params.items():
        if k in ("case", "purpose"):
            continue
        if isinstance(v, dict) and k == "data":
            v = {"keys": sorted(v)[:20]}
        out[k] = v if isinstance(v, str | int | float | bool | type(None) | list) else str(v)
    return out


def service(name: str, *, permission: str, audit: bool = True) -> Callable[[F], F]:
    def decorate(fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(ctx: ServiceContext, /, **params: Any) -> Any:
            case = params.get("case") or None
            try:
                ctx.session.require(permission)
            except PermissionDeniedError:
                ctx.workspace.audit.append(ctx.session.user, "access.denied", {
                    "service": name, **_params(params), "permission": permission,
                    "role": ctx.session.role}, case=case)
                raise
            details: dict[str, Any] = {}
            token = _DETAILS.set(details)
            try:
                result = fn(ctx, **params)
            except Exception as exc:
                ctx.workspace.audit.append(ctx.session.user, name, {
                    **_params(params), **details, "outcome": "failed",
                    "error": f"{type(exc).__name__}: {exc}"}, case=case)
                raise
            finally:
                _DETAILS.reset(token)
            if audit:
                ctx.workspace.audit.append(ctx.session.user, name,
                                           {**_params(params), **details}, case=case)
            return result

        wrapper.service_name = name  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate
