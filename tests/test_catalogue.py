"""The catalogue: generated pages are current, and every shipped instrument honours the
registry-wide contract (loads, has a golden case, has a current page, declares only the
status its ledger supports)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from alliance_score import (
    Instrument,
    ProvisionalScaleError,
    load_instrument,
    score_frame,
    score_response,
)
from alliance_score.catalogue import (
    catalogue_files,
    cutoff_status,
    derived_status,
    index_page,
    instrument_page,
    ledger,
    method_formula,
    schema_text,
    shipped_instruments,
    stale_files,
    write_catalogue,
    write_schema,
)
from alliance_score.registry import list_instruments, shipped_directory

from .strategies import small_definition

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
GOLDEN = ROOT / "tests" / "golden"
SHIPPED = sorted(p.stem for p in shipped_directory().glob("*.toml"))


def test_committed_pages_and_schema_are_current() -> None:
    stale = stale_files(DOCS)
    assert stale == [], (
        f"Stale generated docs: {stale}. Regenerate with: python -m alliance_score.catalogue docs"
    )


# -- registry-wide contract ------------------------------------------------------------


@pytest.mark.parametrize("file_stem", SHIPPED)
def test_shipped_definition_honours_the_contract(file_stem: str) -> None:
    ins = load_instrument(shipped_directory() / f"{file_stem}.toml")
    assert ins.id == file_stem, "file name must be the instrument id"
    assert load_instrument(ins.id) == ins
    case = GOLDEN / ins.id
    for name in ("input.csv", "expected.csv", "README.md"):
        assert (case / name).is_file(), f"golden case {case / name} is missing"
    page = DOCS / "instruments" / f"{ins.id}.md"
    assert page.read_text(encoding="utf-8") == instrument_page(ins)
    assert f"[`{ins.id}`]({ins.id}.md)" in (DOCS / "instruments" / "index.md").read_text()


@pytest.mark.parametrize("file_stem", SHIPPED)
def test_declared_status_is_the_status_the_ledger_supports(file_stem: str) -> None:
    ins = load_instrument(shipped_directory() / f"{file_stem}.toml")
    for scale in ins.scales:
        assert scale.status == derived_status(ins, scale.id), scale.id
    for cut in ins.cutoffs:
        assert cut.status == cutoff_status(ins, cut), cut.flag


@pytest.mark.parametrize("file_stem", SHIPPED)
def test_no_licensed_wording_is_shipped(file_stem: str) -> None:
    ins = load_instrument(shipped_directory() / f"{file_stem}.toml")
    if not ins.licence.wording_shipped:
        assert all(item.wording is None for item in ins.items)


@pytest.mark.parametrize("file_stem", SHIPPED)
def test_page_shows_every_ledger_row_and_flags_provisional(file_stem: str) -> None:
    ins = load_instrument(shipped_directory() / f"{file_stem}.toml")
    page = instrument_page(ins)
    for name, ev in ledger(ins):
        assert f"| {name} | {ev.level} | {'yes' if ev.verified else 'no'} |" in page
    assert ("> **Provisional.**" in page) == bool(ins.provisional_scales)
    for source in ins.sources:
        assert source.citation in page
        if source.doi:
            assert f"https://doi.org/{source.doi}" in page


@pytest.mark.parametrize(
    ("instrument_id", "expected"),
    [
        pytest.param("wai-sr", {"task", "bond", "goal", "total"}, id="wai-sr-all-verified"),
        pytest.param("wai-s", set(), id="wai-s-provisional"),
        pytest.param("wai", set(), id="wai-provisional"),
        pytest.param("srs", {"total"}, id="srs-total"),
        pytest.param("tps", set(), id="tps-provisional"),
        pytest.param("wfpts-5", set(), id="wake-forest-provisional"),
        pytest.param("haq-ii-alliance", set(), id="haq-ii-provisional"),
        pytest.param("arm-5", set(), id="arm-5-provisional"),
    ],
)
def test_verified_scales_match_the_keys_record(instrument_id: str, expected: set[str]) -> None:
    ins = load_instrument(instrument_id)
    assert {s.id for s in ins.scales if s.status == "verified"} == expected


def test_wake_forest_licence_records_wake_forests_terms() -> None:
    ins = load_instrument("wfpts-5")
    assert ins.licence.status == "free-noncommercial"
    assert ins.licence.holder == "Wake Forest University"
    note = ins.licence.note or ""
    for term in (
        "free for academic and non-profit use",
        "commercial use and for industry-sponsored research",
        "minor phrasing adaptations are allowed",
        "translation or substantial modification needs permission",
        "PhenX Toolkit",
        "covers the article, not these terms",
    ):
        assert term in note


def test_licences_of_tps_and_the_wai_family_are_recorded() -> None:
    assert "share their results with the author" in (load_instrument("tps").licence.note or "")
    for ref in ("wai", "wai-s", "wai-sr"):
        licence = load_instrument(ref).licence
        assert "Society for Psychotherapy Research" in (licence.note or "")
        assert licence.url is not None and "mcgill.ca/mappro" in licence.url


def test_tps_second_scale_is_thoms_transform() -> None:
    tps = load_instrument("tps")
    assert tps.scale("total_0_100").method == "pomp"
    assert tps.scale("total_0_100").formula_evidence.sources == ("thom1999",)


# -- derived status ----------------------------------------------------------------------


def _variant(base: str, **changes: str) -> Instrument:
    """A shipped instrument with some evidence levels changed (every scale provisional)."""
    raw = load_instrument(base).model_dump()
    for scale in raw["scales"]:
        scale["status"] = "provisional"
    for cut in raw["cutoffs"]:
        cut["status"] = "provisional"
    for path, level in changes.items():
        node: Any = raw
        *parents, last = path.split("__")
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        node[last]["level"] = level
        if level == "P":  # P cites a primary source (the ledger rule)
            primary = next(src["key"] for src in raw["sources"] if src["kind"] == "primary")
            node[last]["sources"] = [*node[last]["sources"], primary]
    return Instrument.model_validate(raw)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        pytest.param({}, "verified", id="all-S2-or-P"),
        pytest.param({"response__evidence": "S"}, "provisional", id="response-S"),
        pytest.param({"reversed_evidence": "U"}, "provisional", id="reversed-U"),
        pytest.param({"scales__3__items_evidence": "S"}, "provisional", id="items-S"),
        pytest.param({"scales__3__formula_evidence": "U"}, "provisional", id="formula-U"),
        pytest.param({"scales__3__formula_evidence": "P"}, "verified", id="formula-P"),
        pytest.param({"scales__0__items_evidence": "U"}, "verified", id="other-scale-U"),
    ],
)
def test_derived_status_needs_every_element_at_p_or_s2(
    changes: dict[str, str], expected: str
) -> None:
    ins = _variant("wai-sr", **changes)
    assert derived_status(ins, "total") == expected


@pytest.mark.parametrize(
    ("cut_level", "expected"),
    [
        pytest.param("P", "verified", id="P"),
        pytest.param("S2", "verified", id="S2"),
        pytest.param("S", "provisional", id="S"),
        pytest.param("U", "provisional", id="U"),
    ],
)
def test_cutoff_status_needs_its_evidence_and_a_verified_scale(
    cut_level: str, expected: str
) -> None:
    ins = _variant("srs", cutoffs__0__evidence=cut_level)
    assert cutoff_status(ins, ins.cutoffs[0]) == expected
    weak_scale = _variant("srs", cutoffs__0__evidence=cut_level, reversed_evidence="S")
    assert cutoff_status(weak_scale, weak_scale.cutoffs[0]) == "provisional"


# -- formulas ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("instrument_id", "scale_id", "expected"),
    [
        pytest.param("wai-sr", "total", "mean of answered items (1-5)", id="mean"),
        pytest.param(
            "srs",
            "total",
            "sum of items; with items missing, mean x 4 (prorated) (0-40)",
            id="sum",
        ),
        pytest.param(
            "tps", "total_0_100", "(mean - 1) / (5 - 1) x 100 of answered items (0-100)", id="pomp"
        ),
    ],
)
def test_method_formula(instrument_id: str, scale_id: str, expected: str) -> None:
    ins = load_instrument(instrument_id)
    assert method_formula(ins.scale(scale_id), ins) == expected


def test_method_formula_tcu_and_weights() -> None:
    raw = load_instrument("wai-sr").model_dump()
    raw["scales"][3].update({"method": "tcu", "weights": {"1": 2.0}})
    raw["scales"][0].update({"method": "sum", "weights": {"1": 2.0}})
    ins = Instrument.model_validate(raw)
    assert method_formula(ins.scale("total"), ins) == "weighted mean of answered items x 10 (10-50)"
    assert method_formula(ins.scale("task"), ins) == (
        "weighted sum of items; with items missing, weighted mean x 5 (prorated) (5-25)"
    )
    page = instrument_page(ins)
    assert "| 1 (x2), 2 (x1), 10 (x1), 12 (x1) |" in page


# -- writing, staleness, schema ------------------------------------------------------


def test_write_then_stale_check_round_trip(tmp_path: Path) -> None:
    written = write_catalogue(tmp_path)
    written += write_schema(tmp_path)
    assert {p.relative_to(tmp_path).as_posix() for p in written} == {
        *catalogue_files(),
        "instrument.schema.json",
    }
    assert stale_files(tmp_path) == []
    assert write_catalogue(tmp_path) == [], "unchanged pages must not be rewritten"

    page = tmp_path / "instruments" / "srs.md"
    page.write_text(page.read_text() + "edited\n")
    (tmp_path / "instruments" / "gone.md").write_text("# removed instrument\n")
    (tmp_path / "instrument.schema.json").unlink()
    assert stale_files(tmp_path) == [
        "instrument.schema.json",
        "instruments/gone.md",
        "instruments/srs.md",
    ]


def test_index_lists_every_shipped_instrument_with_status_per_scale() -> None:
    shipped = shipped_instruments()
    assert [i.id for i in shipped] == sorted(s.id for s in list_instruments() if s.shipped)
    index = index_page(shipped)
    assert "| [`wai-s`](wai-s.md) |" in index
    assert (
        "`task` provisional, `goal` provisional, `bond` provisional, `total` provisional" in index
    )
    assert "`task` verified, `bond` verified, `goal` verified, `total` verified" in index


def test_schema_is_the_model_schema_and_forbids_unknown_fields() -> None:
    schema = json.loads(schema_text())
    model = Instrument.model_json_schema()
    assert {k: v for k, v in schema.items() if k != "$schema"} == json.loads(json.dumps(model))
    assert schema["additionalProperties"] is False
    assert schema["$defs"]["Scale"]["additionalProperties"] is False
    assert "weights" in schema["$defs"]["Scale"]["properties"]


@pytest.mark.parametrize("file_stem", SHIPPED)
def test_provisional_scales_are_scored_only_on_request_and_marked(file_stem: str) -> None:
    ins = load_instrument(shipped_directory() / f"{file_stem}.toml")
    answers = dict.fromkeys(ins.item_ids, ins.response.min)
    verified = [s.id for s in ins.scales if s.status == "verified"]
    if verified:
        plain = score_response(ins, answers)
        assert list(plain.scores) == verified
        assert plain.provisional == ()
    else:
        with pytest.raises(ProvisionalScaleError):
            score_response(ins, answers)
    opted = score_response(ins, answers, allow_provisional=True)
    assert list(opted.scores) == list(ins.scale_ids)
    flags = [c.flag for c in ins.cutoffs if c.status == "provisional"]
    assert opted.provisional == (*ins.provisional_scales, *flags)
    frame = score_frame(
        pd.DataFrame([answers]), ins, items={i: i for i in ins.item_ids}, allow_provisional=True
    )
    assert frame.attrs["alliance_score"]["provisional"] == [*ins.provisional_scales, *flags]


levels = st.sampled_from(["P", "S2", "S", "U"])


@settings(max_examples=80, deadline=None)
@given(response=levels, reversed_=levels, items=levels, formula=levels, declare=st.booleans())
def test_status_is_verified_exactly_when_every_element_is_p_or_s2(
    response: str, reversed_: str, items: str, formula: str, declare: bool
) -> None:
    raw: Any = small_definition("mean")
    raw["sources"] += [
        {"key": k, "kind": "secondary", "citation": "A page.", "supports": "all"}
        for k in ("s1", "s2")
    ]
    cites = {"P": ["m"], "S2": ["s1", "s2"], "S": ["s1"], "U": []}
    raw["response"]["evidence"] = {"level": response, "sources": cites[response]}
    raw["reversed_evidence"] = {"level": reversed_, "sources": cites[reversed_]}
    raw["scales"][0] |= {
        "items_evidence": {"level": items, "sources": cites[items]},
        "formula_evidence": {"level": formula, "sources": cites[formula]},
        "status": "verified" if declare else "provisional",
    }
    supported = {response, reversed_, items, formula} <= {"P", "S2"}
    if declare and not supported:
        with pytest.raises(ValidationError, match="declared verified"):
            Instrument.model_validate(raw)
        return
    ins = Instrument.model_validate(raw)
    assert derived_status(ins, "total") == ("verified" if supported else "provisional")
    page = instrument_page(ins)
    assert ("> **Provisional.**" in page) == (not declare)
