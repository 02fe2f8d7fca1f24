"""Scoring a DataFrame: map columns, parse cells, run the kernel, assemble the results.

Output columns (fixed names, in this order):

* the ``keep`` columns, copied from the input;
* per scored scale ``<scale>`` (float), ``<scale>_n_answered`` (int) and
  ``<scale>_prorated`` (bool);
* per evaluated cut-off its flag (nullable boolean: ``<NA>`` when the scale is not scored);
* ``n_answered`` (answered items over the instrument), ``n_problems`` (problem cells in
  the row);
* ``provisional``, only when provisional scales or cut-offs were scored on request: the
  same text in every row, naming them (``"task;goal;bond"``), so that every file written
  from the result says which of its columns are provisional;
* ``status`` (categorical: complete, prorated, partial, insufficient, invalid).

The result has the input's index and one row per input row, in order. The input is never
modified. ``DataFrame.attrs["alliance_score"]`` records the instrument reference, the
library version, the scales scored and which of them are provisional.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, overload

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from ._version import __version__
from .coding import AnswerRange, coding_notes
from .errors import ColumnMappingError, DataError, Problem, ProblemCode
from .instrument import Cutoff, Instrument, Scale
from .mapping import ColumnMap, missing_columns_message, resolve_columns
from .parsing import (
    CODES,
    CellRules,
    looks_like_decimal_comma,
    masked_integers,
    numeric_values,
    parse_column,
)
from .registry import resolve_instrument
from .scoring import (
    STATUS_ORDER,
    KernelResult,
    batch_kernel,
    provisional_ids,
    score_columns,
    select_scales,
)

__all__ = ["PROBLEM_COLUMNS", "FrameResult", "OnInvalid", "score_frame"]

OnInvalid = Literal["reject", "missing"]
FRAME_BLOCK_ROWS = 1 << 17
"""Rows parsed and scored at a time: keeps the parsed matrix small for very large frames
(results do not depend on it; rows are scored independently)."""
PROBLEM_COLUMNS: tuple[str, ...] = ("row", "index", "column", "item", "value", "code", "message")


@dataclass(frozen=True, eq=False)
class FrameResult:
    """Scores and problems from one :func:`score_frame` call."""

    scores: pd.DataFrame
    """One row per input row (see the module docs for the columns)."""
    problems: pd.DataFrame
    """One row per problem: ``row`` (0-based position), ``index`` (the row's index
    label, as text), ``column``, ``item``, ``value`` (raw, as text), ``code``, ``message``."""
    instrument: Instrument
    mapping: ColumnMap
    provisional: tuple[str, ...] = field(default=())
    """Scored scales (and evaluated cut-off flags) that are provisional."""
    answers: AnswerRange = field(default=AnswerRange(float("nan"), float("nan"), 0))
    """The lowest and highest valid answer and the rows that answered (see
    :mod:`alliance_score.coding`)."""

    @property
    def coding_notes(self) -> list[str]:
        """Notes when the answers look like another coding of the response scale
        (nothing above 5 on a 1-7 scale); a finding about the data set, not a row."""
        return coding_notes(self.instrument, self.answers)

    def __repr__(self) -> str:
        """One line: instrument, rows per status, problems, provisional scales.

        >>> import pandas as pd
        >>> from alliance_score import score_frame
        >>> df = pd.DataFrame({f"wai_{i}": [4, 5, "x"] for i in range(1, 13)})
        >>> score_frame(df, "wai-sr", return_problems=True)
        FrameResult(wai-sr@1.0: 3 rows (complete 2, invalid 1), 12 problems)
        """
        status: dict[str, int] = {
            str(k): int(v) for k, v in self.scores["status"].value_counts(sort=False).items()
        }
        counts = ", ".join(
            f"{s.value} {status[s.value]}" for s in STATUS_ORDER if status.get(s.value)
        )
        text = f"{self.instrument.ref}: {len(self.scores)} rows"
        text += f" ({counts})" if counts else ""
        text += f", {len(self.problems)} problem{'' if len(self.problems) == 1 else 's'}"
        if self.provisional:
            text += f", provisional: {', '.join(self.provisional)}"
        return f"FrameResult({text})"

    def problem_records(self) -> list[Problem]:
        """The problems as :class:`~alliance_score.errors.Problem` models."""
        return [
            Problem.model_validate(record) for record in self.problems.to_dict(orient="records")
        ]

    def summary(self) -> dict[str, Any]:
        """A JSON-ready account of the run: rows per status, problems per code, mapping."""
        status = self.scores["status"].value_counts(sort=False)
        return {
            "instrument": {"id": self.instrument.id, "version": self.instrument.version},
            "library_version": __version__,
            "rows": len(self.scores),
            "status": {s.value: int(status.get(s.value, 0)) for s in STATUS_ORDER},
            "problems": {
                str(k): int(v) for k, v in sorted(self.problems["code"].value_counts().items())
            },
            "mapping": {item: str(col) for item, col in self.mapping.items()},
            "provisional": list(self.provisional),
            "answers": self.answers.to_dict(),
            "coding": self.coding_notes,
        }

    def _repr_html_(self) -> str:
        """A compact table for notebooks (see ``alliance_score._html``)."""
        from ._html import frame_result_html

        return frame_result_html(self)


@overload
def score_frame(
    data: pd.DataFrame,
    instrument: Instrument | str,
    *,
    items: Mapping[str, Hashable] | str | None = ...,
    scales: Sequence[str] | None = ...,
    keep: Sequence[Hashable] = ...,
    missing_codes: Sequence[float | str] = ...,
    labels: bool = ...,
    on_invalid: OnInvalid = ...,
    allow_provisional: bool = ...,
    decimal: str = ...,
    any_resolution: bool = ...,
    first_row: int = ...,
    return_problems: Literal[False] = ...,
) -> pd.DataFrame: ...


@overload
def score_frame(
    data: pd.DataFrame,
    instrument: Instrument | str,
    *,
    items: Mapping[str, Hashable] | str | None = ...,
    scales: Sequence[str] | None = ...,
    keep: Sequence[Hashable] = ...,
    missing_codes: Sequence[float | str] = ...,
    labels: bool = ...,
    on_invalid: OnInvalid = ...,
    allow_provisional: bool = ...,
    decimal: str = ...,
    any_resolution: bool = ...,
    first_row: int = ...,
    return_problems: Literal[True],
) -> FrameResult: ...


def score_frame(
    data: pd.DataFrame,
    instrument: Instrument | str,
    *,
    items: Mapping[str, Hashable] | str | None = None,
    scales: Sequence[str] | None = None,
    keep: Sequence[Hashable] = (),
    missing_codes: Sequence[float | str] = (),
    labels: bool = False,
    on_invalid: OnInvalid = "reject",
    allow_provisional: bool = False,
    decimal: str = ".",
    any_resolution: bool = False,
    first_row: int = 0,
    return_problems: bool = False,
) -> pd.DataFrame | FrameResult:
    """Score every row of ``data`` as one administration of ``instrument``.

    Parameters
    ----------
    data
        One row per administration; item answers as numbers (any numpy dtype, pandas'
        nullable integers such as ``Int8``, or pyarrow-backed ``int8[pyarrow]`` ...;
        NaN or ``<NA>`` = missing) or text.
    instrument
        An :class:`~alliance_score.instrument.Instrument`, an id (``"wai-sr"``), an
        ``id@version`` or a path to a definition file.
    items
        How to find the item columns: ``{item id: column}``, a pattern such as
        ``"wai_{item}"``, or ``None`` to detect the common namings (see
        :func:`~alliance_score.mapping.resolve_columns`).
    scales
        Scale ids to score; default every verified scale (and the provisional ones when
        ``allow_provisional``).
    keep
        Input columns to copy into the result (identifiers such as a client id); one
        name given as text (``keep="client"``) is that one column.
    missing_codes
        Values that mean "missing" besides the defaults (blank, NA, N/A, NaN, null, ".").
    labels
        Accept anchor labels such as ``"Always"`` as their numeric value.
    on_invalid
        ``"reject"`` (default): a row with any invalid cell gets status ``invalid`` and no
        scores. ``"missing"``: invalid cells count as missing and the row is scored. The
        problems are reported either way.
    allow_provisional
        Also score provisional scales and cut-offs; they are listed in
        ``attrs["alliance_score"]["provisional"]`` and in :attr:`FrameResult.provisional`.
    decimal
        ``","`` when text cells use a decimal comma (``"8,5"``, a European spreadsheet
        export); default ``"."``. Without it a decimal comma is ``not_a_number`` and the
        message says so; it is never guessed.
    any_resolution
        Accept visual analogue values recorded finer than the definition's step (a
        digital SRS slider's ``7.25``): they are scored as recorded, never rounded, and
        ``attrs["alliance_score"]["any_resolution"]`` says so. Likert items still take
        whole steps.
    first_row
        Position of ``data``'s first row in a larger table that is scored in parts (a
        file read in chunks): problem rows and messages count from it.
    return_problems
        Return a :class:`FrameResult` (scores, problems, mapping, summary) instead of the
        scores alone.

    Raises
    ------
    ColumnMappingError
        When the item columns cannot be matched unambiguously.
    ProvisionalScaleError
        When a provisional scale is requested without ``allow_provisional``.
    UnknownInstrumentError, InstrumentDefinitionError
        When ``instrument`` cannot be loaded.

    Examples
    --------
    >>> import pandas as pd
    >>> from alliance_score import score_frame
    >>> answers = {f"wai_{i}": [4, 5] for i in range(1, 13)}
    >>> answers["wai_3"] = [4, "4.5"]
    >>> df = pd.DataFrame({"client": ["a", "b"], **answers})
    >>> res = score_frame(df, "wai-sr", keep=["client"], return_problems=True)
    >>> res.scores[["client", "total", "status"]]
      client  total   status
    0      a    4.0 complete
    1      b    NaN  invalid
    >>> res.problems.loc[0, "message"]
    "Item '3' (column 'wai_3') in row 1 must be an integer from 1 to 5; got '4.5'."
    >>> res.problems.loc[0, "code"]
    'not_allowed_value'
    """
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a pandas DataFrame; got {type(data).__name__}")
    if on_invalid not in ("reject", "missing"):
        raise ValueError(f"on_invalid must be 'reject' or 'missing'; got {on_invalid!r}")
    if isinstance(keep, str):  # one column name, not its letters
        keep = [keep]
    ins = resolve_instrument(instrument)  # text from data is an id, never a path
    chosen, cutoffs = select_scales(ins, scales, allow_provisional=allow_provisional)
    mapping = resolve_columns(data.columns, ins, items)
    rules = CellRules.build(
        ins,
        missing_codes=missing_codes,
        labels=labels,
        decimal=decimal,
        any_resolution=any_resolution,
    )
    kernel, cell_codes, n_problems, answers = _score(
        data, ins, mapping, rules, chosen, cutoffs, reject=on_invalid == "reject"
    )
    provisional = provisional_ids(chosen, cutoffs)
    scores = _assemble(data, ins, kernel, n_problems, keep, provisional)
    if rules.any_resolution:
        scores.attrs["alliance_score"]["any_resolution"] = True
    if not return_problems:
        return scores
    problems = _problems(data, ins, mapping, rules, cell_codes, n_problems, first_row)
    return FrameResult(scores, problems, ins, mapping, provisional, answers)


def _score(
    data: pd.DataFrame,
    ins: Instrument,
    mapping: ColumnMap,
    rules: CellRules,
    scales: tuple[Scale, ...],
    cutoffs: tuple[Cutoff, ...],
    *,
    reject: bool,
) -> tuple[KernelResult, NDArray[np.int8], NDArray[np.int64], AnswerRange]:
    """Parse and score ``data``: (kernel results, cell codes, problem cells per row, the
    range of the valid answers).

    Numeric item columns go to the fused kernel as they are (validated there, in the
    same pass that scores them). When some are nullable integer, text or mixed columns,
    the frame goes block by block (:data:`FRAME_BLOCK_ROWS` rows): text and mixed
    columns are parsed, and every column's block is written as float64 into one reused
    column-major matrix that the kernel reads in place.
    """
    n = len(data)
    series = [_column(data, mapping[item]) for item in ins.item_ids]
    masked = [masked_integers(s) for s in series]
    numeric = [None if m else numeric_values(s) for s, m in zip(series, masked, strict=True)]
    codes = np.zeros((n, len(series)), dtype=np.int8, order="F")
    out = KernelResult.empty(n, scales, cutoffs)
    n_problems = np.empty(n, dtype=np.int64)
    checked = [x is None and m is None for x, m in zip(numeric, masked, strict=True)]
    extent = np.array([np.inf, -np.inf])  # the lowest and highest valid answer
    kernel = batch_kernel(n)
    if not any(checked) and all(m is None for m in masked):
        step, matrix = max(n, 1), None  # one call on the columns where they are
    else:
        step = FRAME_BLOCK_ROWS
        matrix = np.empty((min(step, n), len(series)), dtype=np.float64, order="F")
    for start in range(0, n, step):
        stop = min(n, start + step)
        columns: list[NDArray[Any]] = []
        for j, (s, x, m) in enumerate(zip(series, numeric, masked, strict=True)):
            if matrix is None:
                columns.append(x[start:stop])  # type: ignore[index]
                continue
            cell = matrix[: stop - start, j]
            if m is not None:
                m.block(start, stop, cell)
            elif x is not None:
                np.copyto(cell, x[start:stop], casting="unsafe")
            else:
                cell[:], codes[start:stop, j] = parse_column(s.iloc[start:stop], rules)
            columns.append(cell)
        score_columns(
            columns,
            ins,
            rules,
            codes=codes[start:stop],
            checked=checked,
            scales=scales,
            cutoffs=cutoffs,
            reject=reject,
            out=out,
            n_problems=n_problems,
            offset=start,
            answers=extent,
            kernel=kernel,
        )
    answered_rows = int(np.count_nonzero(out.items_answered))
    if not answered_rows:
        return out, codes, n_problems, AnswerRange(float("nan"), float("nan"), 0)
    return out, codes, n_problems, AnswerRange(float(extent[0]), float(extent[1]), answered_rows)


def _column(data: pd.DataFrame, label: Hashable) -> pd.Series:
    loc = data.columns.get_loc(label)
    if not isinstance(loc, int):
        raise ColumnMappingError(f"Column {label!r} appears more than once in the data.")
    return data.iloc[:, loc]


def _assemble(
    data: pd.DataFrame,
    ins: Instrument,
    k: KernelResult,
    n_problems: NDArray[np.int64],
    keep: Sequence[Hashable],
    provisional: tuple[str, ...],
) -> pd.DataFrame:
    out: dict[Hashable, Any] = {}
    for col in keep:
        if col not in data.columns:
            raise DataError(
                f"Column {col!r} given in keep is not in the data."
                + missing_columns_message([col], data.columns)
            )
        out[col] = _column(data, col).array.copy()
    computed: dict[str, Any] = {}
    for j, scale in enumerate(k.scales):
        computed[scale.id] = k.scores[:, j]
        computed[f"{scale.id}_n_answered"] = k.n_answered[:, j]
        computed[f"{scale.id}_prorated"] = k.prorated[:, j]
    for j, cut in enumerate(k.cutoffs):
        computed[cut.flag] = pd.arrays.BooleanArray(k.flags[:, j], ~k.flags_known[:, j])
    computed["n_answered"] = k.items_answered
    computed["n_problems"] = n_problems
    if provisional:
        marker = ";".join(provisional)
        computed["provisional"] = pd.Categorical.from_codes(
            np.zeros(len(data), dtype=np.int8), categories=pd.Index([marker])
        )
    computed["status"] = pd.Categorical.from_codes(
        k.status, categories=pd.Index([s.value for s in STATUS_ORDER])
    )
    clash = [c for c in computed if c in out]
    if clash:
        raise DataError(f"Columns {clash} given in keep clash with score column names.")
    out.update(computed)
    # Every array in ``out`` is new (the kernel's output or a copy of a kept column), so
    # the frame can take them without another copy.
    scores = pd.DataFrame(out, index=data.index.copy(), copy=False)
    scores.attrs["alliance_score"] = {
        "instrument": ins.ref,
        "definition_origin": ins.origin,
        "definition_hash": ins.content_hash,
        "library_version": __version__,
        "scales": [s.id for s in k.scales],
        "provisional": list(provisional),
    }
    return scores


def _problems(
    data: pd.DataFrame,
    ins: Instrument,
    mapping: ColumnMap,
    rules: CellRules,
    cell_codes: NDArray[np.int8],
    n_problems: NDArray[np.int64],
    first_row: int,
) -> pd.DataFrame:
    """One record per problem cell, row by row, items in instrument order.

    Built column by column from each column's distinct problem values (a column of a
    million invalid cells holds a handful of distinct values), so that input where every
    cell is invalid costs about as much per cell as valid input. Only the rows that have
    a problem are searched.
    """
    with_problems = np.flatnonzero(n_problems)
    sub_rows, cols = np.nonzero(cell_codes[with_problems])
    rows = with_problems[sub_rows]
    order = np.lexsort((cols, rows))  # row by row, items in instrument order
    rows, cols = rows[order], cols[order]
    n = len(rows)
    rule = rules.describe()
    # the distinct (value, code, item, column, message head, message tail) of each
    # column's problems, one table for all columns, and each problem's place in it: the
    # text columns are taken from it (a handful of distinct texts, however many problems)
    distinct: list[tuple[str, str | None, str, str, str, str]] = []
    place = np.empty(n, dtype=np.int64)
    for j in np.unique(cols).tolist():
        sel = np.flatnonzero(cols == j)
        item = ins.item_ids[j]
        column = mapping[item]
        at = rows[sel]
        cells = _column(data, column).iloc[at].to_numpy(dtype=object)
        inverse, uniques = _distinct(cells)
        head = f"Item {item!r} (column {str(column)!r}) in row "
        first = np.zeros(len(uniques), dtype=np.int64)
        first[inverse[::-1]] = np.arange(len(inverse))[::-1]
        u_codes = [CODES[c] for c in cell_codes[at[first], j].tolist()]
        place[sel] = len(distinct) + inverse
        distinct += [
            (
                cell_text(raw),
                code.value if code else None,
                item,
                str(column),
                head,
                _message(code, item, column, 0, raw, rule, rules)[len(head) + 1 :]
                if code is not None
                else "",
            )
            for raw, code in zip(uniques, u_codes, strict=True)
        ]
    texts = list(zip(*distinct, strict=True)) or [()] * 6
    values, codes, items, columns = (_taken(t, place) for t in texts[:4])
    row_text = _written(rows + first_row)
    messages = _messages(texts[4], texts[5], place, row_text)
    labels = data.index[rows]
    if not _plain_range(data.index):
        index_text = np.asarray(labels.astype(str), dtype=object)
    elif _start(data.index) == first_row:  # the command's chunks: index = row number
        index_text = row_text
    else:
        index_text = _written(rows + _start(data.index))
    problems = pd.DataFrame(
        {
            "row": (rows + first_row).astype(np.int64),
            "index": index_text,
            "column": columns,
            "item": items,
            "value": values,
            "code": codes,
            "message": messages,
        },
        columns=list(PROBLEM_COLUMNS),
    )
    return problems.astype({"row": np.int64})


def text_dtype() -> Any:
    """pandas' dtype for a column of text (``str`` in pandas 3, ``object`` before)."""
    return pd.Series(["text"]).dtype


def _arrow_text() -> bool:
    """Whether pandas keeps columns of text in pyarrow (then pyarrow is installed)."""
    dtype = text_dtype()
    return isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow"


def _written(numbers: NDArray[Any]) -> Any:
    """The whole ``numbers`` as text (``"12"``), as the array pandas makes of a column
    of such texts: written by pyarrow where pandas keeps text in it."""
    if len(numbers) and _arrow_text():
        import pyarrow as pa  # type: ignore[import-untyped]  # pandas keeps text in it
        import pyarrow.compute as pc  # type: ignore[import-untyped]

        digits = pc.cast(pa.array(numbers, pa.int64()), pa.large_string())
        return pd.array(digits, dtype=text_dtype())
    return np.array([str(x) for x in numbers.tolist()], dtype=object)


def _messages(
    heads: Sequence[str], tails: Sequence[str], place: NDArray[np.int64], middles: Any
) -> Any:
    """``heads[place] + middles + tails[place]``, element by element, as the array
    pandas makes of a column of such texts (``middles`` from :func:`_written`).

    One message per problem: millions for an export where every answer is invalid.
    Where pandas keeps text in pyarrow, pyarrow joins them; elsewhere Python does, with
    the same result.
    """
    if len(place) and _arrow_text():
        import pyarrow as pa
        import pyarrow.compute as pc

        at = pa.array(place, pa.int64())
        joined = pc.binary_join_element_wise(
            pa.array(heads, pa.large_string()).take(at),
            middles.__arrow_array__().combine_chunks(),
            pa.array(tails, pa.large_string()).take(at),
            pa.scalar("", pa.large_string()),
        )
        return pd.array(joined, dtype=text_dtype())
    head, tail = np.array(heads, dtype=object)[place], np.array(tails, dtype=object)[place]
    texts = zip(head.tolist(), list(middles), tail.tolist(), strict=True)
    return np.array([a + m + b for a, m, b in texts], dtype=object)


def _taken(texts: Sequence[str | None], place: NDArray[np.int64]) -> Any:
    """``texts[place]`` as the array pandas makes of a column of such texts (``str`` in
    pandas 3, ``object`` before), taken from the distinct texts without a Python object
    per cell."""
    distinct = pd.Series(np.array(texts, dtype=object)).array
    return distinct.take(place)


def _distinct(cells: NDArray[Any]) -> tuple[NDArray[np.intp], NDArray[Any]]:
    """(position of each cell's value among the distinct values, the distinct values),
    telling apart values that compare equal across types (``False == 0``)."""
    try:
        if len(set(map(type, cells))) == 1:
            inverse, uniques = pd.factorize(cells, use_na_sentinel=False)
            return np.asarray(inverse), np.asarray(uniques, dtype=object)
        keys = np.empty(len(cells), dtype=object)
        keys[:] = [(type(c).__name__, c) for c in cells]
        inverse, _ = pd.factorize(keys, use_na_sentinel=False)
    except TypeError:  # unhashable cells (lists, arrays): each is its own value
        return np.arange(len(cells)), cells
    first = np.zeros(int(inverse.max()) + 1 if len(inverse) else 0, dtype=np.int64)
    first[inverse[::-1]] = np.arange(len(inverse))[::-1]
    return np.asarray(inverse), cells[first]


def _plain_range(index: pd.Index) -> bool:
    return isinstance(index, pd.RangeIndex) and index.step == 1


def _start(index: pd.Index) -> int:
    return int(index.start) if isinstance(index, pd.RangeIndex) else 0


def cell_text(raw: object) -> str:
    """A raw cell as text for the problems table (even an integer of 5000 digits)."""
    try:
        return str(raw)
    except ValueError:  # int beyond str()'s digit limit
        return f"<an integer of about {int(raw.bit_length() * 0.30103)} digits>"  # type: ignore[attr-defined]


def _message(
    code: ProblemCode,
    item: str,
    column: Hashable,
    row: int,
    raw: object,
    rule: str,
    rules: CellRules,
) -> str:
    shown = cell_text(raw)
    if len(shown) > 40:
        shown = shown[:37] + "..."
    where = f"Item {item!r} (column {str(column)!r}) in row {row}"
    if code is ProblemCode.WRONG_TYPE:
        got = f"a {type(raw).__name__} value {shown!r}"
    else:
        got = repr(shown)
    message = f"{where} must be {rule}; got {got}."
    if code is ProblemCode.NOT_A_NUMBER and rules.is_label(raw):
        message += " It is an anchor label: pass labels=True (--labels) to accept labels."
    elif code is ProblemCode.NOT_A_NUMBER and looks_like_decimal_comma(raw):
        message += (
            " It looks like a number with a decimal comma: if the file uses decimal "
            "commas, pass decimal=',' (--decimal ,)."
        )
    elif (
        code is ProblemCode.NOT_ALLOWED_VALUE
        and rules.kind == "vas"
        and rules.step is not None
        and not (isinstance(raw, str) and not raw.strip())
    ):
        message += (
            " It is recorded finer than the definition's step: if the values come from a "
            "digital slider, pass any_resolution=True (--any-resolution) to score them as "
            "recorded."
        )
    return message
