"""Who may do what in one case: the one place that answers it.

The session's role (``resources/security/roles.toml``) says whether a user may work on cases at
all (``cases.read``, ``cases.write`` …); the case role (lead, contributor, reader) says what
they may do in *this* case. A user who is not a member cannot open the case or see it listed;
a reader cannot change it; only the lead manages members and the case's status.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

from cases.db import ensure_schema, load_case
from cases.errors import CaseAccessError, CaseNotFoundError
from cases.model import CASE_NUMBER_HELP, CaseFile

if TYPE_CHECKING:
    from core.workspace import Workspace

#: What each case role may do.
ABILITIES = {
    "lead": {"read", "edit", "manage"},
    "contributor": {"read", "edit"},
    "reader": {"read"},
}

HOW_TO_OPEN = (
    "open one with `superbrain cases create NUMBER --title TITLE` or the console's "
    "Cases panel (format " + CASE_NUMBER_HELP + ")"
)


def not_found(number: str) -> CaseNotFoundError:
    return CaseNotFoundError(f"no case {number!r} in this workspace; {HOW_TO_OPEN}")


def case_for(
    con: sqlite3.Connection, number: str, user: str, need: str, *, override: bool = False
) -> CaseFile:
    """The case ``number`` if ``user``'s case role allows ``need`` (read, edit, manage).

    Raises
    ------
    CaseNotFoundError
        No such case (the message says how to open one).
    CaseAccessError
        ``user`` is not a member, or their case role does not allow ``need``; ``override``
        (an administrator managing members) skips the role check.
    """
    case = load_case(con, number)
    if case is None:
        raise not_found(number)
    if override:
        return case
    role = case.role_of(user)
    if role is None or need not in ABILITIES[role]:
        raise CaseAccessError(user, number, need, role)
    return case


def require_member(workspace: Workspace, number: str, user: str | None = None) -> CaseFile:
    """The case a face search or an export names, if the acting user is one of its members.

    Used by engines that take a case number (face search and verification, exports): a number
    that no case has is refused with a message that says how to open one, and a user who is not
    a member is refused.
    """
    from cases.errors import CaseInvalidError
    from cases.model import check_number

    ensure_schema(workspace.store)
    who = user or workspace.user
    try:
        key = check_number(number)
    except CaseInvalidError:
        raise not_found(number) from None
    return case_for(workspace.store.connection, key, who, "read")


def require_member_audited(workspace: Workspace, number: str, user: str, action: str) -> CaseFile:
    """:func:`require_member`, with a refusal written to the audit log as ``access.denied``
    (``action`` says what was refused, e.g. ``face.search``, ``graph.export``)."""
    from cases.errors import CaseError

    try:
        return require_member(workspace, number, user)
    except CaseError as exc:
        workspace.audit.append(
            user, "access.denied", {"action": action, "reason": str(exc)}, case=number
        )
        raise


def gate(workspace: Workspace, number: str, user: str, action: str) -> None:
    """The case gate of :mod:`core.case_gate` (entry point ``superbrain.case_gate``)."""
    require_member_audited(workspace, number, user, action)
