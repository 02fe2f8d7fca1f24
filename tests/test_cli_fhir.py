"""``alliance-score fhir``: Questionnaires out, QuestionnaireResponses scored in bulk."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.questionnaire import Questionnaire
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alliance_score import fhir, load_instrument
from alliance_score.cli import main
from alliance_score.io.accounting import PROBLEM_FILE_COLUMNS

from .fhir_strategies import JSON, response_for

SETTINGS = settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _responses() -> list[dict[str, Any]]:
    wai, srs = load_instrument("wai-sr"), load_instrument("srs")
    good = response_for(wai, {str(i): 4 for i in range(1, 13)}, rid="a")
    invalid = response_for(wai, {str(i): 4 for i in range(1, 13)}, rid="b")
    invalid["item"][2]["answer"] = [{"valueInteger": 9}]
    prorated = response_for(srs, {"relationship": 9.5, "goals": 9.0, "approach": 8.5}, rid="c")
    return [good, invalid, prorated]


def _ndjson(path: Path, records: list[Any]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def test_questionnaire_to_stdout_and_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(capsys, "fhir", "questionnaire", "wai-sr")
    assert code == 0
    assert json.loads(out) == fhir.questionnaire("wai-sr")
    target = tmp_path / "q.json"
    assert _run(capsys, "fhir", "questionnaire", "srs", "-o", str(target))[0] == 0
    Questionnaire.model_validate_json(target.read_text())


def test_questionnaire_unknown_instrument(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "fhir", "questionnaire", "wai-xx")
    assert code == 2 and out == "" and "Unknown instrument 'wai-xx'" in err


def test_score_ndjson(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    records: list[Any] = [*_responses(), {"resourceType": "Patient", "id": "p"}]
    source = _ndjson(tmp_path / "in.ndjson", records)
    source.write_text(source.read_text() + "\n{broken\n", encoding="utf-8")
    out, bad = tmp_path / "obs.ndjson", tmp_path / "problems.csv"
    code, stdout, err = _run(
        capsys, "fhir", "score", str(source), "-o", str(out), "--problems", str(bad), "--json"
    )
    assert code == 1
    lines = out.read_text().splitlines()
    observations = [json.loads(line) for line in lines]
    for obs in observations:
        Observation.model_validate(obs)
    assert [o["derivedFrom"][0]["reference"] for o in observations] == [
        "QuestionnaireResponse/a",
        "QuestionnaireResponse/c",
    ]
    # each Observation is what the library makes of that response
    expected = fhir.observation(fhir.score_questionnaire_response(records[0]), response=records[0])
    assert observations[0] == expected
    problems = pd.read_csv(bad, dtype=str, keep_default_na=False)
    assert list(problems.columns) == list(PROBLEM_FILE_COLUMNS)
    assert problems[["line", "row", "index", "code"]].to_dict("records") == [
        {"line": "2", "row": "1", "index": "b", "code": "out_of_range"},
        {"line": "6", "row": "3", "index": "", "code": "not_a_response"},
    ]
    report = json.loads(stdout)
    assert report["rows"] == 4 and report["observations"] == 2 and report["refused"] == 2
    assert report["status"] == {
        "complete": 1,
        "prorated": 1,
        "partial": 0,
        "insufficient": 0,
        "invalid": 2,
    }
    assert report["problems"] == {"not_a_response": 1, "out_of_range": 1}
    assert report["skipped"] == {"Patient": 1}
    assert "4 QuestionnaireResponses read" in err and "other resources skipped: Patient 1" in err


def test_score_bundle_pretty_printed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": r} for r in _responses()[::2]],
    }
    source = tmp_path / "bundle.json"
    source.write_text(json.dumps(bundle, indent=2))
    out = tmp_path / "obs.ndjson"
    code, _, _ = _run(capsys, "fhir", "score", str(source), "-o", str(out), "-q")
    assert code == 0
    assert len(out.read_text().splitlines()) == 2


def test_score_to_a_bundle(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = _ndjson(tmp_path / "in.ndjson", _responses())
    out = tmp_path / "obs.json"
    code, _, _ = _run(
        capsys, "fhir", "score", str(source), "-o", str(out), "--bundle", "transaction", "-q"
    )
    assert code == 1
    bundle = json.loads(out.read_text())
    Bundle.model_validate(bundle)
    assert bundle["type"] == "transaction" and len(bundle["entry"]) == 2


def test_score_with_options(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    records = _responses()
    records[0]["item"][0]["answer"] = [{"valueString": "Always"}]
    source = _ndjson(tmp_path / "in.ndjson", records)
    out = tmp_path / "obs.ndjson"
    code, _, _ = _run(
        capsys,
        "fhir",
        "score",
        str(source),
        "-o",
        str(out),
        "--labels",
        "--on-invalid",
        "missing",
        "--allow-provisional",
        "-q",
    )
    assert code == 1  # the out-of-range answer is still reported
    observations = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(observations) == 3
    assert observations[2]["status"] == "preliminary"  # provisional SRS cut-off scored


def test_score_with_an_instrument_that_disagrees(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = _ndjson(tmp_path / "in.ndjson", _responses())
    out, bad = tmp_path / "obs.ndjson", tmp_path / "bad.csv"
    code, _, _ = _run(
        capsys, "fhir", "score", str(source), "-i", "srs", "-o", str(out), "--problems", str(bad)
    )
    assert code == 1
    problems = pd.read_csv(bad, dtype=str, keep_default_na=False)
    assert list(problems["code"]) == ["unknown_questionnaire", "unknown_questionnaire"]
    assert len(out.read_text().splitlines()) == 1


def test_an_instrument_with_only_provisional_scales_is_one_refused_response(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    arm = load_instrument("arm-5")
    records = [response_for(arm, dict.fromkeys(arm.item_ids, 5), rid="arm"), _responses()[0]]
    source = _ndjson(tmp_path / "in.ndjson", records)
    out, bad = tmp_path / "obs.ndjson", tmp_path / "bad.csv"
    code, _, _ = _run(capsys, "fhir", "score", str(source), "-o", str(out), "--problems", str(bad))
    assert code == 1
    assert len(out.read_text().splitlines()) == 1
    problems = pd.read_csv(bad, dtype=str, keep_default_na=False)
    assert list(problems["code"]) == ["provisional_only"]
    assert "--allow-provisional" in problems["message"][0]


def test_score_from_stdin_to_stdout() -> None:
    records = _responses()[:1]
    done = subprocess.run(
        [sys.executable, "-m", "alliance_score", "fhir", "score", "-", "-q"],
        input="".join(json.dumps(r) + "\n" for r in records).encode(),
        capture_output=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    (obs,) = [json.loads(line) for line in done.stdout.decode().splitlines()]
    assert obs["valueQuantity"]["value"] == 4.0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{\n  broken", "neither NDJSON"),
        (None, "Cannot read"),
    ],
    ids=["broken-document", "missing-file"],
)
def test_unreadable_input_is_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes | None, message: str
) -> None:
    source = tmp_path / "in.json"
    if content is not None:
        source.write_bytes(content)
    out = tmp_path / "obs.ndjson"
    code, _, err = _run(capsys, "fhir", "score", str(source), "-o", str(out))
    assert code == 2 and message in err
    assert not out.exists() and list(tmp_path.glob(".obs*")) == []


def test_long_lines_are_refused_and_reading_goes_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = json.dumps(_responses()[0])
    long_line = '{"resourceType": "QuestionnaireResponse", "x": "' + "y" * (
        fhir.MAX_RESPONSE_BYTES + 10
    )
    source = tmp_path / "in.ndjson"
    source.write_text(f'{good}\n{long_line}"}}\n{good}\n')
    out, bad = tmp_path / "obs.ndjson", tmp_path / "bad.csv"
    code, _, _ = _run(
        capsys, "fhir", "score", str(source), "-o", str(out), "--problems", str(bad), "-q"
    )
    assert code == 1
    assert len(out.read_text().splitlines()) == 2
    problems = pd.read_csv(bad, dtype=str, keep_default_na=False)
    assert problems[["line", "code"]].to_dict("records") == [
        {"line": "2", "code": "not_a_response"}
    ]


def test_refuses_to_overwrite_the_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = _ndjson(tmp_path / "in.ndjson", _responses())
    code, _, err = _run(capsys, "fhir", "score", str(source), "-o", str(source))
    assert code == 2 and "overwrite the input" in err


def test_problems_file_is_injection_safe(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    record = _responses()[0]
    record["item"].append({"linkId": "=HYPERLINK(1)", "answer": [{"valueInteger": 1}]})
    source = _ndjson(tmp_path / "in.ndjson", [record])
    bad = tmp_path / "bad.csv"
    _run(capsys, "fhir", "score", str(source), "-o", str(tmp_path / "o"), "--problems", str(bad))
    text = bad.read_text()
    assert "=HYPERLINK" in text and ",=HYPERLINK" not in text


@SETTINGS
@given(records=st.lists(st.one_of(JSON, st.text(max_size=20)), max_size=5))
def test_any_input_never_crashes(
    records: list[Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "in.ndjson"
    lines = [r if isinstance(r, str) else json.dumps(r) for r in records]
    source.write_text("\n".join(line.replace("\n", " ") for line in lines), encoding="utf-8")
    code, _, err = _run(capsys, "fhir", "score", str(source), "-o", str(tmp_path / "o"), "-q")
    assert code in (0, 1, 2)
    assert "Traceback" not in err


def test_bulk_reader_on_bytes() -> None:
    """The library function behind the command, on an in-memory stream."""
    from alliance_score.fhir.bulk import score_bulk

    data = b"".join(json.dumps(r).encode() + b"\n" for r in _responses())
    items = list(score_bulk(io.BytesIO(data)))
    assert [i.row for i in items] == [0, 1, 2]
    assert [i.observation is not None for i in items] == [True, False, True]
    assert [i.resource_id for i in items] == ["a", "b", "c"]


def test_sigterm_leaves_no_partial_output(tmp_path: Path) -> None:
    import signal
    import time

    out = tmp_path / "obs.ndjson"
    proc = subprocess.Popen(  # noqa: S603 - this interpreter, fixed arguments
        [sys.executable, "-m", "alliance_score", "fhir", "score", "-", "-o", str(out), "-q"],
        stdin=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdin is not None
    proc.stdin.write((json.dumps(_responses()[0]) + "\n").encode())
    proc.stdin.flush()
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob(".obs.ndjson.*")) and time.monotonic() < deadline:
        time.sleep(0.05)  # the output file is open: the command is reading
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert list(tmp_path.iterdir()) == []


def test_output_to_a_folder_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "fhir", "questionnaire", "srs", "-o", str(tmp_path))
    assert code == 2 and "names a folder" in err
    source = _ndjson(tmp_path / "in.ndjson", _responses())
    missing = tmp_path / "no" / "such" / "obs.ndjson"
    code, _, err = _run(capsys, "fhir", "score", str(source), "-o", str(missing))
    assert code == 2 and "Cannot write" in err


@pytest.mark.parametrize("command", ["score", "check", "show", "fhir", ""])
def test_the_fhir_subcommands_are_not_listed_as_commands(command: str) -> None:
    """``fhir score`` is a subcommand of ``fhir``: building the parser for any command
    (which lists the others from their source) sees one ``score`` command."""
    from alliance_score.cli import build_parser

    parser = build_parser(command)
    (commands,) = [a for a in parser._actions if a.dest == "command"]
    names = list(commands.choices or ())
    assert names.count("score") == 1 and names.count("fhir") == 1
    assert "questionnaire" not in names
