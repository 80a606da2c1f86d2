"""The part every list-backed table model of the console shares: row count and headers."""

from __future__ import annotations

from typing import Any, ClassVar

from PyQt6.QtCore import QAbstractTableModel, QCoreApplication, QModelIndex, Qt

_DISPLAY = Qt.ItemDataRole.DisplayRole


class ListTableModel(QAbstractTableModel):
    """A flat table over a Python list; subclasses set ``HEADERS`` and implement ``_length``.

    Header texts are translated in the ``Headers`` context (console/i18n).
    """

    HEADERS: ClassVar[tuple[str, ...]] = ()

    def _length(self) -> int:
        raise NotImplementedError

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self._length()

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008
        return len(self.HEADERS)

    def headerData(
        self,
        section: int,
        orientation: Qt.Orientation,
        role: int = _DISPLAY,
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == _DISPLAY:
            return QCoreApplication.translate("Headers", self.HEADERS[section])
        return None
