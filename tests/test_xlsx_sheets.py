"""Choosing the sheet of an Excel workbook (``--sheet``, ``sheet=``)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from alliance_score import score_frame
from alliance_score.cli import main
from alliance_score.errors import DataError, UnreadableFileError
from alliance_score.io import open_table, read_table

openpyxl = pytest.importorskip("openpyxl")

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
ITEMS = [f"wai_sr_{i:02d}" for i in range(1, 13)]


def _workbook(path: Path) -> Path:
    """Sheet 1 a codebook, sheet 2 the answers, sheet 3 empty."""
    book = openpyxl.Workbook()
    codebook = book.active
    codebook.title = "Codebook"
    codebook.append(["variable", "meaning"])
    codebook.append(["wai_sr_01", "item 1"])
    answers = book.create_sheet("Responses")
    answers.append(["client_id", *ITEMS])
    answers.append(["A", *[4] * 12])
    answers.append(["B", *[2, 3] * 6])
    book.create_sheet("Empty")
    book.save(path)
    return path


def test_read_table_by_name_and_number(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "book.xlsx")
    by_name = read_table(path, sheet="Responses")
    assert list(by_name.columns) == ["client_id", *ITEMS]
    pd.testing.assert_frame_equal(read_table(path, sheet="2"), by_name)
    assert list(read_table(path).columns) == ["variable", "meaning"]
    assert next(open_table(path, sheet="Responses").chunks()).lines.tolist() == [2, 3]


def test_unknown_or_empty_sheet_lists_the_sheets(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "book.xlsx")
    with pytest.raises(UnreadableFileError, match=r"no sheet 'Answers'.*'Codebook', 'Respo"):
        open_table(path, sheet="Answers")
    with pytest.raises(UnreadableFileError, match="no sheet '4'"):
        open_table(path, sheet="4")
    with pytest.raises(UnreadableFileError, match="the sheet, 'Empty', is empty"):
        open_table(path, sheet="Empty")


def test_sheet_only_for_workbooks() -> None:
    with pytest.raises(DataError, match="only in an Excel workbook"):
        open_table(EXAMPLES / "wai_sr.tsv", sheet="1")


def test_cli_says_which_sheet_and_scores_the_chosen_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _workbook(tmp_path / "book.xlsx")
    out = tmp_path / "scores.csv"
    assert main(["score", str(path), "-i", "wai-sr", "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "reading the first of 3 sheets ('Codebook', 'Responses', 'Empty')" in err
    assert main(["score", str(path), "-i", "wai-sr", "--sheet", "Responses", "-o", str(out)]) == 0
    scores = read_table(out)
    expected = score_frame(read_table(path, sheet="Responses"), "wai-sr")
    assert scores["total"].astype(float).tolist() == expected["total"].tolist()
    capsys.readouterr()
    assert main(["check", str(path), "-i", "wai-sr", "--sheet", "9", "--no-ci"]) == 2
    assert "no sheet '9'" in capsys.readouterr().err
    assert main(["score", str(EXAMPLES / "wai_sr.tsv"), "-i", "wai-sr", "--sheet", "x"]) == 2


@pytest.mark.parametrize("sheet", ["\u00b2", "\u0662\u0662", " 2", "+2"])
def test_sheet_numbers_are_plain_digits(tmp_path: Path, sheet: str) -> None:
    path = _workbook(tmp_path / "book.xlsx")
    if sheet.strip().isascii() and sheet.strip().isdigit():
        assert list(open_table(path, sheet=sheet).columns) == ["client_id", *ITEMS]
    else:
        with pytest.raises(UnreadableFileError, match="no sheet"):
            open_table(path, sheet=sheet)


def _chart_workbook(path: Path, *, data: bool = True) -> Path:
    """A chart sheet first, then (with ``data``) a sheet of answers."""
    chart = pytest.importorskip("openpyxl.chart")
    book = openpyxl.Workbook()
    answers = book.active
    answers.title = "Data"
    answers.append(["client_id", *ITEMS])
    answers.append(["A", *[4] * 12])
    book.create_chartsheet("Chart", 0).add_chart(chart.BarChart())
    if not data:
        book.remove(answers)
    book.save(path)
    return path


def test_chart_sheets_are_not_sheets_of_cells(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _chart_workbook(tmp_path / "chart.xlsx")
    assert list(read_table(path).columns) == ["client_id", *ITEMS]
    pd.testing.assert_frame_equal(read_table(path, sheet="1"), read_table(path))
    with pytest.raises(UnreadableFileError, match=r"'Chart' is a chart.*1 sheet\(s\): 'Data'"):
        open_table(path, sheet="Chart")
    out = tmp_path / "scores.csv"
    assert main(["score", str(path), "-i", "wai-sr", "-o", str(out)]) == 0
    assert "reading the first of" not in capsys.readouterr().err
    assert main(["score", str(path), "-i", "wai-sr", "--sheet", "Chart", "-o", str(out)]) == 2
    assert "is a chart" in capsys.readouterr().err

    only = _chart_workbook(tmp_path / "only.xlsx", data=False)
    with pytest.raises(UnreadableFileError, match="no sheet of cells"):
        open_table(only)
    assert main(["score", str(only), "-i", "wai-sr", "-o", str(out)]) == 2


def test_a_wrong_dimension_tag_loses_no_cells(tmp_path: Path) -> None:
    """Some writers record a sheet's extent (``<dimension ref=...>``) wrongly; the cells
    beyond it are read all the same."""
    import re
    import zipfile

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["client_id", *ITEMS])
    for k in range(5):
        sheet.append([f"C{k}", *[k + 1] * 12])
    sheet.append([None] * 13)
    sheet.append(["C5", *[3] * 12])
    book.save(tmp_path / "right.xlsx")
    path = tmp_path / "wrong.xlsx"
    with zipfile.ZipFile(tmp_path / "right.xlsx") as src, zipfile.ZipFile(path, "w") as dst:
        for member in src.infolist():
            data = src.read(member.filename)
            if member.filename == "xl/worksheets/sheet1.xml":
                data = re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:C3"', data)
            dst.writestr(member, data)
    table = read_table(path)
    pd.testing.assert_frame_equal(table, read_table(tmp_path / "right.xlsx"))
    assert table.shape == (6, 13)
    assert next(open_table(path).chunks()).lines.tolist() == [2, 3, 4, 5, 6, 8]


def test_an_empty_first_row_is_no_header(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Answers"
    for j, name in enumerate(["client_id", *ITEMS], start=1):
        sheet.cell(row=4, column=j, value=name)
        sheet.cell(row=5, column=j, value="A" if j == 1 else 4)
    path = tmp_path / "low.xlsx"
    book.save(path)
    with pytest.raises(UnreadableFileError, match=r"row 1 of the sheet 'Answers', the header"):
        open_table(path)


def test_a_damaged_header_row_is_an_unreadable_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import zipfile

    _workbook(tmp_path / "whole.xlsx")
    path = tmp_path / "damaged.xlsx"
    with zipfile.ZipFile(tmp_path / "whole.xlsx") as src, zipfile.ZipFile(path, "w") as dst:
        for member in src.infolist():
            data = src.read(member.filename)
            if member.filename == "xl/worksheets/sheet1.xml":
                data = data[: data.index(b"<sheetData>") + 11] + b'<row r="1"><c r="A1"<<'
            dst.writestr(member, data)
    with pytest.raises(UnreadableFileError, match="as an Excel workbook"):
        open_table(path)
    assert main(["score", str(path), "-i", "wai-sr", "-o", str(tmp_path / "s.csv")]) == 2
    assert "Traceback" not in capsys.readouterr().err
