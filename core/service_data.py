"""Service parameters and results as data: bounded for the audit log, in full for a remote
caller, and errors as the kinds a remote caller acts on (see :mod:`core.services`)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

from core.security import SecurityError, redact


class ServiceError(SecurityError):
    """A service is unknown, registered twice, called with parameters it does not take or
    without one it needs, or its result has no JSON form."""


#: Bounds on what a parameter may put in the audit log (an attacker controls parameters).
MAX_AUDIT_TEXT = 2000
MAX_AUDIT_ITEMS = 200
MAX_AUDIT_VALUE_BYTES = 8192


def audit_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """``params`` as the audit log keeps them: JSON values, long text cut, bytes as their
    SHA-256 (a probe photo is named by its hash, not copied into the log)."""
    out: dict[str, Any] = {}
    for key, value in params.items():
        clean = _jsonable(value, 0)
        raw = json.dumps(clean, ensure_ascii=False, default=str).encode()
        if len(raw) > MAX_AUDIT_VALUE_BYTES:  # e.g. a whole chart: named by size and hash
            clean = {
                "type": type(value).__name__,
                "json_bytes": len(raw),
                "sha256": hashlib.sha256(raw).hexdigest(),
            }
        out[str(key)] = clean
    return out


def _jsonable(value: Any, depth: int) -> Any:
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        text = redact(value)
        return text if len(text) <= MAX_AUDIT_TEXT else text[:MAX_AUDIT_TEXT] + "…"
    if isinstance(value, bytes | bytearray | memoryview):
        data = bytes(value)
        return {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    if isinstance(value, Path):
        return _jsonable(str(value), depth)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if depth > 4:
        return _jsonable(repr(value), depth)
    if isinstance(value, Mapping):
        items = list(value.items())[:MAX_AUDIT_ITEMS]
        return {str(k): _jsonable(v, depth + 1) for k, v in items}
    if isinstance(value, list | tuple | set | frozenset):
        seq = list(value)
        out = [_jsonable(v, depth + 1) for v in seq[:MAX_AUDIT_ITEMS]]
        if len(seq) > MAX_AUDIT_ITEMS:
            out.append(f"… {len(seq) - MAX_AUDIT_ITEMS} more")
        return out
    digest = getattr(value, "sha256", None)
    if isinstance(digest, str):  # an analysed photo: named by its hash, as the gallery does
        return {
            "type": type(value).__name__,
            "sha256": digest,
            "source": _jsonable(str(getattr(value, "source", "")), depth + 1),
        }
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return _jsonable(to_dict(), depth + 1)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _jsonable(dataclasses.asdict(value), depth + 1)
    return _jsonable(repr(value), depth)


# -- results as JSON (for a remote caller) --------------------------------------------------------
def to_json(value: Any) -> Any:
    """A service's parameters or result as JSON data, in full (unlike the audit's bounded
    form): objects by their ``to_dict()`` / ``to_json()`` / ``as_dict()``, dataclasses field by
    field, times as ISO text, paths as text, bytes as base64, numpy arrays as lists."""
    import base64

    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return {"base64": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, Mapping):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_json(v) for v in value]
    for method in ("to_dict", "to_json", "as_dict"):
        fn = getattr(value, method, None)
        if callable(fn):
            return to_json(fn())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    tolist = getattr(value, "tolist", None)  # numpy arrays and scalars
    if callable(tolist):
        return to_json(tolist())
    raise ServiceError(f"{type(value).__name__} has no JSON form (give it to_dict())")


# -- errors as a remote caller sees them -------------------------------------------------------
#: Error kinds of the centre server's API (docs: CONTRACT §2) by class name, most specific first.
_KINDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("PermissionDenied", ("AccessDeniedError",)),
    ("Unauthenticated", ("AuthenticationError",)),
    (
        "NotFound",
        (
            "UnknownIncidentError",
            "UnknownUnitError",
            "UnknownAlertError",
            "UnknownFaceError",
            "EntityNotFoundError",
            "NoPathError",
            "CaseNotFoundError",
        ),
    ),
    (
        "Conflict",
        (
            "StaleVersionError",
            "UnitUnavailableError",
            "InvalidTransitionError",
            "CaseConflictError",
            "AlreadyDecidedError",
        ),
    ),
    ("Unavailable", ("SearchUnavailable",)),
    (
        "Invalid",
        (
            "ServiceError",
            "QuerySyntaxError",
            "CursorError",
            "SafeguardError",
            "InvalidIncidentError",
            "InvalidPositionError",
            "ImageError",
            "NoFaceError",
            "UserError",
            "ExportError",
            "SuperbrainError",
        ),
    ),
)


def error_kind(exc: BaseException) -> str:
    """What kind of failure ``exc`` is for a remote caller: ``PermissionDenied``,
    ``Unauthenticated``, ``NotFound``, ``Conflict``, ``Unavailable``, ``Invalid`` (any other
    superbrain error: bad input or state, the message names the culprit) or ``Error`` (a bug)."""
    names = [c.__name__ for c in type(exc).__mro__]
    for kind, classes in _KINDS:
        if any(name in classes for name in names):
            return kind
    return "Error"
