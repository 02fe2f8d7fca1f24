"""Odd but legal inputs to the session functions: refused with a library error, never a
silently wrong number (column names that clash with outputs, duplicated sessions, ...)."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings

from alliance_score import DataError, Norm, sessions
from alliance_score.cli import main
from alliance_score.errors import ArgumentError
from alliance_score.sessions import (
    cutoff_events,
    decompose,
    detect_ruptures,
    early_alliance,
    intraclass_correlations,
    nested_icc,
    one_way_icc,
    pair_ratings,
    rater_agreement,
    reliable_change,
    response_surface_terms,
    summarize_clients,
    to_long,
    to_wide,
    two_way_icc,
    validate_long,
)

from .sessions_strategies import long_tables

LONG = pd.DataFrame(
    {
        "client": ["a"] * 4 + ["b"] * 4,
        "session": [1, 2, 3, 4] * 2,
        "total": [5.0, 3.0, 5.0, 2.0, 4.0, 4.5, 4.0, 5.0],
    }
)
RATED = pd.DataFrame(
    {
        "client": ["a", "a", "b", "b", "c", "c"],
        "session": [1] * 6,
        "rater": ["client", "therapist"] * 3,
        "total": [6.0, 4.0, 5.0, 5.0, 3.0, 4.0],
    }
)


def test_cutoff_events_refuses_a_session_column_named_first_session() -> None:
    data = LONG.rename(columns={"session": "first_session"})
    with pytest.raises(DataError, match="first_session"):
        cutoff_events(data, session="first_session", cutoff=4.0)
    # renamed, the answer is the true first session of each kind of event: 2, then 4
    events = cutoff_events(LONG, cutoff=3.5)
    assert events.loc[events["client"] == "a", "session"].tolist() == [2, 4]
    assert events.loc[events["client"] == "a", "first_session"].tolist() == [2, 2]


@pytest.mark.parametrize("name", ["c", "t", "c2", "ct", "t2"])
def test_response_surface_refuses_a_client_column_named_like_a_term(name: str) -> None:
    with pytest.raises(DataError, match="named like output columns"):
        response_surface_terms(RATED.rename(columns={"client": name}), client=name)


SessionCall = Callable[[pd.DataFrame, str], object]
CLASHES: list[tuple[str, SessionCall]] = [
    ("mean", lambda d, c: summarize_clients(d, client=c)),
    ("early", lambda d, c: early_alliance(d, client=c)),
    ("pre", lambda d, c: reliable_change(d, client=c, sd=1.0, reliability=0.8)),
    ("depth", lambda d, c: detect_ruptures(d, client=c)),
    ("event", lambda d, c: cutoff_events(d, client=c, cutoff=4.0)),
    ("value", lambda d, c: cutoff_events(d, client=c, drop=1.0)),
]


@pytest.mark.parametrize(("name", "call"), CLASHES, ids=[n for n, _ in CLASHES])
def test_an_id_column_named_like_an_output_column_is_a_library_error(
    name: str, call: SessionCall
) -> None:
    with pytest.raises(DataError, match="named like output columns"):
        call(LONG.rename(columns={"client": name}), name)


def test_pair_columns_and_rater_columns_named_like_outputs_are_refused() -> None:
    clash = RATED.assign(total_client=1).rename(columns={"client": "total_client"})
    with pytest.raises(DataError, match="total_client"):
        pair_ratings(clash, client="total_client")
    with pytest.raises(DataError, match="level"):
        nested_icc(RATED.rename(columns={"rater": "level"}), rater="level")
    with pytest.raises(DataError, match="both name the column"):
        rater_agreement(RATED, client="session")


def test_decompose_refuses_an_input_named_like_its_output() -> None:
    with pytest.raises(DataError, match="clash"):
        decompose(LONG.rename(columns={"client": "total_between"}), client="total_between")


def test_cli_exits_2_for_a_column_named_like_an_output(tmp_path: Path) -> None:
    src = tmp_path / "scores.csv"
    LONG.rename(columns={"client": "mean"}).to_csv(src, index=False)
    out = tmp_path / "s.csv"
    args = ["sessions", str(src), "--client", "mean", "--session", "session", "-o", str(out)]
    assert main([*args, "-q"]) == 2
    assert not out.exists()


DAY_FIRST = pd.DataFrame(
    {
        "client": ["a"] * 3,
        "session": [1, 2, 3],
        "date": ["10/01/2020", "13/01/2020", "05/02/2020"],
    }
)


def test_day_first_dates_are_read_with_one_format_for_the_column() -> None:
    # 13/01 can only be day first, so the whole column is: a correctly ordered series
    assert validate_long(DAY_FIRST, date="date").empty
    late = DAY_FIRST.assign(date=["10/01/2020", "13/01/2020", "05/01/2020"])
    assert validate_long(late, date="date")["code"].tolist() == ["non_monotone_date"]


def test_ambiguous_dates_are_refused_with_the_option_named() -> None:
    ambiguous = DAY_FIRST.assign(date=["10/01/2020", "11/01/2020", "05/02/2020"])
    with pytest.raises(DataError, match="date_format="):
        validate_long(ambiguous, date="date")
    assert validate_long(ambiguous, date="date", date_format="%d/%m/%Y").empty
    # read month first, 5 February comes before 1 November
    month_first = validate_long(ambiguous, date="date", date_format="%m/%d/%Y")
    assert month_first["code"].tolist() == ["non_monotone_date"]


def test_cli_names_date_format_for_ambiguous_dates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "scores.csv"
    ambiguous = DAY_FIRST.assign(date=["10/01/2020", "11/01/2020", "05/02/2020"], total=4.0)
    ambiguous.to_csv(src, index=False)
    args = ["sessions", str(src), "--client", "client", "--session", "session", "-q"]
    assert main([*args, "--date", "date", "-o", str(tmp_path / "a.csv")]) == 2
    assert "--date-format" in capsys.readouterr().err
    out = tmp_path / "b.csv"
    assert main([*args, "--date", "date", "--date-format", "%d/%m/%Y", "-o", str(out)]) == 0


def _norm(scale: str) -> Norm:
    return Norm(scale=scale, population="x", mean=4.0, sd=1.0, retest_r=0.8, alpha=0.9, source="s")


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        pytest.param({"norm": _norm("bond")}, "norm=", id="norm-of-another-scale"),
        pytest.param(
            {
                "sd": 1.0,
                "reliability": 0.8,
                "functional": _norm("bond"),
                "dysfunctional": _norm("total"),
            },
            "functional=",
            id="functional-norm-of-another-scale",
        ),
        pytest.param(
            {"norm": _norm("total"), "reliability_kind": "foo"}, "reliability_kind", id="kind"
        ),
        pytest.param({"sd": 1.0, "reliability": 0.8, "pre": "2"}, "pre", id="pre-as-text"),
        pytest.param({"sd": 1.0, "reliability": 0.8, "post": "first"}, "post", id="post-first"),
        pytest.param({"sd": 1.0, "reliability": 0.8, "pre": True}, "pre", id="pre-bool"),
        pytest.param({"sd": "1", "reliability": 0.8}, "sd", id="sd-as-text"),
        pytest.param({"sd": 1.0, "reliability": 1.0}, "reliability", id="reliability-1"),
        pytest.param(
            {"sd": 1.0, "reliability": 0.8, "clinical_cutoff": "d"}, "clinical_cutoff", id="d"
        ),
        pytest.param({"sd": 1.0, "reliability": 0.8, "population": "x"}, "population=", id="pop"),
        pytest.param({"instrument": "wai-sr", "score": "foo"}, "score='foo'", id="unknown-scale"),
        pytest.param(
            {"sd": 1.0, "reliability": 0.8, "higher_is_better": "yes"}, "higher_is_better", id="hib"
        ),
    ],
)
def test_reliable_change_validates_every_argument(kwargs: dict[str, object], named: str) -> None:
    data = LONG.rename(columns={"total": str(kwargs.get("score", "total"))})
    with pytest.raises(ArgumentError, match=re.escape(named)):
        reliable_change(data, **kwargs)  # type: ignore[arg-type]


def test_reliable_change_pre_and_post_numbers_agree_with_first_and_last() -> None:
    by_rule = reliable_change(LONG, sd=1.0, reliability=0.8)
    by_number = reliable_change(LONG, sd=1.0, reliability=0.8, pre=1, post=4)
    pd.testing.assert_frame_equal(by_rule, by_number)


def test_one_way_icc_pairs_two_series_by_index_label() -> None:
    values = pd.Series([1.0, 2.0, 3.0, 4.0, 6.0, 5.0], index=[0, 1, 2, 3, 4, 5])
    groups = pd.Series(list("aaabbb"), index=[0, 1, 2, 3, 4, 5])
    expected = one_way_icc(values, groups)
    shuffled = groups.iloc[[5, 3, 1, 0, 2, 4]]
    assert one_way_icc(values, shuffled) == expected
    # positions: the same answer when the order is the same; lists pair by position
    assert one_way_icc(values.tolist(), groups.tolist()) == expected
    with pytest.raises(DataError, match="index labels"):
        one_way_icc(values, groups.set_axis([0, 1, 2, 3, 4, 9]))
    with pytest.raises(DataError, match="length"):
        one_way_icc([1.0, 2.0, 3.0], ["a", "b"])


def test_constant_scores_give_nan_iccs_and_a_reason_not_a_crash() -> None:
    flat = LONG.assign(total=4.0)
    got = nested_icc(flat)
    assert got[["icc1", "icc2", "f"]].isna().all(axis=None)
    assert "no variance" in str(got.loc[0, "note"])
    res = one_way_icc(flat["total"], flat["client"])
    assert math.isnan(res["icc1"]) and math.isnan(res["f"])


def test_no_variance_within_groups_gives_an_infinite_f() -> None:
    steps = LONG.assign(total=[4.0] * 4 + [5.0] * 4)
    got = nested_icc(steps).iloc[0]
    assert math.isinf(float(got["f"])) and got["icc1"] == 1.0 and got["icc2"] == 1.0
    assert "F is infinite" in str(got["note"])


def test_each_level_that_can_be_computed_is_and_the_other_says_why() -> None:
    one_each = LONG.assign(therapist=LONG["client"].map({"a": "t1", "b": "t2"}))
    got = nested_icc(one_each, therapist="therapist").set_index("level")
    assert got.loc["client", "note"] == "" or "negative" in str(got.loc["client", "note"])
    assert not got.loc[["client"], "icc1"].isna().all()
    assert got.loc[["therapist"], "icc1"].isna().all()
    assert "one observation per group" in str(got.loc["therapist", "note"])


def test_an_icc_below_minus_one_is_reported_as_such() -> None:
    # two clients of 1 and 2 sessions with identical means: MS_B = 0 < MS_W, k = 1.5,
    # so ICC(1) = -MS_W / (0.5 MS_W) = -2 (psych::statsBy gives the same)
    data = pd.DataFrame({"client": ["a", "b", "b"], "session": [1, 1, 2], "total": [4.0, 3.0, 5.0]})
    got = nested_icc(data).iloc[0]
    assert got["icc1"] == pytest.approx(-2.0)
    assert "outside [-1, 1]" in str(got["note"]) and "negative" in str(got["note"])


def test_the_raw_exceptions_of_before_are_library_errors() -> None:
    mixed = LONG.assign(client=[1, 1, 1, 1, "1", "1", "1", "1"])
    with pytest.raises(DataError, match="mixes kinds"):
        to_wide(mixed)
    with pytest.raises(ArgumentError, match="window"):
        detect_ruptures(LONG, window=np.inf)  # type: ignore[arg-type]
    with pytest.raises(DataError, match="numbers"):
        two_way_icc([["a", "b"], ["c", "d"]])
    with pytest.raises(ArgumentError, match="cutoff"):
        reliable_change(LONG, sd=1.0, reliability=0.8, clinical_cutoff="d")  # type: ignore[arg-type]


def test_an_icc_outside_its_range_says_so() -> None:
    # two sessions rated in opposite directions by two raters: MS_R = 0, ICC(A,1) = -1 or
    # lower, as psych::ICC(x, lmer = FALSE) reports it
    pairs = pd.DataFrame(
        {
            "client": ["a", "a", "b", "b"],
            "session": [1, 1, 1, 1],
            "rater": ["client", "therapist"] * 2,
            "total": [1.0, 5.0, 5.0, 1.0],
        }
    )
    got = rater_agreement(pairs).iloc[0]
    assert float(got["icc_c1"]) <= -1
    assert "outside [-1, 1]" in str(got["note"]) or "negative" in str(got["note"])
    table = intraclass_correlations([[1.0, 5.0, 3.0], [5.0, 1.0, 3.0]])
    assert (table["note"] != "").all()
    calm = rater_agreement(RATED).iloc[0]
    assert str(calm["note"]) == "" or "negative" in str(calm["note"])


def _float_cells(table: pd.DataFrame) -> np.ndarray[Any, np.dtype[np.float64]]:
    floats = [c for c in table.columns if pd.api.types.is_float_dtype(table[c].dtype)]
    cells: np.ndarray[Any, np.dtype[np.float64]] = table[floats].to_numpy(dtype=np.float64).ravel()
    finite: np.ndarray[Any, np.dtype[np.float64]] = cells[np.isfinite(cells)]
    return finite


@settings(max_examples=10, deadline=None)
@given(table=long_tables(min_sessions=2))
def test_every_statistic_is_rounded_to_ten_decimals(table: pd.DataFrame) -> None:
    # sums of values recorded to 0.001 carry float noise (4.0045454545200005); the one
    # rounding rule: every float a function computes has at most 10 decimals
    rated = table.assign(rater="client")
    outputs = [
        summarize_clients(table),
        early_alliance(table, early="window"),
        reliable_change(table, sd=0.7, reliability=0.83),
        cutoff_events(table, cutoff=4.1, drop=0.3, drop_from="running_mean"),
        detect_ruptures(table, method="strauss2006"),
        decompose(table).drop(columns="total"),
        pd.concat([rated, rated.assign(rater="therapist", total=rated["total"] * 0.9)]).pipe(
            rater_agreement
        ),
    ]
    if table["client"].nunique() > 1:
        outputs.append(nested_icc(table))
    for output in outputs:
        cells = _float_cells(output)
        np.testing.assert_array_equal(cells, np.round(cells, 10))


CLINICAL = {"functional": _norm("total"), "dysfunctional": _norm("total")}
RENAMED: list[tuple[str, dict[str, Any], str, str, object]] = [
    ("validate_long", {}, "instrument", "instrument_column", "total"),
    ("cutoff_events", {"item_below": 4.0}, "items", "item_columns", ["total"]),
    ("detect_ruptures", {}, "sd", "sd_basis", "sample"),
    (
        "reliable_change",
        {"sd": 1.0, "reliability": 0.8, **CLINICAL},
        "cutoff",
        "clinical_cutoff",
        "a",
    ),
]


@pytest.mark.parametrize(
    ("name", "shared", "old", "new", "value"), RENAMED, ids=[r[2] for r in RENAMED]
)
def test_old_keywords_work_for_one_release_with_a_deprecation_warning(
    name: str, shared: dict[str, Any], old: str, new: str, value: object
) -> None:
    function = getattr(sessions, name)
    with pytest.warns(DeprecationWarning, match=f"{old}= is renamed {new}="):
        by_old = function(LONG, **shared, **{old: value})
    pd.testing.assert_frame_equal(by_old, function(LONG, **shared, **{new: value}))
    with pytest.raises(ArgumentError, match="got both"):
        function(LONG, **shared, **{old: value, new: value})


def test_one_item_column_given_as_text_is_one_column() -> None:
    data = LONG.assign(i1=[9.0, 7.0, 9.0, 9.0, 9.0, 9.0, 9.0, 7.5])
    by_text = cutoff_events(data, item_columns="i1", item_below=8.0)
    assert by_text["column"].tolist() == ["i1", "i1"]
    pd.testing.assert_frame_equal(by_text, cutoff_events(data, item_columns=["i1"], item_below=8.0))


@pytest.mark.parametrize("sessions_as", ["int64", "float64"])
def test_an_unrepaired_episode_has_repair_session_na(sessions_as: str) -> None:
    data = pd.DataFrame(
        {"client": ["a"] * 10, "session": range(1, 11), "total": [5.0] * 9 + [2.0]}
    ).astype({"session": sessions_as})
    data.loc[8, "total"] = 2.0  # a fall at sessions 9-10 with no return
    data.loc[4, "total"] = 5.5
    episodes = detect_ruptures(data, method="strauss2006")
    assert len(episodes) == 1
    assert episodes.loc[0, "repair_session"] is pd.NA
    assert not bool(episodes.loc[0, "repaired"])


def test_to_long_refuses_a_wide_table_with_a_client_twice() -> None:
    wide = pd.DataFrame(
        [[4.0, 5.0], [3.0, 2.0]], index=pd.Index(["a", "a"], name="client"), columns=[1, 2]
    )
    with pytest.raises(DataError, match="entered twice"):
        to_long(wide)
