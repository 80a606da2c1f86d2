"""The console's UI translations: ``superbrain_<lang>.ts`` (source) and ``.qm`` (compiled).

pylupdate6 console/*.py --ts console/i18n/superbrain_zh_CN.ts     # collect strings
python -m console.i18n.fill                                      # fill zh_CN (strings_zh_cn)
/usr/lib/qt6/bin/lrelease console/i18n/superbrain_zh_CN.ts      # compile (qt6-l10n-tools)
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

I18N_DIR = Path(__file__).resolve().parent

#: UI languages offered in View → Language (code → name in that language).
LANGUAGES = {"en": "English", "zh_CN": "简体中文"}


def install_translator(app: Any, language: str) -> Any | None:
    """Load and install the translation for ``language`` ("en" needs none); returns it."""
    if language in ("", "en"):
        return None
    from PyQt6.QtCore import QTranslator

    translator = QTranslator(app)
    path = I18N_DIR / f"superbrain_{language}.qm"
    if not translator.load(str(path)):
        log.warning("%s: translation not found or unreadable; the UI stays in English", path)
        return None
    app.installTranslator(translator)
    return translator


def choose_language(saved: str | None, system_locale: str) -> str:
    """The saved choice, else Chinese on a Chinese system, else English."""
    if saved in LANGUAGES:
        return str(saved)
    return "zh_CN" if system_locale.startswith("zh") else "en"


def fill(template: str, **values: Any) -> str:
    """Put ``values`` into a translated ``template``'s ``{name}`` slots (``self.tr("{n} hits")``
    then ``fill(…, n=…)``): translators move the slots, and braces inside values are safe."""
    for name, value in values.items():
        template = template.replace("{" + name + "}", str(value))
    return template


def count(n: int, one: str, many: str) -> str:
    """``n`` things in a translated template: ``one`` ("{n} entity") when ``n`` is 1, else
    ``many`` ("{n} entities"); never "1 entities"."""
    return fill(one if n == 1 else many, n=f"{n:,}")


def current_language() -> str:
    """The UI language the running application was started in ("en" or "zh_CN")."""
    from PyQt6.QtCore import QCoreApplication

    return str(getattr(QCoreApplication.instance(), "_superbrain_language", "") or "en")
