"""Discovery of data-source plugins: entry points and plugin folders, never raising.

Built-in sources are found through the same ``superbrain.sources`` entry-point group as
third-party ones. A plugin that fails to import or to construct becomes a :class:`PluginFailure`
with its error; the others load as usual.

Trust: each plugin's code is hashed (SHA-256 of the file, or of every file of a package)
*before* it is imported. With an allow-list (``[plugins] allowed_sha256`` in the workspace
config) a folder or third-party plugin whose hash is not listed is refused without running
any of its code. Loading runs under a time limit (``load_timeout``), so a plugin that sleeps
at import or in its constructor fails alone instead of hanging every caller.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import re
import sys
import traceback
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import partial
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from types import ModuleType
from typing import Any

from core.timeouts import LOAD_TIMEOUT, call_with_timeout
from core.timeouts import READ_TIMEOUT as READ_TIMEOUT  # re-exported, documented here before
from core.timeouts import PluginTimeoutError as PluginTimeoutError
from core.timeouts import timed_iter as timed_iter
from plugins.contract import SourcePlugin

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "superbrain.sources"
_PLUGIN_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")
#: Entry points of superbrain's own package are part of the application, not third-party code.
BUILTIN_PREFIX = "plugins.builtin"


@dataclass(frozen=True)
class LoadedPlugin:
    """A plugin that loaded: the instance, where it came from and a hash of its code."""

    plugin: SourcePlugin
    origin: str
    sha256: str


@dataclass(frozen=True)
class PluginFailure:
    """A plugin that did not load, with the reason a user can act on."""

    name: str
    origin: str
    error: str
    detail: str = ""


@dataclass
class Discovery:
    """What discovery found: plugins by name, and failures (never an exception)."""

    loaded: dict[str, LoadedPlugin] = field(default_factory=dict)
    failed: list[PluginFailure] = field(default_factory=list)

    def get(self, name: str) -> SourcePlugin:
        if name in self.loaded:
            return self.loaded[name].plugin
        for failure in self.failed:
            if failure.name == name:
                raise KeyError(f"source {name!r} is broken: {failure.error}")
        import difflib

        known = ", ".join(sorted(self.loaded)) or "none"
        near = difflib.get_close_matches(name, [*self.loaded, *(f.name for f in self.failed)], 1)
        hint = f"; did you mean {near[0]!r}?" if near else ""
        broken = "".join(f"; broken: {f.name} ({f.origin})" for f in self.failed)
        raise KeyError(f"no source named {name!r}{hint} (loaded: {known}{broken})")

    def plugins(self) -> list[SourcePlugin]:
        return [lp.plugin for lp in self.loaded.values()]


def _hash_file(path: str | None) -> str:
    if not path:
        return ""
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return ""


def code_hash(path: Path) -> str:
    """SHA-256 of a plugin's code: the file, or for a package every file under it (names
    and contents, in sorted order), so swapping any module of a package changes the hash."""
    path = Path(path)
    if not path.is_dir():
        return _hash_file(str(path))
    h = hashlib.sha256()
    for f in sorted(p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        h.update(str(f.relative_to(path)).encode("utf-8", "surrogatepass") + b"\0")
        h.update(f.read_bytes())
        h.update(b"\0")
    return h.hexdigest()


def _check_allowed(sha: str, allowed: frozenset[str] | None, origin: str) -> None:
    if allowed is not None and sha not in allowed:
        raise PermissionError(
            f"{origin}: code sha256 {sha or '(unreadable)'} is not in the "
            "workspace's [plugins] allowed_sha256 list; not loaded"
        )


def _instantiate(obj: Any, origin: str) -> SourcePlugin:
    plugin = (
        obj()
        if isinstance(obj, type) or (callable(obj) and not isinstance(obj, SourcePlugin))
        else obj
    )
    if not isinstance(plugin, SourcePlugin):
        raise TypeError(f"{origin} gave {type(plugin).__name__}, not a SourcePlugin")
    if not plugin.name:
        raise TypeError(f"{origin}: plugin has no name")
    # The name ends up in file names, the CLI and the audit; metadata must be plain text.
    if not isinstance(plugin.name, str) or not _PLUGIN_NAME.fullmatch(plugin.name):
        raise TypeError(
            f"{origin}: plugin name {plugin.name!r} must be 1-64 letters, digits, "
            "'_' or '-', starting with a letter"
        )
    for attr in ("version", "description"):
        if not isinstance(getattr(plugin, attr), str):
            raise TypeError(
                f"{origin}: plugin {plugin.name!r}: {attr} must be a string, not "
                f"{getattr(plugin, attr)!r}"
            )
    formats = plugin.formats
    if not isinstance(formats, tuple | list) or not all(isinstance(f, str) for f in formats):
        raise TypeError(
            f"{origin}: plugin {plugin.name!r}: formats must be a tuple of "
            f"extensions, not {formats!r}"
        )
    return plugin


def _add(result: Discovery, plugin: SourcePlugin, origin: str, sha: str) -> None:
    if plugin.name in result.loaded:
        first = result.loaded[plugin.name].origin
        result.failed.append(
            PluginFailure(
                plugin.name, origin, f"duplicate source name {plugin.name!r} (first from {first})"
            )
        )
        return
    result.loaded[plugin.name] = LoadedPlugin(plugin, origin, sha)


def _failure(name: str, origin: str, exc: BaseException) -> PluginFailure:
    detail = "".join(traceback.format_exception(exc))
    return PluginFailure(name, origin, f"{type(exc).__name__}: {exc}", detail)


def _entry_point_file(ep: EntryPoint) -> str | None:
    try:
        spec = importlib.util.find_spec(ep.module)
    except (ImportError, ValueError):
        return None
    return spec.origin if spec is not None else None


def _load_entry_point(ep: EntryPoint, origin: str) -> SourcePlugin:
    return _instantiate(ep.load(), origin)


def load_entry_points(
    result: Discovery,
    eps: Iterable[EntryPoint],
    allowed: frozenset[str] | None = None,
    timeout: float = LOAD_TIMEOUT,
) -> None:
    for ep in eps:
        origin = f"entry point {ep.name} = {ep.value}"
        try:
            sha = _hash_file(_entry_point_file(ep))
            if not ep.module.startswith(BUILTIN_PREFIX):
                _check_allowed(sha, allowed, origin)
            plugin = call_with_timeout(
                partial(_load_entry_point, ep, origin), timeout, f"loading {origin}"
            )
            _add(result, plugin, origin, sha)
        except (Exception, SystemExit) as exc:  # a broken plugin never stops discovery
            log.warning("plugin %s failed to load: %s", ep.name, exc)
            result.failed.append(_failure(ep.name, origin, exc))


def _import_file(path: Path) -> ModuleType:
    mod_name = f"superbrain_user_plugin_{path.stem}"
    target = path / "__init__.py" if path.is_dir() else path
    spec = importlib.util.spec_from_file_location(
        mod_name, target, submodule_search_locations=[str(path)] if path.is_dir() else None
    )
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {str(path)!r}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[mod_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(mod_name, None)
        raise
    return module


def _load_module_plugins(path: Path, origin: str) -> list[SourcePlugin]:
    module = _import_file(path)
    objs = getattr(module, "PLUGINS", None) or [getattr(module, "plugin", None)]
    if objs == [None]:
        raise AttributeError("module defines neither `plugin` nor `PLUGINS`")
    return [_instantiate(obj, origin) for obj in objs]


def load_folder(
    result: Discovery,
    folder: Path,
    allowed: frozenset[str] | None = None,
    timeout: float = LOAD_TIMEOUT,
) -> None:
    """Load every ``*.py`` module, package and ``*.toml`` mapping in ``folder``.

    A module exposes ``plugin`` (an instance or factory) or ``PLUGINS`` (a list of them).
    With ``allowed`` (hashes), code whose hash is not listed is refused before it runs.
    """
    from plugins.mapping import MappingSource
    from plugins.mapping_spec import read_mapping_name

    if not folder.is_dir():
        return
    for path in sorted(folder.iterdir()):
        if path.name.startswith(("_", ".")):
            continue
        origin = str(path)
        try:
            if path.suffix == ".toml":
                sha = code_hash(path)
                _check_allowed(sha, allowed, origin)
                _add(result, MappingSource.from_file(path), origin, sha)
            elif path.suffix == ".py" or (path.is_dir() and (path / "__init__.py").exists()):
                sha = code_hash(path)
                _check_allowed(sha, allowed, origin)
                plugins = call_with_timeout(
                    partial(_load_module_plugins, path, origin), timeout, f"loading {origin}"
                )
                for plugin in plugins:
                    _add(result, plugin, origin, sha)
        except (Exception, SystemExit) as exc:  # sys.exit() at import must not end the app
            log.warning("plugin %s failed to load: %s", path, exc)
            # a broken mapping is listed under the source name it declares, when it has one
            name = (read_mapping_name(path) if path.suffix == ".toml" else None) or path.stem
            result.failed.append(_failure(name, origin, exc))


def discover(
    folders: Iterable[Path] = (),
    *,
    use_entry_points: bool = True,
    group: str = ENTRY_POINT_GROUP,
    allowed_sha256: Iterable[str] | None = None,
    load_timeout: float = LOAD_TIMEOUT,
) -> Discovery:
    """Find every source plugin; returns what loaded and what failed, never raises.

    ``allowed_sha256``: when given, only folder and third-party plugins whose code hash is
    listed load (built-ins always do); ``load_timeout``: seconds per plugin load.
    """
    result = Discovery()
    allowed = frozenset(h.lower() for h in allowed_sha256) if allowed_sha256 is not None else None
    if use_entry_points:
        load_entry_points(result, entry_points(group=group), allowed, load_timeout)
    for folder in folders:
        load_folder(result, Path(folder), allowed, load_timeout)
    return result
