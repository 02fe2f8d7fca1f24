"""score_frame and score_response: output shape, options, problems and refusals."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pytest

from alliance_score import (
    ColumnMappingError,
    DataError,
    FrameResult,
    Instrument,
    ProblemCode,
    ProvisionalScaleError,
    Response,
    Status,
    __version__,
    load_instrument,
    score_frame,
    score_response,
)


def _wai_sr(rows: Sequence[Sequence[object]], index: list[str] | None = None) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=[f"wai_{i}" for i in range(1, 13)], index=index)


def test_output_columns_index_and_attrs() -> None:
    data = _wai_sr([[4] * 12, [5] * 12], index=["x", "y"])
    data.insert(0, "client", ["c1", "c2"])
    scores = score_frame(data, "wai-sr", keep=["client"])
    assert list(scores.index) == ["x", "y"]
    assert list(scores.columns) == [
        "client",
        *[
            f"{s}{suffix}"
            for s in ("task", "bond", "goal", "total")
            for suffix in ("", "_n_answered", "_prorated")
        ],
        "n_answered",
        "n_problems",
        "status",
    ]
    assert scores["total"].dtype == np.float64
    assert scores["total_n_answered"].dtype == np.int64
    assert scores["status"].dtype == "category"
    ins = load_instrument("wai-sr")
    assert ins.origin == "shipped"
    assert ins.content_hash.startswith("sha256:")
    assert scores.attrs["alliance_score"] == {
        "instrument": "wai-sr@1.0",
        "definition_origin": "shipped",
        "definition_hash": ins.content_hash,
        "library_version": __version__,
        "scales": ["task", "bond", "goal", "total"],
        "provisional": [],
    }


def test_single_precision_answers_land_on_cutoffs() -> None:
    data = pd.DataFrame(
        {"relationship": [9.1], "goals": [8.9], "approach": [9.0], "overall": [9.0]},
        dtype="float32",
    )
    scores = score_frame(data, "srs", allow_provisional=True)
    assert scores.loc[0, "total"] == 36.0
    assert not scores.loc[0, "total_below_36"]
    answers = {k: np.float32(v) for k, v in data.iloc[0].items()}
    result = score_response("srs", answers, allow_provisional=True)  # type: ignore[arg-type]
    assert result.scores["total"] == 36.0
    assert result.flags["total_below_36"] is False


def test_invalid_rows_are_rejected_by_default_and_scored_on_request() -> None:
    data = _wai_sr([[4] * 11 + ["9"]])
    rejected = score_frame(data, "wai-sr", return_problems=True)
    assert rejected.scores.loc[0, "status"] == "invalid"
    assert np.isnan(float(rejected.scores["total"].iloc[0]))
    kept = score_frame(data, "wai-sr", on_invalid="missing", return_problems=True)
    assert kept.scores.loc[0, "status"] == "prorated"
    assert kept.scores.loc[0, "total"] == 4.0
    assert kept.scores.loc[0, "n_problems"] == 1
    assert list(kept.problems["code"]) == [ProblemCode.OUT_OF_RANGE]


def test_problem_table_names_row_column_item_value_and_rule() -> None:
    data = _wai_sr([[4] * 12, [4] * 6 + ["seven"] + [4] * 5], index=["secret-id-1", "secret-id-2"])
    result = score_frame(data, "wai-sr", return_problems=True)
    assert list(result.problems.columns) == [
        "row",
        "index",
        "column",
        "item",
        "value",
        "code",
        "message",
    ]
    problem = result.problems.iloc[0]
    assert (problem["row"], problem["index"], problem["column"], problem["item"]) == (
        1,
        "secret-id-2",
        "wai_7",
        "7",
    )
    assert problem["value"] == "seven"
    assert problem["code"] == "not_a_number"
    assert "secret-id" not in problem["message"]
    assert problem["message"] == (
        "Item '7' (column 'wai_7') in row 1 must be an integer from 1 to 5; got 'seven'."
    )


def test_label_hint_when_labels_are_not_enabled() -> None:
    result = score_frame(_wai_sr([["Always"] * 12]), "wai-sr", return_problems=True)
    assert len(result.problems) == 12
    assert "pass labels=True" in str(result.problems["message"].iloc[0])
    labelled = score_frame(_wai_sr([["Always"] * 12]), "wai-sr", labels=True)
    assert labelled.loc[0, "total"] == 5.0


def test_missing_codes_are_only_missing_when_declared() -> None:
    data = _wai_sr([[-99] + [3] * 11])
    assert score_frame(data, "wai-sr").loc[0, "status"] == "invalid"
    declared = score_frame(data, "wai-sr", missing_codes=[-99])
    assert declared.loc[0, "status"] == "prorated"
    assert declared.loc[0, "task_n_answered"] == 3


def test_summary_counts_every_row() -> None:
    data = _wai_sr([[4] * 12, [4] * 11 + [None], [None] * 12, ["x"] + [4] * 11])
    result = score_frame(data, "wai-sr", return_problems=True)
    summary = result.summary()
    assert summary["rows"] == 4
    assert summary["status"] == {
        "complete": 1,
        "prorated": 1,
        "partial": 0,
        "insufficient": 1,
        "invalid": 1,
    }
    assert summary["problems"] == {"not_a_number": 1}
    assert summary["mapping"]["1"] == "wai_1"
    assert summary["instrument"] == {"id": "wai-sr", "version": "1.0"}


def _mixed_status() -> Instrument:
    """The WAI-SR key with its subscales declared provisional (the total stays verified)."""
    raw = load_instrument("wai-sr").model_dump()
    for scale in raw["scales"]:
        if scale["id"] != "total":
            scale["status"] = "provisional"
    return Instrument.model_validate(raw)


def test_provisional_scales_need_the_opt_in() -> None:
    data = pd.DataFrame([[4] * 12], columns=[str(i) for i in range(1, 13)])
    mixed = _mixed_status()
    verified_only = score_frame(data, mixed)
    assert "total" in verified_only.columns
    assert "task" not in verified_only.columns
    with pytest.raises(ProvisionalScaleError):
        score_frame(data, mixed, scales=["task"])
    with pytest.raises(ProvisionalScaleError, match=r"Every scale of wai-s@1\.0 is provisional"):
        score_frame(data, "wai-s")
    opted = score_frame(data, mixed, allow_provisional=True, return_problems=True)
    assert opted.provisional == ("task", "bond", "goal")
    assert opted.scores.attrs["alliance_score"]["provisional"] == ["task", "bond", "goal"]
    assert list(opted.scores["provisional"]) == ["task;bond;goal"]
    assert "provisional" not in verified_only.columns


def test_provisional_cutoff_flag_needs_the_opt_in() -> None:
    data = pd.DataFrame({"relationship": [9], "goals": [9], "approach": [9], "overall": [8.9]})
    assert "total_below_36" not in score_frame(data, "srs").columns
    flagged = score_frame(data, "srs", allow_provisional=True)
    assert bool(flagged.loc[0, "total_below_36"]) is True


def test_scales_can_be_chosen() -> None:
    scores = score_frame(_wai_sr([[4] * 12]), "wai-sr", scales=["bond"])
    assert [c for c in scores.columns if not c.endswith(("_n_answered", "_prorated"))] == [
        "bond",
        "n_answered",
        "n_problems",
        "status",
    ]


@pytest.mark.parametrize(
    "index",
    [
        pd.Index(["a", "a"]),
        pd.MultiIndex.from_tuples([("c1", 1), ("c1", 2)], names=["client", "session"]),
        pd.RangeIndex(10, 14, 2),
    ],
    ids=["duplicate-labels", "multiindex", "offset-range"],
)
def test_any_index_is_kept(index: pd.Index) -> None:
    data = _wai_sr([[4] * 12, [5] * 12])
    data.index = index
    data["site"] = pd.array(["north", None], dtype="string")
    scores = score_frame(data, "wai-sr", keep=["site"])
    assert scores.index.equals(index)
    assert list(scores["total"]) == [4.0, 5.0]
    assert scores["site"].dtype == "string"


def test_empty_frame_scores_to_an_empty_frame() -> None:
    scores = score_frame(_wai_sr([]), "wai-sr")
    assert len(scores) == 0
    assert "total" in scores.columns


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"keep": ["nope"]}, DataError),
        ({"keep": ["total"]}, DataError),
        ({"items": {"1": "wai_1"}}, ColumnMappingError),
        ({"items": "wai_{item}x"}, ColumnMappingError),
        ({"on_invalid": "drop"}, ValueError),
    ],
    ids=["unknown-keep", "keep-clash", "partial-mapping", "bad-pattern", "bad-policy"],
)
def test_refusals(kwargs: dict[str, object], error: type[Exception]) -> None:
    data = _wai_sr([[4] * 12])
    data["total"] = 1
    with pytest.raises(error):
        score_frame(data, "wai-sr", **kwargs)  # type: ignore[call-overload]


def test_duplicate_item_column_is_refused() -> None:
    data = pd.concat([_wai_sr([[4] * 12]), _wai_sr([[4] * 12])[["wai_1"]]], axis=1)
    with pytest.raises(ColumnMappingError, match="several columns"):
        score_frame(data, "wai-sr")


def test_data_must_be_a_dataframe() -> None:
    with pytest.raises(TypeError):
        score_frame([[4] * 12], "wai-sr")  # type: ignore[call-overload]


def test_frame_result_problem_records() -> None:
    result = score_frame(_wai_sr([[4] * 11 + ["4.5"]]), "wai-sr", return_problems=True)
    assert isinstance(result, FrameResult)
    (record,) = result.problem_records()
    assert record.code is ProblemCode.NOT_ALLOWED_VALUE
    assert record.item == "12"


# -- score_response --------------------------------------------------------------------


def test_score_response_with_a_response_model() -> None:
    response = Response(instrument="wai-sr", answers={str(i): 4 for i in range(1, 13)})
    result = score_response("wai-sr", response)
    assert result.status is Status.COMPLETE
    assert result.scores == {"task": 4.0, "bond": 4.0, "goal": 4.0, "total": 4.0}
    assert result.instrument_id == "wai-sr"
    assert result.instrument_version == "1.0"
    assert result.library_version == __version__
    assert result.provisional == ()


@pytest.mark.parametrize("named", ["agency-wai", "agency-wai@2.0"])
def test_score_response_for_a_definition_off_the_search_path(named: str) -> None:
    wai_sr = load_instrument("wai-sr")
    agency = wai_sr.model_validate(wai_sr.model_dump() | {"id": "agency-wai", "version": "2.0"})
    response = Response(instrument=named, answers={str(i): 4 for i in range(1, 13)})
    assert score_response(agency, response).scores["total"] == 4.0
    with pytest.raises(DataError):
        score_response(wai_sr, response)


def test_score_response_for_another_instrument_is_refused() -> None:
    with pytest.raises(DataError):
        score_response("wai-sr", Response(instrument="srs", answers={}))


@pytest.mark.parametrize(
    ("on_invalid", "status", "total"),
    [("reject", Status.INVALID, None), ("missing", Status.COMPLETE, 4.0)],
)
def test_score_response_unknown_item(on_invalid: str, status: Status, total: float | None) -> None:
    answers: dict[str, object] = {str(i): 4 for i in range(1, 13)}
    answers["13"] = 5
    result = score_response("wai-sr", answers, on_invalid=on_invalid)  # type: ignore[arg-type]
    assert result.status is status
    assert result.scores["total"] == total
    assert [p.code for p in result.problems] == [ProblemCode.UNKNOWN_ITEM]


def test_score_response_answers_keyed_by_numbers_are_unknown_items() -> None:
    answers: dict[object, object] = dict.fromkeys(range(1, 13), 4)
    result = score_response("wai-sr", answers)  # type: ignore[arg-type]
    assert result.status is Status.INVALID
    assert [(p.code, p.item, p.value) for p in result.problems[:1]] == [
        (ProblemCode.UNKNOWN_ITEM, "1", "4")
    ]
    assert len(result.problems) == 12
    assert "item 1," in result.problems[0].message


def test_score_response_rejects_non_mappings() -> None:
    with pytest.raises(TypeError):
        score_response("wai-sr", [4] * 12)  # type: ignore[arg-type]


def test_score_response_result_is_json_ready() -> None:
    result = score_response(load_instrument("srs"), {"relationship": 5}, allow_provisional=True)
    dumped = result.model_dump(mode="json")
    assert dumped["status"] == "insufficient"
    assert dumped["scores"] == {"total": None}
    assert dumped["flags"] == {"total_below_36": None}


def test_row_blocks_give_the_same_scores_and_problems(monkeypatch: pytest.MonkeyPatch) -> None:
    from alliance_score import frame

    rows: list[Sequence[object]] = [
        [4] * 12,
        [5] * 11 + ["x"],
        [None] * 12,
        [3] * 6 + [9] + [3] * 5,
        [2] * 12,
    ]
    data = _wai_sr(rows * 3)
    whole = score_frame(data, "wai-sr", return_problems=True)
    monkeypatch.setattr(frame, "FRAME_BLOCK_ROWS", 4)
    blocked = score_frame(data, "wai-sr", return_problems=True)
    pd.testing.assert_frame_equal(whole.scores, blocked.scores)
    pd.testing.assert_frame_equal(whole.problems, blocked.problems)
    assert list(blocked.problems["row"]) == [1, 3, 6, 8, 11, 13]


def test_first_row_counts_problem_rows_from_the_start_of_a_larger_table() -> None:
    data = _wai_sr([[4] * 12, [4] * 11 + ["x"]])
    result = score_frame(data, "wai-sr", first_row=1000, return_problems=True)
    assert list(result.problems["row"]) == [1001]
    assert " in row 1001 " in str(result.problems["message"].iloc[0])


def test_response_model_refuses_booleans() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        Response(answers={"1": True})
    assert Response(answers={"1": 4, "2": 4.0, "3": " 4 ", "4": None}).answers["3"] == " 4 "


def test_one_scale_named_as_text_is_that_scale() -> None:
    from alliance_score import reliability, score_frame

    frame = pd.DataFrame({f"wai_sr_{i:02d}": [4, 3, 5] for i in range(1, 13)})
    assert list(score_frame(frame, "wai-sr", scales="total").columns) == list(
        score_frame(frame, "wai-sr", scales=["total"]).columns
    )
    assert reliability(frame, "wai-sr", scales="total", ci=None)["scale"].tolist() == ["total"]


def test_a_changed_copy_of_a_definition_has_its_own_hash() -> None:
    """Provenance describes content: a copy with a changed field no longer claims the
    shipped file's origin and hash; an unchanged copy keeps them."""
    ins = load_instrument("wai-sr")
    same = ins.model_copy()
    assert (same.origin, same.content_hash) == (ins.origin, ins.content_hash)
    renamed = ins.model_copy(update={"name": "Another name"})
    assert renamed.origin == "<model>"
    assert renamed.content_hash.startswith("sha256:")
    assert renamed.content_hash != ins.content_hash
    result = score_response(renamed, {str(i): 4 for i in range(1, 13)})
    assert result.definition_hash == renamed.content_hash
