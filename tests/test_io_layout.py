"""Sniffing delimited exports: encoding, delimiter, header rows, kind and identifiers."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from alliance_score.errors import UnreadableFileError
from alliance_score.io import sniff_layout

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.mark.parametrize(
    ("name", "encoding", "delimiter", "kind", "header_lines", "identifiers"),
    [
        pytest.param(
            "messy_wai_sr.csv", "utf-8-sig", ",", "csv", 1, ("client_id", "session"), id="bom"
        ),
        pytest.param(
            "excel_cp1252_semicolon.csv", "cp1252", ";", "csv", 1, ("client_id",), id="cp1252"
        ),
        pytest.param(
            "excel_unicode_text.txt", "utf-16", "\t", "csv", 1, ("client_id", "session"), id="utf16"
        ),
        pytest.param("wai_sr.tsv", "utf-8", "\t", "csv", 1, ("client_id", "session"), id="tsv"),
        pytest.param(
            "redcap_raw.csv",
            "utf-8",
            ",",
            "redcap",
            1,
            (
                "record_id",
                "redcap_event_name",
                "redcap_repeat_instrument",
                "redcap_repeat_instance",
            ),
            id="redcap-raw",
        ),
        pytest.param(
            "redcap_labels.csv",
            "utf-8",
            ",",
            "redcap-labels",
            1,
            ("Record ID", "Event Name", "Repeat Instrument", "Repeat Instance"),
            id="redcap-labels",
        ),
        # the question-text row holds line breaks: header + 2 rows span 15 lines
        pytest.param(
            "qualtrics.csv", "utf-8", ",", "qualtrics", 15, ("ResponseId",), id="qualtrics"
        ),
    ],
)
def test_example_layouts(
    name: str,
    encoding: str,
    delimiter: str,
    kind: str,
    header_lines: int,
    identifiers: tuple[str, ...],
) -> None:
    layout = sniff_layout(EXAMPLES / name)
    assert (layout.encoding, layout.delimiter, layout.kind) == (encoding, delimiter, kind)
    assert layout.header_lines == header_lines
    assert layout.identifiers == identifiers
    assert not any(h.startswith("\ufeff") for h in layout.header)


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        pytest.param(b"a,b\n1,2\n", "utf-8", id="ascii"),
        pytest.param("é,b\n1,2\n".encode(), "utf-8", id="utf8"),
        pytest.param(codecs.BOM_UTF8 + b"a,b\n", "utf-8-sig", id="utf8-bom"),
        pytest.param("a,b\n".encode("utf-16"), "utf-16", id="utf16-bom"),
        pytest.param("a,b\n1,2\n".encode("utf-16-le"), "utf-16-le", id="utf16le-no-bom"),
        pytest.param("a,b\n1,2\n".encode("utf-16-be"), "utf-16-be", id="utf16be-no-bom"),
        pytest.param("thérapeute,b\n".encode("cp1252"), "cp1252", id="cp1252"),
    ],
)
def test_encoding_detection(tmp_path: Path, data: bytes, encoding: str) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes(data)
    assert sniff_layout(path).encoding == encoding


@pytest.mark.parametrize(
    ("header", "delimiter"),
    [
        pytest.param("a,b,c", ",", id="comma"),
        pytest.param("a;b;c", ";", id="semicolon"),
        pytest.param("a\tb\tc", "\t", id="tab"),
        pytest.param('"x;y",b,c', ",", id="quoted-semicolon-ignored"),
        pytest.param("single", ",", id="one-column"),
    ],
)
def test_delimiter_sniffing(tmp_path: Path, header: str, delimiter: str) -> None:
    path = tmp_path / "x.csv"
    path.write_text(header + "\n", encoding="utf-8")
    assert sniff_layout(path).delimiter == delimiter


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        pytest.param(b"", "no header", id="empty"),
        pytest.param(b"\n\n", "first line is empty", id="blank-header"),
    ],
)
def test_unreadable(tmp_path: Path, data: bytes, fragment: str) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes(data)
    with pytest.raises(UnreadableFileError, match=fragment):
        sniff_layout(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFileError, match="Cannot read"):
        sniff_layout(tmp_path / "absent.csv")
