"""Psychometrics against R's psych: expected values from tests/reference/psych_reliability.R.

The R script wrote the data sets and ``psych_expected.csv``; these tests only read them.
Tolerance is 1e-6 throughout. Omega agrees to about 5e-8: psych's minres stops its
optimiser at a looser criterion than our principal-axis iteration (1e-12).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import pytest

from alliance_score.psychometrics import (
    check_keying,
    item_analysis,
    item_frequencies,
    reliability,
)

REFERENCE = Path(__file__).parent / "reference"
TOL = 1e-6
DATASETS = {
    "wai_s": "wai-s",
    "wai_sr": "wai-sr",
    "srs": "srs",
    "constant": "wai-sr",
    "keys": "keys",
}
KEYS = {"agree": ["-A1", "A2", "A3", "A4", "A5"], "conscientious": ["C1", "C2", "C3", "-C4", "-C5"]}
Missing = Literal["pairwise", "listwise"]

SCALE_STATS = {
    "n": "n_rows",
    "n_items": "n_items",
    "alpha": "alpha",
    "alpha_std": "alpha_std",
    "average_r": "average_r",
    "lambda6": "lambda6",
    "feldt_lower": "alpha_ci_lower",
    "feldt_upper": "alpha_ci_upper",
    "omega_total": "omega_total",
    "scoreitems_alpha": "alpha",
}
ITEM_STATS = {
    "r_drop": "r_drop",
    "alpha_if_dropped": "alpha_if_dropped",
    "mean": "mean",
    "sd": "sd",
    "n": "n_answered",
}


@cache
def expected() -> pd.DataFrame:
    table = pd.read_csv(
        REFERENCE / "psych_expected.csv", dtype=str, keep_default_na=False, na_values=[]
    )
    return table.assign(value=table["value"].astype(float))


@cache
def raw(dataset: str) -> pd.DataFrame:
    return pd.read_csv(REFERENCE / f"psych_{dataset}.csv", dtype=str, keep_default_na=False)


@cache
def ours(dataset: str, missing: Missing, ci: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    if dataset == "keys":  # psych-style keys, no definition: psych::reverse.code(keys, x, 1, 6)
        options: dict[str, Any] = {"keys": KEYS, "min": 1, "max": 6}
    else:
        options = {"instrument": DATASETS[dataset], "allow_provisional": True}
    rel = reliability(raw(dataset), missing=missing, ci=ci, **options)
    items = item_analysis(raw(dataset), missing=missing, **options)
    return rel.set_index("scale"), items.set_index(["scale", "item"])


def _cases(kind: Literal["scale", "item"]) -> list[object]:
    table = expected()
    wanted = SCALE_STATS if kind == "scale" else ITEM_STATS
    rows = table[(table["missing"] != "") & table["statistic"].isin(wanted)]
    rows = rows[(rows["item"] == "") == (kind == "scale")]
    columns = ("dataset", "missing", "scale", "item", "statistic")
    keys = zip(*(rows[c].astype(str).tolist() for c in columns), strict=True)
    return [
        pytest.param(d, m, s, i, stat, value, id=f"{d}-{m}-{s}-{i or 'scale'}-{stat}")
        for (d, m, s, i, stat), value in zip(keys, rows["value"].tolist(), strict=True)
    ]


@pytest.mark.parametrize(
    ("dataset", "missing", "scale", "item", "statistic", "value"), _cases("scale")
)
def test_scale_statistics_match_psych(
    dataset: str, missing: Missing, scale: str, item: str, statistic: str, value: float
) -> None:
    rel, _ = ours(dataset, missing, 0.95)
    assert rel.loc[scale, SCALE_STATS[statistic]] == pytest.approx(value, abs=TOL)


@pytest.mark.parametrize(
    ("dataset", "missing", "scale", "item", "statistic", "value"), _cases("item")
)
def test_item_statistics_match_psych(
    dataset: str, missing: Missing, scale: str, item: str, statistic: str, value: float
) -> None:
    _, items = ours(dataset, missing, 0.95)
    assert items.loc[(scale, item), ITEM_STATS[statistic]] == pytest.approx(value, abs=TOL)


@pytest.mark.parametrize("dataset", sorted(DATASETS))
@pytest.mark.parametrize("missing", ["pairwise", "listwise"])
def test_feldt_interval_at_90_percent_matches_psych_alpha_ci(
    dataset: str, missing: Missing
) -> None:
    rel, _ = ours(dataset, missing, 0.90)
    table = expected()
    rows = table[(table["dataset"] == dataset) & (table["missing"] == missing)]
    for stat, column in (
        ("feldt_lower_90", "alpha_ci_lower"),
        ("feldt_upper_90", "alpha_ci_upper"),
    ):
        want = rows[rows["statistic"] == stat].set_index("scale")["value"]
        got = rel.loc[want.index, column]
        np.testing.assert_allclose(got.to_numpy(), want.to_numpy(), rtol=0, atol=TOL)


@pytest.mark.parametrize("dataset", sorted(DATASETS))
def test_scoreitems_average_r_is_the_alpha_implied_correlation(dataset: str) -> None:
    # psych::scoreItems reports av.r = alpha / (k - alpha (k - 1)), not the mean of the
    # correlations (which psych::alpha reports as average_r and we report too).
    rel, _ = ours(dataset, "pairwise", 0.95)
    table = expected()
    want = table[(table["dataset"] == dataset) & (table["statistic"] == "scoreitems_av_r")]
    want_by_scale = want.set_index("scale")["value"]
    alpha = rel.loc[want_by_scale.index, "alpha"].to_numpy(dtype=float)
    k = rel.loc[want_by_scale.index, "n_items"].to_numpy(dtype=float)
    implied = alpha / (k - alpha * (k - 1))
    np.testing.assert_allclose(implied, want_by_scale.to_numpy(), rtol=0, atol=TOL)


@pytest.mark.parametrize("dataset", ["wai_s", "wai_sr"])
def test_response_frequencies_match_psych(dataset: str) -> None:
    freq = item_frequencies(raw(dataset), DATASETS[dataset], allow_provisional=True)
    table = expected()
    want = table[(table["dataset"] == dataset) & table["statistic"].str.startswith("freq_")]
    assert len(want) > 0
    answers = freq[freq["kind"] == "answer"].set_index(["item", "value"])["proportion"]
    missing = freq[freq["kind"] == "missing"].set_index("item")["proportion"]
    for item, stat, value in zip(want["item"], want["statistic"], want["value"], strict=True):
        label = str(stat).removeprefix("freq_")
        if label == "miss":
            got = float(missing[str(item)])
        else:
            got = float(answers.get((str(item), float(label)), 0.0))
        assert got == pytest.approx(value, abs=TOL), (item, label)


def test_check_keying_with_keys_uses_psych_r_drop() -> None:
    checks = check_keying(raw("keys"), keys=KEYS, min=1, max=6)
    assert (checks["status"] == "pass").all()
    r_drop = checks[checks["check"] == "item_total"].set_index(["scale", "item"])["value"]
    table = expected()
    rows = table[(table["dataset"] == "keys") & (table["missing"] == "pairwise")]
    want = rows[rows["statistic"] == "r_drop"].set_index(["scale", "item"])["value"]
    np.testing.assert_allclose(r_drop.loc[want.index], want, rtol=0, atol=TOL)


def test_keys_without_min_and_max_take_the_range_of_the_data_as_psych_alpha() -> None:
    given = reliability(raw("keys"), keys=KEYS, min=1, max=6)
    observed = reliability(raw("keys"), keys=KEYS)
    pd.testing.assert_frame_equal(given, observed)  # the data use 1 to 6


def test_a_constant_item_is_dropped_as_psych_alpha_drops_it() -> None:
    rel, items = ours("constant", "pairwise", 0.95)
    assert rel.loc["bond", "dropped_items"] == "5"
    assert rel.loc["task", "dropped_items"] == ""
    assert items["r_drop"].loc[[("bond", "5")]].isna().all()


def test_reference_data_has_reverse_keyed_items_and_missing_values() -> None:
    data = raw("wai_s")
    assert (data.drop(columns="row") == "").to_numpy().sum() > 100
    # raw answers of the reverse-keyed items correlate negatively with the others
    x = data.drop(columns="row").replace("", np.nan).astype(float)
    assert x["wai_4"].corr(x["wai_6"]) < 0
