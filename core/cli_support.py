"""What every ``superbrain`` command shares: the workspace, times in its zone, and output.

A command module (``*/cli.py``) uses these and nothing of its own:

- :func:`add_workspace_arg` and :func:`add_json_arg` declare ``-w`` and ``--json``;
- :func:`open_workspace` is the one way a command opens its workspace: it logs in (on a
  workspace with accounts) and reads the command's time arguments in the workspace's zone;
  :func:`service_context` gives the authenticated context the services take;
- :func:`time_arg` is the ``type=`` of every date/time argument: ``2026-03-01`` and
  ``2026-03-01T08:00`` are wall-clock times in the workspace's zone, ``…+01:00`` or ``…Z``
  are honoured as written;
- :func:`emit` prints either the JSON value (``--json``; times stay ISO-8601 with their
  offset) or the lines of text; :func:`table` makes those lines for a listing, with a header
  that names the workspace's zone over each time column (``received (Asia/Shanghai)``);
- :func:`local_time` formats one time in the zone (with its abbreviation or offset);
- :class:`ProgressPrinter` and :func:`cancel_on_sigint` give long commands progress on stderr
  and a clean Ctrl+C.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from core.progress import CancelToken, Progress
from core.timezones import as_utc, format_local

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from core.services import ServiceContext
    from core.workspace import Workspace

DEFAULT_WORKSPACE = Path(os.environ.get("SUPERBRAIN_WORKSPACE", "workspace"))


# -- arguments -------------------------------------------------------------------------------------
def add_workspace_arg(parser: argparse.ArgumentParser) -> None:
    """``-w/--workspace``: a workspace folder, or a centre's ``centre.toml``."""
    parser.add_argument(
        "-w",
        "--workspace",
        type=Path,
        default=DEFAULT_WORKSPACE,
        help="workspace folder, or a centre's centre.toml (default: "
        "$SUPERBRAIN_WORKSPACE or ./workspace)",
    )


def add_json_arg(parser: argparse.ArgumentParser) -> None:
    """``--json``: machine-readable output (see :func:`emit`)."""
    parser.add_argument(
        "--json",
        action="store_true",
        help="machine-readable output (times in ISO-8601 with their offset)",
    )


@dataclass(frozen=True)
class TimeArg:
    """A date/time as typed on the command line, before the workspace's zone is known.

    :func:`open_workspace` replaces it with an aware UTC datetime.
    """

    text: str
    value: datetime

    def resolve(self, zone: ZoneInfo) -> datetime:
        """The time in UTC; a naive value is wall-clock time in ``zone``."""
        return as_utc(self.value, zone)


def time_arg(text: str) -> TimeArg:
    """The argparse ``type`` of a date/time option (see the module docstring)."""
    try:
        return TimeArg(text, datetime.fromisoformat(text.strip()))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO date or date-time (e.g. 2026-03-01, 2026-03-01T08:00 in "
            "the workspace's time zone, or 2026-03-01T08:00+08:00)"
        ) from None


def resolve_times(args: argparse.Namespace, zone: ZoneInfo) -> None:
    """Replace every :class:`TimeArg` in ``args`` with its UTC datetime in ``zone``."""
    for name, value in vars(args).items():
        if isinstance(value, TimeArg):
            setattr(args, name, value.resolve(zone))


# -- the workspace ---------------------------------------------------------------------------------
def open_unauthenticated(args: argparse.Namespace) -> Workspace:
    """The workspace of ``-w``, not logged in yet: a folder, or a centre's ``centre.toml`` (the
    same commands then act on its PostgreSQL, e.g. an ingest job on a machine of its own).

    Only ``audit verify`` and ``audit repair`` stop here (they must work on a damaged log, to
    which a login could not append); every other command uses :func:`open_workspace`.
    """
    from core.extensions import WORKSPACES, load_all
    from core.workspace import Workspace

    for _ext, opener in load_all(WORKSPACES):  # the centre's: a centre.toml
        ws = opener(Path(args.workspace), f"superbrain-{args.command}")
        if ws is not None:
            resolve_times(args, ws.zone)
            return ws
    ws = Workspace.open(args.workspace)
    resolve_times(args, ws.zone)
    return ws


def open_workspace(args: argparse.Namespace) -> Workspace:
    """Open the workspace of ``-w`` and authenticate its session at once.

    On a workspace with accounts every command logs in (``SUPERBRAIN_USER`` +
    ``SUPERBRAIN_PASSWORD``, or a prompt on a terminal) before it reads or changes anything;
    ``SUPERBRAIN_USER`` alone is refused. The command's :func:`time_arg` values are read in the
    workspace's zone.
    """
    from core.security import current_session

    ws = open_unauthenticated(args)
    current_session(ws)
    return ws


def service_context(args_or_ws: argparse.Namespace | Workspace) -> ServiceContext:
    """The :class:`core.services.ServiceContext` of a command: the workspace of ``-w`` (or a
    workspace already opened) with its authenticated session."""
    from core.services import local_context

    ws = open_workspace(args_or_ws) if isinstance(args_or_ws, argparse.Namespace) else args_or_ws
    return local_context(ws)


# -- output ----------------------------------------------------------------------------------------
def print_json(value: Any) -> None:
    """``value`` as indented JSON (non-ASCII kept; datetimes and paths as text)."""
    print(json.dumps(value, ensure_ascii=False, indent=2, default=_json_default))


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def emit(
    args: argparse.Namespace, value: Any, text: Sequence[str] | str, notes: Sequence[str] = ()
) -> int:
    """The one ``--json`` switch: print ``value`` as JSON with ``--json``, else ``text`` (a
    string or lines) and then ``notes`` (warnings, hints) on stderr. Returns 0, the exit code
    of a command that got this far."""
    if json_wanted(args):
        print_json(value)
        return 0
    if isinstance(text, str):
        print(text)
    else:
        for line in text:
            print(line)
    for note in notes:
        print(note, file=sys.stderr)
    return 0


def json_wanted(args: argparse.Namespace) -> bool:
    """Whether the command was asked for ``--json`` (e.g. to leave progress off stderr)."""
    return bool(getattr(args, "json", False))


def local_time(
    value: datetime | float | str | None,
    zone: ZoneInfo,
    *,
    seconds: bool = False,
    label: bool = True,
) -> str:
    """A time for people: wall-clock time in ``zone`` (``2026-03-01 02:10 CST``).

    ``value`` is an aware datetime, a UTC-naive one (as the store returns them), epoch seconds
    or ISO-8601 text as a service answers (naive text is UTC too); ``None`` or ``""`` gives
    ``-``. ``label=False`` leaves the zone to a column header.
    """
    from datetime import UTC

    when: datetime | None
    if isinstance(value, str):
        when = datetime.fromisoformat(value) if value else None
    elif isinstance(value, int | float):
        when = datetime.fromtimestamp(value, tz=UTC)
    else:
        when = value
    return format_local(when, zone, seconds=seconds, label=label)


def zone_caption(zone: ZoneInfo) -> str:
    """The zone's name for a column header (``Asia/Shanghai``)."""
    return str(getattr(zone, "key", None) or zone)


@dataclass(frozen=True)
class Column:
    """One column of :func:`table`.

    ``value(row)`` gives the cell; a ``time`` column's cell is anything :func:`local_time`
    takes, shown in the workspace's zone, which its header names. ``width`` pads (negative: right
    aligned); the last column is never padded.
    """

    title: str
    value: Callable[[Any], Any]
    width: int = 0
    time: bool = False
    seconds: bool = False


def table(
    rows: Sequence[Any], columns: Sequence[Column], zone: ZoneInfo, *, header: bool = True
) -> list[str]:
    """Lines of a listing: a header (time columns titled ``time (Asia/Shanghai)``), then one
    line per row."""
    caption = zone_caption(zone)
    titles = [f"{c.title} ({caption})" if c.time else c.title for c in columns]
    cells = [
        [
            local_time(c.value(r), zone, seconds=c.seconds, label=False)
            if c.time
            else str(c.value(r))
            for c in columns
        ]
        for r in rows
    ]
    widths = [
        max([abs(c.width), len(t) if header else 0] + [len(row[i]) for row in cells])
        for i, (c, t) in enumerate(zip(columns, titles, strict=True))
    ]

    def line(values: Sequence[str]) -> str:
        out = []
        for i, (c, v) in enumerate(zip(columns, values, strict=True)):
            if i == len(columns) - 1:
                out.append(v)
            else:
                out.append(v.rjust(widths[i]) if c.width < 0 else v.ljust(widths[i]))
        return "  ".join(out).rstrip()

    return ([line(titles)] if header else []) + [line(row) for row in cells]


# -- long work -------------------------------------------------------------------------------------
class ProgressPrinter:
    """Prints progress to stderr: one rewritten line on a terminal, a line every 5 s otherwise."""

    def __init__(self, label: str = "") -> None:
        self.label = label
        self.tty = sys.stderr.isatty()
        self._last = 0.0

    def __call__(self, p: Progress) -> None:
        text = f"{self.label} {p.describe()}".strip()
        if self.tty:
            sys.stderr.write("\r\x1b[K" + text)
            sys.stderr.flush()
        elif time.monotonic() - self._last > 5:
            self._last = time.monotonic()
            print(text, file=sys.stderr)

    def done(self) -> None:
        if self.tty:
            sys.stderr.write("\n")

    @classmethod
    def unless_json(cls, args: argparse.Namespace, label: str = "") -> ProgressPrinter | None:
        """A printer, or None for a ``--json`` command (its output is for a program)."""
        return None if json_wanted(args) else cls(label)


def call_with_progress(name: str, ctx: ServiceContext, label: str, **params: Any) -> Any:
    """Call the long service ``name`` with its progress on stderr (``label`` first) and Ctrl+C
    as its cancel (:func:`cancel_on_sigint`): the migrations and rebuilds of the command line."""
    from core.services import call

    printer = ProgressPrinter(label)
    try:
        return call(name, ctx, progress=printer, cancel=cancel_on_sigint(), **params)
    finally:
        printer.done()


def cancel_on_sigint() -> CancelToken:
    """First Ctrl+C asks the job to stop at the next checkpoint; the second one aborts."""
    token = CancelToken()

    def handler(signum: int, frame: FrameType | None) -> None:
        if token.cancelled:
            raise KeyboardInterrupt
        print("\ncancelling after the current batch (Ctrl+C again to abort)…", file=sys.stderr)
        token.cancel()

    signal.signal(signal.SIGINT, handler)
    return token
