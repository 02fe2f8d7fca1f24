"""The ``score`` command end to end, in-process, against the library's own results."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from alliance_score import score_frame
from alliance_score.cli import main
from alliance_score.frame import PROBLEM_COLUMNS
from alliance_score.io import read_table
from alliance_score.io.accounting import PROBLEM_FILE_COLUMNS
from alliance_score.io.writers import to_text

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
MESSY = EXAMPLES / "messy_wai_sr.csv"
CLI_ONLY = ("input", "keep", "elapsed_seconds", "definition")


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _parsed(text: str) -> pd.DataFrame:
    """CSV text as a table of strings (quoting may differ between chunks)."""
    return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)


def _no_ragged_copy(tmp_path: Path) -> Path:
    """The messy example without its ragged line (so the library sees the same rows)."""
    lines = MESSY.read_bytes().split(b"\r\n")
    kept = [line for line in lines if not line.startswith(b"C011,")]
    path = tmp_path / "messy_no_ragged.csv"
    path.write_bytes(b"\r\n".join(kept))
    return path


def test_messy_example_every_row_and_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scores, problems = tmp_path / "scores.csv", tmp_path / "problems.csv"
    code, out, err = _run(
        capsys,
        "score",
        str(MESSY),
        "--instrument",
        "wai-sr",
        "-o",
        str(scores),
        "--problems",
        str(problems),
    )
    assert code == 1
    assert out == ""
    assert "18 rows read" in err and "invalid 8" in err
    got = read_table(scores)
    source_ids = read_table(MESSY)["client_id"].tolist()
    assert got["client_id"].str.removeprefix("'").tolist() == source_ids
    assert got["client_id"].iloc[13].startswith("'=HYPERLINK")
    table = read_table(problems)
    assert tuple(table.columns) == PROBLEM_FILE_COLUMNS
    assert list(zip(table["line"], table["code"], table["item"], strict=True)) == [
        ("6", "not_allowed_value", "3"),
        ("7", "out_of_range", "8"),
        ("8", "not_a_number", "1"),
        ("9", "not_a_number", "12"),
        ("10", "out_of_range", "6"),
        ("11", "not_finite", "10"),
        ("12", "out_of_range", "4"),
        ("13", "ragged_line", ""),
        ("14", "duplicate_row", ""),
    ]
    assert "line 12" in table["message"].iloc[-1]
    statuses = got["status"].tolist()
    assert statuses[11] == "invalid"  # the ragged line is not scored by default
    assert statuses[-2:] == ["complete", "complete"]  # rows after the two-line comment


def test_cli_tables_equal_library_tables(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _no_ragged_copy(tmp_path)
    scores, problems = tmp_path / "scores.csv", tmp_path / "problems.csv"
    code, _, _ = _run(
        capsys,
        "score",
        str(path),
        "-i",
        "wai-sr",
        "-o",
        str(scores),
        "--problems",
        str(problems),
        "--chunk-bytes",
        "300",
    )
    assert code == 1
    lib = score_frame(
        read_table(path), "wai-sr", keep=["client_id", "session"], return_problems=True
    )
    pd.testing.assert_frame_equal(
        _parsed(scores.read_text(encoding="utf-8")), _parsed(to_text(lib.scores))
    )
    cli_problems = pd.read_csv(problems, dtype=str, keep_default_na=False)
    cell = cli_problems[cli_problems["code"] != "duplicate_row"][list(PROBLEM_COLUMNS)]
    expected = pd.read_csv(io.StringIO(to_text(lib.problems)), dtype=str, keep_default_na=False)
    pd.testing.assert_frame_equal(cell.reset_index(drop=True), expected)


@pytest.mark.parametrize(
    ("name", "extra"),
    [
        pytest.param("wai_sr.tsv", [], id="tsv"),
        pytest.param("redcap_raw.csv", ["--keep", "record_id", "redcap_event_name"], id="redcap"),
        pytest.param("wai_sr.xlsx", [], id="xlsx"),
    ],
)
def test_json_report_equals_library_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, extra: list[str]
) -> None:
    path = EXAMPLES / name
    code, out, _ = _run(
        capsys, "score", str(path), "-i", "wai-sr", "-o", str(tmp_path / "s.csv"), "--json", *extra
    )
    report = json.loads(out)
    keep = report["keep"]
    lib = score_frame(read_table(path), "wai-sr", keep=keep, return_problems=True)
    expected: dict[str, Any] = json.loads(json.dumps(lib.summary()))
    assert {k: v for k, v in report.items() if k not in CLI_ONLY} == expected
    assert code == (1 if len(lib.problems) else 0)


def test_json_report_on_messy_adds_file_problems(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, out, _ = _run(
        capsys, "score", str(MESSY), "-i", "wai-sr", "-o", str(tmp_path / "s.csv"), "--json"
    )
    report = json.loads(out)
    lib = score_frame(
        read_table(MESSY), "wai-sr", keep=["client_id", "session"], return_problems=True
    )
    expected = json.loads(json.dumps(lib.summary()))
    # the file adds a ragged line (rejected: prorated -> invalid) and a duplicate
    expected["problems"].update({"ragged_line": 1, "duplicate_row": 1})
    expected["problems"] = dict(sorted(expected["problems"].items()))
    expected["status"]["prorated"] -= 1
    expected["status"]["invalid"] += 1
    assert {k: v for k, v in report.items() if k not in CLI_ONLY} == expected
    assert report["input"]["encoding"] == "utf-8-sig"


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        pytest.param(["wai_sr.tsv", "-i", "wai-sr"], 0, "problems: none", id="clean"),
        pytest.param(["messy_wai_sr.csv", "-i", "wai-sr"], 1, "problems: 9", id="problems"),
        pytest.param(
            ["wai_sr.tsv", "-i", "wai-xx"], 2, "Unknown instrument", id="unknown-instrument"
        ),
        pytest.param(
            ["wai_sr.tsv", "-i", "wai-sr", "--columns", "zz{item}"],
            2,
            "finds no column",
            id="unmappable",
        ),
        pytest.param(["absent.csv", "-i", "wai-sr"], 2, "no such file", id="missing-file"),
        pytest.param(
            ["wai_sr.tsv", "-i", "wai-sr", "--keep", "nope"], 2, "--keep names", id="bad-keep"
        ),
        pytest.param(
            ["wai_sr.tsv", "-i", "wai-sr", "--json"], 2, "give -o", id="json-needs-output"
        ),
        pytest.param(
            ["wai_sr.tsv", "-i", "wai-sr", "-o", "wai_sr.tsv"],
            2,
            "overwrite the input",
            id="own-input",
        ),
        pytest.param(
            ["wai_sr.tsv", "-i", "wai-sr", "--format", "parquet"],
            2,
            "standard output",
            id="binary-stdout",
        ),
    ],
)
def test_exit_codes(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
    code: int,
    message: str,
) -> None:
    monkeypatch.chdir(EXAMPLES)
    got, _, err = _run(capsys, "score", *argv)
    assert got == code
    assert message in err


def test_bad_column_option_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["score", str(EXAMPLES / "wai_sr.tsv"), "-i", "wai-sr", "--column", "1"]) == 2
    assert "ITEM=COLUMN" in capsys.readouterr().err


def test_scores_and_problems_need_different_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    same = str(tmp_path / "x.csv")
    code, _, err = _run(capsys, "score", str(MESSY), "-i", "wai-sr", "-o", same, "--problems", same)
    assert code == 2 and "different files" in err


def test_help_shows_an_example(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["score", "--help"])
    out = capsys.readouterr().out
    assert "examples:" in out and "alliance-score score examples/messy_wai_sr.csv" in out


def test_stdout_gets_scores_and_stderr_messages(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "score", str(EXAMPLES / "wai_sr.tsv"), "-i", "wai-sr")
    assert code == 0
    assert out.splitlines()[0].startswith("client_id,session,task,")
    assert len(out.splitlines()) == 7
    assert "items -> columns" in err


def test_quiet_prints_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, err = _run(
        capsys, "score", str(MESSY), "-i", "wai-sr", "-q", "-o", str(tmp_path / "s.csv")
    )
    assert (out, err) == ("", "")


@pytest.mark.parametrize("suffix", ["tsv", "parquet", "xlsx"])
def test_output_formats(tmp_path: Path, capsys: pytest.CaptureFixture[str], suffix: str) -> None:
    out = tmp_path / f"scores.{suffix}"
    problems = tmp_path / f"problems.{suffix}"
    _run(capsys, "score", str(MESSY), "-i", "wai-sr", "-o", str(out), "--problems", str(problems))
    assert len(read_table(out)) == 18
    assert len(read_table(problems)) == 9


def test_label_export_scores_like_raw_export(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    raw, labels = tmp_path / "raw.csv", tmp_path / "labels.csv"
    _run(capsys, "score", str(EXAMPLES / "redcap_raw.csv"), "-i", "wai-sr", "-o", str(raw))
    _, _, err = _run(
        capsys, "score", str(EXAMPLES / "redcap_labels.csv"), "-i", "wai-sr", "-o", str(labels)
    )
    assert "anchor labels" in err
    a, b = read_table(raw), read_table(labels)
    pd.testing.assert_frame_equal(a.iloc[:, 5:], b.iloc[:, 5:])


def test_qualtrics_problem_lines_count_the_header_rows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (
        (EXAMPLES / "qualtrics.csv")
        .read_text(encoding="utf-8")
        .replace("R_0002abc,3,4", "R_0002abc,9,4")
    )
    path = tmp_path / "q.csv"
    path.write_text(text, encoding="utf-8")
    problems = tmp_path / "p.csv"
    code, _, err = _run(
        capsys,
        "score",
        str(path),
        "-i",
        "wai-sr",
        "-o",
        str(tmp_path / "s.csv"),
        "--problems",
        str(problems),
    )
    assert code == 1 and "Qualtrics" in err
    table = read_table(problems)
    assert table[["line", "row", "code"]].to_numpy().tolist() == [["17", "1", "out_of_range"]]


def test_on_invalid_missing_scores_the_ragged_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "s.csv"
    _run(capsys, "score", str(MESSY), "-i", "wai-sr", "-o", str(out), "--on-invalid", "missing")
    assert read_table(out)["status"].iloc[11] == "prorated"


def test_interrupted_run_leaves_no_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import alliance_score.cli.score as score_module

    def boom(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(score_module, "account", boom)
    out = tmp_path / "s.csv"
    code, _, err = _run(capsys, "score", str(MESSY), "-i", "wai-sr", "-o", str(out))
    assert code == 130 and "Interrupted" in err
    assert list(tmp_path.iterdir()) == []


class _FakeTerminal:
    def __init__(self) -> None:
        self.text = ""

    def isatty(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.text += text
        return len(text)

    def flush(self) -> None:
        return None


@pytest.mark.parametrize(
    ("tty", "quiet", "shown"),
    [
        pytest.param(True, False, True, id="terminal"),
        pytest.param(True, True, False, id="quiet"),
        pytest.param(False, False, False, id="piped"),
    ],
)
def test_progress_only_on_a_terminal(
    monkeypatch: pytest.MonkeyPatch, tty: bool, quiet: bool, shown: bool
) -> None:
    from alliance_score.cli.score import _Progress

    terminal = _FakeTerminal()
    monkeypatch.setattr(terminal, "isatty", lambda: tty)
    monkeypatch.setattr("sys.stderr", terminal)
    progress = _Progress(quiet, delay=0.0)
    progress.update(0.5, 1000)
    progress.close()
    assert ("50.0%" in terminal.text) is shown


def test_without_pyarrow_the_results_are_the_same(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import alliance_score.io.source as source
    import alliance_score.io.writers as writers

    path = _no_ragged_copy(tmp_path)
    fast = tmp_path / "fast.csv"
    slow = tmp_path / "slow.csv"
    _run(capsys, "score", str(path), "-i", "wai-sr", "-o", str(fast))
    monkeypatch.setattr(source, "_has_arrow", lambda: False)
    monkeypatch.setattr(writers, "_has_arrow", lambda: False)
    _run(capsys, "score", str(path), "-i", "wai-sr", "-o", str(slow))
    assert fast.read_text(encoding="utf-8") == slow.read_text(encoding="utf-8")


def test_sigterm_is_handled_like_ctrl_c_and_restored() -> None:
    import signal

    from alliance_score.cli._common import (
        TERMINATING_SIGNALS,
        _interrupt,
        terminate_as_interrupt,
    )

    before = [signal.getsignal(s) for s in TERMINATING_SIGNALS]
    assert signal.SIGTERM in TERMINATING_SIGNALS and signal.SIGHUP in TERMINATING_SIGNALS
    with terminate_as_interrupt():
        assert all(signal.getsignal(s) is _interrupt for s in TERMINATING_SIGNALS)
        with pytest.raises(KeyboardInterrupt):
            _interrupt(signal.SIGTERM, None)
    assert [signal.getsignal(s) for s in TERMINATING_SIGNALS] == before


@pytest.mark.parametrize("chunk_bytes", ["64", "2097152"])
def test_row_problems_come_first_in_order_and_name_the_first_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], chunk_bytes: str
) -> None:
    """A row that repeats an identifier, is ragged and has a bad cell: its ragged line,
    then its duplicate, then its cell problems; each duplicate names the first line."""
    items = ",".join(f"wai_{i}" for i in range(1, 13))
    data = tmp_path / "rows.csv"
    data.write_text(
        f"record_id,{items}\n"
        + "r1,"
        + ",".join(["4"] * 12)
        + "\n"
        + "r2,"
        + ",".join(["4"] * 11)
        + ",x\n"
        + "r1,"
        + ",".join(["4"] * 10)
        + ",x\n"  # ragged, duplicate, bad cell
        + "r2,"
        + ",".join(["3"] * 12)
        + "\n"
        + "r1,"
        + ",".join(["5"] * 12)
        + "\n",
        encoding="utf-8",
    )
    problems = tmp_path / "problems.csv"
    code, _, _ = _run(
        capsys,
        "score",
        str(data),
        "-i",
        "wai-sr",
        "--chunk-bytes",
        chunk_bytes,
        "-o",
        str(tmp_path / "scores.csv"),
        "--problems",
        str(problems),
    )
    assert code == 1
    table = _parsed(problems.read_text(encoding="utf-8"))
    assert list(zip(table["line"], table["code"], strict=True)) == [
        ("3", "not_a_number"),
        ("4", "ragged_line"),
        ("4", "duplicate_row"),
        ("4", "not_a_number"),
        ("5", "duplicate_row"),
        ("6", "duplicate_row"),
    ]
    duplicates = table[table["code"] == "duplicate_row"]
    assert duplicates["message"].tolist() == [
        f"Row {row} (line {line}) has the same identifiers (record_id) as the row on line "
        f"{first}; both are kept and scored."
        for row, line, first in [(2, 4, 2), (3, 5, 3), (4, 6, 2)]
    ]
    assert duplicates["row"].tolist() == ["2", "3", "4"]
    assert duplicates["index"].tolist() == ["2", "3", "4"]
    assert (duplicates[["column", "item", "value"]] == "").all().all()
