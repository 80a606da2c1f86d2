"""Helpers shared by tests/test_trust_*.py (imported explicitly): a workspace with one account
per role, and the same workspace opened as one of them."""

from __future__ import annotations

from core.users import add_user
from core.workspace import Workspace

PASSWORDS = {
    "root": "admin-Kestrel-41",
    "ana": "analyst-Heron-27",
    "sup": "supervisor-Owl-63",
    "cmd": "commander-Crane-85",
}
ROLES = {"root": "administrator", "ana": "analyst", "sup": "supervisor", "cmd": "commander"}


def staff(workspace: Workspace) -> Workspace:
    """Add an administrator (root), an analyst (ana), a supervisor (sup), a commander (cmd)."""
    add_user(workspace, "root", "administrator", PASSWORDS["root"])
    workspace.login("root", PASSWORDS["root"])
    for name in ("ana", "sup", "cmd"):
        add_user(workspace, name, ROLES[name], PASSWORDS[name])
    return workspace


def as_user(ws: Workspace, user: str) -> Workspace:
    """The same workspace folder opened again, logged in as ``user``."""
    other = Workspace.open(ws.root)
    other.login(user, PASSWORDS[user])
    return other
