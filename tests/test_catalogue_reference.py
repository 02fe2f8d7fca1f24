"""Provisional keys and weighted items agree with R's psych package.

``tests/reference/catalogue.R`` computes the expected values with ``psych::scoreItems``
(reverse-keyed item means, answered items only) and ``psych::scoreWtd`` (weighted sums)
from the committed item files; CI reads the committed results. Tolerance 1e-6.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from alliance_score import Instrument, load_instrument, score_frame

from .strategies import small_definition

REFERENCE = Path(__file__).parent / "reference"


def test_tps_matches_psych_score_items() -> None:
    items = pd.read_csv(REFERENCE / "catalogue_tps_items.csv", dtype=str, keep_default_na=False)
    expected = pd.read_csv(REFERENCE / "catalogue_tps_expected.csv")
    tps = load_instrument("tps")
    scores = score_frame(items, tps, items="i{item}", allow_provisional=True)
    np.testing.assert_array_equal(scores["total_n_answered"], expected["n_answered"])
    enough = expected["n_answered"] >= tps.scale("total").min_answered
    assert enough.any() and (~enough).any(), "the data must exercise both branches"
    for column in ("total", "total_0_100"):
        np.testing.assert_allclose(
            scores.loc[enough, column], expected.loc[enough, column], atol=1e-6
        )
        assert scores.loc[~enough, column].isna().all()


def test_weighted_items_match_psych_score_wtd() -> None:
    items = pd.read_csv(REFERENCE / "catalogue_weighted_items.csv")
    expected = pd.read_csv(REFERENCE / "catalogue_weighted_expected.csv")
    weights = {"1": 2.0, "2": 1.0, "3": 0.5, "4": 1.0}
    for method, column in (("sum", "weighted_sum"), ("mean", "weighted_mean")):
        ins = Instrument.model_validate(small_definition(method, weights))
        scores = score_frame(items, ins, items="w{item}")
        np.testing.assert_allclose(scores["total"], expected[column], atol=1e-6)
