"""FHIR R4: Questionnaires, reading and scoring QuestionnaireResponses, Observations.

Everything written is validated with ``fhir.resources`` against FHIR R4B (whose
Questionnaire, QuestionnaireResponse, Observation, OperationOutcome and Bundle are R4's).
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from fhirpathpy import evaluate
from fhirpathpy.models import models
from hypothesis import given, settings
from hypothesis import strategies as st

from alliance_score import (
    AllianceScoreError,
    DataError,
    Instrument,
    ProblemCode,
    ScoreResult,
    UnknownInstrumentError,
    fhir,
    list_instruments,
    load_instrument,
    score_response,
)
from alliance_score.fhir import _codes

from .fhir_strategies import JSON, answer_sets, mangled_responses, response_for

SETTINGS = settings(max_examples=40, deadline=None)
SHIPPED = [s.id for s in list_instruments() if s.shipped]
WAI_SR = "https://alliance-score.github.io/fhir/Questionnaire/wai-sr|1.0"


def wai_sr(answers: list[dict[str, Any]] | None = None, **extra: Any) -> dict[str, Any]:
    """A completed WAI-SR response: every item 4 unless ``answers`` gives the items."""
    items = answers
    if items is None:
        items = [{"linkId": str(i), "answer": [{"valueInteger": 4}]} for i in range(1, 13)]
    return {
        "resourceType": "QuestionnaireResponse",
        "id": "r1",
        "questionnaire": WAI_SR,
        "status": "completed",
        "item": items,
        **extra,
    }


def with_item(link: str, answer: list[dict[str, Any]]) -> dict[str, Any]:
    items = [{"linkId": str(i), "answer": [{"valueInteger": 4}]} for i in range(1, 13)]
    items = [i for i in items if i["linkId"] != link]
    return wai_sr([*items, {"linkId": link, "answer": answer}])


# -- Questionnaire ---------------------------------------------------------------------


@pytest.mark.parametrize("instrument", SHIPPED)
def test_questionnaire_validates_and_has_one_item_per_item(instrument: str) -> None:
    ins = load_instrument(instrument)
    q = fhir.questionnaire(ins)
    Questionnaire.model_validate(q)
    assert f"{q['url']}|{q['version']}" == fhir.questionnaire_canonical(ins)
    questions = q["item"][:-1]
    assert [i["linkId"] for i in questions] == list(ins.item_ids)
    assert [i["text"] for i in questions] == [i.label for i in ins.items]
    assert ins.licence.holder is None or ins.licence.holder in q["copyright"]
    scales = q["item"][-1]
    assert scales["readOnly"] is True
    calculated = [i for i in scales["item"] if i["type"] == "decimal"]
    assert [i["linkId"] for i in calculated] == [f"scale:{s}" for s in ins.scale_ids]
    assert all(i["readOnly"] for i in calculated)
    rules = [i for i in scales["item"] if i["type"] == "display"]
    for scale, rule in zip(ins.scales, rules, strict=True):
        assert f"at least {scale.min_answered} of its {len(scale.items)} items" in rule["text"]


def test_item_text_is_never_wording() -> None:
    ins = load_instrument("wai-sr")
    worded = ins.model_copy(
        update={"items": tuple(i.model_copy(update={"wording": "VERBATIM"}) for i in ins.items)}
    )
    assert "VERBATIM" not in json.dumps(fhir.questionnaire(worded))


def test_likert_options_carry_item_weight_and_ordinal_value() -> None:
    ins = load_instrument("wai-s")  # 1-7, items 4 and 10 reversed
    q = fhir.questionnaire(ins)
    item4 = q["item"][3]
    assert item4["type"] == "choice"
    codes = []
    for option in item4["answerOption"]:
        coding = option["valueCoding"]
        assert coding["system"] == fhir.answer_system(ins)
        weights = {e["url"]: e["valueDecimal"] for e in coding["extension"]}
        # the value before reversal: reversal is the scale's business, not the answer's
        assert weights == {
            _codes.ITEM_WEIGHT: float(coding["code"]),
            _codes.ORDINAL_VALUE: float(coding["code"]),
        }
        codes.append(coding["code"])
    assert codes == [str(v) for v in range(1, 8)]
    labels = {a.value: a.label for a in ins.response.anchors}
    assert item4["answerOption"][0]["valueCoding"]["display"] == labels[1.0]


def test_vas_items_are_decimal_sliders_with_bounds() -> None:
    q = fhir.questionnaire("srs")
    item = q["item"][0]
    assert item["type"] == "decimal"
    ext = {e["url"]: e for e in item["extension"]}
    assert ext[_codes.MIN_VALUE]["valueDecimal"] == 0
    assert ext[_codes.MAX_VALUE]["valueDecimal"] == 10
    assert ext[_codes.MAX_DECIMAL_PLACES]["valueInteger"] == 1
    assert ext[_codes.ENTRY_FORMAT]["valueString"] == "0.0"
    assert ext[_codes.ITEM_CONTROL]["valueCodeableConcept"]["coding"][0]["code"] == "slider"
    assert ext[_codes.UNIT]["valueCoding"]["code"] == "cm"


def test_too_many_options_is_refused() -> None:
    ins = load_instrument("wai-sr")
    wide = ins.model_copy(update={"response": ins.response.model_copy(update={"max": 5000.0})})
    with pytest.raises(DataError, match="answer values"):
        fhir.questionnaire(wide)


@pytest.mark.parametrize("instrument", SHIPPED)
def test_calculated_expressions_compute_the_score_of_a_complete_response(
    instrument: str,
) -> None:
    """Each scale's FHIRPath, evaluated by fhirpathpy, gives the library's score.

    fhirpathpy has no SDC ``weight()``; our codes are the weights, so the test reads
    the code instead (``code.toDecimal()``)."""
    ins = load_instrument(instrument)
    q = fhir.questionnaire(ins)
    answers = {item: (k % 3) + 2 for k, item in enumerate(ins.item_ids)}
    qr = response_for(ins, dict(answers))
    expected = score_response(ins, answers, allow_provisional=True).scores
    for item in q["item"][-1]["item"]:
        if item["type"] != "decimal":
            continue
        ext = item["extension"][0]
        assert ext["url"] == _codes.CALCULATED_EXPRESSION
        expression = ext["valueExpression"]["expression"].replace(".weight()", ".code.toDecimal()")
        (value,) = evaluate(qr, expression, {"resource": qr}, model=models["r4"])
        assert float(value) == pytest.approx(expected[item["linkId"].removeprefix("scale:")])


# -- reading and scoring a QuestionnaireResponse --------------------------------------


def test_scores_a_response_of_codings() -> None:
    ins = load_instrument("wai-sr")
    qr = response_for(ins, {str(i): 5 for i in range(1, 13)})
    assert qr["item"][0]["answer"][0]["valueCoding"]["code"] == "5"
    QuestionnaireResponse.model_validate(qr)
    r = fhir.score_questionnaire_response(qr)
    assert r.scores == {"task": 5.0, "bond": 5.0, "goal": 5.0, "total": 5.0}
    assert r.status.value == "complete" and r.problems == ()


@pytest.mark.parametrize("form", ["dict", "text", "bytes"])
def test_accepts_dict_text_and_bytes(form: str) -> None:
    qr: Any = wai_sr()
    if form != "dict":
        qr = json.dumps(qr)
    if form == "bytes":
        qr = qr.encode()
    assert fhir.score_questionnaire_response(qr).scores["total"] == 4.0


CASES: list[tuple[str, dict[str, Any], ProblemCode]] = [
    ("unknown linkId", with_item("99", [{"valueInteger": 3}]), ProblemCode.UNKNOWN_ITEM),
    (
        "two answers",
        with_item("3", [{"valueInteger": 3}, {"valueInteger": 4}]),
        ProblemCode.SEVERAL_ANSWERS,
    ),
    (
        "answered twice",
        wai_sr(
            [{"linkId": str(i), "answer": [{"valueInteger": 4}]} for i in range(1, 13)]
            + [{"linkId": "page", "item": [{"linkId": "3", "answer": [{"valueInteger": 2}]}]}]
        ),
        ProblemCode.SEVERAL_ANSWERS,
    ),
    (
        "answered three times",
        wai_sr(
            [{"linkId": str(i), "answer": [{"valueInteger": 4}]} for i in range(1, 13)]
            + [{"linkId": "3", "answer": [{"valueInteger": 4}]}] * 2
        ),
        ProblemCode.SEVERAL_ANSWERS,
    ),
    (
        "other code system",
        with_item("3", [{"valueCoding": {"system": "http://loinc.org", "code": "LA6570-1"}}]),
        ProblemCode.UNKNOWN_CODING,
    ),
    (
        "code not in our system",
        with_item(
            "3",
            [{"valueCoding": {"system": f"{_codes.BASE}/CodeSystem/wai-sr-answers", "code": "9"}}],
        ),
        ProblemCode.UNKNOWN_CODING,
    ),
    ("valueBoolean", with_item("3", [{"valueBoolean": True}]), ProblemCode.WRONG_TYPE),
    ("integer as text", with_item("3", [{"valueInteger": "4"}]), ProblemCode.WRONG_TYPE),
    ("integer as bool", with_item("3", [{"valueInteger": True}]), ProblemCode.WRONG_TYPE),
    ("decimal as text", with_item("3", [{"valueDecimal": "4"}]), ProblemCode.WRONG_TYPE),
    ("string without labels", with_item("3", [{"valueString": "4"}]), ProblemCode.WRONG_TYPE),
    ("string not text", with_item("3", [{"valueString": 4}]), ProblemCode.WRONG_TYPE),
    ("coding not an object", with_item("3", [{"valueCoding": "4"}]), ProblemCode.WRONG_TYPE),
    (
        "two values",
        with_item("3", [{"valueInteger": 4, "valueDecimal": 4.0}]),
        ProblemCode.WRONG_TYPE,
    ),
    ("out of range", with_item("3", [{"valueInteger": 6}]), ProblemCode.OUT_OF_RANGE),
    ("off the grid", with_item("3", [{"valueDecimal": 4.5}]), ProblemCode.NOT_ALLOWED_VALUE),
    ("huge integer", with_item("3", [{"valueInteger": 10**400}]), ProblemCode.NOT_FINITE),
    ("in progress", wai_sr(status="in-progress"), ProblemCode.RESPONSE_STATUS),
]


@pytest.mark.parametrize(("qr", "code"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_problems_are_coded(qr: dict[str, Any], code: ProblemCode) -> None:
    r = fhir.score_questionnaire_response(qr)
    assert [p.code for p in r.problems] == [code]
    assert r.status.value == "invalid" and set(r.scores.values()) == {None}
    OperationOutcome.model_validate(fhir.operation_outcome(r.problems))
    kept = fhir.score_questionnaire_response(qr, on_invalid="missing")
    assert [p.code for p in kept.problems] == [code]
    assert kept.status.value in ("complete", "prorated")
    assert kept.scores["total"] == 4.0  # the bad answer counts as missing, or is ignored


def test_a_bad_answer_then_another_is_two_problems() -> None:
    items = [{"linkId": str(i), "answer": [{"valueInteger": 4}]} for i in range(1, 13) if i != 3]
    items += [{"linkId": "3", "answer": [{"valueBoolean": True}]}]
    items += [{"linkId": "3", "answer": [{"valueInteger": 4}]}]
    r = fhir.score_questionnaire_response(wai_sr(items), on_invalid="missing")
    assert [p.code for p in r.problems] == [ProblemCode.WRONG_TYPE, ProblemCode.SEVERAL_ANSWERS]
    assert r.n_answered["total"] == 11  # neither answer of item 3 is taken


def test_problem_messages_name_the_item_and_not_a_value_of_another_field() -> None:
    qr = with_item("3", [{"valueCoding": {"system": "http://x.org/cs", "code": "secret"}}])
    (p,) = fhir.score_questionnaire_response(qr).problems
    assert p.item == "3" and "item '3'" in p.message and "http://x.org/cs" in p.message


def test_codings_by_weight_extension_and_by_display_label() -> None:
    weighted = {
        "system": "http://tool.example/answers",
        "code": "often",
        "extension": [{"url": _codes.ITEM_WEIGHT, "valueDecimal": 2}],
    }
    r = fhir.score_questionnaire_response(with_item("3", [{"valueCoding": weighted}]))
    assert r.problems == () and r.scores["bond"] == 3.5
    ordinal = {"system": "http://tool.example/a", "code": "x"}
    ordinal["extension"] = [{"url": _codes.ORDINAL_VALUE, "valueInteger": 2}]  # type: ignore[assignment]
    r = fhir.score_questionnaire_response(with_item("3", [{"valueCoding": ordinal}]))
    assert r.problems == () and r.scores["bond"] == 3.5
    labelled = {"system": "http://tool.example/a", "code": "x", "display": "Sometimes"}
    qr = with_item("3", [{"valueCoding": labelled}])
    assert fhir.score_questionnaire_response(qr).problems[0].code is ProblemCode.UNKNOWN_CODING
    r = fhir.score_questionnaire_response(qr, labels=True)
    assert r.problems == () and r.scores["bond"] == 3.5


def test_value_string_with_labels() -> None:
    qr = with_item("3", [{"valueString": "sometimes"}])
    r = fhir.score_questionnaire_response(qr, labels=True)
    assert r.problems == () and r.scores["bond"] == 3.5


def test_groups_nested_answers_and_calculated_items_are_walked() -> None:
    ins = load_instrument("wai-sr")
    qr = response_for(ins, {str(i): 4 for i in range(1, 13)}, grouped=True)
    first = qr["item"][0]["item"].pop(0)
    qr["item"][0]["item"][0]["answer"][0]["item"] = [first]  # an item under an answer
    qr["item"].append(
        {"linkId": "scales", "item": [{"linkId": "scale:total", "answer": [{"valueDecimal": 1}]}]}
    )
    r = fhir.score_questionnaire_response(qr)
    assert r.problems == () and r.n_answered["total"] == 12 and r.scores["total"] == 4.0


def test_unknown_questionnaire_is_an_error_naming_it() -> None:
    qr = wai_sr(questionnaire="http://loinc.org/q/44249-1")
    with pytest.raises(UnknownInstrumentError, match="44249-1"):
        fhir.score_questionnaire_response(qr)
    qr = wai_sr(questionnaire=f"{_codes.BASE}/Questionnaire/wai-sr|9.9")
    with pytest.raises(UnknownInstrumentError, match=r"wai-sr\|9.9"):
        fhir.score_questionnaire_response(qr)


@pytest.mark.parametrize("ident", ["../../etc/passwd", "evil.toml", "a/b", "x.TOML", "-x"])
def test_questionnaire_urls_never_name_files(ident: str) -> None:
    qr = wai_sr(questionnaire=f"{_codes.BASE}/Questionnaire/{ident}")
    with pytest.raises(UnknownInstrumentError):
        fhir.score_questionnaire_response(qr)


def test_instrument_given_must_agree_with_the_response() -> None:
    qr = wai_sr()
    assert fhir.score_questionnaire_response(qr, instrument="wai-sr").scores["total"] == 4.0
    with pytest.raises(DataError, match="not 'https://alliance-score"):
        fhir.score_questionnaire_response(qr, instrument="wai-s")
    del qr["questionnaire"]
    with pytest.raises(DataError, match="names no questionnaire"):
        fhir.score_questionnaire_response(qr)
    assert fhir.score_questionnaire_response(qr, instrument="wai-sr").scores["total"] == 4.0
    qr["questionnaire"] = f"{_codes.BASE}/Questionnaire/wai-sr"  # no version: any version
    assert fhir.score_questionnaire_response(qr, instrument="wai-sr").scores["total"] == 4.0


@pytest.mark.parametrize(
    ("qr", "match"),
    [
        ("{not json", "not valid JSON"),
        (b"[1, 2]", "must be a JSON object"),
        ({"resourceType": "Patient"}, "resourceType is 'Patient'"),
        ({"resourceType": "QuestionnaireResponse"}, "status"),
        ({"resourceType": "QuestionnaireResponse", "status": "completed", "item": [{}]}, "linkId"),
        ("x" * (fhir.MAX_RESPONSE_BYTES + 1), "larger than"),
        ("[" * 100_000, "not valid JSON"),
    ],
    ids=["bad-json", "array", "patient", "no-status", "no-linkId", "too-large", "deep-json"],
)
def test_unreadable_responses_raise_data_errors(qr: object, match: str) -> None:
    with pytest.raises(DataError, match=match):
        fhir.score_questionnaire_response(qr, instrument="wai-sr")


def test_deeply_nested_items_are_refused() -> None:
    item: dict[str, Any] = {"linkId": "1", "answer": [{"valueInteger": 4}]}
    for _ in range(fhir.MAX_DEPTH + 1):
        item = {"linkId": "g", "item": [item]}
    with pytest.raises(DataError, match="nested deeper"):
        fhir.score_questionnaire_response(wai_sr([item]))


@pytest.mark.parametrize("instrument", SHIPPED)
@settings(max_examples=12, deadline=None)
@given(data=st.data())
def test_a_response_built_from_our_questionnaire_scores_as_score_response(
    instrument: str, data: st.DataObject
) -> None:
    """A form filler's response to our Questionnaire scores exactly as the answers do."""
    ins = load_instrument(instrument)
    answers = data.draw(answer_sets(ins))
    options = {
        "allow_provisional": True,
        "on_invalid": data.draw(st.sampled_from(["reject", "missing"])),
    }
    qr = response_for(ins, answers, grouped=data.draw(st.booleans()))
    via_fhir = fhir.score_questionnaire_response(json.dumps(qr), **options)  # type: ignore[arg-type]
    direct = score_response(ins, answers, **options)  # type: ignore[arg-type]
    assert via_fhir == direct


@SETTINGS
@given(st.one_of(JSON, mangled_responses(load_instrument("wai-sr"))))
def test_any_json_is_a_result_or_a_library_error(value: Any) -> None:
    for form, instrument in ((value, "wai-sr"), (json.dumps(value), None)):
        try:
            result = fhir.score_questionnaire_response(form, instrument=instrument)
        except AllianceScoreError as exc:
            OperationOutcome.model_validate(fhir.operation_outcome(exc))
            continue
        assert isinstance(result, ScoreResult)
        if result.status.value != "invalid":
            Observation.model_validate(fhir.observation(result, response=form))
        else:
            OperationOutcome.model_validate(fhir.operation_outcome(result.problems))


# -- Observation -----------------------------------------------------------------------


def full_response() -> dict[str, Any]:
    return wai_sr(
        subject={"reference": "Patient/p1", "display": "P. One"},
        encounter={"reference": "Encounter/e1"},
        authored="2026-03-01T10:00:00+01:00",
        source={"reference": "Patient/p1"},
        author={"reference": "Practitioner/t1"},
    )


def test_observation_of_a_complete_response() -> None:
    qr = full_response()
    r = fhir.score_questionnaire_response(qr)
    obs = fhir.observation(r, response=qr)
    Observation.model_validate(obs)
    assert obs["status"] == "final"
    assert obs["category"][0]["coding"][0]["code"] == "survey"
    assert obs["code"]["coding"][0] == {
        "system": _codes.INSTRUMENT_SYSTEM,
        "code": "wai-sr",
        "display": "Working Alliance Inventory, Short Revised (client)",
    }
    assert obs["subject"] == {"reference": "Patient/p1", "display": "P. One"}
    assert obs["encounter"] == {"reference": "Encounter/e1"}
    assert obs["effectiveDateTime"] == "2026-03-01T10:00:00+01:00"
    assert obs["performer"] == [{"reference": "Patient/p1"}]
    assert obs["derivedFrom"] == [{"reference": "QuestionnaireResponse/r1"}]
    assert obs["valueQuantity"]["value"] == 4.0
    assert [c["code"]["coding"][0]["code"] for c in obs["component"]] == [
        "task",
        "bond",
        "goal",
        "total",
    ]
    ext = {e["url"]: e["valueString"] for e in obs["extension"][0]["extension"]}
    ins = load_instrument("wai-sr")
    assert ext == {
        "instrument": "wai-sr",
        "version": "1.0",
        "contentHash": ins.content_hash,
        "origin": "shipped",
        "libraryVersion": r.library_version,
    }
    assert "meta" not in obs and "note" not in obs


def test_observation_with_a_scale_not_scored() -> None:
    items = [{"linkId": str(i), "answer": [{"valueInteger": 4}]} for i in (3, 4, 5, 6, 7, 8, 9, 11)]
    items += [{"linkId": "10", "answer": [{"valueInteger": 3}]}]
    r = fhir.score_questionnaire_response(wai_sr(items))
    assert r.status.value == "partial"
    obs = fhir.observation(r, response=wai_sr(items))
    Observation.model_validate(obs)
    assert obs["status"] == "final" and "valueQuantity" in obs
    task = next(c for c in obs["component"] if c["code"]["coding"][0]["code"] == "task")
    assert "valueQuantity" not in task
    assert task["dataAbsentReason"]["text"] == (
        "Not scored: 1 of 4 items answered; at least 3 are needed."
    )
    total = next(c for c in obs["component"] if c["code"]["coding"][0]["code"] == "total")
    assert {e["url"]: e for e in total["extension"]}[_codes.PRORATED_EXTENSION]["valueBoolean"]
    assert "Prorated" in obs["note"][0]["text"]


def test_observation_of_an_insufficient_response() -> None:
    r = fhir.score_questionnaire_response(wai_sr([]))
    obs = fhir.observation(r)
    Observation.model_validate(obs)
    assert "valueQuantity" not in obs and obs["dataAbsentReason"]["coding"][0]["code"]


def test_provisional_results_are_marked_and_preliminary() -> None:
    qr = {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": f"{_codes.BASE}/Questionnaire/srs|3.0",
        "status": "completed",
        "item": [
            {"linkId": k, "answer": [{"valueDecimal": 8.0}]}
            for k in ("relationship", "goals", "approach", "overall")
        ],
    }
    plain = fhir.observation(fhir.score_questionnaire_response(qr))
    assert plain["status"] == "final" and "interpretation" not in plain
    r = fhir.score_questionnaire_response(qr, allow_provisional=True)
    obs = fhir.observation(r, response=qr)
    Observation.model_validate(obs)
    assert obs["status"] == "preliminary"
    assert obs["meta"]["tag"][0]["code"] == "provisional"
    assert "Provisional: total_below_36" in obs["note"][0]["text"]
    (flag,) = obs["interpretation"]
    assert flag["coding"][0]["code"] == "total_below_36"
    assert flag["coding"][0]["system"] == f"{_codes.BASE}/CodeSystem/srs-flags"
    assert obs["component"][0]["interpretation"] == [flag]
    assert "derivedFrom" not in obs  # the response has no id


def test_provisional_scales_are_marked_on_their_components() -> None:
    ins = load_instrument("wai")
    r = score_response(ins, {str(i): 4 for i in range(1, 37)}, allow_provisional=True)
    obs = fhir.observation(r)
    marks = {
        c["code"]["coding"][0]["code"]: any(
            e["url"] == _codes.PROVISIONAL_EXTENSION for e in c["extension"]
        )
        for c in obs["component"]
    }
    assert marks == {s.id: s.status == "provisional" for s in ins.scales}
    assert any(marks.values())


def test_response_not_completed_scored_anyway_is_preliminary() -> None:
    qr = wai_sr(status="in-progress")
    r = fhir.score_questionnaire_response(qr, on_invalid="missing")
    obs = fhir.observation(r, response=qr)
    assert obs["status"] == "preliminary" and "meta" not in obs


def test_observation_of_an_invalid_result_is_refused() -> None:
    r = fhir.score_questionnaire_response(with_item("3", [{"valueInteger": 9}]))
    with pytest.raises(DataError, match="operation_outcome"):
        fhir.observation(r)


def test_observation_of_a_definition_from_a_model() -> None:
    """A definition built in code is not on the search path: the Observation still says
    which one scored it (by hash), with the scale ids as displays."""
    raw = load_instrument("wai-sr").model_dump()
    other = Instrument.model_validate(raw | {"name": "Changed"})
    assert other.origin == "<model>"
    r = score_response(other, {str(i): 4 for i in range(1, 13)})
    obs = fhir.observation(r)
    Observation.model_validate(obs)
    assert obs["code"]["coding"][0]["display"] == "wai-sr"
    assert obs["extension"][0]["extension"][2]["valueString"] == other.content_hash


def test_observation_from_a_definition_file(tmp_path: Any) -> None:
    from alliance_score.registry import shipped_directory

    path = tmp_path / "mine.toml"
    path.write_text((shipped_directory() / "wai-sr.toml").read_text())
    r = score_response(load_instrument(path), {str(i): 4 for i in range(1, 13)})
    obs = fhir.observation(r)
    ext = {e["url"]: e["valueString"] for e in obs["extension"][0]["extension"]}
    assert ext["origin"] == "mine.toml"  # the file's name, not the folder it is in
    assert obs["code"]["text"] == "WAI-SR"


def test_operation_outcome_of_problems_and_of_errors() -> None:
    r = fhir.score_questionnaire_response(
        with_item("3", [{"valueCoding": {"system": "http://x", "code": "y"}}])
    )
    oo = fhir.operation_outcome(r.problems)
    OperationOutcome.model_validate(oo)
    (issue,) = oo["issue"]
    assert issue["code"] == "code-invalid" and issue["severity"] == "error"
    assert issue["details"]["coding"][0] == {
        "system": _codes.PROBLEM_SYSTEM,
        "code": "unknown_coding",
    }
    assert issue["expression"] == ["QuestionnaireResponse.repeat(item).where(linkId='3')"]
    status = fhir.score_questionnaire_response(wai_sr(status="stopped")).problems
    assert fhir.operation_outcome(status)["issue"][0]["expression"] == [
        "QuestionnaireResponse.status"
    ]
    try:
        fhir.score_questionnaire_response(wai_sr(questionnaire="http://other.org/Q/1"))
    except UnknownInstrumentError as exc:
        oo = fhir.operation_outcome(exc)
    OperationOutcome.model_validate(oo)
    assert oo["issue"][0]["code"] == "not-found"
    assert fhir.operation_outcome(DataError("bad"))["issue"][0]["code"] == "processing"
    ok = fhir.operation_outcome(())
    OperationOutcome.model_validate(ok)
    assert ok["issue"][0]["severity"] == "information"


def test_bundle_of_observations() -> None:
    qr = full_response()
    obs = fhir.observation(fhir.score_questionnaire_response(qr), response=qr)
    for kind in ("collection", "transaction"):
        bundle = fhir.bundle([obs, copy.deepcopy(obs)], type=kind)
        Bundle.model_validate(bundle)
        assert [e["resource"] for e in bundle["entry"]] == [obs, obs]
        if kind == "transaction":
            assert bundle["entry"][0]["request"] == {"method": "POST", "url": "Observation"}


def test_examples_are_made_by_their_script(tmp_path: Any) -> None:
    """examples/fhir/ holds exactly what make_fhir_examples.py writes."""
    import importlib.util
    from pathlib import Path

    folder = Path(__file__).resolve().parents[1] / "examples" / "fhir"
    script = folder / "make_fhir_examples.py"
    spec = importlib.util.spec_from_file_location("make_fhir_examples", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    setattr(module, "HERE", tmp_path)  # noqa: B010 - a module loaded from its file
    module.main()
    made = sorted(p.name for p in tmp_path.iterdir())
    assert made == sorted(p.name for p in folder.iterdir() if p.suffix != ".py")
    for name in made:
        assert (tmp_path / name).read_bytes() == (folder / name).read_bytes(), name
    Bundle.model_validate_json((folder / "bundle.json").read_text())
    for line in (folder / "responses.ndjson").read_text().splitlines():
        QuestionnaireResponse.model_validate_json(line)


def test_observation_reads_only_the_context_of_its_response() -> None:
    qr = full_response()
    r = fhir.score_questionnaire_response(qr)
    text = json.dumps(qr | {"item": "not read"})
    obs = fhir.observation(r, response=text)
    assert obs["subject"]["reference"] == "Patient/p1"
    with pytest.raises(DataError, match="subject"):
        fhir.observation(r, response=qr | {"subject": "Patient/p1"})


def test_a_response_read_from_text_is_read_once() -> None:
    text = json.dumps(full_response())
    first = fhir.parse_response(text)
    assert fhir.parse_response(text) is first
    assert fhir.parse_context(text) is first
    assert fhir.parse_response(json.dumps(full_response())) is not first


def test_validate_checks_against_r4() -> None:
    qr = full_response()
    r = fhir.score_questionnaire_response(qr)
    for resource in (
        fhir.questionnaire("wai-s"),
        qr,
        fhir.observation(r, response=qr),
        fhir.operation_outcome(()),
        fhir.bundle([fhir.observation(r)]),
    ):
        fhir.validate(resource)
    broken = fhir.observation(r) | {"valueQuantity": {"value": "high"}}
    with pytest.raises(DataError, match=r"Observation is not valid FHIR R4: valueQuantity"):
        fhir.validate(broken)
    with pytest.raises(DataError, match="Cannot validate a resource of type 'Patient'"):
        fhir.validate({"resourceType": "Patient"})


def test_validate_without_fhir_resources(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from alliance_score import MissingDependencyError

    monkeypatch.setitem(sys.modules, "fhir.resources.R4B.observation", None)
    with pytest.raises(MissingDependencyError, match=r"alliance-score\[fhir\]"):
        fhir.validate({"resourceType": "Observation"})


@SETTINGS
@given(st.data())
def test_generated_instruments_round_trip_through_fhir(data: st.DataObject) -> None:
    """Any valid definition: its Questionnaire is valid R4, and a form filler's response
    to it scores as score_response scores the same answers."""
    from .strategies import instruments

    ins = data.draw(instruments())
    Questionnaire.model_validate(fhir.questionnaire(ins))
    answers = data.draw(answer_sets(ins))
    qr = response_for(ins, answers)
    via_fhir = fhir.score_questionnaire_response(qr, instrument=ins, allow_provisional=True)
    assert via_fhir == score_response(ins, answers, allow_provisional=True)


@SETTINGS
@given(st.data())
def test_generated_calculated_expressions_match_the_kernel(data: st.DataObject) -> None:
    """On complete, valid answers each scale's FHIRPath gives the library's score, for
    every method, reversed items, negative ranges and weights."""
    from .strategies import instruments, small_definition

    weighted = Instrument.model_validate(
        small_definition(
            data.draw(st.sampled_from(["mean", "sum", "tcu", "pomp"])),
            {"1": 2.0, "3": 0.5},
        )
    )
    ins = data.draw(st.one_of(instruments(), st.just(weighted)))
    r = ins.response
    step = r.effective_step or 0.5
    n = round((r.max - r.min) / step)
    answers = {
        item: round(r.min + data.draw(st.integers(0, n)) * step, 10) for item in ins.item_ids
    }
    qr = response_for(ins, answers)
    expected = score_response(ins, answers, allow_provisional=True).scores
    for item in fhir.questionnaire(ins)["item"][-1]["item"]:
        if item["type"] != "decimal":
            continue
        expression = item["extension"][0]["valueExpression"]["expression"]
        expression = expression.replace(".weight()", ".code.toDecimal()")
        (value,) = evaluate(qr, expression, {"resource": qr}, model=models["r4"])
        assert float(value) == pytest.approx(expected[item["linkId"].removeprefix("scale:")])


def test_outputs_are_also_valid_r5() -> None:
    """R5 differs from R4 only in names this library does not use here: the same
    resources validate against fhir.resources' default (R5) models."""
    from fhir.resources.bundle import Bundle as BundleR5
    from fhir.resources.observation import Observation as ObservationR5
    from fhir.resources.operationoutcome import OperationOutcome as OperationOutcomeR5
    from fhir.resources.questionnaire import Questionnaire as QuestionnaireR5

    for instrument in SHIPPED:
        QuestionnaireR5.model_validate(fhir.questionnaire(instrument))
    qr = full_response()
    r = fhir.score_questionnaire_response(qr)
    obs = fhir.observation(r, response=qr)
    ObservationR5.model_validate(obs)
    BundleR5.model_validate(fhir.bundle([obs], type="transaction"))
    OperationOutcomeR5.model_validate(fhir.operation_outcome(r.problems))
