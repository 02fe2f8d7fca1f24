"""Readers for the binary formats: Excel ``.xlsx``, SPSS ``.sav``, Stata ``.dta``, parquet.

Each needs an optional package (``alliance-score[excel]``, ``[spss]``, ``[parquet]``);
without it the reader raises :class:`~alliance_score.errors.MissingDependencyError`
naming the ``pip install`` command. Like delimited text, they are read in pieces, so
memory does not grow with the file: parquet by record batches, SPSS and Stata by row
ranges, Excel row by row.

* Excel: the first sheet, or the one chosen by name (or number, from 1); the first row
  is the header; cells keep their types (a date
  in an item column is reported as ``wrong_type``); a formula without a stored value
  (as programs write them) is read as its formula text (``not_a_number`` in an item),
  never as an empty cell; rows that are entirely empty are skipped; a row's line is its
  row number in the sheet.
* SPSS and Stata: item values are the stored codes; user-defined missing values count
  as missing; value labels are kept in :attr:`TableSource.value_labels` (checked
  against the anchors, and applied on request, by :mod:`alliance_score.io.value_labels`);
  a row's line is its record number.
* parquet: columns keep their types; a row's line is its record number.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from ..errors import MissingDependencyError, UnreadableFileError
from .source import TableFormat, require

__all__ = ["read_chunks", "read_columns", "sheet_names"]

_Piece = tuple[pd.DataFrame, NDArray[np.int64], float]
"""A piece of a table: raw cells, each row's line, and the fraction of the file read."""


def _open_book(path: str) -> Any:
    openpyxl = require("openpyxl", "Reading Excel files", "excel")
    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged file
        raise UnreadableFileError(f"Cannot read {path!r} as an Excel workbook: {exc}.") from exc


def sheet_names(path: str) -> list[str]:
    """The names of an Excel workbook's sheets of cells (not chart sheets), in order."""
    book = _open_book(path)
    try:
        return [str(ws.title) for ws in book.worksheets]
    finally:
        book.close()


def _choose_sheet(book: Any, path: str, sheet: str | None) -> Any:
    """The sheet named ``sheet`` (or numbered, from 1, when no sheet has that name).

    Chart sheets hold no cells: they are neither counted nor listed, and naming one is an
    error.
    """
    if not book.worksheets:
        raise UnreadableFileError(
            f"Cannot read {path!r}: the workbook has no sheet of cells (only charts)."
        )
    if sheet is None:
        return book.worksheets[0]
    if sheet in book.sheetnames:
        if book[sheet] not in book.worksheets:
            raise UnreadableFileError(
                f"Cannot read {path!r}: {sheet!r} is a chart, not a sheet of cells; the "
                f"workbook has {_sheet_list(book)}."
            )
        return book[sheet]
    number = sheet.strip()
    if number.isascii() and number.isdigit() and 1 <= int(number) <= len(book.worksheets):
        return book.worksheets[int(number) - 1]
    raise UnreadableFileError(
        f"Cannot read {path!r}: it has no sheet {sheet!r}; the workbook has {_sheet_list(book)}."
    )


def _xlsx_header(path: str, book: Any, sheet: Any, sheet_name: str | None, rows: Any) -> list[str]:
    """The header (first row, trailing empty cells dropped) of a sheet's row iterator."""
    try:
        header = [("" if c is None else str(c)) for c in next(rows)]
    except StopIteration:
        which = "its first sheet" if sheet_name is None else "the sheet"
        hint = " (choose another with --sheet)" if sheet_name is None else ""
        raise UnreadableFileError(
            f"Cannot read {path!r}: {which}, {sheet.title!r}, is empty; the workbook "
            f"has {_sheet_list(book)}{hint}."
        ) from None
    while header and header[-1] == "":
        header.pop()
    if not header:
        raise UnreadableFileError(
            f"Cannot read {path!r}: row 1 of the sheet {sheet.title!r}, the header, is "
            "empty; the column names must be in the first row."
        )
    return header


def _xlsx_rows(sheet: Any) -> Any:
    """Every row of a sheet, as values: the extent a file records for a sheet (its
    ``dimension``) can be wrong, and the rows and columns beyond it would be cut off."""
    sheet.reset_dimensions()
    return sheet.iter_rows(values_only=True)


def _xlsx_columns(path: str, sheet_name: str | None) -> list[str]:
    book = _open_book(path)
    try:
        sheet = _choose_sheet(book, path, sheet_name)
        return _xlsx_header(path, book, sheet, sheet_name, _xlsx_rows(sheet))
    except UnreadableFileError:
        raise
    except Exception as exc:  # openpyxl raises many types for a damaged sheet
        raise UnreadableFileError(f"Cannot read {path!r} as an Excel workbook: {exc}.") from exc
    finally:
        book.close()


_FORMULA = re.compile(rb"<(?:\w+:)?f[ >/]")


def _has_formulas(path: str) -> bool:
    """Whether any sheet of the workbook holds a formula (a scan of its XML)."""
    try:
        with zipfile.ZipFile(path) as archive:
            for name in archive.namelist():
                if not (name.startswith("xl/worksheets/") and name.endswith(".xml")):
                    continue
                with archive.open(name) as member:
                    tail = b""
                    while block := member.read(1 << 20):
                        if _FORMULA.search(tail + block):
                            return True
                        tail = block[-8:]
    except (OSError, zipfile.BadZipFile, KeyError):
        return False  # openpyxl reports a damaged workbook
    return False


def _formula_rows(path: str, book: Any, sheet: Any) -> tuple[Iterator[tuple[Any, ...]], Any]:
    """The sheet's rows as formulas (``"=2+2"``) where it has formulas, else ``None``.

    A workbook written by a program (openpyxl, pandas) holds formulas without the value
    Excel would store with them; read for values alone, such a cell is empty, and an
    answer computed by a formula would silently count as missing. Returns the rows (none
    when the workbook has no formula) and the workbook to close (or ``None``).
    """
    if not _has_formulas(path):
        return iter(()), None
    openpyxl = require("openpyxl", "Reading Excel files", "excel")
    formulas = openpyxl.load_workbook(path, read_only=True, data_only=False)
    other = formulas.worksheets[book.worksheets.index(sheet)]
    rows: Iterator[tuple[Any, ...]] = _xlsx_rows(other)
    next(rows, None)  # the header
    return rows, formulas


def _with_formulas(row: tuple[Any, ...], formulas: tuple[Any, ...] | None) -> tuple[Any, ...]:
    """``row`` with each empty cell that holds a formula (no stored value) as its formula
    text, so that an item reads ``not_a_number`` (``got '=2+2'``) instead of missing."""
    if not formulas or all(c is not None for c in row):
        return row
    cells = list(row) + [None] * max(0, len(formulas) - len(row))
    for j, formula in enumerate(formulas):
        if cells[j] is None and isinstance(formula, str) and formula.startswith("="):
            cells[j] = formula
    return tuple(cells)


def _xlsx_chunks(
    path: str, sheet_name: str | None, positions: list[int], names: list[str], size: int
) -> Iterator[_Piece]:
    book = _open_book(path)
    formula_book: Any = None
    try:
        sheet = _choose_sheet(book, path, sheet_name)
        total = sheet.max_row or 0
        rows = _xlsx_rows(sheet)
        width = len(_xlsx_header(path, book, sheet, sheet_name, rows))
        formula_rows, formula_book = _formula_rows(path, book, sheet)
        data: list[tuple[Any, ...]] = []
        lines: list[int] = []
        pieces = 0
        for number, row in enumerate(rows, start=2):
            if formula_book is not None:
                row = _with_formulas(row, next(formula_rows, None))
            if all(c is None for c in row):
                continue
            data.append(tuple(row[:width]) + (None,) * (width - len(row)))
            lines.append(number)
            if len(data) == size:
                yield _xlsx_piece(data, lines, positions, names, number / total if total else 0.0)
                data, lines = [], []
                pieces += 1
        if data or not pieces:
            yield _xlsx_piece(data, lines, positions, names, 1.0)
    finally:
        book.close()
        if formula_book is not None:
            formula_book.close()


def _xlsx_piece(
    data: list[tuple[Any, ...]],
    lines: list[int],
    positions: list[int],
    names: list[str],
    progress: float,
) -> _Piece:
    frame = pd.DataFrame(
        {i: pd.Series([row[p] for row in data], dtype=object) for i, p in enumerate(positions)},
        index=pd.RangeIndex(len(data)),
    )
    return _named(frame, names), np.asarray(lines, dtype=np.int64), min(progress, 1.0)


def _sheet_list(book: Any) -> str:
    names = [repr(str(ws.title)) for ws in book.worksheets]
    return f"{len(names)} sheet(s): {', '.join(names[:10])}" + (", ..." if len(names) > 10 else "")


def _stat_reader(fmt: TableFormat) -> Any:
    pyreadstat = require("pyreadstat", "Reading SPSS and Stata files", "spss")
    return pyreadstat.read_sav if fmt == "sav" else pyreadstat.read_dta


def _stat_read(path: str, fmt: TableFormat, metadata_only: bool) -> tuple[pd.DataFrame, Any]:
    reader = _stat_reader(fmt)
    try:
        result: tuple[pd.DataFrame, Any] = reader(
            path, metadataonly=metadata_only, apply_value_formats=False
        )
    except Exception as exc:  # pyreadstat raises its own error types
        raise UnreadableFileError(f"Cannot read {path!r} as a {fmt} file: {exc}.") from exc
    return result


def read_columns(
    path: str, fmt: TableFormat, sheet: str | None = None
) -> tuple[tuple[str, ...], dict[str, dict[Any, str]]]:
    """Column names (and value labels, for SPSS and Stata) without reading the data."""
    if fmt == "xlsx":
        return tuple(_xlsx_columns(path, sheet)), {}
    if fmt in ("sav", "dta"):
        _, meta = _stat_read(path, fmt, metadata_only=True)
        labels = {
            col: dict(meta.value_labels[name])
            for col, name in meta.variable_to_label.items()
            if name in meta.value_labels
        }
        return tuple(meta.column_names), labels
    if fmt == "parquet":
        pq = require("pyarrow.parquet", "Reading parquet files", "parquet")
        try:
            schema = pq.read_schema(path)
        except Exception as exc:  # pyarrow raises several types for a damaged file
            raise UnreadableFileError(f"Cannot read {path!r} as parquet: {exc}.") from exc
        return tuple(schema.names), {}
    raise UnreadableFileError(f"Cannot read {path!r}: unknown format {fmt!r}.")


def read_chunks(
    path: str,
    fmt: TableFormat,
    positions: list[int],
    names: list[str],
    *,
    sheet: str | None = None,
    size: int = 65_536,
) -> Iterator[_Piece]:
    """The selected columns (by position) in pieces of at most ``size`` rows.

    Yields ``(frame, each row's line, fraction of the file read)``; at least one piece,
    empty when the file has no data rows. Memory is bounded by the piece size, not the
    file size: parquet is read by record batches, SPSS and Stata by row ranges, Excel
    row by row.
    """
    if fmt == "xlsx":
        pieces = _xlsx_chunks(path, sheet, positions, names, size)
    elif fmt in ("sav", "dta"):
        pieces = _stat_chunks(path, fmt, positions, names, size)
    elif fmt == "parquet":
        pieces = _parquet_chunks(path, positions, names, size)
    else:
        raise UnreadableFileError(f"Cannot read {path!r}: unknown format {fmt!r}.")
    yield from _guarded(pieces, path, fmt)


def _guarded(pieces: Iterator[_Piece], path: str, fmt: str) -> Iterator[_Piece]:
    """``pieces``, with a reader's own error on damaged data as :class:`UnreadableFileError`."""
    while True:
        try:
            piece = next(pieces)
        except StopIteration:
            return
        except (UnreadableFileError, MissingDependencyError):
            raise
        except Exception as exc:  # the readers raise many types for a damaged file
            raise UnreadableFileError(f"Cannot read {path!r} as a {fmt} file: {exc}.") from exc
        yield piece


def _named(frame: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    frame.columns = pd.Index(names, dtype=object)
    return frame


def _stat_chunks(
    path: str, fmt: TableFormat, positions: list[int], names: list[str], size: int
) -> Iterator[_Piece]:
    reader = _stat_reader(fmt)
    _, meta = _stat_read(path, fmt, metadata_only=True)
    columns = list(meta.column_names)
    storage: dict[str, str] = dict(getattr(meta, "readstat_variable_types", None) or {})
    total = meta.number_rows or 0
    wanted = list(dict.fromkeys(columns[p] for p in positions)) or None
    done = 0
    while True:  # row ranges, until one comes back short (the row count may be unknown)
        part, _ = reader(
            path, row_offset=done, row_limit=size, usecols=wanted, apply_value_formats=False
        )
        if done and not len(part):
            break
        frame = pd.DataFrame(
            {
                i: _stored(part[columns[p]], storage.get(columns[p]))
                for i, p in enumerate(positions)
            },
            index=pd.RangeIndex(len(part)),
        )
        lines = np.arange(done + 1, done + len(part) + 1, dtype=np.int64)
        done += len(part)
        last = len(part) < size
        progress = 1.0 if last else min(done / total, 1.0) if total else 0.0
        yield _named(frame, names), lines, progress
        if last:
            break


def _stored(values: pd.Series, storage: str | None) -> Any:
    """A column's values in the precision the file stores them.

    Stata's 4-byte ``float`` comes back from the reader widened to float64 (9.1 stored
    as 9.100000381...); narrowed back to float32 it is read as the decimal it holds, as
    float32 columns are (see :mod:`alliance_score.parsing`).
    """
    if storage == "float" and pd.api.types.is_float_dtype(values.dtype):
        return values.to_numpy(dtype=np.float32)
    return values.to_numpy()


def _parquet_chunks(
    path: str, positions: list[int], names: list[str], size: int
) -> Iterator[_Piece]:
    pq = require("pyarrow.parquet", "Reading parquet files", "parquet")
    file = pq.ParquetFile(path)
    columns = list(file.schema_arrow.names)
    unique = len(set(columns)) == len(columns)
    wanted = list(dict.fromkeys(columns[p] for p in positions)) if unique else None
    total = file.metadata.num_rows
    done = 0
    for batch in file.iter_batches(batch_size=size, columns=wanted):
        frame = pd.DataFrame(
            {
                i: batch.column(columns[p] if unique else p).to_pandas()
                for i, p in enumerate(positions)
            },
            index=pd.RangeIndex(batch.num_rows),
        )
        lines = np.arange(done + 1, done + batch.num_rows + 1, dtype=np.int64)
        done += batch.num_rows
        yield _named(frame, names), lines, done / total if total else 1.0
    if not done:
        empty = file.schema_arrow.empty_table()
        frame = pd.DataFrame(
            {i: empty.column(p).to_pandas() for i, p in enumerate(positions)},
            index=pd.RangeIndex(0),
        )
        yield _named(frame, names), np.empty(0, dtype=np.int64), 1.0
