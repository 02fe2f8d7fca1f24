"""Readers for the binary formats: Excel ``.xlsx``, SPSS ``.sav``, Stata ``.dta``, parquet.

Each needs an optional package (``alliance-score[excel]``, ``[spss]``, ``[parquet]``);
without it the reader raises :class:`~alliance_score.errors.MissingDependencyError`
naming the ``pip install`` command. These files are read whole: they are compressed
and rarely large enough to need chunking.

* Excel: the first sheet, or the one chosen by name (or number, from 1); the first row
  is the header; cells keep their types (a date
  in an item column is reported as ``wrong_type``); rows that are entirely empty are
  skipped; a row's line is its row number in the sheet.
* SPSS and Stata: item values are the stored codes; user-defined missing values count
  as missing; value labels are kept in :attr:`TableSource.value_labels` (checked
  against the anchors, and applied on request, by :mod:`alliance_score.io.value_labels`);
  a row's line is its record number.
* parquet: columns keep their types; a row's line is its record number.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from ..errors import UnreadableFileError
from .source import TableFormat, require

__all__ = ["read_columns", "read_whole", "sheet_names"]


def _open_book(path: str) -> Any:
    openpyxl = require("openpyxl", "Reading Excel files", "excel")
    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged file
        raise UnreadableFileError(f"Cannot read {path!r} as an Excel workbook: {exc}.") from exc


def sheet_names(path: str) -> list[str]:
    """The names of an Excel workbook's sheets, in order."""
    book = _open_book(path)
    try:
        return [str(name) for name in book.sheetnames]
    finally:
        book.close()


def _choose_sheet(book: Any, path: str, sheet: str | None) -> Any:
    """The sheet named ``sheet`` (or numbered, from 1, when no sheet has that name)."""
    if sheet is None:
        return book.worksheets[0]
    if sheet in book.sheetnames:
        return book[sheet]
    if sheet.strip().isdigit() and 1 <= int(sheet) <= len(book.worksheets):
        return book.worksheets[int(sheet) - 1]
    raise UnreadableFileError(
        f"Cannot read {path!r}: it has no sheet {sheet!r}; the workbook has {_sheet_list(book)}."
    )


def _xlsx_rows(
    path: str, sheet_name: str | None = None
) -> tuple[list[str], list[tuple[Any, ...]], list[int]]:
    book = _open_book(path)
    try:
        sheet = _choose_sheet(book, path, sheet_name)
        rows = sheet.iter_rows(values_only=True)
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
        width = len(header)
        data: list[tuple[Any, ...]] = []
        lines: list[int] = []
        for number, row in enumerate(rows, start=2):
            cells = tuple(row[:width]) + (None,) * (width - len(row))
            if all(c is None for c in row):
                continue
            data.append(cells)
            lines.append(number)
        return header, data, lines
    finally:
        book.close()


def _sheet_list(book: Any) -> str:
    names = [repr(str(name)) for name in book.sheetnames]
    return f"{len(names)} sheet(s): {', '.join(names[:10])}" + (", ..." if len(names) > 10 else "")


def _stat_read(path: str, fmt: TableFormat, metadata_only: bool) -> tuple[pd.DataFrame, Any]:
    pyreadstat = require("pyreadstat", "Reading SPSS and Stata files", "spss")
    reader = pyreadstat.read_sav if fmt == "sav" else pyreadstat.read_dta
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
        header, _, _ = _xlsx_rows(path, sheet)
        return tuple(header), {}
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


def read_whole(
    path: str, fmt: TableFormat, positions: list[int], names: list[str], sheet: str | None = None
) -> tuple[pd.DataFrame, NDArray[np.int64]]:
    """The selected columns (by position) as a DataFrame, and each row's line."""
    if fmt == "xlsx":
        _, data, lines = _xlsx_rows(path, sheet)
        frame = pd.DataFrame(
            {i: pd.Series([row[p] for row in data], dtype=object) for i, p in enumerate(positions)}
        )
        line_numbers = np.asarray(lines, dtype=np.int64)
    elif fmt in ("sav", "dta"):
        full, _ = _stat_read(path, fmt, metadata_only=False)
        frame = pd.DataFrame({i: full.iloc[:, p] for i, p in enumerate(positions)})
        line_numbers = np.arange(1, len(full) + 1, dtype=np.int64)
    else:
        pq = require("pyarrow.parquet", "Reading parquet files", "parquet")
        table = pq.read_table(path)
        frame = pd.DataFrame({i: table.column(p).to_pandas() for i, p in enumerate(positions)})
        line_numbers = np.arange(1, table.num_rows + 1, dtype=np.int64)
    frame.columns = pd.Index(names, dtype=object)
    frame.index = pd.RangeIndex(len(frame))
    return frame, line_numbers
