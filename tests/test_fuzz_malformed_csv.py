"""Fuzzing the readers with malformed CSV: stray and unbalanced quotes, every line ending,
control characters and several encodings.

The oracle is Python's :mod:`csv` with ``strict=True``: whenever the tool accepts a file
it yields exactly one row per record the strict parser finds (blank lines are not
records), and it never accepts a file the strict parser refuses. The command line either
writes one scores row per record or refuses the file (exit 2) leaving nothing behind.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alliance_score.cli import main
from alliance_score.errors import UnreadableFileError
from alliance_score.io import open_table

SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
ITEMS = [f"wai_{i}" for i in range(1, 13)]
HEADER = "client_id,session," + ",".join(ITEMS)
ALPHABET = '"",,ab3 \t\r\n\x00\x0b\x1béü€'

raw_field = st.text(alphabet=ALPHABET, max_size=6)
quoted_field = raw_field.map(lambda t: '"' + t.replace('"', '""') + '"')
answer = st.sampled_from(["1", "3", "5", "", "x", " 4 "])
field = st.one_of(answer, answer, raw_field, quoted_field)
record = st.lists(field, min_size=1, max_size=16).map(",".join)
ending = st.sampled_from(["\n", "\r\n", "\r"])


@st.composite
def malformed_csv(draw: st.DrawFn) -> tuple[str, str]:
    """(text, encoding): a header and records of possibly broken quoting."""
    lines = draw(st.lists(st.tuples(record, ending), max_size=12))
    final = draw(st.booleans())
    text = HEADER + "\n" + "".join(r + e for r, e in lines)
    if not final and text.endswith(("\n", "\r")):
        text = text.rstrip("\r\n")
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16"]))
    return text, encoding


def _strict_records(text: str) -> int | None:
    """Data records as the strict parser counts them (None: it refuses the file)."""
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error:
        return None
    return sum(1 for r in records[1:] if r)


@SETTINGS
@given(sample=malformed_csv(), chunk_bytes=st.sampled_from([64, 4 << 20]))
def test_reader_agrees_with_the_strict_parser(
    tmp_path: Path, sample: tuple[str, str], chunk_bytes: int
) -> None:
    text, encoding = sample
    path = tmp_path / "fuzz.csv"
    path.write_bytes(text.encode(encoding))
    expected = _strict_records(text)
    try:
        source = open_table(path)
        rows = sum(len(c.frame) for c in source.chunks(chunk_bytes=chunk_bytes, engine="python"))
    except UnreadableFileError:
        return  # a refusal is always allowed; a silent merge or drop never is
    assert expected is not None, "accepted a file the strict parser refuses"
    assert rows == expected


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(sample=malformed_csv(), to_file=st.booleans())
def test_command_writes_one_row_per_record_or_refuses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], sample: tuple[str, str], to_file: bool
) -> None:
    text, encoding = sample
    path = tmp_path / "fuzz.csv"
    path.write_bytes(text.encode(encoding))
    out = tmp_path / "s.csv"
    argv = ["score", str(path), "-i", "wai-sr", "-q", "--keep", "client_id"]
    code = main([*argv, "-o", str(out)] if to_file else argv)
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    expected = _strict_records(text)
    if code == 2:
        assert not out.exists()
        assert captured.err.count("alliance-score: error:") == 1
        return
    assert code in (0, 1), captured.err
    assert expected is not None, "accepted a file the strict parser refuses"
    written = out.read_text(encoding="utf-8") if to_file else captured.out
    scores = list(csv.reader(io.StringIO(written, newline=""), strict=True))
    assert len(scores) - 1 == expected
    out.unlink(missing_ok=True)
    out.with_name("s.csv.provenance.json").unlink(missing_ok=True)
