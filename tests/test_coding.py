"""The data-set coding check: answers that use less of the scale than it declares."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from alliance_score import load_instrument, score_frame
from alliance_score.cli import main
from alliance_score.coding import CODING_MIN_ROWS, AnswerRange, coding_notes

SETTINGS = settings(max_examples=40, deadline=None)
WAI_S = load_instrument("wai-s")
COLUMNS = [f"wai_sr_{i:02d}" for i in range(1, 13)]
PATTERN = "wai_sr_{item:02}"


def _wai_sr_answers(rows: int, seed: int = 1) -> pd.DataFrame:
    """1-5 answers (WAI-SR coding) in columns named for the WAI-SR."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(rng.integers(1, 6, size=(rows, 12)), columns=COLUMNS)


cells = st.one_of(st.just(np.nan), st.integers(-5, 9).map(float))
matrices = st.integers(0, 6).flatmap(lambda n: arrays(np.float64, (n, 3), elements=cells))


@SETTINGS
@given(st.lists(matrices, min_size=1, max_size=4))
def test_merged_ranges_equal_the_range_of_the_whole(parts: list[np.ndarray]) -> None:
    merged = AnswerRange(np.nan, np.nan, 0)
    for part in parts:
        merged = merged.merge(AnswerRange.of(part))
    whole = AnswerRange.of(np.concatenate(parts))
    assert merged.to_dict() == whole.to_dict()
    reverse = AnswerRange(np.nan, np.nan, 0)
    for part in reversed(parts):
        reverse = AnswerRange.of(part).merge(reverse)
    assert reverse.to_dict() == whole.to_dict()


def test_wai_sr_answers_scored_as_wai_s_are_noted() -> None:
    res = score_frame(
        _wai_sr_answers(40), WAI_S, items=PATTERN, allow_provisional=True, return_problems=True
    )
    assert res.problems.empty  # every cell is valid: no row is wrong
    (note,) = res.summary()["coding"]
    assert "nothing above 5" in note
    assert "1-7" in note
    assert res.summary()["answers"] == {"min": 1.0, "max": 5.0, "rows": 40}


def test_too_few_rows_or_the_full_range_say_nothing() -> None:
    few = score_frame(
        _wai_sr_answers(CODING_MIN_ROWS - 1),
        WAI_S,
        items=PATTERN,
        allow_provisional=True,
        return_problems=True,
    )
    assert few.coding_notes == []
    full = _wai_sr_answers(40)
    full.iloc[0, 0] = 7
    assert (
        score_frame(
            full, WAI_S, items=PATTERN, allow_provisional=True, return_problems=True
        ).coding_notes
        == []
    )
    # a top category unused by shy respondents is not enough (one step only)
    assert coding_notes(WAI_S, AnswerRange(1.0, 6.0, 500)) == []
    # visual analogue scales are not judged
    assert coding_notes(load_instrument("srs"), AnswerRange(0.0, 3.0, 500)) == []


def test_a_zero_based_scale_answered_from_one_is_noted() -> None:
    zero_based = WAI_S.model_copy(
        update={"response": WAI_S.response.model_copy(update={"min": 0.0, "max": 6.0})}
    )
    (note,) = coding_notes(zero_based, AnswerRange(1.0, 6.0, 30))
    assert "nothing below 1" in note
    assert "a 1-7 scale?" in note


def test_cli_reports_the_coding_in_summary_json_and_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "wai_sr.csv"
    _wai_sr_answers(60).to_csv(path, index=False)
    argv = ["score", str(path), "-i", "wai-s", "--columns", PATTERN, "-o", str(tmp_path / "s.csv")]
    argv.append("--allow-provisional")
    assert main([*argv, "--chunk-bytes", "200"]) == 0
    assert "coding: Over 60 rows the answers use only 1 to 5" in capsys.readouterr().err
    assert main([*argv, "--json", "--chunk-bytes", "200"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["answers"] == {"min": 1.0, "max": 5.0, "rows": 60}
    assert len(report["coding"]) == 1
    check = ["check", str(path), "-i", "wai-s", "--columns", PATTERN, "--allow-provisional"]
    code = main([*check, "--json"])
    assert code in (0, 1)
    assert json.loads(capsys.readouterr().out)["coding"] == report["coding"]
    main(check)
    assert "Coding: Over 60 rows" in capsys.readouterr().out
