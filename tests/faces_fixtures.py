"""Helpers shared by the face index tests (no photos needed)."""

from __future__ import annotations

import numpy as np


def descriptor_like(n: int, seed: int) -> np.ndarray:
    """Unit vectors in a cone spanning ~40 dimensions, as dlib face descriptors do."""
    rng = np.random.default_rng(seed)
    basis = np.random.default_rng(99).normal(size=(41, 128))
    v = basis[0] + rng.normal(size=(n, 40)) @ basis[1:] * 0.08
    v = v.astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


#: The case numbers the face tests name: a face search must name a case of the workspace that
#: the searching user is a member of (docs/CASES.md).
FACE_CASES = (
    "2026-FT-0000",
    "2026-FT-0001",
    "2026-FT-0002",
    "2026-FT-0003",
    "2026-FT-0004",
    "2026-FT-0005",
    "2026-FT-0007",
    "2026-FT-0008",
    "2026-FT-0009",
    "2026-FT-0011",
    "2026-FT-0017",
    "2026-FT-0018",
    "2026-FT-0021",
    "2026-FT-0022",
    "2026-FT-0101",
)


def open_cases(workspace: object, *members: str, numbers: tuple[str, ...] = FACE_CASES) -> None:
    """Open ``numbers`` in ``workspace``, led by its acting user, with ``members`` as
    contributors (cases already open are left as they are)."""
    import cases.api  # noqa: F401 - registers the case services
    from cases.errors import CaseConflictError
    from core.services import call, local_context

    ctx = local_context(workspace)  # type: ignore[arg-type]
    for number in numbers:
        try:
            call("cases.create", ctx, case=number, title="face tests")
        except CaseConflictError:
            continue
        for member in members:
            call("cases.member_set", ctx, case=number, member=member, role="contributor")
