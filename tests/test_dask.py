"""The Dask adapter: the same results as pandas for any partitioning."""

from __future__ import annotations

import importlib
import itertools
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alliance_score import dask as asd
from alliance_score import score_frame
from alliance_score.errors import ColumnMappingError, DataError, ProvisionalScaleError
from alliance_score.psychometrics import item_frequencies, reliability
from alliance_score.sessions import nested_icc, summarize_clients

dask: Any = importlib.import_module("dask")  # untyped: used through Any
dd: Any = importlib.import_module("dask.dataframe")
SETTINGS = settings(max_examples=12, deadline=None)
CELLS = st.one_of(
    st.integers(0, 6),
    st.sampled_from(["", "4", " 5 ", "x", "4.5", "NA", "Always", None, float("nan"), -9]),
)


@pytest.fixture(autouse=True)
def _synchronous() -> Iterator[None]:
    # cells as given (no conversion of object columns to pyarrow strings), in this process
    with dask.config.set({"dataframe.convert-string": False, "scheduler": "synchronous"}):
        yield


def _partitioned(df: pd.DataFrame, sizes: list[int]) -> Any:
    """A Dask DataFrame whose partitions have the given sizes (0 allowed; rest at the end)."""
    bounds = [0]
    for size in sizes:
        bounds.append(min(len(df), bounds[-1] + size))
    bounds.append(len(df))
    pieces = list(itertools.pairwise(bounds))
    return dd.from_map(
        lambda b: df.iloc[b[0] : b[1]], pieces, meta=df.iloc[:0], enforce_metadata=False
    )


@st.composite
def tables(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(0, 30))
    columns = {f"wai_{i}": draw(st.lists(CELLS, min_size=n, max_size=n)) for i in range(1, 13)}
    frame = pd.DataFrame({"client": [f"c{i % 7}" for i in range(n)], **columns}, dtype=object)
    return frame.set_axis(pd.Index(draw(st.permutations(range(100, 100 + n)))), axis=0)


@SETTINGS
@given(
    df=tables(),
    sizes=st.lists(st.sampled_from([0, 1, 1, 2, 5, 9]), max_size=8),
    on_invalid=st.sampled_from(["reject", "missing"]),
    labels=st.booleans(),
)
def test_any_partitioning_gives_the_pandas_scores_and_problems(
    df: pd.DataFrame, sizes: list[int], on_invalid: str, labels: bool
) -> None:
    ddf = _partitioned(df, sizes)
    options: dict[str, Any] = {
        "keep": ["client"],
        "on_invalid": on_invalid,
        "labels": labels,
        "missing_codes": [-9],
        "allow_provisional": True,
    }
    expected = score_frame(df, "wai-sr", return_problems=True, **options)
    # a kept object column keeps its dtype in every partition (pandas may narrow it)
    want = expected.scores.astype({"client": object})
    lazy = asd.score_frame(ddf, "wai-sr", **options)
    pd.testing.assert_frame_equal(lazy.compute(), want)
    pd.testing.assert_series_equal(lazy._meta.dtypes, want.dtypes)
    result = asd.score_frame(ddf, "wai-sr", return_problems=True, **options)
    scores, problems = dask.compute(result.scores, result.problems)
    pd.testing.assert_frame_equal(scores, want)
    pd.testing.assert_series_equal(result.scores._meta.dtypes, want.dtypes)
    pd.testing.assert_frame_equal(
        problems.reset_index(drop=True), expected.problems, check_dtype=False
    )
    pd.testing.assert_series_equal(result.problems._meta.dtypes, problems.dtypes)
    assert sum(result.lengths) == len(df)
    assert len(result.lengths) == ddf.npartitions


def test_summary_adds_up_the_partitions() -> None:
    df = pd.DataFrame({f"wai_{i}": [4, 5, "x", None, 3] for i in range(1, 13)}, dtype=object)
    result = asd.score_frame(_partitioned(df, [0, 2, 1]), "wai-sr", return_problems=True)
    expected = score_frame(df, "wai-sr", return_problems=True).summary()
    summary = result.summary()
    assert summary["rows"] == 5
    assert summary["status"] == expected["status"]
    assert summary["problems"] == expected["problems"]


def test_meta_is_built_without_running_the_kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    df = pd.DataFrame({f"wai_{i}": [4, 5] for i in range(1, 13)})
    ddf = dd.from_pandas(df, npartitions=2)
    calls: list[int] = []
    monkeypatch.setattr(asd, "_score_pandas", lambda *a, **k: calls.append(1))
    lazy = asd.score_frame(ddf, "wai-sr", scales=["total"])
    assert list(lazy.columns) == [
        "total",
        "total_n_answered",
        "total_prorated",
        "n_answered",
        "n_problems",
        "status",
    ]
    assert calls == []  # nothing scored until computed


def test_options_are_checked_before_computing() -> None:
    ddf = dd.from_pandas(pd.DataFrame({"q": [1, 2]}), npartitions=1)
    with pytest.raises(ColumnMappingError):
        asd.score_frame(ddf, "wai-sr")
    good = dd.from_pandas(pd.DataFrame({f"wai_{i}": [4] for i in range(1, 13)}), npartitions=1)
    with pytest.raises(DataError, match="keep"):
        asd.score_frame(good, "wai-sr", keep=["absent"])
    with pytest.raises(ProvisionalScaleError):
        asd.score_frame(good, "wai-s", items="wai_{item}", scales=["bond"])
    with pytest.raises(ValueError, match="on_invalid"):
        asd.score_frame(good, "wai-sr", on_invalid="drop")  # type: ignore[call-overload]
    with pytest.raises(TypeError, match="Dask DataFrame"):
        asd.score_frame(pd.DataFrame(), "wai-sr")
    with pytest.raises(DataError, match="clash"):
        asd.scores_meta("wai-sr", keep={"total": np.dtype(np.float64)})


def _sessions(n_clients: int) -> pd.DataFrame:
    rng = np.random.default_rng(4)
    rows = [
        (f"c{c:03d}", s, f"t{c % 5}", rater, float(np.clip(rng.normal(4, 1), 1, 7)))
        for c in range(n_clients)
        for s in range(1, int(rng.integers(1, 9)))
        for rater in ("client", "therapist")
    ]
    df = pd.DataFrame(rows, columns=["client", "session", "therapist", "rater", "total"])
    df.loc[rng.random(len(df)) < 0.1, "total"] = np.nan
    return df.sample(frac=1.0, random_state=1).reset_index(drop=True)


@pytest.mark.parametrize("rater", [None, "rater"])
def test_client_summaries_after_a_shuffle_by_client(rater: str | None) -> None:
    df = _sessions(40)
    if rater is None:  # one rating per session
        df = df.loc[df["rater"] == "client"].drop(columns="rater").reset_index(drop=True)
    ddf = dd.from_pandas(df, npartitions=6)
    lazy = asd.summarize_clients(ddf, rater=rater, early="window")
    keys = ["client"] if rater is None else ["client", "rater"]
    got = lazy.compute().sort_values(keys, ignore_index=True)
    expected = summarize_clients(df, rater=rater, early="window")
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    assert dict(got.dtypes) == dict(lazy._meta.dtypes)
    with pytest.raises(DataError, match="score column"):
        asd.summarize_clients(ddf, score="absent")


def test_statistics_of_a_dask_frame_equal_the_pandas_ones() -> None:
    rng = np.random.default_rng(2)
    x = np.clip(np.rint(3 + rng.normal(size=(600, 1)) + rng.normal(size=(600, 12))), 1, 5)
    x[rng.random(x.shape) < 0.05] = np.nan
    df = pd.DataFrame(x, columns=[f"wai_{i}" for i in range(1, 13)])
    ddf = dd.from_pandas(df, npartitions=7)
    pd.testing.assert_frame_equal(
        asd.reliability(ddf, "wai-sr", missing="listwise"),
        reliability(df, "wai-sr", missing="listwise"),
        check_exact=False,
        rtol=0,
        atol=1e-9,
    )
    pd.testing.assert_frame_equal(
        asd.item_frequencies(ddf, "wai-sr"), item_frequencies(df, "wai-sr")
    )
    sessions = _sessions(50)
    pd.testing.assert_frame_equal(
        asd.nested_icc(dd.from_pandas(sessions, npartitions=5), rater="rater"),
        nested_icc(sessions, rater="rater"),
        check_exact=False,
        rtol=0,
        atol=1e-9,
    )
    with pytest.raises(ColumnMappingError):
        asd.reliability(dd.from_pandas(pd.DataFrame({"q": [1]}), npartitions=1), "wai-sr")


def test_decimal_commas_and_slider_values_as_in_pandas() -> None:
    """The Dask adapter takes every option of the pandas score_frame, including
    ``decimal=`` and ``any_resolution=``, and gives the same result."""
    from alliance_score import score_frame as pandas_score_frame

    df = pd.DataFrame(
        {
            "relationship": ["8,5", "7,25", "9"],
            "goals": ["9", "9", "9"],
            "approach": ["9", "9", "9"],
            "overall": ["9", "9", "9"],
        }
    )
    options: dict[str, Any] = {"decimal": ",", "any_resolution": True}
    expected = pandas_score_frame(df, "srs", **options)
    ddf = dd.from_pandas(df, npartitions=2)
    with dask.config.set(scheduler="synchronous"):
        got = asd.score_frame(ddf, "srs", **options).compute()
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    assert list(got["total"]) == [35.5, 34.25, 36.0]


def test_keep_given_as_one_name_is_one_column() -> None:
    df = pd.DataFrame({"client": ["a", "b"], **{f"wai_{i}": [4, 5] for i in range(1, 13)}})
    ddf = dd.from_pandas(df, npartitions=1)
    with dask.config.set(scheduler="synchronous"):
        got = asd.score_frame(ddf, "wai-sr", keep="client").compute()
    assert list(got["client"]) == ["a", "b"]
