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
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from core.errors import SuperbrainError

if TYPE_CHECKING:
    from core.workspace import Workspace

USERS_FILE = "users.sqlite"
#: The password policy: at least MIN_PASSWORD_LENGTH characters, not on the deny-list
#: (resources/security/common-passwords.txt), not the user name. For trials and tests only,
#: ``SUPERBRAIN_TRIAL_PASSWORDS=1`` lowers the length to TRIAL_MIN_PASSWORD_LENGTH (the other
#: rules stay, and accounts created so are audited with ``password_policy: trial``).
MIN_PASSWORD_LENGTH = 12
TRIAL_MIN_PASSWORD_LENGTH = 8
TRIAL_ENV = "SUPERBRAIN_TRIAL_PASSWORDS"
DENY_LIST = (
    Path(__file__).resolve().parent.parent / "resources" / "security" / "common-passwords.txt"
)
#: An Argon2id hash (argon2-cffi's default parameters) of a password nobody has: verifying an
#: unknown user's password against it costs what a known user's check costs, without hashing
#: anything first (a fresh hash per call made unknown names twice as slow: enumerable).
_DUMMY_HASH = (
    "$argon2id$v=19$m=65536,t=3,p=4$rShR8qg4VXuIJGDJPKRlWg$"
    "jFPrsMR0Hud4acdHVeT991TDszjs4P+rIRa2i4Q/Be0"
)
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
        super().__init__(
            f"user {name!r}: too many failed logins; try again in "
            f"{max(1, round(seconds))} s or ask an administrator"
        )


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
        return (
            f"UserRecord(name={self.name!r}, role={self.role!r}, disabled={self.disabled}, "
            f"es_credentials={'yes' if self.has_es_credentials else 'no'})"
        )


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@cache
def _deny_list() -> frozenset[str]:
    lines = DENY_LIST.read_text(encoding="utf-8").splitlines()
    return frozenset(x.strip().lower() for x in lines if x.strip() and not x.startswith("#"))


def trial_passwords() -> bool:
    """Whether the documented trial override (``SUPERBRAIN_TRIAL_PASSWORDS=1``) is on."""
    return os.environ.get(TRIAL_ENV, "") == "1"


def password_problem(name: str, password: str) -> str | None:
    """Why ``password`` is refused for user ``name`` by the policy, or None when it passes."""
    low = password.lower()
    core = low.rstrip("0123456789!@#$%^&*()-_=+.,;:?~ ")
    if low in _deny_list() or core in _deny_list():
        return "the password is on the list of common passwords; choose another"
    name_low = name.lower()
    if low == name_low or core == name_low or (len(name_low) >= 4 and name_low in low):
        return "the password must not be or contain the user name"
    minimum = TRIAL_MIN_PASSWORD_LENGTH if trial_passwords() else MIN_PASSWORD_LENGTH
    if len(password) < minimum:
        return f"the password must have at least {minimum} characters"
    if len(set(password)) < 5:
        return "the password must use at least 5 different characters"
    return None


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
            "es_api_key, password_hash FROM users WHERE name=?",
            (name,),
        ).fetchone()
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
        problem = password_problem(name, password)
        if problem:
            raise UserError(f"user {name!r}: {problem}")

    def add(self, name: str, role: str, password: str) -> UserRecord:
        """Create an account; the name must be new and the role known to the caller."""
        if not _NAME.fullmatch(name):
            raise UserError(f"user name {name!r}: use 1-64 letters, digits, '.', '_', '-', '@'")
        self._check_password(name, password)
        digest = self._hasher.hash(password)
        with self._connect(create=True) as con:
            try:
                con.execute(
                    "INSERT INTO users (name, role, password_hash, created, updated) "
                    "VALUES (?,?,?,?,?)",
                    (name, role, digest, _now(), _now()),
                )
            except sqlite3.IntegrityError:
                raise UserError(f"user {name!r} already exists") from None
        record = self.get(name)
        assert record is not None
        return record

    def _update(self, name: str, sql: str, values: tuple[object, ...]) -> None:
        with self._connect() as con:
            cur = con.execute(
                f"UPDATE users SET {sql}, updated=? WHERE name=?", (*values, _now(), name)
            )
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

    def set_es_credentials(
        self, name: str, *, username: str = "", password: str = "", api_key: str = ""
    ) -> None:
        """Per-user Elasticsearch credentials (an API key, or a username and password)."""
        self._update(
            name, "es_username=?, es_password=?, es_api_key=?", (username, password, api_key)
        )

    def authenticate(self, name: str, password: str) -> UserRecord | None:
        """The account if ``password`` is right and the account enabled, else None.

        Each attempt first counts itself as a failure (:meth:`_count_attempt`, one write
        transaction), and only then checks the password; a right password clears the count. So
        parallel guesses cannot all be checked before the lock-out: at most MAX_FAILURES are.
        Unknown names take the same path — a counted attempt and one Argon2 verification
        against a fixed hash — so neither response time nor lock-out tells which names exist.
        A centre's accounts (``centre.users.PgUserStore``) take this same path over their own
        :meth:`_count_attempt` and :meth:`_find`.
        """
        self._count_attempt(name, time.time())  # raises LockedOutError while locked out
        found = self._find(name)
        if found is None:
            self._verify_dummy(password)
            return None
        record, digest = found
        try:
            self._hasher.verify(digest, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return None
        if record.disabled:
            return None
        self.clear_failures(name)
        if self._hasher.check_needs_rehash(digest):
            self._update(name, "password_hash=?", (self._hasher.hash(password),))
        return record

    def _find(self, name: str) -> tuple[UserRecord, str] | None:
        """The account and its password hash, or None (also when there is no users file)."""
        if not self.path.exists():
            return None
        with self._connect() as con:
            return self._row(con, name)

    def _count_attempt(self, name: str, now: float) -> None:
        """Count one login attempt as a failure (BEGIN IMMEDIATE: attempts from several
        processes are counted one after another), or raise :class:`LockedOutError` while
        ``name`` is locked out. Without a users file there is nothing to count in."""
        if not self.path.exists():
            return
        with self._connect() as con:
            con.execute("BEGIN IMMEDIATE")
            try:
                lock = con.execute(
                    "SELECT count, locked_until FROM login_failures WHERE name=?", (name,)
                ).fetchone()
                if lock and lock[1] > now:
                    raise LockedOutError(name, lock[1] - now)
                count = (lock[0] if lock else 0) + 1
                until = 0.0
                if count >= MAX_FAILURES:
                    until = now + min(MAX_LOCK_SECONDS, LOCK_SECONDS * 2 ** (count - MAX_FAILURES))
                con.execute(
                    "INSERT INTO login_failures VALUES (?,?,?) ON CONFLICT(name) DO "
                    "UPDATE SET count=excluded.count, locked_until=excluded.locked_until",
                    (name, count, until),
                )
            finally:
                con.execute("COMMIT")

    def _verify_dummy(self, password: str) -> None:
        with contextlib.suppress(VerificationError, InvalidHashError):
            self._hasher.verify(_dummy_hash(self._hasher), password)

    def clear_failures(self, name: str) -> None:
        """Forget failed logins (after a right password, or when an administrator unlocks)."""
        with self._connect() as con:
            con.execute("DELETE FROM login_failures WHERE name=?", (name,))


@cache
def _dummy_hash(hasher: PasswordHasher) -> str:
    if hasher.check_needs_rehash(_DUMMY_HASH):  # other parameters: make one that matches
        return hasher.hash("not a password of anyone")
    return _DUMMY_HASH


# -- accounts fail closed ----------------------------------------------------------------------
def has_accounts(workspace: Workspace) -> bool:
    """Whether logins are required; refuses everyone when accounts have gone missing.

    "Accounts enabled" is recorded in the workspace's trust anchors (outside users.sqlite) when
    the first account is made. A workspace without that record and without accounts is a
    trial workspace (the OS user acts as administrator); one *with* it whose users file is
    missing, empty or unreadable raises :class:`core.security.AuthenticationError`.
    """
    from core.security import AuthenticationError

    store = _store_of(workspace)
    try:
        has = store.has_users()
    except UserError as exc:
        raise AuthenticationError(
            f"{exc}; every login is refused until it is restored "
            "(see 'Lost user accounts' in docs/SECURITY.md)"
        ) from None
    reading = workspace.trust.read()
    enabled = reading.claimed_accounts  # an unverifiable claim still fails closed
    if has and not enabled:
        workspace.audit.set_accounts_enabled()  # a workspace made before the anchors
    if not has and enabled:
        raise AuthenticationError(
            f"workspace {str(workspace.root)!r} has user accounts enabled, but "
            f"{str(store.path)!r} is missing or empty: every login is refused until it is "
            "restored from a backup (see 'Lost user accounts' in docs/SECURITY.md)"
        )
    return has


# -- guarded services (what the CLI and the console call) -----------------------------------------
def _store_of(workspace: Workspace) -> UserStore:
    return workspace.accounts


def _check_role(role: str) -> None:
    from core.security import default_roles

    if role not in default_roles().grants:
        raise UserError(f"unknown role {role!r}; one of {', '.join(default_roles().grants)}")


def _keep_an_administrator(
    store: UserStore, name: str, *, new_role: str | None = None, disabling: bool = False
) -> None:
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
        raise UserError(
            f"the first account must be an administrator, not {role!r} "
            "(otherwise nobody could manage users)"
        )
    record = store.add(name, role, password)
    workspace.audit.set_accounts_enabled()
    workspace.audit.append(
        session.user,
        "users.add",
        {
            "name": name,
            "role": role,
            "password_policy": "trial" if trial_passwords() else "standard",
        },
    )
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
    workspace.audit.append(
        session.user,
        "users.passwd",
        {"name": name, "password_policy": "trial" if trial_passwords() else "standard"},
    )


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
    workspace.audit.append(
        session.user, "users.enable" if enabled else "users.disable", {"name": name}
    )


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
    workspace.audit.append(
        session.user, "users.role", {"name": name, "role": role, "previous": before.role}
    )


def set_es_credentials(
    workspace: Workspace, name: str, *, username: str = "", password: str = "", api_key: str = ""
) -> None:
    """Store per-user Elasticsearch credentials (needs ``users.manage``; never audited in
    clear: the audit says which kind was set)."""
    from core.security import require

    session = require(workspace, "users.manage", target=name)
    if not (api_key or (username and password)):
        raise UserError(f"user {name!r}: give an API key, or a username and a password")
    _store_of(workspace).set_es_credentials(
        name, username=username, password=password, api_key=api_key
    )
    workspace.audit.append(
        session.user,
        "users.es_credentials",
        {"name": name, "kind": "api_key" if api_key else "basic", "es_username": username},
    )
