"""Issue #20: unit positions reach the dispatch board by push, never by polling.

Local mode: a position fix recorded by this process (a GPS plugin, ``ops.position``) is pushed
to the board by the engine's in-process bus; the unit's row and map marker move in place
within a second, without a reload. A burst of fixes (200 units) is shown as one batch. Stale
marking follows the fix's own time. (The centre's push: tests/test_field_console.py.)
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from tests.console_fixtures import ctx, demo_root, qtinit  # noqa: F401

pytestmark = pytest.mark.gui

WAIT = 60_000
PUSH_BUDGET_S = 1.0


@pytest.fixture
def board(qtbot: Any, ctx: Any) -> Any:
    from console.bus import Bus
    from console.dispatch_panel import DispatchPanel

    panel = DispatchPanel(ctx, Bus())
    qtbot.addWidget(panel)
    if not hasattr(panel, "units"):
        pytest.skip("ops engine not importable here")
    with qtbot.waitSignal(panel.loaded, timeout=WAIT):
        pass
    panel.poller.stop()  # nothing but the push may move the board in these tests
    yield panel
    panel.shutdown()


def _row(panel: Any, unit_id: str) -> Any:
    return next(u for u in panel.units_model.units if u.id == unit_id)


def test_a_fix_recorded_in_this_process_moves_the_unit_on_the_board_within_a_second(
    qtbot: Any,
    ctx: Any,
    board: Any,
) -> None:
    unit = board.units_model.units[0].id
    reloads = board._reloads
    lat, lon = 30.7777, 120.7555
    sent: list[float] = []

    def gps() -> None:  # another thread, as a GPS plugin's would be
        sent.append(time.monotonic())
        ctx.engines.ops_position(unit_id=unit, lat=lat, lon=lon)

    thread = threading.Thread(target=gps)
    thread.start()
    qtbot.waitUntil(lambda: _row(board, unit).lat == pytest.approx(lat), timeout=10_000)
    delay = time.monotonic() - sent[0]
    thread.join()
    assert delay < PUSH_BUDGET_S, f"the board showed the fix {delay:.3f} s later"
    point = next(p for p in board.unit_points if p["id"] == unit)
    assert (point["lat"], point["lon"], point["stale"]) == (
        pytest.approx(lat),
        pytest.approx(lon),
        False,
    )
    assert board._reloads == reloads, "the fix moved the unit in place, without a reload"
    column = board.units_model.columnCount() - 1
    row = board.units_model.units.index(_row(board, unit))
    assert "(stale)" not in board.units_model.index(row, column).data()


def test_a_burst_of_fixes_for_every_unit_is_shown_as_one_batch_and_old_fixes_are_stale(
    qtbot: Any, board: Any
) -> None:
    units = [u.id for u in board.units_model.units]
    now = time.time()
    stale_s = board.units_model.stale_after_s
    shown: list[int] = []
    board.positions_shown.connect(shown.append)
    # every unit reports 10 times within one flush (200 units every 10 s is 20 a second)
    for i in range(10):
        for n, unit in enumerate(units):
            board.push_position(
                {"unit_id": unit, "lat": 30.70 + n * 0.001 + i * 1e-5, "lon": 120.70, "at": now + i}
            )
    old = units[0]  # its newest fix is older than the stale limit
    board.push_position({"unit_id": old, "lat": 30.6, "lon": 120.6, "at": now + 20})
    qtbot.waitUntil(lambda: bool(shown), timeout=5_000)
    qtbot.wait(2 * 400)
    assert shown == [len(units)], "one batch, every unit moved once"
    assert board.fixes.received == 10 * len(units) + 1
    assert _row(board, units[1]).lat == pytest.approx(30.701 + 9e-5)  # the newest fix won
    # a fix older than the one shown does not move the unit back
    board.push_position({"unit_id": units[1], "lat": 1.0, "lon": 1.0, "at": now - 5})
    board.push_position({"unit_id": "nope", "lat": "x"})  # malformed: dropped
    qtbot.waitUntil(lambda: len(shown) == 2, timeout=5_000)
    assert shown[-1] == 0 and _row(board, units[1]).lat == pytest.approx(30.701 + 9e-5)
    # staleness follows each fix's own time
    from console.opsview import unit_points

    later = now + 20 + stale_s - 1
    points = {p["id"]: p for p in unit_points(board.units_model.units, stale_s, now=later)}
    assert points[old]["stale"] is False  # its fix was at now + 20
    assert points[units[1]]["stale"] is True  # its newest was at now + 9
    assert {p["id"] for p in board.unit_points if not p["stale"]} >= set(units)


def test_the_follow_up_reads_in_chinese_and_keeps_submitted_text_as_it_came(qapp: Any) -> None:
    """The follow-up's own words are translated in a zh_CN console; the unit's notes and the
    citizen's comment (data) are shown exactly as submitted, markup included."""
    from console.i18n import install_translator
    from console.incident_followup import followup_text, owner_label
    from tests.zh_walk import english_words

    payload = '<b onmouseover="x()">粗</b>'
    data = {
        "incident_id": 7,
        "feedback": [
            {
                "unit_id": "南湖01",
                "account": "设备一",
                "ts": 1.0,
                "outcome": "false_alarm",
                "notes": "现场无人 " + payload,
                "photos": [{"id": 3}],
            }
        ],
        "citizen": [
            {
                "code": "一二三",
                "rating": 2,
                "rating_note": "太慢 " + payload,
                "rated_at": 2.0,
                "photos": [],
            },
            {"code": "四五六", "rating": None, "rating_note": "", "photos": []},
        ],
    }

    def local(_epoch: Any) -> str:
        return "2026-12-06 17:45"

    english = followup_text(data, local)
    assert "false alarm" in english and "★★☆☆☆ 2/5" in english and "not rated yet" in english
    assert english.count(payload) == 2
    translator = install_translator(qapp, "zh_CN")
    assert translator is not None
    try:
        chinese = followup_text(data, local)
        assert english_words(chinese.replace(payload, "")) == [], chinese
        assert chinese.count(payload) == 2 and "误报" in chinese and "尚未评价" in chinese
        assert english_words(owner_label("field:12") + owner_label("report:一二三")) == []
        assert followup_text({"feedback": [], "citizen": []}, local) == "暂无反馈、照片或评价。"
    finally:
        qapp.removeTranslator(translator)
