"""Print an HTML file to PDF with Qt WebEngine (Chromium's print-to-PDF), offline.

Run as a child process by :mod:`cases.render` (``python -m console.pdf_render IN.html OUT.pdf``)
so that the case services, the CLI and the centre server need no Qt event loop of their own, and
a page that hangs can be killed by a timeout. JavaScript and network access are off: the
dossier is self-contained HTML with inline SVG. Exit code 0 and a PDF at OUT, or 1 and a reason
on stderr.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def render(html_path: Path, pdf_path: Path) -> bool:
    """Load ``html_path`` offscreen and print it to ``pdf_path`` (A4); True on success."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from console import qtinit
    from console.qtnone import present

    qtinit.prepare()
    from PyQt6.QtCore import QMarginsF, QUrl
    from PyQt6.QtGui import QPageLayout, QPageSize
    from PyQt6.QtWebEngineCore import QWebEnginePage, QWebEngineSettings
    from PyQt6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    page = QWebEnginePage()
    settings = present(page.settings())
    settings.setAttribute(QWebEngineSettings.WebAttribute.JavascriptEnabled, False)
    settings.setAttribute(QWebEngineSettings.WebAttribute.LocalContentCanAccessRemoteUrls, False)
    settings.setAttribute(QWebEngineSettings.WebAttribute.AutoLoadImages, True)
    outcome = {"ok": False}
    layout = QPageLayout(
        QPageSize(QPageSize.PageSizeId.A4),
        QPageLayout.Orientation.Portrait,
        QMarginsF(14, 18, 14, 16),
        QPageLayout.Unit.Millimeter,
    )

    def loaded(ok: bool) -> None:
        if not ok:
            print(f"{str(html_path)!r}: the page did not load", file=sys.stderr)
            app.quit()
            return
        page.printToPdf(str(pdf_path), layout)

    def printed(path: str, ok: bool) -> None:
        outcome["ok"] = ok
        if not ok:
            print(f"{path!r}: printing to PDF failed", file=sys.stderr)
        app.quit()

    page.loadFinished.connect(loaded)
    page.pdfPrintingFinished.connect(printed)
    page.load(QUrl.fromLocalFile(str(html_path.resolve())))
    app.exec()
    return bool(outcome["ok"]) and pdf_path.exists()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m console.pdf_render IN.html OUT.pdf", file=sys.stderr)
        return 2
    return 0 if render(Path(args[0]), Path(args[1])) else 1


if __name__ == "__main__":
    sys.exit(main())
