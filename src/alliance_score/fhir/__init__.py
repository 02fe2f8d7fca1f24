"""FHIR R4 in and out: a Questionnaire per instrument, QuestionnaireResponses scored, and
Observations (or OperationOutcomes) written.

Resources are plain JSON-ready dicts at the boundary. The responses are read with small
pydantic models of this package (no FHIR library is needed); the optional ``fhir`` extra
(``fhir.resources``) is used by the tests to validate what is written against FHIR R4B
(``fhir.resources.R4B``), whose Questionnaire, QuestionnaireResponse, Observation,
OperationOutcome and Bundle are R4's. See ``docs/fhir.md``.

Examples
--------
>>> from alliance_score import fhir
>>> qr = {"resourceType": "QuestionnaireResponse", "id": "qr1", "status": "completed",
...       "questionnaire": "https://alliance-score.github.io/fhir/Questionnaire/wai-sr|1.0",
...       "subject": {"reference": "Patient/p1"},
...       "item": [{"linkId": str(i), "answer": [{"valueInteger": 4}]} for i in range(1, 13)]}
>>> result = fhir.score_questionnaire_response(qr)
>>> obs = fhir.observation(result, response=qr)
>>> obs["valueQuantity"]["value"], obs["derivedFrom"], obs["subject"]
(4.0, [{'reference': 'QuestionnaireResponse/qr1'}], {'reference': 'Patient/p1'})
"""

from __future__ import annotations

from ._codes import BASE, answer_system, questionnaire_canonical, questionnaire_url
from .observation import PRIMARY_SCALE, bundle, observation, operation_outcome
from .questionnaire import questionnaire
from .response import (
    MAX_DEPTH,
    MAX_ITEMS,
    MAX_RESPONSE_BYTES,
    QuestionnaireResponse,
    ResponseContext,
    parse_context,
    parse_response,
    read_answers,
    score_questionnaire_response,
)
from .validate import VALIDATED, validate

__all__ = [
    "BASE",
    "MAX_DEPTH",
    "MAX_ITEMS",
    "MAX_RESPONSE_BYTES",
    "PRIMARY_SCALE",
    "VALIDATED",
    "QuestionnaireResponse",
    "ResponseContext",
    "answer_system",
    "bundle",
    "observation",
    "operation_outcome",
    "parse_context",
    "parse_response",
    "questionnaire",
    "questionnaire_canonical",
    "questionnaire_url",
    "read_answers",
    "score_questionnaire_response",
    "validate",
]
