"""The ``sessions`` command writes the same tables as the library."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest

from alliance_score.cli import main
from alliance_score.sessions import cutoff_events, detect_ruptures, summarize_clients

SCORES = pd.DataFrame(
    {
        "client": ["a"] * 10 + ["b"] * 4 + ["c"] * 2,
        "session": [*range(1, 11), 1, 2, 3, 5, 1, 2],
        "total": [5, 5, 5, 5, 5, 2, 5, 5, 5, 5, 3.5, 4.25, 4.0, 6.5, 4.1, None],
        "status": ["complete"] * 16,
    }
)


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path)


def _same(cli_file: Path, library: pd.DataFrame) -> None:
    expected = pd.read_csv(io.StringIO(library.to_csv(index=False)))
    pd.testing.assert_frame_equal(
        _read(cli_file), expected, check_exact=False, check_dtype=False, rtol=1e-12
    )


def test_cli_writes_library_tables(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "scores.csv"
    SCORES.to_csv(src, index=False)
    out, rup, ev = tmp_path / "summary.csv", tmp_path / "ruptures.csv", tmp_path / "events.csv"
    code = main(
        [
            "sessions",
            str(src),
            "--client",
            "client",
            "--session",
            "session",
            "-o",
            str(out),
            "--ruptures",
            str(rup),
            "--events",
            str(ev),
            "--cutoff",
            "4.5",
            "--drop",
            "1",
        ]
    )
    assert code == 0
    _same(out, summarize_clients(SCORES))
    _same(rup, detect_ruptures(SCORES))
    _same(ev, cutoff_events(SCORES, cutoff=4.5, drop=1.0))
    assert "Summarised 3 client trajectories." in capsys.readouterr().err


def test_cli_early_window_and_stdout(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "scores.csv"
    SCORES.to_csv(src, index=False)
    code = main(
        [
            "sessions",
            str(src),
            "--client",
            "client",
            "--session",
            "session",
            "--early-window",
            "2",
            "-q",
        ]
    )
    captured = capsys.readouterr()
    assert code == 0 and captured.err == ""
    got = pd.read_csv(io.StringIO(captured.out))
    lib = summarize_clients(SCORES, early="window", early_session=2)
    expected = pd.read_csv(io.StringIO(lib.to_csv(index=False)))
    pd.testing.assert_frame_equal(got, expected, check_exact=False, check_dtype=False, rtol=1e-12)


def test_cli_refuses_duplicates_with_exit_2_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "scores.csv"
    pd.concat([SCORES, SCORES.iloc[:1]]).to_csv(src, index=False)
    code = main(
        [
            "sessions",
            str(src),
            "--client",
            "client",
            "--session",
            "session",
            "-o",
            str(tmp_path / "s.csv"),
        ]
    )
    assert code == 2
    assert not (tmp_path / "s.csv").exists()
    err = capsys.readouterr().err
    assert "Row 16 repeats the identifiers ['client', 'session'] of row 0." in err
    assert "nothing was written" in err


def test_cli_leaves_out_rows_without_a_session_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "scores.csv"
    unplaced = pd.DataFrame({"client": ["b"], "session": [None], "total": [1.0]})
    pd.concat([SCORES, unplaced.assign(status="complete")]).to_csv(src, index=False)
    out, rup = tmp_path / "s.csv", tmp_path / "r.csv"
    argv = ["sessions", str(src), "--client", "client", "--session", "session"]
    code = main([*argv, "-o", str(out), "--ruptures", str(rup)])
    assert code == 1
    _same(out, summarize_clients(SCORES))
    _same(rup, detect_ruptures(SCORES))
    err = capsys.readouterr().err
    assert "Row 16 has no 'session' value." in err
    assert "1 layout problem(s) found" in err


@pytest.mark.parametrize("blank", ["", "  "], ids=["empty", "spaces"])
def test_cli_blank_client_cell_is_a_missing_identifier(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], blank: str
) -> None:
    src = tmp_path / "scores.csv"
    unplaced = pd.DataFrame({"client": [blank], "session": [1], "total": [1.0]})
    pd.concat([SCORES, unplaced.assign(status="complete")]).to_csv(src, index=False)
    out = tmp_path / "s.csv"
    argv = ["sessions", str(src), "--client", "client", "--session", "session"]
    assert main([*argv, "-o", str(out)]) == 1
    _same(out, summarize_clients(SCORES))  # no client named "" or "  "
    err = capsys.readouterr().err
    assert "Row 16 has no 'client' value." in err


def test_cli_blank_dates_are_missing_not_wrong(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "scores.csv"
    dates = [f"2024-01-{d:02d}" for d in range(1, 17)]
    dates[1], dates[11] = "", "NA"  # not recorded
    SCORES.assign(date=dates).to_csv(src, index=False)
    argv = ["sessions", str(src), "--client", "client", "--session", "session"]
    assert main([*argv, "--date", "date", "-o", str(tmp_path / "s.csv")]) == 0
    assert "not a date" not in capsys.readouterr().err


@pytest.mark.parametrize(
    ("table", "extra", "message"),
    [
        pytest.param(SCORES.assign(total="high"), [], "must hold numbers", id="text-scores"),
        pytest.param(SCORES, ["--score", "bond"], "--score 'bond'", id="no-column"),
        pytest.param(SCORES, ["--events", "e.csv"], "--events needs", id="events-without-rule"),
        pytest.param(SCORES, ["--early-session", "0"], "must be 1 or more", id="session-0"),
    ],
)
def test_cli_usage_errors(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    table: pd.DataFrame,
    extra: list[str],
    message: str,
) -> None:
    src = tmp_path / "scores.csv"
    table.to_csv(src, index=False)
    code = main(["sessions", str(src), "--client", "client", "--session", "session", *extra])
    assert code == 2
    assert message in capsys.readouterr().err


def test_cli_unreadable_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["sessions", str(tmp_path / "missing.csv"), "--client", "c", "--session", "s"])
    assert code == 2
    assert "Cannot read" in capsys.readouterr().err


def test_help_shows_an_example(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["sessions", "--help"])
    assert "alliance-score sessions scores.csv --client client" in capsys.readouterr().out


@pytest.mark.parametrize(("suffix", "module"), [("xlsx", "openpyxl"), ("parquet", "pyarrow")])
def test_cli_reads_the_score_files_it_writes(
    tmp_path: Path, suffix: str, module: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Scores written as Excel or parquet keep numbers as numbers; they summarise alike."""
    pytest.importorskip(module)
    export = Path(__file__).resolve().parents[1] / "examples" / "wai-sr-clinic.csv"
    summaries = []
    for kind in ("csv", suffix):
        scores = tmp_path / f"scores.{kind}"
        keep = ["--keep", "client", "session", "-q"]
        assert main(["score", str(export), "-i", "wai-sr", "-o", str(scores), *keep]) == 1
        summary = tmp_path / f"summary_{kind}.csv"
        argv = ["sessions", str(scores), "--client", "client", "--session", "session"]
        assert main([*argv, "-o", str(summary), "-q"]) == 0
        summaries.append(summary.read_bytes())
    capsys.readouterr()
    assert summaries[0] == summaries[1]


def test_cli_reads_scores_piped_in_and_a_chosen_sheet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`score ... | sessions -` and `sessions book.xlsx --sheet S` summarise as the CSV does."""
    openpyxl = pytest.importorskip("openpyxl")
    export = Path(__file__).resolve().parents[1] / "examples" / "wai-sr-clinic.csv"
    scores = tmp_path / "scores.csv"
    keep = ["--keep", "client", "session", "-q"]
    main(["score", str(export), "-i", "wai-sr", "-o", str(scores), *keep])
    argv = ["--client", "client", "--session", "session", "-q"]
    main(["sessions", str(scores), *argv, "-o", str(tmp_path / "by_file.csv")])

    class _Pipe(io.TextIOWrapper):
        def isatty(self) -> bool:
            return False

    monkeypatch.setattr("sys.stdin", _Pipe(io.BytesIO(scores.read_bytes()), encoding="utf-8"))
    assert main(["sessions", "-", *argv, "-o", str(tmp_path / "piped.csv")]) == 0

    book = openpyxl.Workbook()
    book.active.title = "notes"
    sheet = book.create_sheet("scores")
    frame = pd.read_csv(scores)
    sheet.append(list(frame.columns))
    for row in frame.itertuples(index=False):
        sheet.append([None if pd.isna(v) else (v.item() if hasattr(v, "item") else v) for v in row])
    book.save(tmp_path / "book.xlsx")
    out = tmp_path / "by_sheet.csv"
    assert (
        main(["sessions", str(tmp_path / "book.xlsx"), "--sheet", "scores", *argv, "-o", str(out)])
        == 0
    )
    capsys.readouterr()
    expected = (tmp_path / "by_file.csv").read_bytes()
    assert (tmp_path / "piped.csv").read_bytes() == expected
    assert out.read_bytes() == expected
