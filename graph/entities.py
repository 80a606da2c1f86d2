"""Turn what an analyst types (an entity id or a raw plate / phone / ID number) into entity ids."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from core.model import entity_id
from core.schema import Schema, default_schema
from core.store import Store
from graph.errors import EntityNotFoundError

log = logging.getLogger(__name__)


def resolve_entity(store: Store, text: str, *, schema: Schema | None = None) -> str:
    """The entity id that ``text`` names.

    ``text`` is either an id (``"vehicle:浙F12345"``, whose key is normalised, so
    ``"vehicle:浙f·12345"`` works too) or a raw identifier (``"浙F·12345"``, ``"+86 138 0013
    8000"``, an ID number), tried with the normaliser of every entity type.

    Raises
    ------
    EntityNotFoundError
        When nothing matches, or when a raw identifier matches entities of several types.
    """
    schema = schema or default_schema()
    raw = text.strip()
    if not raw:
        raise EntityNotFoundError("empty entity reference")
    prefix, sep, rest = raw.partition(":")
    if sep and prefix in schema.entities:
        eid = entity_id(prefix, schema.entities[prefix].normalize_key(rest))
        if store.get_entity(eid) is None:
            raise EntityNotFoundError(f"{text!r}: no entity {eid!r} in the store")
        return eid
    found: list[str] = []
    for etype in schema.entities.values():
        try:
            key = etype.normalize_key(raw)
        except (ValueError, KeyError):
            continue
        if not key:
            continue
        eid = entity_id(etype.name, key)
        if eid not in found and store.get_entity(eid) is not None:
            found.append(eid)
    if not found:
        raise EntityNotFoundError(
            f"{text!r}: no entity has this identifier (give an id such as 'vehicle:浙A12345')"
        )
    if len(found) > 1:
        raise EntityNotFoundError(f"{text!r} is ambiguous: {', '.join(found)}; give the full id")
    return found[0]


def resolve_entities(
    store: Store, texts: Iterable[str], *, schema: Schema | None = None
) -> list[str]:
    """:func:`resolve_entity` for each of ``texts`` (order kept, duplicates dropped)."""
    return list(dict.fromkeys(resolve_entity(store, t, schema=schema) for t in texts))
