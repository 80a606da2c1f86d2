"""One exception root for cases, with precise subclasses whose messages name the culprit."""

from __future__ import annotations

from core.errors import AccessDeniedError, CaseRefusedError, SuperbrainError


class CaseError(SuperbrainError):
    """Root of errors raised by the cases package."""


class CaseInvalidError(CaseError, CaseRefusedError):
    """Bad input: a malformed case number, an unknown role, a chart that does not parse."""


class CaseNotFoundError(CaseError, CaseRefusedError):
    """No case (chart, note, pin) with that number or id; says how to open a case."""


class CaseConflictError(CaseError):
    """A stale version (someone saved in between) or an id or number that already exists."""


class CaseAccessError(AccessDeniedError, CaseError, CaseRefusedError):
    """The user is not a member of the case, or their case role does not allow the change."""

    def __init__(self, user: str, case: str, needed: str, role: str | None) -> None:
        self.user, self.case, self.needed, self.role = user, case, needed, role
        if role is None:
            msg = (
                f"access denied: user {user!r} is not a member of case {case!r}; ask the "
                "case lead to add you (`superbrain cases member CASE USER --role ROLE`)"
            )
        elif needed == "manage":
            msg = (
                f"access denied: user {user!r} is {role} of case {case!r}; only the case "
                "lead manages members and the case's status"
            )
        else:
            msg = (
                f"access denied: user {user!r} is {role} of case {case!r}; a {role} may "
                "read the case but not change it (lead or contributor needed)"
            )
        super().__init__(msg)
