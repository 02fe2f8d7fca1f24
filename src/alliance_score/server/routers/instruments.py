"""``/instruments``: the catalogue, one definition with its ledger, its FHIR Questionnaire."""

from __future__ import annotations

from fastapi import APIRouter

from ...catalogue import derived_status, ledger
from ...fhir import questionnaire
from ...registry import list_instruments
from ..errors import error_responses
from ..lookup import InstrumentRef, registry_instrument
from ..models import CatalogueEntry, InstrumentDetail, LedgerEntry, Questionnaire
from .fhir import FHIRResponse

__all__ = ["router"]

router = APIRouter(prefix="/instruments", tags=["instruments"])


@router.get("", summary="Every instrument the service scores", responses=error_responses(401, 403))
async def instruments() -> list[CatalogueEntry]:
    """The catalogue: id, version, name, rater, number of items and each scale's status."""
    return [CatalogueEntry.model_validate(s.model_dump()) for s in list_instruments()]


@router.get(
    "/{instrument_id}",
    summary="One definition with its verification ledger",
    responses=error_responses(401, 403, 404, 422),
)
async def instrument(instrument_id: InstrumentRef) -> InstrumentDetail:
    """The full definition (items with paraphrase labels, scales, cut-offs, sources,
    licence), where it came from, and the evidence for every element of its key."""
    ins = registry_instrument(instrument_id)
    return InstrumentDetail(
        definition=ins,
        origin=ins.origin,
        content_hash=ins.content_hash,
        scale_status={s: derived_status(ins, s) for s in ins.scale_ids},
        ledger=[
            LedgerEntry(element=name, evidence=ev, verified=ev.verified) for name, ev in ledger(ins)
        ],
    )


@router.get(
    "/{instrument_id}/questionnaire",
    summary="The FHIR Questionnaire of an instrument",
    response_class=FHIRResponse,
    response_model=Questionnaire,
    responses=error_responses(401, 403, 404, 422),
)
async def instrument_questionnaire(instrument_id: InstrumentRef) -> FHIRResponse:
    """A FHIR R4 Questionnaire (``application/fhir+json``): one item per item with its
    paraphrase label (never licensed wording), answer options with their scored values,
    and the scales as calculated items. A QuestionnaireResponse to it can be scored with
    ``POST /fhir/QuestionnaireResponse/$score``."""
    return FHIRResponse(questionnaire(registry_instrument(instrument_id)))
