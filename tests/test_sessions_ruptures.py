"""Rupture-repair detection on trajectories whose episodes are known by hand."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alliance_score.sessions import EPISODE_COLUMNS, RUPTURE_METHODS, detect_ruptures

from .sessions_strategies import long_tables


def _long(**trajectories: Sequence[float]) -> pd.DataFrame:
    rows = [
        (client, s + 1, float(v))
        for client, values in trajectories.items()
        for s, v in enumerate(values)
    ]
    return pd.DataFrame(rows, columns=["client", "session", "total"])


V: list[float] = [5, 5, 5, 5, 5, 2, 5, 5, 5, 5]  # mean 4.7, SD 0.948683; session 6 is 2.85 SD below

# (trajectory, options, expected episodes as (rupture, trough, n_below, repair or None))
CASES = [
    pytest.param(V, {}, [(6, 6, 1, 7)], id="v-shape-repaired-next-session"),
    pytest.param([5] * 9 + [2], {}, [(10, 10, 1, None)], id="unrepaired-at-end"),
    pytest.param([5] * 10, {}, [], id="flat-no-variance"),
    pytest.param([2] + [5] * 9, {}, [], id="starts-low-no-fall"),
    pytest.param(
        [5, 5, 5, 5, 5, 5, 5, 1, 1, 5, 5, 5], {}, [(8, 8, 2, 10)], id="two-session-trough"
    ),
    pytest.param([5, 5, 5, 5, 2, 4, 4.5, 5, 5, 5, 5, 5], {}, [(5, 5, 1, 8)], id="slow-repair"),
    pytest.param(
        [5, 5, 5, 5, 2, 4, 4.5, 5, 5, 5, 5, 5],
        {"window": 2},
        [(5, 5, 1, None)],
        id="slow-repair-outside-window",
    ),
    pytest.param(
        [5, 5, 5, 5, 2, 4, 4.5, 5, 5, 5, 5, 5],
        {"window": 3},
        [(5, 5, 1, 8)],
        id="slow-repair-at-window-edge",
    ),
    pytest.param([5, 5, 4, 5, 5], {}, [], id="short-course-cannot-reach-2sd"),
    pytest.param([5, 5, 4, 5, 5], {"method": "strauss2006"}, [(3, 3, 1, 4)], id="1sd-short"),
    pytest.param(
        [6, 6, 3, 6, 6, 6, 6, 2, 6, 6, 6, 6],
        {"method": "strauss2006"},
        [(3, 3, 1, 4), (8, 8, 1, 9)],
        id="two-episodes",
    ),
    pytest.param(
        [5, 6, 5, 6, 2, 5.5, 6, 5, 6, 5, 6, 5],
        {"repair": "reference"},
        [(5, 5, 1, 6)],
        id="repair-to-reference-level",
    ),
    pytest.param(
        [5, 6, 5, 6, 2, 5.5, 6, 5, 6, 5, 6, 5],
        {},
        [(5, 5, 1, 7)],
        id="repair-to-pre-rupture-score",
    ),
]


@pytest.mark.parametrize(("trajectory", "options", "expected"), CASES)
def test_constructed_trajectories(
    trajectory: list[float],
    options: dict[str, object],
    expected: list[tuple[int, int, int, int | None]],
) -> None:
    episodes = detect_ruptures(_long(a=trajectory), **options)  # type: ignore[arg-type]
    got = [
        (
            int(row["rupture_session"]),
            int(row["trough_session"]),
            int(row["n_below"]),
            None if pd.isna(row["repair_session"]) else int(row["repair_session"]),
        )
        for row in episodes.to_dict("records")
    ]
    assert got == expected


def test_episode_columns_and_depth_by_hand() -> None:
    ep = detect_ruptures(_long(a=V))
    assert list(ep.columns) == ["client", *EPISODE_COLUMNS]
    row = ep.iloc[0]
    sd = math.sqrt(8.1 / 9)
    assert row["reference"] == pytest.approx(4.7)
    assert row["sd"] == pytest.approx(sd)
    assert row["depth"] == pytest.approx(2.7)
    assert row["depth_sd"] == pytest.approx(2.7 / sd)
    assert (row["pre_session"], row["pre_level"], bool(row["repaired"])) == (5, 5.0, True)


def test_sample_sd_uses_every_rating() -> None:
    data = _long(a=[5, 5, 4.5, 5, 5, 5], b=[1.0] * 6, c=[7.0] * 6)
    within = detect_ruptures(data, method="strauss2006")
    sample = detect_ruptures(data, method="strauss2006", sd_basis="sample")
    larger = detect_ruptures(data, method="strauss2006", sd_basis="larger")
    assert list(within["client"]) == ["a"]  # a's own SD is tiny, 4.5 is > 1 SD below
    assert sample.empty and larger.empty  # against the sample's SD it is a wobble


def test_order_and_clients_do_not_matter() -> None:
    data = _long(a=V, b=[5.0] * 9 + [2.0], c=[5.0] * 10)
    once = detect_ruptures(data)
    assert list(once["client"]) == ["a", "b"]
    pd.testing.assert_frame_equal(detect_ruptures(data.iloc[::-1]), once)
    pd.testing.assert_frame_equal(
        detect_ruptures(data[data["client"] == "a"]), once.iloc[:1].reset_index(drop=True)
    )


def test_median_reference() -> None:
    ep = detect_ruptures(_long(a=V), reference="median")
    assert ep.loc[0, "reference"] == 5.0 and ep.loc[0, "depth"] == 3.0


def test_named_methods() -> None:
    assert RUPTURE_METHODS["stiles2004"]["threshold"] == 2.0
    assert RUPTURE_METHODS["strauss2006"]["threshold"] == 1.0


@pytest.mark.parametrize(
    "options",
    [
        pytest.param({"method": "safran"}, id="unknown-method"),
        pytest.param({"threshold": 0.0}, id="zero-threshold"),
        pytest.param({"sd_basis": "pooled"}, id="bad-sd"),
        pytest.param({"reference": "mode"}, id="bad-reference"),
        pytest.param({"repair": "never"}, id="bad-repair"),
        pytest.param({"window": 0}, id="zero-window"),
        pytest.param({"window": 1.5}, id="fractional-window"),
    ],
)
def test_bad_parameters(options: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        detect_ruptures(_long(a=V), **options)  # type: ignore[arg-type]


@settings(max_examples=40, deadline=None)
@given(
    long_tables(min_sessions=3), st.floats(min_value=-20, max_value=20).map(lambda c: round(c, 1))
)
def test_episodes_ignore_row_order_and_level(data: pd.DataFrame, c: float) -> None:
    episodes = detect_ruptures(data, method="strauss2006")
    pd.testing.assert_frame_equal(detect_ruptures(data.iloc[::-1], method="strauss2006"), episodes)
    shifted = detect_ruptures(data.assign(total=data["total"] + c), method="strauss2006")
    pd.testing.assert_series_equal(shifted["rupture_session"], episodes["rupture_session"])
    np.testing.assert_allclose(shifted["depth"], episodes["depth"], atol=1e-9)


# -- the presets are an approximation; each choice is a parameter ---------------------------


def test_every_episode_names_its_rule_as_an_approximation() -> None:
    df = pd.DataFrame(
        {"client": ["a"] * 10, "session": range(1, 11), "total": [5.0] * 5 + [2.0] + [5.0] * 4}
    )
    (rule,) = detect_ruptures(df)["rule"]
    assert rule.startswith("stiles2004 (library approximation): 2 SD (within)")
    assert "incl. the session" in rule
    short = pd.DataFrame({"client": ["a"] * 5, "session": range(1, 6), "total": [5.0, 4, 5, 4, 1]})
    (rule,) = detect_ruptures(short, method="strauss2006", window=2, exclude_session=True)["rule"]
    assert "1 SD" in rule and "of the other sessions" in rule and "within 2 sessions" in rule


def test_leaving_the_session_out_of_its_reference_finds_short_drops() -> None:
    df = pd.DataFrame({"client": ["a"] * 5, "session": range(1, 6), "total": [5.0, 4, 5, 4, 1]})
    assert detect_ruptures(df).empty  # the drop pulls its own mean and SD down
    (episode,) = detect_ruptures(df, exclude_session=True).itertuples()
    assert episode.rupture_session == 5
    assert episode.reference == pytest.approx(4.5)
    assert episode.sd == pytest.approx(np.std([5, 4, 5, 4], ddof=1))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 7), min_size=3, max_size=9), st.sampled_from(["mean", "median"]))
def test_leave_one_out_reference_equals_the_brute_force(values: list[int], reference: str) -> None:
    from alliance_score.sessions.ruptures import _reference_and_sd

    y = pd.Series(np.array(values, dtype=float))
    ref, sd = _reference_and_sd(y.groupby(np.zeros(len(y))), reference, True)
    for i in range(len(y)):
        others = np.delete(y.to_numpy(), i)
        expected = np.mean(others) if reference == "mean" else np.median(others)
        assert ref.iloc[i] == pytest.approx(expected)
        assert sd.iloc[i] == pytest.approx(np.std(others, ddof=1), abs=1e-9)


def test_cli_exposes_each_rupture_choice(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from alliance_score.cli import main

    path = tmp_path / "scores.csv"
    pd.DataFrame({"client": ["a"] * 5, "session": range(1, 6), "total": [5.0, 4, 5, 4, 1]}).to_csv(
        path, index=False
    )
    out, episodes = tmp_path / "summary.csv", tmp_path / "ruptures.csv"
    argv = ["sessions", str(path), "--client", "client", "--session", "session", "-o", str(out)]
    assert main([*argv, "--ruptures", str(episodes)]) == 0
    assert pd.read_csv(episodes).empty
    extra = ["--rupture-exclude-session", "--rupture-sd", "within", "--rupture-window", "2"]
    assert main([*argv, "--ruptures", str(episodes), *extra]) == 0
    (rule,) = pd.read_csv(episodes)["rule"]
    assert "library approximation" in rule and "of the other sessions" in rule
    capsys.readouterr()
