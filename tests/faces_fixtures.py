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
