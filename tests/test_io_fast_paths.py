"""The command line's fast paths give the same bytes as the exact ones.

The fast engine reads one-digit answers as integers from pyarrow's buffers, keeps text
in pyarrow, skips the strict parser's pass when only the header is quoted, writes CSV
from the text of distinct values and finds duplicates through a bit filter. Each of
these is compared here with the path it replaces: the exact (``csv`` module) engine,
the writer without pyarrow, and pandas' ``duplicated``.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa  # type: ignore[import-untyped]
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alliance_score.cli import main
from alliance_score.io import RestartRequired, accounting, arrow_csv, open_table
from alliance_score.io.accounting import DuplicateFinder
from alliance_score.io.writers import _arrow_csv, _pandas_csv

ITEMS = [f"wai_{i}" for i in range(1, 13)]
SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
# answers the two engines must read alike: digits, blanks and everything near them
DIGITS = ["1", "2", "3", "4", "5", "0", "9", "", ""]
ODD = ["10", "07", "0x1", "+4", "-0", " 4", "4.0", "NA", "x", "Always", "-1", "\u0663"]
ANSWER = st.sampled_from([*DIGITS, *ODD, "99999999999", "4,5", "1e0"])
IDENT = st.sampled_from(["A", "B", "=cmd", "-2", "", " ", "\u3000", "\x1f", "Zoë", "a b", "+x"])


def _arrow(values: list[str]) -> pd.Series:
    return pd.Series(pd.arrays.ArrowExtensionArray(pa.array(values, type=pa.string())))


def _run(
    argv: list[str], capsys: pytest.CaptureFixture[str], out: Path | None
) -> tuple[int, bytes]:
    code = main([*argv, "-o", str(out)] if out else argv)
    captured = capsys.readouterr()
    scores = out.read_bytes() if out else captured.out.encode()
    return code, scores


@st.composite
def exports(draw: st.DrawFn) -> str:
    """CSV text whose answers are small whole numbers or blank up to a row, and anything
    after it (so that with small chunks some chunks read as integers and later ones as
    text)."""
    rows = draw(st.integers(1, 60))
    cut = draw(st.integers(0, rows))
    digits = st.sampled_from(["1", "2", "3", "4", "5", "", "10", "0", "12"])
    quoted_header = draw(st.booleans())
    names = ["client_id", "session", *ITEMS]
    header = ",".join(f'"{n}"' if quoted_header else n for n in names)
    lines = [header]
    for row in range(rows):
        ident = draw(IDENT)
        session = draw(st.sampled_from(["1", "2", "-1"]))
        cells = [draw(digits if row < cut else ANSWER) for _ in ITEMS]
        lines.append(",".join([ident, session, *cells]))
    return "\n".join(lines) + "\n"


@SETTINGS
@given(sample=exports(), chunk_bytes=st.sampled_from([1024, 4 << 20]))
def test_fast_and_exact_engines_write_the_same_bytes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], sample: str, chunk_bytes: int
) -> None:
    text = sample
    path = tmp_path / "in.csv"
    path.write_text(text, encoding="utf-8")
    problems = tmp_path / "p.csv"
    argv = ["score", str(path), "-i", "wai-sr", "-q", "--chunk-bytes", str(chunk_bytes)]
    argv += ["--problems", str(problems)]
    fast = _run(argv, capsys, tmp_path / "s.csv")  # a file: the fast engine
    fast_problems = problems.read_bytes()
    exact = _run(argv, capsys, None)  # standard output: the exact engine
    assert fast[0] == exact[0]
    assert fast[1] == exact[1]  # the same scores, byte for byte
    assert fast_problems == problems.read_bytes()  # the same problems, lines and texts


def test_plainly_written_small_numbers_come_as_integers(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    rows = ["q1,q2,q3,q4,q5,id", "1,5,10,x,07,A", "2,,3,4,7,B", "9,0,99,2,100,C"]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    source = open_table(path)
    items = ["q1", "q2", "q3", "q4", "q5"]
    (chunk,) = source.chunks(
        [*items, "id"], categorical=items, integers=items, arrow_text=True, engine="arrow"
    )
    frame = chunk.frame
    assert frame["q1"].dtype == np.int8 and frame["q1"].tolist() == [1, 2, 9]
    assert frame["q2"].dtype == "Int8" and frame["q2"].isna().tolist() == [False, True, False]
    assert frame["q2"].iloc[[0, 2]].tolist() == [5, 0]
    assert frame["q3"].dtype == np.int8 and frame["q3"].tolist() == [10, 3, 99]
    for text_column in ("q4", "q5"):  # "x"; "07" (not how 7 is written) and "100"
        assert isinstance(frame[text_column].dtype, pd.CategoricalDtype)
    assert frame["q5"].astype(object).tolist() == ["07", "7", "100"]
    assert isinstance(frame["id"].dtype, pd.ArrowDtype)
    (exact,) = source.chunks(["q1", "q2"], integers=["q1", "q2"], engine="python")
    assert exact.frame["q2"].astype(object).tolist() == ["5", "", "0"]  # hints only


def test_a_quoted_header_alone_needs_no_strict_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object) -> bool:
        raise AssertionError("the whole file was parsed by the strict reader")

    monkeypatch.setattr(arrow_csv, "strictly_quoted", refuse)
    path = tmp_path / "in.csv"
    path.write_bytes(b'"id","q\n1"\r\nA,1\r\nB,2\rC,3\n')  # a line break in a name
    source = open_table(path)
    fast = list(source.chunks(engine="arrow"))
    exact = list(source.chunks(engine="python"))
    assert [c.lines.tolist() for c in fast] == [c.lines.tolist() for c in exact] == [[3, 4, 5]]
    pd.testing.assert_frame_equal(fast[0].frame, exact[0].frame)


@pytest.mark.parametrize(
    "data",
    [b'"id"x,"q"\nA,1\n', b'"id,q\nA,1\n'],
    ids=["text-after-quote", "never-closed"],
)
def test_broken_quoting_in_the_header_goes_to_the_exact_engine(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "in.csv"
    path.write_bytes(data)
    with pytest.raises(RestartRequired):
        list(open_table(path).chunks(engine="arrow"))


TEXT = st.text(alphabet='=+-@ \t\r\n,;"\x00\u3000\u00a0\uff1dabé1.5', max_size=6)


@settings(max_examples=100, deadline=None)
@given(cells=st.lists(TEXT, min_size=1, max_size=8), sep=st.sampled_from([",", "\t", ";"]))
def test_text_held_by_pyarrow_is_written_like_python_text(cells: list[str], sep: str) -> None:
    held = pd.DataFrame({"id": _arrow(cells), "n": np.arange(len(cells))})
    plain = pd.DataFrame({"id": pd.Series(cells, dtype=object), "n": np.arange(len(cells))})
    assert _arrow_csv(held, sep, header=True) == _pandas_csv(plain, sep, header=True)


def test_columns_of_many_values_and_every_kind_are_written_alike() -> None:
    rng = np.random.default_rng(3)
    n = 6000
    floats = rng.normal(size=n) * 10.0 ** rng.integers(-7, 13, size=n)
    floats[:4] = [np.nan, -0.0, 0.0, np.inf]
    frame = pd.DataFrame(
        {
            "many_floats": floats,  # more distinct values than are written one by one
            "few_floats": rng.choice([1 / 3, -0.0, 0.0, np.nan, 2.5e10], size=n),
            "wide_ints": rng.integers(-(10**12), 10**12, size=n),
            "int8": rng.integers(-128, 128, size=n).astype(np.int8),
            "nullable": pd.arrays.IntegerArray(rng.integers(1, 3, size=n), rng.random(n) < 0.3),
            "flag": pd.arrays.BooleanArray(rng.random(n) < 0.5, rng.random(n) < 0.3),
            "bool": rng.choice([True, False], size=n),
            "status": pd.Categorical(rng.choice(["a,b", "=x", "ok"], size=n)),
        }
    )
    for sep in (",", "\t"):
        text = _arrow_csv(frame, sep, header=True)
        assert text == _pandas_csv(frame, sep, header=True)
    back = pd.read_csv(io.StringIO(_arrow_csv(frame, ",", header=True)))
    np.testing.assert_array_equal(back["many_floats"].to_numpy(), floats)


@pytest.mark.parametrize("held", [False, True], ids=["objects", "pyarrow"])
def test_duplicates_and_blanks_alike_for_text_of_either_kind(held: bool) -> None:
    spaces = ["", " ", "\t", "\x1c", "\x1f", "\u3000", "\u00a0", "\u2028", "\x85"]
    values = [*spaces, "a", "\u00a0a", "a", "\u3000", "b", "b", " a"]
    column = _arrow(values) if held else pd.Series(values, dtype=object)
    finder = DuplicateFinder(["client"])
    lines = np.arange(2, 2 + len(values), dtype=np.int64)
    found = list(finder.check(pd.DataFrame({"client": column}), lines))
    first = len(spaces)
    # blanks are never compared; "a" repeats row `first`, "b" repeats the first "b"
    assert found == [(first + 2, 2 + first), (first + 5, 2 + first + 4)]


def test_duplicates_across_many_runs_and_very_long_files(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(accounting, "_FAN_IN", 3)  # merged runs and fresh ones
    rng = np.random.default_rng(11)
    n = 3000
    ids = pd.DataFrame({"client": _arrow([f"c{k}" for k in rng.integers(0, 900, size=n)])})
    lines = np.arange(n, dtype=np.int64) * 3 + (1 << 33)  # beyond 32 bits: stored as int64
    finder = DuplicateFinder(["client"])
    found: list[tuple[int, int]] = []
    for start in range(0, n, 97):
        part = ids.iloc[start : start + 97]
        found += [(start + p, f) for p, f in finder.check(part, lines[start : start + 97])]
    expected = ids["client"].astype(object).duplicated(keep="first").to_numpy()
    assert [p for p, _ in found] == np.flatnonzero(expected).tolist()
    first_line: dict[str, int] = {}
    for k, value in enumerate(ids["client"].astype(object)):
        first_line.setdefault(value, int(lines[k]))
    assert all(f == first_line[ids["client"].iloc[p]] for p, f in found)
    assert len(finder._runs) > 2


@pytest.mark.parametrize(
    "cell",
    [
        *("=1", "+x", "-x", "@x", "\tx", "\rx", "\x00x", " =1", "\u00a0=1", "\u3000=1"),
        *("\uff1d1", "\uff0b1", "\uff0d1", "\uff201", "\u3000\uff1d1"),
    ],
)
def test_a_lone_formula_among_plain_cells_is_neutralised(cell: str) -> None:
    cells = ["ok", "plain", cell, "A-17"]
    for column in (_arrow(cells), pd.Series(cells, dtype=object)):
        text = _arrow_csv(pd.DataFrame({"id": column}), ",", header=False)
        assert text == _pandas_csv(
            pd.DataFrame({"id": pd.Series(cells, dtype=object)}), ",", header=False
        )
        assert "'" + cell.replace("\r", "") in text.replace("\r", "")


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 2**64 - 1) | st.integers(0, 6), max_size=60))
def test_distinct_hashes_as_numpy_unique_gives_them(values: list[int]) -> None:
    hashes = np.array(values, dtype=np.uint64)
    got = accounting._distinct(hashes)
    want = np.unique(hashes, return_index=True, return_inverse=True)
    for mine, numpy_s in zip(got, want, strict=True):
        np.testing.assert_array_equal(mine, numpy_s.reshape(-1))


@settings(max_examples=50, deadline=None)
@given(st.lists(st.lists(st.integers(0, 2**64 - 1), max_size=40), max_size=6))
def test_the_bit_filter_never_forgets_a_hash(batches: list[list[int]]) -> None:
    bits = accounting._BitFilter()
    added: list[int] = []
    for batch in batches:
        hashes = np.unique(np.array(batch, dtype=np.uint64))  # added sorted, as check does
        bits.add(hashes)
        added += batch
        assert bits.may_hold(np.array(added, dtype=np.uint64)).all()


def test_results_written_behind_fail_in_the_caller_and_are_finished_on_interrupt() -> None:
    import threading
    import time

    from alliance_score.cli.score import _Behind

    done: list[str] = []

    def slow(name: str) -> None:
        time.sleep(0.05)
        assert threading.current_thread() is not threading.main_thread()
        done.append(name)

    def fail() -> None:
        raise OSError("No space left on device")

    with pytest.raises(KeyboardInterrupt), _Behind() as behind:
        behind.run(slow, "a")
        raise KeyboardInterrupt
    assert done == ["a"]  # the file was not closed under the write
    with pytest.raises(OSError, match="No space"), _Behind() as behind:
        behind.run(fail)
        behind.run(slow, "b")  # the failure is raised here, before more is written
    assert done == ["a"]
    with pytest.raises(OSError, match="No space"), _Behind() as behind:
        behind.run(fail)  # ... or when the block ends


def test_missing_identifiers_held_by_pyarrow_are_blank() -> None:
    values = ["a", None, "a", None, "b"]
    finder = DuplicateFinder(["client"])
    held = pd.Series(values, dtype=pd.StringDtype("pyarrow"))  # as parquet text comes
    found = list(finder.check(pd.DataFrame({"client": held}), np.arange(2, 7, dtype=np.int64)))
    assert found == [(2, 2)]


def test_an_item_column_of_empty_cells_reads_as_missing(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text("q1,q2\n,1\n,2\n", encoding="utf-8")
    (chunk,) = open_table(path).chunks(integers=["q1", "q2"], engine="arrow")
    assert chunk.frame["q1"].dtype == "Int8" and chunk.frame["q1"].isna().all()


def test_chunks_read_ahead_come_in_order_with_their_failure_and_are_closed() -> None:
    import threading

    from alliance_score.cli.score import _ahead

    readers: set[str] = set()
    closed: list[bool] = []

    def source(fail: bool) -> Iterator[int]:
        try:
            for k in range(3):
                readers.add(threading.current_thread().name)
                yield k
            if fail:
                raise RestartRequired("a ragged line")
        finally:
            closed.append(True)

    got: list[object] = []
    with pytest.raises(RestartRequired), _ahead(source(True)) as chunks:  # type: ignore[arg-type]
        got.extend(chunks)
    assert got == [0, 1, 2]
    assert readers and threading.main_thread().name not in readers
    with _ahead(source(False)) as chunks:  # type: ignore[arg-type]
        first: object = next(iter(chunks))
        assert first == 0  # left early: the reader is closed
    assert closed == [True, True]


def test_duplicates_found_while_reading_survive_slicing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from alliance_score.cli import score as score_command

    threes = ",".join(["3"] * 12)
    rows = ["A,1", "B,1", "A,1", "C,x", "B,1", "A,1", "D,2"]
    body = "\n".join(f"{r},{threes}" if "x" not in r else f"C,1,{threes[:-1]}x" for r in rows)
    path = tmp_path / "in.csv"
    path.write_text(f"client_id,session,{','.join(ITEMS)}\n{body}\n", encoding="utf-8")
    problems = tmp_path / "p.csv"
    argv = ["score", str(path), "-i", "wai-sr", "-q", "--problems", str(problems)]
    whole = _run(argv, capsys, tmp_path / "s.csv"), problems.read_text(encoding="utf-8")
    monkeypatch.setattr(score_command, "SLICE_ROWS", 1)
    monkeypatch.setattr(score_command, "PROBLEM_BUDGET", 1)
    sliced = _run(argv, capsys, tmp_path / "s.csv"), problems.read_text(encoding="utf-8")
    assert whole == sliced
    lines = [line for line in whole[1].splitlines() if "duplicate_row" in line]
    assert [line.split(",")[0] for line in lines] == ["4", "6", "7"]  # input lines
