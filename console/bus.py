"""The signals panels use to talk to each other without knowing each other."""

from __future__ import annotations

from PyQt6.QtCore import QObject, pyqtSignal


class Bus(QObject):
    """One per main window; panels emit and listen, the main window routes pivots."""

    #: A record uid to show in the record pane.
    open_record = pyqtSignal(str)
    #: A :class:`console.navigation.Focus` to apply (pushed on the back/forward history).
    pivot = pyqtSignal(object)
    #: Entity ids selected in a panel, and the panel's name (others sync without echoing back).
    entities_selected = pyqtSignal(list, str)
    #: Record uids selected in a panel, and the panel's name.
    records_selected = pyqtSignal(list, str)
    #: A message for the status bar (text, milliseconds; 0 keeps it).
    message = pyqtSignal(str, int)
    #: The workspace data changed (after an ingest): panels refresh what they show.
    data_changed = pyqtSignal()
    #: Evidence to pin to the case open in the Cases dock: kind (``search``, ``cooccur``, …),
    #: reference, title and data as ``cases.pin`` takes them, and ``reply(text)`` (or None):
    #: the Cases dock pins it and answers what happened.
    pin_evidence = pyqtSignal(str, str, str, dict, object)
