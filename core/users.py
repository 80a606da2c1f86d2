"""The workspace's user accounts: names, roles and salted, memory-hard password hashes.

Accounts live in ``WORKSPACE/users.sqlite``, created with mode 0600 so other OS users cannot read
the hashes. Passwords are hashed with Argon2id (argon2-cffi's defaults: 64 MiB, 3 passes, a random
16-byte salt per hash); a hash made with weaker parameters is upgraded on the next login. Optional
per-user Elasticsearch credentials are kept in the same file (they must be sent to the cluster, so
they cannot be hashed: the file mode is their protection, see docs/SECURITY.md).
"""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from core.errors import SuperbrainError

if TYPE_CHECKING:
    from core.workspace import Workspace

USERS_FILE = "users.sqlite"
MIN_PASSWORD_LENGTH = 8
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")

_DDL = """
CREATE TABLE IF NOT EXISTS users (
    name TEXT PRIMARY KEY, role TEXT NOT NULL, password_hash TEXT NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0, created TEXT NOT NULL, updated TEXT NOT NULL,
    es_username TEXT NOT NULL DEFAULT '', es_password TEXT NOT NULL DEFAULT '',
    es_api_key TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS login_failures (
    name TEXT PRIMARY KEY, count INTEGER NOT NULL, locked_until REAL NOT NULL);
"""
#: Consecutive wrong passwords before an account is locked; the lock doubles with each further
#: failure, from LOCK_SECONDS up to MAX_LOCK_SECONDS. A right password or `users enable` resets.
MAX_FAILURES = 5
LOCK_SECONDS = 30.0
MAX_LOCK_SECONDS = 900.0


class UserError(SuperbrainError):
    """A user account cannot be created or changed (names the user and the reason)."""


class LockedOutError(UserError):
    """Too many wrong passwords in a row: logins are refused for ``seconds`` more."""

    def __init__(self, name: str, seconds: float) -> None:
        self.name, self.seconds = name, seconds
        super().__init__(f"user {name!r}: too many failed logins; try again in "
                         f"{max(1, round(seconds))} s or ask an administrator")


@dataclass(frozen=True)
class UserRecord:
    """One account as stored (the password hash is never part of it)."""

    name: str
    role: str
    disabled: bool
    created: str
    updated: str
    es_username: str = ""
    es_password: str = ""
    es_api_key: str = ""

    @property
    def has_es_credentials(self) -> bool:
        return bool(self.es_api_key or (self.es_username and self.es_password))

    def __repr__(self) -> str:  # never print credentials, even by accident in a traceback
        return (f"UserRecord(name={self.name!r}, role={self.role!r}, disabled={self.disabled}, "
                f"es_credentials={'yes' if self.has_es_credentials else 'no'})")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class UserStore:
    """Accounts of one workspace.

    Parameters
    ----------
    path:
        The ``users.sqlite`` file; it is created (mode 0600) on the first write only, so a
        workspace without accounts has no such file.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._hasher = PasswordHasher()
        self._dummy_hash: str | None = None

    # -- storage -------------------------------------------------------------------------------
    @contextlib.contextmanager
    def _connect(self, *, create: bool = False) -> Iterator[sqlite3.Connection]:
        if not self.path.exists():
            if not create:
                raise UserError(f"{str(self.path)!r}: no user accounts yet")
            self.path.parent.mkdir(parents=True, exist_ok=True)
            os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
        os.chmod(self.path, 0o600)
        try:
            con = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        except sqlite3.Error as exc:
            raise UserError(f"{str(self.path)!r}: cannot open user accounts: {exc}") from exc
        try:
            con.executescript(_DDL)
            yield con
        except sqlite3.Error as exc:
            raise UserError(f"{str(self.path)!r}: user accounts unreadable: {exc}") from exc
        finally:
            con.close()

    def has_users(self) -> bool:
        """True once any account (enabled or not) exists."""
        if not self.path.exists():
            return False
        with self._connect() as con:
            return con.execute("SELECT count(*) FROM users").fetchone()[0] > 0

    def _row(self, con: sqlite3.Connection, name: str) -> tuple[UserRecord, str] | None:
        row = con.execute(
            "SELECT name, role, disabled, created, updated, es_username, es_password, "
            "es_api_key, password_hash FROM users WHERE name=?", (name,)).fetchone()
        if row is None:
            return None
        return UserRecord(row[0], row[1], bool(row[2]), *row[3:8]), row[8]

    def get(self, name: str) -> UserRecord | None:
        """The account called ``name``, or None."""
        if not self.path.exists():
            return None
        with self._connect() as con:
            found = self._row(con, name)
        return found[0] if found else None

    def list(self) -> list[UserRecord]:
        """Every account, by name."""
        if not self.path.exists():
            return []
        with self._connect() as con:
            names = [r[0] for r in con.execute("SELECT name FROM users ORDER BY name")]
            return [found[0] for n in names if (found := self._row(con, n))]

    # -- changes -------------------------------------------------------------------------------
    def _check_password(self, name: str, password: str) -> None:
        if len(password) < MIN_PASSWORD_LENGTH:
            raise UserError(f"user {name!r}: the password must have at least "
                            f"{MIN_PASSWORD_LENGTH} characters")

    def add(self, name: str, role: str, password: str) -> UserRecord:
        """Create an account; the name must be new and the role known to the caller."""
        if not _NAME.fullmatch(name):
            raise UserError(f"user name {name!r}: use 1-64 letters, digits, '.', '_', '-', '@'")
        self._check_password(name, password)
        digest = self._hasher.hash(password)
        with self._connect(create=True) as con:
            try:
                con.execute("INSERT INTO users (name, role, password_hash, created, updated) "
                            "VALUES (?,?,?,?,?)", (name, role, digest, _now(), _now()))
            except sqlite3.IntegrityError:
                raise UserError(f"user {name!r} already exists") from None
        record = self.get(name)
        assert record is not None
        return record

    def _update(self, name: str, sql: str, values: tuple[object, ...]) -> None:
        with self._connect() as con:
            cur = con.execute(f"UPDATE users SET {sql}, updated=? WHERE name=?",
                              (*values, _now(), name))
            if cur.rowcount == 0:
                raise UserError(f"no user named {name!r}")

    def set_password(self, name: str, password: str) -> None:
        """Replace the password (hashed with a fresh salt)."""
        self._check_password(name, password)
        self._update(name, "password_hash=?", (self._hasher.hash(password),))

    def set_disabled(self, name: str, disabled: bool) -> None:
        """Disable (no more logins) or re-enable an account; accounts are never deleted, so the
        audit trail keeps meaning who did what."""
        self._update(name, "disabled=?", (int(disabled),))

    def set_role(self, name: str, role: str) -> None:
        self._update(name, "role=?", (role,))

    def set_es_credentials(self, name: str, *, username: str = "", password: str = "",
                           api_key: str = "") -> None:
        """Per-user Elasticsearch credentials (an API key, or a username and password)."""
        self._update(name, "es_username=?, es_password=?, es_api_key=?",
                     (username, password, api_key))

    def authenticate(self, name: str, password: str) -> UserRecord | None:
        """The account if ``password`` is right and the account enabled, else None.

        An unknown name costs the same Argon2 work as a wrong password, so response time does
        not tell which names exist.
        """
        found = None
        if self.path.exists():
            with self._connect() as con:
                found = self._row(con, name)
        if found is None:
            if self._dummy_hash is None:
                self._dummy_hash = self._hasher.hash("not a password of anyone")
            with contextlib.suppress(VerificationError):
                self._hasher.verify(self._dummy_hash, password)
            return None
        record, digest = found
        now = time.time()
        with self._connect() as con:
            lock = con.execute("SELECT count, locked_until FROM login_failures WHERE name=?",
                               (name,)).fetchone()
        if lock and lock[1] > now:
            raise LockedOutError(name, lock[1] - now)
        try:
            self._hasher.verify(digest, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            self._failed(name, (lock[0] if lock else 0) + 1, now)
            return None
        if record.disabled:
            return None
        self.clear_failures(name)
        if self._hasher.check_needs_rehash(digest):
            self._update(name, "password_hash=?", (self._hasher.hash(password),))
        return record


    def _failed(self, name: str, count: int, now: float) -> None:
        until = 0.0
        if count >= MAX_FAILURES:
            until = now + min(MAX_LOCK_SECONDS, LOCK_SECONDS * 2 ** (count - MAX_FAILURES))
        with self._connect() as con:
            con.execute("INSERT INTO login_failures VALUES (?,?,?) ON CONFLICT(name) DO UPDATE "
                        "SET count=excluded.count, locked_until=excluded.locked_until",
                        (name, count, until))

    def clear_failures(self, name: str) -> None:
        """Forget failed logins (after a right password, or when an administrator unlocks)."""
        with self._connect() as con:
            con.execute("DELETE FROM login_failures WHERE name=?", (name,))


# -- guarded services (what the CLI and the console call) -----------------------------------------
def _store_of(workspace: Workspace) -> UserStore:
    return workspace.accounts


def _check_role(role: str) -> None:
    from core.security import default_roles

    if role not in default_roles().grants:
        raise UserError(f"unknown role {role!r}; one of {', '.join(default_roles().grants)}")


def _keep_an_administrator(store: UserStore, name: str, *, new_role: str | None = None,
                           disabling: bool = False) -> None:
    admins = [u.name for u in store.list() if u.role == "administrator" and not u.disabled]
    if admins == [name] and (disabling or (new_role and new_role != "administrator")):
        raise UserError(f"user {name!r} is the last enabled administrator; add another first")


def add_user(workspace: Workspace, name: str, role: str, password: str) -> UserRecord:
    """Create an account (needs ``users.manage``; the first account must be an administrator,
    created by whoever runs the workspace before it has accounts)."""
    from core.security import require

    session = require(workspace, "users.manage", target=name)
    _check_role(role)
    store = _store_of(workspace)
    if not store.has_users() and role != "administrator":
        raise UserError(f"the first account must be an administrator, not {role!r} "
                        "(otherwise nobody could manage users)")
    record = store.add(name, role, password)
    workspace.audit.append(session.user, "users.add", {"name": name, "role": role})
    return record


def list_users(workspace: Workspace) -> list[UserRecord]:
    """Every account (needs ``users.manage``)."""
    from core.security import require

    require(workspace, "users.manage")
    return _store_of(workspace).list()


def change_password(workspace: Workspace, name: str, password: str) -> None:
    """Set a new password: one's own, or anyone's with ``users.manage``."""
    from core.security import current_session, require

    session = current_session(workspace)
    if session.user != name or session.via != "password":
        session = require(workspace, "users.manage", target=name)
    _store_of(workspace).set_password(name, password)
    workspace.audit.append(session.user, "users.passwd", {"name": name})


def set_enabled(workspace: Workspace, name: str, enabled: bool) -> None:
    """Disable or re-enable an account (needs ``users.manage``)."""
    from core.security import require

    session = require(workspace, "users.manage", target=name)
    store = _store_of(workspace)
    if not enabled:
        _keep_an_administrator(store, name, disabling=True)
    store.set_disabled(name, not enabled)
    if enabled:
        store.clear_failures(name)  # `users enable` also lifts a lock-out
    workspace.audit.append(session.user, "users.enable" if enabled else "users.disable",
                           {"name": name})


def change_role(workspace: Workspace, name: str, role: str) -> None:
    """Give an account another role (needs ``users.manage``)."""
    from core.security import require

    session = require(workspace, "users.manage", target=name, new_role=role)
    _check_role(role)
    store = _store_of(workspace)
    before = store.get(name)
    if before is None:
        raise UserError(f"no user named {name!r}")
    _keep_an_administrator(store, name, new_role=role)
    store.set_role(name, role)
    workspace.audit.append(session.user, "users.role",
                           {"name": name, "role": role, "previous": before.role})


def set_es_credentials(workspace: Workspace, name: str, *, username: str = "",
                       password: str = "", api_key: str = "") -> None:
    """Store per-user Elasticsearch credentials (needs ``users.manage``; never audited in
    clear: the audit says which kind was set)."""
    from core.security import require

    session = require(workspace, "users.manage", target=name)
    if not (api_key or (username and password)):
        raise UserError(f"user {name!r}: give an API key, or a username and a password")
    _store_of(workspace).set_es_credentials(name, username=username, password=password,
                                            api_key=api_key)
    workspace.audit.append(session.user, "users.es_credentials",
                           {"name": name, "kind": "api_key" if api_key else "basic",
                            "es_username": username})
