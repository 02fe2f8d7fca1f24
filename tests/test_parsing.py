"""Table-driven tests of the cell-parsing rules (one row per rule)."""

from __future__ import annotations

import math
from datetime import date
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from alliance_score import ProblemCode, load_instrument
from alliance_score.parsing import CODES, CellRules, parse_column

WAI_SR = load_instrument("wai-sr")  # Likert 1-5 with anchor labels
SRS = load_instrument("srs")  # VAS 0-10 recorded to 0.1

OK = None
MISSING = "missing"


def _parse_one(instrument_id: str, cell: object, **options: object) -> tuple[float, object]:
    ins = WAI_SR if instrument_id == "wai-sr" else SRS
    rules = CellRules.build(ins, **options)  # type: ignore[arg-type]
    values, codes = parse_column(pd.Series([cell], dtype=object), rules)
    return float(values[0]), CODES[codes[0]]


LIKERT_CASES = [
    # (cell, expected value or MISSING, expected problem code)
    ("4", 4.0, OK),
    (" 4 ", 4.0, OK),
    ("4.0", 4.0, OK),
    ("+4", 4.0, OK),
    (4, 4.0, OK),
    (4.0, 4.0, OK),
    (np.int64(2), 2.0, OK),
    (Decimal("4"), 4.0, OK),
    (Decimal("4.5"), None, ProblemCode.NOT_ALLOWED_VALUE),
    (complex(4, 0), None, ProblemCode.WRONG_TYPE),
    (b"4", None, ProblemCode.WRONG_TYPE),
    ("1", 1.0, OK),
    ("5", 5.0, OK),
    ("4.5", None, ProblemCode.NOT_ALLOWED_VALUE),
    (4.5, None, ProblemCode.NOT_ALLOWED_VALUE),
    ("0", None, ProblemCode.OUT_OF_RANGE),
    ("6", None, ProblemCode.OUT_OF_RANGE),
    ("-99", None, ProblemCode.OUT_OF_RANGE),
    ("1e1", None, ProblemCode.OUT_OF_RANGE),
    ("abc", None, ProblemCode.NOT_A_NUMBER),
    ("4,0", None, ProblemCode.NOT_A_NUMBER),
    ("1_0", None, ProblemCode.NOT_A_NUMBER),
    ("Always", None, ProblemCode.NOT_A_NUMBER),
    ("inf", None, ProblemCode.NOT_A_NUMBER),
    (math.inf, None, ProblemCode.NOT_FINITE),
    (True, None, ProblemCode.WRONG_TYPE),
    (date(2024, 1, 1), None, ProblemCode.WRONG_TYPE),
    ("", MISSING, OK),
    ("   ", MISSING, OK),
    ("NA", MISSING, OK),
    ("n/a", MISSING, OK),
    ("N/A", MISSING, OK),
    ("NaN", MISSING, OK),
    ("null", MISSING, OK),
    (".", MISSING, OK),
    (None, MISSING, OK),
    (np.nan, MISSING, OK),
    (pd.NA, MISSING, OK),
]


@pytest.mark.parametrize(
    ("cell", "value", "code"), LIKERT_CASES, ids=[repr(c[0]) for c in LIKERT_CASES]
)
def test_likert_cells(cell: object, value: object, code: ProblemCode | None) -> None:
    got, got_code = _parse_one("wai-sr", cell)
    assert got_code == code
    if value is None or value == MISSING:
        assert math.isnan(got)
    else:
        assert got == value


VAS_CASES = [
    ("7.3", 7.3, OK),
    ("0", 0.0, OK),
    ("10", 10.0, OK),
    ("10.0", 10.0, OK),
    (".5", 0.5, OK),
    (9.1, 9.1, OK),
    (np.float32(9.1), 9.1, OK),
    (np.float16(7.5), 7.5, OK),
    (np.float32(7.35), None, ProblemCode.NOT_ALLOWED_VALUE),
    ("7.35", None, ProblemCode.NOT_ALLOWED_VALUE),
    ("10.1", None, ProblemCode.OUT_OF_RANGE),
    ("-0.1", None, ProblemCode.OUT_OF_RANGE),
    ("7,3", None, ProblemCode.NOT_A_NUMBER),
    ("7.3cm", None, ProblemCode.NOT_A_NUMBER),
]


@pytest.mark.parametrize(("cell", "value", "code"), VAS_CASES, ids=[repr(c[0]) for c in VAS_CASES])
def test_vas_cells(cell: object, value: float | None, code: ProblemCode | None) -> None:
    got, got_code = _parse_one("srs", cell)
    assert got_code == code
    if value is None:
        assert math.isnan(got)
    else:
        assert got == pytest.approx(value)


OPTION_CASES: list[tuple[object, dict[str, object], object, ProblemCode | None]] = [
    # (cell, options, expected value or MISSING, code)
    ("-99", {"missing_codes": [-99]}, MISSING, OK),
    ("-99", {"missing_codes": ["-99"]}, MISSING, OK),
    (-99, {"missing_codes": ["-99.0"]}, MISSING, OK),
    ("DK", {"missing_codes": ["dk"]}, MISSING, OK),
    ("dk", {"missing_codes": ["DK"]}, MISSING, OK),
    ("-98", {"missing_codes": [-99]}, None, ProblemCode.OUT_OF_RANGE),
    ("Always", {"labels": True}, 5.0, OK),
    (" fairly OFTEN ", {"labels": True}, 3.0, OK),
    ("Alwayz", {"labels": True}, None, ProblemCode.NOT_A_NUMBER),
    ("4", {"labels": True}, 4.0, OK),
]


@pytest.mark.parametrize(
    ("cell", "options", "value", "code"),
    OPTION_CASES,
    ids=[f"{c[0]!r}-{next(iter(c[1].keys()))}" for c in OPTION_CASES],
)
def test_caller_options(
    cell: object, options: dict[str, object], value: object, code: ProblemCode | None
) -> None:
    got, got_code = _parse_one("wai-sr", cell, **options)
    assert got_code == code
    if value is None or value == MISSING:
        assert math.isnan(got)
    else:
        assert got == value


DTYPE_CASES = [
    ("int64", [1, 5, 3]),
    ("float64", [1.0, 5.0, None, 3.0]),
    ("Int64", [1, 5, None, 3]),
    ("Float64", [1.0, 5.0, None, 3.0]),
    ("object", [1, "5", None, 3.0]),
    ("string", ["1", "5", None, "3"]),
    ("category", ["1", "5", None, "3"]),
]


@pytest.mark.parametrize(("dtype", "cells"), DTYPE_CASES, ids=[c[0] for c in DTYPE_CASES])
def test_column_dtypes_parse_alike(dtype: str, cells: list[object]) -> None:
    values, codes = parse_column(pd.Series(cells, dtype=dtype), CellRules.build(WAI_SR))
    expected = [float("nan") if c is None else float(str(c)) for c in cells]
    np.testing.assert_array_equal(values, expected)
    assert not codes.any()


@pytest.mark.parametrize("dtype", ["float32", "Float32", "float16"])
def test_single_precision_columns_hold_the_decimals_written(dtype: str) -> None:
    # a Stata 'float' or a parquet float column stores 4.2 as 4.19999980926513671875
    written = [round(0.1 * i, 1) for i in range(101)]
    column = pd.Series(written, dtype=dtype)
    values, codes = parse_column(column, CellRules.build(SRS))
    np.testing.assert_array_equal(values, written)
    assert not codes.any()
    with_missing = pd.Series([9.1, None, 12.5, 0.05], dtype=dtype)
    values, codes = parse_column(with_missing, CellRules.build(SRS))
    np.testing.assert_array_equal(values, [9.1, np.nan, np.nan, np.nan])
    assert [CODES[c] for c in codes] == [
        None,
        None,
        ProblemCode.OUT_OF_RANGE,
        ProblemCode.NOT_ALLOWED_VALUE,
    ]


@pytest.mark.parametrize(
    "cells",
    [
        pd.Series([4 + 0j, None]),
        pd.Series([pd.Timestamp("2020-01-01"), pd.NaT]),
        pd.Series(pd.to_timedelta([1, None], unit="D")),
    ],
    ids=["complex", "datetime", "timedelta"],
)
def test_non_answer_dtypes_are_wrong_type(cells: pd.Series) -> None:
    values, codes = parse_column(cells, CellRules.build(WAI_SR))
    assert [CODES[c] for c in codes] == [ProblemCode.WRONG_TYPE, None]
    assert np.isnan(values).all()


@pytest.mark.parametrize(
    "cells",
    [
        [1, True, 1.0, np.True_, 1 + 0j],
        [True, 1, np.True_, 1 + 0j, 1.0],
        [1 + 0j, True, 1.0, 1],
    ],
    ids=["number-first", "boolean-first", "complex-first"],
)
def test_booleans_and_complex_numbers_among_equal_numbers_are_wrong_type(
    cells: list[object],
) -> None:
    # True == 1 == 1+0j: equal values of these types must not be read as one another
    values, codes = parse_column(pd.Series(cells, dtype=object), CellRules.build(WAI_SR))
    number = [type(c) in (int, float) for c in cells]
    assert [CODES[c] for c in codes] == [None if n else ProblemCode.WRONG_TYPE for n in number]
    np.testing.assert_array_equal(values, [1.0 if n else np.nan for n in number])


def test_boolean_column_is_wrong_type() -> None:
    values, codes = parse_column(pd.Series([True, None], dtype="boolean"), CellRules.build(WAI_SR))
    assert [CODES[c] for c in codes] == [ProblemCode.WRONG_TYPE, None]
    assert np.isnan(values).all()


def test_numeric_column_with_missing_code_and_out_of_range() -> None:
    rules = CellRules.build(WAI_SR, missing_codes=[-99])
    values, codes = parse_column(pd.Series([-99, 7, 2.5, 3]), rules)
    assert [CODES[c] for c in codes] == [
        None,
        ProblemCode.OUT_OF_RANGE,
        ProblemCode.NOT_ALLOWED_VALUE,
        None,
    ]
    np.testing.assert_array_equal(values, [np.nan, np.nan, np.nan, 3.0])


@pytest.mark.parametrize(
    ("instrument_id", "rule"),
    [("wai-sr", "an integer from 1 to 5"), ("srs", "a number from 0 to 10 recorded to 0.1")],
)
def test_rule_text(instrument_id: str, rule: str) -> None:
    assert CellRules.build(load_instrument(instrument_id)).describe() == rule
