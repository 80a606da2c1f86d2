"""Write the dossier: HTML as is, PDF by Qt WebEngine's print-to-PDF in a child process.

Why Qt WebEngine: it is already a dependency of the console (the map), it renders the very HTML
the HTML export writes (one template, one look), it lays out Chinese text with the system's CJK
fonts and embeds them, and it needs no network. It runs as ``python -m console.pdf_render`` in
a child process, so this package stays free of Qt, a caller without a Qt event loop (the CLI,
the centre server) can use it, and a render that hangs is killed after ``timeout`` seconds.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from cases.errors import CaseError

REPO = Path(__file__).resolve().parent.parent


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def write_html(html: str, out: Path) -> None:
    """Write ``html`` to ``out`` atomically (a temporary file renamed into place)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    tmp.write_text(html, encoding="utf-8")
    os.replace(tmp, out)


def write_pdf(html: str, out: Path, *, timeout: float = 180.0) -> None:
    """Print ``html`` to the PDF ``out`` (atomically); :class:`CaseError` with the renderer's
    reason when it fails or takes longer than ``timeout`` seconds."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="superbrain-dossier-") as tmp:
        page = Path(tmp) / "dossier.html"
        page.write_text(html, encoding="utf-8")
        pdf = Path(tmp) / "dossier.pdf"
        env = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen")}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH", "")]))
        try:
            done = subprocess.run(
                [sys.executable, "-m", "console.pdf_render", str(page), str(pdf)],
                capture_output=True,
                text=True,
                timeout=timeout,
                env=env,
                cwd=tmp,
            )
        except subprocess.TimeoutExpired:
            raise CaseError(
                f"{str(out)!r}: the PDF renderer took longer than {timeout:.0f} s and was stopped"
            ) from None
        if done.returncode != 0 or not pdf.exists() or pdf.read_bytes()[:5] != b"%PDF-":
            tail = (done.stderr or "").strip().splitlines()[-5:]
            raise CaseError(
                f"{str(out)!r}: the PDF renderer failed (exit {done.returncode}): "
                + " | ".join(tail)
            )
        tmp_out = out.with_name(out.name + ".part")
        tmp_out.write_bytes(pdf.read_bytes())
        os.replace(tmp_out, out)
