"""Results as JSON and exceptions as HTTP answers (CONTRACT.md §2)."""

from __future__ import annotations

import json
import math
from typing import Any

#: error type → HTTP status
STATUS = {
    "Unauthenticated": 401,
    "PermissionDenied": 403,
    "NotFound": 404,
    "Conflict": 409,
    "TooLarge": 413,
    "Invalid": 422,
    "Locked": 423,
    "RateLimited": 429,
    "Unavailable": 503,
    "Internal": 500,
}

_NOT_FOUND = (
    "UnknownIncidentError",
    "UnknownUnitError",
    "UnknownAlertError",
    "UnknownFaceError",
    "EntityNotFoundError",
    "NotFoundError",
    "UnknownCaseError",
    "UnknownServiceError",
)
_CONFLICT = (
    "UnitUnavailableError",
    "StaleVersionError",
    "InvalidTransitionError",
    "TransientStoreError",
    "ConflictError",
    "VersionConflictError",
    "AlreadyDecidedError",
)
_UNAVAILABLE = ("SearchUnavailable", "DatabaseUnavailableError")


def jsonable(value: Any) -> Any:
    """``value`` as JSON data: the service layer's own form (:func:`core.services.to_json`;
    bytes become ``{"base64": …}``, the form parameters take too), with non-finite floats as
    null (JSON has no NaN)."""
    from core.services import to_json

    return _finite(to_json(value))


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def error_type(exc: BaseException) -> str:
    """The contract's error type for an exception raised by a service."""
    from core.errors import AccessDeniedError, SuperbrainError

    names = {cls.__name__ for cls in type(exc).__mro__}
    if isinstance(exc, AccessDeniedError):
        return "PermissionDenied"
    if "RateLimitedError" in names:
        return "RateLimited"
    if names & set(_UNAVAILABLE):
        return "Unavailable"
    if names & set(_NOT_FOUND):
        return "NotFound"
    if names & set(_CONFLICT):
        return "Conflict"
    if isinstance(exc, SuperbrainError | ValueError):
        return "Invalid"
    return "Internal"


def error_body(kind: str, message: str, **extra: Any) -> bytes:
    return dumps({"error": {"type": kind, "message": message, **extra}})
