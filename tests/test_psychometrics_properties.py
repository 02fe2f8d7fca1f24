"""Property tests of the reliability statistics (the invariants issue 5 names)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from alliance_score import Instrument
from alliance_score.psychometrics import check_keying, item_analysis, reliability
from alliance_score.psychometrics._coefficients import alpha_from_cov
from alliance_score.psychometrics._moments import moments

LO, HI = 1, 5
Matrix = np.ndarray[Any, np.dtype[np.float64]]


def instrument(
    k: int, order: list[int] | None = None, reverse: frozenset[int] = frozenset()
) -> Instrument:
    """A user-defined 1-5 instrument with items q1..qk and one total scale."""
    ev = {"level": "P", "sources": ["own"]}
    scale_items = [f"q{j + 1}" for j in (order if order is not None else range(k))]
    return Instrument.model_validate(
        {
            "id": "own",
            "version": "1",
            "name": "Own questionnaire",
            "short_name": "OWN",
            "rater": "client",
            "language": "en",
            "sources": [
                {"key": "own", "kind": "primary", "citation": "Agency manual", "supports": "all"}
            ],
            "licence": {"status": "user-supplied"},
            "response": {"kind": "likert", "min": LO, "max": HI, "evidence": ev},
            "reversed_evidence": ev,
            "items": [
                {"id": f"q{j + 1}", "label": f"item {j + 1}", "reverse": j in reverse}
                for j in range(k)
            ],
            "scales": [
                {
                    "id": "total",
                    "name": "Total",
                    "items": scale_items,
                    "method": "mean",
                    "min_answered": 1,
                    "status": "verified",
                    "items_evidence": ev,
                    "formula_evidence": ev,
                }
            ],
        }
    )


def answers(seed: int, n: int, k: int, *, holes: float = 0.0, loading: float = 0.7) -> Matrix:
    rng = np.random.default_rng(seed)
    trait = rng.normal(size=(n, 1))
    z = loading * trait + np.sqrt(1 - loading**2) * rng.normal(size=(n, k))
    x: Matrix = np.clip(np.rint(3 + 1.1 * z), LO, HI)
    x[rng.random((n, k)) < holes] = np.nan
    return x


def frame(x: Matrix) -> pd.DataFrame:
    return pd.DataFrame(x, columns=[f"q{j + 1}" for j in range(x.shape[1])])


data_sets = st.builds(
    lambda seed, n, k, holes: answers(seed, n, k, holes=holes),
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(30, 120),
    k=st.integers(3, 9),
    holes=st.sampled_from([0.0, 0.05, 0.2]),
)
policies = st.sampled_from(["pairwise", "listwise"])


@settings(max_examples=40, deadline=None)
@given(x=data_sets, missing=policies, perm_seed=st.integers(0, 2**32 - 1))
def test_alpha_does_not_depend_on_item_order(x: Matrix, missing: Any, perm_seed: int) -> None:
    k = x.shape[1]
    order = [int(j) for j in np.random.default_rng(perm_seed).permutation(k)]
    before = reliability(frame(x), instrument(k), missing=missing, ci=None)
    after = reliability(frame(x), instrument(k, order), missing=missing, ci=None)
    cols = ["alpha", "alpha_std", "omega_total", "average_r", "n_rows"]
    np.testing.assert_allclose(
        after[cols].to_numpy(dtype=float), before[cols].to_numpy(dtype=float), rtol=1e-9, atol=1e-9
    )


@settings(max_examples=40, deadline=None)
@given(
    x=data_sets,
    missing=policies,
    item=st.integers(0, 8),
    shift=st.floats(-50, 50, allow_nan=False).filter(lambda c: abs(c) > 1e-3),
)
def test_alpha_is_invariant_to_adding_a_constant_to_an_item(
    x: Matrix, missing: Any, item: int, shift: float
) -> None:
    j = item % x.shape[1]
    shifted = x.copy()
    shifted[:, j] += shift
    a = alpha_from_cov(moments(x, missing).cov)
    b = alpha_from_cov(moments(shifted, missing).cov)
    assert np.isclose(a, b, rtol=1e-9, atol=1e-9) or (np.isnan(a) and np.isnan(b))


@settings(max_examples=40, deadline=None)
@given(x=data_sets, missing=policies, item=st.integers(0, 8))
def test_reversing_an_items_key_and_its_data_together_changes_nothing(
    x: Matrix, missing: Any, item: int
) -> None:
    k = x.shape[1]
    j = item % k
    flipped = x.copy()
    flipped[:, j] = LO + HI - flipped[:, j]
    plain = reliability(frame(x), instrument(k), missing=missing, ci=None)
    keyed = reliability(
        frame(flipped), instrument(k, reverse=frozenset({j})), missing=missing, ci=None
    )
    cols = ["alpha", "alpha_std", "omega_total", "average_r"]
    np.testing.assert_allclose(
        keyed[cols].to_numpy(dtype=float), plain[cols].to_numpy(dtype=float), rtol=1e-9, atol=1e-9
    )
    a = item_analysis(frame(x), instrument(k), missing=missing)
    b = item_analysis(frame(flipped), instrument(k, reverse=frozenset({j})), missing=missing)
    np.testing.assert_allclose(b["r_drop"], a["r_drop"], rtol=1e-9, atol=1e-9)


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(150, 300),
    k=st.integers(4, 10),
    item=st.integers(0, 9),
    declared=st.booleans(),
    holes=st.sampled_from([0.0, 0.05]),
)
def test_an_injected_keying_error_is_detected(
    seed: int, n: int, k: int, item: int, declared: bool, holes: float
) -> None:
    j = item % k
    x = answers(seed, n, k, holes=holes, loading=0.8)
    # the key declares item j reversed and the export holds it as answered (reversed), or
    # the key declares nothing and the item was stored reversed anyway: both are errors
    # when the data are not reversed to match.
    ins = instrument(k, reverse=frozenset({j}) if declared else frozenset())
    wrong = x.copy()
    if not declared:
        wrong[:, j] = LO + HI - wrong[:, j]
    checks = check_keying(frame(wrong), ins)
    failed = checks[checks["status"] == "fail"]
    assert set(failed["item"]) == {f"q{j + 1}"}
    assert set(failed["check"]) == {"item_total", "first_component"}
