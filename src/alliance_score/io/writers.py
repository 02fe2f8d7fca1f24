"""Writers: tables to CSV, TSV, parquet or Excel, safely.

* **Atomic**: a file is written under a temporary name in the target's folder and
  renamed into place only when complete, so an interrupted run leaves no half-written
  file (and an older file of the same name intact).
* **Formula injection**: in CSV, TSV and Excel output every text cell that starts with
  ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is prefixed with ``'`` so that a
  spreadsheet shows it as text instead of evaluating it (OWASP's advice for CSV
  injection). Numbers are never changed; parquet is not a spreadsheet format and is
  written as is.
* **Chunked**: :class:`TableWriter` takes the table in pieces, with the header once.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import tempfile
from collections.abc import Callable
from types import TracebackType
from typing import IO, Any, Final, Literal

import numpy as np
import pandas as pd

from ..errors import DataError, UnreadableFileError
from .source import require

__all__ = [
    "FORMULA_TRIGGERS",
    "OutputFormat",
    "TableWriter",
    "neutralise",
    "neutralise_frame",
    "output_format",
    "write_table",
]

OutputFormat = Literal["csv", "tsv", "parquet", "xlsx"]
FORMULA_TRIGGERS: Final = ("=", "+", "-", "@", "\t", "\r")
_XLSX_MAX_ROWS: Final = 1_048_576
_FOREIGN_SUFFIXES: Final = frozenset(
    {"xls", "xlsm", "xlsb", "ods", "json", "sav", "zsav", "dta", "gz", "zip", "xml", "html"}
)
"""Suffixes of formats that are not written: writing CSV under such a name would mislead."""


def neutralise(value: str) -> str:
    """Make a text cell safe to open in a spreadsheet.

    A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a
    leading ``'``, as OWASP and ASVS (V1.2.10) ask; text that happens to be a signed
    number (``-99``) is prefixed too. Numeric cells are never text, so never changed.

    Examples
    --------
    >>> neutralise("=HYPERLINK(\\"http://x\\")")
    '\\'=HYPERLINK("http://x")'
    >>> neutralise("-2+3"), neutralise("-99"), neutralise("A-17")
    ("'-2+3", "'-99", 'A-17')
    """
    return "'" + value if value.startswith(FORMULA_TRIGGERS) else value


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells are neutralised (numbers are left alone).

    >>> import pandas as pd
    >>> neutralise_frame(pd.DataFrame({"id": ["=1+1", "A"], "x": [-1.0, 2.0]}))
         id    x
    0  '=1+1 -1.0
    1     A  2.0
    """
    out = frame.copy()
    for j in range(out.shape[1]):
        col = out.iloc[:, j]
        if isinstance(col.dtype, pd.CategoricalDtype):
            col = col.astype(object)
        elif not (col.dtype == object or pd.api.types.is_string_dtype(col.dtype)):
            continue
        values = col.to_numpy(dtype=object, copy=True)
        is_text = np.fromiter((isinstance(v, str) for v in values), dtype=bool, count=len(values))
        if not is_text.any():
            continue
        flagged = is_text.copy()
        text = values[is_text].astype(str)
        starts = np.char.startswith(text, FORMULA_TRIGGERS[0])
        for trigger in FORMULA_TRIGGERS[1:]:
            starts |= np.char.startswith(text, trigger)
        flagged[is_text] = starts
        values[flagged] = ["'" + v for v in values[flagged]]
        out.isetitem(j, _object_column(values, out.index))
    return out


def output_format(path: str | None, requested: str | None) -> OutputFormat:
    """The output format: ``requested``, else from ``path``'s suffix, else CSV.

    A suffix naming a format that is not written (``.xls``, ``.json``, ``.sav``, ...) is
    refused unless the format is requested explicitly: CSV under such a name would not
    open as what its name promises.

    >>> output_format("scores.parquet", None), output_format("scores.out", None)
    ('parquet', 'csv')
    >>> output_format("scores.xls", None)
    Traceback (most recent call last):
    ...
    alliance_score.errors.DataError: Cannot write 'scores.xls': .xls is not a format ...
    >>> output_format("scores.xls", "csv")
    'csv'
    """
    names: dict[str, OutputFormat] = {
        "csv": "csv",
        "tsv": "tsv",
        "tab": "tsv",
        "parquet": "parquet",
        "pq": "parquet",
        "xlsx": "xlsx",
    }
    if requested:
        if requested not in names:
            raise DataError(f"Output format must be csv, tsv, parquet or xlsx; got {requested!r}.")
        return names[requested]
    suffix = os.path.splitext(path or "")[1].lower().lstrip(".")
    if suffix in _FOREIGN_SUFFIXES:
        raise DataError(
            f"Cannot write {path!r}: .{suffix} is not a format that can be written here "
            "(csv, tsv, parquet, xlsx); give the file one of those suffixes, or choose the "
            "format explicitly (--format)."
        )
    return names.get(suffix, "csv")


def _prepare(frame: pd.DataFrame) -> pd.DataFrame:
    """Plain column types shared by every format: text, float, int, nullable bool."""
    out = frame.copy()
    for j in range(out.shape[1]):
        col = out.iloc[:, j]
        if isinstance(col.dtype, pd.CategoricalDtype):
            values = col.to_numpy(dtype=object, copy=True)
            values[col.isna().to_numpy()] = None
            out.isetitem(j, _object_column(values, out.index))
    return out


class TableWriter:
    """Write a table in pieces to ``path`` (``None`` or ``"-"``: standard output).

    Use as a context manager: the file appears under its name only when the block ends
    without an exception; otherwise the temporary file is removed.

    Examples
    --------
    >>> import pandas as pd, tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "scores.csv"
    >>> with TableWriter(out) as w:
    ...     w.write(pd.DataFrame({"id": ["=cmd"], "total": [4.25]}))
    ...     w.write(pd.DataFrame({"id": ["b"], "total": [float("nan")]}))
    >>> print(out.read_text(), end="")
    id,total
    '=cmd,4.25
    b,
    """

    def __init__(
        self, path: str | os.PathLike[str] | None, fmt: OutputFormat | None = None
    ) -> None:
        self.path = None if path is None or path == "-" else os.fspath(path)
        self.format: OutputFormat = fmt or output_format(self.path, None)
        if self.path is None and self.format not in ("csv", "tsv"):
            raise DataError(
                f"{self.format} output cannot go to standard output; name a file with -o."
            )
        self._tmp: str | None = None
        self._fh: IO[Any] | None = None
        self._state: Any = None
        self.rows = 0

    def __enter__(self) -> TableWriter:
        if self.path is None:
            if sys.stdout is None:
                raise DataError("Standard output is closed; name an output file with -o.")
            self._fh = sys.stdout
            return self
        if os.path.isdir(self.path) or self.path.endswith((os.sep, "/")):
            raise UnreadableFileError(
                f"Cannot write {self.path!r}: it names a folder; give a file name."
            )
        folder = os.path.dirname(os.path.abspath(self.path))
        base = os.path.basename(self.path)
        try:
            fd, self._tmp = tempfile.mkstemp(prefix=f".{base}.", suffix=".part", dir=folder)
        except OSError as exc:
            raise UnreadableFileError(
                f"Cannot write {self.path!r}: {exc.strerror or exc}."
            ) from exc
        os.close(fd)
        if self.format in ("csv", "tsv"):
            self._fh = open(self._tmp, "w", encoding="utf-8", newline="")
        return self

    def write(self, frame: pd.DataFrame) -> None:
        """Append rows (the header is written with the first call)."""
        if self.format in ("csv", "tsv"):
            if self._fh is None:  # pragma: no cover - guarded by the context manager
                raise RuntimeError("TableWriter used outside its with block")
            sep = "\t" if self.format == "tsv" else ","
            render = _arrow_csv if _has_arrow() else _pandas_csv
            self._fh.write(render(frame, sep, header=self._state is None))
            self._state = True
        elif self.format == "parquet":
            self._write_parquet(_prepare(frame))
        else:
            self._write_xlsx(neutralise_frame(_prepare(frame)))
        self.rows += len(frame)

    def _write_parquet(self, data: pd.DataFrame) -> None:
        pa = require("pyarrow", "Writing parquet files", "parquet")
        pq = require("pyarrow.parquet", "Writing parquet files", "parquet")
        table = pa.Table.from_pandas(data, preserve_index=False)
        if self._state is None:
            self._state = pq.ParquetWriter(self._tmp, table.schema)
        else:
            table = table.cast(self._state.schema)
        self._state.write_table(table)

    def _write_xlsx(self, data: pd.DataFrame) -> None:
        openpyxl = require("openpyxl", "Writing Excel files", "excel")
        if self._state is None:
            self._state = openpyxl.Workbook(write_only=True)
            self._sheet = self._state.create_sheet()
            self._sheet.append([neutralise(str(c)) for c in data.columns])
        if self.rows + len(data) >= _XLSX_MAX_ROWS:
            raise DataError(
                f"An Excel sheet holds at most {_XLSX_MAX_ROWS - 1} data rows; this output "
                "has more. Write CSV or parquet instead."
            )
        for row in data.itertuples(index=False, name=None):
            self._sheet.append([_cell(v) for v in row])

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.path is None:
            if sys.stdout is not None:
                sys.stdout.flush()
            return
        try:
            if exc_type is None:
                self._finish()
                if self._tmp is not None:
                    try:
                        os.replace(self._tmp, self.path)
                    except OSError as exc:
                        raise UnreadableFileError(
                            f"Cannot write {self.path!r}: {exc.strerror or exc}."
                        ) from exc
                    self._tmp = None
            else:
                self._abandon()
        finally:
            if self._fh is not None and not self._fh.closed:
                self._fh.close()
            if self._tmp is not None:
                with contextlib.suppress(OSError):
                    os.remove(self._tmp)

    def _abandon(self) -> None:
        """Close a half-written workbook or parquet file before its temporary file goes
        (left to the garbage collector, an open Excel sheet writes to a closed file and
        prints a traceback at exit)."""
        closers = {"xlsx": "_sheet", "parquet": "_state"}
        part = getattr(self, closers.get(self.format, ""), None) if self._state else None
        if part is not None:
            with contextlib.suppress(Exception):  # the file is discarded either way
                part.close()

    def _finish(self) -> None:
        if self.format in ("csv", "tsv") and self._fh is not None:
            self._fh.close()
        elif self.format == "parquet" and self._state is not None:
            self._state.close()
        elif self.format == "xlsx" and self._state is not None:
            self._state.save(self._tmp)


def _cell(value: Any) -> Any:
    if value is None or value is pd.NA:
        return None
    if isinstance(value, float) and np.isnan(value):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def write_table(
    frame: pd.DataFrame, path: str | os.PathLike[str] | None, fmt: OutputFormat | None = None
) -> None:
    """Write a whole table (see :class:`TableWriter`) in one go."""
    with TableWriter(path, fmt) as writer:
        writer.write(frame)


def to_text(frame: pd.DataFrame, fmt: Literal["csv", "tsv"] = "csv") -> str:
    """The CSV text :class:`TableWriter` would write, as a string (for tests and docs)."""
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer), TableWriter(None, fmt) as writer:
        writer.write(frame)
    return buffer.getvalue()


def _has_arrow() -> bool:
    import importlib.util

    return importlib.util.find_spec("pyarrow") is not None


def _arrow_csv(frame: pd.DataFrame, sep: str, *, header: bool) -> str:
    """CSV text of ``frame`` built with pyarrow compute: text cells neutralised, quoted
    only when they hold the delimiter, a quote or a line break (as the csv module does),
    numbers in their shortest round-trip form, booleans as ``true``/``false``."""
    pa = require("pyarrow", "Fast CSV writing", "cli")
    pc = require("pyarrow.compute", "Fast CSV writing", "cli")
    special = "[" + ("\\t" if sep == "\t" else sep) + '"\\r\\n]'

    def safe_text(array: Any) -> tuple[Any, bool]:
        """(neutralised text, whether some cell needs quoting)."""
        hit = pc.match_substring_regex(array, "^[=+\\-@\\t\\r]")
        if pc.any(hit).as_py():
            array = pc.if_else(hit, pc.binary_join_element_wise("'", array, ""), array)
        needs = pc.match_substring_regex(array, special)
        return array, bool(pc.any(needs).as_py())

    def quote(array: Any) -> Any:
        needs = pc.match_substring_regex(array, special)
        quoted = pc.binary_join_element_wise('"', pc.replace_substring(array, '"', '""'), '"', "")
        return pc.if_else(needs, quoted, array)

    columns: list[Any] = []
    quoting = False
    for j in range(frame.shape[1]):
        col = frame.iloc[:, j]
        dtype = col.dtype
        if isinstance(dtype, pd.CategoricalDtype):
            categories = pa.array(
                dtype.categories.to_numpy(dtype=object), type=pa.string(), from_pandas=True
            )
            categories, needs = safe_text(categories)
            codes = col.cat.codes.to_numpy()
            array = categories.take(pa.array(codes, mask=codes < 0))
        elif pd.api.types.is_float_dtype(dtype):
            array, needs = _arrow_floats(col, pa, pc), False
        elif pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype):
            array, needs = pa.array(col, from_pandas=True), False
        else:
            values = col.to_numpy(dtype=object)
            try:
                array = pa.array(values, type=pa.string(), from_pandas=True)
            except (pa.ArrowInvalid, pa.ArrowTypeError):
                cells = [None if pd.isna(v) else str(v) for v in values]
                array = pa.array(cells, type=pa.string())
            array, needs = safe_text(array)
        quoting = quoting or needs
        columns.append(array)
    text = io.StringIO(newline="")
    if header:
        names = [neutralise(str(c)) for c in frame.columns]
        text.write(_text_row(names, sep))
    if not len(frame) or not columns:
        return text.getvalue()
    if not quoting:  # the common case: pyarrow's writer, nothing to quote
        pacsv = require("pyarrow.csv", "Fast CSV writing", "cli")
        table = pa.Table.from_arrays(columns, names=[f"c{j}" for j in range(len(columns))])
        sink = io.BytesIO()
        options = pacsv.WriteOptions(include_header=False, delimiter=sep, quoting_style="none")
        pacsv.write_csv(table, sink, write_options=options)
        text.write(sink.getvalue().decode("utf-8"))
        return text.getvalue()
    texts = []
    for array in columns:
        if pa.types.is_string(array.type):
            array = quote(array)
        elif pa.types.is_boolean(array.type):
            array = pc.if_else(array, "true", "false")
        else:
            array = pc.cast(array, pa.string())
        texts.append(pc.fill_null(array, ""))
    lines = pc.binary_join_element_wise(*texts, sep)
    lines = pc.binary_join_element_wise(lines, "", "\n")
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32)
    start, stop = offsets[lines.offset], offsets[lines.offset + len(lines)]
    text.write(lines.buffers()[2].to_pybytes()[start:stop].decode("utf-8"))
    return text.getvalue()


def _quote_cell(cell: str, sep: str) -> str:
    r"""A text cell quoted when it holds the delimiter, a quote, ``\r`` or ``\n``.

    The csv module quotes only the characters of its line terminator, so a lone
    carriage return would be written bare and split the row for many readers.

    >>> _quote_cell("a\rb", ","), _quote_cell("a,b", ","), _quote_cell("ok", ",")
    ('"a\rb"', '"a,b"', 'ok')
    """
    if sep in cell or any(c in cell for c in '"\r\n'):
        return '"' + cell.replace('"', '""') + '"'
    return cell


def _text_row(cells: list[str], sep: str) -> str:
    return sep.join(_quote_cell(c, sep) for c in cells) + "\n"


def _arrow_floats(col: pd.Series, pa: Any, pc: Any) -> Any:
    """A float column for pyarrow's CSV writer, written as Python writes the numbers.

    pyarrow switches to exponent notation from 1e10 (an 11-digit identifier stored as a
    double, as SPSS stores every number, would read ``2.0231015001e+10``) and below
    1e-4 writes ``0.00001``; those values are formatted as :func:`repr` does, the rest
    (the same text either way) by pyarrow.
    """
    values = col.to_numpy(dtype=np.float64, na_value=np.nan)
    size = np.abs(values)
    with np.errstate(invalid="ignore"):
        odd = np.isfinite(values) & ((size >= 1e10) | ((size > 0) & (size < 1e-4)))
    array = pa.array(values, from_pandas=True)
    if not odd.any():
        return array
    text = np.asarray(pc.cast(array, pa.string()).to_numpy(zero_copy_only=False), dtype=object)
    text[odd] = [_number(v) for v in values[odd]]
    return pa.array(text, type=pa.string(), from_pandas=True)


def _pandas_csv(frame: pd.DataFrame, sep: str, *, header: bool) -> str:
    """The same text as :func:`_arrow_csv`, without pyarrow (slower)."""
    out = neutralise_frame(_prepare(frame))
    texts: list[list[str]] = []
    for j in range(out.shape[1]):
        col = out.iloc[:, j]
        render: Callable[[Any], str]
        if pd.api.types.is_bool_dtype(col.dtype):
            render = lambda v: "true" if v else "false"  # noqa: E731
        elif pd.api.types.is_float_dtype(col.dtype):
            render = _number
        elif pd.api.types.is_numeric_dtype(col.dtype):
            render = str
        else:
            render = lambda v: _quote_cell(str(v), sep)  # noqa: E731
        missing = col.isna().to_numpy()
        values = col.to_numpy(dtype=object)
        texts.append(["" if m else render(v) for v, m in zip(values, missing, strict=True)])
    lines = [_text_row([neutralise(str(c)) for c in out.columns], sep)] if header else []
    lines.extend(sep.join(row) + "\n" for row in zip(*texts, strict=True))
    return "".join(lines)


def _number(value: float) -> str:
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def _object_column(values: np.ndarray[Any, Any], index: pd.Index) -> Any:
    """A text column kept as Python objects (no string-dtype inference)."""
    return pd.Series(values, index=index, dtype=object)
