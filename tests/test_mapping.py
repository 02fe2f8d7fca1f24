"""Column mapping: explicit, pattern and auto-detection, and refusals."""

from __future__ import annotations

import pytest

from alliance_score import (
    ColumnMappingError,
    Instrument,
    list_instruments,
    load_instrument,
    resolve_columns,
)

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


ALL = {s.id: load_instrument(s.id) for s in list_instruments()}
PAIRS = [(a, b) for a in ALL for b in ALL if a != b and not a.startswith(b + "-")]


@pytest.mark.parametrize(("scored", "named"), PAIRS, ids=[f"{a}-as-{b}" for a, b in PAIRS])
def test_columns_named_for_another_instrument_are_refused(scored: str, named: str) -> None:
    ins = ALL[scored]
    prefix = named.replace("-", "_") + "_"
    columns = [f"{prefix}{i}" for i in ins.item_ids]
    with pytest.raises(ColumnMappingError, match=f"names another instrument, '{named}'"):
        resolve_columns(columns, ins)
    # the caller's explicit decision is followed
    assert resolve_columns(columns, ins, prefix + "{item}")[ins.item_ids[0]] == columns[0]


def test_wai_sr_columns_are_not_wai_s_or_arm5() -> None:
    columns = ["client", *[f"wai_sr_{i:02d}" for i in range(1, 13)]]
    with pytest.raises(ColumnMappingError, match="--columns 'wai_sr_\\{item:02\\}'"):
        resolve_columns(columns, ALL["wai-s"])
    with pytest.raises(ColumnMappingError, match="'wai-sr'"):
        resolve_columns(columns, ALL["arm-5"])
    # a family prefix (wai_ for wai-sr) and the instrument's own prefix are fine
    assert resolve_columns(columns, ALL["wai-sr"])["12"] == "wai_sr_12"
    assert resolve_columns([f"WAI_{i}" for i in range(1, 13)], ALL["wai-sr"])["1"] == "WAI_1"
    assert resolve_columns([f"wai_s_{i}" for i in range(1, 13)], ALL["wai-s"])["1"] == "wai_s_1"
    with pytest.raises(ColumnMappingError, match="'wai-s'"):
        resolve_columns([f"wai_s_{i}" for i in range(1, 13)], ALL["wai-sr"])
    with pytest.raises(ColumnMappingError, match="'wai-sr'"):
        resolve_columns([f"WAISR{i}" for i in range(1, 13)], ALL["wai-s"])


def test_item_like_columns_left_over_are_refused() -> None:
    arm = ALL["arm-5"]
    columns = ["id", *[f"q{i}" for i in range(1, 13)], "q_total", "age2"]
    with pytest.raises(ColumnMappingError, match=r"7 more column\(s\).*'q6'"):
        resolve_columns(columns, arm)
    # other prefixes and non-numbered columns are not item-like leftovers
    assert resolve_columns(["q1", "q2", "q3", "q4", "q5", "q_total", "x6"], arm)["5"] == "q5"
    explicit = {str(i): f"q{i}" for i in range(1, 6)}
    assert resolve_columns(columns, arm, explicit) == explicit


def test_positional_placeholder_maps_items_in_order() -> None:
    columns = ["client", "SRS_1", "SRS_2", "SRS_3", "SRS_4"]
    with pytest.raises(ColumnMappingError, match=r"--columns 'SRS_\{n\}'"):
        resolve_columns(columns, SRS)
    mapping = resolve_columns(columns, SRS, "SRS_{n}")
    assert mapping == {
        "relationship": "SRS_1",
        "goals": "SRS_2",
        "approach": "SRS_3",
        "overall": "SRS_4",
    }
    padded = ["srs01", "srs02", "srs03", "srs04"]
    with pytest.raises(ColumnMappingError, match=r"'srs\{n:02\}'"):
        resolve_columns(padded, SRS)
    assert resolve_columns(padded, SRS, "srs{n:02}")["overall"] == "srs04"


def test_zero_padded_columns_suggest_the_padded_pattern() -> None:
    columns = [f"wai_{i:02d}" for i in range(1, 13)]
    with pytest.raises(ColumnMappingError, match=r"zero-padded: use 'wai_\{item:02\}'"):
        resolve_columns(columns, WAI_SR, "wai_{item}")
    with pytest.raises(ColumnMappingError, match=r"must contain '\{item\}'.*or '\{n\}'"):
        resolve_columns(columns, WAI_SR, "wai_")
