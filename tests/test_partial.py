"""Partial statistics: per-site objects merged (and sent as JSON) equal the pooled result."""

from __future__ import annotations

import functools
import itertools
import json
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alliance_score.errors import DataError
from alliance_score.partial import (
    PartialFrequencies,
    PartialMismatchError,
    PartialNestedICC,
    PartialReliability,
)
from alliance_score.partial._comoments import comoments, merge_comoments
from alliance_score.psychometrics import item_frequencies, reliability
from alliance_score.sessions import nested_icc

SETTINGS = settings(max_examples=15, deadline=None)
TOL = 1e-9


def _answers(seed: int, n: int, missing: float = 0.05) -> pd.DataFrame:
    """WAI-SR answers from a one-factor model, with missing and a few invalid cells."""
    rng = np.random.default_rng(seed)
    trait = rng.normal(size=(n, 1))
    x = np.clip(np.rint(3.5 + trait + rng.normal(scale=0.9, size=(n, 12))), 1, 5)
    cells = x.astype(object)
    cells[rng.random(x.shape) < missing] = ""
    cells[rng.random(x.shape) < 0.005] = "9"
    return pd.DataFrame(cells, columns=[f"wai_{i}" for i in range(1, 13)])


def _sites(df: pd.DataFrame, cuts: list[int]) -> list[pd.DataFrame]:
    bounds = [0, *sorted(cuts), len(df)]
    return [df.iloc[a:b] for a, b in itertools.pairwise(bounds)]


def _close(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=0, atol=TOL)


@pytest.mark.parametrize("missing", ["pairwise", "listwise"])
def test_two_sites_exchange_json_and_match_pooled_reliability(missing: str) -> None:
    df = _answers(3, 900)
    site_a = PartialReliability.from_frame(df.iloc[:350], "wai-sr")
    site_b = PartialReliability.from_frame(df.iloc[350:], "wai-sr")
    wire = site_b.to_json()
    assert "wai_1" not in wire  # statistics only, no rows or column names
    merged = site_a.merge(PartialReliability.from_json(wire))
    _close(
        merged.finish(missing=missing),  # type: ignore[arg-type]
        reliability(df, "wai-sr", missing=missing),  # type: ignore[arg-type]
    )


@SETTINGS
@given(
    seed=st.integers(0, 2**16),
    n=st.integers(40, 400),
    cuts=st.lists(st.integers(0, 400), max_size=6),
    missing=st.sampled_from([0.0, 0.05, 0.3]),
    order=st.randoms(use_true_random=False),
)
def test_merging_in_any_grouping_and_order_equals_pooled(
    seed: int, n: int, cuts: list[int], missing: float, order: object
) -> None:
    df = _answers(seed, n, missing)
    parts = [
        PartialReliability.from_frame(p, "wai-sr", scales=["total", "bond"])
        for p in _sites(df, [min(c, n) for c in cuts])
    ]
    order.shuffle(parts)  # type: ignore[attr-defined]
    merged = functools.reduce(lambda a, b: a.merge(b), parts)
    for policy in ("pairwise", "listwise"):
        pooled = reliability(df, "wai-sr", scales=["total", "bond"], missing=policy, ci=None)
        _close(merged.finish(missing=policy, ci=None), pooled)


def test_chan_update_keeps_precision_where_raw_sums_cancel() -> None:
    rng = np.random.default_rng(0)
    x = 1e6 + rng.normal(size=(20_000, 3))  # large mean, unit variance
    whole = comoments(x)
    parts = [comoments(p) for p in np.array_split(x, 50)]
    merged = functools.reduce(merge_comoments, parts)
    centred = x - x.mean(axis=0)
    exact = centred.T @ centred
    assert np.allclose(merged.cross, exact, rtol=1e-9)
    assert np.allclose(whole.cross, exact, rtol=1e-9)
    raw = x.T @ x - len(x) * np.outer(x.mean(axis=0), x.mean(axis=0))  # the naive formula
    assert not np.allclose(raw, exact, rtol=1e-9)


def test_frequencies_merge_to_the_pooled_table() -> None:
    df = _answers(5, 500, 0.1)
    parts = [PartialFrequencies.from_frame(p, "wai-sr") for p in _sites(df, [0, 0, 123, 400])]
    received = [PartialFrequencies.from_json(p.to_json()) for p in parts]
    merged = functools.reduce(lambda a, b: a.merge(b), received)
    _close(merged.finish(), item_frequencies(df, "wai-sr"))


def _sessions(seed: int, clients: int, raters: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for c in range(clients):
        level = rng.normal(4, 0.8)
        for s in range(1, int(rng.integers(1, 8)) + 1):
            for r in ["client", "therapist"] if raters else [None]:
                score = level + rng.normal(0, 0.5) if rng.random() > 0.1 else np.nan
                rows.append((f"c{c}", s, f"t{c % 7}", r, score))
    frame = pd.DataFrame(rows, columns=["client", "session", "therapist", "rater", "total"])
    return frame if raters else frame.drop(columns="rater")


@SETTINGS
@given(
    seed=st.integers(0, 2**16),
    cuts=st.lists(st.integers(0, 500), max_size=5),
    raters=st.booleans(),
    group_size=st.sampled_from(["mean", "n0"]),
)
def test_nested_icc_from_merged_client_sums_equals_pooled(
    seed: int, cuts: list[int], raters: bool, group_size: str
) -> None:
    df = _sessions(seed, 60, raters)
    options = {"rater": "rater" if raters else None, "therapist": "therapist"}
    parts = [
        PartialNestedICC.from_frame(p, key="shared secret", **options)  # type: ignore[arg-type]
        for p in _sites(df, [min(c, len(df)) for c in cuts])
    ]
    merged = functools.reduce(lambda a, b: a.merge(PartialNestedICC.from_json(b.to_json())), parts)
    expected = nested_icc(df, group_size=group_size, **options)  # type: ignore[arg-type]
    _close(merged.finish(group_size=group_size), expected)  # type: ignore[arg-type]


def test_nested_partial_carries_no_identifiers_and_refuses_another_key() -> None:
    df = _sessions(1, 30)
    a = PartialNestedICC.from_frame(df.iloc[:40], therapist="therapist", key="k1")
    b = PartialNestedICC.from_frame(df.iloc[40:], therapist="therapist", key="k2")
    text = a.to_json()
    assert "c1" not in json.loads(text)["clients"]["client"]
    assert '"t1"' not in text
    with pytest.raises(PartialMismatchError, match="different keys"):
        a.merge(b)


def test_a_client_with_two_therapists_across_sites_is_refused() -> None:
    df = _sessions(2, 10)
    other = df.copy()
    other["therapist"] = "t_elsewhere"
    other["session"] += 100  # later sessions at another site, not the same ones twice
    a = PartialNestedICC.from_frame(df, therapist="therapist")
    b = PartialNestedICC.from_frame(other, therapist="therapist")
    with pytest.raises(DataError, match="one therapist"):
        a.merge(b).finish()
    with pytest.raises(DataError, match="one therapist"):
        nested_icc(pd.concat([df, other]), therapist="therapist")


def test_merging_different_definitions_or_options_is_refused() -> None:
    df = _answers(1, 50)
    wai = PartialReliability.from_frame(df, "wai-sr")
    with pytest.raises(PartialMismatchError, match="scales"):
        wai.merge(PartialReliability.from_frame(df, "wai-sr", scales=["bond"]))
    with pytest.raises(PartialMismatchError, match="missing_codes"):
        wai.merge(PartialReliability.from_frame(df, "wai-sr", missing_codes=[-9]))
    with pytest.raises(PartialMismatchError, match="PartialFrequencies"):
        wai.merge(PartialFrequencies.from_frame(df, "wai-sr"))  # type: ignore[arg-type]
    freq = PartialFrequencies.from_frame(df, "wai-sr")
    with pytest.raises(PartialMismatchError, match="items"):
        freq.merge(PartialFrequencies.from_frame(df, "wai-sr", scales=["bond"]))


@pytest.mark.parametrize(
    ("edit", "where"),
    [
        (lambda d: d["scales"][0]["pairwise"]["n"].pop(), "n"),
        (lambda d: d["scales"][0].update(rows_answered=-1), "rows_answered"),
        (lambda d: d.update(kind="something else"), "kind"),
        (lambda d: d.update(extra=1), "extra"),
    ],
    ids=["ragged-matrix", "negative-count", "wrong-kind", "unknown-field"],
)
def test_from_json_refuses_damaged_statistics(edit: object, where: str) -> None:
    doc = json.loads(PartialReliability.from_frame(_answers(1, 30), "wai-sr").to_json())
    edit(doc)  # type: ignore[operator]
    with pytest.raises(DataError, match="Not a valid PartialReliability"):
        PartialReliability.from_json(json.dumps(doc))
    with pytest.raises(DataError, match="Not a valid"):
        PartialFrequencies.from_json("[1, 2")


def test_empty_partitions_merge_as_nothing() -> None:
    df = _answers(4, 200)
    empty = PartialReliability.from_frame(df.iloc[:0], "wai-sr")
    full = PartialReliability.from_frame(df, "wai-sr")
    _close(empty.merge(full).merge(empty).finish(), full.finish())
    nothing = PartialNestedICC.from_frame(_sessions(1, 5).iloc[:0])
    some = PartialNestedICC.from_frame(_sessions(1, 20))
    _close(nothing.merge(some).finish(), some.finish())


@SETTINGS
@given(
    rows=st.integers(0, 300),
    items=st.integers(1, 6),
    seed=st.integers(0, 2**16),
    shift=st.sampled_from([0.0, 3.0, 1e6]),
)
def test_rows_without_missing_cells_take_the_unmasked_path_to_the_same_moments(
    rows: int, items: int, seed: int, shift: float
) -> None:
    from alliance_score.partial._comoments import _block, _complete_block

    x = shift + np.random.default_rng(seed).normal(size=(rows, items))
    fast = _complete_block(x)
    # the masked computation, as for a block with a missing cell
    padded = _block(np.vstack([x, np.full((1, items), np.nan)]))
    for got, want in zip(fast, padded, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9 * max(1.0, shift))
    for got, want in zip(_block(x), fast, strict=True):  # _block takes the fast path
        np.testing.assert_array_equal(got, want)


def test_each_item_column_is_parsed_once_for_the_partial_reliability(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The range check's second parse (every number, in range or not) is not needed for
    co-moments; ``prepare(numbers=False)`` leaves it out."""
    from alliance_score.psychometrics import _data

    df = _answers(11, 200)
    calls: list[str] = []
    original: Any = getattr(_data, "parse_column")  # noqa: B009 - not in its __all__

    def counting(column: pd.Series, rules: object) -> object:
        calls.append(str(column.name))
        return original(column, rules)

    monkeypatch.setattr(_data, "parse_column", counting)
    partial = PartialReliability.from_frame(df, "wai-sr")
    assert sorted(calls) == sorted(df.columns)
    _close(partial.finish(), reliability(df, "wai-sr"))
    with_numbers, without = _data.prepare(df, "wai-sr"), _data.prepare(df, "wai-sr", numbers=False)
    assert np.isnan(without.numbers).all()
    np.testing.assert_array_equal(with_numbers.keyed, without.keyed)
    np.testing.assert_array_equal(with_numbers.invalid, without.invalid)


@SETTINGS
@given(
    seed=st.integers(0, 2**16),
    n=st.integers(2, 120),
    cuts=st.lists(st.integers(0, 120), max_size=5),
    value=st.sampled_from([1.0, 3.0, 5.0]),
    everywhere=st.booleans(),
    missing=st.sampled_from([0.0, 0.1, 0.3]),
)
def test_a_constant_item_is_left_out_alike_merged_and_pooled(
    seed: int, n: int, cuts: list[int], value: float, everywhere: bool, missing: float
) -> None:
    """An item without variance (over all rows, or over the complete rows only) is
    dropped by the merged statistics exactly as by ``reliability`` on all rows."""
    rng = np.random.default_rng(seed)
    trait = rng.normal(size=(n, 1))
    x = np.clip(np.rint(3.5 + trait + rng.normal(scale=0.9, size=(n, 12))), 1, 5)
    x[:, 4] = value  # item 5 (bond)
    x[rng.random(x.shape) < missing] = np.nan
    if not everywhere:  # other values only in rows that miss another item
        incomplete = np.flatnonzero(np.isnan(np.delete(x, 4, axis=1)).any(axis=1))
        x[incomplete[: len(incomplete) // 2], 4] = 6 - value if value != 3 else 1
    df = pd.DataFrame(x, columns=[f"wai_{i}" for i in range(1, 13)])
    parts = [
        PartialReliability.from_frame(p, "wai-sr") for p in _sites(df, [min(c, n) for c in cuts])
    ]
    merged = functools.reduce(lambda a, b: a.merge(b), parts)
    for policy in ("pairwise", "listwise"):
        pooled = reliability(df, "wai-sr", missing=policy, ci=None)
        got = merged.finish(missing=policy, ci=None)
        key = ["scale", "n_items", "n_rows", "dropped_items"]
        pd.testing.assert_frame_equal(got[key], pooled[key])
        degenerate = pooled["alpha"].abs() > 1e3  # a covariance sum of about 0
        _close(
            got.loc[~degenerate, ["alpha", "alpha_std"]],
            pooled.loc[~degenerate, ["alpha", "alpha_std"]],
        )
