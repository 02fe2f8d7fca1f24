"""Long layout: validator problems, wide/long reshaping and its round trips."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings

from alliance_score import DataError
from alliance_score.sessions import LongProblemCode, to_long, to_wide, validate_long

from .sessions_strategies import long_tables, wide_tables


def _frame(**cols: list[object]) -> pd.DataFrame:
    return pd.DataFrame(cols)


VALID = _frame(client=["a", "a", "b"], session=[1, 2, 1], total=[4.0, 5.0, 3.0])


@pytest.mark.parametrize(
    ("data", "options", "expected"),
    [
        pytest.param(VALID, {}, [], id="valid"),
        pytest.param(
            _frame(client=["a", "a", "a"], session=[1, 2, 2], total=[4.0, 5.0, 3.0]),
            {},
            [("duplicate_row", 2)],
            id="duplicate-session",
        ),
        pytest.param(
            _frame(
                client=["a", "a", "a", "a"],
                session=[1, 1, 2, 2],
                rater=["client", "therapist", "client", "client"],
                total=[4.0, 5.0, 3.0, 3.0],
            ),
            {"rater": "rater"},
            [("duplicate_row", 3)],
            id="duplicate-within-rater-only",
        ),
        pytest.param(
            _frame(client=["a", None, "b"], session=[1, 2, None], total=[4.0, 5.0, 3.0]),
            {},
            [("missing_identifier", 1), ("missing_identifier", 2)],
            id="missing-identifiers",
        ),
        pytest.param(
            _frame(
                client=["a", "a", "a"],
                session=[1, 2, 3],
                date=["2024-03-01", "2024-02-01", "2024-03-08"],
                total=[4.0, 5.0, 3.0],
            ),
            {"date": "date"},
            [("non_monotone_date", 1)],
            id="date-goes-back",
        ),
        pytest.param(
            _frame(
                client=["a", "a", "b"],
                session=[3, 1, 1],
                date=["2024-03-01", "2024-03-01", "2024-03-01"],
                total=[4.0, 5.0, 3.0],
            ),
            {"date": "date"},
            [("non_monotone_date", 0)],
            id="same-date-unsorted-rows",
        ),
        pytest.param(
            _frame(client=["a", "a"], session=[1, 2], date=["2024-03-01", "soon"], total=[4, 5]),
            {"date": "date"},
            [("not_a_date", 1)],
            id="not-a-date",
        ),
        pytest.param(
            _frame(
                client=["a", "a", "b"],
                session=[1, 2, 1],
                instrument=["wai-sr@1.0", "srs@3.0", "wai-sr@1.0"],
                total=[4.0, 5.0, 3.0],
            ),
            {"instrument_column": "instrument"},
            [("mixed_instruments", 1)],
            id="mixed-instruments",
        ),
        pytest.param(
            _frame(
                client=["a", "a"],
                session=[1, 1],
                rater=["client", "therapist"],
                instrument=["wai-sr@1.0", "wai-t@1.0"],
                total=[4.0, 5.0],
            ),
            {"rater": "rater", "instrument_column": "instrument"},
            [],
            id="different-instruments-per-rater-are-fine",
        ),
    ],
)
def test_validate_long(
    data: pd.DataFrame, options: dict[str, str], expected: list[tuple[str, int]]
) -> None:
    problems = validate_long(data, **options)
    assert list(zip(problems["code"], problems["row"], strict=True)) == expected
    assert set(problems["code"]) <= {c.value for c in LongProblemCode}


def test_validate_long_messages_name_rows_not_identifiers() -> None:
    data = _frame(client=["secret-id", "secret-id"], session=[1, 1], total=[4.0, 5.0])
    message = str(validate_long(data).loc[0, "message"])
    assert message == "Row 1 repeats the identifiers ['client', 'session'] of row 0."
    assert "secret" not in message


def test_validate_long_does_not_mutate() -> None:
    data = VALID.copy()
    validate_long(data)
    pd.testing.assert_frame_equal(data, VALID)


@pytest.mark.parametrize(
    ("call", "error"),
    [
        pytest.param(lambda: validate_long(VALID, client="id"), DataError, id="unknown-column"),
        pytest.param(lambda: to_wide(pd.concat([VALID, VALID])), DataError, id="wide-duplicates"),
        pytest.param(lambda: to_long(to_wide(VALID), rater="rater"), DataError, id="index-levels"),
        pytest.param(lambda: validate_long([1, 2]), TypeError, id="not-a-frame"),  # type: ignore[arg-type]
    ],
)
def test_errors(call: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        call()  # type: ignore[operator]


def test_to_wide_with_rater() -> None:
    data = _frame(
        client=["a", "a", "a"],
        session=[1, 1, 2],
        rater=["client", "therapist", "client"],
        total=[4.0, 5.0, 3.0],
    )
    wide = to_wide(data, rater="rater")
    assert wide.index.names == ["client", "rater"]
    assert wide.loc[("a", "therapist"), 1] == 5.0
    back = to_long(wide, rater="rater")
    expected = data.loc[[0, 2, 1], ["client", "rater", "session", "total"]].reset_index(drop=True)
    pd.testing.assert_frame_equal(back, expected)


@settings(max_examples=60, deadline=None)
@given(wide_tables())
def test_to_wide_after_to_long_is_identity(wide: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(to_wide(to_long(wide, dropna=False)), wide)


@settings(max_examples=60, deadline=None)
@given(long_tables(with_missing=False))
def test_to_long_after_to_wide_restores_sorted_long(data: pd.DataFrame) -> None:
    expected = data.sort_values(["client", "session"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(to_long(to_wide(data)), expected)


@pytest.mark.parametrize(
    ("ids", "error"),
    [
        pytest.param([101, "103b", 101], True, id="number-and-text"),
        pytest.param([1.5, "x", 1.5], True, id="float-and-text"),
        pytest.param([101, 102.0, 101], False, id="int-and-float-order-fine"),
    ],
)
def test_client_ids_of_mixed_kinds(ids: list[object], error: bool) -> None:
    from alliance_score.sessions import summarize_clients

    frame = pd.DataFrame(
        {"client": pd.Series(ids, dtype=object), "session": [1, 1, 2], "total": [3.0, 4, 5]}
    )
    if error:
        with pytest.raises(DataError, match="mixes kinds of values"):
            summarize_clients(frame)
        fixed = frame.assign(client=frame["client"].astype(str))
        assert len(summarize_clients(fixed)) == 2
    else:
        assert len(summarize_clients(frame)) == 2
