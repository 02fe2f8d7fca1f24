"""Readers (files to DataFrames of raw cells) and writers (scores to files).

Readers never score: they return the cells as found, so that parsing and its problem
reports happen in one place (:mod:`alliance_score.parsing`). Delimited text is read as
text, exactly as written; the binary formats keep their cell types.

* :func:`read_table` reads a whole file into a DataFrame;
* :func:`open_table` opens it for chunked reading with each row's physical line;
* :class:`TableWriter` and :func:`write_table` write tables atomically, with text cells
  neutralised against spreadsheet formula injection.
"""

from __future__ import annotations

import os

import pandas as pd

from .layout import TextLayout, sniff_layout
from .source import (
    CHUNK_BYTES,
    Chunk,
    Engine,
    RestartRequired,
    TableFormat,
    TableSource,
    detect_format,
    open_table,
)
from .writers import (
    FORMULA_TRIGGERS,
    PROVENANCE_SUFFIX,
    OutputFormat,
    TableWriter,
    neutralise,
    neutralise_frame,
    output_format,
    plain_cell,
    write_table,
    writing,
)

__all__ = [
    "CHUNK_BYTES",
    "FORMULA_TRIGGERS",
    "PROVENANCE_SUFFIX",
    "Chunk",
    "Engine",
    "OutputFormat",
    "RestartRequired",
    "TableFormat",
    "TableSource",
    "TableWriter",
    "TextLayout",
    "detect_format",
    "neutralise",
    "neutralise_frame",
    "open_table",
    "output_format",
    "plain_cell",
    "read_table",
    "sniff_layout",
    "write_table",
    "writing",
]


def read_table(
    path: str | os.PathLike[str],
    *,
    fmt: TableFormat | None = None,
    sheet: str | None = None,
    decimal: str = ".",
) -> pd.DataFrame:
    """Read a whole table file into a DataFrame of raw cells (no scoring).

    Delimited text keeps every cell as text exactly as written (no missing-value
    guessing), so that the parser sees what the respondent's record holds; extra header
    rows (Qualtrics) are skipped; a ragged line is padded with empty cells or cut to the
    header's width (:func:`open_table` reports which). The index is ``0..n-1``.

    Parameters
    ----------
    path
        A ``.csv``/``.tsv`` file (any of the encodings and delimiters
        :func:`sniff_layout` recognises), ``.xlsx``, ``.sav``, ``.dta`` or ``.parquet``.
    fmt
        Override the format guessed from the suffix.
    sheet
        For an Excel workbook, the sheet to read (name, or number from 1); default the
        first.
    decimal
        ``","`` when the file writes numbers with a decimal comma (a European
        spreadsheet export): text cells that are exactly such a number (``"8,5"``) are
        returned with a decimal point (``"8.5"``); every other cell is left as written.

    Returns
    -------
    pandas.DataFrame
        One row per data row of the file.

    Raises
    ------
    UnreadableFileError
        When the file cannot be opened, decoded or parsed.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "export.csv"
    >>> _ = path.write_text('id,wai_1\\nA,4\\nB," 5 "\\n', encoding="utf-8")
    >>> read_table(path)
      id wai_1
    0  A     4
    1  B    5
    """
    source = open_table(path, fmt=fmt, sheet=sheet)
    try:
        frames = [c.frame for c in source.chunks()]
    except RestartRequired as restart:
        frames = [c.frame for c in source.chunks(engine="python", encoding=restart.encoding)]
    frame = pd.concat(frames) if len(frames) > 1 else frames[0]
    frame.index = pd.RangeIndex(len(frame))
    if decimal not in (".", ","):
        raise ValueError(f"decimal must be '.' or ','; got {decimal!r}")
    if decimal == ",":
        frame = _decimal_points(frame)
    return frame


def _decimal_points(frame: pd.DataFrame) -> pd.DataFrame:
    """Text cells written with a decimal comma (``"8,5"``), rewritten with a point."""
    out = frame.copy()
    for j in range(out.shape[1]):
        column = out.iloc[:, j]
        if column.dtype != object and not pd.api.types.is_string_dtype(column.dtype):
            continue
        text = column.astype("string")
        comma = text.str.fullmatch(r"\s*[+-]?\d*,\d+\s*").fillna(value=False)
        if comma.any():
            points = text.str.strip().str.replace(",", ".", regex=False)
            out.isetitem(j, column.where(~comma.to_numpy(dtype=bool), points).to_numpy())
    return out
