"""Hand-scored golden cases: every shipped instrument, both front doors.

Each ``tests/golden/<id>/`` holds ``input.csv`` (raw cells as typed, one column per item
id, plus ``case``), ``expected.csv`` (hand-computed from the published key) and a README
saying how each value was computed. Blank expected cells mean "no score" / unknown flag.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from alliance_score import load_instrument, score_frame, score_response

GOLDEN = Path(__file__).parent / "golden"
CASES = sorted(p.name for p in GOLDEN.iterdir() if p.is_dir())


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _expected_problems(frame_problems: pd.DataFrame, n: int) -> list[str]:
    out = [""] * n
    for row, group in frame_problems.groupby("row", sort=True):
        out[int(str(row))] = ";".join(f"{r.item}:{r.code}" for r in group.itertuples())
    return out


def _check_value(case: str, column: str, expected: str, actual: object) -> None:
    if expected == "":
        assert (
            actual is None or actual is pd.NA or (isinstance(actual, float) and math.isnan(actual))
        ), f"{case} {column}: expected no value, got {actual!r}"
    elif expected in ("true", "false"):
        assert actual is not pd.NA and bool(actual) is (expected == "true"), (
            f"{case} {column}: expected {expected}, got {actual!r}"
        )
    elif column == "status":
        assert str(actual) == expected, f"{case}: status {actual!r} != {expected!r}"
    else:
        assert actual is not None and actual is not pd.NA, f"{case} {column}: missing value"
        assert float(str(actual)) == pytest.approx(float(expected), abs=1e-9), (
            f"{case} {column}: {actual!r} != {expected}"
        )


@pytest.mark.parametrize("instrument_id", CASES)
def test_score_frame_matches_golden(instrument_id: str) -> None:
    data = _read(GOLDEN / instrument_id / "input.csv")
    expected = _read(GOLDEN / instrument_id / "expected.csv")
    ins = load_instrument(instrument_id)
    result = score_frame(
        data,
        ins,
        items={i: i for i in ins.item_ids},
        keep=["case"],
        allow_provisional=True,
        return_problems=True,
    )
    scores = result.scores
    assert list(scores["case"]) == list(expected["case"]), "rows lost or reordered"
    problems = _expected_problems(result.problems, len(data))
    for i, row in expected.iterrows():
        for column in expected.columns:
            if column == "case":
                continue
            if column == "problems":
                assert problems[int(str(i))] == row["problems"], row["case"]
                continue
            _check_value(row["case"], column, row[column], scores.iloc[int(str(i))][column])


@pytest.mark.parametrize("instrument_id", CASES)
def test_score_response_matches_golden(instrument_id: str) -> None:
    data = _read(GOLDEN / instrument_id / "input.csv")
    expected = _read(GOLDEN / instrument_id / "expected.csv")
    for (_, raw), (_, exp) in zip(data.iterrows(), expected.iterrows(), strict=True):
        answers = {str(k): v for k, v in raw.items() if k != "case"}
        result = score_response(instrument_id, answers, allow_provisional=True)
        _check_value(exp["case"], "status", exp["status"], result.status.value)
        for column in expected.columns:
            if column in result.scores:
                _check_value(exp["case"], column, exp[column], result.scores[column])
            elif column in result.flags:
                _check_value(exp["case"], column, exp[column], result.flags[column])
        codes = ";".join(f"{p.item}:{p.code.value}" for p in result.problems)
        assert codes == exp["problems"], exp["case"]
