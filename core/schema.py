"""Entity and link types, declared in ``resources/schema/*.toml`` and validated on load."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from core import normalize
from core.errors import SchemaError

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "resources" / "schema"


@dataclass(frozen=True)
class EntityType:
    name: str
    label: str
    label_zh: str
    icon: str
    color: str
    key_normalizer: str
    strong: bool
    properties: tuple[str, ...]

    def normalize_key(self, raw: str) -> str:
        return normalize.get(self.key_normalizer)(raw)


@dataclass(frozen=True)
class LinkType:
    name: str
    label: str
    label_zh: str
    from_types: tuple[str, ...]
    to_types: tuple[str, ...]
    directed: bool

    def allows(self, source_type: str, target_type: str) -> bool:
        ok_from = "*" in self.from_types or source_type in self.from_types
        ok_to = "*" in self.to_types or target_type in self.to_types
        return ok_from and ok_to


@dataclass(frozen=True)
class Schema:
    entities: dict[str, EntityType]
    links: dict[str, LinkType]

    def entity(self, name: str) -> EntityType:
        try:
            return self.entities[name]
        except KeyError:
            raise SchemaError(
                f"unknown entity type {name!r}; declared: {', '.join(sorted(self.entities))}"
            ) from None

    def link(self, name: str) -> LinkType:
        try:
            return self.links[name]
        except KeyError:
            raise SchemaError(
                f"unknown link type {name!r}; declared: {', '.join(sorted(self.links))}"
            ) from None


def _require(table: dict[str, Any], key: str, kind: type, where: str) -> Any:
    if key not in table:
        raise SchemaError(f"{where}: missing key {key!r}")
    value = table[key]
    if not isinstance(value, kind):
        raise SchemaError(f"{where}: {key!r} must be {kind.__name__}, got {value!r}")
    return value


def _load_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise SchemaError(f"{str(path)!r}: schema file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise SchemaError(f"{str(path)!r}: {exc}") from None


def load_schema(directory: Path = SCHEMA_DIR) -> Schema:
    """Load and validate ``entities.toml`` and ``links.toml`` from ``directory``."""
    entities: dict[str, EntityType] = {}
    path = directory / "entities.toml"
    for name, table in _load_toml(path).items():
        where = f"{str(path)!r}: [{name}]"
        normalizer = _require(table, "key_normalizer", str, where)
        if normalizer not in normalize.NORMALIZERS:
            raise SchemaError(f"{where}: unknown key_normalizer {normalizer!r}")
        entities[name] = EntityType(
            name=name,
            label=_require(table, "label", str, where),
            label_zh=table.get("label_zh", ""),
            icon=table.get("icon", "dot"),
            color=table.get("color", "#888888"),
            key_normalizer=normalizer,
            strong=bool(table.get("strong", False)),
            properties=tuple(table.get("properties", [])),
        )
    links: dict[str, LinkType] = {}
    path = directory / "links.toml"
    for name, table in _load_toml(path).items():
        where = f"{str(path)!r}: [{name}]"
        from_types = tuple(_require(table, "from", list, where))
        to_types = tuple(_require(table, "to", list, where))
        for t in from_types + to_types:
            if t != "*" and t not in entities:
                raise SchemaError(f"{where}: unknown entity type {t!r}")
        links[name] = LinkType(
            name=name,
            label=_require(table, "label", str, where),
            label_zh=table.get("label_zh", ""),
            from_types=from_types,
            to_types=to_types,
            directed=bool(table.get("directed", True)),
        )
    return Schema(entities, links)


@cache
def default_schema() -> Schema:
    """The schema shipped in ``resources/schema`` (loaded once)."""
    return load_schema()
