"""Cells of any Python type are coded problems, never exceptions (lists, dicts, sets,
arrays, integers beyond any float)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alliance_score import score_frame, score_response

SETTINGS = settings(max_examples=60, deadline=None)
ITEMS = [f"wai_{i}" for i in range(1, 13)]


def _frame(cells: list[Any]) -> pd.DataFrame:
    frame = pd.DataFrame({c: [3] * len(cells) for c in ITEMS}, dtype=object)
    frame["wai_1"] = pd.Series(cells, dtype=object)
    return frame


CASES = {
    "list": ([1, 2], "wrong_type"),
    "dict": ({"a": 1}, "wrong_type"),
    "set": ({1}, "wrong_type"),
    "frozenset": (frozenset({1}), "wrong_type"),
    "ndarray": (np.array([1, 2]), "wrong_type"),
    "zero-d-ndarray": (np.array(3), "wrong_type"),
    "huge-int": (10**400, "out_of_range"),
    "huge-negative-int": (-(10**400), "out_of_range"),
}


@pytest.mark.parametrize(("cell", "code"), CASES.values(), ids=CASES.keys())
def test_object_cells_are_coded_problems(cell: Any, code: str) -> None:
    result = score_frame(_frame([cell, 4]), "wai-sr", return_problems=True)
    assert result.problems["code"].tolist() == [code]
    assert result.problems["row"].tolist() == [0]
    assert result.scores["status"].tolist() == ["invalid", "complete"]


@pytest.mark.parametrize(("cell", "code"), CASES.values(), ids=CASES.keys())
def test_score_response_reports_them_too(cell: Any, code: str) -> None:
    answers = {str(i): 3 for i in range(1, 13)} | {"1": cell}
    result = score_response("wai-sr", answers)
    assert [p.code.value for p in result.problems] == [code]


containers = st.one_of(
    st.lists(st.integers(1, 5), max_size=3),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
    st.sets(st.integers(), max_size=2),
    st.integers(min_value=10**309, max_value=10**500),
    st.integers(min_value=-(10**500), max_value=-(10**309)),
    st.builds(np.array, st.lists(st.floats(allow_nan=False), max_size=3)),
)
cells = st.one_of(containers, st.integers(0, 6), st.text(max_size=3), st.none(), st.booleans())


@SETTINGS
@given(st.lists(cells, min_size=1, max_size=8))
def test_any_cells_give_one_row_each_and_codes_for_containers(values: list[Any]) -> None:
    result = score_frame(_frame(values), "wai-sr", return_problems=True)
    assert len(result.scores) == len(values)
    coded = set(result.problems["row"].tolist())
    for row, value in enumerate(values):
        if isinstance(value, list | dict | set | np.ndarray) or (
            isinstance(value, int) and not isinstance(value, bool) and abs(value) > 10**308
        ):
            assert row in coded
            assert result.scores["status"].iloc[row] == "invalid"


def test_problem_records_tell_equal_values_of_different_types_apart() -> None:
    """``False == 0``: each keeps its own code and message in the problems table."""
    result = score_frame(_frame([False, 0, 7, 0, False]), "wai-sr", return_problems=True)
    table = result.problems
    assert table["code"].tolist() == [
        "wrong_type",
        "out_of_range",
        "out_of_range",
        "out_of_range",
        "wrong_type",
    ]
    assert table["value"].tolist() == ["False", "0", "7", "0", "False"]
    assert "a bool value" in table["message"].iloc[0]
    assert "bool" not in table["message"].iloc[1]
    assert table["row"].tolist() == [0, 1, 2, 3, 4]


def test_integers_beyond_the_text_limit_are_shown_by_their_size() -> None:
    """Python refuses to write an integer of more than 4,300 digits as text; the problem
    record says how long it is instead of failing, in both paths."""
    huge = 10**5000
    res = score_frame(_frame([huge]), "wai-sr", items="wai_{item}", return_problems=True)
    record = res.problems.iloc[0]
    assert record["code"] == "out_of_range"
    assert record["value"] == "<an integer of about 5000 digits>"
    assert "about 5000 digits" in record["message"]
    single = score_response("wai-sr", {"1": huge, **{str(i): 3 for i in range(2, 13)}})
    assert single.status == "invalid"
    assert [p.code for p in single.problems] == ["out_of_range"]
    assert single.problems[0].value == "<an integer of about 5000 digits>"


def test_analysis_functions_take_instrument_ids_not_text_paths(tmp_path: Any) -> None:
    """Only load_instrument reads a definition from a path given as text; the analysis
    functions take an id (or an Instrument, or a loaded path)."""
    from alliance_score import UnknownInstrumentError, reliability
    from alliance_score.sessions import reliable_change

    path = str(tmp_path / "x.toml")
    data = pd.DataFrame({c: [3, 4, 2] for c in ITEMS})
    with pytest.raises(UnknownInstrumentError, match="not an instrument id"):
        reliability(data, path)
    sessions = pd.DataFrame({"client": ["a", "a"], "session": [1, 2], "total": [3.0, 4.0]})
    with pytest.raises(UnknownInstrumentError, match="not an instrument id"):
        reliable_change(sessions, client="client", session="session", instrument=path)


def test_an_unknown_item_with_a_huge_integer_is_reported_by_its_size() -> None:
    answers: dict[str, Any] = {str(i): 3 for i in range(1, 13)}
    answers["99"] = 10**5000
    result = score_response("wai-sr", answers)
    assert result.status == "invalid"
    assert [(p.code, p.value) for p in result.problems] == [
        ("unknown_item", "<an integer of about 5000 digits>")
    ]
