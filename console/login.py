"""Log in to a workspace that has user accounts (``core.security``), before the window opens.

A workspace without accounts needs no login (the OS user acts as administrator, as on the
command line). With accounts, ``SUPERBRAIN_USER`` / ``SUPERBRAIN_PASSWORD`` are used when set;
otherwise this dialog asks. Every attempt is audited by ``core.security.login``.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

log = logging.getLogger(__name__)


def needs_login(workspace: Any) -> bool:
    """True when the workspace has accounts (or had them: fail closed) and no session yet."""
    from core.errors import SuperbrainError
    from core.users import has_accounts

    if workspace._session is not None:
        return False
    try:
        return has_accounts(workspace)
    except SuperbrainError:  # accounts enabled but the users file is gone: the dialog says so
        return True


class LoginDialog(QDialog):
    """User name and password; :meth:`accept` only after ``workspace.login`` succeeded."""

    def __init__(self, workspace: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self.setWindowTitle(f"superbrain — log in to {workspace.root.name}")
        self.user = QLineEdit(workspace.user)
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.error = QLabel("")
        self.error.setTextFormat(Qt.TextFormat.PlainText)  # quotes what the user typed
        self.error.setStyleSheet("color: #e5534b;")
        self.error.setWordWrap(True)
        form = QFormLayout()
        form.addRow("User", self.user)
        form.addRow("Password", self.password)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.try_login)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.password.setFocus()

    def try_login(self) -> bool:
        from core.errors import SuperbrainError

        try:
            self.workspace.login(self.user.text().strip(), self.password.text())
        except SuperbrainError as exc:  # wrong password, locked out: the message says which
            self.error.setText(str(exc))
            self.password.clear()
            return False
        self.accept()
        return True


def ensure_session(workspace: Any) -> bool:
    """Make sure someone is logged in; False when the user cancelled the dialog."""
    if not needs_login(workspace):
        return True
    password = os.environ.get("SUPERBRAIN_PASSWORD")
    if password is not None:
        from core.errors import SuperbrainError

        try:
            workspace.login(workspace.user, password)
            return True
        except SuperbrainError as exc:
            log.warning("login from the environment failed: %s", exc)
    return LoginDialog(workspace).exec() == QDialog.DialogCode.Accepted
