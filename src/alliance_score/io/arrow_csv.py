"""The fast engine for delimited text: pyarrow's streaming CSV reader.

Cells are read as text (item columns then dictionary-encoded, so a column of a million
answers is a million small integers and a handful of distinct strings). The physical
line of each row is the header's lines plus the rows before it plus the line breaks
inside their quoted fields. A file whose quoting the strict reader refuses (pyarrow
accepts text after a closing quote, and so can merge two records) or that holds a lone
carriage return, a ragged or blank line, bytes that are not UTF-8 or a record longer
than a block raise :class:`~alliance_score.io.source.RestartRequired` so that the exact
engine reads the file instead: the two engines always give the same chunks.
"""

from __future__ import annotations

import collections
import csv
import os
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd

from .layout import TextLayout
from .source import Chunk, RestartRequired, require

__all__ = ["arrow_chunks", "has_quote"]


def arrow_chunks(
    path: str,
    layout: TextLayout,
    positions: list[int],
    names: list[str],
    as_category: list[bool],
    chunk_bytes: int,
) -> Iterator[Chunk]:
    pa = require("pyarrow", "Fast CSV reading", "cli")
    pacsv = require("pyarrow.csv", "Fast CSV reading", "cli")
    pc = require("pyarrow.compute", "Fast CSV reading", "cli")

    width = len(layout.header)
    internal = [f"c{i}" for i in range(width)]
    dictionary = {p for p, cat in zip(positions, as_category, strict=True) if cat}
    types = dict.fromkeys(internal, pa.string())
    bad_rows: list[int] = []

    def on_invalid(row: Any) -> str:
        bad_rows.append(row.actual_columns)
        return "error"

    total = max(os.path.getsize(path), 1)
    block = max(chunk_bytes, 1 << 10)
    quoted = has_quote(path)
    if quoted and not strictly_quoted(path, layout.delimiter):
        raise RestartRequired("the file's quoting needs the exact reader")
    batches = 0
    try:
        reader = pacsv.open_csv(
            path,
            read_options=pacsv.ReadOptions(
                column_names=internal,
                skip_rows=layout.header_lines,
                block_size=block,
                encoding="utf8",
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=layout.delimiter,
                quote_char='"' if quoted else False,
                newlines_in_values=quoted,
                ignore_empty_lines=False,
                invalid_row_handler=on_invalid,
            ),
            convert_options=pacsv.ConvertOptions(column_types=types, strings_can_be_null=False),
        )
        offset = 0
        line = layout.header_lines + 1
        yielded = False
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                break
            n = batch.num_rows
            if n == 0:
                continue
            batches += 1
            arrays = list(batch.columns)
            for p in dictionary:  # items hold a few distinct values: encode them once
                arrays[p] = pc.dictionary_encode(arrays[p])
            if _has_blank_row(arrays, pc, pa):
                raise RestartRequired("the file has blank lines")
            starts = line + np.arange(n, dtype=np.int64)
            if quoted:  # a line break inside a quoted field moves the next rows down
                breaks = _line_breaks(arrays, n, pa, pc)
                starts[1:] += np.cumsum(breaks[:-1])
                line = int(starts[-1] + breaks[-1] + 1)
            else:
                line += n
            data = {
                i: (
                    arrays[p].to_pandas()
                    if cat
                    else pd.Series(arrays[p].to_numpy(zero_copy_only=False), dtype=object)
                )
                for i, (p, cat) in enumerate(zip(positions, as_category, strict=True))
            }
            frame = pd.DataFrame(data)
            frame.columns = pd.Index(names, dtype=object)
            frame.index = pd.RangeIndex(offset, offset + n)
            offset += n
            yielded = True
            yield Chunk(frame, starts, progress=min(1.0, batches * block / total))
        if not yielded:
            frame = pd.DataFrame(
                {
                    i: pd.Series([], dtype="category" if cat else object)
                    for i, cat in enumerate(as_category)
                }
            )
            frame.columns = pd.Index(names, dtype=object)
            yield Chunk(frame, np.empty(0, dtype=np.int64))
    except pa.ArrowInvalid as exc:
        if bad_rows:
            raise RestartRequired("a line has more or fewer fields than the header") from exc
        if "UTF8" in str(exc) or "utf8" in str(exc).lower():
            raise RestartRequired("some bytes are not valid UTF-8") from exc
        # a record longer than a block, or anything else pyarrow does not read: the
        # exact engine reads it or says precisely why not
        raise RestartRequired(f"the fast reader stopped ({_first_line(exc)})") from exc


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:120] if text else type(exc).__name__


def _line_breaks(arrays: list[Any], n: int, pa: Any, pc: Any) -> Any:
    """Line breaks inside each row's fields (a ``\r\n`` is one; lone ``\r`` never
    reaches this engine, see :func:`strictly_quoted`)."""
    breaks = np.zeros(n, dtype=np.int64)
    for column in arrays:
        if isinstance(column, pa.DictionaryArray):
            per_value = pc.count_substring(column.dictionary, "\n").to_numpy()
            if per_value.any():
                breaks += per_value[column.indices.to_numpy(zero_copy_only=False)]
        else:
            counts = pc.count_substring(column, "\n")
            if pc.max(counts).as_py():
                breaks += counts.to_numpy(zero_copy_only=False)
    return breaks


def strictly_quoted(path: str, delimiter: str) -> bool:
    """Whether the fast engine reads this quoted file exactly as the strict reader does.

    True when Python's :mod:`csv` with ``strict=True`` accepts the whole file (every
    closing quote is followed by the delimiter or a line end, and no quote is left open)
    and no carriage return stands alone (the csv module counts it as a line, pyarrow
    does not). Otherwise the exact engine reads the file and reports the line at fault.
    """
    previous = b""
    with open(path, "rb") as fh:
        while block := fh.read(16 << 20):
            joined = previous + block
            cut = len(joined) - 1 if joined.endswith(b"\r") else len(joined)
            if joined.count(b"\r", 0, cut) != joined.count(b"\r\n", 0, cut):
                return False
            previous = joined[cut:]
    try:
        with open(path, encoding="utf-8-sig", newline="") as text:
            collections.deque(csv.reader(text, delimiter=delimiter, strict=True), maxlen=0)
    except (csv.Error, UnicodeDecodeError):
        return False
    return True


def has_quote(path: str) -> bool:
    """Whether the file holds a ``"`` anywhere (a fast scan of its bytes)."""
    with open(path, "rb") as fh:
        while block := fh.read(16 << 20):
            if b'"' in block:
                return True
    return False


def _has_blank_row(arrays: list[Any], pc: Any, pa: Any) -> bool:
    """True when some row has every field empty (a blank line, or one of empty fields).

    A blank line is not a data row; telling it from a line of empty fields needs the
    exact engine.
    """
    blank: Any = None
    for column in arrays:
        if isinstance(column, pa.DictionaryArray):
            empty = pc.equal(column.dictionary, "").to_numpy(zero_copy_only=False)
            mask = empty[column.indices.to_numpy(zero_copy_only=False)]
        else:
            mask = pc.equal(column, "").to_numpy(zero_copy_only=False)
        blank = mask if blank is None else blank & mask
        if not blank.any():
            return False
    return bool(blank is not None and blank.any())
