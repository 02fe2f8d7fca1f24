"""Session statistics against R psych (values written by tests/reference/sessions.R).

CI does not run R: the script's data and expected values are committed next to it.
Tolerance 1e-6 (absolute) unless stated.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alliance_score import DataError
from alliance_score.sessions import (
    AGREEMENT_COLUMNS,
    NESTED_COLUMNS,
    intraclass_correlations,
    nested_icc,
    one_way_icc,
    pair_ratings,
    rater_agreement,
    response_surface_terms,
    summarize_clients,
    two_way_icc,
)

REF = Path(__file__).parent / "reference"
TOL = 1e-6


@pytest.fixture(scope="module")
def expected() -> dict[str, Any]:
    result: dict[str, Any] = json.loads((REF / "sessions_expected.json").read_text("utf-8"))
    return result


ICC_KEYS = tuple(c for c in AGREEMENT_COLUMNS if c.startswith("icc"))


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return pd.read_csv(REF / "sessions_data.csv")


def test_agreement_matches_psych_icc(data: pd.DataFrame, expected: dict[str, Any]) -> None:
    got = rater_agreement(data).iloc[0]
    assert list(got.index) == list(AGREEMENT_COLUMNS)
    want = expected["pairs"]
    assert got["n_pairs"] == want["n_pairs"]
    for key in ("mean_difference", "sd_difference", "r", *ICC_KEYS):
        assert got[key] == pytest.approx(want[key], abs=TOL), key


def test_two_way_icc_matches_shrout_fleiss(expected: dict[str, Any]) -> None:
    sf = pd.read_csv(REF / "sessions_sf.csv")
    got = two_way_icc(sf, ci=0.95)
    for key in ICC_KEYS:
        assert got[key] == pytest.approx(expected["shrout_fleiss"][key], abs=TOL), key
    # Published values (Shrout & Fleiss, 1979, Table 4): ICC(2,1) = .29, ICC(3,1) = .71
    assert (round(got["icc_a1"], 2), round(got["icc_c1"], 2)) == (0.29, 0.71)


@pytest.mark.parametrize("judges", [4, 3], ids=["four-judges", "three-judges"])
def test_every_icc_matches_psych_on_shrout_fleiss(judges: int, expected: dict[str, Any]) -> None:
    sf = pd.read_csv(REF / "sessions_sf.csv").iloc[:, :judges]
    got = intraclass_correlations(sf)
    want = pd.DataFrame(expected["shrout_fleiss_all"][f"judges{judges}"])
    assert got["type"].tolist() == want["type"].tolist()
    for key in ("icc", "f", "df1", "df2", "p", "lower", "upper"):
        np.testing.assert_allclose(got[key], want[key], rtol=0, atol=TOL, err_msg=key)
    # Published values (Shrout & Fleiss, 1979, Table 4) for four judges
    if judges == 4:
        assert got["icc"].round(2).tolist() == [0.17, 0.29, 0.71, 0.44, 0.62, 0.91]


def test_nested_icc_matches_statsby(data: pd.DataFrame, expected: dict[str, Any]) -> None:
    client_rows = data[data["rater"] == "client"]
    got = nested_icc(client_rows, therapist="therapist").set_index("level")
    assert list(got.reset_index().columns) == list(NESTED_COLUMNS)
    for level in ("client", "therapist"):
        want = expected["nested"][level]
        assert got.loc[level, "n_groups"] == want["n_groups"]
        assert got.loc[level, "n_obs"] == want["n_obs"]
        for key in ("icc1", "icc2", "f"):
            assert got.loc[level, key] == pytest.approx(want[key], abs=TOL), (level, key)


def test_nested_icc_per_rater(data: pd.DataFrame, expected: dict[str, Any]) -> None:
    got = nested_icc(data, rater="rater")
    assert list(got["rater"]) == ["client", "therapist"]
    assert got.loc[0, "icc1"] == pytest.approx(expected["nested"]["client"]["icc1"], abs=TOL)


def test_slopes_match_lm(data: pd.DataFrame, expected: dict[str, Any]) -> None:
    got = summarize_clients(data[data["rater"] == "client"]).set_index("client")
    want = pd.DataFrame(expected["slopes"]).set_index("client")
    assert len(want) > 20
    np.testing.assert_allclose(got.loc[want.index, "slope"], want["slope"], atol=TOL)
    np.testing.assert_allclose(got.loc[want.index, "slope_se"], want["slope_se"], atol=TOL)


@pytest.mark.parametrize(
    ("values", "groups", "group_size", "expected_icc1", "expected_icc2"),
    [
        # by hand: MSB = 10.8, MSW = 4/3, k = 2.5 (psych::statsBy gives the same)
        pytest.param([1, 2, 3, 4, 6], "aaabb", "mean", 0.7395833, 0.8765432, id="mean-k"),
        # n0 = (5 - 13/5) / 1 = 2.4
        pytest.param(
            [1, 2, 3, 4, 6],
            "aaabb",
            "n0",
            (10.8 - 4 / 3) / (10.8 + 1.4 * 4 / 3),
            0.8765432,
            id="n0-k",
        ),
        # balanced (MSB = 9, MSW = 2, k = 2): both conventions agree
        pytest.param([1, 3, 4, 6], "aabb", "n0", 7 / 11, 7 / 9, id="balanced-n0"),
        pytest.param([1, 3, 4, 6], "aabb", "mean", 7 / 11, 7 / 9, id="balanced-mean"),
    ],
)
def test_one_way_icc_by_hand(
    values: list[float], groups: str, group_size: str, expected_icc1: float, expected_icc2: float
) -> None:
    got = one_way_icc(
        pd.Series(values, dtype=float),
        pd.Series(list(groups)),
        group_size=group_size,  # type: ignore[arg-type]
    )
    assert got["icc1"] == pytest.approx(expected_icc1, abs=1e-6)
    assert got["icc2"] == pytest.approx(expected_icc2, abs=1e-6)


def test_one_way_icc_needs_two_groups() -> None:
    with pytest.raises(DataError, match="2 or more groups"):
        one_way_icc(pd.Series([1.0, 2.0]), pd.Series(["a", "a"]))


def test_therapist_level_needs_one_therapist_per_client() -> None:
    data = pd.DataFrame(
        {
            "client": list("aabb"),
            "session": [1, 2, 1, 2],
            "therapist": list("xyzz"),
            "total": [1.0, 2, 3, 4],
        }
    )
    with pytest.raises(DataError, match="one therapist"):
        nested_icc(data, therapist="therapist")


def test_pair_ratings_and_surface_terms(data: pd.DataFrame) -> None:
    pairs = pair_ratings(data)
    assert list(pairs.columns) == ["client", "session", "total_client", "total_therapist"]
    terms = response_surface_terms(data)
    pooled = np.concatenate([pairs["total_client"], pairs["total_therapist"]]).mean()
    np.testing.assert_allclose(terms["c"], pairs["total_client"] - pooled, rtol=0, atol=1e-9)
    np.testing.assert_allclose(terms["ct"], terms["c"] * terms["t"], rtol=0, atol=1e-9)
    assert terms["c"].mean() + terms["t"].mean() == pytest.approx(0.0, abs=1e-9)
    mid = response_surface_terms(data, centre=4.0)
    np.testing.assert_allclose(mid["t2"], (pairs["total_therapist"] - 4.0) ** 2)


def test_agreement_with_a_constant_offset() -> None:
    # therapist = client - 1: consistency is perfect, absolute agreement is not
    rows = pd.DataFrame(
        {
            "client": list("aabbccdd"),
            "session": [1] * 8,
            "rater": ["client", "therapist"] * 4,
            "total": [2.0, 1, 3, 2, 4, 3, 5, 4],
        }
    )
    got = rater_agreement(rows).iloc[0]
    assert got["icc_c1"] == pytest.approx(1.0)
    assert got["icc_a1"] == pytest.approx((10 / 3) / (10 / 3 + 1.0))
    assert got["mean_difference"] == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("call", "error"),
    [
        pytest.param(
            lambda d: pair_ratings(d, raters=("client", "client")),
            ValueError,
            id="same-rater-twice",
        ),
        pytest.param(lambda d: pair_ratings(pd.concat([d, d])), DataError, id="duplicates"),
        pytest.param(lambda d: two_way_icc([[1.0, 2.0]]), DataError, id="one-row"),
        pytest.param(lambda d: two_way_icc([1.0, 2.0]), DataError, id="one-dimensional"),
        pytest.param(
            lambda d: response_surface_terms(d, centre="rater"),  # type: ignore[arg-type]
            ValueError,
            id="bad-centre",
        ),
    ],
)
def test_agreement_errors(data: pd.DataFrame, call: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        call(data)


def test_agreement_without_pairs_is_nan() -> None:
    rows = pd.DataFrame({"client": ["a"], "session": [1], "rater": ["client"], "total": [4.0]})
    got = rater_agreement(rows).iloc[0]
    assert got["n_pairs"] == 0
    assert all(math.isnan(got[key]) for key in ICC_KEYS)


def test_agreement_without_intervals(data: pd.DataFrame) -> None:
    got = rater_agreement(data, ci=None).iloc[0]
    assert math.isnan(got["icc_a1_lower"]) and math.isnan(got["icc_c1_upper"])
    assert got["icc_a1"] == rater_agreement(data).iloc[0]["icc_a1"]
    with pytest.raises(ValueError, match="between 0 and 1"):
        two_way_icc([[1, 2], [2, 4], [3, 3]], ci=95)


def test_icc_intervals_need_scipy(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    from alliance_score.errors import MissingDependencyError

    real = importlib.import_module

    def no_scipy(name: str, *args: Any) -> Any:
        if name.startswith("scipy"):
            raise ImportError(name)
        return real(name, *args)

    monkeypatch.setattr(importlib, "import_module", no_scipy)
    with pytest.raises(MissingDependencyError, match=r"alliance-score\[stats\]"):
        two_way_icc([[1, 2], [2, 4], [3, 3]], ci=0.95)
    assert "icc_a1_lower" not in two_way_icc([[1, 2], [2, 4], [3, 3]], ci=None)
    # the tables give the estimates and say why the intervals are missing
    pairs = pd.DataFrame(
        {
            "client": ["a", "a", "b", "b", "c", "c"],
            "session": [1] * 6,
            "rater": ["client", "therapist"] * 3,
            "total": [1.0, 2.0, 2.0, 4.0, 3.0, 3.0],
        }
    )
    agreement = rater_agreement(pairs).iloc[0]
    assert np.isfinite(float(agreement["icc_a1"])) and np.isnan(float(agreement["icc_a1_lower"]))
    assert "need scipy" in str(agreement["note"])
    table = intraclass_correlations([[1, 2], [2, 4], [3, 3]])
    assert table["lower"].isna().all() and table["icc"].notna().all()
    assert table["note"].str.contains("need scipy").all()


@settings(max_examples=80, deadline=None)
@given(
    st.integers(min_value=3, max_value=30).flatmap(
        lambda n: st.lists(
            st.lists(st.integers(min_value=1, max_value=7), min_size=2, max_size=2),
            min_size=n,
            max_size=n,
        )
    ),
    st.sampled_from([0.8, 0.9, 0.95, 0.99]),
)
def test_icc_intervals_hold_the_estimate(rows: list[list[int]], level: float) -> None:
    res = two_way_icc(np.asarray(rows, dtype=float), ci=level)
    for name in ("icc_a1", "icc_c1"):
        lower, upper = res[f"{name}_lower"], res[f"{name}_upper"]
        if name == "icc_a1" and res[name] < 0:
            continue  # the approximate interval may miss a negative estimate (see below)
        if np.isfinite([res[name], lower, upper]).all():
            assert lower <= res[name] + 1e-9 and res[name] <= upper + 1e-9
            assert upper <= 1 + 1e-9
    wider = two_way_icc(np.asarray(rows, dtype=float), ci=0.999)
    if np.isfinite([wider["icc_c1_lower"], res["icc_c1_lower"]]).all():
        assert wider["icc_c1_lower"] <= res["icc_c1_lower"] + 1e-9


def test_icc_a1_interval_can_miss_a_negative_estimate() -> None:
    """Satterthwaite's approximation can put both bounds below a negative ICC(A,1);
    psych::ICC(x, alpha = 0.2) gives the same bounds."""
    res = two_way_icc([[1, 3], [1, 4], [2, 2]], ci=0.8)
    assert res["icc_a1"] == pytest.approx(-0.3)
    assert res["icc_a1_lower"] == pytest.approx(-0.3684210526, abs=TOL)
    assert res["icc_a1_upper"] == pytest.approx(-0.3542620414, abs=TOL)
    assert (res["icc_c1_lower"], res["icc_c1_upper"]) == pytest.approx((-0.96875, 0.125))


def test_icc_intervals_at_zero_error_are_the_limits() -> None:
    """Raters one point apart in every row: MS_E = 0. psych (Rscript, psych 2.2.9) on
    the same ratings with 1e-10 added to the first (psych needs MS_E > 0) gives ICC(A,1)
    in [0.00384247553787, 0.983092346023] and ICC(C,1) in [1, 1]; with 1e-6 added the
    bounds move by about 1e-8, so they converge on the limits."""
    exact = two_way_icc([[2, 1], [3, 2], [4, 3], [5, 4]], ci=0.95)
    assert exact["ms_error"] == 0
    assert exact["icc_c1_lower"] == exact["icc_c1_upper"] == 1.0
    assert exact["icc_a1_lower"] == pytest.approx(0.00384247553787, abs=1e-10)
    assert exact["icc_a1_upper"] == pytest.approx(0.983092346023, abs=1e-10)
    same = two_way_icc([[2, 2], [3, 3], [4, 4]], ci=0.95)
    assert [same[k] for k in ICC_KEYS] == [1.0] * 6


def test_two_way_icc_of_a_nullable_frame_drops_incomplete_rows() -> None:
    # The docstring's four rows (ICC(A,1) = (10/3) / (10/3 + 1) = 10/13) plus a row
    # with a missing rating, held in nullable columns as read_csv(dtype_backend=...) gives.
    frame = pd.DataFrame(
        {
            "client": pd.array([1, 2, 3, None, 4], dtype="Int64"),
            "therapist": pd.array([2.0, 3.0, 4.0, 6.0, 5.0], dtype="Float64"),
        }
    )
    res = two_way_icc(frame, ci=0.95)
    assert res["n"] == 4
    assert (res["icc_a1"], res["icc_c1"]) == pytest.approx((10 / 13, 1.0))
    plain = two_way_icc([[1, 2], [2, 3], [3, 4], [4, 5]], ci=0.95)
    assert [res[k] for k in ICC_KEYS] == pytest.approx([plain[k] for k in ICC_KEYS])
