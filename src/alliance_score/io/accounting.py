"""A scored chunk in file terms: input lines, rows counted from the file's start, and
the problems only a file has.

:func:`alliance_score.score_frame` knows rows of a DataFrame; a file has lines, chunks
and more than one chunk's worth of rows. :func:`account` adds each problem's input
``line``, counts rows from the start of the file, and reports ragged lines
(``ragged_line``), cells with bytes invalid in the file's encoding (``undecodable``)
and duplicate administrations (``duplicate_row``, found across chunks
by :class:`DuplicateFinder`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from typing import Any, Final

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from ..errors import ProblemCode
from ..frame import FrameResult
from ..scoring import STATUS_ORDER, Status
from .source import Chunk, require

__all__ = ["PROBLEM_FILE_COLUMNS", "DuplicateFinder", "account"]

PROBLEM_FILE_COLUMNS: tuple[str, ...] = (
    "line",
    "row",
    "index",
    "column",
    "item",
    "value",
    "code",
    "message",
)
"""Columns of the problems file: the library's problems table plus the input ``line``."""


def account(
    result: FrameResult,
    chunk: Chunk,
    duplicates: DuplicateFinder,
    on_invalid: str,
    width: int,
) -> FrameResult:
    """Put a chunk's result in file terms: global rows, input lines, row-level problems.

    The chunk is scored with ``first_row`` set to its position in the file, so the
    library's problems already count rows from the start of the file; they get the
    input ``line`` here. Ragged lines and duplicate identifiers are added as row-level
    problems (column and item empty), before the row's cell problems. With
    ``on_invalid="reject"`` a row from a ragged line is not scored (status ``invalid``),
    as for an invalid cell.
    """
    frame = chunk.frame
    offset = int(frame.index[0]) if len(frame) else 0
    problems = result.problems.copy()
    local = problems["row"].to_numpy(dtype=np.int64) - offset
    problems.insert(0, "line", chunk.lines[local] if len(local) else np.empty(0, np.int64))
    extra: list[tuple[Any, ...]] = []
    for pos, fields in zip(chunk.ragged.tolist(), chunk.ragged_fields.tolist(), strict=True):
        line = int(chunk.lines[pos])
        then = (
            "the row is not scored (--on-invalid missing scores the fields it has)"
            if on_invalid == "reject"
            else "absent fields count as missing and extra fields are ignored"
        )
        extra.append(
            (
                line,
                offset + pos,
                str(offset + pos),
                None,
                None,
                f"{fields} field{'' if fields == 1 else 's'}",
                ProblemCode.RAGGED_LINE.value,
                f"Row {offset + pos} (line {line}) has {fields} field{'' if fields == 1 else 's'} "
                f"where the header has "
                f"{width}; {then}.",
            )
        )
    for pos, column in chunk.undecodable:
        line = int(chunk.lines[pos])
        extra.append(
            (
                line,
                offset + pos,
                str(offset + pos),
                column,
                None,
                str(frame[column].iloc[pos]),
                ProblemCode.UNDECODABLE.value,
                f"Row {offset + pos} (line {line}), column {column!r}, holds bytes that are "
                "not valid in the file's encoding; they are read as U+FFFD (\ufffd) and the "
                "rest of the file is read as it is.",
            )
        )
    found = duplicates.find(frame, chunk.lines) if chunk.duplicates is None else chunk.duplicates
    scores = result.scores
    if extra or len(found):
        row_level = [
            pd.DataFrame.from_records(extra, columns=list(PROBLEM_FILE_COLUMNS)),
            _duplicate_problems(found, chunk.lines, offset, duplicates.columns),
        ]
        problems = pd.concat([*(f for f in row_level if len(f)), problems], ignore_index=True)
        problems = problems.sort_values("row", kind="stable", ignore_index=True)
        if on_invalid == "reject" and len(chunk.ragged):
            scores = _reject_rows(scores, result, chunk.ragged)
    problems = problems.astype({"line": np.int64, "row": np.int64})
    return dataclasses.replace(result, scores=scores, problems=problems[list(PROBLEM_FILE_COLUMNS)])


def _reject_rows(
    scores: pd.DataFrame, result: FrameResult, positions: NDArray[np.int64]
) -> pd.DataFrame:
    """Mark rows invalid as the library does for a row with an invalid cell."""
    out = scores.copy()
    attrs = scores.attrs.get("alliance_score", {})
    for scale in attrs.get("scales", []):
        values = out[scale].to_numpy(copy=True)
        values[positions] = np.nan
        out[scale] = values
        prorated = out[f"{scale}_prorated"].to_numpy(copy=True)
        prorated[positions] = False
        out[f"{scale}_prorated"] = prorated
    for cut in result.instrument.cutoffs:
        if cut.flag in out.columns:
            flags = out[cut.flag].array.copy()
            flags[positions] = pd.NA
            out[cut.flag] = flags
    codes = out["status"].cat.codes.to_numpy(copy=True)
    codes[positions] = STATUS_ORDER.index(Status.INVALID)
    out["status"] = pd.Categorical.from_codes(codes, categories=out["status"].cat.categories)
    out.attrs = scores.attrs
    return out


def _hashable(value: Any) -> Any:
    from .writers import plain_cell

    return plain_cell(value)


_SPACE_BYTES: Final = np.zeros(256, dtype=bool)
_SPACE_BYTES[[9, 10, 11, 12, 13, 28, 29, 30, 31, 32]] = True  # ASCII that str.strip() strips
_SPACE_BYTES[0x80:] = True  # a non-ASCII character may be a space (U+00A0, U+3000, ...)


def _cell_hashes(column: pd.Series) -> tuple[NDArray[np.uint64], NDArray[np.bool_]]:
    """(a 64-bit hash of each cell, whether the cell is blank: missing or only spaces).

    Text held by pyarrow is hashed per distinct value (pyarrow's dictionary encoding),
    never as one Python object per cell; other columns as pandas hashes them. A text
    cell hashes alike either way.
    """
    from .writers import arrow_strings

    text = arrow_strings(column)
    if text is None:
        values = column.astype(object)
        if pd.api.types.infer_dtype(values, skipna=True) == "mixed":
            values = values.map(_hashable)  # list, dict or array cells compared as text
        blank = (values.isna() | values.astype(str).str.strip().eq("")).to_numpy(dtype=bool)
        return pd.util.hash_array(values.to_numpy(dtype=object)), blank
    pa = require("pyarrow", "Fast CSV reading", "cli")
    pc = require("pyarrow.compute", "Fast CSV reading", "cli")
    encoded = pc.dictionary_encode(text, null_encoding="encode")  # a missing cell: None
    indices = encoded.indices.to_numpy(zero_copy_only=False)
    dictionary = encoded.dictionary.cast(pa.string())
    distinct = dictionary.to_numpy(zero_copy_only=False)
    hashes = pd.util.hash_array(distinct, categorize=False)
    # a value can be blank only if it is empty or starts with a byte that may be a space
    n = len(dictionary)
    offsets = np.frombuffer(
        dictionary.buffers()[1], dtype=np.int32, count=n + 1, offset=4 * dictionary.offset
    )
    buffer = dictionary.buffers()[2]
    data = np.frombuffer(buffer, dtype=np.uint8) if buffer is not None else np.empty(0, np.uint8)
    data = np.append(data, np.uint8(0))  # the empty value's "first byte"
    empty = offsets[1:] == offsets[:-1]
    maybe = empty | _SPACE_BYTES[data[np.minimum(offsets[:-1], len(data) - 1)]]
    blank_value = np.zeros(n, dtype=bool)
    for k in np.flatnonzero(maybe).tolist():
        blank_value[k] = distinct[k] is None or not distinct[k].strip()
    return hashes[indices], blank_value[indices]


def _distinct(
    hashes: NDArray[np.uint64],
) -> tuple[NDArray[np.uint64], NDArray[np.intp], NDArray[np.intp]]:
    """(the distinct hashes, sorted; the position of each one's first row; each row's
    distinct hash), as ``np.unique`` gives them, with an unstable sort (faster)."""
    order = np.argsort(hashes)
    if not len(order):
        return hashes[:0], order, order
    ordered = hashes[order]
    new = np.r_[True, ordered[1:] != ordered[:-1]]
    starts = np.flatnonzero(new)
    inverse = np.empty(len(hashes), dtype=np.intp)
    inverse[order] = np.cumsum(new) - 1
    return ordered[starts], np.minimum.reduceat(order, starts), inverse


def _combine(columns: list[NDArray[np.uint64]]) -> NDArray[np.uint64]:
    """One hash per row from its cells' hashes (the combination pandas uses for rows)."""
    out = np.full(len(columns[0]), 0x345678, dtype=np.uint64)
    mult = np.uint64(1000003)
    with np.errstate(over="ignore"):
        for i, hashes in enumerate(columns):
            left = len(columns) - i
            out ^= hashes
            out *= mult
            mult += np.uint64(82520 + 2 * left)
        out += np.uint64(97531)
    return out


def _duplicate_problems(
    found: NDArray[np.int64], lines: NDArray[np.int64], offset: int, columns: Sequence[str]
) -> pd.DataFrame:
    """The ``duplicate_row`` problems of a chunk: ``found`` holds ``(position in the
    chunk, line of the first row with the same identifiers)`` pairs (one problem each,
    built column by column: an export appended to itself has as many as it has rows)."""
    pos, first_line = found[:, 0], found[:, 1]
    line, row = lines[pos], pos + offset
    names = ", ".join(columns)
    message = [
        f"Row {r} (line {n}) has the same identifiers ({names}) as the row on line {f}; "
        "both are kept and scored."
        for r, n, f in zip(row.tolist(), line.tolist(), first_line.tolist(), strict=True)
    ]
    empty = np.full(len(found), None, dtype=object)
    return pd.DataFrame(
        {
            "line": line,
            "row": row,
            "index": row.astype(str).astype(object),
            "column": empty,
            "item": empty,
            "value": empty,
            "code": np.full(len(found), ProblemCode.DUPLICATE_ROW.value, dtype=object),
            "message": np.array(message, dtype=object),
        }
    )


class DuplicateFinder:
    """Finds rows whose identifier columns repeat an earlier row's, across chunks.

    Rows are compared by a 64-bit hash of their identifier cells (pandas'
    ``hash_array``), so memory grows by about 12 bytes per distinct administration (the
    hash and the line of its first row), not with the row width. Rows whose identifiers
    are all empty are not compared.

    The hashes seen are kept in sorted runs: each chunk's new hashes are a run, and
    every eight such runs are merged into one that is never merged again (no copy of
    everything seen, and no time spent on it, as a file grows). A bit filter answers
    "not seen" for most new hashes, so only the others are searched for in the runs.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> finder = DuplicateFinder(["client", "session"])
    >>> first = pd.DataFrame({"client": ["a", "b"], "session": ["1", "1"]})
    >>> list(finder.check(first, np.array([2, 3])))
    []
    >>> later = pd.DataFrame({"client": ["a", "a"], "session": ["2", "1"]}, index=[2, 3])
    >>> list(finder.check(later, np.array([4, 5])))  # (position in chunk, first line)
    [(1, 2)]
    """

    def __init__(self, columns: Sequence[str]) -> None:
        self.columns = list(columns)
        self._runs: list[tuple[NDArray[np.uint64], NDArray[np.integer[Any]]]] = []
        """Disjoint runs of (sorted hashes, line of each hash's first row); the last
        one still grows."""
        self._fresh = 0
        """Runs of one chunk at the end of ``_runs``."""
        self._filter = _BitFilter()
        """Answers "not seen" for most new hashes without a search of the runs."""

    def check(self, frame: pd.DataFrame, lines: NDArray[np.int64]) -> Iterator[tuple[int, int]]:
        """Yield ``(position in frame, line of the first row with the same identifiers)``."""
        yield from ((pos, first) for pos, first in self.find(frame, lines).tolist())

    def find(self, frame: pd.DataFrame, lines: NDArray[np.int64]) -> NDArray[np.int64]:
        """:meth:`check` as one ``k x 2`` array: per repeated row, its position in
        ``frame`` and the line of the first row with the same identifiers, in order."""
        none = np.empty((0, 2), dtype=np.int64)
        if not self.columns or not len(frame):
            return none
        cells = [_cell_hashes(frame[name]) for name in self.columns]
        blank = np.logical_and.reduce([b for _, b in cells])
        usable = np.flatnonzero(~blank)
        if not len(usable):
            return none
        hashes = _combine([h[usable] for h, _ in cells])
        uniq, first, inverse = _distinct(hashes)
        own_line = lines[usable]
        first_line = own_line[first]
        seen = np.zeros(len(uniq), dtype=bool)
        maybe = np.flatnonzero(self._filter.may_hold(uniq))  # most rows are new: skip them
        if len(maybe):
            candidates = uniq[maybe]
            for run, run_lines in self._runs:
                pos = np.minimum(np.searchsorted(run, candidates), len(run) - 1)
                hit = run[pos] == candidates
                first_line[maybe[hit]] = run_lines[pos[hit]]
                seen[maybe[hit]] = True
        is_dup = first_line[inverse] != own_line
        new = ~seen
        self._add(uniq[new], first_line[new])
        k = np.flatnonzero(is_dup)
        return np.column_stack([usable[k], first_line[inverse[k]]]).astype(np.int64, copy=False)

    def _add(self, hashes: NDArray[np.uint64], lines: NDArray[np.int64]) -> None:
        """Add sorted hashes not seen before, as a run of their own; the newest
        :data:`_FAN_IN` such runs are merged into one once they are that many."""
        if not len(hashes):
            return
        self._filter.add(hashes)
        small = np.uint32 if int(lines.max()) < _UINT32 else np.int64
        self._runs.append((hashes, lines.astype(small)))
        self._fresh += 1
        if self._fresh == _FAN_IN:
            merging = self._runs[-_FAN_IN:]
            merged = np.concatenate([h for h, _ in merging])
            order = np.argsort(merged, kind="stable")  # sorted runs: merged in linear time
            merged_lines = np.concatenate([x.astype(np.int64) for _, x in merging])[order]
            small = np.uint32 if int(merged_lines.max()) < _UINT32 else np.int64
            self._runs[-_FAN_IN:] = [(merged[order], merged_lines.astype(small))]
            self._fresh = 0


_FAN_IN: Final = 8
"""Runs of one chunk each merged into one (older runs are never merged again)."""
_UINT32: Final = 1 << 32


class _BitFilter:
    """A set of 64-bit hashes that may answer "maybe" for one it does not hold (a
    blocked Bloom filter of 2^27 bits, 16 MiB, two bits per hash in one 64-bit word):
    about 2% of answers are wrong when it holds ten million, and "no" is always right."""

    BITS: Final = 27

    def __init__(self) -> None:
        self._words = np.zeros(1 << (self.BITS - 6), dtype=np.uint64)

    def _place(self, hashes: NDArray[np.uint64]) -> tuple[NDArray[np.uint64], NDArray[np.uint64]]:
        """(the word of each hash, its two bits in the word) from separate bits of it."""
        word = hashes >> np.uint64(64 - self.BITS + 6)
        one = np.uint64(1)
        bits = np.left_shift(one, (hashes >> np.uint64(6)) & np.uint64(63))
        bits |= np.left_shift(one, hashes & np.uint64(63))
        return word, bits

    def may_hold(self, hashes: NDArray[np.uint64]) -> NDArray[np.bool_]:
        word, bits = self._place(hashes)
        held: NDArray[np.bool_] = (self._words[word] & bits) == bits
        return held

    def add(self, hashes: NDArray[np.uint64]) -> None:
        """Add sorted hashes (so that each word's bits are gathered in one place)."""
        if not len(hashes):
            return
        word, bits = self._place(hashes)
        starts = np.flatnonzero(np.r_[True, word[1:] != word[:-1]])
        self._words[word[starts]] |= np.bitwise_or.reduceat(bits, starts)
