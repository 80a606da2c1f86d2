"""Table headers, listed once so ``pylupdate6`` collects them (models translate at display)."""

from __future__ import annotations

from PyQt6.QtCore import QCoreApplication


def headers() -> tuple[str, ...]:  # pragma: no cover - read by pylupdate6, never called
    return (
        QCoreApplication.translate("Headers", "Time"),
        QCoreApplication.translate("Headers", "Source"),
        QCoreApplication.translate("Headers", "Type"),
        QCoreApplication.translate("Headers", "Title"),
        QCoreApplication.translate("Headers", "Score"),
        QCoreApplication.translate("Headers", "Category"),
        QCoreApplication.translate("Headers", "Waiting"),
        QCoreApplication.translate("Headers", "Status"),
        QCoreApplication.translate("Headers", "District"),
        QCoreApplication.translate("Headers", "Units"),
        QCoreApplication.translate("Headers", "Summary"),
        QCoreApplication.translate("Headers", "Unit"),
        QCoreApplication.translate("Headers", "Incident"),
        QCoreApplication.translate("Headers", "Position"),
        QCoreApplication.translate("Headers", "Severity"),
        QCoreApplication.translate("Headers", "Kind"),
        QCoreApplication.translate("Headers", "Alert"),
        QCoreApplication.translate("Headers", "Subject"),
        QCoreApplication.translate("Headers", "Acknowledged"),
        QCoreApplication.translate("Headers", "Version"),
        QCoreApplication.translate("Headers", "Formats"),
        QCoreApplication.translate("Headers", "Description / error"),
        QCoreApplication.translate("Headers", "Person A"),
        QCoreApplication.translate("Headers", "Person B"),
        QCoreApplication.translate("Headers", "Not sure"),
        QCoreApplication.translate("Headers", "Field"),
        QCoreApplication.translate("Headers", "Record A"),
        QCoreApplication.translate("Headers", "Record B"),
        QCoreApplication.translate("Headers", "Level"),
        QCoreApplication.translate("Headers", "Weight"),
    )
