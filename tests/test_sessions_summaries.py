"""Per-client summaries, early alliance and within/between decomposition."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alliance_score import DataError, score_frame
from alliance_score.sessions import (
    SUMMARY_COLUMNS,
    cutoff_events,
    decompose,
    detect_ruptures,
    early_alliance,
    nested_icc,
    pair_ratings,
    rater_agreement,
    reliable_change,
    response_surface_terms,
    summarize_clients,
    to_wide,
    validate_long,
)

from .sessions_strategies import long_tables

TRAJ = pd.DataFrame(
    {
        "client": ["a"] * 4 + ["b"] * 2 + ["c"],
        "session": [1, 2, 3, 5, 2, 4, 1],
        "total": [3.0, 4.0, 4.0, 6.0, 5.0, 3.0, float("nan")],
    }
)


def test_summary_by_hand() -> None:
    s = summarize_clients(TRAJ).set_index("client")
    assert list(s.columns) == list(SUMMARY_COLUMNS)
    a = s.loc["a"]
    assert (a["n_sessions"], a["first_session"], a["last_session"]) == (4, 1, 5)
    assert (a["first"], a["last"], a["mean"], a["min"], a["max"]) == (3.0, 6.0, 4.25, 3.0, 6.0)
    assert a["slope"] == pytest.approx(6.25 / 8.75, abs=1e-10)
    assert a["slope_se"] == pytest.approx(math.sqrt(0.2857142857142857 / 2 / 8.75), abs=1e-10)
    assert (a["early"], a["change"]) == (4.0, 2.0)
    b = s.loc["b"]
    assert b["slope"] == pytest.approx(-1.0)
    assert pd.isna(b["slope_se"])  # two sessions: no residual degrees of freedom
    assert pd.isna(b["early"]) and pd.isna(b["change"])  # session 3 not rated
    c = s.loc["c"]
    assert c["n_sessions"] == 0 and pd.isna(c["mean"])


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        pytest.param({}, {"a": (4.0, 1), "b": (math.nan, 0)}, id="session-3"),
        pytest.param({"early_session": 2}, {"a": (4.0, 1), "b": (5.0, 1)}, id="session-2"),
        pytest.param(
            {"early": "window", "early_session": 3},
            {"a": (11 / 3, 3), "b": (5.0, 1)},
            id="window-1-3",
        ),
        pytest.param(
            {"early": "window", "early_session": 4},
            {"a": (11 / 3, 3), "b": (4.0, 2)},
            id="window-1-4",
        ),
    ],
)
def test_early_alliance(options: dict[str, object], expected: dict[str, tuple[float, int]]) -> None:
    out = early_alliance(TRAJ, **options).set_index("client")  # type: ignore[arg-type]
    for client, (value, n) in expected.items():
        got = out.loc[client]
        if math.isnan(value):
            assert pd.isna(got["early"])
        else:
            assert got["early"] == pytest.approx(value)
        assert got["early_n"] == n


def test_early_window_leaves_out_sessions_before_1() -> None:
    # An intake numbered 0 is not one of "sessions 1-3": mean of 3, 4, 5 = 4, not 3.25.
    data = pd.DataFrame({"client": ["a"] * 4, "session": [0, 1, 2, 3], "total": [1.0, 3, 4, 5]})
    out = early_alliance(data, early="window")
    assert (out.loc[0, "early"], out.loc[0, "early_n"]) == (4.0, 3)
    assert out.loc[0, "early_rule"] == "mean of sessions 1-3"
    summary = summarize_clients(data, early="window")
    assert (summary.loc[0, "early"], summary.loc[0, "change"]) == (4.0, 1.0)


@pytest.mark.parametrize(
    ("options", "error"),
    [
        pytest.param({"early": "late"}, ValueError, id="bad-rule"),
        pytest.param({"early_session": 0}, ValueError, id="session-0"),
        pytest.param({"early_session": 2.5}, TypeError, id="not-int"),
        pytest.param({"score": "bond"}, DataError, id="missing-score"),
    ],
)
def test_early_alliance_errors(options: dict[str, object], error: type[Exception]) -> None:
    with pytest.raises(error):
        early_alliance(TRAJ, **options)  # type: ignore[arg-type]


def test_non_numeric_score_is_rejected() -> None:
    data = TRAJ.assign(total=TRAJ["total"].astype(str))
    with pytest.raises(DataError, match="must be numeric"):
        summarize_clients(data)


def test_summaries_from_score_frame_with_rater() -> None:
    answers = {f"wai_{i}": [4, 5, 3, 4] for i in range(1, 13)}
    raw = pd.DataFrame(
        {"client": ["a"] * 4, "session": [1, 1, 2, 2], "rater": ["c", "t", "c", "t"], **answers}
    )
    scores = score_frame(raw, "wai-sr", keep=["client", "session", "rater"])
    s = summarize_clients(scores, rater="rater", early_session=1)
    assert list(s["rater"]) == ["c", "t"]
    assert list(s["slope"]) == [-1.0, -1.0]
    assert list(s["early"]) == [4.0, 5.0]


def test_decompose_aligned_with_input_and_not_mutating() -> None:
    data = TRAJ.iloc[::-1].copy()
    before = data.copy()
    out = decompose(data)
    pd.testing.assert_frame_equal(data, before)
    assert list(out.index) == list(data.index)
    assert out.loc[0, "total_between"] == pytest.approx(4.25)
    assert out.loc[3, "total_within"] == pytest.approx(1.75)
    past = decompose(data, centre="past")
    assert bool(past["total_between"].isna().loc[0])
    assert past.loc[3, "total_between"] == pytest.approx(11 / 3)


def test_every_function_refuses_a_session_entered_twice() -> None:
    # The one duplicate rule: a (client, rater, session) entered twice has no single
    # score, so every function refuses it (validate_long reports it instead), whatever
    # the scores and the order of the rows.
    data = pd.DataFrame(
        {"client": ["a"] * 4, "session": [1, 1, 2, 2], "total": [5.0, 3.0, 5.0, 3.0]}
    )
    calls: list[Callable[[pd.DataFrame], object]] = [
        summarize_clients,
        early_alliance,
        lambda d: reliable_change(d, sd=1.0, reliability=0.8),
        lambda d: reliable_change(d, sd=1.0, reliability=0.8, pre=1, post=2),
        lambda d: cutoff_events(d, cutoff=4.5, drop=1.0),
        lambda d: detect_ruptures(d, method="strauss2006"),
        lambda d: decompose(d, centre="past"),
        nested_icc,
        to_wide,
    ]
    for call in calls:
        for frame in (data, data.iloc[::-1]):
            with pytest.raises(DataError, match=r"entered twice"):
                call(frame)
    assert validate_long(data)["code"].tolist() == ["duplicate_row", "duplicate_row"]
    # the two-rater functions: the same rater twice on one session
    rated = data.assign(rater="client")
    both = pd.concat([rated, rated.assign(rater="therapist").iloc[[0, 2]]])
    for pair_call in (pair_ratings, rater_agreement, response_surface_terms):
        with pytest.raises(DataError, match=r"entered twice"):
            pair_call(both)


def test_categorical_identifiers_with_unused_categories() -> None:
    """Categorical client and rater columns (unused categories included) give the same
    tables as plain text, without warnings (pandas 2.2 would group by every category)."""
    values = [5.0, 5, 5, 5, 5, 2, 5, 5, 5, 5, 3, 4, 4, 6]
    text = pd.DataFrame(
        {
            "client": (["a"] * 10 + ["b"] * 4) * 2,
            "session": [*range(1, 11), 1, 2, 3, 5] * 2,
            "total": values + [v - 0.5 for v in values],
            "rater": ["client"] * 14 + ["therapist"] * 14,
        }
    )
    coded = text.astype(
        {
            "client": pd.CategoricalDtype(["a", "b", "z"]),
            "rater": pd.CategoricalDtype(["client", "therapist", "supervisor"]),
        }
    )
    calls: list[Callable[[pd.DataFrame], pd.DataFrame]] = [
        lambda d: summarize_clients(d, rater="rater"),
        lambda d: early_alliance(d, rater="rater", early="window"),
        lambda d: decompose(d, rater="rater", centre="past"),
        lambda d: reliable_change(d, rater="rater", sd=1.0, reliability=0.8),
        lambda d: cutoff_events(d, rater="rater", cutoff=4.5, drop=1.0),
        lambda d: detect_ruptures(d, rater="rater"),
        lambda d: nested_icc(d, rater="rater"),
        lambda d: rater_agreement(d),
    ]
    for call in calls:
        got = call(coded)
        for col in ("client", "rater"):
            if col in got.columns:
                got[col] = got[col].astype(text[col].dtype)
        pd.testing.assert_frame_equal(got, call(text))


# -- properties --------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(long_tables(), st.randoms(use_true_random=False))
def test_summaries_do_not_depend_on_row_order(data: pd.DataFrame, rnd: object) -> None:
    order = list(range(len(data)))
    rnd.shuffle(order)  # type: ignore[attr-defined]
    shuffled = data.iloc[order]
    pd.testing.assert_frame_equal(summarize_clients(shuffled), summarize_clients(data))
    pd.testing.assert_frame_equal(decompose(shuffled).sort_index(), decompose(data).sort_index())


@settings(max_examples=60, deadline=None)
@given(long_tables())
def test_person_mean_within_parts_sum_to_zero(data: pd.DataFrame) -> None:
    within = decompose(data)
    sums = within.groupby("client")["total_within"].sum()
    np.testing.assert_allclose(sums.to_numpy(), 0.0, atol=1e-9)


@settings(max_examples=60, deadline=None)
@given(long_tables(), st.floats(min_value=-50, max_value=50).map(lambda c: round(c, 2)))
def test_adding_a_constant(data: pd.DataFrame, c: float) -> None:
    shifted = data.assign(total=data["total"] + c)
    s0, s1 = summarize_clients(data), summarize_clients(shifted)
    for col in ("mean", "first", "last", "min", "max", "early"):
        np.testing.assert_allclose(s1[col], s0[col] + c, atol=1e-9)
    for col in ("slope", "slope_se", "change"):
        np.testing.assert_allclose(s1[col], s0[col], atol=1e-7)
    for centre in ("person", "past"):
        np.testing.assert_allclose(
            decompose(shifted, centre=centre)["total_within"],
            decompose(data, centre=centre)["total_within"],
            atol=1e-9,
        )
    r0 = reliable_change(data, sd=1.0, reliability=0.8)
    r1 = reliable_change(shifted, sd=1.0, reliability=0.8)
    np.testing.assert_allclose(r1["rci"], r0["rci"], atol=1e-9)
