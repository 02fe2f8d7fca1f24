"""Write the FHIR examples in this folder (run: python examples/fhir/make_fhir_examples.py).

The files are committed; this script documents what each holds and makes them again.
The Questionnaires they answer are written by ``alliance-score fhir questionnaire ID``.

* ``responses.ndjson``: FHIR bulk data, one QuestionnaireResponse per line, one per case
  a scorer must handle (each case is named in the response's ``id``).
* ``bundle.json``: a transaction Bundle holding a Patient and two QuestionnaireResponses.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from alliance_score import fhir, load_instrument

HERE = Path(__file__).resolve().parent
WAI_SR = load_instrument("wai-sr")
SRS = load_instrument("srs")
SRS_ITEMS = ("relationship", "goals", "approach", "overall")


def _coded(value: int) -> dict[str, Any]:
    return {"valueCoding": {"system": fhir.answer_system(WAI_SR), "code": str(value)}}


def _response(rid: str, instrument: Any, items: list[dict[str, Any]], **extra: Any) -> dict:
    return {
        "resourceType": "QuestionnaireResponse",
        "id": rid,
        "questionnaire": fhir.questionnaire_canonical(instrument),
        "status": "completed",
        "subject": {"reference": "Patient/example-1"},
        "encounter": {"reference": "Encounter/session-3"},
        "authored": "2026-03-02T10:15:00+01:00",
        "source": {"reference": "Patient/example-1"},
        "item": items,
        **extra,
    }


def _wai(answers: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"linkId": k, "answer": [v]} for k, v in answers.items()]


def responses() -> list[dict[str, Any]]:
    complete = {str(i): _coded(1 + (i + 2) % 5) for i in range(1, 13)}
    grouped = [{"linkId": "page-1", "item": _wai(complete)}]
    prorated = {k: v for k, v in complete.items() if k != "7"}
    out_of_range = complete | {"3": {"valueInteger": 7}}
    foreign = complete | {"5": {"valueCoding": {"system": "http://loinc.org", "code": "LA1"}}}
    weighted = complete | {
        "5": {
            "valueCoding": {
                "system": "http://tool.example/answers",
                "code": "often",
                "extension": [
                    {"url": "http://hl7.org/fhir/StructureDefinition/itemWeight", "valueDecimal": 4}
                ],
            }
        }
    }
    srs = [
        {"linkId": k, "answer": [{"valueDecimal": v}]}
        for k, v in zip(SRS_ITEMS, (9.1, 8.4, 8.0, 8.7), strict=True)
    ]
    return [
        _response("wai-sr-complete", WAI_SR, _wai(complete)),
        _response("wai-sr-in-a-group", WAI_SR, grouped),
        _response("wai-sr-one-item-missing", WAI_SR, _wai(prorated)),
        _response("wai-sr-item-weight-coding", WAI_SR, _wai(weighted)),
        _response("wai-sr-out-of-range", WAI_SR, _wai(out_of_range)),
        _response("wai-sr-loinc-coding", WAI_SR, _wai(foreign)),
        _response("wai-sr-in-progress", WAI_SR, _wai(complete), status="in-progress"),
        _response("srs-below-36", SRS, srs),
        _response(
            "unknown-questionnaire",
            WAI_SR,
            [],
            questionnaire="http://example.org/Questionnaire/phq-9",
        ),
    ]


def main() -> None:
    records = responses()
    lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    (HERE / "responses.ndjson").write_text(lines, encoding="utf-8")
    patient = {"resourceType": "Patient", "id": "example-1"}
    bundle = fhir.bundle([patient, records[0], records[7]], type="transaction")
    text = json.dumps(bundle, indent=2, ensure_ascii=False) + "\n"
    (HERE / "bundle.json").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
