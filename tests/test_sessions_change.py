"""Reliable change, clinical cut-offs and cut-off events."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from pandas.api.extensions import ExtensionDtype

from alliance_score import (
    Cutoff,
    DataError,
    Evidence,
    Instrument,
    Norm,
    ProvisionalScaleError,
    load_instrument,
)
from alliance_score.sessions import (
    EVENT_COLUMNS,
    RCI_COLUMNS,
    clinical_cutoffs,
    cutoff_events,
    reliable_change,
)

PAIRS = pd.DataFrame(
    {
        "client": ["a", "a", "a", "b", "b", "c", "d"],
        "session": [1, 3, 6, 1, 6, 2, 1],
        "total": [4.0, 4.4, 5.2, 5.0, 3.6, 4.0, float("nan")],
    }
)
S_DIFF = math.sqrt(2 * (0.8 * math.sqrt(1 - 0.84)) ** 2)  # 0.452548...


def _norm(
    population: str,
    mean: float | None,
    sd: float | None,
    *,
    retest_r: float | None = None,
    alpha: float | None = None,
) -> Norm:
    return Norm(
        scale="total",
        population=population,
        mean=mean,
        sd=sd,
        retest_r=retest_r,
        alpha=alpha,
        source="hatcher2006",
    )


def _with_norms(*norms: Norm) -> Instrument:
    """The shipped WAI-SR definition plus caller-made norms (validated again)."""
    base = load_instrument("wai-sr").model_dump()
    base["norms"] = [n.model_dump() for n in norms]
    return Instrument.model_validate(base)


def test_rci_by_hand() -> None:
    rc = reliable_change(PAIRS, sd=0.8, reliability=0.84).set_index("client")
    assert list(rc.columns) == list(RCI_COLUMNS)
    assert rc.loc["a", "se_difference"] == pytest.approx(0.45254834, abs=1e-8)
    assert rc.loc["a", "rci"] == pytest.approx(1.2 / S_DIFF, abs=1e-10)
    assert list(rc["change"].astype(object).fillna("NA")) == [
        "improved",
        "deteriorated",
        "no reliable change",  # one session: pre == post
        "NA",  # no rated session
    ]


@pytest.mark.parametrize(
    ("options", "expected_rci_a"),
    [
        pytest.param({"pre": 1, "post": 3}, 0.4 / S_DIFF, id="sessions-1-3"),
        pytest.param({"pre": 3}, 0.8 / S_DIFF, id="session-3-to-last"),
        pytest.param({"higher_is_better": False}, 1.2 / S_DIFF, id="lower-is-better"),
    ],
)
def test_rci_options(options: dict[str, object], expected_rci_a: float) -> None:
    rc = reliable_change(PAIRS, sd=0.8, reliability=0.84, **options).set_index("client")  # type: ignore[arg-type]
    assert rc.loc["a", "rci"] == pytest.approx(expected_rci_a)
    if options.get("higher_is_better") is False:
        assert rc.loc["a", "change"] == "deteriorated"


@pytest.mark.parametrize(
    ("source", "kind", "expected_r"),
    [
        pytest.param("norm", "retest", 0.84, id="norm-retest"),
        pytest.param("norm", "alpha", 0.91, id="norm-alpha"),
        pytest.param("instrument", "retest", 0.84, id="instrument-norm"),
    ],
)
def test_rci_from_norms(source: str, kind: str, expected_r: float) -> None:
    norm = _norm("outpatients", 4.5, 0.8, retest_r=0.84, alpha=0.91)
    where: dict[str, object] = (
        {"norm": norm} if source == "norm" else {"instrument": _with_norms(norm)}
    )
    rc = reliable_change(PAIRS, reliability_kind=kind, **where)  # type: ignore[arg-type]
    s_diff = math.sqrt(2) * 0.8 * math.sqrt(1 - expected_r)
    assert rc.loc[0, "rci"] == pytest.approx(1.2 / s_diff)


@pytest.mark.parametrize(
    "options",
    [
        pytest.param({}, id="nothing-given"),
        pytest.param({"sd": 0.8}, id="no-reliability"),
        pytest.param({"sd": -1.0, "reliability": 0.8}, id="negative-sd"),
        pytest.param({"sd": 1.0, "reliability": 1.0}, id="reliability-1"),
        pytest.param({"instrument": "wai-sr"}, id="instrument-without-norms"),
        pytest.param(
            {
                "sd": 1.0,
                "reliability": 0.8,
                "functional": None,
                "dysfunctional": Norm(scale="total", population="x", mean=1, sd=1, source="s"),
            },
            id="one-population-only",
        ),
    ],
)
def test_rci_errors(options: dict[str, object]) -> None:
    with pytest.raises(DataError):
        reliable_change(PAIRS, **options)  # type: ignore[arg-type]


def test_instrument_with_two_populations_needs_population() -> None:
    ins = _with_norms(
        _norm("clinic", 4.0, 1.0, retest_r=0.8), _norm("community", 4.6, 0.5, retest_r=0.9)
    )
    with pytest.raises(DataError, match="exactly one norm"):
        reliable_change(PAIRS, instrument=ins)
    rc = reliable_change(PAIRS, instrument=ins, population="community")
    assert rc.loc[0, "se_difference"] == pytest.approx(math.sqrt(2) * 0.5 * math.sqrt(0.1))


@pytest.mark.parametrize(
    ("higher_is_better", "expected"),
    [
        pytest.param(True, {"a": 6.0, "b": 5.0, "c": 16 / 3}, id="higher-better"),
        pytest.param(False, {"a": 2.0, "b": 7.0, "c": 16 / 3}, id="lower-better"),
    ],
)
def test_clinical_cutoffs_by_hand(higher_is_better: bool, expected: dict[str, float]) -> None:
    got = clinical_cutoffs(
        _norm("clinic", 4.0, 1.0), _norm("community", 6.0, 0.5), higher_is_better=higher_is_better
    )
    assert got == pytest.approx(expected)


def test_clinical_cutoff_needs_mean_and_sd() -> None:
    with pytest.raises(DataError, match="positive sd"):
        clinical_cutoffs(_norm("clinic", 4.0, None), _norm("community", 6.0, 0.5))


def test_recovered_uses_cutoff_and_reliable_improvement() -> None:
    rc = reliable_change(
        PAIRS,
        sd=0.8,
        reliability=0.84,
        dysfunctional=_norm("clinic", 4.0, 1.0),
        functional=_norm("community", 6.0, 0.5),
        clinical_cutoff="b",
    ).set_index("client")
    assert rc.loc["a", "cutoff"] == 5.0
    assert bool(rc.loc["a", "past_cutoff"]) and bool(rc.loc["a", "recovered"])
    assert not bool(rc.loc["b", "recovered"])
    assert rc["past_cutoff"].isna().tolist() == [False, False, False, True]


SRS = pd.DataFrame(
    {
        "client": ["a"] * 5 + ["b"] * 3,
        "session": [1, 2, 3, 4, 5, 1, 2, 3],
        "total": [38.0, 35.0, 39.0, 30.0, 36.0, 30.0, 37.0, 31.0],
        "relationship": [9.5, 8.0, 9.8, 7.0, 9.0, 8.0, 9.5, 9.0],
        "goals": [9.5, 9.1, 9.8, 7.5, 9.0, 7.0, 9.0, 7.0],
    }
)


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        pytest.param(
            {"cutoff": 36.0},
            [
                ("a", 2, "cutoff", 2),
                ("a", 4, "cutoff", 2),
                ("b", 1, "cutoff", 1),
                ("b", 3, "cutoff", 1),
            ],
            id="below-36",
        ),
        pytest.param(
            {"cutoff": 36.0, "comparison": "<="},
            [
                ("a", 2, "cutoff", 2),
                ("a", 4, "cutoff", 2),
                ("a", 5, "cutoff", 2),
                ("b", 1, "cutoff", 1),
                ("b", 3, "cutoff", 1),
            ],
            id="at-or-below-36",
        ),
        pytest.param(
            {"drop": 5.0},
            [("a", 4, "drop", 4), ("b", 3, "drop", 3)],
            id="drop-from-previous",
        ),
        pytest.param(
            {"drop": 5.0, "drop_from": "running_mean"},
            [("a", 4, "drop", 4)],
            id="drop-from-running-mean",
        ),
        pytest.param(
            {"item_columns": ["relationship", "goals"], "item_below": 8.0},
            [
                ("a", 4, "item_low", 4),
                ("a", 4, "item_low", 4),
                ("b", 1, "item_low", 1),
                ("b", 3, "item_low", 1),
            ],
            id="items-below-8",
        ),
    ],
)
def test_cutoff_events(
    options: dict[str, object], expected: list[tuple[str, int, str, int]]
) -> None:
    events = cutoff_events(SRS, **options)  # type: ignore[arg-type]
    assert list(events.columns) == ["client", *EVENT_COLUMNS]
    got = list(
        zip(
            events["client"],
            events["session"],
            events["event"],
            events["first_session"],
            strict=True,
        )
    )
    assert got == expected


def test_cutoff_events_references() -> None:
    ev = cutoff_events(SRS, drop=5.0, drop_from="running_mean")
    # session 4 of client a: mean of 38, 35, 39 = 37.333..., drop 7.333 >= 5
    assert ev.loc[0, "reference"] == pytest.approx(112 / 3)
    items = cutoff_events(SRS, item_columns=["relationship", "goals"], item_below=8.0)
    assert list(items.loc[items["session"] == 4, "column"]) == ["goals", "relationship"]


def test_cutoff_events_with_instrument_cutoff() -> None:
    cut: Cutoff = load_instrument("srs").cutoffs[0]
    assert (cut.comparison, cut.value) == ("<", 36)
    # the SRS cut-off is provisional: it needs the same opt-in as in score_frame
    assert cut.status == "provisional"
    with pytest.raises(ProvisionalScaleError, match="allow_provisional"):
        cutoff_events(SRS, cutoff=cut)
    by_object = cutoff_events(SRS, cutoff=cut, allow_provisional=True)
    by_value = cutoff_events(SRS, cutoff=36.0, comparison="<")
    pd.testing.assert_frame_equal(by_object, by_value)


@pytest.mark.parametrize(
    "dtype",
    [pd.Int64Dtype(), pd.Float64Dtype(), pd.StringDtype()],
    ids=["Int64", "Float64", "string"],
)
def test_cutoff_events_items_with_nullable_dtypes(dtype: ExtensionDtype) -> None:
    # A missing item is not low; only client b's 7 (< 8) at session 1 fires.
    goals = pd.Series([9, 9, None, 9, 9, 7, None, 8], dtype="Int64").astype(dtype)
    srs = SRS.assign(goals=goals)
    events = cutoff_events(srs, item_columns=["goals"], item_below=8.0)
    assert list(zip(events["client"], events["session"], events["value"], strict=True)) == [
        ("b", 1, 7.0)
    ]
    assert events["value"].dtype == "float64"


def test_cutoff_events_empty_table_has_columns() -> None:
    events = cutoff_events(SRS, cutoff=10.0)
    assert events.empty and list(events.columns) == ["client", *EVENT_COLUMNS]


@pytest.mark.parametrize(
    "options",
    [
        pytest.param({}, id="nothing-to-flag"),
        pytest.param({"item_columns": ["goals"]}, id="items-without-threshold"),
        pytest.param({"drop": -1.0}, id="negative-drop"),
        pytest.param({"cutoff": 36.0, "comparison": "=="}, id="bad-comparison"),
        pytest.param({"drop": 1.0, "drop_from": "baseline"}, id="bad-reference"),
    ],
)
def test_cutoff_events_errors(options: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        cutoff_events(SRS, **options)  # type: ignore[arg-type]


def test_evidence_model_is_importable() -> None:
    # Guard for the test helper above: norms cite a source key the WAI-SR lists.
    assert Evidence(level="P").verified
    assert "hatcher2006" in {s.key for s in load_instrument("wai-sr").sources}


@pytest.mark.parametrize("criterion", [0.0, -1.96, float("nan"), float("inf")])
def test_reliable_change_criterion_must_be_positive(criterion: float) -> None:
    from alliance_score.sessions import reliable_change

    frame = pd.DataFrame({"client": ["a", "a"], "session": [1, 2], "total": [3.0, 4.0]})
    with pytest.raises(ValueError, match="criterion must be a positive number"):
        reliable_change(frame, sd=0.6, reliability=0.8, criterion=criterion)
