"""Every case service works on a centre: the case service, dossier and hand-over tests
(tests/test_cases_service.py, test_cases_dossier.py, test_cases_handover.py) run unchanged on a
centre-backed workspace (PostgreSQL), as they run on a workspace folder. (The hand-over tests
import into a fresh workspace folder: a case moves from a centre to a laptop and back.)

Real parts: a PostgreSQL database of each test's own (see tests/centre_support.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from centre_support import fresh_database, pg_server_url, write_centre

# The same tests, collected here a second time with ``workspace`` below (a centre).
from tests.test_cases_dossier import *  # noqa: F403
from tests.test_cases_handover import *  # noqa: F403
from tests.test_cases_service import *  # noqa: F403

pytestmark = pytest.mark.timeout(300)


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A fresh centre (its own PostgreSQL database) in place of a workspace folder."""
    from centre.workspace import open_centre

    monkeypatch.setenv("SUPERBRAIN_USER", "tester")
    gen = fresh_database(pg_server_url())
    database = next(gen)
    ws = open_centre(write_centre(tmp_path / "centre", database))
    try:
        yield ws
    finally:
        ws.close()
        gen.close()


@pytest.fixture
def reopen() -> Any:
    """Open the centre again (a new process would: from its centre.toml)."""
    from centre.workspace import open_centre

    return lambda ws: open_centre(ws.centre.path)


def test_the_centre_tests_run_on_a_centre(workspace: Any) -> None:
    """The fixture above really is a centre (the tests above would otherwise prove nothing)."""
    from centre.store import PgStore

    assert isinstance(workspace.store, PgStore)
