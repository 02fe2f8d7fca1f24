"""Unit tests of alliance_score.psychometrics (the psych comparison is in
test_psychometrics_psych.py, the properties in test_psychometrics_properties.py)."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from alliance_score import (
    ColumnMappingError,
    DataError,
    Instrument,
    MissingDependencyError,
    ProvisionalScaleError,
    load_instrument,
)
from alliance_score.cli import main
from alliance_score.errors import ArgumentError
from alliance_score.psychometrics import (
    FREQUENCY_COLUMNS,
    ITEM_COLUMNS,
    KEYING_COLUMNS,
    RELIABILITY_COLUMNS,
    _moments,
    check_keying,
    item_analysis,
    item_frequencies,
    item_matrix,
    psychometric_report,
    reliability,
)
from alliance_score.psychometrics._moments import moments
from alliance_score.sessions import two_way_icc

WAI_COLUMNS = [f"wai_{i}" for i in range(1, 13)]


def one_factor(
    n: int, k: int, lo: int, hi: int, *, seed: int, loading: float = 0.8
) -> np.ndarray[Any, np.dtype[np.float64]]:
    """Answers from a one-factor model, rounded and clipped to lo..hi."""
    rng = np.random.default_rng(seed)
    trait = rng.normal(size=(n, 1))
    noise = rng.normal(size=(n, k)) * np.sqrt(1 - loading**2)
    centre, spread = (lo + hi) / 2, (hi - lo) / 4
    x: np.ndarray[Any, np.dtype[np.float64]] = np.clip(
        np.rint(centre + spread * (loading * trait + noise)), lo, hi
    )
    return x


def wai_s_frame(seed: int = 11, n: int = 300, *, miskey: int | None = None) -> pd.DataFrame:
    """WAI-S answers as exported (items 4 and 10 as answered, i.e. not yet reversed)."""
    x = one_factor(n, 12, 1, 7, seed=seed)
    x[:, [3, 9]] = 8 - x[:, [3, 9]]
    if miskey is not None:
        x[:, miskey - 1] = 8 - x[:, miskey - 1]
    return pd.DataFrame(x, columns=WAI_COLUMNS)


def with_norm(instrument: str, scale: str, alpha: float) -> Instrument:
    ins = load_instrument(instrument)
    source = ins.sources[0].key
    norm = {"scale": scale, "population": "test sample", "alpha": alpha, "source": source}
    return Instrument.model_validate({**ins.model_dump(), "norms": [norm]})


# -- moments -------------------------------------------------------------------------------


def _with_holes(seed: int, n: int = 120, k: int = 5, rate: float = 0.15) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, k)) + rng.normal(size=(n, 1))
    x[rng.random((n, k)) < rate] = np.nan
    return pd.DataFrame(x)


@pytest.mark.parametrize("seed", [1, 2, 3], ids=lambda s: f"seed{s}")
def test_pairwise_moments_equal_pandas_pairwise_cov_and_corr(seed: int) -> None:
    frame = _with_holes(seed)
    m = moments(frame.to_numpy(), "pairwise")
    np.testing.assert_allclose(m.cov, frame.cov().to_numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(m.cor, frame.corr().to_numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(m.n_answered, frame.notna().sum().to_numpy())


def test_listwise_moments_use_complete_rows_only() -> None:
    frame = _with_holes(4)
    m = moments(frame.to_numpy(), "listwise")
    complete = frame.dropna()
    assert m.n_rows == len(complete)
    np.testing.assert_allclose(m.cov, complete.cov().to_numpy(), rtol=1e-12, atol=1e-12)


def test_moments_accumulate_across_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    frame = _with_holes(5, n=250)
    whole = moments(frame.to_numpy())
    monkeypatch.setattr(_moments, "_CHUNK_ROWS", 17)
    chunked = moments(frame.to_numpy())
    np.testing.assert_allclose(chunked.cov, whole.cov, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(chunked.cor, whole.cor, rtol=1e-12, atol=1e-12)


def test_rows_without_any_answer_are_not_counted() -> None:
    x = np.array([[1.0, 2.0], [np.nan, np.nan], [2.0, 4.0], [3.0, 5.0]])
    assert moments(x).n_rows == 3


@pytest.mark.parametrize(
    ("call", "message"),
    [
        pytest.param(lambda: moments(np.ones((3, 2)), "everything"), "pairwise", id="policy"),  # type: ignore[arg-type]
        pytest.param(lambda: moments(np.ones(3)), "two-dimensional", id="shape"),
    ],
)
def test_moments_reject_bad_arguments(call: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()


# -- reliability ---------------------------------------------------------------------------


def test_reliability_table_has_the_documented_columns() -> None:
    table = reliability(wai_s_frame(), "wai-s", allow_provisional=True)
    assert tuple(table.columns) == RELIABILITY_COLUMNS
    assert table["scale"].tolist() == ["task", "goal", "bond", "total"]
    assert (table["alpha_ci_lower"] < table["alpha"]).all()
    assert (table["alpha"] < table["alpha_ci_upper"]).all()


def test_reliability_does_not_modify_the_input() -> None:
    frame = wai_s_frame()
    frame.iloc[0, 0] = np.nan
    before = frame.copy()
    reliability(frame, "wai-s", allow_provisional=True)
    item_analysis(frame, "wai-s", allow_provisional=True)
    check_keying(frame, "wai-s", allow_provisional=True)
    pd.testing.assert_frame_equal(frame, before)


def test_reliability_without_ci_needs_no_scipy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "scipy.stats", None)
    table = reliability(wai_s_frame(), "wai-s", allow_provisional=True, ci=None)
    assert table[["alpha_ci_lower", "alpha_ci_upper", "ci_level"]].isna().all(axis=None)
    assert (table["note"] == "").all()
    # asked for an interval without scipy: the estimates, no interval, and the reason
    without = reliability(wai_s_frame(), "wai-s", allow_provisional=True)
    pd.testing.assert_frame_equal(without.drop(columns="note"), table.drop(columns="note"))
    assert without["note"].str.contains(r"alliance-score\[stats\]").all()
    with pytest.raises(MissingDependencyError, match=r"alliance-score\[stats\]"):
        two_way_icc([[1, 2], [2, 3], [3, 5]], ci=0.95)


@pytest.mark.parametrize("level", [0.0, 1.0, 1.5], ids=["zero", "one", "above-one"])
def test_reliability_rejects_a_bad_ci_level(level: float) -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        reliability(wai_s_frame(), "wai-s", allow_provisional=True, ci=level)


def test_reliability_refuses_provisional_scales_unless_allowed() -> None:
    with pytest.raises(ProvisionalScaleError):
        reliability(wai_s_frame(), "wai-s", scales=["bond"])


def test_reliability_needs_mappable_columns() -> None:
    with pytest.raises(ColumnMappingError):
        reliability(pd.DataFrame({"x": [1, 2]}), "wai-sr")


def test_reliability_rejects_non_dataframes() -> None:
    with pytest.raises(TypeError, match="DataFrame"):
        reliability(np.ones((3, 12)), "wai-sr")  # type: ignore[arg-type]


def test_listwise_drops_incomplete_rows_per_scale() -> None:
    frame = wai_s_frame()
    frame.loc[:9, "wai_1"] = np.nan  # item 1 is in task and total, not in goal or bond
    table = reliability(frame, "wai-s", missing="listwise", allow_provisional=True)
    n_rows = dict(zip(table["scale"], table["n_rows"], strict=True))
    assert n_rows == {"task": 290, "goal": 300, "bond": 300, "total": 290}


def test_a_constant_item_is_left_out_and_named_as_psych_does() -> None:
    frame = wai_s_frame()
    frame["wai_1"] = 4.0
    table = reliability(frame, "wai-s", allow_provisional=True).set_index("scale")
    # item 1 belongs to task and total: both are computed without it, and say so
    assert table.loc["task", "dropped_items"] == "1"
    assert "had no variance" in str(table.loc["task", "note"])
    assert table.loc["task", "n_items"] == 3
    assert (
        table.loc[["task", "total"], ["alpha", "alpha_std", "omega_total"]].notna().all(axis=None)
    )
    assert table.loc["goal", "dropped_items"] == ""
    items = item_analysis(frame, "wai-s", allow_provisional=True).set_index(["scale", "item"])
    assert items["r_drop"].loc[[("task", "1")]].isna().all()
    assert items.loc[("task", "1"), "alpha_if_dropped"] == pytest.approx(table.loc["task", "alpha"])
    checks = check_keying(frame, "wai-s", allow_provisional=True)
    assert set(checks.loc[checks["item"] == "1", "status"]) == {"pass", "skipped"}


# -- item analysis and frequencies ---------------------------------------------------------


def test_item_analysis_reports_keyed_means() -> None:
    frame = pd.DataFrame({c: [7, 6] for c in WAI_COLUMNS})
    frame["wai_4"] = [1, 2]
    table = item_analysis(frame, "wai-s", allow_provisional=True, scales=["total"])
    assert tuple(table.columns) == ITEM_COLUMNS
    row = table.set_index("item").loc["4"]
    assert row["mean"] == 6.5
    assert bool(row["reverse"])


def test_item_matrix_keys_and_keeps_the_index() -> None:
    frame = pd.DataFrame({c: ["2", "x"] for c in WAI_COLUMNS}, index=["a", "b"])
    m = item_matrix(frame, "wai-s")
    assert list(m.index) == ["a", "b"]
    assert list(m.columns) == [str(i) for i in range(1, 13)]
    assert m.loc["a", "4"] == 6.0
    assert m.loc["a", "1"] == 2.0
    assert m.loc["b"].isna().all()


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        pytest.param(
            ["1", "1", "2", ""],
            [("answer", 1.0, 2, 2 / 3), ("answer", 2.0, 1, 1 / 3), ("missing", None, 1, 0.25)],
            id="answers-and-a-blank",
        ),
        pytest.param(
            ["9", "-99", "NA", "3"],
            [("answer", 3.0, 1, 1.0), ("missing", None, 2, 0.5), ("invalid", None, 1, 0.25)],
            id="declared-code-and-out-of-range",
        ),
    ],
)
def test_item_frequencies_count_answers_missing_and_invalid(
    cells: list[str], expected: list[tuple[str, float | None, int, float]]
) -> None:
    frame = pd.DataFrame({c: ["3"] * 4 for c in WAI_COLUMNS})
    frame["wai_1"] = cells
    freq = item_frequencies(frame, "wai-sr", missing_codes=[-99])
    assert tuple(freq.columns) == FREQUENCY_COLUMNS
    got = freq[(freq["item"] == "1") & (freq["n"] > 0)]
    rows = [
        (str(kind), None if pd.isna(value) else float(value), int(n))
        for kind, value, n in zip(got["kind"], got["value"], got["n"], strict=True)
    ]
    assert rows == [(k, v, n) for k, v, n, _ in expected]
    assert got["proportion"].tolist() == pytest.approx([p for *_, p in expected])


# -- keying checks -------------------------------------------------------------------------


def _failures(checks: pd.DataFrame) -> set[tuple[str, str | None]]:
    failed = checks[checks["status"] == "fail"]
    return set(zip(failed["check"], failed["item"], strict=True))


def test_correctly_keyed_data_pass_every_check() -> None:
    checks = check_keying(wai_s_frame(), "wai-s", allow_provisional=True)
    assert tuple(checks.columns) == KEYING_COLUMNS
    assert set(checks["status"]) == {"pass"}
    assert set(checks["check"]) == {"range", "item_total", "first_component"}


@pytest.mark.parametrize(
    ("item", "hint"),
    [
        pytest.param(7, "not declared reverse-keyed", id="item7-stored-reversed"),
        pytest.param(4, "declared reverse-keyed: check whether the export", id="item4-twice"),
    ],
)
def test_a_miskeyed_item_is_named(item: int, hint: str) -> None:
    checks = check_keying(wai_s_frame(miskey=item), "wai-s", allow_provisional=True)
    assert _failures(checks) == {("item_total", str(item)), ("first_component", str(item))}
    messages = checks.loc[checks["status"] == "fail", "message"]
    assert all(f"Item '{item}'" in m and hint in m for m in messages)


@pytest.mark.parametrize("order", [["1", "2"], ["2", "1"]])
def test_two_items_against_each_other_do_not_blame_one_of_them(order: list[str]) -> None:
    wai_sr = load_instrument("wai-sr")
    pair = {**wai_sr.scale("task").model_dump(), "id": "pair", "items": order, "min_answered": 1}
    ins = Instrument.model_validate({**wai_sr.model_dump(), "scales": [pair], "cutoffs": []})
    x = one_factor(200, 12, 1, 5, seed=4)
    x[:, 1] = 6 - x[:, 1]  # item 2 stored reversed: which of the two is wrong is unknowable
    checks = check_keying(pd.DataFrame(x, columns=WAI_COLUMNS), ins, allow_provisional=True)
    by_check = checks.set_index(["check", "item"])["status"]
    assert by_check["item_total"].to_dict() == {"1": "fail", "2": "fail"}
    assert by_check["first_component"]["1"] == by_check["first_component"]["2"]


def test_a_single_item_scale_is_skipped_as_such() -> None:
    wai_sr = load_instrument("wai-sr")
    one = {**wai_sr.scale("task").model_dump(), "id": "one", "items": ["1"], "min_answered": 1}
    ins = Instrument.model_validate({**wai_sr.model_dump(), "scales": [one], "cutoffs": []})
    frame = pd.DataFrame(one_factor(100, 12, 1, 5, seed=6), columns=WAI_COLUMNS)
    checks = check_keying(frame, ins, allow_provisional=True)
    skipped = checks[checks["check"] != "range"]
    assert (skipped["status"] == "skipped").all()
    assert all("single item" in m and "variance" not in m for m in skipped["message"])


@pytest.mark.parametrize(
    ("shift", "values", "hint"),
    [
        pytest.param(-1, None, "coded 0-4 instead of 1-5 (shifted down by 1)", id="0-4-on-1-5"),
        pytest.param(1, None, "coded 2-6 instead of 1-5 (shifted up by 1)", id="2-6-on-1-5"),
        pytest.param(0, (1, 6), "maximum 6 is above the scale's maximum 5", id="max-6"),
        pytest.param(0, (0, 5), "minimum 0 is below the scale's minimum 1", id="min-0"),
        pytest.param(0, (1, 99), "maximum 99 is above", id="undeclared-99"),
        pytest.param(0, (3, 7), "maximum 7 is above", id="one-stray-7-is-no-shift"),
    ],
)
def test_range_check_describes_shifted_codes(
    shift: int, values: tuple[int, int] | None, hint: str
) -> None:
    x = one_factor(200, 12, 1, 5, seed=3) + shift
    if values is not None:
        if values == (3, 7):  # answers 3-5 only, and one stray 7 per item
            x = np.clip(x, 3, 5)
        x[0, :] = values[0]
        x[1, :] = values[1]
    checks = check_keying(pd.DataFrame(x, columns=WAI_COLUMNS), "wai-sr")
    ranges = checks[checks["check"] == "range"]
    assert (ranges["status"] == "fail").all()
    assert all(hint in m for m in ranges["message"])
    assert all("row" not in m for m in ranges["message"])  # no respondent pointers


def test_range_check_is_skipped_for_an_empty_column() -> None:
    frame = wai_s_frame()
    frame["wai_2"] = ""
    checks = check_keying(frame, "wai-s", allow_provisional=True)
    row = checks[(checks["check"] == "range") & (checks["item"] == "2")]
    assert row["status"].tolist() == ["skipped"]


@pytest.mark.parametrize(
    ("norm_alpha", "status"),
    [pytest.param(0.93, "pass", id="near-norm"), pytest.param(0.99, "fail", id="far-below")],
)
def test_alpha_is_compared_with_published_norms(norm_alpha: float, status: str) -> None:
    x = one_factor(300, 12, 1, 5, seed=8, loading=0.6)  # alpha about 0.87
    ins = with_norm("wai-sr", "total", norm_alpha)
    checks = check_keying(pd.DataFrame(x, columns=WAI_COLUMNS), ins, scales=["total"])
    row = checks[checks["check"] == "alpha_norm"].iloc[0]
    assert row["status"] == status
    assert row["threshold"] == pytest.approx(norm_alpha - 0.10)
    assert "test sample" in row["message"]


def test_data_without_answers_skip_every_check() -> None:
    empty = pd.DataFrame({c: pd.Series([], dtype=str) for c in WAI_COLUMNS})
    report = psychometric_report(empty, with_norm("wai-sr", "total", 0.9))
    assert report.reliability["n_rows"].tolist() == [0, 0, 0, 0]
    assert report.reliability["alpha"].isna().all()
    assert set(report.keying["status"]) == {"skipped"}
    assert not report.failed


def test_norm_margin_must_be_a_proportion() -> None:
    with pytest.raises(ValueError, match="norm_margin"):
        check_keying(wai_s_frame(), "wai-s", allow_provisional=True, norm_margin=1.5)


# -- the combined report -------------------------------------------------------------------


def test_report_is_json_ready_and_agrees_with_the_single_functions() -> None:
    frame = wai_s_frame(miskey=7)
    frame.iloc[:5, 2] = np.nan
    report = psychometric_report(frame, "wai-s", allow_provisional=True)
    data = report.to_dict()
    json.dumps(data, allow_nan=False)
    assert data["failed"] is True
    assert data["provisional"] == ["task", "goal", "bond", "total"]
    pd.testing.assert_frame_equal(
        report.reliability, reliability(frame, "wai-s", allow_provisional=True)
    )
    pd.testing.assert_frame_equal(
        report.items, item_analysis(frame, "wai-s", allow_provisional=True)
    )
    pd.testing.assert_frame_equal(
        report.keying, check_keying(frame, "wai-s", allow_provisional=True)
    )
    text = report.to_text()
    assert "FAIL [item_total] Item '7' of scale 'task'" not in text  # item 7 is a bond item
    assert "FAIL [item_total] Item '7' of scale 'bond'" in text
    assert text.endswith("Result: keying problems found\n")


# -- the documentation's examples run ------------------------------------------------------

DOCS = Path(__file__).parents[1] / "docs" / "psychometrics.md"
_BLOCKS = re.findall(r"```python\n(.*?)```", DOCS.read_text(encoding="utf-8"), flags=re.S)


@pytest.mark.parametrize("code", _BLOCKS, ids=[f"block{i}" for i in range(len(_BLOCKS))])
def test_docs_examples_run(code: str, capsys: pytest.CaptureFixture[str]) -> None:
    exec(compile(code, str(DOCS), "exec"), {})  # noqa: S102 - our own documentation
    assert capsys.readouterr().out


def test_docs_have_examples() -> None:
    assert len(_BLOCKS) >= 3


def test_unconverged_one_factor_fit_gives_no_omega(monkeypatch: pytest.MonkeyPatch) -> None:
    from alliance_score.psychometrics import _coefficients

    cor = np.array([[1.0, 0.5, 0.4], [0.5, 1.0, 0.3], [0.4, 0.3, 1.0]])
    assert np.isfinite(_coefficients.one_factor_minres(cor)).all()
    monkeypatch.setattr(_coefficients, "_MINRES_MAX_ITER", 1)
    loadings = _coefficients.one_factor_minres(cor)
    assert np.isnan(loadings).all()
    assert np.isnan(_coefficients.omega_total(cor, loadings))


def test_improper_one_factor_fit_gives_no_omega() -> None:
    from alliance_score.psychometrics import _coefficients

    proper = np.array([[1.0, 0.6, 0.6], [0.6, 1.0, 0.5], [0.6, 0.5, 1.0]])
    assert np.isfinite(_coefficients.omega_total(proper, _coefficients.one_factor_minres(proper)))
    # a positive definite matrix whose one-factor solution has a loading above 1
    # (lambda_1^2 = 0.8 * 0.8 / 0.5): psych warns and reports a negative uniqueness
    heywood = np.array([[1.0, 0.8, 0.8], [0.8, 1.0, 0.5], [0.8, 0.5, 1.0]])
    loadings = _coefficients.one_factor_minres(heywood)
    assert np.isnan(loadings).all()
    assert np.isnan(_coefficients.omega_total(heywood, loadings))


def test_omega_of_a_pairwise_matrix_with_a_negative_sum_is_missing() -> None:
    from alliance_score.psychometrics import _coefficients

    # pairwise correlations near -1 between three items: not a correlation matrix
    cor = np.full((3, 3), -0.9)
    np.fill_diagonal(cor, 1.0)
    assert np.isnan(_coefficients.omega_total(cor, np.array([0.5, 0.5, 0.5])))
    assert np.isnan(_coefficients.omega_total(cor, _coefficients.one_factor_minres(cor)))


def test_omega_is_missing_when_pairwise_answers_give_no_proper_fit() -> None:
    rng = np.random.default_rng(3)
    t = rng.normal(size=30)
    x = np.full((90, 4), np.nan)
    for block, (a, b) in enumerate([(0, 1), (0, 2), (1, 2)]):
        rows = slice(30 * block, 30 * (block + 1))
        x[rows, a] = np.round(5 + t, 1)
        x[rows, b] = np.round(5 - t + rng.normal(scale=0.1, size=30), 1)
    x[:, 3] = np.round(5 + rng.normal(size=90), 1)
    frame = pd.DataFrame(
        np.clip(x, 0, 10), columns=["relationship", "goals", "approach", "overall"]
    )
    omega = reliability(frame, "srs", ci=None)["omega_total"].iloc[0]
    assert np.isnan(omega)


def test_correlation_checks_need_min_rows(capsys: pytest.CaptureFixture[str]) -> None:
    x = one_factor(15, 12, 1, 5, seed=11)
    x[:, 6] = 6 - x[:, 6]  # item 7 stored reversed
    frame = pd.DataFrame(x, columns=WAI_COLUMNS)
    checks = check_keying(frame, "wai-sr")
    correlational = checks[checks["check"] != "range"]
    assert (correlational["status"] == "skipped").all()
    assert all("only 15 row(s)" in m for m in correlational["message"])
    failed = check_keying(frame, "wai-sr", min_rows=10)
    assert "7" in set(failed.loc[failed["status"] == "fail", "item"])
    with pytest.raises(ValueError, match="min_rows"):
        check_keying(frame, "wai-sr", min_rows=1)


def test_cli_min_rows(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    x = one_factor(15, 12, 1, 5, seed=11)
    x[:, 6] = 6 - x[:, 6]
    path = tmp_path / "small.csv"
    pd.DataFrame(x, columns=WAI_COLUMNS).to_csv(path, index=False)
    assert main(["check", str(path), "-i", "wai-sr", "--no-ci"]) == 0
    out = capsys.readouterr().out
    assert "checks): Scale 'total'" in out  # how many checks each reason skipped
    assert re.search(r"skipped \(\d+ checks\): Scale 'total'", out)
    assert main(["check", str(path), "-i", "wai-sr", "--no-ci", "--min-rows", "10"]) == 1
    capsys.readouterr()
    with pytest.raises(SystemExit):
        main(["check", str(path), "-i", "wai-sr", "--min-rows", "1"])
    assert "2 or more" in capsys.readouterr().err


@pytest.mark.parametrize(
    "call",
    [reliability, item_analysis, check_keying, item_frequencies, psychometric_report],
)
def test_an_unknown_scale_is_a_library_error_with_a_suggestion(call: Any) -> None:
    with pytest.raises(ArgumentError, match=r"has no scale 'totl'.*Did you mean 'total'"):
        call(wai_s_frame(), "wai-s", scales=["totl"])


def test_check_exits_2_for_an_unknown_scale(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "export.csv"
    wai_s_frame().to_csv(path, index=False)
    assert main(["check", str(path), "-i", "wai-s", "--scale", "nope"]) == 2
    assert "has no scale 'nope'" in capsys.readouterr().err


def test_psychometric_tables_are_rounded_to_ten_decimals() -> None:
    report = psychometric_report(wai_s_frame(), "wai-s", allow_provisional=True)
    for table in (report.reliability, report.items, report.frequencies, report.keying):
        floats = table.select_dtypes("float").to_numpy(dtype=np.float64).ravel()
        floats = floats[np.isfinite(floats)]
        assert floats.size > 0
        np.testing.assert_array_equal(floats, np.round(floats, 10))


def test_item_matrix_takes_scales_and_allow_provisional_as_documented() -> None:
    frame = wai_s_frame()
    task = item_matrix(frame, "wai-s", scales=["task"], allow_provisional=True)
    assert list(task.columns) == ["1", "2", "8", "12"]
    pd.testing.assert_frame_equal(task, item_matrix(frame, "wai-s")[["1", "2", "8", "12"]])
    with pytest.raises(ProvisionalScaleError):
        item_matrix(frame, "wai-s", scales=["task"])


def test_ci_defaults_to_95_percent_everywhere() -> None:
    import inspect

    from alliance_score.sessions import intraclass_correlations, rater_agreement

    for function in (reliability, two_way_icc, rater_agreement, intraclass_correlations):
        assert inspect.signature(function).parameters["ci"].default == 0.95, function


def test_report_repr_is_one_line_and_notes_are_printed() -> None:
    frame = wai_s_frame()
    frame["wai_1"] = 4.0
    report = psychometric_report(frame, "wai-s", allow_provisional=True)
    text = repr(report)
    assert "\n" not in text and text.startswith("<PsychometricReport wai-s@")
    assert "had no variance" in report.to_text()


SRS_COLUMNS = ["relationship", "goals", "approach", "overall"]


@pytest.mark.parametrize(
    ("keys", "options", "error", "match"),
    [
        ({"a": ["goals", "-approach"], "b": ["approach"]}, {}, ArgumentError, "one direction"),
        ({"a": ["goals", "nope"]}, {}, DataError, "not in the data"),
        ({"a b": ["goals"]}, {}, ArgumentError, "Scale names"),
        ({"a": "goals"}, {}, ArgumentError, "list of item columns"),
        ({"a": ["goals", "goals"]}, {}, ArgumentError, "twice"),
        ({"a": ["goals", 3]}, {}, ArgumentError, "not a column name"),
        ({"a": ["goals"]}, {"min": 5, "max": 5}, ArgumentError, "below max"),
        ({"a": ["goals"]}, {"min": "1", "max": 6}, ArgumentError, "min must be a number"),
        ({"a": ["goals"]}, {"min": 1, "max": float("inf")}, ArgumentError, "finite"),
        ([("a", ["goals"])], {}, ArgumentError, "keys must map"),
        ({"status": ["goals"]}, {}, ArgumentError, "Scale names"),
        ({"a": ["goals"]}, {"instrument": "srs"}, ArgumentError, "instead of an instrument"),
        ({"a": ["go als"]}, {}, ArgumentError, "rename it first"),
    ],
)
def test_psych_style_keys_are_checked(
    keys: Any, options: dict[str, Any], error: type[Exception], match: str
) -> None:
    data = pd.DataFrame({c: [1.0, 2.0, 3.0, 4.0] for c in SRS_COLUMNS})
    with pytest.raises(error, match=match):
        reliability(data, keys=keys, **options)


def test_keys_need_numbers_for_their_range_and_instruments_refuse_min_max() -> None:
    words = pd.DataFrame({"goals": ["a", "b"], "approach": ["c", "d"]})
    with pytest.raises(DataError, match="no numbers"):
        reliability(words, keys={"a": ["goals", "approach"]})
    with pytest.raises(ArgumentError, match="go with keys"):
        reliability(wai_s_frame(), "wai-s", min=1, max=7)
    with pytest.raises(ArgumentError, match="Give an instrument"):
        reliability(wai_s_frame())
