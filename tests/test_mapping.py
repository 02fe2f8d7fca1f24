"""Column mapping: explicit, pattern and auto-detection, and refusals."""

from __future__ import annotations

import pytest

from alliance_score import ColumnMappingError, Instrument, load_instrument, resolve_columns

WAI_SR = load_instrument("wai-sr")
SRS = load_instrument("srs")

DETECTED = [
    ("exact ids", [str(i) for i in range(1, 13)], "7", "7"),
    ("underscore", ["id", *[f"wai_{i}" for i in range(1, 13)]], "7", "wai_7"),
    ("zero padded", [f"wai_sr_{i:02d}" for i in range(1, 13)], "7", "wai_sr_07"),
    ("dot upper", [f"WAI.{i}" for i in range(1, 13)], "12", "WAI.12"),
    ("no separator", [f"q{i}" for i in range(1, 13)], "1", "q1"),
    ("mixed case", [f"Wai_Q{i}" for i in range(1, 13)], "10", "Wai_Q10"),
    ("exact wins", [*[str(i) for i in range(1, 13)], *[f"q{i}" for i in range(1, 13)]], "3", "3"),
]


@pytest.mark.parametrize(
    ("columns", "item", "column"), [d[1:] for d in DETECTED], ids=[d[0] for d in DETECTED]
)
def test_detects_common_namings(columns: list[str], item: str, column: str) -> None:
    mapping = resolve_columns(columns, WAI_SR)
    assert mapping[item] == column
    assert set(mapping) == set(WAI_SR.item_ids)


def test_detects_word_item_ids_with_prefix() -> None:
    mapping = resolve_columns(["srs_relationship", "srs_goals", "srs_approach", "srs_overall"], SRS)
    assert mapping == {
        "relationship": "srs_relationship",
        "goals": "srs_goals",
        "approach": "srs_approach",
        "overall": "srs_overall",
    }


@pytest.mark.parametrize(
    ("columns", "match"),
    [
        ([f"pre_{i}" for i in range(1, 13)] + [f"post_{i}" for i in range(1, 13)], "more than one"),
        ([f"wai_{i}" for i in range(1, 12)], "lacks \\['12'\\]"),
        (["age", "sex"], "no column looks like"),
        ([f"q{i}" for i in range(1, 13)] + ["q01"], "several columns"),
    ],
    ids=["ambiguous-prefixes", "incomplete", "nothing", "item-twice"],
)
def test_refuses_to_guess(columns: list[str], match: str) -> None:
    with pytest.raises(ColumnMappingError, match=match):
        resolve_columns(columns, WAI_SR)


def test_pattern_with_padding() -> None:
    columns = [f"item{i:02d}" for i in range(1, 13)]
    assert resolve_columns(columns, WAI_SR, "item{item:02}")["9"] == "item09"
    assert resolve_columns(columns, WAI_SR, "ITEM{item:02}")["9"] == "item09"


def test_pattern_missing_columns_are_listed() -> None:
    with pytest.raises(ColumnMappingError, match="12->x_12"):
        resolve_columns([f"x_{i}" for i in range(1, 12)], WAI_SR, "x_{item}")


def test_explicit_mapping_rules() -> None:
    columns = [f"c{i}" for i in range(12)]
    mapping = {str(i): f"c{i - 1}" for i in range(1, 13)}
    assert resolve_columns(columns, WAI_SR, mapping) == mapping
    with pytest.raises(ColumnMappingError, match="does not have"):
        resolve_columns(columns, WAI_SR, {**mapping, "13": "c0"})
    with pytest.raises(ColumnMappingError, match="not in the data"):
        resolve_columns(columns, WAI_SR, {**mapping, "1": "zz"})
    with pytest.raises(ColumnMappingError, match="both mapped"):
        resolve_columns(columns, WAI_SR, {**mapping, "1": "c1"})


@pytest.mark.parametrize(
    ("instrument", "pattern"),
    [(WAI_SR, "q{item[0]}"), (SRS, "srs_{item.name}"), (WAI_SR, "q{item:s}")],
    ids=["index", "attribute", "format-spec"],
)
def test_pattern_that_cannot_be_filled_is_a_mapping_error(
    instrument: Instrument, pattern: str
) -> None:
    with pytest.raises(ColumnMappingError, match="cannot be filled"):
        resolve_columns(["q1", "srs_goals"], instrument, pattern)
