"""SPSS and Stata value labels: checked against the anchors, or scored as labels."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alliance_score import load_instrument, score_frame
from alliance_score.cli import main
from alliance_score.io import read_table
from alliance_score.io.value_labels import LabelConflict, label_conflicts, relabel

pyreadstat = pytest.importorskip("pyreadstat")

WAI = load_instrument("wai-sr")
ANCHORS = {a.value: a.label for a in WAI.response.anchors}
ITEMS = [f"wai_sr_{i:02d}" for i in range(1, 13)]
MAPPING = {str(i): c for i, c in enumerate(ITEMS, start=1)}
ANSWERS = np.array(
    [
        [5, 4, 3, 5, 4, 4, 5, 3, 4, 5, 4, 1],
        [1, 2, 2, 1, 3, 1, 2, 2, 1, 1, 2, 5],
        [3, 3, 4, 4, 2, 5, 3, 3, 4, 3, 3, 2],
        [4, 5, 5, 4, 5, 5, 4, 5, 5, 4, 5, 2],
    ],
    dtype="float64",
)


def _write_sav(path: Path, codes: dict[float, float]) -> Path:
    """A .sav export of ANSWERS stored under ``codes`` (value -> stored code), labelled."""
    data = pd.DataFrame(
        {c: [codes[v] for v in ANSWERS[:, j]] for j, c in enumerate(ITEMS)}, dtype="float64"
    )
    data.insert(0, "client_id", ["A", "B", "C", "D"])
    labels = {c: {codes[v]: ANCHORS[v] for v in ANCHORS} for c in ITEMS}
    pyreadstat.write_sav(data, path, variable_value_labels=labels)
    return path


def _expected() -> pd.DataFrame:
    frame = pd.DataFrame(ANSWERS, columns=ITEMS)
    return score_frame(frame, WAI)


def test_labels_that_agree_are_no_conflict() -> None:
    labels = {c: dict(ANCHORS) for c in ITEMS}
    assert label_conflicts(labels, MAPPING, WAI) == []


def test_shifted_coding_is_every_code() -> None:
    labels = {"wai_sr_01": {v - 1: label for v, label in ANCHORS.items()}}
    conflicts = label_conflicts(labels, MAPPING, WAI)
    assert [(c.code, c.anchor_value) for c in conflicts] == [(v - 1, v) for v in ANCHORS]
    assert conflicts[0] == LabelConflict("wai_sr_01", 0.0, "Seldom", 1.0, WAI.ref)


def test_labels_compared_without_case_or_spaces_and_unknown_labels_ignored() -> None:
    labels: dict[str, dict[Any, str]] = {
        "wai_sr_02": {1: "  ALWAYS ", 2: "Refused", "x": "Seldom", 5: "always"},
        "not_an_item": {9: "Seldom"},
    }
    conflicts = label_conflicts(labels, MAPPING, WAI)
    assert [(c.column, c.code, c.label) for c in conflicts] == [("wai_sr_02", 1.0, "  ALWAYS ")]


def test_relabel_keeps_unlabelled_codes_missing_cells_and_the_input() -> None:
    frame = pd.DataFrame(
        {
            "wai_sr_01": [1.0, 6.0, np.nan],
            "text": pd.Series(["1", 2, None], dtype=object),
            "other": [1.0, 2.0, 3.0],
        }
    )
    before = frame.copy()
    out = relabel(frame, {"wai_sr_01": {1.0: "Seldom"}, "text": {1: "Seldom", 2: "Sometimes"}})
    assert out["wai_sr_01"].tolist()[:2] == ["Seldom", 6.0]
    assert pd.isna(out["wai_sr_01"].iloc[2])
    assert out["text"].tolist() == ["Seldom", "Sometimes", None]
    pd.testing.assert_series_equal(out["other"], frame["other"])
    pd.testing.assert_frame_equal(frame, before)


@settings(max_examples=60, deadline=None)
@given(st.permutations([-3.0, 0.0, 1.0, 2.0, 7.0]), st.sampled_from([0.0, 10.0, 100.0]))
def test_scoring_by_label_undoes_any_coding(codes: list[float], offset: float) -> None:
    coding = {v: c + offset for v, c in zip(sorted(ANCHORS), codes, strict=True)}
    stored = pd.DataFrame(np.vectorize(coding.get)(ANSWERS), columns=ITEMS)
    labels = {c: {coding[v]: ANCHORS[v] for v in ANCHORS} for c in ITEMS}
    scored = score_frame(relabel(stored, labels), WAI, labels=True)
    pd.testing.assert_frame_equal(scored, _expected())
    moved = any(code != value for value, code in coding.items())
    assert bool(label_conflicts(labels, MAPPING, WAI)) == moved


def test_cli_refuses_a_shifted_file_and_scores_it_by_label(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write_sav(tmp_path / "shifted.sav", {v: v - 1 for v in ANCHORS})
    argv = [str(path), "--instrument", "wai-sr", "--keep", "client_id"]
    code = main(["score", *argv, "-o", str(tmp_path / "refused.csv")])
    err = capsys.readouterr().err
    assert code == 2
    assert "code 0 is labelled 'Seldom', which wai-sr@1.0 scores 1" in err
    assert "--labels" in err
    assert not (tmp_path / "refused.csv").exists()

    out = tmp_path / "scores.csv"
    code = main(["score", *argv, "--labels", "-o", str(out), "--json"])
    captured = capsys.readouterr()
    assert code == 0
    assert json.loads(captured.out)["input"]["value_labels"] == "scored as anchor labels"
    scores = read_table(out)
    expected = _expected()
    for scale in ("goal", "task", "bond", "total"):
        np.testing.assert_allclose(scores[scale].astype(float), expected[scale])


def test_cli_reversed_codes_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Codes 1-5 in reverse order are all in range: only the labels show the error
    (4 conflicts per item, as the middle code 3 is right: 48, of which 4 are shown)."""
    path = _write_sav(tmp_path / "reversed.sav", {v: 6 - v for v in ANCHORS})
    code = main(["score", str(path), "--instrument", "wai-sr", "-o", str(tmp_path / "s.csv")])
    assert code == 2
    assert "(and 44 more)" in capsys.readouterr().err


def test_cli_agreeing_labels_score_the_codes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write_sav(tmp_path / "plain.sav", {v: v for v in ANCHORS})
    out = tmp_path / "scores.csv"
    code = main(["score", str(path), "--instrument", "wai-sr", "-o", str(out), "--json"])
    captured = capsys.readouterr()
    assert code == 0
    assert "agree with the instrument's anchors" in captured.err
    assert json.loads(captured.out)["input"]["value_labels"] is None
    np.testing.assert_allclose(read_table(out)["total"].astype(float), _expected()["total"])


def test_check_applies_the_same_rule(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write_sav(tmp_path / "shifted.sav", {v: v - 1 for v in ANCHORS})
    assert main(["check", str(path), "--instrument", "wai-sr", "--no-ci"]) == 2
    assert "code 0 is labelled 'Seldom'" in capsys.readouterr().err
    main(["check", str(path), "--instrument", "wai-sr", "--no-ci", "--labels", "--json"])
    report = json.loads(capsys.readouterr().out)
    plain = _write_sav(tmp_path / "plain.sav", {v: v for v in ANCHORS})
    main(["check", str(plain), "--instrument", "wai-sr", "--no-ci", "--json"])
    assert json.loads(capsys.readouterr().out) == report


def test_labels_that_name_no_anchor_leave_the_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """With --labels, "Refused" on -99 keeps -99 (a declared missing code), and labels in
    another language keep the codes they label."""
    codes = {v: v - 1 for v in ANCHORS}
    data = pd.DataFrame({c: [codes[v] for v in ANSWERS[:, j]] for j, c in enumerate(ITEMS)})
    data.iloc[1, 3] = -99.0
    data.insert(0, "client_id", ["A", "B", "C", "D"])
    shifted = {codes[v]: ANCHORS[v] for v in ANCHORS} | {-99.0: "Refused"}
    path = tmp_path / "refused.sav"
    pyreadstat.write_sav(data, path, variable_value_labels=dict.fromkeys(ITEMS, shifted))
    out = tmp_path / "scores.csv"
    argv = ["score", str(path), "-i", "wai-sr", "--labels", "--missing-code", "-99"]
    assert main([*argv, "-o", str(out), "--problems", str(tmp_path / "p.csv")]) == 0
    expected = score_frame(
        pd.DataFrame(np.where(data[ITEMS] == -99, np.nan, ANSWERS), columns=ITEMS), WAI
    )
    np.testing.assert_allclose(read_table(out)["total"].astype(float), expected["total"])

    spanish = ["Rara vez", "A veces", "Con frecuencia", "Muy a menudo", "Siempre"]
    other = {v: spanish[int(v) - 1] for v in ANCHORS}
    plain = pd.DataFrame(ANSWERS, columns=ITEMS)
    path = tmp_path / "spanish.sav"
    pyreadstat.write_sav(plain, path, variable_value_labels=dict.fromkeys(ITEMS, other))
    assert main(["score", str(path), "-i", "wai-sr", "--labels", "-o", str(out)]) == 0
    np.testing.assert_allclose(read_table(out)["total"].astype(float), _expected()["total"])
    capsys.readouterr()


def test_string_codes_are_scored_by_label(tmp_path: Path) -> None:
    """An SPSS string variable coded "A" to "E", labelled with the anchors."""
    letters = dict(zip("ABCDE", sorted(ANCHORS), strict=True))
    labels = {code: ANCHORS[v] for code, v in letters.items()}
    inverse = {v: code for code, v in letters.items()}
    data = pd.DataFrame({c: [inverse[v] for v in ANSWERS[:, j]] for j, c in enumerate(ITEMS)})
    assert relabel(data, {"wai_sr_01": labels})["wai_sr_01"].tolist() == [
        ANCHORS[v] for v in ANSWERS[:, 0]
    ]
    path = tmp_path / "letters.sav"
    pyreadstat.write_sav(data, path, variable_value_labels=dict.fromkeys(ITEMS, labels))
    out = tmp_path / "scores.csv"
    assert main(["score", str(path), "-i", "wai-sr", "--labels", "-q", "-o", str(out)]) == 0
    np.testing.assert_allclose(read_table(out)["total"].astype(float), _expected()["total"])


def test_labels_that_name_no_anchor_are_not_called_agreeing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = {1: "Rara vez", 2: "A veces", 3: "Con frecuencia", 4: "Muy a menudo", 5: "Siempre"}
    path = tmp_path / "spanish.sav"
    data = pd.DataFrame(ANSWERS, columns=ITEMS)
    pyreadstat.write_sav(data, path, variable_value_labels=dict.fromkeys(ITEMS, other))
    assert main(["score", str(path), "-i", "wai-sr", "-o", str(tmp_path / "s.csv")]) == 0
    err = capsys.readouterr().err
    assert "agree" not in err
    assert "name none of wai-sr@1.0's anchors" in err
