"""The console's evaluation dashboard (issue #15): indicators × districts for a month with
year-on-year arrows coloured by direction, and the trend of the selected indicator."""

from __future__ import annotations

import pytest

from tests.console_fixtures import ctx, demo_root, drain, settings  # noqa: F401 - fixtures

pytestmark = [pytest.mark.gui, pytest.mark.usefixtures("drain")]

WAIT = 30_000  # ms; a slow shared CI machine


def test_change_text_and_numbers() -> None:
    from console.evaluation_panel import change_text, number

    assert change_text({"yoy_delta": -0.64, "yoy_pct": -10.4}) == "▼10%"
    assert change_text({"yoy_delta": 0.2, "yoy_pct": 4.44}) == "▲4.4%"
    assert change_text({"yoy_delta": 2.0, "yoy_pct": None}) == "▲2"  # a year before was 0
    assert change_text({"yoy_delta": 0.0, "yoy_pct": 0.0}) == "=0.0%"
    assert change_text({"yoy_delta": None, "yoy_pct": None}) == ""
    assert number(None) == "–" and number(1234.6) == "1,235" and number(3.0) == "3"
    assert number(21.35) == "21.4" and number(0.048) == "0.05" and number(100.0) == "100"


def _panel(qtbot, ctx):
    from console.bus import Bus
    from console.evaluation_panel import EvaluationPanel

    panel = EvaluationPanel(ctx, Bus())
    qtbot.addWidget(panel)
    panel.resize(1400, 900)
    panel.show()
    qtbot.waitUntil(lambda: panel.model.rowCount() == 12, timeout=WAIT)
    return panel


def test_panel_shows_every_indicator_by_district_with_coloured_arrows(qtbot, ctx) -> None:
    from PyQt6.QtCore import Qt

    from console.evaluation_panel import BETTER, WORSE

    panel = _panel(qtbot, ctx)
    data = ctx.engines.ops_evaluate(months=13)  # what the service says, as the analyst
    model = panel.model
    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    assert headers == ["Indicator", *data["districts"][:-1], "All districts"]
    assert panel.month.currentText() == data["month"]
    seen = {True: 0, False: 0}
    for row, ind in enumerate(data["indicators"]):
        assert model.data(model.index(row, 0)) == f"{ind['label']} ({ind['unit']})"
        for col, district in enumerate(data["districts"], start=1):
            cell = ind["cells"][district]
            text = model.data(model.index(row, col))
            colour = model.data(model.index(row, col), Qt.ItemDataRole.ForegroundRole)
            if cell["value"] is None:
                assert text.startswith("–")
            if cell["better"] is None:
                assert colour is None
            else:
                seen[cell["better"]] += 1
                assert colour.name() == (BETTER if cell["better"] else WORSE)
                assert ("▲" in text) == (cell["yoy_delta"] > 0)
    assert seen[True] and seen[False]  # the demo's history has gains and losses
    # the newest complete month has a year before in the demo's history: real YoY values
    assert all(ind["cells"]["all"]["yoy_delta"] is not None for ind in data["indicators"])


def test_selecting_a_cell_draws_its_trend_and_another_month_reloads(qtbot, ctx) -> None:
    panel = _panel(qtbot, ctx)
    model = panel.model
    row = next(i for i, ind in enumerate(model.indicators) if ind["id"] == "response_p90")
    panel.table.setCurrentIndex(model.index(row, 1))
    ind, district = panel.selected()
    assert ind["id"] == "response_p90" and district == model.districts[0]
    curves = panel.trend.getPlotItem().listDataItems()
    assert len(curves) == 2  # all districts and the selected one
    ys = [list(c.getData()[1]) for c in curves]
    expected = [v if v is not None else float("nan") for v in ind["series"][district]]
    assert len(ys[1]) == 13
    assert [round(v, 4) for v in ys[1] if v == v] == [v for v in expected if v == v]
    older = panel.data["months"][0]
    panel.month.setCurrentText(older)
    panel.refresh(older)
    qtbot.waitUntil(lambda: panel.data["month"] == older, timeout=WAIT)
    assert panel.table.currentIndex().row() == row  # the selection survives the reload
    assert panel.data["months"][-1] == older


def test_the_panel_is_registered_with_a_shortcut() -> None:
    from console.mainwindow import PANELS

    spec = next(p for p in PANELS if p.key == "evaluation")
    assert spec.title == "Evaluation" and spec.place == "tab" and spec.shortcut == "Ctrl+Shift+E"
