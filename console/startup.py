"""What ``superbrain`` (or ``python main.py``) with no arguments opens.

The last workspace the console had open; else the default workspace (``$SUPERBRAIN_WORKSPACE``
or ``./workspace``) when it exists; else a window that offers to build the demo workspace there
(with progress and cancel), or to open another folder.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

from PyQt6.QtCore import QProcess, pyqtSignal
from PyQt6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from core.workspace import CONFIG_NAME

#: The child that builds the demo: the same CLI as `superbrain demo`, without opening a console.
_CLI = "import sys; from main import main; sys.exit(main(sys.argv[1:]))"


def is_workspace(path: Path | str | None) -> bool:
    """True when ``path`` is a folder holding a workspace configuration."""
    return bool(path) and (Path(str(path)) / CONFIG_NAME).is_file()


def pick_workspace(last: str | None, default: Path) -> tuple[str, Path]:
    """``("open", path)`` for the last workspace, else the default one when either exists;
    otherwise ``("offer_demo", default)``: where the demo would be built."""
    for candidate in (last, default):
        if candidate and is_workspace(candidate):
            return "open", Path(str(candidate))
    return "offer_demo", Path(default)


class StartDialog(QDialog):
    """No workspace yet: build the demo (progress, cancel) or open a folder.

    ``workspace`` holds the chosen folder once the dialog is accepted.
    """

    finished_build = pyqtSignal(int)  # the demo builder's exit code (130: cancelled)
    size: str  # type: ignore[assignment]  # the demo's size, in place of QWidget.size()

    def __init__(
        self, default: Path, *, size: str = "small", parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("superbrain — no workspace yet"))
        self.default = Path(default).absolute()
        self.size = size
        self.workspace: Path | None = None
        self.process: QProcess | None = None
        self.cancelled = False

        self.intro = QLabel(
            self.tr(
                "There is no workspace at {path} yet.\n\n"
                "Build the demo workspace there: seven synthetic sources of 嘉兴 (residents, "
                "110 incidents, plate reads, calls, e-bike tags, hotels, a watchlist) with planted "
                "suspect networks, 40 police units and a live shift of incidents. "
                "It takes about a minute."
            ).replace("{path}", str(self.default))
        )
        self.intro.setWordWrap(True)
        self.bar = QProgressBar()
        self.bar.setRange(0, 0)
        self.bar.hide()
        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(500)
        self.log.hide()
        self.status = QLabel("")
        self.build_button = QPushButton(self.tr("Build the demo workspace"))
        self.open_button = QPushButton(self.tr("Open a workspace folder…"))
        self.cancel_button = QPushButton(self.tr("Cancel"))
        self.build_button.clicked.connect(self.build_demo)
        self.open_button.clicked.connect(self._choose_folder)
        self.cancel_button.clicked.connect(self.cancel)
        self.build_button.setDefault(True)

        buttons = QHBoxLayout()
        buttons.addWidget(self.build_button)
        buttons.addWidget(self.open_button)
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addWidget(self.bar)
        layout.addWidget(self.log, 1)
        layout.addWidget(self.status)
        layout.addLayout(buttons)
        self.resize(620, 260)

    def reject(self) -> None:
        """Closing the window while the demo builds stops the build (resumable later)."""
        proc = self.process
        if proc is not None:
            proc.finished.disconnect(self._build_finished)
            proc.kill()
            proc.waitForFinished(5000)
            self.process = None
        super().reject()

    # -- actions ----------------------------------------------------------------------------------
    def build_demo(self) -> None:
        """Run ``superbrain demo --no-console`` in a child process, showing its progress."""
        if self.process is not None:
            return
        self.cancelled = False
        self.build_button.setEnabled(False)
        self.open_button.setEnabled(False)
        self.bar.show()
        self.log.show()
        self.status.setText(self.tr("Building the demo workspace…"))
        proc = QProcess(self)
        proc.setProcessChannelMode(QProcess.ProcessChannelMode.MergedChannels)
        proc.readyReadStandardOutput.connect(self._read_output)
        proc.finished.connect(self._build_finished)
        self.process = proc
        proc.start(
            sys.executable,
            ["-c", _CLI, "demo", "--no-console", "-w", str(self.default), "--size", self.size],
        )

    def cancel(self) -> None:
        """Stop a running build (it stops after its current batch; a later build resumes), or
        close the dialog."""
        proc = self.process
        if proc is None:
            self.reject()
            return
        self.cancelled = True
        self.status.setText(self.tr("Cancelling after the current batch…"))
        pid = int(proc.processId())
        if pid > 0:
            os.kill(pid, signal.SIGINT)  # the CLI's cancel: stops at the next checkpoint

    def _read_output(self) -> None:
        if self.process is None:
            return
        text = bytes(self.process.readAllStandardOutput().data()).decode("utf-8", "replace")
        for line in text.replace("\r", "\n").splitlines():
            if line.strip():
                self.log.appendPlainText(line.rstrip())

    def _build_finished(self, code: int, _status: object = None) -> None:
        self._read_output()
        self.process = None
        self.bar.hide()
        self.build_button.setEnabled(True)
        self.open_button.setEnabled(True)
        self.finished_build.emit(int(code))
        if code == 0 and not self.cancelled and is_workspace(self.default):
            self.workspace = self.default
            self.accept()
        elif self.cancelled:
            self.status.setText(
                self.tr(
                    "Cancelled. Build again to finish it (what is done is "
                    "kept), or open another folder."
                )
            )
        else:
            self.status.setText(
                self.tr("The demo build failed (exit code {code}); its output is above.").replace(
                    "{code}", str(code)
                )
            )

    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, self.tr("Open a workspace folder"))
        if folder:
            self.open_folder(Path(folder))

    def open_folder(self, folder: Path) -> bool:
        """Accept ``folder`` when it is a workspace; otherwise say why not."""
        if not is_workspace(folder):
            self.status.setText(
                self.tr(
                    "{path} is not a superbrain workspace (it has no superbrain.toml)."
                ).replace("{path}", str(folder))
            )
            return False
        self.workspace = folder
        self.accept()
        return True
