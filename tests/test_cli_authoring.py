"""Authoring commands as a new user meets them: template, validate-definition, show."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from alliance_score.cli import main
from alliance_score.registry import parse_instrument


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_validate_reports_every_file_even_when_one_is_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ok = tmp_path / "ok.toml"
    assert main(["template", "--id", "ok", "-o", str(ok)]) == 0
    capsys.readouterr()
    missing = tmp_path / "missing.toml"
    code, out, err = _run(capsys, "validate-definition", str(ok), str(missing))
    assert code == 2
    assert f"{ok}: valid definition of ok@1.0" in out
    assert err.count("alliance-score: error:") == 1
    assert "missing.toml" in err
    code, out, _ = _run(capsys, "validate-definition", str(ok), str(missing), "--json")
    assert code == 2
    assert [r["valid"] for r in json.loads(out)] == [True, False]


def test_validate_a_folder_is_one_line_naming_its_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(capsys, "validate-definition", str(tmp_path))
    assert code == 2
    assert out == ""
    (line,) = err.splitlines()
    assert "is a folder" in line
    assert "*.toml" in line


def test_template_name_must_be_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "template", "--name", "Peer\nTrust")
    assert code == 2
    assert out == ""
    assert "--name must be one line" in err
    assert "not valid TOML" not in err
    code, out, _ = _run(capsys, "template", "--name", 'Peer Trust: v2 "quoted" \\ # text')
    assert code == 0
    assert parse_instrument(out).name == 'Peer Trust: v2 "quoted" \\ # text'


def test_backwards_scale_range_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "template", "--items", "6", "--scale", "a=3-1")
    assert code == 2
    assert "the range '3-1' runs backwards; write 1-3" in err
    code, _, err = _run(capsys, "template", "--items", "6", "--scale", "a=1-9")
    assert "from 1 to 6" in err


def test_template_rater_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["template", "--help"])
    assert "who answers the questionnaire" in capsys.readouterr().out


def test_show_prints_a_scales_description(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "d.toml"
    assert main(["template", "--id", "d", "--items", "4", "-o", str(path)]) == 0
    text = path.read_text(encoding="utf-8").replace(
        'id = "total"', 'id = "total"\ndescription = "Trust in the worker, all four items."', 1
    )
    path.write_text(text, encoding="utf-8")
    capsys.readouterr()
    code, out, _ = _run(capsys, "show", str(path))
    assert code == 0
    assert "- `total`: Trust in the worker, all four items." in out
