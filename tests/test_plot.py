"""The plots draw the data they are given: lines equal the scores, gaps where a session was
not scored, the cut-off at its value (named provisional when it is); each figure matches a
committed baseline image."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.axes import Axes
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

import alliance_score as als
from alliance_score import Cutoff, DataError, Evidence, MissingDependencyError
from alliance_score.plot import agreement, early_alliance, items, subscales, trajectory
from alliance_score.sessions import detect_ruptures, pair_ratings
from alliance_score.sessions import early_alliance as early_table

from .plot_support import matches_baseline, stable_style

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = settings(max_examples=25, deadline=None)


@pytest.fixture(autouse=True)
def _style() -> Iterator[None]:
    with stable_style():
        yield


def _ax() -> Axes:
    ax: Axes = Figure(figsize=(6.4, 3.2), layout="constrained").subplots()
    return ax


def _by_gid(ax: Axes, gid: str) -> list[Line2D]:
    return [line for line in ax.get_lines() if line.get_gid() == gid]


def _xs(line: Line2D) -> list[float]:
    values: list[float] = np.asarray(line.get_xdata(), dtype=float).tolist()
    return values


def _ys(line: Line2D) -> list[float]:
    values: list[float] = np.asarray(line.get_ydata(), dtype=float).tolist()
    return values


def srs_scores() -> pd.DataFrame:
    export = pd.read_csv(ROOT / "examples" / "srs-sessions.csv", dtype=str, keep_default_na=False)
    scores = als.score_frame(export, "srs", keep=["client", "session"], allow_provisional=True)
    scores["session"] = pd.to_numeric(scores["session"])
    return scores


def wai_scores() -> pd.DataFrame:
    export = pd.read_csv(ROOT / "examples" / "wai-sr-clinic.csv", dtype=str, keep_default_na=False)
    scores = als.score_frame(export, "wai-sr", keep=["client", "session"])
    scores["session"] = pd.to_numeric(scores["session"])
    return scores


# -- trajectory -------------------------------------------------------------------------
def test_trajectory_draws_the_scores_with_gaps_and_the_status_of_unscored_sessions() -> None:
    scores = srs_scores()
    ax = trajectory(scores, client_id="<img src=x onerror=alert(1)>", ax=_ax())
    (line,) = _by_gid(ax, "scores")
    assert _xs(line) == [1.0, 2.0, 3.0]
    y = np.asarray(_ys(line))
    np.testing.assert_array_equal(y, [37.0, np.nan, 36.0])  # a gap, never a zero
    labels = [t.get_text() for t in ax.texts if t.get_gid() == "unscored"]
    assert labels == ["invalid"]


def test_trajectory_marks_prorated_sessions() -> None:
    ax = trajectory(srs_scores(), client_id="C05", ax=_ax())
    (prorated,) = _by_gid(ax, "prorated")
    assert _xs(prorated) == [4.0]
    assert _ys(prorated) == [30.0]
    assert prorated.get_markerfacecolor() == "white"


def test_trajectory_draws_a_provisional_cutoff_marked_provisional() -> None:
    ax = trajectory(srs_scores(), client_id="C02", ax=_ax())  # instrument from attrs
    (cut,) = _by_gid(ax, "cutoff")
    assert _ys(cut) == [36.0, 36.0]
    assert cut.get_label() == "cut-off < 36 (provisional)"
    assert cut.get_linestyle() == ":"
    legend = ax.get_legend()
    assert legend is not None
    assert "cut-off < 36 (provisional)" in [t.get_text() for t in legend.get_texts()]


def test_trajectory_draws_a_verified_cutoff_without_the_provisional_mark() -> None:
    verified = Cutoff(
        scale="total",
        comparison="<",
        value=34,
        flag="low",
        meaning="local rule",
        status="verified",
        evidence=Evidence(level="P"),
    )
    ax = trajectory(srs_scores(), client_id="C02", cutoff=verified, ax=_ax())
    (cut,) = _by_gid(ax, "cutoff")
    assert _ys(cut) == [34.0, 34.0]
    assert cut.get_label() == "cut-off < 34"
    assert cut.get_linestyle() == "--"


@pytest.mark.parametrize(
    ("cutoff", "expected"), [(30.5, [30.5, 30.5]), (False, None)], ids=["own-value", "none"]
)
def test_trajectory_cutoff_option(cutoff: float | bool, expected: list[float] | None) -> None:
    ax = trajectory(srs_scores(), client_id="C02", cutoff=cutoff, ax=_ax())
    found = _by_gid(ax, "cutoff")
    assert [_ys(c) for c in found] == ([expected] if expected else [])


def test_trajectory_without_an_instrument_has_no_cutoff_and_automatic_limits() -> None:
    df = pd.DataFrame({"client": "a", "session": [1, 2], "total": [3.0, 4.0]})
    ax = trajectory(df, ax=_ax())
    assert _by_gid(ax, "cutoff") == []
    assert ax.get_ylabel() == "total"


def test_trajectory_of_a_column_named_with_an_underscore_keeps_its_legend() -> None:
    df = pd.DataFrame({"client": "a", "session": [1, 2], "_x": [3.0, 4.0]})
    ax = trajectory(df, scale="_x", ax=_ax())  # matplotlib would warn: no labelled artist
    legend = ax.get_legend()
    assert legend is not None and [t.get_text() for t in legend.get_texts()] == ["x"]


def test_trajectory_uses_the_scale_range_and_name_of_the_instrument() -> None:
    ax = trajectory(wai_scores(), client_id="C001", scale="bond", ax=_ax())
    assert ax.get_ylabel() == "Bond"
    lo, hi = ax.get_ylim()
    assert lo < 1 < 5 < hi


def test_trajectory_shades_rupture_episodes() -> None:
    scores = srs_scores()
    ax = trajectory(scores, client_id="C03", ruptures=True, ax=_ax())
    spans = [p for p in ax.patches if p.get_gid() == "rupture"]
    assert len(spans) == 1
    x0, x1 = spans[0].get_x(), spans[0].get_x() + spans[0].get_width()  # type: ignore[attr-defined]
    assert (x0, x1) == pytest.approx((6.6, 8.4))  # open: up to the last session
    episodes = detect_ruptures(scores.dropna(subset=["total"]))
    ax2 = trajectory(scores, client_id="C01", ruptures=episodes, ax=_ax())
    assert [p for p in ax2.patches if p.get_gid() == "rupture"] == []  # another client's


@SETTINGS
@given(
    values=st.lists(
        st.one_of(st.none(), st.floats(0, 40, allow_nan=False).map(lambda v: round(v, 1))),
        min_size=1,
        max_size=12,
    ),
    order=st.randoms(use_true_random=False),
)
def test_trajectory_line_is_the_scores_in_session_order(
    values: list[float | None], order: object
) -> None:
    sessions = list(range(1, len(values) + 1))
    df = pd.DataFrame({"client": "x", "session": sessions, "total": values}, dtype=object)
    df["total"] = pd.to_numeric(df["total"])
    shuffled = df.sample(frac=1.0, random_state=order.randint(0, 10**6))  # type: ignore[attr-defined]
    fig = Figure()
    (line,) = _by_gid(trajectory(shuffled, instrument="srs", ax=fig.subplots()), "scores")
    expected = np.array([np.nan if v is None else v for v in values], dtype=float)
    np.testing.assert_array_equal(np.asarray(_ys(line)), expected)
    assert _xs(line) == sessions


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({}, "5 clients"),
        ({"client_id": "nobody"}, "No rows"),
        ({"client_id": "C01", "scale": "nope"}, "scale column 'nope'"),
        ({"client_id": "C01", "cutoff": float("inf")}, "finite"),
    ],
    ids=["several-clients", "unknown-client", "unknown-scale", "infinite-cutoff"],
)
def test_trajectory_refuses_bad_arguments(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(DataError, match=match):
        trajectory(srs_scores(), ax=_ax(), **kwargs)  # type: ignore[arg-type]


def test_trajectory_refuses_text_scores() -> None:
    df = pd.DataFrame({"client": "a", "session": [1, 2], "total": ["3", "high"]})
    with pytest.raises(DataError, match="must hold numbers"):
        trajectory(df, ax=_ax())
    with pytest.raises(TypeError, match="DataFrame"):
        trajectory([1, 2], ax=_ax())  # type: ignore[arg-type]


def test_trajectory_reads_a_scores_file_as_text() -> None:
    df = pd.DataFrame(
        {
            "client": "a",
            "session": ["1", "2", "3"],
            "total": ["38", "", "36.5"],
            "total_prorated": ["false", "", "true"],
            "status": ["complete", "invalid", "prorated"],
        }
    )
    ax = trajectory(df, ax=_ax())
    y = np.asarray(_ys(_by_gid(ax, "scores")[0]))
    np.testing.assert_array_equal(y, [38.0, np.nan, 36.5])
    assert _xs(_by_gid(ax, "prorated")[0]) == [3.0]


def test_trajectory_without_ax_draws_on_the_current_axes() -> None:
    import matplotlib.pyplot as plt

    fig = plt.figure()
    try:
        ax = trajectory(pd.DataFrame({"client": "a", "session": [1], "total": [3.0]}))
        assert ax is plt.gca()
    finally:
        plt.close(fig)


def test_a_missing_matplotlib_gives_the_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    df = pd.DataFrame({"client": "a", "session": [1], "total": [3.0]})
    with pytest.raises(MissingDependencyError, match=r"alliance-score\[plot\]"):
        trajectory(df)
    with pytest.raises(MissingDependencyError, match=r"alliance-score\[plot\]"):
        subscales(df, scales=["total"])


def test_importing_the_plot_and_report_modules_imports_no_optional_dependency() -> None:
    code = (
        "import sys, alliance_score.plot, alliance_score.report, alliance_score.cli.report; "
        "print(sorted(m for m in ('matplotlib', 'jinja2') if m in sys.modules))"
    )
    out = subprocess.run(  # noqa: S603 - this interpreter, fixed code
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip() == "[]"


# -- subscales --------------------------------------------------------------------------
def test_subscales_one_client_draws_each_scale() -> None:
    scores = wai_scores()
    fig = subscales(scores, client_id="C001")
    assert [ax.get_title() for ax in fig.axes] == ["Task", "Bond", "Goal"]
    rows = scores.loc[scores["client"] == "C001"].sort_values("session")
    for ax, scale in zip(fig.axes, ["task", "bond", "goal"], strict=True):
        (line,) = _by_gid(ax, "scores")
        np.testing.assert_array_equal(np.asarray(_ys(line)), rows[scale].to_numpy(dtype=float))


def test_subscales_group_mean_with_a_normal_interval() -> None:
    df = pd.DataFrame(
        {"client": ["a", "b", "c", "a"], "session": [1, 1, 1, 2], "task": [3.0, 4.0, 5.0, 2.0]}
    )
    fig = subscales(df, scales=["task"], interval=0.95)
    ax = fig.axes[0]
    (mean,) = _by_gid(ax, "mean")
    assert _ys(mean) == [4.0, 2.0]
    band = next(c for c in ax.collections if isinstance(c, PolyCollection))
    ys = np.asarray(band.get_paths()[0].vertices, dtype=float)[:, 1]
    half = 1.959964 * 1.0 / np.sqrt(3)  # SD 1 of 3, 4, 5
    assert ys.min() == pytest.approx(4.0 - half, abs=1e-5)
    assert ys.max() == pytest.approx(4.0 + half, abs=1e-5)


def test_subscales_refuses_bad_arguments() -> None:
    df = pd.DataFrame({"client": ["a"], "session": [1], "task": [3.0]})
    with pytest.raises(DataError, match="Name the scales"):
        subscales(df)
    with pytest.raises(DataError, match="one Axes per scale"):
        subscales(df, scales=["task"], ax=[_ax(), _ax()])
    with pytest.raises(DataError, match="interval"):
        subscales(df, scales=["task"], interval=1.5)
    with pytest.raises(DataError, match="none of the instrument's subscales"):
        subscales(df.rename(columns={"task": "x"}), instrument="wai-sr")


# -- agreement --------------------------------------------------------------------------
def _pairs() -> pd.DataFrame:
    long = pd.DataFrame(
        {
            "client": ["a", "a", "b", "b", "c", "c", "d", "d"],
            "session": [1] * 8,
            "rater": ["client", "therapist"] * 4,
            "total": [5.0, 4.0, 6.0, 6.5, 4.0, 5.0, 3.0, 3.5],
        }
    )
    return pair_ratings(long)


def test_agreement_draws_pairs_identity_bias_and_limits() -> None:
    pairs = _pairs()
    fig = agreement(pairs)
    left, right = fig.axes
    (points,) = _by_gid(left, "pairs")
    assert _xs(points) == [5.0, 6.0, 4.0, 3.0]
    assert _ys(points) == [4.0, 6.5, 5.0, 3.5]
    (identity,) = _by_gid(left, "identity")
    assert _xs(identity) == _ys(identity) == [3.0, 6.5]
    diff = np.array([-1.0, 0.5, 1.0, 0.5])
    (bias,) = _by_gid(right, "bias")
    assert _ys(bias) == [pytest.approx(diff.mean())] * 2
    limits = sorted(_ys(line)[0] for line in _by_gid(right, "limits"))
    sd = diff.std(ddof=1)
    assert limits == pytest.approx([diff.mean() - 1.96 * sd, diff.mean() + 1.96 * sd])


def test_agreement_names_its_columns_and_refuses_one_column() -> None:
    fig = agreement(_pairs(), x="total_therapist", y="total_client")
    assert fig.axes[0].get_xlabel() == "total_therapist"
    with pytest.raises(DataError, match="two score columns"):
        agreement(pd.DataFrame({"a": [1.0]}))
    with pytest.raises(TypeError):
        agreement([1, 2])  # type: ignore[arg-type]


# -- early alliance and items -----------------------------------------------------------
def test_early_alliance_histogram_counts_every_rated_client() -> None:
    summary = early_table(wai_scores(), early="window", early_session=2)
    ax = early_alliance(summary, ax=_ax())
    bars = [p for p in ax.patches if isinstance(p, Rectangle) and p.get_gid() == "early"]
    assert sum(b.get_height() for b in bars) == summary["early"].notna().sum()
    assert "mean of sessions 1-2" in ax.get_title()
    (median,) = _by_gid(ax, "median")
    assert _xs(median)[0] == pytest.approx(summary["early"].median())


def test_items_draws_shares_of_valid_answers_diverging_at_the_midpoint() -> None:
    export = pd.read_csv(ROOT / "examples" / "wai-sr-clinic.csv", dtype=str, keep_default_na=False)
    report = als.psychometric_report(export, "wai-sr")
    ax = items(report, ax=_ax())
    freq = report.frequencies
    answers = freq.loc[(freq["item"] == "1") & (freq["kind"] == "answer")]
    share = dict(zip(answers["value"], answers["proportion"], strict=True))
    bars = {
        str(p.get_gid()): p
        for p in ax.patches
        if isinstance(p, Rectangle) and str(p.get_gid()).startswith("1=")
    }
    for value in range(1, 6):
        assert bars[f"1={value}"].get_width() == pytest.approx(share.get(float(value), 0.0))
    # the midpoint answer (3) straddles zero: half of it on each side
    mid = bars["1=3"]
    assert mid.get_x() == pytest.approx(
        -(share.get(1.0, 0) + share.get(2.0, 0) + share.get(3.0, 0) / 2)
    )


def test_items_refuses_a_vas_instrument_and_a_table_without_instrument() -> None:
    freq = als.item_frequencies(
        pd.DataFrame({i: ["5"] for i in ("relationship", "goals", "approach", "overall")}), "srs"
    )
    with pytest.raises(DataError, match="Likert"):
        items(freq, instrument="srs", ax=_ax())
    with pytest.raises(DataError, match="instrument="):
        items(freq, ax=_ax())


# -- baselines ----------------------------------------------------------------------------
def _figure_trajectory() -> Figure:
    fig = Figure(figsize=(6.4, 3.2), layout="constrained")
    trajectory(srs_scores(), client_id="C03", ruptures=True, ax=fig.subplots())
    return fig


def _figure_gaps() -> Figure:
    fig = Figure(figsize=(6.4, 3.2), layout="constrained")
    trajectory(srs_scores(), client_id="<img src=x onerror=alert(1)>", ax=fig.subplots())
    return fig


def _figure_subscales() -> Figure:
    return subscales(wai_scores())


def _figure_agreement() -> Figure:
    return agreement(_pairs())


def _figure_early() -> Figure:
    fig = Figure(figsize=(5.0, 3.2), layout="constrained")
    early_alliance(early_table(wai_scores(), early="window", early_session=2), ax=fig.subplots())
    return fig


def _figure_items() -> Figure:
    export = pd.read_csv(ROOT / "examples" / "wai-sr-clinic.csv", dtype=str, keep_default_na=False)
    fig = Figure(figsize=(7.0, 5.0), layout="constrained")
    items(als.psychometric_report(export, "wai-sr"), ax=fig.subplots())
    return fig


FIGURES = {
    "plot_trajectory": _figure_trajectory,
    "plot_trajectory_gaps": _figure_gaps,
    "plot_subscales": _figure_subscales,
    "plot_agreement": _figure_agreement,
    "plot_early_alliance": _figure_early,
    "plot_items": _figure_items,
}


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_figure_matches_its_baseline(name: str, tmp_path: Path) -> None:
    assert matches_baseline(FIGURES[name](), name, tmp_path) is None
