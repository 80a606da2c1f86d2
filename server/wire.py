"""Results as JSON and exceptions as HTTP answers (CONTRACT.md §2)."""

from __future__ import annotations

import base64
import dataclasses
import enum
import json
import math
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

#: error type → HTTP status
STATUS = {"Unauthenticated": 401, "PermissionDenied": 403, "NotFound": 404, "Conflict": 409,
          "TooLarge": 413, "Invalid": 422, "Locked": 423, "Unavailable": 503, "Internal": 500}

_NOT_FOUND = ("UnknownIncidentError", "UnknownUnitError", "UnknownAlertError",
              "UnknownFaceError", "EntityNotFoundError", "NotFoundError", "UnknownCaseError",
              "UnknownServiceError")
_CONFLICT = ("UnitUnavailableError", "StaleVersionError", "InvalidTransitionError",
             "TransientStoreError", "ConflictError", "VersionConflictError")
_UNAVAILABLE = ("SearchUnavailable",)


def jsonable(value: Any, depth: int = 0) -> Any:
    """``value`` as plain JSON types (dataclasses, ``to_dict``/``as_dict`` objects, dates,
    paths, numpy scalars and arrays, tuples and sets)."""
    if depth > 60:
        raise ValueError("result nested too deeply to send")
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return jsonable(value.value, depth + 1)
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, Mapping):
        return {str(k): jsonable(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v, depth + 1) for v in value]
    for method in ("to_dict", "as_dict"):
        fn = getattr(value, method, None)
        if callable(fn):
            return jsonable(fn(), depth + 1)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name), depth + 1)
                for f in dataclasses.fields(value)}
    tolist = getattr(value, "tolist", None)  # numpy arrays and scalars
    if callable(tolist):
        return jsonable(tolist(), depth + 1)
    raise TypeError(f"cannot send a {type(value).__name__} as JSON")


def dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def error_type(exc: BaseException) -> str:
    """The contract's error type for an exception raised by a service."""
    from core.errors import AccessDeniedError, SuperbrainError

    names = {cls.__name__ for cls in type(exc).__mro__}
    if isinstance(exc, AccessDeniedError):
        return "PermissionDenied"
    if names & set(_NOT_FOUND):
        return "NotFound"
    if names & set(_CONFLICT):
        return "Conflict"
    if names & set(_UNAVAILABLE):
        return "Unavailable"
    if isinstance(exc, SuperbrainError | ValueError):
        return "Invalid"
    return "Internal"


def error_body(kind: str, message: str, **extra: Any) -> bytes:
    return dumps({"error": {"type": kind, "message": message, **extra}})
