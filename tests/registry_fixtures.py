"""The clean extension registry: only superbrain's own entry points, and nothing a test
registers outlives it.

Loaded for every test module through ``pytest_plugins`` in tests/conftest.py. A test that
discovers sources, services, commands or panels with ``clean_registry`` sees exactly the
built-ins: packages that happen to be installed on the machine (someone's plugin, an example
installed by another test) are hidden, and services registered during the test are forgotten.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Iterator

import pytest

OWN_DISTRIBUTION = "superbrain"


def _own_entry_points(**params: str) -> importlib.metadata.EntryPoints:
    every = importlib.metadata.entry_points(**params)
    return importlib.metadata.EntryPoints(
        ep for ep in every if ep.dist is not None and ep.dist.name == OWN_DISTRIBUTION
    )


@pytest.fixture
def clean_registry(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Discovery sees superbrain's own entry points only; the service registry is restored."""
    import core.extensions
    import core.services
    import plugins.registry

    monkeypatch.setattr(core.extensions, "entry_points", _own_entry_points)
    monkeypatch.setattr(plugins.registry, "entry_points", _own_entry_points)
    saved = dict(core.services._REGISTRY), core.services._LOADED
    try:
        yield
    finally:
        core.services._REGISTRY.clear()
        core.services._REGISTRY.update(saved[0])
        core.services._LOADED = saved[1]
