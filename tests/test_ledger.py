"""The evidence ledger: source kinds, the S2 and P rules, incomplete citations, licences."""

from __future__ import annotations

import re
from typing import Any

import pytest
from pydantic import ValidationError

from alliance_score import Instrument, list_instruments, load_instrument
from alliance_score.catalogue import instrument_page

from .strategies import small_definition

SHIPPED = [s.id for s in list_instruments() if s.shipped]


def _with_sources(**levels: tuple[str, list[str]]) -> dict[str, Any]:
    raw = small_definition()
    raw["sources"] += [
        {"key": "page-a", "kind": "secondary", "citation": "Page A.", "supports": "all"},
        {"key": "page-b", "kind": "secondary", "citation": "Page B.", "supports": "all"},
        {"key": "paper", "kind": "primary", "citation": "The paper.", "supports": "all"},
    ]
    for element, (level, sources) in levels.items():
        raw[element] = {"level": level, "sources": sources}
    raw["scales"][0]["status"] = "provisional"
    return raw


@pytest.mark.parametrize(
    ("level", "sources", "message"),
    [
        ("S2", ["paper", "page-a"], "cites 1 source(s) of kind secondary"),
        ("S2", ["m", "paper"], "cites 0 source(s) of kind secondary"),
        ("P", ["page-a", "page-b"], "cites no source of kind primary"),
    ],
    ids=["s2-on-a-primary-and-one-secondary", "s2-on-primaries", "p-on-secondaries"],
)
def test_levels_must_match_the_kinds_of_their_sources(
    level: str, sources: list[str], message: str
) -> None:
    raw = _with_sources(reversed_evidence=(level, sources))
    with pytest.raises(ValidationError, match=re.escape(message)):
        Instrument.model_validate(raw)


def test_levels_backed_by_the_right_kinds_load() -> None:
    raw = _with_sources(reversed_evidence=("S2", ["page-a", "page-b"]))
    raw["response"]["evidence"] = {"level": "P", "sources": ["paper"]}
    ins = Instrument.model_validate(raw)
    assert ins.reversed_evidence.verified
    # S and U need no source of any kind
    raw = _with_sources(reversed_evidence=("S", []))
    assert Instrument.model_validate(raw).reversed_evidence.level == "S"


def test_a_source_without_kind_is_primary_and_cannot_carry_s2() -> None:
    raw = small_definition()
    del raw["sources"][0]["kind"]  # a user's own manual
    assert Instrument.model_validate(raw).sources[0].kind == "primary"
    raw["reversed_evidence"] = {"level": "S2", "sources": ["m"]}
    raw["scales"][0]["status"] = "provisional"
    with pytest.raises(ValidationError, match=re.escape("0 source(s) of kind secondary")):
        Instrument.model_validate(raw)
    raw["sources"][0]["kind"] = "bogus"
    with pytest.raises(ValidationError, match="kind"):
        Instrument.model_validate(raw)


@pytest.mark.parametrize("ref", SHIPPED)
def test_every_shipped_s2_names_two_secondary_sources(ref: str) -> None:
    ins = load_instrument(ref)
    kinds = {s.key: s.kind for s in ins.sources}
    for where, ev in ins._evidence():
        cited = [kinds[k] for k in ev.sources]
        if ev.level == "S2":
            assert cited.count("secondary") >= 2, where
        if ev.level == "P":
            assert "primary" in cited, where


@pytest.mark.parametrize(
    ("ref", "key", "lacks"),
    [
        ("srs", "she2023", "title, journal"),
        ("wai-sr", "li2023", "title, journal"),
        ("arm-5", "cahill2012", "doi"),
    ],
)
def test_incomplete_citations_are_marked_on_the_page(ref: str, key: str, lacks: str) -> None:
    ins = load_instrument(ref)
    page = instrument_page(ins)
    (line,) = [ln for ln in page.splitlines() if ln.startswith(f"- **{key}**")]
    assert "Citation incomplete: lacks" in line
    assert all(part in line for part in lacks.split(", "))
    assert f"{key}*" in page  # and in the ledger table


def test_unidentified_sources_are_shown_as_such() -> None:
    page = instrument_page(load_instrument("wai-sr"))
    assert page.count("**Incomplete: this source cannot be identified by name.**") == 2
    assert "- **rivet** (secondary)" in page
    assert "- **hatcher2006** (primary)" in page


def test_the_srs_cut_off_conflict_and_the_other_rule_are_on_its_page() -> None:
    srs = load_instrument("srs")
    (cut,) = srs.cutoffs
    assert cut.status == "provisional"
    assert {"cauceos", "hiboop-srs"} <= set(cut.evidence.sources)
    page = instrument_page(srs)
    assert "Sources conflict: cauceos says below 36" in page
    assert "scores['total'] <= 36" in page


def test_statuses_follow_the_audited_ledger() -> None:
    assert {s.status for s in load_instrument("wai-sr").scales} == {"verified"}
    assert {s.status for s in load_instrument("wai-s").scales} == {"provisional"}
    assert {s.status for s in load_instrument("wai").scales} == {"provisional"}
    assert load_instrument("wai-s").reversed_evidence.level == "S"
    assert load_instrument("srs").scale("total").status == "verified"
