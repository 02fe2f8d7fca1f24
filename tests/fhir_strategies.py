"""Building QuestionnaireResponses the way a FHIR form filler does from our Questionnaire."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from hypothesis import strategies as st

from alliance_score import Instrument, fhir

STATUS = "completed"


def answer_for(question: dict[str, Any], value: float | int) -> dict[str, Any]:
    """The answer a form filler records for ``value``: the chosen answerOption's coding
    when the value is one of the options, otherwise the number as typed."""
    for option in question.get("answerOption", []):
        coding = option["valueCoding"]
        weight = next(e["valueDecimal"] for e in coding["extension"] if "itemWeight" in e["url"])
        if weight == value:
            return {"valueCoding": coding}
    if question["type"] == "decimal" or not float(value).is_integer():
        return {"valueDecimal": value}
    return {"valueInteger": int(value)}


def response_for(
    ins: Instrument,
    answers: Mapping[str, float | int | None],
    *,
    grouped: bool = False,
    rid: str | None = "qr-1",
) -> dict[str, Any]:
    """A QuestionnaireResponse answering ``ins``'s Questionnaire; unanswered items are
    left out, as form fillers do. ``grouped`` nests the answers in a group item."""
    questionnaire = fhir.questionnaire(ins)
    questions = {q["linkId"]: q for q in questionnaire["item"]}
    items = []
    for link, value in answers.items():
        if value is None or (isinstance(value, float) and math.isnan(value)):
            continue
        items.append({"linkId": link, "answer": [answer_for(questions[link], value)]})
    if grouped:
        items = [{"linkId": "page-1", "item": items}]
    out: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": f"{questionnaire['url']}|{questionnaire['version']}",
        "status": STATUS,
        "subject": {"reference": "Patient/example"},
        "authored": "2026-03-01T10:00:00Z",
        "item": items,
    }
    if rid is not None:
        out["id"] = rid
    return out


@st.composite
def answer_sets(draw: st.DrawFn, ins: Instrument) -> dict[str, float | int | None]:
    """Answers for every item: valid values, out-of-range or off-grid numbers, missing."""
    r = ins.response
    step = r.effective_step
    if step is None:
        valid: st.SearchStrategy[float | int] = st.floats(r.min, r.max, allow_nan=False)
    else:
        n = round((r.max - r.min) / step)
        valid = st.integers(0, n).map(lambda k: round(r.min + k * step, 10))
        if r.kind == "likert":
            valid = valid.map(int)
    wrong = st.one_of(
        st.integers(int(r.min) - 3, int(r.min) - 1),
        st.integers(int(r.max) + 1, int(r.max) + 3),
        st.just(r.min + 0.25),
    )
    cell = st.one_of(st.none(), valid, valid, valid, wrong)
    return {item: draw(cell) for item in ins.item_ids}


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "resourceType",
                    "status",
                    "questionnaire",
                    "item",
                    "linkId",
                    "answer",
                    "valueInteger",
                    "valueDecimal",
                    "valueCoding",
                    "valueString",
                    "valueBoolean",
                    "system",
                    "code",
                    "display",
                    "extension",
                    "url",
                    "valueDecimal",
                    "subject",
                    "reference",
                    "entry",
                    "resource",
                ]
            ),
            children,
            max_size=5,
        )
    ),
    max_leaves=25,
)
"""Any JSON value, biased towards the names a QuestionnaireResponse uses."""


@st.composite
def mangled_responses(draw: st.DrawFn, ins: Instrument) -> dict[str, Any]:
    """A plausible response with random parts replaced by arbitrary JSON."""
    base = response_for(ins, draw(answer_sets(ins)))
    if draw(st.booleans()):
        base["status"] = draw(st.sampled_from(["in-progress", "amended", "stopped", 3]))
    if base["item"] and draw(st.booleans()):
        k = draw(st.integers(0, len(base["item"]) - 1))
        base["item"][k] = draw(JSON)
    if base["item"] and draw(st.booleans()):
        k = draw(st.integers(0, len(base["item"]) - 1))
        if isinstance(base["item"][k], dict):
            base["item"][k]["answer"] = draw(JSON)
    if draw(st.booleans()):
        base[draw(st.sampled_from(["questionnaire", "subject", "item", "authored"]))] = draw(JSON)
    return base
