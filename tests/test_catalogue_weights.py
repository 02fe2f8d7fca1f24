"""Weighted items: validation, hand-computed values, and invariants of the weighted mean."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from alliance_score import Instrument, InstrumentDefinitionError, parse_instrument, score_response
from alliance_score.scoring import score_matrix

from .strategies import small_definition


def _toml(weights: str) -> str:
    return f"""
id = "w"
version = "1"
name = "W"
short_name = "W"
rater = "client"
language = "en"
[[sources]]
key = "m"
kind = "primary"
citation = "Manual."
supports = "all"
[licence]
status = "user-supplied"
[response]
kind = "likert"
min = 1
max = 5
evidence = {{ level = "P", sources = ["m"] }}
[reversed_evidence]
level = "P"
[[items]]
id = "1"
label = "One"
[[items]]
id = "2"
label = "Two"
[[scales]]
id = "total"
name = "Total"
items = ["1", "2"]
method = "mean"
min_answered = 1
status = "verified"
items_evidence = {{ level = "P" }}
formula_evidence = {{ level = "P" }}
weights = {weights}
"""


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        pytest.param(
            '{ "3" = 2.0 }', "names items that are not in the scale (got ['3'])", id="unknown"
        ),
        pytest.param('{ "1" = 0.0 }', "greater than 0", id="zero"),
        pytest.param('{ "1" = -1.5 }', "greater than 0", id="negative"),
        pytest.param('{ "1" = inf }', "finite number", id="infinite"),
        pytest.param('{ "1" = nan }', "finite number", id="nan"),
        pytest.param('{ "1" = 1e308 }', "less than or equal to 1000", id="huge"),
        pytest.param('{ "1" = true }', "valid number", id="boolean"),
        pytest.param('{ "1" = "two" }', "valid number", id="text"),
    ],
)
def test_bad_weights_are_refused_with_the_scale_path(weights: str, message: str) -> None:
    with pytest.raises(InstrumentDefinitionError) as info:
        parse_instrument(_toml(weights), source="w.toml")
    assert "w.toml" in str(info.value)
    assert "scales[0](total)" in str(info.value)
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("method", "answers", "expected"),
    [
        # (2 x 5 + 3 + 0.5 x 1 + 4) / (2 + 1 + 0.5 + 1) = 17.5 / 4.5
        pytest.param("mean", [5, 3, 1, 4], 17.5 / 4.5, id="mean-complete"),
        # item 1 missing: (3 + 0.5 + 4) / (1 + 0.5 + 1) = 7.5 / 2.5
        pytest.param("mean", [None, 3, 1, 4], 3.0, id="mean-heavy-item-missing"),
        pytest.param("sum", [5, 3, 1, 4], 17.5, id="sum-complete"),
        # item 4 missing: (10 + 3 + 0.5) / 3.5 x 4.5
        pytest.param("sum", [5, 3, 1, None], 13.5 / 3.5 * 4.5, id="sum-prorated"),
        pytest.param("tcu", [5, 3, 1, 4], 175 / 4.5, id="tcu"),
        # ((17.5 / 4.5) - 1) / 4 x 100
        pytest.param("pomp", [5, 3, 1, 4], (17.5 / 4.5 - 1) / 4 * 100, id="pomp"),
    ],
)
def test_weighted_scores_by_hand(method: str, answers: list[int | None], expected: float) -> None:
    ins = Instrument.model_validate(small_definition(method, {"1": 2.0, "3": 0.5}))
    given_answers = {str(i + 1): a for i, a in enumerate(answers)}
    score = score_response(ins, given_answers).scores["total"]
    assert score == pytest.approx(expected, abs=1e-9)


def test_sum_range_uses_the_weights() -> None:
    ins = Instrument.model_validate(small_definition("sum", {"1": 2.0, "3": 0.5}))
    assert ins.scale("total").score_range(ins.response) == (4.5, 22.5)


answers = arrays(
    np.float64,
    st.tuples(st.integers(1, 8), st.just(4)),
    elements=st.sampled_from([1.0, 2.0, 3.0, 4.0, 5.0, math.nan]),
)
positive = st.floats(0.1, 10, allow_nan=False, allow_infinity=False)


@settings(max_examples=60, deadline=None)
@given(x=answers, method=st.sampled_from(["mean", "sum", "tcu", "pomp"]))
def test_unit_weights_equal_unweighted(x: np.ndarray, method: str) -> None:
    plain = Instrument.model_validate(small_definition(method))
    ones = Instrument.model_validate(small_definition(method, {str(i): 1.0 for i in range(1, 5)}))
    np.testing.assert_array_equal(score_matrix(x, plain).scores, score_matrix(x, ones).scores)


@settings(max_examples=60, deadline=None)
@given(x=answers, w=st.lists(positive, min_size=4, max_size=4), c=positive)
def test_weighted_mean_is_scale_free_and_in_range(x: np.ndarray, w: list[float], c: float) -> None:
    weights = {str(i + 1): v for i, v in enumerate(w)}
    one = score_matrix(x, Instrument.model_validate(small_definition("mean", weights))).scores
    scaled = {k: v * c for k, v in weights.items()}
    two = score_matrix(x, Instrument.model_validate(small_definition("mean", scaled))).scores
    np.testing.assert_allclose(one, two, rtol=1e-9)
    scored = one[~np.isnan(one)]
    assert ((scored >= 1 - 1e-9) & (scored <= 5 + 1e-9)).all()
