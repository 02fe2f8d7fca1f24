"""Every public function of sessions/ and psychometrics/ answers odd frames and odd
arguments with a result or a library error (an AllianceScoreError), never a raw Python
exception."""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alliance_score import AllianceScoreError
from alliance_score import psychometrics as psy
from alliance_score import sessions as ses

SETTINGS = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])

cells = st.one_of(
    st.integers(-3, 12),
    st.floats(allow_nan=True, allow_infinity=True, width=32),
    st.sampled_from(["a", "1", "", " ", "2020-01-13", "13/01/2020", "x", "NA"]),
    st.none(),
    st.booleans(),
)
NAMES = ["client", "session", "total", "rater", "therapist", "date", "mean", "c", "1", "q1"]


@st.composite
def odd_frames(draw: st.DrawFn) -> pd.DataFrame:
    """Small frames with the usual column names (or not), holding any kind of cell."""
    n_rows = draw(st.integers(0, 6))
    names = draw(st.lists(st.sampled_from(NAMES), min_size=0, max_size=6, unique=True))
    columns: dict[str, list[Any]] = {}
    for name in names:
        kind = draw(st.sampled_from(["ints", "floats", "text", "mixed"]))
        if kind == "ints":
            values: list[Any] = draw(st.lists(st.integers(0, 4), min_size=n_rows, max_size=n_rows))
        elif kind == "floats":
            values = draw(
                st.lists(
                    st.one_of(st.floats(0, 7), st.just(float("nan"))),
                    min_size=n_rows,
                    max_size=n_rows,
                )
            )
        elif kind == "text":
            values = draw(
                st.lists(st.sampled_from(["a", "b", "1"]), min_size=n_rows, max_size=n_rows)
            )
        else:
            values = draw(st.lists(cells, min_size=n_rows, max_size=n_rows))
        columns[name] = values
    return pd.DataFrame(columns, index=pd.RangeIndex(n_rows))


SRS = ["relationship", "goals", "approach", "overall"]


@st.composite
def srs_exports(draw: st.DrawFn) -> pd.DataFrame:
    """The four SRS columns with cells of any kind, a few rows."""
    n_rows = draw(st.integers(0, 8))
    numbers = st.one_of(st.floats(-1, 11), st.sampled_from([0.0, 5.0, 10.0, float("nan")]))
    return pd.DataFrame(
        {
            item: draw(st.lists(st.one_of(numbers, cells), min_size=n_rows, max_size=n_rows))
            for item in SRS
        }
    )


odd_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-2, 20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["", "total", "client", "x", "first", "last", "a", "mean", "pooled"]),
    st.lists(st.sampled_from(["client", "total", "x"]), max_size=3),
    st.just(("client", "client")),
)

Call = Callable[..., object]
KEYWORDS: dict[str, tuple[Call, list[str]]] = {
    "validate_long": (ses.validate_long, ["client", "session", "rater", "date", "date_format"]),
    "to_wide": (ses.to_wide, ["client", "session", "rater", "score"]),
    "summarize_clients": (ses.summarize_clients, ["client", "score", "early_session", "early"]),
    "early_alliance": (ses.early_alliance, ["session", "early_session", "early"]),
    "decompose": (ses.decompose, ["client", "score", "centre"]),
    "reliable_change": (
        ses.reliable_change,
        ["sd", "reliability", "pre", "post", "criterion", "reliability_kind", "cutoff"],
    ),
    "cutoff_events": (ses.cutoff_events, ["cutoff", "comparison", "drop", "drop_from"]),
    "detect_ruptures": (ses.detect_ruptures, ["method", "threshold", "sd", "window", "repair"]),
    "nested_icc": (ses.nested_icc, ["client", "therapist", "rater", "group_size"]),
    "pair_ratings": (ses.pair_ratings, ["rater", "raters", "score"]),
    "rater_agreement": (ses.rater_agreement, ["rater", "raters", "ci"]),
    "response_surface_terms": (ses.response_surface_terms, ["rater", "centre"]),
    "reliability": (psy.reliability, ["scales", "missing", "ci", "items"]),
    "item_analysis": (psy.item_analysis, ["scales", "missing"]),
    "item_frequencies": (psy.item_frequencies, ["scales", "labels"]),
    "check_keying": (psy.check_keying, ["norm_margin", "min_rows", "missing"]),
    "psychometric_report": (psy.psychometric_report, ["ci", "min_rows", "scales"]),
    "item_matrix": (psy.item_matrix, ["reverse", "items"]),
}
PSYCHOMETRIC = {
    "reliability",
    "item_analysis",
    "item_frequencies",
    "check_keying",
    "psychometric_report",
    "item_matrix",
}


def _call(function: Call, *args: Any, **kwargs: Any) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with contextlib.suppress(AllianceScoreError):
            function(*args, **kwargs)


@pytest.mark.parametrize("name", sorted(KEYWORDS))
@SETTINGS
@given(data=st.data())
def test_odd_frames_and_arguments_give_a_result_or_a_library_error(
    name: str, data: st.DataObject
) -> None:
    function, keywords = KEYWORDS[name]
    frame = data.draw(odd_frames(), label="frame")
    chosen = data.draw(st.lists(st.sampled_from(keywords), max_size=3, unique=True))
    kwargs = {k: data.draw(odd_values, label=k) for k in chosen}
    if name in PSYCHOMETRIC:
        _call(function, frame, data.draw(st.sampled_from(["srs", "wai-sr"])), **kwargs)
        _call(function, data.draw(srs_exports(), label="srs"), "srs", **kwargs)
    else:
        _call(function, frame, **kwargs)


@SETTINGS
@given(
    ratings=st.lists(st.lists(cells, min_size=0, max_size=4), min_size=0, max_size=5),
    ci=odd_values,
)
def test_two_way_icc_answers_any_ratings_with_a_result_or_a_library_error(
    ratings: list[list[Any]], ci: Any
) -> None:
    _call(ses.two_way_icc, ratings, ci=ci)
    with warnings.catch_warnings():  # pandas warns about building a frame from ragged rows
        warnings.simplefilter("ignore")
        table = pd.DataFrame(ratings)
    _call(ses.two_way_icc, table, ci=ci)
    _call(ses.intraclass_correlations, table, ci=ci)


@SETTINGS
@given(values=st.lists(cells, max_size=6), groups=st.lists(cells, max_size=6), size=odd_values)
def test_one_way_icc_answers_any_input_with_a_result_or_a_library_error(
    values: list[Any], groups: list[Any], size: Any
) -> None:
    _call(ses.one_way_icc, values, groups, group_size=size)
    _call(ses.one_way_icc, pd.Series(values, dtype=object), pd.Series(groups, dtype=object))


@SETTINGS
@given(wide=odd_frames(), rater=odd_values, dropna=odd_values)
def test_to_long_answers_any_frame_with_a_result_or_a_library_error(
    wide: pd.DataFrame, rater: Any, dropna: Any
) -> None:
    _call(ses.to_long, wide, rater=rater)
    _call(ses.to_long, wide.set_index(list(wide.columns[:1])) if len(wide.columns) else wide)


def test_non_frames_are_library_errors() -> None:
    for name, (function, _) in KEYWORDS.items():
        with pytest.raises(AllianceScoreError):
            if name in PSYCHOMETRIC:
                function(np.zeros((2, 2)), "srs")
            else:
                function(np.zeros((2, 2)))


@SETTINGS
@given(dysfunctional=odd_values, functional=odd_values, direction=odd_values)
def test_clinical_cutoffs_answer_odd_arguments_with_a_library_error(
    dysfunctional: Any, functional: Any, direction: Any
) -> None:
    _call(ses.clinical_cutoffs, dysfunctional, functional, higher_is_better=direction)


key_maps = st.one_of(
    odd_values,
    st.dictionaries(
        st.sampled_from(["agree", "total", "status", "a b", ""]),
        st.one_of(
            st.lists(st.sampled_from(["relationship", "-goals", "x", "-", "approach"]), max_size=3),
            st.sampled_from(["goals", None]),
        ),
        max_size=2,
    ),
)


@SETTINGS
@given(export=srs_exports(), keys=key_maps, low=odd_values, high=odd_values)
def test_psych_style_keys_answer_odd_input_with_a_result_or_a_library_error(
    export: pd.DataFrame, keys: Any, low: Any, high: Any
) -> None:
    for function in (psy.reliability, psy.item_analysis, psy.check_keying):
        _call(function, export, keys=keys, min=low, max=high)
