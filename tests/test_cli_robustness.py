"""The command line against awkward input, as a data manager meets it.

Each case builds its files in ``tmp_path``, runs the command in-process and checks the
exit code and the one-line error on standard error. Whatever the input, the command
never raises (no traceback), never changes the input file and never leaves a partial
output behind.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from alliance_score.cli import main

ITEMS = [f"wai_{i}" for i in range(1, 13)]
HEADER = "client_id,session," + ",".join(ITEMS)


def _rows(*rows: str) -> str:
    return "\n".join([HEADER, *rows]) + "\n"


ROW_A = "A,1," + ",".join(["3"] * 12)
ROW_B = "B,1," + ",".join(["4"] * 12)


def _wai_sr_file() -> str:
    """A WAI-SR export (columns wai_sr_01 .. wai_sr_12) of one row."""
    return (
        "client,session,"
        + ",".join(f"wai_sr_{i:02d}" for i in range(1, 13))
        + "\nA,1,"
        + (",".join(["3"] * 12))
    )


SCORES = "client,session,total\nA,1,3.5\nA,2,3.0\nB,1,4.0\n"


@dataclass(frozen=True)
class Case:
    """Files to create (name -> bytes or text), the argv, the exit code, and a piece of
    standard error that must appear (on the error line when the code is 2)."""

    files: dict[str, str | bytes]
    argv: list[str]
    code: int
    stderr: str


def _run(tmp_path: Path, case: Case, capsys: pytest.CaptureFixture[str]) -> str:
    for name, content in case.files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    before = {name: (tmp_path / name).read_bytes() for name in case.files}
    argv = [a.replace("{tmp}", str(tmp_path)) for a in case.argv]
    code = main(argv)
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert code == case.code, err
    assert case.stderr in err
    if code == 2:
        assert err.count("alliance-score: error:") == 1
    for name, content in before.items():
        assert (tmp_path / name).read_bytes() == content, f"{name} was changed"
    assert not list(tmp_path.rglob("*.part")), "a temporary file was left behind"
    return err


SESSIONS_ARGS = ["sessions", "{tmp}/s.csv", "--client", "client", "--session", "session"]

SESSIONS_CASES = {
    "output-into-missing-folder": Case(
        {"s.csv": SCORES},
        [*SESSIONS_ARGS, "-o", "{tmp}/nodir/out.csv"],
        2,
        "Cannot write '",
    ),
    "output-is-the-input": Case(
        {"s.csv": SCORES},
        [*SESSIONS_ARGS, "-o", "{tmp}/s.csv"],
        2,
        "Refusing to overwrite the input file",
    ),
    "output-is-the-input-by-another-path": Case(
        {"s.csv": SCORES},
        [*SESSIONS_ARGS, "-o", "{tmp}/./sub/../s.csv"],
        2,
        "Refusing to overwrite the input file",
    ),
    "ruptures-file-is-the-input": Case(
        {"s.csv": SCORES},
        [*SESSIONS_ARGS, "-o", "{tmp}/out.csv", "--ruptures", "{tmp}/s.csv"],
        2,
        "(--ruptures)",
    ),
    "summary-and-events-same-file": Case(
        {"s.csv": SCORES},
        [*SESSIONS_ARGS, "-o", "{tmp}/o.csv", "--events", "{tmp}/o.csv", "--cutoff", "3"],
        2,
        "-o and --events need different files",
    ),
    "empty-file": Case({"s.csv": b""}, SESSIONS_ARGS, 2, "it has no header row"),
}


@pytest.mark.parametrize("case", SESSIONS_CASES.values(), ids=SESSIONS_CASES.keys())
def test_sessions_awkward_input(
    tmp_path: Path, case: Case, capsys: pytest.CaptureFixture[str]
) -> None:
    _run(tmp_path, case, capsys)


@pytest.mark.parametrize("text", ["=HYPERLINK(1)", "+cmd", "@cmd"], ids=["equals", "plus", "at"])
def test_sessions_summary_is_injection_safe(
    tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "s.csv").write_text(f"client,session,total\n{text},1,3.5\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    code = main(
        [
            "sessions",
            str(tmp_path / "s.csv"),
            "--client",
            "client",
            "--session",
            "session",
            "-o",
            str(out),
        ]
    )
    capsys.readouterr()
    assert code == 0
    assert out.read_text(encoding="utf-8").splitlines()[1].startswith(f"'{text},")


def _symlink_case(tmp_path: Path) -> list[str]:
    (tmp_path / "s.csv").write_text(SCORES, encoding="utf-8")
    (tmp_path / "link.csv").symlink_to(tmp_path / "s.csv")
    return [*SESSIONS_ARGS, "-o", "{tmp}/link.csv"]


def _ensure(build: Callable[[Path], list[str]], tmp_path: Path) -> list[str]:
    return [a.replace("{tmp}", str(tmp_path)) for a in build(tmp_path)]


def test_sessions_refuses_symlink_to_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(_ensure(_symlink_case, tmp_path))
    assert code == 2
    assert "Refusing to overwrite the input file" in capsys.readouterr().err
    assert (tmp_path / "s.csv").read_text(encoding="utf-8") == SCORES


SCORE = ["score", "{tmp}/in.csv", "-i", "wai-sr", "-o", "{tmp}/out.csv"]

UNREADABLE_CASES = {
    "folder-as-input": Case({"in.csv/x": "x"}, SCORE, 2, "it is a folder, not a file"),
    "nonexistent-input": Case({}, SCORE, 2, "no such file"),
    "empty-file": Case({"in.csv": b""}, SCORE, 2, "it has no header row"),
    "only-blank-lines": Case({"in.csv": "\n\n\n"}, SCORE, 2, "its first line is empty"),
    "png-named-csv": Case(
        {"in.csv": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"}, SCORE, 2, "it looks like a PNG image"
    ),
    "gzip-named-csv": Case(
        {"in.csv": b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"}, SCORE, 2, "gzip-compressed"
    ),
    "xlsx-named-csv": Case({"in.csv": b"PK\x03\x04\x14\x00"}, SCORE, 2, "rename it to .xlsx"),
    "control-bytes-in-header": Case(
        {"in.csv": b"a\x01\x02b,c\n1,2\n"}, SCORE, 2, "control byte 0x01"
    ),
    "check-on-png": Case(
        {"in.csv": b"\x89PNG\r\n\x1a\n"}, ["check", "{tmp}/in.csv", "-i", "wai-sr"], 2, "PNG"
    ),
    "sessions-on-folder": Case(
        {"in.csv/x": "x"},
        ["sessions", "{tmp}/in.csv", "--client", "c", "--session", "s"],
        2,
        "it is a folder, not a file",
    ),
}


@pytest.mark.parametrize("case", UNREADABLE_CASES.values(), ids=UNREADABLE_CASES.keys())
def test_unreadable_input_is_one_clear_line(
    tmp_path: Path, case: Case, capsys: pytest.CaptureFixture[str]
) -> None:
    _run(tmp_path, case, capsys)
    assert not (tmp_path / "out.csv").exists()


READABLE_CASES = {
    "nul-byte-in-an-item": Case(
        {"in.csv": _rows(ROW_A, "B,1,3\x00," + ",".join(["3"] * 11))}, SCORE, 1, "not_a_number 1"
    ),
    "nul-byte-in-an-identifier": Case(
        {"in.csv": _rows("A\x00x,1," + ",".join(["3"] * 12))}, SCORE, 0, "complete 1"
    ),
    "utf16-without-bom": Case(
        {"in.csv": _rows(ROW_A, ROW_B).encode("utf-16-le")}, SCORE, 0, "complete 2"
    ),
    "header-only": Case({"in.csv": _rows()}, SCORE, 0, "0 rows read"),
}


@pytest.mark.parametrize("case", READABLE_CASES.values(), ids=READABLE_CASES.keys())
def test_readable_oddities_are_scored(
    tmp_path: Path, case: Case, capsys: pytest.CaptureFixture[str]
) -> None:
    _run(tmp_path, case, capsys)
    assert (tmp_path / "out.csv").exists()


SPACED = " client_id , session ," + ",".join(f" {c} " for c in ITEMS)
MAPPING_CASES = {
    "bom-and-spaces-keep-identifiers": Case(
        {"in.csv": "\ufeff" + SPACED + "\n" + ROW_A + "\n"},
        SCORE,
        0,
        "keeping columns [' client_id ', ' session ']",
    ),
    "unicode-header": Case(
        {"in.csv": "klïent_id,séance," + ",".join(ITEMS) + "\n" + ROW_A + "\n"},
        SCORE,
        0,
        "keeping columns ['klïent_id']",
    ),
    "duplicate-item-header": Case(
        {"in.csv": "client_id,wai_1," + ",".join(ITEMS) + "\nA,3," + ",".join(["3"] * 12)},
        SCORE,
        2,
        "match several columns",
    ),
    "items-missing": Case(
        {"in.csv": "client_id," + ",".join(ITEMS[:10]) + "\nA," + ",".join(["3"] * 10)},
        SCORE,
        2,
        "lacks ['11', '12']",
    ),
    "items-ambiguous": Case(
        {
            "in.csv": "id,"
            + ",".join(ITEMS)
            + ","
            + ",".join(f"q{i}" for i in range(1, 13))
            + "\nA,"
            + ",".join(["3"] * 24)
        },
        SCORE,
        2,
        "in more than one way",
    ),
    "column-without-equals": Case(
        {"in.csv": _rows(ROW_A)}, [*SCORE, "--column", "wai_1"], 2, "--column expects ITEM=COLUMN"
    ),
    "column-unknown-item": Case(
        {"in.csv": _rows(ROW_A)}, [*SCORE, "--column", "99=wai_1"], 2, "does not have: ['99']"
    ),
    "columns-without-item": Case(
        {"in.csv": _rows(ROW_A)}, [*SCORE, "--columns", "wai_"], 2, "must contain '{item}'"
    ),
    "columns-unclosed-brace": Case(
        {"in.csv": _rows(ROW_A)}, [*SCORE, "--columns", "wai_{item"], 2, "cannot be filled"
    ),
    "unknown-instrument": Case(
        {"in.csv": _rows(ROW_A)},
        ["score", "{tmp}/in.csv", "-i", "nosuch"],
        2,
        "Unknown instrument 'nosuch'",
    ),
    "prefix-names-another-instrument": Case(
        {"in.csv": _wai_sr_file()},
        ["score", "{tmp}/in.csv", "-i", "wai-s"],
        2,
        "names another instrument, 'wai-sr'",
    ),
    "item-like-columns-left-over": Case(
        {"in.csv": _wai_sr_file()},
        ["score", "{tmp}/in.csv", "-i", "arm-5", "--allow-provisional"],
        2,
        "--instrument wai-sr",
    ),
    "left-over-columns-without-a-known-prefix": Case(
        {"in.csv": "id," + ",".join(f"q{i}" for i in range(1, 13)) + "\nA," + ",".join("3" * 12)},
        ["score", "{tmp}/in.csv", "-i", "arm-5", "--allow-provisional"],
        2,
        "7 more column(s) with the same prefix 'q' are left over",
    ),
    "explicit-pattern-is-followed": Case(
        {"in.csv": _wai_sr_file()},
        [
            "score",
            "{tmp}/in.csv",
            "-i",
            "wai-s",
            "--allow-provisional",
            "--columns",
            "wai_sr_{item:02}",
        ],
        0,
        "complete 1",
    ),
    "broken-toml": Case(
        {"in.csv": _rows(ROW_A), "bad.toml": "id = [\n"},
        ["score", "{tmp}/in.csv", "-i", "{tmp}/bad.toml"],
        2,
        "not valid TOML",
    ),
}


@pytest.mark.parametrize("case", MAPPING_CASES.values(), ids=MAPPING_CASES.keys())
def test_headers_and_mapping(
    tmp_path: Path, case: Case, capsys: pytest.CaptureFixture[str]
) -> None:
    _run(tmp_path, case, capsys)


ROW_OPEN = ROW_B[:-1] + '"3'  # the last item opens a quote that is never closed
UNCLOSED_QUOTE_CASES = {
    "quote-opens-a-row-then-more-rows": Case(
        {"in.csv": _rows(ROW_A, '"' + ROW_B, ROW_B)}, SCORE, 2, "on line 3 is never closed"
    ),
    "quote-in-last-item-swallows-a-line": Case(
        {"in.csv": _rows(ROW_A, ROW_OPEN, "C D E")}, SCORE, 2, "on line 3 is never closed"
    ),
    "quote-in-last-item-at-end-of-file": Case(
        {"in.csv": _rows(ROW_A, ROW_OPEN)}, SCORE, 2, "on line 3 is never closed"
    ),
    "to-standard-output": Case(
        {"in.csv": _rows(ROW_A, ROW_OPEN, "C D E")},
        ["score", "{tmp}/in.csv", "-i", "wai-sr"],
        2,
        "on line 3 is never closed",
    ),
    "quoted-line-break-closed-is-fine": Case(
        {"in.csv": "note," + HEADER + '\n"two\nlines",' + ROW_A + "\n"}, SCORE, 0, "complete 1"
    ),
    "quoted-line-break-in-last-field-is-fine": Case(
        {"in.csv": HEADER + ",note\n" + ROW_A + ',"two\nlines"\n'}, SCORE, 0, "complete 1"
    ),
}


@pytest.mark.parametrize("case", UNCLOSED_QUOTE_CASES.values(), ids=UNCLOSED_QUOTE_CASES.keys())
@pytest.mark.parametrize("chunk", ["4194304", "64"], ids=["one-chunk", "small-chunks"])
def test_unclosed_quote_is_refused_not_swallowed(
    tmp_path: Path, case: Case, chunk: str, capsys: pytest.CaptureFixture[str]
) -> None:
    chunked = Case(case.files, [*case.argv, "--chunk-bytes", chunk], case.code, case.stderr)
    _run(tmp_path, chunked, capsys)


LONG = "x" * 300_000  # above the csv module's default field limit of 128 KiB
LONG_FIELD_CASES = {
    "long-identifier-to-file": Case(
        {"in.csv": _rows(LONG + ROW_A[1:], ROW_B)}, SCORE, 0, "complete 2"
    ),
    "long-identifier-to-standard-output": Case(
        {"in.csv": _rows(LONG + ROW_A[1:], ROW_B)},
        ["score", "{tmp}/in.csv", "-i", "wai-sr"],
        0,
        "complete 2",
    ),
    "long-item-value-is-a-problem": Case(
        {"in.csv": _rows("A,1," + "9" * 300_000 + "," + ",".join(["3"] * 11))},
        ["score", "{tmp}/in.csv", "-i", "wai-sr", "--problems", "{tmp}/p.csv"],
        1,
        "problems: 1 (",
    ),
}


@pytest.mark.parametrize("case", LONG_FIELD_CASES.values(), ids=LONG_FIELD_CASES.keys())
def test_long_fields_are_read_by_both_engines(
    tmp_path: Path, case: Case, capsys: pytest.CaptureFixture[str]
) -> None:
    _run(tmp_path, case, capsys)


SCORE_TO = ["score", "{tmp}/in.csv", "-i", "wai-sr"]
OUTPUT_CASES = {
    "scores-into-missing-folder": Case(
        {"in.csv": _rows(ROW_A)}, [*SCORE_TO, "-o", "{tmp}/nodir/s.csv"], 2, "Cannot write"
    ),
    "problems-into-missing-folder": Case(
        {"in.csv": _rows(ROW_A)},
        [*SCORE_TO, "-o", "{tmp}/s.csv", "--problems", "{tmp}/nodir/p.csv"],
        2,
        "Cannot write",
    ),
    "scores-over-input": Case(
        {"in.csv": _rows(ROW_A)}, [*SCORE_TO, "-o", "{tmp}/in.csv"], 2, "Refusing to overwrite"
    ),
    "scores-over-input-by-relative-path": Case(
        {"in.csv": _rows(ROW_A)},
        [*SCORE_TO, "-o", "{tmp}/sub/../in.csv"],
        2,
        "Refusing to overwrite",
    ),
    "problems-over-input": Case(
        {"in.csv": _rows(ROW_A)}, [*SCORE_TO, "--problems", "{tmp}/in.csv"], 2, "Refusing"
    ),
    "problems-to-standard-output": Case(
        {"in.csv": _rows(ROW_A)}, [*SCORE_TO, "--problems", "-"], 2, "needs a file name"
    ),
    "json-without-output": Case({"in.csv": _rows(ROW_A)}, [*SCORE_TO, "--json"], 2, "give -o"),
    "xlsx-to-standard-output": Case(
        {"in.csv": _rows(ROW_A)}, [*SCORE_TO, "--format", "xlsx"], 2, "cannot go to standard"
    ),
    "scores-suffix-xls": Case(
        {"in.csv": _rows(ROW_A)}, [*SCORE_TO, "-o", "{tmp}/s.xls"], 2, ".xls is not a format"
    ),
    "scores-suffix-json": Case(
        {"in.csv": _rows(ROW_A)}, [*SCORE_TO, "-o", "{tmp}/s.json"], 2, ".json is not a format"
    ),
    "problems-suffix-sav": Case(
        {"in.csv": _rows(ROW_A)},
        [*SCORE_TO, "-o", "{tmp}/s.csv", "--problems", "{tmp}/p.sav"],
        2,
        ".sav is not a format",
    ),
    "foreign-suffix-with-explicit-format": Case(
        {"in.csv": _rows(ROW_A)},
        [*SCORE_TO, "-o", "{tmp}/s.json", "--format", "csv"],
        0,
        "scores -> ",
    ),
    "unknown-suffix-is-csv": Case(
        {"in.csv": _rows(ROW_A)}, [*SCORE_TO, "-o", "{tmp}/s.out"], 0, "scores -> "
    ),
}


@pytest.mark.parametrize("case", OUTPUT_CASES.values(), ids=OUTPUT_CASES.keys())
def test_outputs(tmp_path: Path, case: Case, capsys: pytest.CaptureFixture[str]) -> None:
    _run(tmp_path, case, capsys)
    if case.code == 2:
        assert {p.name for p in tmp_path.iterdir()} <= {"in.csv", "sub"}


def test_scores_over_input_through_a_symlink(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "in.csv").write_text(_rows(ROW_A), encoding="utf-8")
    (tmp_path / "link.csv").symlink_to(tmp_path / "in.csv")
    code = main(
        ["score", str(tmp_path / "in.csv"), "-i", "wai-sr", "-o", str(tmp_path / "link.csv")]
    )
    assert code == 2
    assert "Refusing to overwrite the input file" in capsys.readouterr().err
    assert (tmp_path / "in.csv").read_text(encoding="utf-8") == _rows(ROW_A)


EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
MISSING_PACKAGE_CASES = {
    "xlsx-input-without-openpyxl": ("openpyxl", "wai_sr.xlsx", "s.csv", "alliance-score[excel]"),
    "sav-input-without-pyreadstat": ("pyreadstat", "wai_sr.sav", "s.csv", "alliance-score[spss]"),
    "dta-input-without-pyreadstat": ("pyreadstat", "wai_sr.dta", "s.csv", "alliance-score[spss]"),
    "parquet-input-without-pyarrow": (
        "pyarrow",
        "wai_sr.parquet",
        "s.csv",
        "alliance-score[parquet]",
    ),
    "xlsx-output-without-openpyxl": ("openpyxl", "wai_sr.tsv", "s.xlsx", "alliance-score[excel]"),
    "parquet-output-without-pyarrow": (
        "pyarrow",
        "wai_sr.tsv",
        "s.parquet",
        "alliance-score[parquet]",
    ),
}


@pytest.mark.parametrize(
    ("package", "source", "target", "hint"),
    MISSING_PACKAGE_CASES.values(),
    ids=MISSING_PACKAGE_CASES.keys(),
)
def test_missing_optional_package_is_an_install_hint(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    package: str,
    source: str,
    target: str,
    hint: str,
) -> None:
    import importlib.util

    from alliance_score.errors import MissingDependencyError
    from alliance_score.io import arrow_csv, formats, writers
    from alliance_score.io import source as sources

    real_require, real_find_spec = sources.require, importlib.util.find_spec

    def require(name: str, feature: str, extra: str) -> object:
        if name.split(".")[0] == package:  # as when ``import name`` fails
            raise MissingDependencyError(feature, package, extra)
        return real_require(name, feature, extra)

    def find_spec(name: str, *args: object, **kwargs: object) -> object:
        return None if name.split(".")[0] == package else real_find_spec(name)

    for module in (sources, formats, writers, arrow_csv):
        monkeypatch.setattr(module, "require", require)
    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    out = tmp_path / target
    code = main(["score", str(EXAMPLES / source), "-i", "wai-sr", "-o", str(out)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    assert hint in err
    assert err.count("alliance-score: error:") == 1
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("chunk", ["10", "4194304"], ids=["row-per-chunk", "one-chunk"])
def test_excel_row_limit_leaves_nothing_and_prints_one_line(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    chunk: str,
) -> None:
    import gc
    import sys

    from alliance_score.io import writers

    monkeypatch.setattr(writers, "_XLSX_MAX_ROWS", 3)
    seen: list[object] = []
    monkeypatch.setattr(sys, "unraisablehook", seen.append)
    rows = [f"C{i},1," + ",".join(["3"] * 12) for i in range(5)]
    (tmp_path / "in.csv").write_text(_rows(*rows), encoding="utf-8")
    argv = ["score", str(tmp_path / "in.csv"), "-i", "wai-sr", "-o", str(tmp_path / "s.xlsx")]
    code = main([*argv, "--chunk-bytes", chunk])
    gc.collect()  # an abandoned sheet used to print a traceback when collected
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("alliance-score: error:") == 1
    assert "Excel sheet holds at most 2 data rows" in err
    assert seen == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]


INTERRUPT_CASES = {
    "csv-and-problems": ["-o", "{tmp}/s.csv", "--problems", "{tmp}/p.csv"],
    "parquet": ["-o", "{tmp}/s.parquet"],
    "excel": ["-o", "{tmp}/s.xlsx", "--problems", "{tmp}/p.xlsx"],
}


@pytest.mark.parametrize("outputs", INTERRUPT_CASES.values(), ids=INTERRUPT_CASES.keys())
def test_interrupt_mid_file_leaves_no_output(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    outputs: list[str],
) -> None:
    from typing import Any

    from alliance_score import frame as frame_module
    from alliance_score.cli import score as score_command

    real = frame_module.score_frame
    calls = iter(range(3))

    def interrupted(*args: Any, **kwargs: Any) -> Any:
        if next(calls, 3) == 1:  # Ctrl-C while the second chunk is scored
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(score_command, "score_frame", interrupted)
    rows = [f"C{i},1," + ",".join(["3"] * 11) + ",9" for i in range(500)]
    (tmp_path / "in.csv").write_text(_rows(*rows), encoding="utf-8")
    argv = ["score", str(tmp_path / "in.csv"), "-i", "wai-sr", "--chunk-bytes", "100"]
    code = main([*argv, *(a.replace("{tmp}", str(tmp_path)) for a in outputs)])
    err = capsys.readouterr().err
    assert code == 130
    assert err.strip().splitlines()[-1] == "alliance-score: error: Interrupted."
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]


def _json_run(tmp_path: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> dict[str, object]:
    import json

    code = main(
        ["score", str(tmp_path / "in.csv"), "-o", str(tmp_path / "s.csv"), "--json", *extra]
    )
    out, err = capsys.readouterr()
    report: dict[str, object] = json.loads(out)
    assert code == (1 if report["problems"] else 0), err
    return report


REPORT_CASES = {
    "valid": (["-i", "wai-sr"], [ROW_A, ROW_B], {"rows": 2, "problems": {}}),
    "invalid-rejected": (
        ["-i", "wai-sr"],
        [ROW_A, "B,1,9," + ",".join(["3"] * 11)],
        {"rows": 2, "problems": {"out_of_range": 1}},
    ),
    "invalid-as-missing": (
        ["-i", "wai-sr", "--on-invalid", "missing"],
        [ROW_A, "B,1,9," + ",".join(["3"] * 11)],
        {"rows": 2, "problems": {"out_of_range": 1}},
    ),
    "wai-s-provisional": (
        ["-i", "wai-s", "--allow-provisional"],
        [ROW_A],
        {"rows": 1, "provisional": ["task", "goal", "bond", "total"]},
    ),
}


@pytest.mark.parametrize(
    ("options", "rows", "expected"), REPORT_CASES.values(), ids=REPORT_CASES.keys()
)
def test_json_report_is_valid_and_counts_every_row(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    options: list[str],
    rows: list[str],
    expected: dict[str, object],
) -> None:
    (tmp_path / "in.csv").write_text(_rows(*rows), encoding="utf-8")
    report = _json_run(tmp_path, capsys, *options)
    for key, value in expected.items():
        assert report[key] == value
    status = report["status"]
    assert isinstance(status, dict)
    assert sum(status.values()) == len(rows)


@pytest.mark.parametrize(
    ("on_invalid", "status", "total"),
    [("reject", "invalid", ""), ("missing", "prorated", "3")],
    ids=["reject", "missing"],
)
def test_on_invalid_decides_the_row(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    on_invalid: str,
    status: str,
    total: str,
) -> None:
    import csv

    row = "B,1,9," + ",".join(["3"] * 11)
    (tmp_path / "in.csv").write_text(_rows(row), encoding="utf-8")
    _json_run(tmp_path, capsys, "-i", "wai-sr", "--on-invalid", on_invalid)
    with open(tmp_path / "s.csv", encoding="utf-8", newline="") as fh:
        (scored,) = list(csv.DictReader(fh))
    assert (scored["status"], scored["total"]) == (status, total)


def test_provisional_scales_are_named_in_output_and_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "in.csv").write_text(_rows(ROW_A), encoding="utf-8")
    argv = ["score", str(tmp_path / "in.csv"), "-i", "wai-s", "-o", str(tmp_path / "s.csv")]
    assert main([*argv, "--allow-provisional"]) == 0
    assert "provisional (marked): task, goal, bond, total" in capsys.readouterr().err
    header, first = (tmp_path / "s.csv").read_text(encoding="utf-8").splitlines()[:2]
    values = dict(zip(header.split(","), first.split(","), strict=True))
    assert values["provisional"] == "task;goal;bond;total"


CHECK = ["check", "{tmp}/in.csv", "-i", "wai-sr"]
SESS = ["sessions", "{tmp}/in.csv", "--client", "client", "--session", "session"]
CHECK_AND_SESSIONS_CASES = {
    "check-empty-file": Case({"in.csv": b""}, CHECK, 2, "it has no header row"),
    "check-prose-not-a-table": Case(
        {"in.csv": "hello world\nnot a table\n"}, CHECK, 2, "no column looks like one of its items"
    ),
    "check-gzip": Case({"in.csv": b"\x1f\x8b\x08\x00"}, CHECK, 2, "gzip-compressed"),
    "check-unclosed-quote": Case(
        {"in.csv": _rows(ROW_A, ROW_OPEN, "C D E")}, CHECK, 2, "never closed"
    ),
    "sessions-empty-file": Case({"in.csv": b""}, SESS, 2, "it has no header row"),
    "sessions-prose-not-a-table": Case(
        {"in.csv": "hello world\nnot a table\n"}, SESS, 2, "--session 'session'"
    ),
    "sessions-session-not-a-number": Case(
        {"in.csv": "client,session,total\nA,one,3\n"}, SESS, 2, "row 0 holds 'one'"
    ),
    "sessions-header-only": Case(
        {"in.csv": "client,session,total\n"}, SESS, 0, "Summarised 0 client trajectories"
    ),
}


@pytest.mark.parametrize(
    "case", CHECK_AND_SESSIONS_CASES.values(), ids=CHECK_AND_SESSIONS_CASES.keys()
)
def test_check_and_sessions_on_garbage(
    tmp_path: Path, case: Case, capsys: pytest.CaptureFixture[str]
) -> None:
    _run(tmp_path, case, capsys)


DUP_ID_HEADER = "client_id,client_id," + ",".join(ITEMS)
DUPLICATE_HEADER_CASES = {
    "identifier-named-twice-is-refused": Case(
        {"in.csv": f"{DUP_ID_HEADER}\nA,X,{ROW_A[4:]}\nA,Y,{ROW_A[4:]}\n"},
        SCORE,
        2,
        "Column 'client_id' appears 2 times in the header (fields 1, 2)",
    ),
    "unused-column-named-twice-is-fine": Case(
        {"in.csv": "note,note," + HEADER + "\nx,y," + ROW_A + "\n"}, SCORE, 0, "complete 1"
    ),
    "check-reads-each-copy": Case(
        {"in.csv": "note,note," + HEADER + "\nx,y," + ROW_A + "\n"}, CHECK, 0, ""
    ),
}


@pytest.mark.parametrize("case", DUPLICATE_HEADER_CASES.values(), ids=DUPLICATE_HEADER_CASES.keys())
def test_duplicate_header_names(
    tmp_path: Path, case: Case, capsys: pytest.CaptureFixture[str]
) -> None:
    _run(tmp_path, case, capsys)


def test_read_table_keeps_each_copy_of_a_repeated_name(tmp_path: Path) -> None:
    from alliance_score.io import read_table

    (tmp_path / "in.csv").write_text("note,note,x\na,b,1\n", encoding="utf-8")
    assert read_table(tmp_path / "in.csv").values.tolist() == [["a", "b", "1"]]


CP1252_HEADER = ("client_id;" + ";".join(ITEMS) + "\n").encode("cp1252")
THREES = b";".join([b"3"] * 11)
CP1252_CASES = {
    "undefined-byte-in-identifier": Case(
        {"in.csv": CP1252_HEADER + b"Ren\xe9\x81;3;" + THREES + b"\n"}, SCORE, 0, "complete 1"
    ),
    "undefined-byte-in-item-is-a-problem": Case(
        {"in.csv": CP1252_HEADER + b"A;3;" + THREES + b"\nB;\x8d3;" + THREES + b"\n"},
        SCORE,
        1,
        "not_a_number 1",
    ),
    "to-standard-output": Case(
        {"in.csv": CP1252_HEADER + b"Ren\xe9\x90;3;" + THREES + b"\n"},
        ["score", "{tmp}/in.csv", "-i", "wai-sr"],
        0,
        "complete 1",
    ),
}


@pytest.mark.parametrize("case", CP1252_CASES.values(), ids=CP1252_CASES.keys())
def test_cp1252_undefined_bytes_are_cells_not_a_failure(
    tmp_path: Path, case: Case, capsys: pytest.CaptureFixture[str]
) -> None:
    _run(tmp_path, case, capsys)


def _workbook(path: Path, sheets: dict[str, list[list[object]]]) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    book.save(path)


DATA_SHEET: list[list[object]] = [["client_id", *ITEMS], ["A", *[3] * 12]]
WORKBOOK_CASES = {
    "several-sheets-first-is-read": (
        {"data": DATA_SHEET, "notes": [["x"]]},
        0,
        "reading the first of 2 sheets ('data', 'notes'); choose another with --sheet",
    ),
    "empty-first-sheet-names-the-others": (
        {"cover": [], "data": DATA_SHEET},
        2,
        "its first sheet, 'cover', is empty; the workbook has 2 sheet(s): 'cover', 'data' "
        "(choose another with --sheet)",
    ),
    "only-an-empty-sheet": ({"Sheet": []}, 2, "its first sheet, 'Sheet', is empty"),
    "header-only-sheet": ({"data": DATA_SHEET[:1]}, 0, "0 rows read"),
}


@pytest.mark.parametrize(
    ("sheets", "code", "stderr"), WORKBOOK_CASES.values(), ids=WORKBOOK_CASES.keys()
)
def test_excel_workbooks(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    sheets: dict[str, list[list[object]]],
    code: int,
    stderr: str,
) -> None:
    _workbook(tmp_path / "in.xlsx", sheets)
    argv = ["score", str(tmp_path / "in.xlsx"), "-i", "wai-sr", "-o", str(tmp_path / "s.csv")]
    assert main(argv) == code
    err = capsys.readouterr().err
    assert stderr in err
    assert "Traceback" not in err


DAMAGED_CASES = {
    "png-named-xlsx": ("in.xlsx", b"\x89PNG\r\n\x1a\n", "as an Excel workbook"),
    "empty-xlsx": ("in.xlsx", b"", "as an Excel workbook"),
    "empty-parquet": ("in.parquet", b"", "as parquet"),
    "png-named-sav": ("in.sav", b"\x89PNG\r\n\x1a\n", "as a sav file"),
    "png-named-dta": ("in.dta", b"\x89PNG\r\n\x1a\n", "as a dta file"),
}


@pytest.mark.parametrize(
    ("name", "content", "stderr"), DAMAGED_CASES.values(), ids=DAMAGED_CASES.keys()
)
def test_damaged_binary_inputs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, content: bytes, stderr: str
) -> None:
    case = Case({name: content}, ["score", f"{{tmp}}/{name}", "-i", "wai-sr"], 2, stderr)
    _run(tmp_path, case, capsys)


class _ClosedPipe:
    """Standard output whose reader has gone away (``... | head``)."""

    def write(self, text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")

    def flush(self) -> None:
        raise BrokenPipeError(32, "Broken pipe")

    def fileno(self) -> int:
        import io

        raise io.UnsupportedOperation("fileno")


PIPE_CASES = {
    "score-to-head": ["score", "{tmp}/in.csv", "-i", "wai-sr"],
    "score-json-to-head": ["score", "{tmp}/in.csv", "-i", "wai-sr", "-o", "{tmp}/s.csv", "--json"],
    "check-to-head": ["check", "{tmp}/in.csv", "-i", "wai-sr"],
    "sessions-to-head": [
        "sessions",
        "{tmp}/in.csv",
        "--client",
        "client_id",
        "--session",
        "session",
        "--score",
        "wai_1",
    ],
}


@pytest.mark.parametrize("argv", PIPE_CASES.values(), ids=PIPE_CASES.keys())
def test_closed_pipe_stops_quietly(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
) -> None:
    import sys

    from alliance_score.cli import EXIT_BROKEN_PIPE

    (tmp_path / "in.csv").write_text(_rows(ROW_A, ROW_B), encoding="utf-8")
    monkeypatch.setattr(sys, "stdout", _ClosedPipe())
    code = main([a.replace("{tmp}", str(tmp_path)) for a in argv])
    assert code == EXIT_BROKEN_PIPE == 141
    assert "Traceback" not in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        ["score", "{tmp}/in.csv", "-i", "wai-sr"],
        [
            "sessions",
            "{tmp}/in.csv",
            "--client",
            "client_id",
            "--session",
            "session",
            "--score",
            "wai_1",
        ],
    ],
    ids=["score", "sessions"],
)
def test_closed_stdout_is_a_usage_error(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
) -> None:
    import sys

    (tmp_path / "in.csv").write_text(_rows(ROW_A, ROW_B), encoding="utf-8")
    monkeypatch.setattr(sys, "stdout", None)
    assert main([a.replace("{tmp}", str(tmp_path)) for a in argv]) == 2
    assert "Standard output is closed" in capsys.readouterr().err


INSTRUMENT_PATH_CASES = {
    "definition-file-missing": ("{tmp}/nosuch.toml", "'{tmp}/nosuch.toml': no such file"),
    "definition-path-is-a-folder": ("{tmp}/defs.toml", "it is a folder, not a file"),
    "path-with-folder-missing": ("{tmp}/sub/wai", "no such file"),
}


@pytest.mark.parametrize(
    ("ref", "stderr"), INSTRUMENT_PATH_CASES.values(), ids=INSTRUMENT_PATH_CASES.keys()
)
@pytest.mark.parametrize("command", ["score", "show"])
def test_instrument_path_that_is_no_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], ref: str, stderr: str, command: str
) -> None:
    (tmp_path / "defs.toml").mkdir()
    (tmp_path / "in.csv").write_text(_rows(ROW_A), encoding="utf-8")
    ref = ref.replace("{tmp}", str(tmp_path))
    argv = ["score", str(tmp_path / "in.csv"), "-i", ref] if command == "score" else ["show", ref]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert stderr.replace("{tmp}", str(tmp_path)) in err
    assert "Available: none" not in err


FOLDER_OUTPUT_CASES = {
    "scores-to-existing-folder": Case(
        {"in.csv": _rows(ROW_A), "out/keep": "x"},
        [*SCORE_TO, "-o", "{tmp}/out"],
        2,
        "it names a folder",
    ),
    "problems-to-existing-folder": Case(
        {"in.csv": _rows(ROW_A), "out/keep": "x"},
        [*SCORE_TO, "-o", "{tmp}/s.csv", "--problems", "{tmp}/out"],
        2,
        "it names a folder",
    ),
    "scores-to-folder-syntax": Case(
        {"in.csv": _rows(ROW_A)}, [*SCORE_TO, "-o", "{tmp}/new/"], 2, "it names a folder"
    ),
    "sessions-to-existing-folder": Case(
        {"in.csv": SCORES, "out/keep": "x"},
        ["sessions", "{tmp}/in.csv", "--client", "client", "--session", "session", "-o",
         "{tmp}/out"],
        2,
        "it names a folder",
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", FOLDER_OUTPUT_CASES.values(), ids=FOLDER_OUTPUT_CASES.keys())
def test_output_that_names_a_folder(
    tmp_path: Path, case: Case, capsys: pytest.CaptureFixture[str]
) -> None:
    _run(tmp_path, case, capsys)
    assert not (tmp_path / "s.csv").exists()


def test_failed_rename_is_one_error_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import os

    def refuse(src: str, dst: str) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "replace", refuse)
    case = Case({"in.csv": _rows(ROW_A)}, [*SCORE_TO, "-o", "{tmp}/s.csv"], 2, "Permission denied")
    _run(tmp_path, case, capsys)
