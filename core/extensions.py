"""One discovery path for every kind of extension: entry-point groups.

CLI commands, ingest stages, engines, console panels, service modules and data sources are all
found the same way: an entry point in a ``superbrain.*`` group. The built-in ones are declared in
``pyproject.toml`` (``[project.entry-points."superbrain.…"]``) like any third-party package's, so a
package adds a panel or a command by declaring an entry point, with no change here.

Built-ins are read from two places that say the same thing: the installed distribution's
metadata, and — in a source checkout — the ``pyproject.toml`` beside the packages, which is the
one place they are declared. The second keeps an editable install whose metadata predates a new
built-in (``pip install -e .`` not re-run yet) working; installed metadata alone serves a wheel.

Order: built-ins in the order ``pyproject.toml`` declares them, then every other entry point by
name. An extension whose module cannot be imported because an optional package is missing is
skipped (:func:`load_optional`); any other import error names the extension and propagates.
"""

from __future__ import annotations

import importlib
import logging
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from core.errors import PluginError

log = logging.getLogger(__name__)

#: The entry-point groups superbrain reads (data sources: ``plugins.registry``).
COMMANDS = "superbrain.commands"  # a module with ``register(subparsers)``
STAGES = "superbrain.stages"  # ``make_stage(workspace) -> IngestStage | None``
ENGINES = "superbrain.engines"  # an engine package (search, graph, facematch, ops, …)
PANELS = "superbrain.panels"  # a console panel class ``Panel(ctx, bus)``
SERVICES = "superbrain.services"  # a module whose import registers ``@service`` functions
SOURCES = "superbrain.sources"  # a data-source plugin (``plugins.contract.SourcePlugin``)
WORKSPACES = "superbrain.workspaces"  # ``open(path, application_name) -> Workspace | None``
RECORD_MATCHERS = "superbrain.record_matchers"  # ``factory(workspace) -> match(records)``
CASE_GATE = "superbrain.case_gate"  # ``gate(workspace, number, user, action)``, see core.case_gate
STORE_TABLES = "superbrain.store_tables"  # SQLite DDL of tables a workspace store may hold

_PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"
_PROJECT = "superbrain"


@dataclass(frozen=True)
class Extension:
    """One entry point: ``name = "module[:attr]"`` in ``group``, from ``origin``."""

    group: str
    name: str
    value: str
    origin: str  # "superbrain" (built-in) or the distribution that declares it

    @property
    def module(self) -> str:
        return self.value.partition(":")[0].strip()

    @property
    def attr(self) -> str:
        return self.value.partition(":")[2].strip()

    def load(self) -> Any:
        """The module, or the object ``attr`` names in it."""
        obj: Any = importlib.import_module(self.module)
        for part in filter(None, self.attr.split(".")):
            try:
                obj = getattr(obj, part)
            except AttributeError:
                raise PluginError(
                    f"extension {self.name!r} of {self.group} ({self.origin}): "
                    f"{self.module} has no {self.attr!r}"
                ) from None
        return obj


@cache
def _declared_builtins() -> dict[str, dict[str, str]]:
    """``[project.entry-points]`` of the checkout's pyproject.toml ({} outside a checkout)."""
    try:
        data = tomllib.loads(_PYPROJECT.read_text("utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return {}
    project = data.get("project", {})
    if project.get("name") != _PROJECT:
        return {}
    groups = project.get("entry-points", {})
    return {g: dict(eps) for g, eps in groups.items() if isinstance(eps, dict)}


def extensions(group: str) -> list[Extension]:
    """Every extension of ``group``: built-ins in declared order, then the others by name.

    A name declared twice keeps its first declaration (built-ins win), and the clash is logged.
    """
    found: dict[str, Extension] = {}
    for name, value in _declared_builtins().get(group, {}).items():
        found[name] = Extension(group, name, value, _PROJECT)
    installed = sorted(entry_points(group=group), key=lambda ep: ep.name)
    for ep in installed:
        dist = ep.dist.name if ep.dist is not None else "?"
        ext = Extension(group, ep.name, ep.value, dist)
        if ep.name not in found:
            found[ep.name] = ext
        elif found[ep.name].value != ep.value:
            log.warning(
                "%s: %r of %s ignored, %r (%s) is declared first",
                group,
                ep.name,
                dist,
                found[ep.name].value,
                found[ep.name].origin,
            )
    builtins = [e for e in found.values() if e.origin == _PROJECT]
    return builtins + [e for e in found.values() if e.origin != _PROJECT]


def load_optional(ext: Extension) -> Any | None:
    """Load ``ext``; None when its module (or a package it needs) is not installed.

    Only a missing *module of the extension itself* (or one of its parents) counts as "not
    installed"; a missing dependency deeper down is an error and propagates.
    """
    try:
        return ext.load()
    except ModuleNotFoundError as exc:
        if exc.name and (ext.module == exc.name or ext.module.startswith(f"{exc.name}.")):
            log.info("%s %r not installed (%s)", ext.group, ext.name, exc.name)
            return None
        raise


def load_all(
    group: str, *, on_error: Callable[[Extension, Exception], None] | None = None
) -> list[tuple[Extension, Any]]:
    """Load every installed extension of ``group`` (missing optional ones skipped).

    With ``on_error`` an extension that fails to load is reported to it and skipped; without,
    the error propagates.
    """
    out = []
    for ext in extensions(group):
        try:
            obj = load_optional(ext)
        except Exception as exc:
            if on_error is None:
                raise
            on_error(ext, exc)
            continue
        if obj is not None:
            out.append((ext, obj))
    return out
