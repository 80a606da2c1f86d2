"""Turn the centre server's JSON results back into the engines' own result types.

A console in client mode (``superbrain console --server URL``) gets plain JSON from
``POST /api/v1/call/{service}``; its panels were written against the engines' dataclasses
(``search.model.SearchResult``, ``core.model.Record``, ``graph.model.GraphResult``,
``ops.model.Alert`` …). :func:`decode` rebuilds any such dataclass from its JSON form by
following the field types (ISO strings or epoch numbers to ``datetime``, lists to tuples,
nested dataclasses), so the same panels draw local and remote results. No Qt here.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import cache
from typing import Any, TypeVar, Union, get_args, get_origin

T = TypeVar("T")


class DecodeError(ValueError):
    """A server result does not have the shape of the type it should be (names the field)."""


@cache
def _hints(cls: type) -> dict[str, Any]:
    import sys

    module = sys.modules.get(cls.__module__)
    return typing.get_type_hints(cls, vars(module) if module else None)


def decode(cls: type[T], data: Any, where: str = "") -> T:
    """``data`` (JSON) as an instance of the dataclass ``cls`` (or ``data`` itself when it
    already is one)."""
    if isinstance(data, cls):
        return data
    if not isinstance(data, Mapping):
        raise DecodeError(f"{where or cls.__name__}: expected an object, got {type(data).__name__}")
    hints = _hints(cls)  # type: ignore[arg-type]  # a class is hashable (typeshed: type[T] is not)
    kwargs = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if not f.init or f.name not in data:
            continue
        kwargs[f.name] = _value(hints.get(f.name, Any), data[f.name], f"{where}{f.name}")
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise DecodeError(f"{where or cls.__name__}: {exc}") from None


def _value(hint: Any, value: Any, where: str) -> Any:
    if value is None or hint is Any:
        return value
    origin = get_origin(hint)
    if origin in (Union, types.UnionType):
        options = [a for a in get_args(hint) if a is not type(None)]
        for option in options:
            try:
                return _value(option, value, where)
            except (DecodeError, ValueError, TypeError):
                continue
        return value
    if hint is datetime:
        return to_datetime(value, where)
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return decode(hint, value, where + ".")
    if origin is tuple:
        args = get_args(hint)
        item = args[0] if args else Any
        if (len(args) == 2 and args[1] is Ellipsis) or len(args) == 1:
            return tuple(_value(item, v, where) for v in value)
        return tuple(_value(a, v, where) for a, v in zip(args, value, strict=False))
    if origin is list:
        (item,) = get_args(hint) or (Any,)
        return [_value(item, v, where) for v in value]
    if origin in (dict, Mapping, typing.Mapping) or hint is dict:
        args = get_args(hint)
        item = args[1] if len(args) == 2 else Any
        return {k: _value(item, v, where) for k, v in dict(value).items()}
    if hint is float and isinstance(value, int | float):
        return float(value)
    return value


def to_datetime(value: Any, where: str = "") -> datetime:
    """An ISO 8601 string or epoch seconds as an aware ``datetime`` (UTC when unzoned)."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, tz=UTC)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise DecodeError(f"{where}: {value!r} is not an ISO time") from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    raise DecodeError(f"{where}: {value!r} is not a time")


def graph_result(data: Any) -> Any:
    """A ``graph.model.GraphResult`` from its ``to_dict()`` form (nodes as a list, edge
    times as ISO strings); :class:`DecodeError` when it has not that shape."""
    from graph.errors import GraphError
    from graph.model import GraphResult, graph_from_dict

    if isinstance(data, GraphResult):
        return data
    if not isinstance(data, Mapping):
        raise DecodeError(f"graph result: expected an object, got {type(data).__name__}")
    try:
        return graph_from_dict(dict(data))
    except GraphError as exc:
        raise DecodeError(f"graph result: {exc}") from None


def timeline_result(data: Any) -> Any:
    """``graph.timeline``'s result with its events as ``graph.timeline.TimelineEvent`` (times
    back to epoch seconds, as the engine gives them)."""
    from graph.timeline import TimelineEvent

    events = []
    for e in data.get("events", []):
        when = e.get("time")
        events.append(
            TimelineEvent(
                to_datetime(when).timestamp() if when is not None else None,
                str(e["record_uid"]),
                str(e.get("source", "")),
                str(e.get("record_type", "")),
                str(e.get("title", "")),
                tuple(e["geo"]) if e.get("geo") else None,
                list(e.get("links") or ()),
            )
        )
    return {**data, "events": events}
