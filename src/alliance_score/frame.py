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

from collections import Counter
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, overload

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from ._version import __version__
from .errors import ColumnMappingError, DataError, Problem, ProblemCode
from .instrument import Cutoff, Instrument, Scale
from .mapping import ColumnMap, resolve_columns
from .parsing import CODES, CellRules, numeric_values, parse_column
from .registry import load_instrument
from .scoring import STATUS_ORDER, KernelResult, score_columns, select_scales

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
            "problems": dict(sorted(Counter(self.problems["code"]).items())),
            "mapping": {item: str(col) for item, col in self.mapping.items()},
            "provisional": list(self.provisional),
        }


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
    first_row: int = 0,
    return_problems: bool = False,
) -> pd.DataFrame | FrameResult:
    """Score every row of ``data`` as one administration of ``instrument``.

    Parameters
    ----------
    data
        One row per administration; item answers as numbers or text.
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
        Input columns to copy into the result (identifiers such as a client id).
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
    ins = load_instrument(instrument)
    chosen, cutoffs = select_scales(ins, scales, allow_provisional=allow_provisional)
    mapping = resolve_columns(data.columns, ins, items)
    rules = CellRules.build(ins, missing_codes=missing_codes, labels=labels)
    kernel, cell_codes, n_problems = _score(
        data, ins, mapping, rules, chosen, cutoffs, reject=on_invalid == "reject"
    )
    provisional = tuple(
        [s.id for s in chosen if s.status == "provisional"]
        + [c.flag for c in cutoffs if c.status == "provisional"]
    )
    scores = _assemble(data, ins, kernel, n_problems, keep, provisional)
    if not return_problems:
        return scores
    problems = _problems(data, ins, mapping, rules, cell_codes, n_problems, first_row)
    return FrameResult(scores, problems, ins, mapping, provisional)


def _score(
    data: pd.DataFrame,
    ins: Instrument,
    mapping: ColumnMap,
    rules: CellRules,
    scales: tuple[Scale, ...],
    cutoffs: tuple[Cutoff, ...],
    *,
    reject: bool,
) -> tuple[KernelResult, NDArray[np.int8], NDArray[np.int64]]:
    """Parse and score ``data``: (kernel results, cell codes, problem cells per row).

    Numeric item columns go to the fused kernel as they are (validated there, in the
    same pass that scores them); text and mixed columns are parsed first, block by
    block, so the parsed values never exceed a block of :data:`FRAME_BLOCK_ROWS` rows.
    """
    n = len(data)
    series = [_column(data, mapping[item]) for item in ins.item_ids]
    numeric = [numeric_values(s) for s in series]
    codes = np.zeros((n, len(series)), dtype=np.int8, order="F")
    out = KernelResult.empty(n, scales, cutoffs)
    n_problems = np.empty(n, dtype=np.int64)
    checked = [x is None for x in numeric]
    step = FRAME_BLOCK_ROWS if any(checked) else max(n, 1)
    for start in range(0, n, step):
        stop = min(n, start + step)
        columns: list[NDArray[Any]] = []
        for j, (s, x) in enumerate(zip(series, numeric, strict=True)):
            if x is not None:
                columns.append(x[start:stop])
            else:
                values, codes[start:stop, j] = parse_column(s.iloc[start:stop], rules)
                columns.append(values)
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
        )
    return out, codes, n_problems


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
            raise DataError(f"Column {col!r} given in keep is not in the data.")
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
    with_problems = np.flatnonzero(n_problems)  # only these rows are searched
    sub_rows, cols = np.nonzero(cell_codes[with_problems])
    rows = with_problems[sub_rows]
    order = np.lexsort((cols, rows))  # row by row, items in instrument order
    rows, cols = rows[order], cols[order]
    rule = rules.describe()
    raw_columns = {j: _column(data, mapping[ins.item_ids[j]]) for j in set(cols.tolist())}
    records: list[tuple[Any, ...]] = []
    for r, j in zip(rows.tolist(), cols.tolist(), strict=True):
        item = ins.item_ids[j]
        column = mapping[item]
        raw = raw_columns[j].iloc[r]
        code = CODES[cell_codes[r, j]]
        if code is None:  # pragma: no cover - nonzero codes always name a problem
            continue
        value = str(raw)
        records.append(
            (
                first_row + r,
                str(data.index[r]),
                str(column),
                item,
                value,
                code.value,
                _message(code, item, column, first_row + r, raw, rule, rules),
            )
        )
    problems = pd.DataFrame.from_records(records, columns=list(PROBLEM_COLUMNS))
    return problems.astype({"row": np.int64})


def _message(
    code: ProblemCode,
    item: str,
    column: Hashable,
    row: int,
    raw: object,
    rule: str,
    rules: CellRules,
) -> str:
    shown = str(raw)
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
    return message
