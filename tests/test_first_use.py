"""What a new user stumbled on: identifiers, instrument ids, keep, column names."""

from __future__ import annotations

import pandas as pd
import pytest

from alliance_score import (
    ColumnMappingError,
    DataError,
    UnknownInstrumentError,
    UnknownScaleError,
    load_instrument,
    score_frame,
    score_response,
)
from alliance_score.cli import main
from alliance_score.io.layout import detect_identifiers

ITEMS = {f"wai_{i}": [4, 3] for i in range(1, 13)}


@pytest.mark.parametrize(
    "name", ["pid", "id", "participant_id", "ParticipantID", "ClientId", "PID", "subject"]
)
def test_common_identifier_names_are_detected(name: str) -> None:
    assert detect_identifiers((name, "wai_1", "notes")) == (name,)


@pytest.mark.parametrize("name", ["paid", "valid", "grid", "wai_1", "notes"])
def test_words_ending_in_id_are_not_identifiers(name: str) -> None:
    assert detect_identifiers((name,)) == ()


@pytest.mark.parametrize("ref", ["WAI-SR", "Wai-Sr", " wai-sr", "WAI-SR@1.0"])
def test_instrument_ids_are_case_insensitive(ref: str) -> None:
    assert load_instrument(ref) == load_instrument("wai-sr")


def test_unknown_ids_suggest_the_closest_whatever_the_case() -> None:
    with pytest.raises(UnknownInstrumentError, match="Did you mean: 'wai-sr'"):
        load_instrument("WAI-SRR")


def test_unknown_scale_is_a_library_error_with_a_suggestion() -> None:
    wai = load_instrument("wai-sr")
    with pytest.raises(UnknownScaleError, match="Did you mean 'bond'") as info:
        wai.scale("bnd")
    assert isinstance(info.value, KeyError)
    assert "task, bond, goal, total" in str(info.value)
    with pytest.raises(UnknownScaleError):
        score_frame(pd.DataFrame(ITEMS), "wai-sr", scales=["nope"])


def test_keep_given_as_text_is_one_column() -> None:
    data = pd.DataFrame({"client": ["a", "b"], **ITEMS})
    scores = score_frame(data, "wai-sr", keep="client")
    assert list(scores.columns[:2]) == ["client", "task"]
    with pytest.raises(DataError, match="Did you mean 'client' for 'clinet'"):
        score_frame(data, "wai-sr", keep="clinet")


def test_column_not_found_lists_columns_and_suggests_the_closest() -> None:
    data = pd.DataFrame({"client": ["a"], **{k: v[:1] for k, v in ITEMS.items()}})
    mapping = {str(i): f"wai_{i}" for i in range(1, 13)} | {"12": "wai12"}
    with pytest.raises(ColumnMappingError, match=r"Did you mean 'wai_12' for 'wai12'\?"):
        score_frame(data, "wai-sr", items=mapping)


def test_cli_keep_and_sessions_name_the_closest_column(
    tmp_path: pytest.TempPathFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "in.csv"  # type: ignore[operator]
    pd.DataFrame({"client_id": ["a"], **{k: v[:1] for k, v in ITEMS.items()}}).to_csv(
        path, index=False
    )
    assert main(["score", str(path), "-i", "WAI-SR", "--keep", "client"]) == 2
    assert "Did you mean 'client_id' for 'client'?" in capsys.readouterr().err
    argv = ["sessions", str(path), "--client", "client_id", "--session", "session"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "--session 'session'" in err
    assert "run 'alliance-score score' on the export first" in err


def test_results_and_definitions_print_as_one_short_line() -> None:
    data = pd.DataFrame({"client": ["a", "b"], **ITEMS})
    result = score_frame(data, "wai-sr", keep=["client"], return_problems=True)
    ins = load_instrument("srs")
    single = score_response("srs", {"relationship": 9, "goals": 9}, allow_provisional=True)
    for obj, start in [
        (result, "FrameResult(wai-sr@1.0: 2 rows (complete 2), 0 problems"),
        (ins, "Instrument(srs@3.0 'SRS', 4 items vas 0-10, scales: total (verified)"),
        (single, "ScoreResult(srs@3.0, insufficient, total=NA, total_below_36=NA"),
    ]:
        text = repr(obj)
        assert text.startswith(start), text
        assert "\n" not in text
        assert len(text) < 200
        assert str(obj) == text
    assert "cut-offs: total_below_36 (provisional)" in repr(ins)
    assert "provisional: total_below_36" in repr(single)


def test_unknown_item_in_a_mapping_suggests_the_closest() -> None:
    data = pd.DataFrame({"a": [9.0], "b": [9.0], "c": [9.0], "d": [9.0]})
    mapping = {"relationship": "a", "goal": "b", "approach": "c", "overall": "d"}
    with pytest.raises(ColumnMappingError, match="Did you mean 'goals' for 'goal'"):
        score_frame(data, "srs", items=mapping)
