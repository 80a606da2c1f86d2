"""The console in Simplified Chinese: every panel of the main window is walked and any visible
English word that is not data fails the test (issue #15, "Chinese and face safeguards")."""

from __future__ import annotations

import pytest

from tests.console_fixtures import ctx, demo_root, drain, settings  # noqa: F401 - fixtures
from tests.zh_walk import english_words, visible_texts

pytestmark = [pytest.mark.gui, pytest.mark.usefixtures("drain")]

PANELS = (
    "graph",
    "map",
    "timeline",
    "dashboard",
    "evaluation",
    "faces",
    "dispatch",
    "search",
    "records",
    "alerts",
    "plugins",
)


def test_english_words_ignores_names_and_query_syntax() -> None:
    assert english_words("检索（Ctrl+K），例如 入室盗窃 source:incidents") == []
    assert english_words("导出 PNG… GraphML…") == []
    assert english_words("Open a photo") == ["Open", "photo"]


def test_every_panel_of_the_main_window_is_chinese_in_zh_cn(qtbot, qapp, ctx, settings) -> None:
    from console.i18n import install_translator
    from console.mainwindow import MainWindow

    translator = install_translator(qapp, "zh_CN")
    assert translator is not None
    qapp._superbrain_language = "zh_CN"
    try:
        window = MainWindow(ctx, settings)
        qtbot.addWidget(window)
        window.resize(1600, 960)
        window.show()
        english: dict[str, str] = {}
        for key in PANELS:
            window.show_panel(key)
            qtbot.wait(800)
            for where, text in visible_texts(window):
                for word in english_words(text):
                    english.setdefault(word, f"{key}: {where}: {text[:80]!r}")
        assert english == {}
    finally:
        qapp.removeTranslator(translator)
        qapp._superbrain_language = "en"
