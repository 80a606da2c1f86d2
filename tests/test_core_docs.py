"""The plugin contract is documented: in the code and in docs/PLUGINS.md."""

from __future__ import annotations

import inspect
from pathlib import Path

import plugins.contract as contract

DOC = (Path(__file__).resolve().parent.parent / "docs" / "PLUGINS.md").read_text("utf-8")


def _public_members() -> list[tuple[str, object]]:
    members = []
    for name, value in vars(contract.SourcePlugin).items():
        if not name.startswith("_"):
            members.append((name, value))
    return members


def test_every_contract_method_has_a_docstring() -> None:
    missing = []
    for name, value in _public_members():
        target = value.fget if isinstance(value, property) else value
        if callable(target) and not inspect.getdoc(target):
            missing.append(name)
    assert not missing, f"contract methods without docstrings: {missing}"


def test_every_contract_member_is_described_in_plugins_md() -> None:
    names = [name for name, _ in _public_members()] + ["Row", "RowError", "CONTRACT_VERSION"]
    missing = [n for n in names if f"`{n}" not in DOC]
    assert not missing, f"docs/PLUGINS.md does not describe: {missing}"


def test_plugins_md_mapping_example_is_valid() -> None:
    import tomllib

    from plugins.mapping import parse_mapping

    start = DOC.index("```toml\n[source]") + len("```toml\n")
    block = DOC[start : DOC.index("```", start)]
    mapping = parse_mapping(tomllib.loads(block), "docs/PLUGINS.md")
    assert [link.type for link in mapping.links] == ["passed"]
