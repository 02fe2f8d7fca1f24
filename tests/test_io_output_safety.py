"""Outputs: nothing replaced that is not a regular file, nothing half-written, every
failure one error line, every cell escaped rather than a crash, provenance in each file."""

from __future__ import annotations

import datetime as dt
import errno
import json
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from alliance_score.cli import main
from alliance_score.errors import OutputError
from alliance_score.io import PROVENANCE_SUFFIX, TableWriter, read_table, write_table

ITEMS = [f"wai_{i}" for i in range(1, 13)]
HEADER = "client_id,session," + ",".join(ITEMS)
ROWS = "\n".join([HEADER, "A,1," + ",".join(["3"] * 12), "B,-1," + ",".join(["4"] * 12)]) + "\n"


def _input(tmp_path: Path) -> Path:
    path = tmp_path / "in.csv"
    path.write_text(ROWS, encoding="utf-8")
    return path


def _frame() -> pd.DataFrame:
    return pd.DataFrame({"id": ["a", "b"], "total": [1.5, 2.0]})


# -- item 1: targets that are not regular files, and symbolic links -----------------------


def test_named_pipe_output_is_written_into_not_replaced(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    write_table(_frame(), fifo)
    reader.join(timeout=10)
    assert stat.S_ISFIFO(fifo.lstat().st_mode), "the pipe was replaced by a file"
    assert received == [b"id,total\na,1.5\nb,2\n"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe.csv"]


@pytest.mark.parametrize("fmt", ["csv", "parquet", "xlsx"])
def test_character_device_output_is_not_replaced(tmp_path: Path, fmt: Any) -> None:
    device = Path("/dev/null")
    before = device.stat()
    write_table(_frame(), device, fmt)
    after = device.stat()
    assert stat.S_ISCHR(after.st_mode)
    assert (before.st_ino, before.st_rdev) == (after.st_ino, after.st_rdev)


def test_full_device_is_exit_2_and_stays_a_device(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if not Path("/dev/full").exists():  # pragma: no cover - Linux has it
        pytest.skip("no /dev/full on this system")
    code = main(["score", str(_input(tmp_path)), "-i", "wai-sr", "-o", "/dev/full", "-q"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.count("alliance-score: error:") == 1
    assert "Traceback" not in err
    assert stat.S_ISCHR(Path("/dev/full").stat().st_mode)


def test_process_substitution_fd_is_written_in_place(tmp_path: Path) -> None:
    """``-o >(gzip > s.gz)`` hands the command ``/dev/fd/N``, a pipe."""
    script = (
        "import os, sys\n"
        "from alliance_score.cli import main\n"
        "r, w = os.pipe()\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    os.close(w)\n"
        "    data = b''\n"
        "    while chunk := os.read(r, 65536):\n"
        "        data += chunk\n"
        "    open(sys.argv[2], 'wb').write(data)\n"
        "    os._exit(0)\n"
        "os.close(r)\n"
        "code = main(['score', sys.argv[1], '-i', 'wai-sr', '-q', '-o', f'/dev/fd/{w}'])\n"
        "os.close(w)\n"
        "os.waitpid(pid, 0)\n"
        "sys.exit(code)\n"
    )
    received = tmp_path / "received.csv"
    done = subprocess.run(  # noqa: S603 - this interpreter, a fixed script
        [sys.executable, "-c", script, str(_input(tmp_path)), str(received)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    text = received.read_text(encoding="utf-8")
    assert text.startswith("client_id,session,task")
    assert len(text.splitlines()) == 3


def test_symlink_output_is_written_through_and_the_link_stays(tmp_path: Path) -> None:
    target = tmp_path / "real" / "scores.csv"
    target.parent.mkdir()
    target.write_text("old\n", encoding="utf-8")
    link = tmp_path / "scores.csv"
    link.symlink_to(target)
    write_table(_frame(), link)
    assert link.is_symlink()
    assert os.readlink(link) == str(target)
    assert target.read_text(encoding="utf-8") == "id,total\na,1.5\nb,2\n"
    assert not list(tmp_path.rglob("*.part"))


# -- item 7: every failure to write is exit 2, no partial file, the old file intact -------


def _disk_full(*args: Any, **kwargs: Any) -> Any:
    raise OSError(errno.ENOSPC, "No space left on device")


@pytest.mark.parametrize("suffix", ["csv", "parquet", "xlsx"])
def test_disk_full_is_exit_2_and_the_previous_file_is_intact(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    suffix: str,
) -> None:
    from alliance_score.io import writers

    out = tmp_path / f"s.{suffix}"
    out.write_bytes(b"previous run")
    if suffix == "csv":
        monkeypatch.setattr(writers, "_arrow_csv_parts", _disk_full)
        monkeypatch.setattr(writers, "_pandas_csv", _disk_full)
    else:
        monkeypatch.setattr(writers.TableWriter, f"_write_{suffix}", _disk_full)
    code = main(["score", str(_input(tmp_path)), "-i", "wai-sr", "-o", str(out), "-q"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("alliance-score: error:") == 1
    assert "No space left on device" in err
    assert "Traceback" not in err
    assert out.read_bytes() == b"previous run"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv", f"s.{suffix}"]


def test_failure_on_the_problems_file_leaves_the_scores_unwritten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from alliance_score.io import writers

    real_finish = writers.TableWriter.finish

    def finish(self: TableWriter) -> None:
        if self.path and self.path.endswith("p.csv"):
            raise OutputError("Cannot write 'p.csv': No space left on device.")
        real_finish(self)

    monkeypatch.setattr(writers.TableWriter, "finish", finish)
    argv = ["score", str(_input(tmp_path)), "-i", "wai-sr", "-q"]
    code = main([*argv, "-o", str(tmp_path / "s.csv"), "--problems", str(tmp_path / "p.csv")])
    assert code == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]
    assert "Traceback" not in capsys.readouterr().err


def _kept(values: list[Any]) -> pd.DataFrame:
    return pd.DataFrame({"kept": pd.Series(values, dtype=object), "total": [1.0] * len(values)})


AWKWARD_CELLS = {
    "vertical-tab-and-nul": ["a\x0bb", "c\x00d"],
    "carriage-return": ["line\rbreak", "ok"],
    "numbers-and-text": [17, "C-17"],
    "tz-aware-time": [dt.datetime(2024, 5, 1, 9, 30, tzinfo=dt.UTC), None],
    "list-dict-set-array": [[1, 2], {"a": 1}],
    "set-and-array": [{3, 1}, np.array([1.5, 2.0])],
}


@pytest.mark.parametrize("fmt", ["csv", "parquet", "xlsx"])
@pytest.mark.parametrize("cells", AWKWARD_CELLS.values(), ids=AWKWARD_CELLS.keys())
def test_cells_a_format_cannot_hold_are_escaped(tmp_path: Path, cells: list[Any], fmt: Any) -> None:
    out = tmp_path / f"s.{fmt}"
    write_table(_kept(cells), out, fmt)
    back = read_table(out)
    assert len(back) == len(cells)
    assert back.columns.tolist() == ["kept", "total"]


def test_excel_keeps_control_characters_as_excel_escapes(tmp_path: Path) -> None:
    from openpyxl.utils.escape import unescape  # type: ignore[import-untyped]

    cells = ["a\x0bb", "line\rbreak", "_x0041_ literal", "=1+1"]
    out = tmp_path / "s.xlsx"
    write_table(_kept(cells), out)
    back = read_table(out)["kept"].tolist()
    assert [unescape(v) for v in back] == ["a\x0bb", "line\rbreak", "_x0041_ literal", "'=1+1"]


def test_tz_aware_timestamps_keep_their_offset_in_excel(tmp_path: Path) -> None:
    when = pd.Series(pd.to_datetime(["2024-05-01T09:30:00+02:00"]))
    out = tmp_path / "s.xlsx"
    write_table(pd.DataFrame({"when": when}), out)
    assert read_table(out)["when"].tolist() == ["2024-05-01T09:30:00+02:00"]


def test_mixed_id_column_to_parquet_is_text(tmp_path: Path) -> None:
    out = tmp_path / "s.parquet"
    write_table(_kept([17, "C-17"]), out)
    assert pd.read_parquet(out)["kept"].tolist() == ["17", "C-17"]


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "parquet"])
@pytest.mark.parametrize(
    "categories",
    [[1, 2], [1.5, 2.5], list(pd.to_datetime(["2024-01-01", "2024-02-01"]))],
    ids=["int", "float", "timestamp"],
)
def test_categorical_columns_of_any_category_type(
    tmp_path: Path, categories: list[Any], fmt: Any
) -> None:
    frame = pd.DataFrame({"c": pd.Categorical([categories[1], None, categories[0]]), "n": 1})
    out = tmp_path / f"s.{fmt}"
    write_table(frame, out, fmt)
    assert len(read_table(out)) == 3


def test_parquet_list_struct_map_columns_can_be_kept(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import pyarrow as pa  # type: ignore[import-untyped]
    import pyarrow.parquet as pq  # type: ignore[import-untyped]

    table = pa.table(
        {
            "client_id": ["A", "B"],
            "tags": pa.array([[1, 2], [3]], type=pa.list_(pa.int64())),
            "meta": pa.array([{"x": 1}, {"x": 2}]),
            "attrs": pa.array([[("k", "v")], []], type=pa.map_(pa.string(), pa.string())),
            **{item: [3, 4] for item in ITEMS},
        }
    )
    source = tmp_path / "in.parquet"
    pq.write_table(table, source)
    for fmt in ("csv", "xlsx", "parquet"):
        out = tmp_path / f"s.{fmt}"
        argv = ["score", str(source), "-i", "wai-sr", "-q", "-o", str(out)]
        code = main([*argv, "--keep", "client_id", "tags", "meta", "attrs"])
        err = capsys.readouterr().err
        assert code == 0, err
        assert len(read_table(out)) == 2


# -- item 14: numbers are written as numbers -----------------------------------------------


def test_negative_session_numbers_survive_a_pipe_into_sessions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["score", str(_input(tmp_path)), "-i", "wai-sr", "-q"])
    scores = capsys.readouterr().out
    assert code == 0
    assert "\nB,-1," in scores
    (tmp_path / "scores.csv").write_text(scores, encoding="utf-8")
    argv = ["sessions", str(tmp_path / "scores.csv"), "--client", "client_id"]
    assert main([*argv, "--session", "session", "--score", "total", "-q"]) == 0


# -- item 17: permissions ---------------------------------------------------------------------


def test_new_output_is_private_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o000)
    try:
        write_table(_frame(), tmp_path / "s.csv")
        write_table(_frame(), tmp_path / "s.parquet")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "s.csv").stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "s.parquet").stat().st_mode) == 0o600


def test_a_replaced_file_keeps_its_permissions(tmp_path: Path) -> None:
    out = tmp_path / "s.csv"
    out.write_text("old\n", encoding="utf-8")
    out.chmod(0o640)
    write_table(_frame(), out)
    assert stat.S_IMODE(out.stat().st_mode) == 0o640
    assert out.read_text(encoding="utf-8").startswith("id,total")


# -- item 16: temporary files of a killed run -----------------------------------------------


def test_stale_temporary_file_of_a_dead_process_is_removed(tmp_path: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    stale = tmp_path / f".s.csv.{int(dead.stdout)}.abc123.part"
    stale.write_text("half", encoding="utf-8")
    alive = tmp_path / f".s.csv.{os.getpid()}.xyz.part"
    alive.write_text("another writer of this process", encoding="utf-8")
    write_table(_frame(), tmp_path / "s.csv")
    assert not stale.exists()
    assert alive.exists()


# -- item 10: provenance in every output ------------------------------------------------------


def test_provenance_is_in_every_output_and_the_json_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import pyarrow.parquet as pq
    from openpyxl import load_workbook  # type: ignore[import-untyped]

    from alliance_score import load_instrument

    wai = load_instrument("wai-sr")
    expected = {"definition_origin": "shipped", "definition_hash": wai.content_hash}
    source = _input(tmp_path)
    for fmt in ("csv", "parquet", "xlsx"):
        out = tmp_path / f"s.{fmt}"
        code = main(["score", str(source), "-i", "wai-sr", "-q", "-o", str(out), "--json"])
        report = json.loads(capsys.readouterr().out)
        assert code == 0
        assert report["definition"] == {
            "id": "wai-sr",
            "version": wai.version,
            "origin": "shipped",
            "hash": wai.content_hash,
        }
        if fmt == "csv":
            meta = json.loads(Path(str(out) + PROVENANCE_SUFFIX).read_text(encoding="utf-8"))
            meta = meta["alliance_score"]
            assert not stat.S_IMODE(Path(str(out) + PROVENANCE_SUFFIX).stat().st_mode) & 0o077
        elif fmt == "parquet":
            meta = json.loads(pq.read_schema(out).metadata[b"alliance_score"])
        else:
            book = load_workbook(out, read_only=True)
            rows = list(book["alliance_score"].iter_rows(values_only=True))
            meta = dict(rows[1:])
            assert book.sheetnames[0] != "alliance_score"  # the scores stay the first sheet
        assert {k: meta[k] for k in expected} == expected
        assert meta["instrument"] == wai.ref


# -- item 16: signals leave nothing behind ---------------------------------------------------

_SIGNAL_MID_WRITE = """
import os, signal, sys
from alliance_score.cli import main, score
real = score.score_frame
calls = iter(range(3))
def scored(*args, **kwargs):
    if next(calls, 3) == 1:
        os.kill(os.getpid(), getattr(signal, sys.argv[3]))
    return real(*args, **kwargs)
score.score_frame = scored
sys.exit(main(["score", sys.argv[1], "-i", "wai-sr", "-q", "--chunk-bytes", "100",
               "-o", sys.argv[2] + "/s.csv", "--problems", sys.argv[2] + "/p.xlsx"]))
"""


@pytest.mark.parametrize("name", ["SIGTERM", "SIGHUP", "SIGQUIT"])
def test_terminating_signals_while_writing_leave_no_part_files(tmp_path: Path, name: str) -> None:
    rows = [f"C{i},1," + ",".join(["3"] * 11) + ",9" for i in range(200)]
    (tmp_path / "in.csv").write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    done = subprocess.run(  # noqa: S603 - this interpreter, a fixed script
        [sys.executable, "-c", _SIGNAL_MID_WRITE, str(tmp_path / "in.csv"), str(out), name],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 130, done.stderr
    assert "Traceback" not in done.stderr
    assert list(out.iterdir()) == []


def test_sigterm_while_standard_input_arrives_removes_its_copy(tmp_path: Path) -> None:
    import signal
    import time

    env = dict(os.environ, TMPDIR=str(tmp_path))
    process = subprocess.Popen(
        [sys.executable, "-m", "alliance_score", "score", "-", "-i", "wai-sr", "-q"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert process.stdin is not None
    process.stdin.write((HEADER + "\n").encode())
    process.stdin.flush()
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob("alliance-score-stdin-*")) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert list(tmp_path.glob("alliance-score-stdin-*")), "standard input was not spooled"
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert list(tmp_path.glob("alliance-score-stdin-*")) == []


def _dead_pid() -> int:
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(done.stdout)


def test_stale_copy_of_standard_input_is_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io
    import tempfile

    from alliance_score.cli._common import input_path

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    stale = tmp_path / f"alliance-score-stdin-{_dead_pid()}.abc.csv"
    stale.write_text("answers of a killed run", encoding="utf-8")

    class _Piped(io.TextIOWrapper):
        def isatty(self) -> bool:
            return False

    monkeypatch.setattr(sys, "stdin", _Piped(io.BytesIO(ROWS.encode())))
    with input_path("-") as name:
        assert Path(name).read_text(encoding="utf-8") == ROWS
        assert not stale.exists()
    assert list(tmp_path.iterdir()) == []


def test_stale_part_that_cannot_be_removed_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from alliance_score.errors import AllianceScoreWarning

    stale = tmp_path / f".s.csv.{_dead_pid()}.abc.part"
    stale.write_text("half", encoding="utf-8")
    real_remove = os.remove

    def refuse(path: Any) -> None:
        if str(path) == str(stale):
            raise PermissionError(13, "Permission denied")
        real_remove(path)

    monkeypatch.setattr(os, "remove", refuse)
    with pytest.warns(AllianceScoreWarning, match=stale.name):
        write_table(_frame(), tmp_path / "s.csv")
