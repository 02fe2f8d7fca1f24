"""The ``alliance-score check`` command, run in-process."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from alliance_score.cli import main
from alliance_score.io import read_table
from alliance_score.psychometrics import psychometric_report

REFERENCE = Path(__file__).parent / "reference" / "psych_wai_s.csv"


def export(tmp_path: Path, *, miskey: int | None = None) -> Path:
    """The WAI-S reference export (items 4 and 10 as answered, missing cells), optionally
    with one more item stored reversed by mistake."""
    data = pd.read_csv(REFERENCE, dtype=str, keep_default_na=False)
    if miskey is not None:
        col = f"wai_{miskey}"
        answered = data[col] != ""
        data.loc[answered, col] = (8 - data.loc[answered, col].astype(int)).astype(str)
    path = tmp_path / "export.csv"
    data.to_csv(path, index=False)
    return path


@pytest.mark.parametrize(
    ("miskey", "code"),
    [pytest.param(None, 0, id="keyed-correctly"), pytest.param(7, 1, id="item7-miskeyed")],
)
def test_exit_code_follows_the_keying_checks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], miskey: int | None, code: int
) -> None:
    argv = ["check", str(export(tmp_path, miskey=miskey)), "-i", "wai-s", "--allow-provisional"]
    assert main(argv) == code
    out = capsys.readouterr().out
    if miskey is None:
        assert "Keying checks: 0 failed" in out
        assert "FAIL" not in out
    else:
        fails = [line for line in out.splitlines() if "FAIL" in line]
        assert fails
        assert all("Item '7'" in line for line in fails)


@pytest.mark.parametrize(
    "options",
    [
        pytest.param([], id="defaults"),
        pytest.param(["--allow-provisional", "--missing", "listwise"], id="listwise"),
        pytest.param(["--scale", "total", "--ci", "0.9"], id="ci-90"),
        pytest.param(["--columns", "wai_{item}", "--no-ci"], id="pattern-no-ci"),
    ],
)
def test_json_equals_the_library_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], options: list[str]
) -> None:
    path = export(tmp_path, miskey=5)
    argv = ["check", str(path), "-i", "wai-s", "--json", *options]
    if "--allow-provisional" not in options:
        argv.append("--allow-provisional")
    assert main(argv) == 1
    printed = json.loads(capsys.readouterr().out)
    kwargs: dict[str, object] = {
        "allow_provisional": True,  # every WAI-S scale is provisional
        "missing": "listwise" if "listwise" in options else "pairwise",
        "scales": ["total"] if "--scale" in options else None,
        "ci": None if "--no-ci" in options else (0.9 if "0.9" in options else 0.95),
        "items": "wai_{item}" if "--columns" in options else None,
    }
    report = psychometric_report(read_table(path), "wai-s", **kwargs)  # type: ignore[arg-type]
    assert printed.pop("coding") == []  # the data set's coding notes (tests/test_coding.py)
    assert printed == json.loads(json.dumps(report.to_dict()))
    assert printed["failed"] is True


def test_without_scipy_the_interval_is_left_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "scipy" else real(name, *a)
    )
    assert (
        main(["check", str(export(tmp_path)), "-i", "wai-s", "--json", "--allow-provisional"]) == 0
    )
    captured = capsys.readouterr()
    assert "alliance-score[stats]" in captured.err
    rows = json.loads(captured.out)["reliability"]
    assert all(r["alpha_ci_lower"] is None for r in rows)


def test_missing_codes_and_labels_are_passed_through(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    x = np.clip(
        np.rint(3 + np.random.default_rng(2).normal(size=(80, 1)) + np.zeros((80, 12))), 1, 5
    )
    data = pd.DataFrame(x.astype(int).astype(str), columns=[f"q{i}" for i in range(1, 13)])
    data.iloc[0, 0] = "-99"
    data.iloc[1, 1] = "Always"
    path = tmp_path / "wai_sr.csv"
    data.to_csv(path, index=False)
    argv = ["check", str(path), "-i", "wai-sr", "--json", "--scale", "total"]
    assert main([*argv, "--missing-code", "-99", "--labels"]) == 0
    freq = json.loads(capsys.readouterr().out)["frequencies"]
    item1 = {(f["kind"], f["value"]): f["n"] for f in freq if f["item"] == "1"}
    assert item1[("missing", None)] == 1
    assert item1[("invalid", None)] == 0
    assert main(argv) == 1  # -99 undeclared: item 1 fails the range check
    assert "(an undeclared code?)" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        pytest.param(["check", "{missing}", "-i", "wai-s"], "Cannot read", id="unreadable"),
        pytest.param(["check", "{export}", "-i", "nope"], "Unknown instrument", id="instrument"),
        pytest.param(["check", "{export}", "-i", "srs"], "Cannot match", id="mapping"),
        pytest.param(
            ["check", "{export}", "-i", "wai-s", "--scale", "bond"], "provisional", id="prov"
        ),
    ],
)
def test_usage_and_input_errors_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], needle: str
) -> None:
    values = {"missing": str(tmp_path / "absent.csv"), "export": str(export(tmp_path))}
    assert main([a.format(**values) for a in argv]) == 2
    assert needle in capsys.readouterr().err


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param(["--ci", "95"], id="ci-percent"),
        pytest.param(["--ci", "x"], id="ci-text"),
        pytest.param(["--norm-margin", "2"], id="margin"),
        pytest.param(["--ci", "0.9", "--no-ci"], id="ci-and-no-ci"),
        pytest.param(["--missing", "mean"], id="policy"),
    ],
)
def test_bad_options_are_usage_errors(tmp_path: Path, bad: list[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["check", str(export(tmp_path)), "-i", "wai-s", *bad])
    assert exc.value.code == 2


def test_help_shows_an_example(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["check", "--help"])
    assert exc.value.code == 0
    assert "alliance-score check export.csv --instrument wai-sr" in capsys.readouterr().out


def test_redcap_label_export_is_checked_through_the_anchor_labels(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The label export holds the same answers as the raw one, as text anchors."""
    examples = Path(__file__).resolve().parents[1] / "examples"
    reports = []
    for name in ("redcap_raw.csv", "redcap_labels.csv"):
        main(["check", str(examples / name), "-i", "wai-sr", "--no-ci", "--json"])
        reports.append(json.loads(capsys.readouterr().out))
    for table in ("reliability", "items", "keying"):
        assert reports[0][table] == reports[1][table]
    assert reports[1]["reliability"][0]["n_rows"] == 6
