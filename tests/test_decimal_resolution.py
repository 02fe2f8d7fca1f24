"""Decimal commas and slider values finer than the step: explicit options, never guesses."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alliance_score import load_instrument, score_frame
from alliance_score.cli import main
from alliance_score.io import read_table
from alliance_score.parsing import CellRules

SETTINGS = settings(max_examples=60, deadline=None)
SRS = load_instrument("srs")
WAI_SR = load_instrument("wai-sr")
SRS_ITEMS = ["relationship", "goals", "approach", "overall"]


def test_cell_rules_keep_their_signature_and_take_the_new_options() -> None:
    plain = CellRules.build(SRS, missing_codes=["-99"], labels=False)
    assert (plain.decimal, plain.any_resolution, plain.step) == (".", False, 0.1)
    comma = CellRules.build(SRS, decimal=",", any_resolution=True)
    assert (comma.decimal, comma.any_resolution, comma.step) == (",", True, None)
    # a Likert item always takes whole steps
    assert CellRules.build(WAI_SR, any_resolution=True).step == 1.0
    with pytest.raises(ValueError, match="decimal must be"):
        CellRules.build(SRS, decimal=";")


@SETTINGS
@given(st.integers(0, 100))
def test_a_decimal_comma_reads_as_the_same_number_with_the_option(tenths: int) -> None:
    text = f"{tenths // 10},{tenths % 10}"
    rules = CellRules.build(SRS, decimal=",")
    assert rules.interpret(text) == CellRules.build(SRS).interpret(text.replace(",", "."))
    assert CellRules.build(SRS).interpret(text)[1] != 0  # without the option: a problem


def test_decimal_commas_are_reported_then_read_on_request() -> None:
    data = pd.DataFrame({k: ["8,5"] for k in SRS_ITEMS})
    res = score_frame(data, "srs", return_problems=True)
    assert set(res.problems["code"]) == {"not_a_number"}
    message = str(res.problems.loc[0, "message"])
    assert "decimal comma: if the file uses decimal commas, pass decimal=','" in message
    scores = score_frame(data, "srs", decimal=",")
    assert scores.loc[0, "total"] == 34.0


def test_slider_values_finer_than_the_step_need_the_option() -> None:
    data = pd.DataFrame({"relationship": [7.25], "goals": [9], "approach": [9], "overall": [9]})
    res = score_frame(data, "srs", return_problems=True)
    assert list(res.problems["code"]) == ["not_allowed_value"]
    assert "any_resolution=True (--any-resolution)" in str(res.problems.loc[0, "message"])
    scores = score_frame(data, "srs", any_resolution=True)
    assert scores.loc[0, "total"] == 34.25  # as recorded, not rounded
    assert scores.attrs["alliance_score"]["any_resolution"] is True
    assert "any_resolution" not in score_frame(data.round(), "srs").attrs["alliance_score"]
    likert = pd.DataFrame({str(i): [4.5] for i in range(1, 13)})
    assert score_frame(likert, "wai-sr", any_resolution=True).loc[0, "status"] == "invalid"


def test_read_table_rewrites_only_whole_decimal_comma_cells(tmp_path: Path) -> None:
    path = tmp_path / "eu.csv"
    path.write_text("id;note;relationship\nA;1,2,3;8,5\nB;x,5;9\n", encoding="cp1252")
    table = read_table(path, decimal=",")
    assert list(table["relationship"]) == ["8.5", "9"]
    assert list(table["note"]) == ["1,2,3", "x,5"]
    assert list(read_table(path)["relationship"]) == ["8,5", "9"]


def test_cli_decimal_and_any_resolution(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "srs.csv"
    path.write_text(
        "client_id;relationship;goals;approach;overall\nA;8,5;9;9;7,25\n", encoding="cp1252"
    )
    out = tmp_path / "s.csv"
    base = ["score", str(path), "-i", "srs", "-o", str(out), "--json"]
    assert main(base) == 1
    assert main([*base, "--decimal", ","]) == 1  # 7.25 is finer than 0.1
    capsys.readouterr()
    assert main([*base, "--decimal", ",", "--any-resolution"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["any_resolution"] is True
    assert pd.read_csv(out)["total"].tolist() == [33.75]


def test_check_reads_decimal_commas_on_request(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "wai.csv"
    rows = [";".join(f"{3 + (i + r) % 3},0" for i in range(12)) for r in range(30)]
    header = ";".join(f"wai_{i}" for i in range(1, 13))
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    assert main(["check", str(path), "-i", "wai-sr", "--no-ci", "--json"]) in (0, 1)
    plain = json.loads(capsys.readouterr().out)
    assert main(["check", str(path), "-i", "wai-sr", "--no-ci", "--json", "--decimal", ","]) in (
        0,
        1,
    )
    read = json.loads(capsys.readouterr().out)
    n_rows = {r["scale"]: r["n_rows"] for r in read["reliability"]}
    assert n_rows["total"] == 30
    assert all(r["n_rows"] in (0, None) for r in plain["reliability"])
