"""The catalogue and authoring commands print what the library returns."""

from __future__ import annotations

import itertools
import json
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alliance_score import list_instruments, load_instrument, parse_instrument
from alliance_score.authoring import check_definition
from alliance_score.catalogue import instrument_page
from alliance_score.cli import main

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "recovery-alliance.toml"
SHIPPED = sorted(s.id for s in list_instruments() if s.shipped)


@pytest.fixture(autouse=True)
def _no_user_folders(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ALLIANCE_SCORE_INSTRUMENTS", raising=False)


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


# -- instruments ---------------------------------------------------------------------


def test_instruments_table_shows_status_per_scale(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "instruments")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["ID", "VERSION", "NAME", "RATER", "ITEMS", "SCALES", "(STATUS)"]
    rows = {line.split()[0]: line for line in lines[1:]}
    assert sorted(rows) == SHIPPED
    assert rows["wai-s"].endswith(
        "task (provisional), goal (provisional), bond (provisional), total (provisional)"
    )
    assert rows["tps"].endswith("total (provisional), total_0_100 (provisional)")


def test_instruments_json_equals_library(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "instruments", "--json")
    assert code == 0
    expected = [s.model_dump(exclude={"path"}) for s in list_instruments()]
    assert json.loads(out) == expected


@pytest.mark.parametrize("how", ["env", "option"])
def test_user_folder_definitions_are_listed_and_shown_by_id(
    how: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    shutil.copy(EXAMPLE, tmp_path)
    extra: list[str] = []
    if how == "env":
        monkeypatch.setenv("ALLIANCE_SCORE_INSTRUMENTS", str(tmp_path))
    else:
        extra = ["--search-path", str(tmp_path)]
    code, out, _ = _run(capsys, "instruments", *extra)
    assert code == 0
    assert out.splitlines()[1].startswith("recovery-alliance ")
    code, out, _ = _run(capsys, "show", "recovery-alliance", *extra)
    assert code == 0
    assert out == instrument_page(load_instrument(EXAMPLE))


# -- show ----------------------------------------------------------------------------


@pytest.mark.parametrize("instrument_id", SHIPPED)
def test_show_prints_the_docs_page(instrument_id: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "show", instrument_id)
    assert code == 0
    assert out == (ROOT / "docs" / "instruments" / f"{instrument_id}.md").read_text()


def test_show_accepts_a_path(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "show", str(EXAMPLE))
    assert code == 0
    assert out == instrument_page(load_instrument(EXAMPLE))


def test_show_unknown_id_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "show", "wai-rs")
    assert code == 2
    assert out == ""
    assert "Unknown instrument 'wai-rs'" in err
    assert "'wai-sr'" in err


# -- template ------------------------------------------------------------------------


def test_template_to_stdout_loads_as_is(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "template")
    assert code == 0
    ins = parse_instrument(out)
    assert (ins.id, len(ins.items), ins.scale_ids) == ("my-instrument", 10, ("total",))
    assert ins.provisional_scales == ("total",)
    assert out.startswith("# Starter definition")


def test_template_file_with_scales_and_reverse(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "ra.toml"
    argv = [
        "template", "--id", "ra", "--items", "8", "--min", "0", "--max", "4",
        "--scale", "trust=1-4", "--scale", "bond=5,6,8", "--reverse", "3,7",
        "--method", "sum", "--rater", "patient", "-o", str(target),
    ]  # fmt: skip
    code, out, err = _run(capsys, *argv)
    assert (code, out) == (0, "")
    assert f"validate-definition {target}" in err
    ins = load_instrument(target)
    assert ins.scale("trust").items == ("1", "2", "3", "4")
    assert ins.scale("bond").items == ("5", "6", "8")
    assert ins.reversed_items == ("3", "7")
    assert (ins.response.min, ins.response.max, ins.rater) == (0, 4, "patient")
    assert {s.method for s in ins.scales} == {"sum"}
    assert _run(capsys, *argv)[0] == 2, "an existing file is not overwritten"
    assert _run(capsys, *argv, "--force")[0] == 0


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        pytest.param(["--id", "bad id"], "--id must start with", id="bad-id"),
        pytest.param(["--items", "0"], "--items must be from 1 to 500", id="no-items"),
        pytest.param(["--min", "5", "--max", "5"], "--min must be less than --max", id="min-max"),
        pytest.param(["--scale", "trust"], "--scale expects NAME=ITEMS", id="no-items-list"),
        pytest.param(["--scale", "t=1-11"], "item numbers from 1 to 10", id="item-too-high"),
        pytest.param(["--scale", "t=a-b"], "item numbers or ranges", id="not-numbers"),
        pytest.param(["--scale", "t=1", "--scale", "t=2"], "given twice", id="duplicate"),
        pytest.param(["--scale", "t=,"], "names no item", id="empty"),
        pytest.param(["--reverse", "0"], "item numbers from 1 to 10", id="reverse-zero"),
    ],
)
def test_template_bad_options_are_usage_errors(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(capsys, "template", *argv)
    assert (code, out) == (2, "")
    assert message in err


@pytest.mark.parametrize("where", ["missing/folder/x.toml", "."], ids=["no-folder", "a-folder"])
def test_template_output_that_cannot_be_written_is_one_error_line(
    where: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(capsys, "template", "--force", "-o", str(tmp_path / where))
    assert (code, out) == (2, "")
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert "Cannot write" in err


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    n=st.integers(1, 40),
    low=st.integers(-3, 3),
    span=st.integers(1, 9),
    cuts=st.lists(st.integers(1, 40), max_size=4),
    method=st.sampled_from(["mean", "sum", "tcu", "pomp"]),
)
def test_template_always_loads(
    n: int,
    low: int,
    span: int,
    cuts: list[int],
    method: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    bounds = sorted({c for c in cuts if c < n} | {0, n})
    scales = [f"s{k}={a + 1}-{b}" for k, (a, b) in enumerate(itertools.pairwise(bounds))]
    argv = ["template", "--items", str(n), "--min", str(low), "--max", str(low + span)]
    argv += ["--method", method, "--reverse", "1"]
    for spec in scales:
        argv += ["--scale", spec]
    code, out, _ = _run(capsys, *argv)
    assert code == 0
    ins = parse_instrument(out)
    assert len(ins.items) == n
    assert sum(len(s.items) for s in ins.scales) == n
    assert all(1 <= s.min_answered <= len(s.items) for s in ins.scales)


# -- validate-definition -------------------------------------------------------------


def _broken(tmp_path: Path) -> Path:
    text = EXAMPLE.read_text().replace("reverse = true", "revers = true")
    path = tmp_path / "broken.toml"
    path.write_text(text)
    return path


def test_validate_valid_definition(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "validate-definition", str(EXAMPLE))
    assert code == 0
    assert out == (
        f"{EXAMPLE}: valid definition of recovery-alliance@1.0; "
        "scales: trust (provisional), bond (provisional)\n"
    )


def test_validate_invalid_definition_prints_paths(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _broken(tmp_path)
    code, out, _ = _run(capsys, "validate-definition", str(path))
    assert code == 1
    assert out.splitlines() == [
        f"{path}: invalid, 1 problem(s)",
        "  items[2](3).revers: Extra inputs are not permitted (got True)",
    ]


def test_validate_json_equals_library(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _broken(tmp_path)
    code, out, _ = _run(capsys, "validate-definition", str(path), str(EXAMPLE), "--json")
    assert code == 1
    expected = [check_definition(path).to_dict(), check_definition(EXAMPLE).to_dict()]
    assert json.loads(out) == expected
    code, out, _ = _run(capsys, "validate-definition", str(EXAMPLE), "--json")
    assert code == 0
    assert json.loads(out) == check_definition(EXAMPLE).to_dict()


def test_validate_unreadable_file_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(capsys, "validate-definition", str(tmp_path / "missing.toml"))
    assert (code, out) == (2, "")
    assert "Cannot read definition" in err


def test_validate_prints_notes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "cautious.toml"
    path.write_text(EXAMPLE.read_text().replace('level = "U"', 'level = "P"'))
    code, out, _ = _run(capsys, "validate-definition", str(path))
    assert code == 0
    assert "  note: scale 'trust' is declared provisional" in out


@pytest.mark.parametrize("command", ["instruments", "show", "template", "validate-definition"])
def test_help_shows_an_example(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0
    assert "example" in capsys.readouterr().out
