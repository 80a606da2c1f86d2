"""The evaluation dashboard on a centre: a real `superbrain serve` on PostgreSQL, holding the
migrated tiny demo, computes the same indicators as the embedded workspace it came from
(refusals are tested on a workspace, test_ops_evaluation.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.remote import CentreClient
from tests.centre_fixtures import (  # noqa: F401 - fixtures
    PASSWORDS,
    Centre,
    centre,
    copy_workspace,
    tiny_demo,
)

pytestmark = pytest.mark.timeout(300)


def test_a_centre_evaluates_like_the_workspace_it_was_migrated_from(
    centre: Centre,
    tiny_demo: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from core.workspace import Workspace
    from ops.service import OpsService

    monkeypatch.setenv("SUPERBRAIN_USER", "tester")
    local = OpsService(Workspace.open(copy_workspace(tiny_demo, tmp_path / "ws")))
    expected = local.evaluate(None, 13)
    client = CentreClient(centre.url, timeout=120)
    client.login("li", PASSWORDS["li"])  # an analyst: ops.read
    got = client.call("ops.evaluate", month=expected["month"], months=13)
    assert got["months"] == expected["months"] and got["districts"] == expected["districts"]
    assert len(got["indicators"]) == 12
    for mine, theirs in zip(expected["indicators"], got["indicators"], strict=True):
        assert theirs["id"] == mine["id"]
        assert theirs["cells"] == mine["cells"], mine["id"]
        assert theirs["series"] == mine["series"], mine["id"]
    # the demo's history gives the newest complete month a year before, on the centre too
    assert all(ind["cells"]["all"]["previous"] is not None for ind in got["indicators"])
