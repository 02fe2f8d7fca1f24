"""Property-based tests of the scoring contract over generated instruments and data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import tomli_w
from hypothesis import given, settings
from hypothesis import strategies as st

from alliance_score import Instrument, parse_instrument, score_frame, score_response
from alliance_score.scoring import score_matrix

from .strategies import answers, instrument_dicts, instruments

SETTINGS = settings(max_examples=60, deadline=None)


def _frame(instrument: Instrument, matrix: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(matrix, columns=list(instrument.item_ids))


def _score(instrument: Instrument, frame: pd.DataFrame) -> pd.DataFrame:
    return score_frame(
        frame,
        instrument,
        items={i: i for i in instrument.item_ids},
        allow_provisional=True,
    )


@SETTINGS
@given(st.data())
def test_scores_lie_in_each_scales_range(data: st.DataObject) -> None:
    ins = data.draw(instruments())
    x = data.draw(answers(ins))
    result = score_matrix(x, ins)
    for k, scale in enumerate(result.scales):
        lo, hi = scale.score_range(ins.response)
        col = result.scores[:, k]
        col = col[~np.isnan(col)]
        assert np.all(col >= lo - 1e-9), (scale.id, col.min(), lo)
        assert np.all(col <= hi + 1e-9), (scale.id, col.max(), hi)


@SETTINGS
@given(st.data())
def test_reverse_keying_twice_is_identity(data: st.DataObject) -> None:
    """Flipping an item's key and recoding its data the same way changes no score."""
    ins = data.draw(instruments())
    x = data.draw(answers(ins))
    flip = data.draw(st.sampled_from(ins.item_ids))
    j = ins.item_ids.index(flip)
    flipped = ins.model_copy(
        update={
            "items": tuple(
                i.model_copy(update={"reverse": not i.reverse}) if i.id == flip else i
                for i in ins.items
            )
        }
    )
    y = x.copy()
    y[:, j] = ins.response.min + ins.response.max - y[:, j]
    a, b = score_matrix(x, ins), score_matrix(y, flipped)
    np.testing.assert_allclose(a.scores, b.scores, atol=1e-9)
    np.testing.assert_array_equal(a.status, b.status)


@SETTINGS
@given(st.data())
def test_row_order_does_not_change_a_rows_scores(data: st.DataObject) -> None:
    ins = data.draw(instruments())
    frame = _frame(ins, data.draw(answers(ins)))
    order = data.draw(st.permutations(list(range(len(frame)))))
    whole = _score(ins, frame)
    shuffled = _score(ins, frame.iloc[order])
    pd.testing.assert_frame_equal(whole.iloc[order], shuffled)


@SETTINGS
@given(st.data())
def test_column_order_does_not_change_scores(data: st.DataObject) -> None:
    ins = data.draw(instruments())
    frame = _frame(ins, data.draw(answers(ins)))
    columns = data.draw(st.permutations(list(frame.columns)))
    pd.testing.assert_frame_equal(_score(ins, frame), _score(ins, frame[columns]))


@SETTINGS
@given(st.data())
def test_chunking_does_not_change_scores(data: st.DataObject) -> None:
    ins = data.draw(instruments())
    frame = _frame(ins, data.draw(answers(ins, max_rows=30)))
    cut = data.draw(st.integers(0, len(frame)))
    parts = pd.concat([_score(ins, frame.iloc[:cut]), _score(ins, frame.iloc[cut:])])
    whole = _score(ins, frame)
    pd.testing.assert_frame_equal(whole, parts.astype(whole.dtypes.to_dict()))


@SETTINGS
@given(st.data())
def test_text_cells_score_like_numbers(data: st.DataObject) -> None:
    """A cell written as text (with spaces, or '4.0') scores exactly as the number."""
    ins = data.draw(instruments())
    x = data.draw(answers(ins))
    numeric = _frame(ins, x)
    pad = data.draw(st.sampled_from(["", " ", "  "]))
    text = numeric.map(lambda v: "" if np.isnan(v) else f"{pad}{v!r}{pad}")
    pd.testing.assert_frame_equal(_score(ins, numeric), _score(ins, text))


@SETTINGS
@given(st.data())
def test_score_response_equals_the_frame_row(data: st.DataObject) -> None:
    ins = data.draw(instruments())
    x = data.draw(answers(ins, max_rows=5))
    scores = _score(ins, _frame(ins, x))
    for r in range(len(x)):
        given_answers = {
            item: float(x[r, j]) for j, item in enumerate(ins.item_ids) if not np.isnan(x[r, j])
        }
        single = score_response(ins, given_answers, allow_provisional=True)
        row = scores.iloc[r]
        assert single.status.value == row["status"]
        for scale, value in single.scores.items():
            if value is None:
                assert np.isnan(row[scale])
            else:
                assert value == row[scale]
            assert single.n_answered[scale] == row[f"{scale}_n_answered"]
            assert single.prorated[scale] == bool(row[f"{scale}_prorated"])
        for flag, fired in single.flags.items():
            assert (row[flag] is pd.NA) if fired is None else (fired == bool(row[flag]))


@SETTINGS
@given(instrument_dicts())
def test_definitions_round_trip_through_toml(raw: dict[str, object]) -> None:
    ins = Instrument.model_validate(raw)
    dumped = ins.model_dump(mode="json", exclude_none=True)
    again = parse_instrument(tomli_w.dumps(dumped))
    assert again == ins
    assert again.model_dump(mode="json", exclude_none=True) == dumped


@SETTINGS
@given(st.data())
def test_the_input_frame_is_never_mutated(data: st.DataObject) -> None:
    ins = data.draw(instruments())
    frame = _frame(ins, data.draw(answers(ins))).astype(object)
    frame.iloc[0, 0] = "not a number"
    before = frame.copy(deep=True)
    score_frame(frame, ins, items={i: i for i in ins.item_ids}, allow_provisional=True)
    pd.testing.assert_frame_equal(frame, before)
