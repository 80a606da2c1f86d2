"""Table models of the dispatch board: the incident queue with live timers and the units."""

from __future__ import annotations

import dataclasses
import time
from datetime import UTC, datetime
from typing import Any, ClassVar

from PyQt6.QtCore import QCoreApplication, QModelIndex, Qt
from PyQt6.QtGui import QColor

from console.labels import plain_tooltip
from console.tables import ListTableModel
from console.theme import PRIORITY_COLOURS
from core.progress import format_seconds

_DISPLAY = Qt.ItemDataRole.DisplayRole


def state_label(label: str, zh: bool) -> str:
    """One language of an ops state label: the tables say "空闲 available"; a zh_CN console
    shows "空闲", an English one "available" (a label in one language is shown as it is)."""
    head, _, tail = label.partition(" ")
    if tail and any(ord(c) >= 0x2E80 for c in head) and not any(ord(c) >= 0x2E80 for c in tail):
        return head if zh else tail
    return label


def incident_detail(
    row: dict[str, Any] | None, age_s: float, time_zone: str, labels: dict[str, str] | None = None
) -> str:
    """The board's incident detail as plain text: what was reported, by whom, the routing rule
    that fired, and its timers (received, waiting, response due) in the workspace's zone."""
    if row is None:
        return QCoreApplication.translate("Dispatch", "Select an incident in the queue.")
    from datetime import datetime
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(time_zone)

    def local(iso: Any) -> str:
        try:
            return datetime.fromisoformat(str(iso)).astimezone(tz).strftime("%Y-%m-%d %H:%M")
        except ValueError:
            return str(iso or "—")

    routing = row.get("routing") or {}
    status = (labels or {}).get(row.get("status", ""), row.get("status", "").replace("_", " "))
    due = row.get("respond_due")
    lines = [
        f"#{row.get('id')}  P{row.get('priority')}  {row.get('category', '')}  ·  {status}",
        f"received {local(row.get('received_at'))} ({time_zone}) · waiting "
        f"{format_seconds(age_s)}"
        + (f" · respond by {local(due)}" if due else "")
        + (" · ⚠ OVERDUE" if row.get("overdue") else ""),
        f"address: {row.get('address') or '—'}  ({row.get('district') or '—'})",
        f"reporter: {row.get('reporter') or '—'}  {row.get('reporter_phone') or ''}".rstrip(),
        f"routing rule: {routing.get('rule_id', '—')} — {routing.get('description', '—')}"
        + (
            f" → {', '.join(routing.get('departments') or ())}"
            if routing.get("departments")
            else ""
        ),
        f"units: {', '.join(row.get('units') or ()) or '—'}",
        "",
        str(row.get("text") or ""),
    ]
    return "\n".join(lines)


class QueueModel(ListTableModel):
    """Open incidents (``IncidentDesk.open_queue`` dicts), most urgent first; ages tick."""

    HEADERS = ("P", "Category", "Waiting", "Status", "District", "Units", "Summary")

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[dict[str, Any]] = []
        self.loaded_at = time.time()
        #: incident state -> label shown (from the ops state machine, in the UI language)
        self.labels: dict[str, str] = {}

    def set_rows(self, rows: list[dict[str, Any]]) -> None:
        self.beginResetModel()
        self.rows = rows
        self.loaded_at = time.time()
        self.endResetModel()

    def tick(self) -> None:
        """Refresh the timer column (called every second)."""
        if self.rows:
            self.dataChanged.emit(self.index(0, 2), self.index(len(self.rows) - 1, 2))

    def age(self, row: dict[str, Any]) -> float:
        return float(row.get("age_s", 0.0)) + (time.time() - self.loaded_at)

    def _length(self) -> int:
        return len(self.rows)

    def data(self, index: QModelIndex, role: int = _DISPLAY) -> Any:
        row = self.rows[index.row()]
        col = index.column()
        if role == _DISPLAY:
            if col == 0:
                return f"P{row.get('priority')}"
            if col == 1:
                return row.get("category", "")
            if col == 2:
                return ("⚠ " if row.get("overdue") else "") + format_seconds(self.age(row))
            if col == 3:
                status = row.get("status", "")
                return self.labels.get(status, status.replace("_", " "))
            if col == 4:
                return row.get("district", "")
            if col == 5:
                return ", ".join(row.get("units") or ())
            return (row.get("text") or row.get("address") or "")[:120]
        if role == Qt.ItemDataRole.ForegroundRole:
            if col == 0:
                return QColor(PRIORITY_COLOURS.get(row.get("priority", 5), "#7d8a99"))
            if col == 2 and row.get("overdue"):
                return QColor("#e5534b")
        if role == Qt.ItemDataRole.ToolTipRole:
            rule = (row.get("routing") or {}).get("description", "")
            return plain_tooltip(f"#{row.get('id')} {row.get('address', '')}\nrouting: {rule}")
        return None

    def incident_id(self, row: int) -> int | None:
        return int(self.rows[row]["id"]) if 0 <= row < len(self.rows) else None


class UnitsModel(ListTableModel):
    """Units (``ops.model.Unit``) sorted by status then name, with position age."""

    HEADERS = ("Unit", "Type", "Status", "District", "Incident", "Position")
    ORDER = ("available", "dispatched", "en_route", "on_scene", "cleared", "off_duty")
    STATUS_COLOURS: ClassVar[dict[str, str]] = {
        "available": "#3fb950",
        "dispatched": "#f0883e",
        "en_route": "#d29922",
        "on_scene": "#e5534b",
        "cleared": "#3d8bfd",
        "off_duty": "#6e7681",
    }

    def __init__(self, stale_after_s: float = 600.0) -> None:
        super().__init__()
        self.units: list[Any] = []
        self.stale_after_s = stale_after_s
        #: state → operator label from the ops state machine ("下班 off duty", not off_duty)
        self.labels: dict[str, str] = {}

    def set_units(self, units: list[Any]) -> None:
        order = {s: i for i, s in enumerate(self.ORDER)}
        self.beginResetModel()
        self.units = sorted(units, key=lambda u: (order.get(u.status, 99), u.name or u.id))
        self.endResetModel()

    def _length(self) -> int:
        return len(self.units)

    def position_age(self, unit: Any) -> float | None:
        at = getattr(unit, "position_at", None)
        return time.time() - at.timestamp() if at else None

    def data(self, index: QModelIndex, role: int = _DISPLAY) -> Any:
        u = self.units[index.row()]
        col = index.column()
        if role == _DISPLAY:
            if col == 0:
                return u.name or u.id
            if col == 1:
                return u.type
            if col == 2:
                return self.labels.get(u.status, u.status.replace("_", " "))
            if col == 3:
                return u.district
            if col == 4:
                return "" if u.incident_id is None else f"#{u.incident_id}"
            age = self.position_age(u)
            if age is None:
                return "no position"
            text = f"{format_seconds(age)} ago"
            return text + (" (stale)" if age > self.stale_after_s else "")
        if role == Qt.ItemDataRole.ForegroundRole:
            if col == 2:
                return QColor(self.STATUS_COLOURS.get(u.status, "#8b98a8"))
            if col == 5:
                age = self.position_age(u)
                if age is None or age > self.stale_after_s:
                    return QColor("#d29922")
        if role == Qt.ItemDataRole.ToolTipRole:
            return plain_tooltip(
                f"{u.id} · {u.precinct} · capabilities: {', '.join(u.capabilities)}"
            )
        return None

    def unit(self, row: int) -> Any | None:
        return self.units[row] if 0 <= row < len(self.units) else None

    def move(self, unit_id: str, lat: float, lon: float, at: float) -> bool:
        """Apply a pushed position fix to one row in place (no reset: the selection and the
        order stay); a fix older than the one shown is ignored. True when the row changed."""
        for row, u in enumerate(self.units):
            if u.id != unit_id:
                continue
            shown = getattr(u, "position_at", None)
            if shown is not None and shown.timestamp() > at:
                return False
            when = datetime.fromtimestamp(at, tz=UTC)
            if dataclasses.is_dataclass(u) and not isinstance(u, type):  # ops.model.Unit
                self.units[row] = dataclasses.replace(u, lat=lat, lon=lon, position_at=when)
            else:
                u.lat, u.lon, u.position_at = lat, lon, when
            self.dataChanged.emit(self.index(row, 0), self.index(row, len(self.HEADERS) - 1))
            return True
        return False

    def tick(self) -> None:
        """Refresh the position-age column (called every second): ages and "(stale)" move on
        without a reload."""
        if self.units:
            col = len(self.HEADERS) - 1
            self.dataChanged.emit(self.index(0, col), self.index(len(self.units) - 1, col))
