"""Logins and tokens: who is calling. Authorisation is the service layer's business."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from centre.users import IssuedToken
from centre.workspace import CentreWorkspace
from core.security import Session
from core.users import LockedOutError

log = logging.getLogger(__name__)

MAX_NAME = 64
MAX_PASSWORD = 1024


@dataclass(frozen=True)
class LoginRefused(Exception):  # noqa: N818 - an answer, not a fault
    status: int  # 401 wrong credentials, 423 locked out, 422 malformed
    message: str


class Authenticator:
    """Password logins (Argon2id, lock-out counted in PostgreSQL) and token checks."""

    def __init__(self, workspace: CentreWorkspace, *, lifetime_s: float) -> None:
        self.workspace = workspace
        self.sessions = workspace.sessions(lifetime_s)

    def login(self, user: object, password: object, *, peer: str = "") -> IssuedToken:
        """A token for ``user``; the same refusal (and about the same time) whether the name
        is unknown, the password wrong or the account disabled. Audited either way."""
        if (
            not isinstance(user, str)
            or not isinstance(password, str)
            or not user
            or len(user) > MAX_NAME
            or len(password) > MAX_PASSWORD
        ):
            raise LoginRefused(
                422,
                f'give "user" (1-{MAX_NAME} characters) and "password" '
                f"(at most {MAX_PASSWORD}) as JSON strings",
            )
        audit = self.workspace.audit
        try:
            record = self.workspace.accounts.authenticate(user, password)
        except LockedOutError as exc:
            audit.append(
                "anonymous",
                "auth.fail",
                {"claimed_user": user, "reason": "locked out", "peer": peer},
            )
            raise LoginRefused(423, str(exc)) from None
        if record is None:
            audit.append(
                "anonymous",
                "auth.fail",
                {
                    "claimed_user": user,
                    "peer": peer,
                    "reason": "wrong name or password, or account disabled",
                },
            )
            raise LoginRefused(401, "wrong user name or password, or the account is disabled")
        issued = self.sessions.issue(record)
        audit.append(
            record.name, "auth.login", {"role": record.role, "via": "server", "peer": peer}
        )
        return issued

    def check(self, token: str) -> Session | None:
        return self.sessions.check(token)

    def logout(self, token: str, session: Session) -> None:
        if self.sessions.revoke(token):
            self.workspace.audit.append(session.user, "auth.logout", {"via": "server"})


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer …`` header, else None."""
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > 256:
        return None
    return token
