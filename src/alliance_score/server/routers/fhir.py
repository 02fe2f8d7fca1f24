"""``/fhir``: a FHIR QuestionnaireResponse scored to an Observation.

``POST /fhir/QuestionnaireResponse/$score`` takes a QuestionnaireResponse
(``application/fhir+json`` or ``application/json``) and answers with an ``Observation``;
every error on this path is an ``OperationOutcome``: answers that break the instrument's
rules (422, one issue per coded problem), a document that is not a readable
QuestionnaireResponse (422), an unknown questionnaire (404), and the service's own
errors (401, 403, 413, 503).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from ...fhir import observation, operation_outcome, parse_response, score_questionnaire_response
from ...fhir.response import QuestionnaireResponse
from ...frame import OnInvalid
from ...scoring import Status
from ..errors import FHIR_JSON
from ..lookup import registry_instrument
from ..models import INSTRUMENT_REF, Observation, OperationOutcome

__all__ = ["SCORE_PATH", "FHIRResponse", "router"]

SCORE_PATH = "/QuestionnaireResponse/$score"
INLINE_BYTES = 64 * 1024
"""A response this small (a 36-item form is about 10 kB) is scored on the event loop; a
larger one (up to the body limit, with up to 10,000 items) in a worker thread, so that
one large request cannot hold up the others."""

router = APIRouter(prefix="/fhir", tags=["fhir"])


class FHIRResponse(JSONResponse):
    """A FHIR resource as ``application/fhir+json``."""

    media_type = FHIR_JSON


def _outcome(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {s: {"model": OperationOutcome} for s in statuses}


_REQUEST_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            media: {"schema": {"$ref": "#/components/schemas/QuestionnaireResponse"}}
            for media in (FHIR_JSON, "application/json")
        },
    }
}


@router.post(
    SCORE_PATH,
    summary="Score a FHIR QuestionnaireResponse to an Observation",
    response_class=FHIRResponse,
    response_model=Observation,
    responses=_outcome(401, 403, 404, 413, 422, 503),
    openapi_extra=_REQUEST_BODY,
)
async def score_questionnaire_response_operation(
    request: Request,
    instrument: Annotated[
        str | None,
        Query(
            pattern=INSTRUMENT_REF,
            max_length=80,
            description="Instrument id (or id@version) the response answers; by default "
            "the one its `questionnaire` canonical names.",
        ),
    ] = None,
    labels: Annotated[bool, Query(description="Accept anchor labels (valueString).")] = False,
    allow_provisional: Annotated[
        bool, Query(description="Also score provisional scales and cut-offs.")
    ] = False,
    on_invalid: Annotated[
        OnInvalid, Query(description="'reject' (default) or 'missing'.")
    ] = "reject",
) -> FHIRResponse:
    """Read the QuestionnaireResponse, score it with the same library functions as
    ``/score``, and answer with its Observation (``derivedFrom`` the response, one
    ``component`` per scale). Problems in the answers are a 422 ``OperationOutcome`` with
    one issue per coded problem."""
    body = await request.body()
    ins = registry_instrument(instrument) if instrument is not None else None

    def answer() -> FHIRResponse:
        qr: QuestionnaireResponse = parse_response(body)
        result = score_questionnaire_response(
            qr,
            instrument=ins,
            labels=labels,
            allow_provisional=allow_provisional,
            on_invalid=on_invalid,
        )
        if result.status is Status.INVALID:
            return FHIRResponse(operation_outcome(result.problems), status_code=422)
        return FHIRResponse(observation(result, response=qr))

    if len(body) <= INLINE_BYTES:
        return answer()
    return await run_in_threadpool(answer)
