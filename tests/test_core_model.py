"""Schemas as data, identifier normalisation, mapping validation, workspace config."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from core import normalize
from core.errors import SchemaError, WorkspaceError
from core.schema import load_schema
from core.workspace import Workspace
from plugins.mapping import parse_mapping


@pytest.mark.parametrize("raw", ["浙D·12345", "浙D 12345", "浙d12345", "浙Ｄ－１２３４５"])
def test_plate_forms_normalise_to_one_key(raw: str) -> None:
    assert normalize.plate(raw) == "浙D12345"


@pytest.mark.parametrize(
    "raw", ["+86 138-0013-8000", "13800138000", "0086 13800138000", "(+86)138 0013 8000"]
)
def test_phone_forms_normalise_to_one_key(raw: str) -> None:
    assert normalize.phone(raw) == "13800138000"


def test_id_number_normalises_check_letter() -> None:
    assert normalize.id_number(" 33040219900101123x ") == "33040219900101123X"


def test_shipped_schema_declares_types_and_links() -> None:
    schema = load_schema()
    assert {
        "person",
        "phone",
        "vehicle",
        "address",
        "organisation",
        "incident",
        "device",
        "tag",
    } <= set(schema.entities)
    assert {
        "owns",
        "called",
        "stayed_at",
        "passed",
        "involved_in",
        "lives_at",
        "co_located",
    } <= set(schema.links)
    assert schema.links["called"].allows("phone", "phone")
    assert not schema.links["called"].allows("vehicle", "phone")


def test_schema_errors_name_file_and_key(tmp_path: Path) -> None:
    (tmp_path / "entities.toml").write_text('[person]\nlabel = "P"\nkey_normalizer = "nope"\n')
    (tmp_path / "links.toml").write_text("")
    with pytest.raises(SchemaError, match=r"entities.toml.*\[person\].*nope"):
        load_schema(tmp_path)


@pytest.mark.parametrize(
    ("snippet", "message"),
    [
        ('[source]\nname="x"\n[fields]\np={role="identifier"}', "needs a normalizer"),
        ('[source]\nname="x"\n[fields]\np={role="colour"}', "unknown role 'colour'"),
        ('[source]\nname="x"\n[entities.a]\ntype="spaceship"\nkey="k"', "unknown entity type"),
        (
            '[source]\nname="x"\n[entities.a]\ntype="vehicle"\nkey="k"\n[entities.b]\ntype="vehicle"\n'
            'key="j"\n[[links]]\ntype="called"\nfrom="a"\nto="b"',
            "cannot join vehicle to vehicle",
        ),
        ('[source]\nname="x"\n[[links]]\ntype="owns"\nfrom="a"\nto="b"', "unknown entity alias"),
        ("[fields]\n", "missing [source]"),
    ],
)
def test_invalid_mappings_are_refused_with_reason(snippet: str, message: str) -> None:
    with pytest.raises(SchemaError) as err:
        parse_mapping(tomllib.loads(snippet), "m.toml")
    assert message in str(err.value) and "m.toml" in str(err.value)


def test_workspace_init_open_and_bad_config(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "w", backend="elasticsearch", url="http://127.0.0.1:9200")
    assert ws.search_config.backend == "elasticsearch"
    assert (ws.search_config.shards, ws.search_config.replicas) == (1, 0)
    for sub in ("search", "faces", "rejects", "plugins"):
        assert (ws.root / sub).is_dir()
    assert ws.store_path.exists()
    ws.close()
    with pytest.raises(WorkspaceError, match="not a superbrain workspace"):
        Workspace.open(tmp_path / "nowhere")
    (ws.root / "superbrain.toml").write_text("[search]\nreplicas = -1\n")
    with pytest.raises(WorkspaceError, match="replicas must be a whole number"):
        Workspace.open(ws.root)
    (ws.root / "superbrain.toml").write_text("[search]\nreplicas = 2\n")
    assert Workspace.open(ws.root).search_config.replicas == 2
    (ws.root / "superbrain.toml").write_text('[search]\nbackend = "solr"\n')
    with pytest.raises(WorkspaceError, match="solr"):
        Workspace.open(ws.root)
