"""Trust anchors: facts about a workspace kept *outside* the files they vouch for.

The audit log's hash chain shows an edited, inserted or reordered line, but not a removed tail,
a deleted file, or a file rewritten with recomputed hashes; and an emptied ``users.sqlite``
would look like a workspace that never had accounts. So the workspace keeps a small
:class:`TrustState` — the audit log's last sequence number and hash, and whether accounts are
enabled — in several *anchors*, each signed with an HMAC whose key is not in the workspace:

* :class:`SqliteAnchor`: a one-row table in the workspace's store (``store.sqlite``);
* :class:`FileAnchor`: a JSON file in the anchor folder outside the workspace
  (``$SUPERBRAIN_ANCHOR_DIR``, default ``~/.local/state/superbrain/anchors``), next to the key.

The anchors are behind the small :class:`TrustAnchor` interface (``read``/``write``), so a
centre server can add its own (a row in PostgreSQL) without touching the audit code.
:class:`Trust` reads them all and reports any that is missing, forged or disagreeing.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import logging
import os
import secrets
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Protocol

from core.errors import StoreError, SuperbrainError

log = logging.getLogger(__name__)

GENESIS = "0" * 64
ANCHOR_DIR_ENV = "SUPERBRAIN_ANCHOR_DIR"


class AnchorError(SuperbrainError):
    """An anchor cannot be read or its signature does not match (names the anchor).

    ``claimed`` is what the anchor holds when it could be decoded but not verified (a moved
    workspace whose key is elsewhere, or a forgery): never trusted as history, but enough to
    fail closed (refuse appends, keep accounts required) until ``audit repair``."""

    def __init__(self, message: str, claimed: TrustState | None = None) -> None:
        super().__init__(message)
        self.claimed = claimed


@dataclass(frozen=True)
class TrustState:
    """What the anchors vouch for.

    Attributes
    ----------
    audit_seq, audit_hash:
        Sequence number and hash of the newest audit entry (0 and the genesis hash: none yet).
    accounts:
        True once the workspace has had a user account: from then on a missing or empty
        users file refuses every login instead of making everybody an administrator.
    """

    audit_seq: int = 0
    audit_hash: str = GENESIS
    accounts: bool = False


class TrustAnchor(Protocol):
    """Somewhere a :class:`TrustState` is kept; ``read`` gives None when nothing is stored
    yet and raises :class:`AnchorError` when what is stored is damaged or forged."""

    name: str

    def read(self) -> TrustState | None: ...

    def write(self, state: TrustState) -> None: ...


def anchor_dir() -> Path:
    """The folder (outside any workspace) holding anchor keys and file anchors."""
    raw = os.environ.get(ANCHOR_DIR_ENV)
    if raw:
        return Path(raw)
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "superbrain" / "anchors"


def workspace_id(root: Path) -> str:
    """A stable name for a workspace folder in the anchor folder."""
    raw = str(Path(root).resolve()).encode("utf-8", "surrogatepass")
    return hashlib.sha256(raw).hexdigest()[:24]


class AnchorKey:
    """The HMAC key of one workspace, in a 0600 file (created on first use)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._key: bytes | None = None

    def exists(self) -> bool:
        return self.path.exists()

    def get(self, *, create: bool) -> bytes | None:
        if self._key is None:
            if self.path.exists():
                raw = self.path.read_bytes().strip()
                if len(raw) < 32:
                    raise AnchorError(f"{str(self.path)!r}: anchor key is damaged (too short)")
                self._key = raw
            elif create:
                self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "wb") as fh:
                    fh.write(secrets.token_hex(32).encode())
                self._key = self.path.read_bytes().strip()
        return self._key

    def sign(self, state: TrustState, *, create: bool = True) -> str:
        key = self.get(create=create)
        if key is None:
            raise AnchorError(f"{str(self.path)!r}: anchor key is missing")
        body = json.dumps(asdict(state), sort_keys=True).encode()
        return hmac.new(key, body, hashlib.sha256).hexdigest()


def _decode(where: str, raw: str, mac: str, key: AnchorKey) -> TrustState:
    try:
        data = json.loads(raw)
        state = TrustState(int(data["audit_seq"]), str(data["audit_hash"]), bool(data["accounts"]))
    except (ValueError, KeyError, TypeError) as exc:
        raise AnchorError(f"{where}: damaged ({exc})") from None
    if not key.exists():
        raise AnchorError(
            f"{where}: cannot be checked: the anchor key {str(key.path)!r} is "
            "missing (workspace moved or copied, or key deleted)",
            state,
        )
    if not hmac.compare_digest(mac, key.sign(state, create=False)):
        raise AnchorError(
            f"{where}: signature does not match (edited, or signed with another key)", state
        )
    return state


class SqliteAnchor:
    """The state in a one-row table of an SQLite file (the workspace's store)."""

    def __init__(self, db_path: Path, key: AnchorKey) -> None:
        self.path, self.key = Path(db_path), key
        self.name = f"store {str(self.path)!r}"

    @contextlib.contextmanager
    def _con(self) -> Iterator[sqlite3.Connection]:
        con = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            # The store runs in WAL mode: NORMAL skips the fsync per commit. A power cut can
            # only leave this anchor one entry behind the log, which verify accepts.
            con.execute("PRAGMA synchronous=NORMAL")
            con.execute(
                "CREATE TABLE IF NOT EXISTS trust_anchor (id INTEGER PRIMARY KEY "
                "CHECK (id = 1), state TEXT NOT NULL, mac TEXT NOT NULL)"
            )
            yield con
        finally:
            con.close()

    def read(self) -> TrustState | None:
        if not self.path.exists():
            return None
        try:
            with self._con() as con:
                row = con.execute("SELECT state, mac FROM trust_anchor WHERE id=1").fetchone()
        except sqlite3.Error as exc:  # the store itself is damaged: a storage problem
            from core.store import storage_problem

            raise StoreError(storage_problem(self.path, exc)) from None
        return None if row is None else _decode(self.name, row[0], row[1], self.key)

    def write(self, state: TrustState) -> None:
        body = json.dumps(asdict(state), sort_keys=True)
        with self._con() as con:
            con.execute(
                "INSERT INTO trust_anchor VALUES (1, ?, ?) ON CONFLICT(id) DO UPDATE "
                "SET state=excluded.state, mac=excluded.mac",
                (body, self.key.sign(state)),
            )


class FileAnchor:
    """The state in a JSON file, replaced atomically."""

    def __init__(self, path: Path, key: AnchorKey, root: Path) -> None:
        self.path, self.key, self.root = Path(path), key, root
        self.name = f"anchor file {str(self.path)!r}"

    def read(self) -> TrustState | None:
        if not self.path.exists():
            return None
        try:
            data = json.loads(self.path.read_text("utf-8"))
            return _decode(self.name, json.dumps(data["state"]), str(data["mac"]), self.key)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise AnchorError(f"{self.name}: damaged ({exc})") from None

    def write(self, state: TrustState) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(
                {"workspace": str(self.root), "state": asdict(state), "mac": self.key.sign(state)},
                fh,
            )
            fh.flush()
            os.fsync(fh.fileno())  # a torn anchor would stop appends until `audit repair`
        os.replace(tmp, self.path)


@dataclass(frozen=True)
class AnchorReading:
    """The newest state any valid anchor holds, and what is wrong with the others.

    ``unverified``: some anchor exists but is damaged or cannot be verified — appends refuse
    until ``audit repair``; ``claimed_accounts``: any anchor, verified or not, says accounts
    are enabled (a fail-closed decision may rely on an unverified claim, never a fail-open)."""

    state: TrustState | None
    problems: tuple[str, ...]
    unverified: bool = False
    claimed_accounts: bool = False
    storage: tuple[str, ...] = ()  # anchors whose storage is damaged (e.g. the store file)


class Trust:
    """Reads and updates every anchor of one workspace together."""

    def __init__(self, anchors: Sequence[TrustAnchor]) -> None:
        self.anchors = list(anchors)

    @classmethod
    def for_workspace(cls, root: Path, store_path: Path) -> Trust:
        folder = anchor_dir()
        wid = workspace_id(root)
        key = AnchorKey(folder / f"{wid}.key")
        return cls([SqliteAnchor(store_path, key), FileAnchor(folder / f"{wid}.json", key, root)])

    def read(self) -> AnchorReading:
        """Every anchor's state; the newest valid one wins, the others' faults are listed."""
        states: list[tuple[str, TrustState | None]] = []
        problems: list[str] = []
        claimed = False
        storage: list[str] = []
        for anchor in self.anchors:
            try:
                states.append((anchor.name, anchor.read()))
            except StoreError as exc:
                storage.append(str(exc))
                problems.append(f"{anchor.name}: cannot be read: {exc}")
            except (AnchorError, OSError) as exc:
                problems.append(str(exc))
                claim = getattr(exc, "claimed", None)
                claimed = claimed or bool(claim and claim.accounts)
        unverified = bool(problems)
        found = [s for _, s in states if s is not None]
        if not found:
            return AnchorReading(None, tuple(problems), unverified, claimed, tuple(storage))
        best = max(found, key=lambda s: (s.audit_seq, s.accounts))
        accounts = any(s.accounts for s in found)
        best = replace(best, accounts=accounts)
        for name, s in states:
            if s is None:
                problems.append(
                    f"{name}: missing (another anchor records audit entry {best.audit_seq})"
                )
        return AnchorReading(best, tuple(problems), unverified, claimed or accounts, tuple(storage))

    def state(self) -> TrustState:
        """The newest valid state (an empty one when no anchor holds any)."""
        return self.read().state or TrustState()

    def write(self, state: TrustState) -> None:
        """Store ``state`` in every anchor; one that cannot be written is logged, not fatal
        (the others still hold it, and ``audit verify`` reports the one left behind)."""
        for anchor in self.anchors:
            try:
                anchor.write(state)
            except (AnchorError, OSError, sqlite3.Error) as exc:
                log.warning("trust anchor %s not updated: %s", anchor.name, exc)
