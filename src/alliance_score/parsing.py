"""Raw cells to numbers: the only place where text becomes an answer value.

A column is parsed in one vectorised pass. Numeric columns are checked as arrays; text
and mixed columns are factorised first, so each distinct raw value is interpreted once
(a questionnaire column holds a handful of distinct values however many rows it has).

Rules (the contract every front door obeys):

* Missing: NaN/None/NA, and the text tokens ``""``, ``NA``, ``N/A``, ``NaN``, ``null``
  and ``.`` (case-insensitive, surrounding spaces ignored); other codes such as ``-99``
  only when the caller declares them.
* A Likert item accepts whole numbers from ``min`` to ``max`` (``"4"``, ``" 4 "`` and
  ``"4.0"`` are 4; ``"4.5"`` is ``not_allowed_value``); a VAS item accepts reals from
  ``min`` to ``max``, on its ``step`` grid when the definition gives one.
* Anchor labels (``"Always"``) are accepted only when the caller opts in.
* A decimal comma (``"8,5"``) is read only when the caller says the data use one
  (``decimal=","``); otherwise it is ``not_a_number`` and the message says what it looks
  like. Nothing is guessed.
* Visual analogue values recorded finer than the definition's step (``7.25`` from a
  digital slider) are ``not_allowed_value`` unless the caller accepts any resolution
  (``any_resolution=True``); they are then scored as recorded, never rounded.
* Anything else is a problem with a stable code; the cell's value becomes NaN.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from .errors import ProblemCode
from .instrument import Instrument

__all__ = [
    "CODES",
    "DEFAULT_MISSING_TOKENS",
    "CellRules",
    "MaskedIntegers",
    "looks_like_decimal_comma",
    "masked_integers",
    "numeric_values",
    "parse_column",
]

DEFAULT_MISSING_TOKENS: Final = frozenset({"", "na", "n/a", "nan", "null", "."})

CODES: Final[tuple[ProblemCode | None, ...]] = (
    None,
    ProblemCode.NOT_A_NUMBER,
    ProblemCode.NOT_ALLOWED_VALUE,
    ProblemCode.OUT_OF_RANGE,
    ProblemCode.NOT_FINITE,
    ProblemCode.WRONG_TYPE,
)
"""Cell codes returned by :func:`parse_column`: 0 is fine (answered or missing)."""
_OK, _NAN_TEXT, _NOT_ALLOWED, _OUT, _INF, _TYPE = range(6)
_MISSING = -1  # internal: a declared or default missing value

_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_DECIMAL_COMMA = re.compile(r"[+-]?\d*,\d+")


def looks_like_decimal_comma(raw: object) -> bool:
    """Whether a cell is a number written with a decimal comma (``"8,5"``, ``",5"``).

    >>> [looks_like_decimal_comma(x) for x in (" 8,5 ", "8.5", "1,2,3")]
    [True, False, False]
    """
    return isinstance(raw, str) and _DECIMAL_COMMA.fullmatch(raw.strip()) is not None


_STEP_TOLERANCE: Final = 1e-6


@dataclass(frozen=True)
class CellRules:
    """What a valid cell is for one instrument under the caller's options."""

    kind: str
    lo: float
    hi: float
    step: float | None
    labels: dict[str, float]
    accept_labels: bool
    missing_numbers: frozenset[float]
    missing_strings: frozenset[str]
    decimal: str = "."
    """``","`` when text cells use a decimal comma (``"8,5"`` is 8.5)."""
    any_resolution: bool = False
    """A visual analogue item accepts any value in range, however finely recorded."""

    @classmethod
    def build(
        cls,
        instrument: Instrument,
        *,
        missing_codes: Iterable[float | str] = (),
        labels: bool = False,
        decimal: str = ".",
        any_resolution: bool = False,
    ) -> CellRules:
        """The rules for ``instrument`` under the caller's options.

        ``decimal`` is ``"."`` (default) or ``","``; ``any_resolution`` lifts the step of
        a visual analogue scale (a Likert item always takes whole steps).
        """
        if decimal not in (".", ","):
            raise ValueError(f"decimal must be '.' or ','; got {decimal!r}")
        numbers_: set[float] = set()
        strings: set[str] = set()
        for code in missing_codes:
            text = str(code).strip()
            if isinstance(code, numbers.Real) or _NUMBER.fullmatch(text):
                numbers_.add(float(text))
            else:
                strings.add(text.casefold())
        r = instrument.response
        lift = any_resolution and r.kind == "vas"
        return cls(
            kind=r.kind,
            lo=r.min,
            hi=r.max,
            step=None if lift else r.effective_step,
            labels={a.label.casefold(): a.value for a in r.anchors},
            accept_labels=labels,
            missing_numbers=frozenset(numbers_),
            missing_strings=frozenset(strings),
            decimal=decimal,
            any_resolution=lift,
        )

    def describe(self) -> str:
        """The rule in words, for messages: ``an integer from 1 to 5``."""
        lo, hi, step = f"{self.lo:g}", f"{self.hi:g}", self.step
        if self.kind == "likert":
            if step == 1:
                return f"an integer from {lo} to {hi}"
            return f"a value from {lo} to {hi} in steps of {step:g}"
        if step is None:
            return f"a number from {lo} to {hi}"
        return f"a number from {lo} to {hi} recorded to {step:g}"

    def check_numbers(self, x: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.int8]]:
        """Validate numbers: (values with NaN for missing or invalid, cell codes)."""
        codes = np.zeros(x.shape, dtype=np.int8)
        # Later assignments win: off-grid < out of range < infinite. NaN compares false
        # everywhere, so missing cells keep code 0.
        with np.errstate(invalid="ignore", over="ignore"):
            if self.step is not None:
                if self.step == 1 and float(self.lo).is_integer():
                    off = np.rint(x) != x
                    off &= ~np.isnan(x)
                else:
                    k = (x - self.lo) / self.step
                    off = np.abs(k - np.rint(k)) > _STEP_TOLERANCE
                codes[off] = _NOT_ALLOWED
            codes[(x < self.lo) | (x > self.hi)] = _OUT
        codes[np.isinf(x)] = _INF
        if self.missing_numbers:
            declared = np.isin(x, np.fromiter(self.missing_numbers, dtype=np.float64))
            codes[declared] = _OK
        values = x.copy()
        values[codes != _OK] = np.nan
        if self.missing_numbers:
            values[declared] = np.nan
        return values, codes

    def mark_answers(
        self, x: NDArray[np.float64], out: NDArray[np.bool_], work: NDArray[np.float64]
    ) -> None:
        """Mark in ``out`` the cells of ``x`` that :meth:`check_numbers` accepts as
        answers: in range and on the grid (so finite and not NaN). Declared missing
        codes are not looked at. ``out`` (bool) and ``work`` (float64, scratch) have
        ``x``'s shape.

        On a grid of whole numbers between whole limits (every Likert scale) a cell is
        an answer when rounding it to a whole number and clipping that to the limits
        gives it back: three passes over the cells.

        >>> from alliance_score import load_instrument
        >>> x = np.array([[1.0, 2.5, 7.0, np.nan, np.inf, -0.0]])
        >>> out, work = np.empty(x.shape, bool), np.empty(x.shape)
        >>> CellRules.build(load_instrument("wai-sr")).mark_answers(x, out, work)
        >>> out.tolist()
        [[True, False, False, False, False, False]]
        """
        lo, hi, step = self.lo, self.hi, self.step
        with np.errstate(invalid="ignore", over="ignore"):
            if step is None:
                np.clip(x, lo, hi, out=work)
                np.equal(work, x, out=out)
            elif step == 1 and float(lo).is_integer():  # the rule of check_numbers
                np.rint(x, out=work)
                if float(hi).is_integer():  # clipping a whole number gives a whole number
                    np.clip(work, lo, hi, out=work)
                    np.equal(work, x, out=out)
                else:
                    np.equal(work, x, out=out)
                    np.clip(x, lo, hi, out=work)
                    out &= work == x
            else:
                np.subtract(x, lo, out=work)
                np.divide(work, step, out=work)
                np.abs(work - np.rint(work), out=work)
                np.less_equal(work, _STEP_TOLERANCE, out=out)
                np.clip(x, lo, hi, out=work)
                out &= work == x

    def check_number(self, x: float) -> tuple[float, int]:
        """One number validated as :meth:`check_numbers` validates an array: (value, code).

        The scalar form for a single response; a property test shows both agree on every
        number.

        >>> rules = CellRules(kind="likert", lo=1, hi=7, step=1, labels={},
        ...                   accept_labels=False, missing_numbers=frozenset({-99.0}),
        ...                   missing_strings=frozenset())
        >>> rules.check_number(4.0), rules.check_number(4.5), rules.check_number(-99.0)
        ((4.0, 0), (nan, 2), (nan, 0))
        """
        if x != x:  # NaN: missing
            return x, _OK
        if x in self.missing_numbers:
            return math.nan, _OK
        if math.isinf(x):
            return math.nan, _INF
        if x < self.lo or x > self.hi:
            return math.nan, _OUT
        step = self.step
        if step is not None:
            if step == 1 and float(self.lo).is_integer():
                off = float(round(x)) != x
            else:
                k = (x - self.lo) / step
                off = abs(k - round(k)) > _STEP_TOLERANCE
            if off:
                return math.nan, _NOT_ALLOWED
        return x, _OK

    def read(self, raw: float | str) -> tuple[float, int]:
        """One answer given as a number or text, read by every rule: (value, code), the
        value NaN where the cell is missing or breaks a rule; what :func:`parse_column`
        gives for that cell. A plain ``float`` or ``int`` skips :meth:`interpret`'s type
        checks (an ``int`` beyond any float is ``out_of_range``, as there).

        >>> rules = CellRules(kind="likert", lo=1, hi=5, step=1, labels={},
        ...                   accept_labels=False, missing_numbers=frozenset(),
        ...                   missing_strings=frozenset())
        >>> rules.read(" 4 "), rules.read("NA"), rules.read("x"), rules.read(10**400)
        ((4.0, 0), (nan, 0), (nan, 1), (nan, 3))
        """
        if type(raw) is float:
            return self.check_number(raw)
        if type(raw) is int:
            try:
                return self.check_number(float(raw))
            except OverflowError:
                return math.nan, _OUT
        number, code = self.interpret(raw)
        if code == _OK:
            return self.check_number(number)
        return math.nan, (_OK if code == _MISSING else code)

    def interpret(self, raw: object) -> tuple[float, int]:
        """One distinct raw value: (number, pre-code) before range checks."""
        if isinstance(raw, bool | np.bool_):
            return np.nan, _TYPE
        if isinstance(raw, np.floating) and raw.itemsize < 8:
            return float(str(raw)), _OK  # a float32 9.1 is 9.1, as in _float64
        if isinstance(raw, numbers.Real | Decimal):
            try:
                return float(raw), _OK
            except OverflowError:  # an integer beyond any float (10**400)
                return np.nan, _OUT
        if isinstance(raw, str):
            text = raw.strip()
            folded = text.casefold()
            if folded in DEFAULT_MISSING_TOKENS or folded in self.missing_strings:
                return np.nan, _MISSING
            if _NUMBER.fullmatch(text):
                return float(text), _OK
            if self.decimal == "," and _DECIMAL_COMMA.fullmatch(text):
                return float(text.replace(",", ".")), _OK
            if self.accept_labels and folded in self.labels:
                return self.labels[folded], _OK
            return np.nan, _NAN_TEXT
        return np.nan, _TYPE

    def is_label(self, raw: object) -> bool:
        return isinstance(raw, str) and raw.strip().casefold() in self.labels


def parse_column(
    series: pd.Series, rules: CellRules
) -> tuple[NDArray[np.float64], NDArray[np.int8]]:
    """Parse one item column: (values, cell codes), both of ``len(series)``.

    ``values`` is NaN where the cell is missing or invalid; ``codes`` indexes
    :data:`CODES` (0 = fine).
    """
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        codes = np.where(series.isna().to_numpy(), _OK, _TYPE).astype(np.int8)
        return np.full(len(series), np.nan), codes
    numbers = numeric_values(series)
    if numbers is not None:
        return rules.check_numbers(np.asarray(numbers, dtype=np.float64))
    if isinstance(dtype, pd.CategoricalDtype):  # already factorised (the CSV reader's items)
        positions, uniques = series.cat.codes.to_numpy(), dtype.categories
    else:
        positions, uniques = pd.factorize(_distinct_types(series), use_na_sentinel=True)
    interpreted = [rules.interpret(u) for u in uniques]
    u_values = np.array([v for v, _ in interpreted], dtype=np.float64)
    u_pre = np.array([c for _, c in interpreted], dtype=np.int8)
    checked, u_codes = rules.check_numbers(u_values)
    u_codes = np.where(u_pre == _OK, u_codes, np.where(u_pre == _MISSING, _OK, u_pre))
    u_values = np.where(u_pre == _OK, checked, np.nan)
    # append a slot for the NA sentinel (-1 indexes the last element)
    u_values = np.append(u_values, np.nan)
    u_codes = np.append(u_codes, _OK).astype(np.int8)
    return u_values[positions], u_codes[positions]


def numeric_values(series: pd.Series) -> NDArray[np.floating | np.integer] | None:
    """A column of real numbers as an array of its cells (NaN = missing), unchecked; None
    for any other column (text, mixed, boolean, complex, categorical).

    Integer and float64 columns backed by numpy come without a copy (the scoring kernel
    converts and validates them block by block); nullable and narrow float columns are
    converted (see :func:`_float64`).
    """
    dtype = series.dtype
    if (
        not pd.api.types.is_numeric_dtype(dtype)
        or pd.api.types.is_bool_dtype(dtype)
        or pd.api.types.is_complex_dtype(dtype)
        or isinstance(dtype, pd.CategoricalDtype)
    ):
        return None
    if isinstance(dtype, np.dtype) and (dtype.kind in "iu" or dtype == np.float64):
        values: NDArray[np.floating | np.integer] = series.to_numpy()
        return values
    return _float64(series)


@dataclass(frozen=True, eq=False)
class MaskedIntegers:
    """An integer column with missing cells, as its numbers and where they are missing.

    ``values`` holds any number where ``missing`` is true (``missing`` is None when no
    cell is). :meth:`block` gives rows ``start:stop`` as float64 with NaN where missing:
    the values :func:`numeric_values` gives for those rows, without converting the whole
    column.
    """

    values: NDArray[np.integer]
    missing: NDArray[np.bool_] | None

    def block(self, start: int, stop: int, out: NDArray[np.float64]) -> NDArray[np.float64]:
        """Rows ``start:stop`` as float64 (NaN = missing), written to the start of ``out``.

        >>> import numpy as np
        >>> m = masked_integers(pd.Series([4, None, 2], dtype="Int8"))
        >>> m.block(1, 3, np.empty(4)).tolist()
        [nan, 2.0]
        """
        x = out[: stop - start]
        np.copyto(x, self.values[start:stop], casting="unsafe")
        if self.missing is not None:
            np.copyto(x, np.nan, where=self.missing[start:stop])
        return x


def masked_integers(series: pd.Series) -> MaskedIntegers | None:
    """A nullable integer column (pandas' ``Int8`` ... ``UInt64``, or pyarrow-backed
    ``int8[pyarrow]`` ...) as a :class:`MaskedIntegers`; None for any other column.

    Read as a whole into float64 (:func:`numeric_values`), such a column costs eight
    bytes per cell and a pass over memory; as its numbers and its missing cells, one to
    nine bytes, and the conversion is done a block at a time where it is scored.
    """
    dtype = series.dtype
    numpy_dtype = getattr(dtype, "numpy_dtype", None)
    if (
        isinstance(dtype, np.dtype | pd.CategoricalDtype)
        or not isinstance(numpy_dtype, np.dtype)
        or numpy_dtype.kind not in "iu"
    ):
        return None
    missing: NDArray[np.bool_] | None
    if isinstance(dtype, pd.ArrowDtype):
        import pyarrow.compute as pc  # type: ignore[import-untyped]  # backs the column

        chunked = series.array.__arrow_array__()
        values = pc.fill_null(chunked, 0).to_numpy()
        missing = pc.is_null(chunked).to_numpy(zero_copy_only=False) if chunked.null_count else None
    else:
        values, missing = _held_parts(series, numpy_dtype) or _public_parts(series, numpy_dtype)
        if not missing.any():
            missing = None
    return MaskedIntegers(np.asarray(values, dtype=numpy_dtype), missing)


def _held_parts(
    series: pd.Series, numpy_dtype: np.dtype[np.integer]
) -> tuple[NDArray[np.integer], NDArray[np.bool_]] | None:
    """(numbers, missing) of a pandas masked array, where it holds them (its ``_data``
    and ``_mask``, unchanged since pandas 1.0; read, never written); None for any other
    layout."""
    array = series.array
    values, missing = getattr(array, "_data", None), getattr(array, "_mask", None)
    if (
        isinstance(values, np.ndarray)
        and isinstance(missing, np.ndarray)
        and values.shape == missing.shape == (len(series),)
        and values.dtype == numpy_dtype
        and missing.dtype == np.bool_
    ):
        return values, missing
    return None


def _public_parts(
    series: pd.Series, numpy_dtype: np.dtype[np.integer]
) -> tuple[NDArray[np.integer], NDArray[np.bool_]]:
    """(numbers with 0 where missing, missing) through pandas' public methods (copies)."""
    return series.to_numpy(dtype=numpy_dtype, na_value=0), series.isna().to_numpy()


def _float64(series: pd.Series) -> NDArray[np.float64]:
    """A numeric column as float64; narrower floats as the decimals they were given as.

    A single-precision float (Stata's ``float``, many parquet files) stores 4.2 as
    4.19999980926513671875: widened as it is, it lies off a 0.1 grid, and sums of such
    values miss cut-offs. Each distinct value of a float32 or float16 column is read as
    the shortest decimal that its type stores as that value (``4.2``).
    """
    narrow = getattr(series.dtype, "numpy_dtype", series.dtype)
    if not (isinstance(narrow, np.dtype) and narrow.kind == "f" and narrow.itemsize < 8):
        return series.to_numpy(dtype=np.float64, na_value=np.nan)
    x = series.to_numpy(dtype=narrow, na_value=np.nan)
    uniques, inverse = np.unique(x, return_inverse=True)
    decimals = np.array([float(str(u)) for u in uniques], dtype=np.float64)
    return decimals[inverse.reshape(-1)]


class _NotAnAnswer:
    """Stands in for a boolean, complex or container cell (a list, dict, set or array),
    which is never an answer."""


_NOT_AN_ANSWER: Final = _NotAnAnswer()
_MIXED_TYPES: Final = frozenset({"mixed", "mixed-integer"})
_TYPE_OF: Final = np.frompyfunc(type, 1, 1)


def _distinct_types(series: pd.Series) -> pd.Series:
    """``series`` with boolean, complex and container cells replaced by one marker object.

    ``True == 1 == 1+0j`` (and they hash alike), so factorising a column that holds both
    would read every such cell as whichever came first: a boolean would count as 1, or a
    1 as a boolean. Lists, dicts, sets and arrays cannot be factorised at all (they are
    not hashable); each is a ``wrong_type`` cell. Only columns that mix types are scanned.
    """
    if series.dtype != object or pd.api.types.infer_dtype(series, skipna=True) not in _MIXED_TYPES:
        return series
    cells = series.to_numpy()
    types = _TYPE_OF(cells)
    odd = [
        t
        for t in pd.unique(types)
        if issubclass(t, bool | np.bool_ | complex | np.complexfloating) or t.__hash__ is None
    ]
    if not odd:
        return series
    cells = cells.copy()
    cells[pd.Series(types).isin(odd).to_numpy()] = _NOT_AN_ANSWER
    return pd.Series(cells, index=series.index, dtype=object)
