"""Table sources: a file opened for reading in chunks of raw cells.

Every reader yields :class:`Chunk` objects: a DataFrame of raw cells whose index holds
the rows' 0-based positions in the file, the physical line on which each row starts, and
the rows whose line had more or fewer fields than the header (ragged lines).

Delimited text has two engines that give identical chunks:

* ``"arrow"`` (with the optional pyarrow): a streaming, multi-threaded parser;
  it hands over to the exact engine by raising :class:`RestartRequired` when the file
  turns out to have ragged or blank lines or bytes that are not UTF-8;
* ``"python"``: the standard library's :mod:`csv` module, which counts physical lines
  itself; used for other encodings, for files with ragged lines and without pyarrow.

Memory use is bounded by the chunk size, independently of the file's size.
"""

from __future__ import annotations

import codecs
import csv
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from ..errors import DataError, MissingDependencyError, UnreadableFileError
from .layout import TextLayout, detect_identifiers, sniff_layout

__all__ = [
    "CHUNK_BYTES",
    "Chunk",
    "Engine",
    "RestartRequired",
    "TableFormat",
    "TableSource",
    "detect_format",
    "open_table",
]

CHUNK_BYTES: Final = 2 << 20
_MAX_PIECE_ROWS: Final = 1 << 30
"""Row limit of one piece of a binary file (the readers take a C ``int``)."""
_FIELD_LIMIT: Final = (1 << 31) - 1
Engine = Literal["auto", "arrow", "python"]
TableFormat = Literal["csv", "tsv", "xlsx", "sav", "dta", "parquet"]
_SUFFIXES: Final[dict[str, TableFormat]] = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".sav": "sav",
    ".zsav": "sav",
    ".dta": "dta",
    ".parquet": "parquet",
    ".pq": "parquet",
}


class RestartRequired(Exception):  # noqa: N818 - a signal, not an error
    """The fast engine met something only the exact engine handles; read again with it."""

    def __init__(self, reason: str, encoding: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.encoding = encoding


@dataclass(frozen=True, eq=False)
class Chunk:
    """Consecutive rows of a table, as raw cells."""

    frame: pd.DataFrame
    """Raw cells; the index holds each row's 0-based position in the file."""
    lines: NDArray[np.int64]
    """Physical line (1-based) on which each row starts; for spreadsheets the sheet's
    row number, for record-based formats (SPSS, Stata, parquet) the record number."""
    ragged: NDArray[np.int64] = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    """Positions (within the chunk) of rows whose line had the wrong number of fields."""
    ragged_fields: NDArray[np.int64] = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    """Number of fields found on each ragged line."""
    progress: float = 1.0
    """Fraction of the input read so far (for progress displays)."""
    undecodable: tuple[tuple[int, str], ...] = ()
    """Cells (position within the chunk, column name) that held bytes invalid in the
    file's encoding; each such byte is read as U+FFFD, every other cell intact."""
    duplicates: NDArray[np.int64] | None = None
    """Rows that repeat an earlier row's identifiers, as (position within the chunk, line
    of the first such row) pairs, when they were found as the chunk was read (see
    :class:`~alliance_score.io.accounting.DuplicateFinder`); ``None``: not looked for."""


def detect_format(path: str | os.PathLike[str]) -> TableFormat:
    """The table format from the file name's suffix (``csv`` when it says nothing).

    >>> detect_format("export.SAV"), detect_format("data.tsv"), detect_format("x.dat")
    ('sav', 'tsv', 'csv')
    """
    suffix = os.path.splitext(os.fspath(path))[1].lower()
    return _SUFFIXES.get(suffix, "csv")


@dataclass(frozen=True, eq=False)
class TableSource:
    """A table file opened for chunked reading (see :func:`open_table`)."""

    path: str
    format: TableFormat
    columns: tuple[str, ...]
    layout: TextLayout | None
    """Set for delimited text; ``None`` for the other formats."""
    value_labels: dict[str, dict[Any, str]] = field(default_factory=dict)
    """Value labels per column (SPSS and Stata)."""
    sheet: str | None = None
    """The Excel sheet read (``None``: the first)."""

    @property
    def kind(self) -> str:
        """The export's kind: ``csv``, ``qualtrics``, ``redcap``, ``redcap-labels`` or the
        file format (``xlsx``, ``sav``, ...)."""
        return self.layout.kind if self.layout is not None else self.format

    @property
    def identifiers(self) -> tuple[str, ...]:
        """Columns that identify an administration, as detected from the header."""
        if self.layout is not None:
            return self.layout.identifiers
        return detect_identifiers(self.columns)

    def chunks(
        self,
        columns: Sequence[str] | None = None,
        *,
        categorical: Sequence[str] = (),
        integers: Sequence[str] = (),
        arrow_text: bool = False,
        chunk_bytes: int = CHUNK_BYTES,
        engine: Engine = "auto",
        encoding: str | None = None,
    ) -> Iterator[Chunk]:
        """Yield the table in chunks of about ``chunk_bytes`` of input.

        Delimited text is cut by bytes; the other formats by rows, about
        ``chunk_bytes / (8 x columns read)`` of them (at least 1,024) per chunk.

        ``columns`` selects columns by name (default: all); those named in
        ``categorical`` come as pandas categoricals (compact for item columns, which hold a
        few distinct values), the others as text (``object``). Delimited text read by the
        fast engine also takes two hints that change how cells are held, never what they
        are: a column named in ``integers`` comes as ``int8`` (nullable ``Int8``, with
        ``<NA>`` for empty cells) in each chunk where every cell is empty or a whole
        number from 0 to 99 written plainly (the exact text of its number: ``7``, ``10``,
        never ``07``), and otherwise as a categorical; with
        ``arrow_text`` the other text columns are pyarrow-backed strings
        (``pandas.ArrowDtype``) instead of Python objects. At least one chunk is
        yielded, empty when the file has no data rows. With ``engine="auto"`` or
        ``"arrow"`` a delimited file may raise :class:`RestartRequired` part-way; read
        it again with ``engine="python"`` (and the exception's ``encoding``).
        """
        wanted = list(self.columns if columns is None else columns)
        if columns is None:  # every field, each from its own position, even if names repeat
            positions = list(range(len(self.columns)))
        else:
            positions = [_position(self.columns, c) for c in wanted]
        as_category = [c in set(categorical) for c in wanted]
        as_integer = [c in set(integers) for c in wanted]
        if self.layout is None:
            from .formats import read_chunks

            size = min(max(1024, chunk_bytes // (8 * max(1, len(positions)))), _MAX_PIECE_ROWS)
            offset = 0
            for frame, lines, progress in read_chunks(
                self.path, self.format, positions, wanted, sheet=self.sheet, size=size
            ):
                frame.index = pd.RangeIndex(offset, offset + len(frame))
                offset += len(frame)
                yield Chunk(frame, lines, progress=progress)
            return
        layout = self.layout
        if encoding is not None:
            layout = _with_encoding(layout, encoding)
        use_arrow = engine == "arrow" or (
            engine == "auto" and layout.encoding in ("utf-8", "utf-8-sig") and _has_arrow()
        )
        if use_arrow:
            from .arrow_csv import arrow_chunks

            yield from arrow_chunks(
                self.path,
                layout,
                positions,
                wanted,
                as_category,
                chunk_bytes,
                as_integer=as_integer,
                arrow_text=arrow_text,
            )
        else:
            as_category = [cat or num for cat, num in zip(as_category, as_integer, strict=True)]
            yield from _python_chunks(
                self.path, layout, positions, wanted, as_category, chunk_bytes
            )


def _with_encoding(layout: TextLayout, encoding: str) -> TextLayout:
    from dataclasses import replace

    return replace(layout, encoding=encoding)


def _has_arrow() -> bool:
    import importlib.util

    return importlib.util.find_spec("pyarrow") is not None


def _position(columns: tuple[str, ...], name: str) -> int:
    try:
        position = columns.index(name)
    except ValueError:
        raise UnreadableFileError(f"Column {name!r} is not in the file.") from None
    count = columns.count(name)
    if count > 1:
        raise UnreadableFileError(
            f"Column {name!r} appears {count} times in the header (fields "
            f"{', '.join(str(i + 1) for i, c in enumerate(columns) if c == name)}); "
            "which one to use is ambiguous: rename the copies, or choose other columns "
            "(--keep, --column)."
        )
    return position


def open_table(
    path: str | os.PathLike[str], *, fmt: TableFormat | None = None, sheet: str | None = None
) -> TableSource:
    """Open a table file for chunked reading of raw cells.

    Parameters
    ----------
    path
        The file. Delimited text (``.csv``, ``.tsv``; REDCap and Qualtrics exports are
        recognised from their headers), Excel ``.xlsx``, SPSS ``.sav``, Stata ``.dta`` or
        ``.parquet``.
    fmt
        Override the format guessed from the file name's suffix.
    sheet
        For an Excel workbook, the sheet to read: its name, or its number from 1 when no
        sheet has that name (default: the first sheet). Refused for other formats.

    Returns
    -------
    TableSource
        Its ``columns``, ``kind`` and ``identifiers``, and :meth:`TableSource.chunks`.

    Raises
    ------
    UnreadableFileError
        When the file cannot be opened or parsed.
    MissingDependencyError
        When the format needs an optional package that is not installed.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "export.csv"
    >>> _ = path.write_text('id,wai_1,note\\nA,4,"two\\nlines"\\nB,5,\\n', encoding="utf-8")
    >>> source = open_table(path)
    >>> source.columns, source.identifiers
    (('id', 'wai_1', 'note'), ('id',))
    >>> [chunk.lines.tolist() for chunk in source.chunks(["id", "wai_1"])]
    [[2, 4]]
    """
    name = os.fspath(path)
    fmt = fmt or detect_format(name)
    if os.path.isdir(name):
        raise UnreadableFileError(f"Cannot read {name!r}: it is a folder, not a file.")
    if not os.path.isfile(name):
        raise UnreadableFileError(f"Cannot read {name!r}: no such file.")
    if sheet is not None and fmt != "xlsx":
        raise DataError(f"A sheet ({sheet!r}) can be chosen only in an Excel workbook (.xlsx).")
    if fmt in ("csv", "tsv"):
        layout = sniff_layout(name)
        return TableSource(name, fmt, layout.header, layout)
    from .formats import read_columns

    columns, labels = read_columns(name, fmt, sheet)
    return TableSource(name, fmt, columns, None, labels, sheet)


def _python_chunks(
    path: str,
    layout: TextLayout,
    positions: list[int],
    names: list[str],
    as_category: list[bool],
    chunk_bytes: int,
) -> Iterator[Chunk]:
    width = len(layout.header)
    total = max(os.path.getsize(path), 1)
    errors = _CP1252_UNDEFINED if layout.encoding == "cp1252" else _BAD_BYTES
    bad_before = _BAD_BYTE_COUNT[0]
    try:
        fh = open(path, encoding=layout.encoding, errors=errors, newline="")  # noqa: SIM115
    except OSError as exc:  # pragma: no cover - sniff_layout opened it a moment ago
        raise UnreadableFileError(f"Cannot read {path!r}: {exc}.") from exc
    with fh:
        # the standard limit (128 KiB per field) would make this engine refuse files the
        # fast engine reads; a field is bounded by the file anyway
        csv.field_size_limit(max(csv.field_size_limit(), _FIELD_LIMIT))
        # strict: a quote that closes a field must be followed by the delimiter or the
        # line's end, and a file must not end inside quotes; otherwise the reader would
        # merge records silently (a broken quote takes the next line's cells)
        reader = csv.reader(fh, delimiter=layout.delimiter, strict=True)
        previous = 0
        try:
            for _ in range(1 + layout.extra_header_rows):
                next(reader)
            offset = 0
            yielded = False
            while True:
                cells: list[list[str]] = [[] for _ in positions]
                lines: list[int] = []
                ragged: list[int] = []
                fields: list[int] = []
                undecodable: list[tuple[int, str]] = []
                size = 0
                previous = reader.line_num
                for record in reader:
                    start, previous = previous + 1, reader.line_num
                    if not record:
                        continue  # a blank line is not a row
                    if len(record) != width:
                        ragged.append(len(lines))
                        fields.append(len(record))
                        record = (record + [""] * width)[:width]
                    if _BAD_BYTE_COUNT[0] != bad_before:  # some bytes were not decodable
                        record = _mark_undecodable(
                            record, positions, names, len(lines), undecodable
                        )
                    for out, p in zip(cells, positions, strict=True):
                        out.append(record[p])
                    lines.append(start)
                    size += sum(map(len, record)) + width
                    if size >= chunk_bytes:
                        break
                if not lines and yielded:
                    return
                frame = pd.DataFrame(
                    {
                        i: pd.Series(col, dtype="category" if cat else object)
                        for i, (col, cat) in enumerate(zip(cells, as_category, strict=True))
                    },
                )
                frame.index = pd.RangeIndex(offset, offset + len(lines))
                frame.columns = pd.Index(names, dtype=object)
                offset += len(lines)
                yielded = True
                yield Chunk(
                    frame,
                    np.asarray(lines, dtype=np.int64),
                    np.asarray(ragged, dtype=np.int64),
                    np.asarray(fields, dtype=np.int64),
                    progress=min(1.0, _position_of(fh) / total) if size else 1.0,
                    undecodable=tuple(undecodable),
                )
                if size < chunk_bytes:
                    return
        except csv.Error as exc:
            raise _quoting_error(path, previous + 1, str(exc)) from exc
        except UnicodeDecodeError as exc:  # pragma: no cover - every codec used has a handler
            raise UnreadableFileError(
                f"Cannot read {path!r} as {layout.encoding} text near line "
                f"{reader.line_num + 1}: {exc}."
            ) from exc


def _quoting_error(path: str, line: int, reason: str) -> UnreadableFileError:
    """The refusal of a file whose quoting breaks the CSV rules (RFC 4180)."""
    if "unexpected end of data" in reason:
        return UnreadableFileError(
            f"Cannot read {path!r}: the quoted field on line {line} is never closed (a '\"' "
            "is missing), so every line from there to the end of the file would be read as "
            "one row; close the quote and run again."
        )
    if "expected after" in reason:
        return UnreadableFileError(
            f"Cannot read {path!r}: on line {line} a quoted field is followed by more text "
            "before the next delimiter (a '\"' inside a quoted field must be doubled); "
            "records would be merged. Fix the quoting and run again."
        )
    return UnreadableFileError(f"Cannot read {path!r} near line {line}: {reason}.")


def _mark_undecodable(
    record: list[str],
    positions: list[int],
    names: list[str],
    row: int,
    found: list[tuple[int, str]],
) -> list[str]:
    """``record`` with undecodable bytes (read as lone surrogates) as U+FFFD; the cells
    read that held some are added to ``found``."""
    if not any(_SURROGATES.search(cell) for cell in record):
        return record
    for p, name in zip(positions, names, strict=True):
        if _SURROGATES.search(record[p]):
            found.append((row, name))
    return [_SURROGATES.sub("\ufffd", cell) for cell in record]


_SURROGATES: Final = re.compile("[\udc80-\udcff]")
_BAD_BYTE_COUNT: list[int] = [0]
"""How many times a byte invalid in a file's encoding was met (in any file)."""


def _bad_bytes(exc: UnicodeError) -> tuple[str, int]:
    """Read a byte that is invalid in the encoding as a lone surrogate (as
    ``surrogateescape`` does) and count it, so the reader marks the cell."""
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    _BAD_BYTE_COUNT[0] += 1
    bad = exc.object[exc.start : exc.end]
    return "".join(chr(0xDC00 + b) for b in bad), exc.end


_BAD_BYTES: Final = "alliance-score-bad-bytes"
codecs.register_error(_BAD_BYTES, _bad_bytes)


def _windows_undefined(exc: UnicodeError) -> tuple[str, int]:
    """Decode the five bytes cp1252 leaves undefined (0x81, 0x8D, 0x8F, 0x90, 0x9D) as
    the control characters of the same number, as Windows itself does, so that such a
    byte is one odd cell (a problem on its row) instead of an unreadable file."""
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    return exc.object[exc.start : exc.end].decode("latin-1"), exc.end


_CP1252_UNDEFINED: Final = "alliance-score-cp1252-undefined"
codecs.register_error(_CP1252_UNDEFINED, _windows_undefined)


def _position_of(fh: Any) -> int:
    position: int = fh.buffer.tell()
    return position


def require(package: str, feature: str, extra: str) -> Any:
    """Import an optional package or raise :class:`MissingDependencyError`."""
    import importlib

    try:
        return importlib.import_module(package)
    except ImportError as exc:
        raise MissingDependencyError(feature, package.split(".")[0], extra) from exc
