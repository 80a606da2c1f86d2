"""Streaming readers for tabular files: CSV (UTF-8 ± BOM, GBK/GB18030, UTF-16 ± BOM), JSON Lines,
Excel.

Each yields :class:`~plugins.contract.Row` objects with their line numbers, or a
:class:`~core.errors.RowError` for a row that cannot be parsed, and never holds the file in memory.
"""

from __future__ import annotations

import codecs
import csv
import json
import logging
from collections.abc import Iterator
from pathlib import Path

from core.errors import PluginError, RowError
from plugins.contract import Row

log = logging.getLogger(__name__)

_SNIFF_BYTES = 256 * 1024


_RAW_LIMIT = 10_000  # characters of an unparsed row kept in the rejects file


def _utf16_without_bom(head: bytes) -> str | None:
    """``utf-16-le``/``-be`` when the sample looks like BOM-less UTF-16 text, else None.

    A CSV always holds ASCII commas, digits and line ends; in UTF-16 each has a NUL byte next
    to it, on the odd positions (little-endian) or the even ones (big-endian).
    """
    sample = head[: len(head) - len(head) % 2]
    if len(sample) < 4:
        return None
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    half = len(sample) // 2
    for zeros, others, codec in ((odd, even, "utf-16-le"), (even, odd, "utf-16-be")):
        if zeros >= half * 0.2 and others <= half * 0.02:
            try:
                sample.decode(codec)
            except UnicodeDecodeError as exc:
                if exc.start < len(sample) - 4:
                    continue
            return codec
    return None


def detect_encoding(path: Path) -> str:
    """Guess a text file's encoding from its first bytes.

    UTF-8 (with or without BOM), UTF-16 (with or without BOM) and GB18030 (a superset of GBK
    and GB2312, so one codec reads all three) are recognised; others are left to
    charset-normalizer.

    Raises
    ------
    PluginError
        When no encoding fits, naming what was tried and how to declare the encoding.
    """
    with path.open("rb") as fh:
        head = fh.read(_SNIFF_BYTES)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    bomless = _utf16_without_bom(head)
    if bomless:
        return bomless
    # A sample cut mid-character must not count against UTF-8: trim the last partial sequence.
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 4 and exc.reason == "unexpected end of data":
            return "utf-8"
        utf8_bad_at = exc.start
    try:
        head.decode("gb18030")
        return "gb18030"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(head).best()
    if best is not None:
        return str(best.encoding)
    raise PluginError(
        f"{str(path)!r}: cannot tell the file's encoding: it is not UTF-8 (invalid byte at "
        f"offset {utf8_bad_at}), GBK/GB18030 or UTF-16. Save it as UTF-8, or declare "
        '`encoding = "..."` in the mapping\'s [source] table'
    )


def _decoded_lines(path: Path, encoding: str, bad_lines: dict[int, str]) -> Iterator[str]:
    """Decode line by line so one undecodable line is quarantined, not the whole file."""
    if encoding.replace("_", "-").lower().startswith("utf-16"):  # not line-decodable byte-wise
        with path.open(encoding=encoding, newline="") as fh:
            number = 0
            try:
                for number, line in enumerate(fh, start=1):
                    yield line.removeprefix("\ufeff") if number == 1 else line
            except UnicodeError as exc:  # damaged UTF-16 cannot be resynchronised: stop here
                raise PluginError(
                    f"{str(path)!r}: line {number + 1}: not valid {encoding.upper()}: {exc}"
                ) from None
        return
    with path.open("rb") as fh:
        for number, raw in enumerate(fh, start=1):
            if number == 1 and encoding == "utf-8-sig" and raw.startswith(codecs.BOM_UTF8):
                raw = raw[len(codecs.BOM_UTF8) :]
            try:
                yield raw.decode(encoding)
            except UnicodeDecodeError as exc:
                bad_lines[number] = f"cannot decode as {encoding}: {exc.reason} at byte {exc.start}"
                yield raw.decode(encoding, errors="replace")


def _header_error(path: Path, encoding: str, exc: csv.Error) -> PluginError:
    hint = ""
    if "NUL" in str(exc):
        hint = (
            f" (read as {encoding}; NUL bytes usually mean another encoding such as "
            "UTF-16: declare `encoding` in the mapping's [source] table)"
        )
    return PluginError(f"{str(path)!r}: line 1: unreadable header: {exc}{hint}")


def read_csv(
    path: Path, *, delimiter: str | None = None, encoding: str | None = None
) -> Iterator[Row | RowError]:
    """Yield the rows of a CSV file; the first row names the columns.

    ``encoding`` overrides detection (see :func:`detect_encoding`).
    """
    encoding = encoding or detect_encoding(path)
    bad_lines: dict[int, str] = {}
    lines = _decoded_lines(path, encoding, bad_lines)
    if delimiter is None:
        delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    reader = csv.reader(lines, delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error as exc:
        raise _header_error(path, encoding, exc) from None
    header = [h.strip() for h in header]
    if len(set(header)) != len(header):
        dupes = sorted({h for h in header if header.count(h) > 1})
        raise PluginError(f"{str(path)!r}: line 1: duplicate column names {dupes}")
    start = reader.line_num + 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield RowError(f"malformed CSV: {exc}", line=start)
            start = reader.line_num + 1
            continue
        line, start = start, reader.line_num + 1
        if not cells or (len(cells) == 1 and not cells[0].strip()):
            continue
        bad = next((bad_lines[n] for n in range(line, start) if n in bad_lines), None)
        if bad is not None:
            yield RowError(bad, line=line, raw=_bounded(cells))
        elif len(cells) != len(header):
            yield RowError(
                f"expected {len(header)} columns, got {len(cells)}", line=line, raw=_bounded(cells)
            )
        else:
            yield Row(line, dict(zip(header, cells, strict=True)))


def _bounded(cells: list[str]) -> list[str]:
    out, left = [], _RAW_LIMIT
    for cell in cells:
        out.append(cell[:left])
        left -= len(out[-1])
        if left <= 0:
            break
    return out


def read_header(path: Path, *, encoding: str | None = None) -> list[str] | None:
    """The column names of a CSV or Excel file (None for JSON Lines, which has no header)."""
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv", ".txt"):
        enc = encoding or detect_encoding(path)
        lines = _decoded_lines(path, enc, {})
        try:
            row = next(csv.reader(lines, delimiter="\t" if suffix == ".tsv" else ","), [])
        except csv.Error as exc:
            raise _header_error(path, enc, exc) from None
        finally:
            lines.close()  # type: ignore[attr-defined]
        return [h.strip() for h in row]
    if suffix in (".xlsx", ".xlsm"):
        import openpyxl

        try:
            book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many types for a damaged file
            raise PluginError(f"{str(path)!r}: not a readable .xlsx workbook: {exc}") from exc
        try:
            first = next(book.worksheets[0].iter_rows(values_only=True), ())
        finally:
            book.close()
        return [str(h).strip() for h in first if h is not None]
    return None


def read_jsonl(path: Path) -> Iterator[Row | RowError]:
    """Yield one row per JSON object line; blank lines are skipped."""
    with path.open("rb") as fh:
        for number, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            try:
                value = json.loads(raw)
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                yield RowError(
                    f"invalid JSON: {exc}",
                    line=number,
                    raw=raw[:_RAW_LIMIT].decode("utf-8", errors="replace"),
                )
                continue
            if not isinstance(value, dict):
                yield RowError(
                    f"expected a JSON object, got {type(value).__name__}",
                    line=number,
                    raw=raw[:_RAW_LIMIT].decode("utf-8", errors="replace"),
                )
                continue
            yield Row(number, value)


def read_xlsx(path: Path, *, sheet: str | None = None) -> Iterator[Row | RowError]:
    """Yield the rows of the first (or named) sheet; the first row names the columns."""
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged file
        raise PluginError(f"{str(path)!r}: not a readable .xlsx workbook: {exc}") from exc
    number = 1
    try:
        ws = book[sheet] if sheet else book.worksheets[0]
        rows = ws.iter_rows(values_only=True)
        header_cells = next(rows, None)
        if header_cells is None:
            return
        header = [str(h).strip() if h is not None else "" for h in header_cells]
        for number, cells in enumerate(rows, start=2):
            if all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
                continue
            values = {h: c for h, c in zip(header, cells, strict=False) if h}
            yield Row(number, values)
    except KeyError:
        raise PluginError(f"{str(path)!r}: no sheet named {sheet!r}") from None
    except Exception as exc:  # read-only mode parses the sheet lazily: damage shows up here
        raise PluginError(
            f"{str(path)!r}: row {number + 1}: damaged workbook: {type(exc).__name__}: {exc}"
        ) from exc
    finally:
        book.close()


def read_any(path: Path, *, encoding: str | None = None) -> Iterator[Row | RowError]:
    """Dispatch on the file extension: .csv/.tsv/.txt, .jsonl/.ndjson, .xlsx.

    ``encoding`` (CSV only) overrides detection.
    """
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv", ".txt"):
        return read_csv(path, encoding=encoding)
    if suffix in (".jsonl", ".ndjson", ".json"):
        return read_jsonl(path)
    if suffix in (".xlsx", ".xlsm"):
        return read_xlsx(path)
    raise PluginError(f"{str(path)!r}: unsupported file type {suffix!r} (csv, jsonl, xlsx)")
