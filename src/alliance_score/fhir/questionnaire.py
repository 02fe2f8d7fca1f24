"""An instrument as a FHIR R4 ``Questionnaire`` (SDC extensions for scores and sliders).

One question per item (``linkId`` = the item id, ``text`` = the paraphrase label, never
licensed wording), and a read-only group ``scales`` with one calculated item per scale.
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import DataError
from ..instrument import Instrument, Scale
from ..registry import load_instrument
from . import _codes as c

__all__ = ["MAX_OPTIONS", "answer_values", "questionnaire"]

MAX_OPTIONS = 1000
"""Most answer options (minus one) written for a Likert item."""


def answer_values(ins: Instrument) -> list[float]:
    """Every value a Likert item allows, from ``min`` to ``max`` on its step."""
    r = ins.response
    step = r.effective_step or 1.0
    n = round((r.max - r.min) / step)
    if n > MAX_OPTIONS:
        raise DataError(
            f"{ins.ref} allows {n + 1} answer values; a FHIR choice item is written for at "
            f"most {MAX_OPTIONS + 1}."
        )
    return [round(r.min + k * step, 10) for k in range(n + 1)]


def questionnaire(instrument: Instrument | str) -> dict[str, Any]:
    """The FHIR R4 ``Questionnaire`` for an instrument, as a JSON-ready dict.

    * ``url`` is ``https://alliance-score.github.io/fhir/Questionnaire/<id>`` and
      ``version`` the definition's version, so ``url|version`` names one definition.
    * Likert items are ``choice`` questions whose ``answerOption.valueCoding`` codes each
      allowed value in the instrument's answer code system (code = value, display = the
      anchor label where there is one), carrying the scored value before reversal in the
      ``itemWeight`` extension and, for R4 tools, the ``ordinalValue`` one.
    * VAS items are ``decimal`` questions with ``minValue``/``maxValue``, a slider item
      control, the unit and, when the definition gives a step, ``maxDecimalPlaces`` and
      an ``entryFormat`` mask (SDC's ``sliderStepValue`` is only for integer items).
    * Each scale is a read-only ``decimal`` item ``scale:<id>`` with an SDC
      ``calculatedExpression`` (FHIRPath) that computes the score of a complete
      response; a ``display`` item beside it states the rule for missing items, which a
      FHIRPath expression cannot express. Scores of record come from
      :func:`~alliance_score.fhir.score_questionnaire_response`.

    Examples
    --------
    >>> from alliance_score import fhir
    >>> q = fhir.questionnaire("wai-sr")
    >>> q["url"], q["version"], q["item"][0]["linkId"], q["item"][0]["type"]
    ('https://alliance-score.github.io/fhir/Questionnaire/wai-sr', '1.0', '1', 'choice')
    >>> q["item"][0]["answerOption"][4]["valueCoding"]["display"]
    'Always'
    """
    ins = load_instrument(instrument)
    items = [_question(ins, item.id, item.label) for item in ins.items]
    scales: list[dict[str, Any]] = []
    for scale in ins.scales:
        scales += _scale_items(ins, scale)
    items.append(
        {
            "linkId": c.SCALES_GROUP,
            "text": "Scores (calculated)",
            "type": "group",
            "readOnly": True,
            "item": scales,
        }
    )
    out: dict[str, Any] = {
        "resourceType": "Questionnaire",
        "id": _resource_id(f"{ins.id}-{ins.version}"),
        "url": c.questionnaire_url(ins),
        "version": ins.version,
        "name": _computable_name(ins.short_name),
        "title": ins.name,
        "status": "active",
        "subjectType": ["Patient"],
        "publisher": "alliance-score",
        "code": [{"system": c.INSTRUMENT_SYSTEM, "code": ins.id, "display": ins.short_name}],
        "item": items,
    }
    if ins.description:
        out["description"] = " ".join(ins.description.split())
    out["copyright"] = _copyright(ins)
    return out


def _question(ins: Instrument, link_id: str, label: str) -> dict[str, Any]:
    r = ins.response
    if r.kind == "likert":
        anchors = {a.value: a.label for a in r.anchors}
        options = []
        for value in answer_values(ins):
            weight = [
                {"url": c.ITEM_WEIGHT, "valueDecimal": value},
                {"url": c.ORDINAL_VALUE, "valueDecimal": value},
            ]
            options.append(
                {
                    "valueCoding": {
                        "extension": weight,
                        "system": c.answer_system(ins),
                        "code": c.answer_code(value),
                        "display": anchors.get(value, c.answer_code(value)),
                    }
                }
            )
        return {"linkId": link_id, "text": label, "type": "choice", "answerOption": options}
    extensions: list[dict[str, Any]] = [
        {
            "url": c.ITEM_CONTROL,
            "valueCodeableConcept": {
                "coding": [{"system": c.ITEM_CONTROL_SYSTEM, "code": "slider", "display": "Slider"}]
            },
        },
        {"url": c.MIN_VALUE, "valueDecimal": r.min},
        {"url": c.MAX_VALUE, "valueDecimal": r.max},
    ]
    if r.step is not None:
        places = _decimal_places(r.step)
        extensions.append({"url": c.MAX_DECIMAL_PLACES, "valueInteger": places})
        extensions.append(
            {"url": c.ENTRY_FORMAT, "valueString": "0." + "0" * places if places else "0"}
        )
    if r.unit:
        extensions.append(
            {"url": c.UNIT, "valueCoding": {"system": c.UCUM, "code": r.unit, "display": r.unit}}
        )
    return {"extension": extensions, "linkId": link_id, "text": label, "type": "decimal"}


def _scale_items(ins: Instrument, scale: Scale) -> list[dict[str, Any]]:
    link = f"{c.SCALE_PREFIX}{scale.id}"
    status = "" if scale.status == "verified" else " (provisional)"
    calculated = {
        "extension": [
            {
                "url": c.CALCULATED_EXPRESSION,
                "valueExpression": {
                    "description": f"{scale.name}: score of a complete response",
                    "language": "text/fhirpath",
                    "expression": _expression(ins, scale),
                },
            }
        ],
        "linkId": link,
        "code": [{"system": c.scale_system(ins.id), "code": scale.id, "display": scale.name}],
        "text": f"{scale.name}{status}",
        "type": "decimal",
        "readOnly": True,
    }
    rule = {
        "linkId": f"{link}:rule",
        "text": _rule(ins, scale),
        "type": "display",
    }
    return [calculated, rule]


def _expression(ins: Instrument, scale: Scale) -> str:
    """FHIRPath for a scale's score when every one of its items is answered."""
    r = ins.response
    by_id = {i.id: i for i in ins.items}
    value = ".answer.value.weight()" if r.kind == "likert" else ".answer.value"
    terms = []
    for item_id in scale.items:
        term = f"%resource.repeat(item).where(linkId='{item_id}'){value}"
        if by_id[item_id].reverse:
            term = f"({_num(r.min + r.max)} - {term})"
        w = scale.weight(item_id)
        terms.append(term if w == 1 else f"{_num(w)} * {term}")
    total = " + ".join(terms)
    n = sum(scale.weight(i) for i in scale.items)
    if scale.method == "sum":
        return total
    mean = f"({total}) / {_num(n)}"
    if scale.method == "mean":
        return mean
    if scale.method == "tcu":
        return f"{mean} * 10"
    return f"(({mean}) - {_num(r.min)}) / {_num(r.max - r.min)} * 100"


def _rule(ins: Instrument, scale: Scale) -> str:
    n = len(scale.items)
    method = {
        "mean": "the mean of its items",
        "sum": "the sum of its items",
        "tcu": "the mean of its items times 10",
        "pomp": "the percent of maximum possible, (mean - min) / (max - min) x 100",
    }[scale.method]
    reversed_ = [i for i in scale.items if i in set(ins.reversed_items)]
    text = f"{scale.name} is {method}"
    if reversed_:
        lo, hi = _num(ins.response.min), _num(ins.response.max)
        text += f", items {', '.join(reversed_)} reversed ({lo} + {hi} - answer)"
    if scale.weights:
        text += ", weighted"
    text += (
        f". It is scored when at least {scale.min_answered} of its {n} items are answered; "
        "with items missing it is computed from the answered items"
    )
    text += " and prorated to all items (mean x number of items)." if scale.method == "sum" else "."
    if scale.status == "provisional":
        text += " Provisional: its key is not confirmed by primary or two secondary sources."
    return text


def _copyright(ins: Instrument) -> str:
    lic = ins.licence
    parts = [f"Licence: {lic.status}."]
    if lic.holder:
        parts.append(f"Holder: {lic.holder}.")
    if lic.note:
        parts.append(lic.note)
    if not lic.wording_shipped:
        parts.append("Item texts are short paraphrases, not the instrument's wording.")
    return " ".join(parts)


def _decimal_places(step: float) -> int:
    text = repr(float(step))
    return 0 if float(step).is_integer() else len(text.split(".")[1])


def _num(x: float) -> str:
    return c.answer_code(x)


def _resource_id(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.-]", "-", text)[:64]


def _computable_name(text: str) -> str:
    name = re.sub(r"[^A-Za-z0-9_]", "_", text)
    return name if name[:1].isupper() else f"Q{name}"
