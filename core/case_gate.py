"""The case gate: may this user act under this case number?

Engines that take a case number (face search and verification, graph exports) ask here; the
answer comes from the package that keeps case files, registered in the ``superbrain.case_gate``
entry-point group (``cases.access:gate``), so no engine imports ``cases`` (the layers in
docs/ARCHITECTURE.md). Without any gate installed, a case number cannot be checked and is
refused: fail closed.
"""

from __future__ import annotations

from typing import Any

from core.errors import CaseRefusedError
from core.extensions import CASE_GATE, extensions


def require_case_member(workspace: Any, number: str, user: str, action: str) -> None:
    """Raise :class:`~core.errors.CaseRefusedError` (a subclass, audited by the gate) unless
    case ``number`` exists in ``workspace`` and ``user`` is a member; ``action`` names what
    was asked (e.g. ``face.search``, ``graph.export``) for the audit entry of a refusal."""
    gates = extensions(CASE_GATE)
    if not gates:
        raise CaseRefusedError(
            f"case {number!r} cannot be checked: no case registry is "
            "installed (the cases package); refused"
        )
    gates[0].load()(workspace, number, user, action)
