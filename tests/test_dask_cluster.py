"""``score --engine dask`` on a real local cluster (2 worker processes on the loopback).

The pipeline of ``bench/dask_scale.py`` at 10^6 rows in 16 parquet files: the accounting
equals the single-process command's on the same rows, the scores are the same rows, and
the reliability of all rows equals a streamed two-pass numpy reference.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from alliance_score import dask as asd
from alliance_score.cli import main
from alliance_score.cli._dask_score import MALLOC_ENVIRON, local_cluster

# distributed's clients and clusters leave some sockets to the garbage collector when
# they close; Python reports them (ResourceWarning) in whichever test runs the collector.
pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
dd: Any = importlib.import_module("dask.dataframe")  # untyped: used through Any
distributed: Any = importlib.import_module("distributed")
ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("dask_scale", ROOT / "bench" / "dask_scale.py")
assert _spec is not None and _spec.loader is not None
bench: Any = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    with (
        local_cluster(2, memory_limit="1GiB") as cluster,
        distributed.Client(cluster) as c,
    ):
        yield c


def test_the_local_clusters_workers_keep_freed_memory_for_the_next_task(client: Any) -> None:
    """Dask's default allocator settings map every column afresh from the system; the
    command's local cluster keeps freed memory for the next partition instead."""
    import os

    def environ() -> dict[str, str | None]:
        return {k: os.environ.get(k) for k in MALLOC_ENVIRON}

    assert list(client.run(environ).values()) == [MALLOC_ENVIRON] * 2


def test_the_memory_settings_apply_after_another_cluster_in_the_same_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A cluster started before leaves Dask's own setting in this process's environment,
    which a nanny prefers to its configuration; the command's cluster still gets its own,
    and this process's environment is left as it was."""
    import os

    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "65536")
    monkeypatch.delenv("MALLOC_MMAP_THRESHOLD_", raising=False)
    with local_cluster(1, memory_limit="1GiB") as cluster, distributed.Client(cluster) as c:
        got = c.run(lambda: {k: os.environ.get(k) for k in MALLOC_ENVIRON})
    assert list(got.values()) == [MALLOC_ENVIRON]
    assert os.environ["MALLOC_TRIM_THRESHOLD_"] == "65536"
    assert "MALLOC_MMAP_THRESHOLD_" not in os.environ


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    folder = tmp_path_factory.mktemp("exports")
    paths: list[str] = bench.generate(folder, 10**6, 16, seed=3, ids=True)
    return paths


def _cli(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(list(argv))
    return code, out.getvalue()


def test_a_million_rows_in_16_partitions_match_the_single_process_command(
    client: Any, dataset: list[str], tmp_path: Path
) -> None:
    address = client.scheduler.address
    pattern = str(Path(dataset[0]).parent / "*.parquet")
    code, text = _cli(
        "score", pattern, "-i", "wai-sr", "--engine", "dask", "--scheduler", address,
        "-o", str(tmp_path / "scores"), "--problems", str(tmp_path / "problems"), "-q", "--json",
    )  # fmt: skip
    report = json.loads(text)
    assert code == 1  # out-of-range cells and duplicate record ids
    assert report["rows"] == 10**6
    assert report["input"]["partitions"] == 16
    assert sorted(p.name for p in (tmp_path / "scores").iterdir()) == [
        f"part-{i:05d}.parquet" for i in range(16)
    ]

    whole = tmp_path / "all.parquet"
    pd.concat([pd.read_parquet(p) for p in dataset], ignore_index=True).to_parquet(whole)
    single_code, single_text = _cli(
        "score", str(whole), "-i", "wai-sr", "-o", str(tmp_path / "single.parquet"),
        "--problems", str(tmp_path / "single-problems.csv"), "-q", "--json",
    )  # fmt: skip
    single = json.loads(single_text)
    assert single_code == code
    assert report["status"] == single["status"]
    assert report["problems"] == single["problems"]
    assert report["problems"]["duplicate_row"] > 0

    scores = pd.read_parquet(tmp_path / "scores")
    pd.testing.assert_frame_equal(scores, pd.read_parquet(tmp_path / "single.parquet"))
    problems = pd.read_parquet(tmp_path / "problems").drop(columns="file")
    expected = pd.read_csv(tmp_path / "single-problems.csv", dtype={"index": str, "value": str})
    assert problems["row"].tolist() == expected["row"].tolist()
    assert problems["line"].tolist() == expected["line"].tolist()
    assert problems["code"].tolist() == expected["code"].tolist()
    assert problems["message"].tolist() == expected["message"].tolist()

    partial = asd.partial_reliability(dd.read_parquet(pattern), "wai-sr")
    merged = pd.concat(
        [partial.finish(missing=m, ci=None) for m in ("pairwise", "listwise")],
        ignore_index=True,
    )
    reference = bench.streamed_reliability(dataset)
    both = merged.merge(reference, on=["scale", "missing"], suffixes=("", "_ref"))
    assert len(both) == 8
    np.testing.assert_allclose(both["alpha"], both["alpha_ref"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(both["alpha_std"], both["alpha_std_ref"], rtol=0, atol=1e-9)


def test_scores_written_on_the_cluster_equal_the_dask_frame(
    client: Any, dataset: list[str], tmp_path: Path
) -> None:
    ddf = dd.read_parquet(dataset[:2])
    result = asd.score_frame(ddf, "wai-sr", keep=["record_id"], return_problems=True)
    scores, problems = client.compute([result.scores, result.problems], sync=True)
    local = pd.concat([pd.read_parquet(p) for p in dataset[:2]], ignore_index=True)
    assert len(scores) == len(local)
    assert problems["row"].max() >= len(local) // 2  # rows counted over both files
    assert (problems["row"].diff().dropna() >= 0).all()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-o", "{tmp}/full"], "new or empty folder"),
        ([], "give -o FOLDER"),
        (["-o", "{tmp}/s", "--problems", "{tmp}/s"], "different folders"),
        (["-o", "{tmp}/s", "--format", "csv"], "parquet datasets"),
        (["-o", "{tmp}/s", "--sheet", "2"], "--sheet"),
        (["-o", "{tmp}/s", "--workers", "0"], "--workers"),
    ],
    ids=["output-not-empty", "no-output", "same-folders", "format", "sheet", "workers"],
)
def test_usage_errors_exit_2(
    dataset: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str],
    message: str,
) -> None:  # fmt: skip
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "old.parquet").write_bytes(b"")
    argv = [a.replace("{tmp}", str(tmp_path)) for a in args]
    code = main(["score", dataset[0], "-i", "wai-sr", "--engine", "dask", *argv])
    assert code == 2
    assert message in capsys.readouterr().err


def test_inputs_that_are_not_one_parquet_dataset_exit_2(
    dataset: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def run(source: Path) -> str:
        argv = ["score", str(source), "-i", "wai-sr", "--engine", "dask"]
        assert main([*argv, "-o", str(tmp_path / "s")]) == 2
        return capsys.readouterr().err

    assert "No parquet files" in run(tmp_path / "none-*.parquet")
    (tmp_path / "a.csv").write_text("x\n1\n")
    assert "parquet files only" in run(tmp_path / "a.*")
    pd.DataFrame({"other": [1]}).to_parquet(tmp_path / "b.parquet")
    pd.read_parquet(dataset[0]).iloc[:5].to_parquet(tmp_path / "c.parquet")
    assert "same columns" in run(tmp_path)
    (tmp_path / "d.parquet").write_bytes(b"not parquet")
    assert "Cannot read" in run(tmp_path / "d.parquet")


def test_a_partition_that_cannot_be_read_leaves_no_dataset(
    client: Any, dataset: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = pd.read_parquet(dataset[0]).iloc[:2000]
    good.to_parquet(tmp_path / "a.parquet", row_group_size=1000)
    damaged = bytearray((tmp_path / "a.parquet").read_bytes())
    damaged[200:1200] = b"\xff" * 1000  # inside the first row group's pages; footer intact
    (tmp_path / "b.parquet").write_bytes(bytes(damaged))
    (tmp_path / "a.parquet").unlink()
    argv = ["score", str(tmp_path / "b.parquet"), "-i", "wai-sr", "--engine", "dask"]
    argv += ["--scheduler", client.scheduler.address, "-o", str(tmp_path / "scores")]
    assert main([*argv, "--problems", str(tmp_path / "problems")]) == 2
    assert "Cannot read row group" in capsys.readouterr().err
    assert not (tmp_path / "scores").exists()
    assert not (tmp_path / "problems").exists()


def test_in_process_cluster_matches_the_single_process_files(tmp_path: Path) -> None:
    """Threads in this process (the tasks' code runs here): files equal cell for cell."""
    rng = np.random.default_rng(9)
    cells = rng.integers(0, 7, size=(600, 12)).astype(float)
    cells[rng.random(cells.shape) < 0.1] = np.nan
    frame = pd.DataFrame(cells, columns=[f"wai_{i}" for i in range(1, 13)])
    frame.insert(0, "client_id", [f"c{i % 450}" for i in range(600)])
    frame.loc[[5, 77], "client_id"] = ""  # blank identifiers are not compared
    for i, part in enumerate([frame.iloc[:250], frame.iloc[250:250], frame.iloc[250:]]):
        part.to_parquet(tmp_path / f"in-{i}.parquet", row_group_size=100)
    frame.to_parquet(tmp_path / "whole.parquet")
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
    ) as cluster:
        code, text = _cli(
            "score", str(tmp_path / "in-*.parquet"), "-i", "wai-sr", "--engine", "dask",
            "--scheduler", cluster.scheduler_address, "-o", str(tmp_path / "s"),
            "--problems", str(tmp_path / "p"), "--json",
        )  # fmt: skip
    single_code, single_text = _cli(
        "score", str(tmp_path / "whole.parquet"), "-i", "wai-sr", "-o", str(tmp_path / "w.csv"),
        "--problems", str(tmp_path / "wp.csv"), "--json",
    )  # fmt: skip
    report, single = json.loads(text), json.loads(single_text)
    assert (code, report["status"], report["problems"]) == (
        single_code,
        single["status"],
        single["problems"],
    )
    assert report["input"]["partitions"] == 3 + 1 + 4  # row groups; an empty file is one
    assert report["keep"] == ["client_id"]
    got = pd.read_parquet(tmp_path / "p")
    assert set(got["file"]) <= {"in-0.parquet", "in-2.parquet"}
    expected = pd.read_csv(tmp_path / "wp.csv", dtype=str, keep_default_na=False)
    shown = got.drop(columns="file").astype(object).fillna("").astype(str)
    pd.testing.assert_frame_equal(shown, expected, check_dtype=False)
    scores = pd.read_parquet(tmp_path / "s")
    pd.testing.assert_frame_equal(
        scores.drop(columns="client_id"),
        pd.read_csv(tmp_path / "w.csv").drop(columns="client_id"),
        check_dtype=False,
    )
