"""Writers: tables to CSV, TSV, parquet or Excel, safely.

* **Atomic**: a regular file is written under a temporary name in the target's folder
  and renamed into place only when complete, so a failed or interrupted run leaves no
  half-written file (and an older file of the same name intact). A symbolic link is
  written through: the file it points to is replaced (atomically, beside it) and the
  link stays. A target that is not a regular file (``/dev/stdout``, a named pipe, a
  shell's ``>(gzip > s.gz)``, a device) is opened and written in place, never replaced.
* **Private**: a new file is created readable and writable by its owner only (``0600``,
  whatever the umask: scores are health data); a file that is replaced keeps its
  permissions.
* **Every failure is one error**: a write that fails (disk full, a closed pipe, a cell
  the format cannot hold) raises :class:`~alliance_score.errors.OutputError`; cells a
  format cannot hold are escaped first (see :func:`plain_cell`).
* **Formula injection**: in CSV, TSV and Excel output every text cell that starts with
  ``=``, ``+``, ``-``, ``@``, a tab, a carriage return or a NUL (optionally after spaces,
  and in their full-width forms) is prefixed with ``'`` so that a spreadsheet shows it
  as text instead of evaluating it (OWASP's advice, ASVS 5.0 V1.2.10). Text that is
  exactly a number (``-1``, ``+3.5``) cannot carry a formula and is written unchanged;
  numbers are never changed; parquet is not a spreadsheet format and is written as is.
* **Provenance**: a table whose ``attrs["alliance_score"]`` say which definition scored
  it (:func:`alliance_score.score_frame` sets them) carries them into the file: parquet
  schema metadata, an Excel sheet named ``alliance_score``, and for CSV and TSV a sidecar
  file ``<name>.provenance.json`` beside the output.
* **Chunked**: :class:`TableWriter` takes the table in pieces, with the header once.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import io
import json
import math
import os
import re
import stat
import sys
import tempfile
import warnings
from collections.abc import Callable, Iterator, Mapping
from types import TracebackType
from typing import IO, Any, Final, Literal

import numpy as np
import pandas as pd

from ..errors import AllianceScoreWarning, DataError, OutputError, UnreadableFileError
from .source import require

__all__ = [
    "FORMULA_TRIGGERS",
    "PROVENANCE_SUFFIX",
    "OutputFormat",
    "TableWriter",
    "neutralise",
    "neutralise_frame",
    "output_format",
    "plain_cell",
    "write_table",
    "writing",
]

OutputFormat = Literal["csv", "tsv", "parquet", "xlsx"]
FORMULA_TRIGGERS: Final = (
    "=",
    "+",
    "-",
    "@",
    "\t",
    "\r",
    "\0",
    "\uff1d",  # full-width =
    "\uff0b",  # full-width +
    "\uff0d",  # full-width -
    "\uff20",  # full-width @
)
"""Characters that make a spreadsheet read a text cell as a formula (after spaces)."""
_SPACES: Final = " \u00a0\u3000"
_PLAIN_NUMBER: Final = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_ARROW_TRIGGER: Final = (
    "^[ \\x{a0}\\x{3000}]*[=+\\-@\\t\\r\\x00\\x{ff1d}\\x{ff0b}\\x{ff0d}\\x{ff20}]"
)
_ARROW_NUMBER: Final = "^[+-]?(?:[0-9]+\\.?[0-9]*|\\.[0-9]+)(?:[eE][+-]?[0-9]+)?$"
_XLSX_MAX_ROWS: Final = 1_048_576
_XLSX_ESCAPE: Final = re.compile(r"[\x00-\x08\x0b-\x1f]|_(?=x[0-9A-Fa-f]{4}_)")
PROVENANCE_SUFFIX: Final = ".provenance.json"
"""Suffix of the sidecar file that carries a CSV or TSV output's provenance."""
_FOREIGN_SUFFIXES: Final = frozenset(
    {"xls", "xlsm", "xlsb", "ods", "json", "sav", "zsav", "dta", "gz", "zip", "xml", "html"}
)
"""Suffixes of formats that are not written: writing CSV under such a name would mislead."""


def neutralise(value: str) -> str:
    """Make a text cell safe to open in a spreadsheet.

    A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab, a carriage return or a NUL
    (ASVS 5.0 V1.2.10 lists them), also after leading spaces and in the full-width forms
    (``\uff1d`` ...), gets a leading ``'``. Text that is exactly a number (``-99``,
    ``+3.5``) is a number to a spreadsheet, never a formula, and is left as it is.

    Examples
    --------
    >>> neutralise("=HYPERLINK(\\"http://x\\")")
    '\\'=HYPERLINK("http://x")'
    >>> neutralise("-2+3"), neutralise("-99"), neutralise("A-17"), neutralise("  =1")
    ("'-2+3", '-99', 'A-17', "'  =1")
    """
    if _PLAIN_NUMBER.fullmatch(value):
        return value
    if value.startswith(FORMULA_TRIGGERS) or value.lstrip(_SPACES).startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def plain_cell(value: Any) -> Any:
    """A cell as a value every output format holds: containers (list, dict, set, array)
    as JSON text, other objects that are not numbers, text, booleans or dates as text.

    >>> plain_cell([1, 2]), plain_cell({"a": 1}), plain_cell(3), plain_cell(None)
    ('[1, 2]', '{"a": 1}', 3, None)
    """
    if value is None or isinstance(value, str | bool | int | float | np.generic):
        return value
    if isinstance(value, dt.datetime | dt.date | dt.time | pd.Timestamp):
        return value
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, set | frozenset):
        value = sorted(value, key=repr)
    if isinstance(value, list | tuple | dict):
        return json.dumps(value, default=str, ensure_ascii=False)
    return str(value)


def arrow_strings(column: pd.Series) -> Any:
    """The pyarrow string array behind a text column held by pyarrow (``ArrowDtype`` or
    pandas' pyarrow-backed ``string``/``str``), as one ``string`` array; ``None`` for any
    other column (the cells are then Python objects or numbers)."""
    dtype = column.dtype
    if isinstance(dtype, pd.ArrowDtype):
        pa = require("pyarrow", "Fast CSV writing", "cli")
        if not (
            pa.types.is_string(dtype.pyarrow_dtype) or pa.types.is_large_string(dtype.pyarrow_dtype)
        ):
            return None
    elif not (isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow"):
        return None
    pa = require("pyarrow", "Fast CSV writing", "cli")
    array = pa.array(column.array)
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    return array.cast(pa.string())


def _text_cell(value: Any) -> str | None:
    """A cell as CSV text (``None`` for missing)."""
    value = plain_cell(value)
    if value is None:
        return None
    if isinstance(value, float | np.floating) and math.isnan(value):
        return None
    return value if isinstance(value, str) else str(value)


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
        values[is_text] = [neutralise(v) for v in values[is_text]]
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


def _prepare(frame: pd.DataFrame, fmt: OutputFormat) -> pd.DataFrame:
    """Plain column types every format holds: text, numbers, booleans, dates.

    Categorical columns become their values; cells a format cannot hold are escaped (see
    :func:`plain_cell`); for parquet a column of objects that mixes types is written as
    text; for Excel, dates with a time zone are written as ISO 8601 text (Excel has no
    time zones) and control characters are escaped as Excel does (``_x000D_``).
    """
    out = frame.copy()
    for j in range(out.shape[1]):
        col = out.iloc[:, j]
        if isinstance(col.dtype, pd.CategoricalDtype):
            values = col.to_numpy(dtype=object, copy=True)
            values[col.isna().to_numpy()] = None
        elif isinstance(col.dtype, pd.DatetimeTZDtype) and fmt == "xlsx":
            values = np.array([None if pd.isna(v) else v.isoformat() for v in col], dtype=object)
        elif col.dtype == object:
            values = col.to_numpy(dtype=object, copy=True)
        else:
            continue
        plain = pd.api.types.infer_dtype(values, skipna=True) in _PLAIN_KINDS
        if not plain:
            values = np.array([plain_cell(v) for v in values], dtype=object)
        if fmt == "xlsx":
            values = np.array([_xlsx_value(v) for v in values], dtype=object)
        elif fmt == "parquet" and not plain and _mixed(values):
            values = np.array([_text_cell(v) for v in values], dtype=object)
        out.isetitem(j, _object_column(values, out.index))
    return out


_UTF8: Final = frozenset({"utf-8", "utf8"})
_PLAIN_KINDS: Final = frozenset({"string", "empty", "integer", "floating", "boolean"})
"""Columns of one plain kind of cell, which every format holds as they are."""


def _mixed(values: np.ndarray[Any, Any]) -> bool:
    """Whether a column of objects holds cells of several kinds (or of no plain kind)."""
    kinds = {_kind(v) for v in values if v is not None}
    return len(kinds) > 1 or "other" in kinds


def _kind(value: Any) -> str:
    if isinstance(value, bool | np.bool_):
        return "bool"
    if isinstance(value, int | float | np.integer | np.floating):
        return "number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, dt.datetime | pd.Timestamp):
        return "datetime"
    return "other"


def _xlsx_value(value: Any) -> Any:
    """A cell as an Excel cell holds it: see :func:`_prepare`."""
    if isinstance(value, str):
        return _XLSX_ESCAPE.sub(lambda m: f"_x{ord(m.group(0)):04X}_", value)
    if isinstance(value, dt.datetime | pd.Timestamp) and value.tzinfo is not None:
        return value.isoformat()
    if isinstance(value, dt.time) and value.tzinfo is not None:
        return value.isoformat()
    if isinstance(value, float | np.floating) and math.isinf(value):
        return "inf" if value > 0 else "'-inf"
    return value


class TableWriter:
    """Write a table in pieces to ``path`` (``None`` or ``"-"``: standard output).

    Use as a context manager: the file appears under its name only when the block ends
    without an exception; otherwise the temporary file is removed and a file that had
    the name before is left as it was. Any failure to write raises
    :class:`~alliance_score.errors.OutputError`.

    ``metadata`` (text keys and values) is the output's provenance; by default the
    ``attrs["alliance_score"]`` of the first table written (see the module docs).

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
    >>> oct(out.stat().st_mode & 0o777)
    '0o600'
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None,
        fmt: OutputFormat | None = None,
        *,
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        self.path = None if path is None or path == "-" else os.fspath(path)
        self.format: OutputFormat = fmt or output_format(self.path, None)
        if self.path is None and self.format not in ("csv", "tsv"):
            raise DataError(
                f"{self.format} output cannot go to standard output; name a file with -o."
            )
        self.metadata: dict[str, Any] | None = dict(metadata) if metadata is not None else None
        self._target: str | None = None
        """The file replaced (the path, or the file a symbolic link points to)."""
        self._in_place = False
        self._tmp: str | None = None
        self._sidecar: TableWriter | None = None
        self._fh: IO[Any] | None = None
        self._raw: IO[bytes] | None = None
        self._state: Any = None
        self._sheet: Any = None
        self.rows = 0

    # -- opening -------------------------------------------------------------------------
    def __enter__(self) -> TableWriter:
        self.open()
        return self

    def open(self) -> None:
        """Create the temporary file (or open a target that is not a regular file)."""
        if self.path is None:
            if sys.stdout is None:
                raise DataError("Standard output is closed; name an output file with -o.")
            self._fh = sys.stdout
            return
        if os.path.isdir(self.path) or self.path.endswith((os.sep, "/")):
            raise UnreadableFileError(
                f"Cannot write {self.path!r}: it names a folder; give a file name."
            )
        try:
            info: os.stat_result | None = os.stat(self.path)  # follows symbolic links
        except FileNotFoundError:
            info = None
        except OSError as exc:
            raise self._failure(exc) from exc
        if info is not None and not stat.S_ISREG(info.st_mode):
            self._open_in_place(self.path)  # also /dev/fd/N, a link to a pipe
            return
        target = os.path.realpath(self.path) if os.path.islink(self.path) else self.path
        self._target = target
        folder = os.path.dirname(os.path.abspath(target))
        base = os.path.basename(target)
        left = remove_stale_parts(folder, base)
        if left:
            warnings.warn(
                f"Temporary files left by a killed run could not be removed from {folder!r}: "
                f"{', '.join(left[:5])}; remove them by hand.",
                AllianceScoreWarning,
                stacklevel=3,
            )
        try:
            fd, self._tmp = tempfile.mkstemp(
                prefix=f".{base}.{os.getpid()}.", suffix=".part", dir=folder
            )
            if info is not None and hasattr(os, "fchmod"):  # a replaced file keeps its mode
                os.fchmod(fd, stat.S_IMODE(info.st_mode))
        except OSError as exc:
            raise self._failure(exc) from exc
        if self.format in ("csv", "tsv"):
            self._fh = open(  # noqa: SIM115 - closed in finish() or abandon()
                fd, "w", encoding="utf-8", errors="backslashreplace", newline=""
            )
        else:
            os.close(fd)

    def _open_in_place(self, target: str) -> None:
        """A pipe, a device or ``/dev/stdout``: written where it is, never replaced."""
        self._in_place = True
        try:
            if self.format in ("csv", "tsv"):
                self._fh = open(  # noqa: SIM115 - closed in finish() or abandon()
                    target, "w", encoding="utf-8", errors="backslashreplace", newline=""
                )
            else:
                self._raw = open(target, "wb")  # noqa: SIM115 - closed in finish()
        except OSError as exc:
            raise self._failure(exc) from exc

    def _failure(self, exc: BaseException) -> OutputError:
        what = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        where = "standard output" if self.path is None else repr(self.path)
        return OutputError(f"Cannot write {where}: {what}.")

    # -- writing -------------------------------------------------------------------------
    def write(self, frame: pd.DataFrame) -> None:
        """Append rows (the header is written with the first call)."""
        if self.metadata is None and frame.attrs.get("alliance_score"):
            self.metadata = _provenance(frame.attrs["alliance_score"])
        try:
            if self.format in ("csv", "tsv"):
                if self._fh is None:  # pragma: no cover - guarded by the context manager
                    raise RuntimeError("TableWriter used outside its with block")
                sep = "\t" if self.format == "tsv" else ","
                header = self._state is None
                if _has_arrow():
                    for part in _arrow_csv_parts(frame, sep, header=header):
                        self._write_bytes(part)
                else:
                    self._fh.write(_pandas_csv(frame, sep, header=header))
                self._state = True
            elif self.format == "parquet":
                self._write_parquet(_prepare(frame, "parquet"))
            else:
                self._write_xlsx(_prepare(neutralise_frame(frame), "xlsx"))
        except (DataError, UnreadableFileError, OutputError, KeyboardInterrupt):
            raise
        except BrokenPipeError:
            if self.path is None:
                raise
            raise self._failure(BrokenPipeError(32, "the reader closed the pipe")) from None
        except OSError as exc:
            raise self._failure(exc) from exc
        except Exception as exc:  # a cell the format's library refuses: never a traceback
            raise OutputError(
                f"Cannot write {self.path or 'standard output'!r} as {self.format}: "
                f"{type(exc).__name__}: {_first_line(exc)}"
            ) from exc
        self.rows += len(frame)

    def _write_bytes(self, data: bytes | memoryview) -> None:
        """Write UTF-8 text given as bytes: straight to the file's buffer when it has
        one, else (a text stream such as a redirected ``sys.stdout``) as text."""
        fh = self._fh
        assert fh is not None  # noqa: S101 - guarded by write()
        buffer = getattr(fh, "buffer", None)
        if buffer is not None and (getattr(fh, "encoding", "") or "").lower() in _UTF8:
            fh.flush()
            buffer.write(data)
        else:
            fh.write(bytes(data).decode("utf-8"))

    def write_arrow(self, table: Any, *, attrs: Mapping[str, Any] | None = None) -> None:
        """Append a ``pyarrow.Table`` to a parquet output as it is (parquet only).

        For callers that build the table from plain columns themselves (numbers,
        booleans, text, as :meth:`write` makes them), without the copy of the frame that
        :meth:`write` makes. ``attrs`` (``attrs["alliance_score"]`` of the scores) gives
        the file's provenance when the writer was made without ``metadata``. Schema,
        provenance, errors and the atomic completion are those of :meth:`write`.
        """
        if self.format != "parquet":
            raise DataError(f"write_arrow writes parquet files; this writer writes {self.format}.")
        if self.metadata is None and attrs:
            self.metadata = _provenance(attrs)
        try:
            self._write_arrow_table(table)
        except (DataError, UnreadableFileError, OutputError, KeyboardInterrupt):
            raise
        except OSError as exc:
            raise self._failure(exc) from exc
        except Exception as exc:  # a column the parquet library refuses: never a traceback
            raise OutputError(
                f"Cannot write {self.path!r} as parquet: {type(exc).__name__}: {_first_line(exc)}"
            ) from exc
        self.rows += table.num_rows

    def _write_parquet(self, data: pd.DataFrame) -> None:
        pa = require("pyarrow", "Writing parquet files", "parquet")
        self._write_arrow_table(pa.Table.from_pandas(data, preserve_index=False))

    def _write_arrow_table(self, table: Any) -> None:
        pa = require("pyarrow", "Writing parquet files", "parquet")
        pq = require("pyarrow.parquet", "Writing parquet files", "parquet")
        if self._state is None:
            schema = table.schema
            if self.metadata:
                schema = schema.with_metadata(
                    {**(schema.metadata or {}), b"alliance_score": _metadata_json(self.metadata)}
                )
            table = table.cast(schema)
            sink = self._raw if self._raw is not None else self._tmp
            self._state = pq.ParquetWriter(sink, schema)
        else:
            try:
                table = table.cast(self._state.schema)
            except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
                raise OutputError(
                    f"Cannot write {self.path!r} as parquet: a column holds values of "
                    "another type than in the rows before (parquet keeps one type per "
                    "column); write CSV, or make the column text in the input."
                ) from exc
        self._state.write_table(table)

    def _write_xlsx(self, data: pd.DataFrame) -> None:
        openpyxl = require("openpyxl", "Writing Excel files", "excel")
        if self._state is None:
            self._state = openpyxl.Workbook(write_only=True)
            self._sheet = self._state.create_sheet()
            self._sheet.append([_xlsx_value(neutralise(str(c))) for c in data.columns])
        if self.rows + len(data) >= _XLSX_MAX_ROWS:
            raise DataError(
                f"An Excel sheet holds at most {_XLSX_MAX_ROWS - 1} data rows; this output "
                "has more. Write CSV or parquet instead."
            )
        for row in data.itertuples(index=False, name=None):
            self._sheet.append([_cell(v) for v in row])

    # -- closing -------------------------------------------------------------------------
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is not None:
            self.abandon()
            return
        try:
            self.finish()
        except BaseException:
            self.abandon()
            raise
        self.commit()

    def finish(self) -> None:
        """Complete the file under its temporary name (nothing replaced yet)."""
        if self.path is None:
            if sys.stdout is not None:
                try:
                    sys.stdout.flush()
                except BrokenPipeError:
                    raise
                except OSError as exc:
                    raise self._failure(exc) from exc
            return
        try:
            if self.format in ("csv", "tsv"):
                if self._fh is not None:
                    self._fh.flush()
                    _sync(self._fh)
                    self._fh.close()
            elif self.format == "parquet":
                if self._state is None:  # no rows and no columns written: an empty table
                    self._write_parquet(pd.DataFrame())
                self._state.close()
            else:
                if self._state is None:
                    self._write_xlsx(pd.DataFrame())
                self._save_xlsx()
            if self._raw is not None:
                self._raw.close()
        except OutputError:
            raise
        except OSError as exc:
            raise self._failure(exc) from exc
        except Exception as exc:  # the format's library failed to complete the file
            raise OutputError(
                f"Cannot write {self.path!r} as {self.format}: {type(exc).__name__}: "
                f"{_first_line(exc)}"
            ) from exc
        if self.format in ("csv", "tsv") and self.metadata and not self._in_place:
            self._sidecar = _SidecarWriter(self.path + PROVENANCE_SUFFIX, self.metadata)
            self._sidecar.open()
            self._sidecar.finish()

    def _save_xlsx(self) -> None:
        if self.metadata:
            sheet = self._state.create_sheet("alliance_score")
            sheet.append(["key", "value"])
            for key, value in self.metadata.items():
                sheet.append([key, _xlsx_value(neutralise(_scalar_text(value)))])
        self._state.save(self._raw if self._raw is not None else self._tmp)

    def commit(self) -> None:
        """Move the completed file into place (atomic for a regular file)."""
        if self._tmp is not None and self._target is not None:
            try:
                os.replace(self._tmp, self._target)
            except OSError as exc:
                self.abandon()
                raise self._failure(exc) from exc
            self._tmp = None
        if self._sidecar is not None:
            try:
                self._sidecar.commit()
            except OutputError:
                # never leave an older run's provenance beside the new file
                if self._sidecar.path is not None:
                    with contextlib.suppress(OSError):
                        os.remove(self._sidecar.path)
                raise

    def abandon(self) -> None:
        """Remove the temporary file, leaving any older file of the name as it was."""
        if self._sidecar is not None:
            self._sidecar.abandon()
        if self._state is not None and self.format in ("xlsx", "parquet"):
            # close a half-written workbook or parquet file before its temporary file
            # goes (left to the garbage collector, an open Excel sheet writes to a closed
            # file and prints a traceback at exit)
            part = self._sheet if self.format == "xlsx" else self._state
            with contextlib.suppress(Exception):  # the file is discarded either way
                part.close()
            self._state = None
        for handle in (self._fh, self._raw):
            if handle is not None and handle is not sys.stdout and not handle.closed:
                with contextlib.suppress(OSError):
                    handle.close()
        if self._tmp is not None:
            with contextlib.suppress(OSError):
                os.remove(self._tmp)
            self._tmp = None


class _SidecarWriter(TableWriter):
    """The provenance of a CSV or TSV output, as JSON beside it (written atomically)."""

    def __init__(self, path: str, metadata: Mapping[str, Any]) -> None:
        super().__init__(path, "csv", metadata=metadata)

    def finish(self) -> None:
        if self._fh is None:  # pragma: no cover - opened just before
            return
        try:
            json.dump({"alliance_score": dict(self.metadata or {})}, self._fh, indent=2)
            self._fh.write("\n")
            self._fh.close()
        except OSError as exc:
            raise self._failure(exc) from exc


@contextlib.contextmanager
def writing(*writers: TableWriter) -> Iterator[tuple[TableWriter, ...]]:
    """Open several writers; commit them all only when every one is complete.

    A failure while writing or completing any of them leaves none of them written (and
    every older file of their names intact).
    """
    opened: list[TableWriter] = []
    try:
        for writer in writers:
            writer.open()
            opened.append(writer)
        yield writers
        for writer in writers:
            writer.finish()
    except BaseException:
        for writer in opened:
            writer.abandon()
        raise
    for writer in writers:
        writer.commit()


def remove_stale_parts(
    folder: str, base: str, *, prefix: str | None = None, suffix: str = ".part"
) -> list[str]:
    """Remove the temporary files an earlier run left for ``base`` when it was killed.

    Temporary files are named ``.<base>.<pid>.<random>.part`` (or ``<prefix><pid>.<random>
    <suffix>``); one whose process no longer runs is removed. Returns the names of those
    that could not be removed.
    """
    left: list[str] = []
    prefix = f".{base}." if prefix is None else prefix
    try:
        names = os.listdir(folder)
    except OSError:
        return left
    for name in names:
        if not (name.startswith(prefix) and name.endswith(suffix)):
            continue
        pid_text = name[len(prefix) :].split(".", 1)[0]
        if not pid_text.isdigit() or _alive(int(pid_text)):
            continue
        try:
            os.remove(os.path.join(folder, name))
        except OSError:
            left.append(name)
    return left


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def _sync(fh: IO[Any]) -> None:
    with contextlib.suppress(OSError, ValueError, AttributeError):
        os.fsync(fh.fileno())


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0][:200] if text else "") + "."


def _provenance(attrs: Mapping[str, Any]) -> dict[str, Any]:
    keys = ("instrument", "definition_origin", "definition_hash", "library_version")
    out = {k: attrs[k] for k in keys if k in attrs}
    if attrs.get("provisional"):
        out["provisional"] = list(attrs["provisional"])
    return out


def _metadata_json(metadata: Mapping[str, Any]) -> bytes:
    return json.dumps(dict(metadata), ensure_ascii=False).encode("utf-8")


def _scalar_text(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ";".join(str(v) for v in value)
    return str(value)


def _cell(value: Any) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and np.isnan(value):
        return None
    if isinstance(value, np.generic):
        return _cell(value.item())
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
    """CSV text of ``frame`` built with pyarrow (see :func:`_arrow_csv_parts`)."""
    return b"".join(_arrow_csv_parts(frame, sep, header=header)).decode("utf-8")


def _arrow_csv_parts(frame: pd.DataFrame, sep: str, *, header: bool) -> Iterator[Any]:
    """CSV of ``frame`` as UTF-8 bytes in pieces (buffers to write one by one), built
    with pyarrow: text cells neutralised, quoted only when they hold the delimiter, a
    quote or a line break (as the csv module does), numbers in their shortest
    round-trip form, booleans as ``true``/``false``.

    No cell becomes a Python object. A column of few distinct values (scores, counts,
    flags, statuses: a few hundred in a million rows) is written from the text of each
    distinct value, and neighbouring such columns from the text of each combination that
    can occur (one scale's score, count and proration flag is one piece of text); text
    held by pyarrow is used as it is; the row's pieces are joined by pyarrow.
    """
    pa = require("pyarrow", "Fast CSV writing", "cli")
    pc = require("pyarrow.compute", "Fast CSV writing", "cli")
    if header:
        names = [neutralise(str(c)) for c in frame.columns]
        yield _text_row(names, sep).encode("utf-8", "backslashreplace")
    n = len(frame)
    if not n or not frame.shape[1]:
        return
    frame = frame.copy(deep=False)  # the same columns, without attrs to copy at each slice
    frame.attrs = {}
    for start in range(0, n, _WRITE_ROWS):
        part = frame.iloc[start : start + _WRITE_ROWS] if n > _WRITE_ROWS else frame
        pieces = [_csv_piece(part.iloc[:, j], sep, pa, pc) for j in range(part.shape[1])]
        last = pieces[-1]
        if isinstance(last, _Coded):  # the line end joins the last column's texts
            last.texts = [t + "\n" for t in last.texts]
        texts = _join_coded(pieces, sep, pa)
        lines = pc.binary_join_element_wise(*texts, sep) if len(texts) > 1 else texts[0]
        if not isinstance(last, _Coded):
            lines = pc.binary_join_element_wise(lines, "", "\n")
        offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32)
        first, stop = offsets[lines.offset], offsets[lines.offset + len(lines)]
        yield memoryview(lines.buffers()[2])[first:stop]


_WRITE_ROWS: Final = 1 << 16
"""Rows formatted at a time (a piece of text stays far below pyarrow's 2 GiB)."""
_CODED_LIMIT: Final = 4096
"""Most distinct texts a column (or a group of neighbouring columns) is written from."""


@dataclasses.dataclass
class _Coded:
    """A column as codes into the texts of its distinct values."""

    codes: np.ndarray[Any, Any]
    texts: list[str]


def _csv_piece(col: pd.Series, sep: str, pa: Any, pc: Any) -> Any:
    """One column as CSV cells: a :class:`_Coded` column, or a pyarrow string array."""
    dtype = col.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        texts = [
            "" if (t := _text_cell(v)) is None else _quote_cell(neutralise(t), sep)
            for v in dtype.categories.to_numpy(dtype=object)
        ]
        codes = col.cat.codes.to_numpy()
        return _Coded(np.where(codes < 0, len(texts), codes), [*texts, ""])
    held = arrow_strings(col)
    if held is not None:
        return pc.fill_null(_safe_text(held, sep, pa, pc), "")
    if isinstance(dtype, np.dtype) and dtype.kind == "b":
        return _Coded(col.to_numpy().view(np.int8), ["false", "true"])
    if isinstance(dtype, np.dtype) and dtype.kind in "iu" and len(col):
        values = col.to_numpy()
        lo, hi = int(values.min()), int(values.max())
        if hi - lo < _CODED_LIMIT:
            codes = values.astype(np.int64) - lo
            return _Coded(codes, [str(k) for k in range(lo, hi + 1)])
    if pd.api.types.is_float_dtype(dtype):
        values = col.to_numpy(dtype=np.float64, na_value=np.nan)
        codes, distinct = pd.factorize(values.view(np.int64))  # -0.0 is not 0.0
        if len(distinct) <= _CODED_LIMIT:
            numbers = np.asarray(distinct, dtype=np.int64).view(np.float64).tolist()
            return _Coded(codes, ["" if math.isnan(v) else _number(v) for v in numbers])
        array = _arrow_floats(values, pa, pc)
        return pc.fill_null(
            array if pa.types.is_string(array.type) else pc.cast(array, pa.string()), ""
        )
    if isinstance(dtype, pd.BooleanDtype):  # a cut-off flag: <NA> when not evaluated
        flags = col.array
        codes = flags.to_numpy(dtype=np.int8, na_value=2)
        return _Coded(codes, ["false", "true", ""])
    if pd.api.types.is_bool_dtype(dtype):
        array = pc.if_else(pa.array(col, from_pandas=True), "true", "false")
        return pc.fill_null(array, "")
    if pd.api.types.is_numeric_dtype(dtype):
        return pc.fill_null(pc.cast(pa.array(col, from_pandas=True), pa.string()), "")
    values = col.to_numpy(dtype=object)
    try:
        array = pa.array(values, type=pa.string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, ValueError, TypeError):
        array = pa.array([_text_cell(v) for v in values], type=pa.string())
    return pc.fill_null(_safe_text(array, sep, pa, pc), "")


def _join_coded(pieces: list[Any], sep: str, pa: Any) -> list[Any]:
    """The pieces as pyarrow string arrays; neighbouring coded columns are combined
    while their combinations number at most :data:`_CODED_LIMIT`, and each group is
    written from the text of each combination."""
    out: list[Any] = []
    group: list[_Coded] = []

    def flush() -> None:
        if not group:
            return
        key = np.zeros(len(group[0].codes), dtype=np.int64)
        for coded in group:
            key *= len(coded.texts)
            key += coded.codes
        sizes = [len(c.texts) for c in group]
        occurring = np.flatnonzero(np.bincount(key, minlength=math.prod(sizes)))
        digits = np.unravel_index(occurring, sizes)  # each combination's codes
        texts = [
            sep.join(c.texts[k] for c, k in zip(group, combination, strict=True))
            for combination in zip(*(d.tolist() for d in digits), strict=True)
        ]
        number = np.zeros(math.prod(sizes), dtype=np.int32)  # combination -> its text
        number[occurring] = np.arange(len(occurring), dtype=np.int32)
        out.append(pa.array(texts, type=pa.string()).take(pa.array(number[key])))
        group.clear()

    for piece in pieces:
        if not isinstance(piece, _Coded):
            flush()
            out.append(piece)
            continue
        size = math.prod(len(c.texts) for c in group) * len(piece.texts)
        if group and size > _CODED_LIMIT:
            flush()
        group.append(piece)
    flush()
    return out


def _safe_text(array: Any, sep: str, pa: Any, pc: Any) -> Any:
    """Text cells neutralised against formulas and quoted where they need it."""
    special = "[" + ("\\t" if sep == "\t" else re.escape(sep)) + '"\\r\\n]'
    scanned = _scan_text(array, sep)
    if scanned is None or scanned[0]:  # some cell may start a formula
        hit = pc.match_substring_regex(array, _ARROW_TRIGGER)
        if pc.any(hit).as_py():
            hit = pc.and_(hit, pc.invert(pc.match_substring_regex(array, _ARROW_NUMBER)))
            array = pc.if_else(hit, pc.binary_join_element_wise("'", array, ""), array)
        scanned = None
    if scanned is not None and not scanned[1]:
        return array
    needs = pc.match_substring_regex(array, special)
    if not pc.any(needs).as_py():
        return array
    quoted = pc.binary_join_element_wise('"', pc.replace_substring(array, '"', '""'), '"', "")
    return pc.if_else(needs, quoted, array)


_FIRST_BYTES: Final = np.zeros(256, dtype=bool)
"""First bytes of the cells that may need a formula prefix: the ASCII triggers, a
space, and the first bytes of U+00A0, U+3000 and the full-width triggers."""
_FIRST_BYTES[[ord(c) for c in "=+-@\t\r\0 "]] = True
_FIRST_BYTES[[0xC2, 0xE3, 0xEF]] = True


def _scan_text(array: Any, sep: str) -> tuple[bool, bool] | None:
    """(whether some cell may start a formula, whether some cell holds the delimiter, a
    quote or a line break), from the bytes of a pyarrow string array, without a regular
    expression per cell; ``None`` when it cannot tell (a delimiter of several bytes)."""
    code = sep.encode("utf-8")
    if len(code) != 1 or array.null_count == len(array):
        return None
    n = len(array)
    offsets = np.frombuffer(
        array.buffers()[1], dtype=np.int32, count=n + 1, offset=4 * array.offset
    )
    buffer = array.buffers()[2]
    if buffer is None or offsets[-1] == offsets[0]:
        return False, False
    data = np.frombuffer(buffer, dtype=np.uint8)
    special = np.zeros(256, dtype=bool)
    special[[code[0], ord('"'), ord("\r"), ord("\n")]] = True
    starts = offsets[:-1][offsets[1:] > offsets[:-1]]  # the first byte of each cell with one
    return bool(_FIRST_BYTES[data[starts]].any()), bool(
        special[data[offsets[0] : offsets[-1]]].any()
    )


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


def _arrow_floats(values: np.ndarray[Any, Any], pa: Any, pc: Any) -> Any:
    """Float64 values for pyarrow, written as Python writes the numbers.

    pyarrow switches to exponent notation from 1e10 (an 11-digit identifier stored as a
    double, as SPSS stores every number, would read ``2.0231015001e+10``) and below
    1e-4 writes ``0.00001``; those values are formatted as :func:`repr` does, the rest
    (the same text either way) by pyarrow.
    """
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
    out = neutralise_frame(_prepare(frame, "csv"))
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
