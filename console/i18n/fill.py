"""Fill ``superbrain_zh_CN.ts`` from :data:`console.i18n.strings_zh_cn.ZH_CN`; list gaps.

python -m console.i18n.fill && /usr/lib/qt6/bin/lrelease console/i18n/superbrain_zh_CN.ts
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET

from console.i18n import I18N_DIR
from console.i18n.strings_zh_cn import ZH_CN


def fill(path: str = str(I18N_DIR / "superbrain_zh_CN.ts")) -> list[str]:
    """Write the translations into the .ts file; returns the sources left untranslated."""
    tree = ET.parse(path)
    missing = []
    for message in tree.iter("message"):
        source = message.findtext("source") or ""
        translation = message.find("translation")
        if translation is None:
            translation = ET.SubElement(message, "translation")
        if source in ZH_CN:
            translation.text = ZH_CN[source]
            translation.attrib.pop("type", None)
        else:
            missing.append(source)
    tree.getroot().set("language", "zh_CN")
    tree.write(path, encoding="utf-8", xml_declaration=True)
    return missing


if __name__ == "__main__":
    left = fill()
    for source in left:
        print(f"untranslated: {source!r}", file=sys.stderr)
    sys.exit(1 if left else 0)
