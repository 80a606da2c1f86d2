"""User accounts and login sessions of a centre, in PostgreSQL.

:class:`PgUserStore` is :class:`core.users.UserStore` with its rows in the ``users`` table
(Argon2id hashes as before) and failed logins counted atomically in the database, so a lock-out
holds across every server process. :class:`SessionStore` hands out opaque random tokens and
keeps only their SHA-256, with an expiry; a token is refused once expired, revoked, or when its
account is disabled.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass

from centre.db import Database, first
from core.errors import StoreError
from core.security import Session
from core.users import (
    LOCK_SECONDS,
    MAX_FAILURES,
    MAX_LOCK_SECONDS,
    LockedOutError,
    UserError,
    UserRecord,
    UserStore,
    _now,
)

DDL = [
    """CREATE TABLE IF NOT EXISTS users (
    name TEXT PRIMARY KEY, role TEXT NOT NULL, password_hash TEXT NOT NULL,
    disabled BIGINT NOT NULL DEFAULT 0, created TEXT NOT NULL, updated TEXT NOT NULL,
    es_username TEXT NOT NULL DEFAULT '', es_password TEXT NOT NULL DEFAULT '',
    es_api_key TEXT NOT NULL DEFAULT '')""",
    """CREATE TABLE IF NOT EXISTS login_failures (
    name TEXT PRIMARY KEY, count BIGINT NOT NULL, locked_until DOUBLE PRECISION NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS sessions (
    token_hash TEXT PRIMARY KEY, "user" TEXT NOT NULL REFERENCES users(name),
    created_at DOUBLE PRECISION NOT NULL, expires_at DOUBLE PRECISION NOT NULL,
    revoked_at DOUBLE PRECISION)""",
    "CREATE INDEX IF NOT EXISTS sessions_expiry ON sessions (expires_at)",
]

_COLUMNS = (
    "name, role, disabled, created, updated, es_username, es_password, es_api_key, password_hash"
)


class PgUserStore(UserStore):
    """Accounts of a centre (see the module docstring)."""

    def __init__(self, db: Database) -> None:
        from pathlib import Path

        super().__init__(Path("<users table>"))
        self.db = db
        db.ensure_schema(DDL)

    def _find(self, name: str) -> tuple[UserRecord, str] | None:
        row = self.db.connection.execute(
            f"SELECT {_COLUMNS} FROM users WHERE name=?", (name,)
        ).fetchone()
        if row is None:
            return None
        return UserRecord(row[0], row[1], bool(row[2]), *row[3:8]), row[8]

    def has_users(self) -> bool:
        return self.db.connection.execute("SELECT 1 FROM users LIMIT 1").fetchone() is not None

    def get(self, name: str) -> UserRecord | None:
        found = self._find(name)
        return found[0] if found else None

    def list(self) -> list[UserRecord]:
        names = [r[0] for r in self.db.connection.execute("SELECT name FROM users ORDER BY name")]
        return [found[0] for n in names if (found := self._find(n))]

    def add(self, name: str, role: str, password: str) -> UserRecord:
        from core.users import _NAME

        if not _NAME.fullmatch(name):
            raise UserError(f"user name {name!r}: use 1-64 letters, digits, '.', '_', '-', '@'")
        self._check_password(name, password)
        digest = self._hasher.hash(password)
        cur = self.db.connection.execute(
            "INSERT INTO users (name, role, password_hash, created, updated) VALUES (?,?,?,?,?) "
            "ON CONFLICT DO NOTHING",
            (name, role, digest, _now(), _now()),
        )
        if cur.rowcount == 0:
            raise UserError(f"user {name!r} already exists")
        record = self.get(name)
        assert record is not None
        return record

    def _update(self, name: str, sql: str, values: tuple[object, ...]) -> None:
        cur = self.db.connection.execute(
            f"UPDATE users SET {sql}, updated=? WHERE name=?", (*values, _now(), name)
        )
        if cur.rowcount == 0:
            raise UserError(f"no user named {name!r}")

    def _count_attempt(self, name: str, now: float) -> None:
        """Count one attempt as a failure, or raise :class:`LockedOutError` while locked out.

        The row is locked (``FOR UPDATE``) for the read and the write, so concurrent attempts on
        several server processes are counted one after another and every one counts."""
        with self.db.transaction(serialised=False) as con:
            con.execute(
                "INSERT INTO login_failures VALUES (?, 0, 0) ON CONFLICT(name) DO NOTHING", (name,)
            )
            count, until = first(
                con.execute(
                    "SELECT count, locked_until FROM login_failures WHERE name=? FOR UPDATE",
                    (name,),
                )
            )
            if until > now:
                raise LockedOutError(name, until - now)
            count += 1
            if count >= MAX_FAILURES:
                until = now + min(MAX_LOCK_SECONDS, LOCK_SECONDS * 2 ** (count - MAX_FAILURES))
            con.execute(
                "UPDATE login_failures SET count=?, locked_until=? WHERE name=?",
                (count, until, name),
            )

    def clear_failures(self, name: str) -> None:
        self.db.connection.execute("DELETE FROM login_failures WHERE name=?", (name,))


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expires_at: float
    session: Session


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


class SessionStore:
    """Login sessions of a centre: opaque tokens, stored hashed, with an expiry."""

    def __init__(self, db: Database, *, lifetime_s: float = 12 * 3600) -> None:
        self.db = db
        self.lifetime_s = lifetime_s
        db.ensure_schema(DDL)

    def issue(self, record: UserRecord) -> IssuedToken:
        token = secrets.token_urlsafe(32)
        now = time.time()
        self.db.connection.execute(
            "INSERT INTO sessions (token_hash, user, created_at, expires_at) VALUES (?,?,?,?)",
            (_digest(token), record.name, now, now + self.lifetime_s),
        )
        return IssuedToken(
            token, now + self.lifetime_s, Session(record.name, record.role, "password")
        )

    def check(self, token: str) -> Session | None:
        """The session of a valid token (the account's current role), else None."""
        if not token or len(token) > 256:
            return None
        try:
            row = self.db.connection.execute(
                'SELECT u.name, u.role FROM sessions s JOIN users u ON u.name = s."user" '
                "WHERE s.token_hash=? AND s.revoked_at IS NULL AND s.expires_at > ? "
                "AND u.disabled = 0",
                (_digest(token), time.time()),
            ).fetchone()
        except StoreError:
            raise
        # The token stands for the password login that obtained it.
        return Session(row[0], row[1], "password") if row else None

    def revoke(self, token: str) -> bool:
        cur = self.db.connection.execute(
            "UPDATE sessions SET revoked_at=? WHERE token_hash=? AND revoked_at IS NULL",
            (time.time(), _digest(token)),
        )
        return cur.rowcount == 1

    def prune(self, older_than_s: float = 7 * 86400) -> int:
        """Forget sessions that ended more than ``older_than_s`` ago."""
        return self.db.connection.execute(
            "DELETE FROM sessions WHERE expires_at < ?", (time.time() - older_than_s,)
        ).rowcount
