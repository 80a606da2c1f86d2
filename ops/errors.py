"""One exception root for operations, with precise subclasses whose messages name the culprit."""

from __future__ import annotations

from core.errors import AccessDeniedError, SuperbrainError


class OpsError(SuperbrainError):
    """Root of every error the operations package raises on purpose."""


class OpsConfigError(OpsError):
    """A routing, state, SLA, intake, unit or alert data file is invalid (names file and key)."""


class UnknownIncidentError(OpsError):
    """No incident has this id."""


class UnknownUnitError(OpsError):
    """No unit has this id."""


class InvalidTransitionError(OpsError):
    """A unit or incident was asked to move to a state its state machine does not allow.

    Attributes
    ----------
    subject, current, requested:
        What was asked to move (``"unit NH-03"``), where it is, where it was asked to go.
    """

    def __init__(self, subject: str, current: str, requested: str, allowed: list[str]) -> None:
        self.subject = subject
        self.current = current
        self.requested = requested
        self.allowed = allowed
        options = ", ".join(allowed) if allowed else "nothing (final state)"
        super().__init__(
            f"{subject}: cannot go from {current!r} to {requested!r}; from {current!r} it may go "
            f"to {options}"
        )


class UnitUnavailableError(OpsError):
    """The unit cannot be assigned: another console took it first, or it is not available.

    Attributes
    ----------
    unit_id, status:
        The unit and the status it is in now.
    taken_by, incident_id:
        Who assigned it and to which incident (``None`` when it is simply not available).
    """

    def __init__(
        self,
        unit_id: str,
        status: str,
        *,
        taken_by: str | None = None,
        incident_id: int | None = None,
        detail: str = "",
    ) -> None:
        self.unit_id = unit_id
        self.status = status
        self.taken_by = taken_by
        self.incident_id = incident_id
        msg = f"unit {unit_id} is not available: it is {status!r}"
        if taken_by:
            msg += f", assigned by {taken_by}"
        if incident_id is not None:
            msg += f" to incident {incident_id}"
        if detail:
            msg += f" ({detail})"
        super().__init__(msg)


class StaleVersionError(OpsError):
    """A unit or incident changed since the caller read it (compare-and-set failed)."""


class InvalidIncidentError(OpsError):
    """An incident typed in or mapped from a record is missing or has a malformed field."""


class InvalidPositionError(OpsError):
    """A position fix is not a WGS-84 latitude/longitude (names the unit and the values)."""


class UnknownAlertError(OpsError):
    """No alert has this id."""


class NotOwnerError(OpsError, AccessDeniedError):
    """A saved search belongs to another user: only its owner (or an administrator) may change
    or delete it."""
