"""Hypothesis strategies built from instrument definitions.

``instruments()`` draws valid definitions of every shape the format allows (Likert or
VAS, reversed items, every scoring method, cut-offs); ``answers(instrument)`` draws a
matrix of valid raw answers with missing cells for it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st
from numpy.typing import NDArray

from alliance_score import Instrument

EVIDENCE_OK = {"level": "P", "sources": ["src"]}
EVIDENCE_WEAK = {"level": "S", "sources": ["src"]}


@st.composite
def instrument_dicts(draw: st.DrawFn) -> dict[str, Any]:
    """A raw definition (the dict a TOML file holds) that is valid."""
    kind = draw(st.sampled_from(["likert", "vas"]))
    if kind == "likert":
        lo = draw(st.integers(-3, 2))
        hi = lo + draw(st.integers(1, 9))
        response: dict[str, Any] = {"kind": kind, "min": lo, "max": hi}
    else:
        lo, hi = 0, draw(st.sampled_from([10, 100]))
        response = {"kind": kind, "min": lo, "max": hi}
        step = draw(st.sampled_from([None, 0.1, 1.0]))
        if step is not None:
            response["step"] = step
    response["evidence"] = EVIDENCE_OK
    n_items = draw(st.integers(1, 10))
    item_ids = [str(i) for i in range(1, n_items + 1)]
    items = [{"id": i, "label": f"Item {i}", "reverse": draw(st.booleans())} for i in item_ids]
    n_scales = draw(st.integers(1, 3))
    scales = []
    for k in range(n_scales):
        members = draw(st.lists(st.sampled_from(item_ids), min_size=1, unique=True))
        verified = draw(st.booleans())
        scales.append(
            {
                "id": f"s{k}",
                "name": f"Scale {k}",
                "items": members,
                "method": draw(st.sampled_from(["mean", "sum", "tcu", "pomp"])),
                "min_answered": draw(st.integers(1, len(members))),
                "status": "verified" if verified else "provisional",
                "items_evidence": EVIDENCE_OK if verified else EVIDENCE_WEAK,
                "formula_evidence": EVIDENCE_OK,
            }
        )
    definition: dict[str, Any] = {
        "id": "generated",
        "version": "1.0",
        "name": "Generated instrument",
        "short_name": "GEN",
        "rater": "client",
        "language": "en",
        "sources": [
            {"key": "src", "kind": "primary", "citation": "A source.", "supports": "everything"}
        ],
        "licence": {"status": "user-supplied", "wording_shipped": False},
        "response": response,
        "reversed_evidence": EVIDENCE_OK,
        "items": items,
        "scales": scales,
    }
    if draw(st.booleans()):
        scale = scales[0]
        lo_s, hi_s = (
            Instrument.model_validate(definition)
            .scale("s0")
            .score_range(Instrument.model_validate(definition).response)
        )
        definition["cutoffs"] = [
            {
                "scale": scale["id"],
                "comparison": draw(st.sampled_from(["<", "<=", ">", ">="])),
                # strictly inside: a cut-off at an end of the range fires always or never
                "value": draw(st.floats(lo_s, hi_s, exclude_min=True, exclude_max=True)),
                "flag": "flagged",
                "meaning": "A generated threshold.",
                "status": "provisional",
                "evidence": EVIDENCE_WEAK,
            }
        ]
    return definition


def instruments() -> st.SearchStrategy[Instrument]:
    return instrument_dicts().map(Instrument.model_validate)


@st.composite
def answers(draw: st.DrawFn, instrument: Instrument, max_rows: int = 20) -> NDArray[np.float64]:
    """A ``rows x items`` matrix of valid answers for ``instrument``, NaN = missing."""
    r = instrument.response
    step = r.effective_step
    if step is None:
        value = st.floats(r.min, r.max, allow_nan=False)
    else:
        n_steps = round((r.max - r.min) / step)
        value = st.integers(0, n_steps).map(lambda k: round(r.min + k * step, 10))
    cell = st.one_of(st.just(np.nan), value, value, value)
    n_rows = draw(st.integers(1, max_rows))
    rows = draw(
        st.lists(
            st.lists(cell, min_size=len(instrument.items), max_size=len(instrument.items)),
            min_size=n_rows,
            max_size=n_rows,
        )
    )
    return np.array(rows, dtype=np.float64)


_EV_MANUAL: dict[str, Any] = {"level": "P", "sources": ["m"]}


def small_definition(
    method: str = "mean", weights: dict[str, float] | None = None
) -> dict[str, Any]:
    """A valid four-item 1-5 definition with one scale, optionally weighted."""
    return {
        "id": "weighted",
        "version": "1.0",
        "name": "Weighted test instrument",
        "short_name": "W",
        "rater": "client",
        "language": "en",
        "sources": [
            {"key": "m", "kind": "primary", "citation": "Test manual.", "supports": "everything"}
        ],
        "licence": {"status": "user-supplied"},
        "response": {"kind": "likert", "min": 1, "max": 5, "evidence": _EV_MANUAL},
        "reversed_evidence": _EV_MANUAL,
        "items": [{"id": str(i), "label": f"Item {i}"} for i in range(1, 5)],
        "scales": [
            {
                "id": "total",
                "name": "Total",
                "items": ["1", "2", "3", "4"],
                "method": method,
                "min_answered": 3,
                "status": "verified",
                "items_evidence": _EV_MANUAL,
                "formula_evidence": _EV_MANUAL,
                "weights": weights or {},
            }
        ],
    }
