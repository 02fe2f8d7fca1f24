"""The fast engine for delimited text: pyarrow's streaming CSV reader.

Cells are read as text, and handed over without making a Python object per cell:

* a column asked for as integers whose cells in a chunk are all whole numbers from 0 to
  99 written plainly (``4``, ``10``; not ``04``) or empty (a Likert item's answers)
  becomes an ``int8`` column (nullable ``Int8`` when some are empty), read straight from
  pyarrow's buffers; every such cell is exactly the text of its number, so a problem
  found in it quotes the cell as written;
* any other item column is dictionary-encoded (a column of a million answers is a
  million small integers and a handful of distinct strings) and becomes a pandas
  categorical whose categories are those strings;
* other text columns become pandas objects, or pyarrow-backed strings when asked.

The physical
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
import io
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
    *,
    as_integer: list[bool] | None = None,
    arrow_text: bool = False,
) -> Iterator[Chunk]:
    """Chunks of the columns at ``positions`` (see :meth:`TableSource.chunks`)."""
    pa = require("pyarrow", "Fast CSV reading", "cli")
    pacsv = require("pyarrow.csv", "Fast CSV reading", "cli")
    pc = require("pyarrow.compute", "Fast CSV reading", "cli")

    width = len(layout.header)
    internal = [f"c{i}" for i in range(width)]
    integer = as_integer or [False] * len(positions)
    dictionary = {
        p for p, cat, num in zip(positions, as_category, integer, strict=True) if cat or num
    }
    types = dict.fromkeys(internal, pa.string())
    bad_rows: list[int] = []

    def on_invalid(row: Any) -> str:
        bad_rows.append(row.actual_columns)
        return "error"

    total = max(os.path.getsize(path), 1)
    block = max(chunk_bytes, 1 << 10)
    quoted = _quoting(path, layout)
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
            digits: dict[int, Any] = {}
            for p, num in zip(positions, integer, strict=True):
                if num and p not in digits:
                    digits[p] = _single_digits(arrays[p], pd)
            for p in dictionary:  # items hold a few distinct values: encode them once
                if digits.get(p) is None:
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
            data: dict[int, Any] = {}
            for i, (p, cat, num) in enumerate(zip(positions, as_category, integer, strict=True)):
                if num and digits[p] is not None:
                    data[i] = digits[p]
                elif cat or num:
                    data[i] = _categorical(arrays[p], pd)
                elif arrow_text:
                    data[i] = pd.arrays.ArrowExtensionArray(arrays[p])
                else:
                    data[i] = pd.Series(arrays[p].to_numpy(zero_copy_only=False), dtype=object)
            frame = pd.DataFrame(data, copy=False)
            frame.columns = pd.Index(names, dtype=object)
            frame.index = pd.RangeIndex(offset, offset + n)
            offset += n
            yielded = True
            yield Chunk(frame, starts, progress=min(1.0, batches * block / total))
        if not yielded:
            frame = pd.DataFrame(
                {
                    i: pd.Series([], dtype="category" if cat or num else object)
                    for i, (cat, num) in enumerate(zip(as_category, integer, strict=True))
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


def _single_digits(array: Any, pd: Any) -> Any:
    """A text column whose cells are all a whole number from 0 to 99 written as Python
    writes it (one or two ASCII digits, no leading zero) or empty, as integers.

    ``int8`` when no cell is empty, else nullable ``Int8`` with ``<NA>`` for the empty
    cells; ``None`` for any other column (``07``, ``+4``, `` 4``, ``4.0``, ``100``...).
    Read from the array's buffers: its offsets say each cell's length and where its
    digits are.
    """
    n = len(array)
    offsets = np.frombuffer(
        array.buffers()[1], dtype=np.int32, count=n + 1, offset=4 * array.offset
    )
    lengths = np.diff(offsets)
    if n and int(lengths.max()) > 2:
        return None
    buffer = array.buffers()[2]
    if buffer is None:  # every cell empty
        return pd.arrays.IntegerArray(np.zeros(n, dtype=np.int8), np.ones(n, dtype=bool))
    data = np.frombuffer(buffer, dtype=np.uint8)
    digits = data[offsets[0] : offsets[-1]] - np.uint8(48)  # "0" is 48: others wrap past 9
    if digits.size and int(digits.max()) > 9:
        return None
    empty = lengths == 0
    if n and int(lengths.max()) == 1:  # one digit each: the bytes are the cells
        values = digits.view(np.int8)
    else:
        first = data[offsets[:-1][~empty]] - np.uint8(48)
        two = lengths[~empty] == 2
        if (first[two] == 0).any():  # "07" is not how 7 is written
            return None
        values = first.view(np.int8).copy()
        values[two] = values[two] * 10 + (data[offsets[:-1][~empty][two] + 1] - 48).view(np.int8)
    if values.size == n:  # nothing empty
        return values
    full = np.zeros(n, dtype=np.int8)
    full[~empty] = values
    return pd.arrays.IntegerArray(full, empty)


def _categorical(array: Any, pd: Any) -> Any:
    """A dictionary-encoded text column as a pandas categorical of its distinct texts."""
    categories = array.dictionary.to_numpy(zero_copy_only=False)
    codes = array.indices.to_numpy(zero_copy_only=False)
    return pd.Categorical.from_codes(codes, categories=pd.Index(categories, dtype=object))


def _quoting(path: str, layout: TextLayout) -> bool:
    """Whether the data rows hold quotes (they are then parsed with quoting).

    A quote anywhere makes the whole file pass the strict check first (see
    :func:`strictly_quoted`), or the exact engine reads it. When the quotes are only in
    the header (a header written with every name quoted), the header's lines alone are
    checked, and the data rows, which hold none, are split at their line ends without a
    pass of the strict parser over the whole file.
    """
    header = _header_end(path, layout.header_lines)
    if header is not None and not has_quote(path, start=header[0]):
        head = header[1]
        if b'"' in head and not _strict_text(head, layout.delimiter):
            raise RestartRequired("the file's quoting needs the exact reader")
        return False
    quoted = has_quote(path)
    if quoted and not strictly_quoted(path, layout.delimiter):
        raise RestartRequired("the file's quoting needs the exact reader")
    return quoted


def _header_end(path: str, lines: int) -> tuple[int, bytes] | None:
    """(byte offset just past the header's ``lines`` physical lines, their bytes);
    ``None`` when the file ends first or a carriage return stands alone in them (a line
    end that is not ``\\n`` or ``\\r\\n``)."""
    head = bytearray()
    pos = 0
    with open(path, "rb") as fh:
        for _ in range(lines):
            while (at := head.find(b"\n", pos)) < 0:
                block = fh.read(1 << 20)
                if not block:
                    return None
                head += block
            pos = at + 1
    del head[pos:]
    if head.count(b"\r") != head.count(b"\r\n"):
        return None
    return pos, bytes(head)


def _strict_text(head: bytes, delimiter: str) -> bool:
    """Whether Python's :mod:`csv` with ``strict=True`` accepts these whole lines."""
    try:
        text = head.decode("utf-8-sig")
        collections.deque(
            csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True),
            maxlen=0,
        )
    except (csv.Error, UnicodeDecodeError):
        return False
    return True


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


def has_quote(path: str, start: int = 0) -> bool:
    """Whether the file holds a ``"`` anywhere from byte ``start`` (a fast scan)."""
    with open(path, "rb") as fh:
        fh.seek(start)
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
