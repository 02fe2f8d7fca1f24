"""Request and response bodies of the service that the library does not already have.

Results are the library's own :class:`~alliance_score.ScoreResult`; answers are its
:data:`~alliance_score.response.Answer`; definitions are its
:class:`~alliance_score.Instrument`. The models here only wrap them: the options of a
request, a batch, and an instrument with its ledger.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from ..frame import OnInvalid
from ..instrument import Evidence, Instrument, Verification
from ..registry import InstrumentSummary
from ..response import Answer, ScoreResult

__all__ = [
    "INSTRUMENT_REF",
    "MAX_ITEMS",
    "Answers",
    "BatchRequest",
    "BatchResult",
    "CatalogueEntry",
    "Health",
    "InstrumentDetail",
    "LedgerEntry",
    "Observation",
    "OperationOutcome",
    "OperationOutcomeIssue",
    "Questionnaire",
    "ScoreOptions",
    "ScoreRequest",
]

INSTRUMENT_REF = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}(@[0-9]{1,9}(\.[0-9]{1,9}){0,7})?$"
"""An instrument id, or ``id@version``: never a path."""

MAX_ITEMS = 1000
"""Most answers in one answer set (more than any instrument has items)."""

Answers = Annotated[
    dict[Annotated[str, StringConstraints(max_length=200)], Answer],
    Field(
        max_length=MAX_ITEMS,
        description="Answers keyed by item id: a number, text (parsed as the library "
        "parses cells; anchor labels with labels=true) or null for missing.",
        examples=[{"1": 4, "2": 5, "3": "3", "4": None}],
    ),
]

MissingCode = float | Annotated[str, StringConstraints(max_length=100)]


class ScoreOptions(BaseModel):
    """Options of :func:`~alliance_score.score_response`, shared by single and batch.

    Strict: ``0`` is not ``false`` and ``"4"`` is not a list; a request of the wrong shape
    is refused rather than coerced."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    labels: bool = Field(default=False, description="Accept anchor labels such as 'Always'.")
    missing_codes: list[MissingCode] = Field(
        default_factory=list,
        max_length=50,
        description="Extra values meaning missing, e.g. [-99].",
    )
    allow_provisional: bool = Field(
        default=False, description="Also score provisional scales and cut-offs."
    )
    scales: list[Annotated[str, StringConstraints(max_length=64)]] | None = Field(
        default=None, max_length=100, description="Scales to score; default every verified one."
    )
    on_invalid: OnInvalid = Field(
        default="reject",
        description="'reject': an invalid answer makes the response invalid; 'missing': "
        "it counts as missing (and is still reported).",
    )


class ScoreRequest(ScoreOptions):
    """One administration to score: ``POST /score/{instrument_id}``."""

    answers: Answers


class BatchRequest(ScoreOptions):
    """Several administrations of one instrument, scored alike and returned in order."""

    answers: list[Answers] = Field(
        description="Answer sets, at most the service's max_batch (1000 by default)."
    )


class BatchResult(BaseModel):
    """One result per answer set, in the order sent."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    results: list[ScoreResult]


class CatalogueEntry(InstrumentSummary):
    """One instrument of the catalogue (:class:`~alliance_score.InstrumentSummary`
    without the file path of its definition on the server)."""

    path: str = Field(exclude=True)


class LedgerEntry(BaseModel):
    """One element of an instrument's key with the evidence that confirms it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    element: str
    evidence: Evidence
    verified: bool = Field(description="Whether the evidence is at P or S2.")


class InstrumentDetail(BaseModel):
    """An instrument definition with its provenance and verification ledger."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    definition: Instrument
    origin: str = Field(description="'shipped', or the file the definition was read from.")
    content_hash: str = Field(description="sha256:<hex> of the definition text.")
    scale_status: dict[str, Verification] = Field(
        description="The status each scale's ledger supports."
    )
    ledger: list[LedgerEntry]


class Health(BaseModel):
    """``GET /health``: the service is up."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    status: Literal["ok"] = "ok"


class _Resource(BaseModel):
    """A FHIR resource as sent: the elements named here are always present; the rest are
    described in docs/fhir.md. (Resources are built as plain dicts by
    :mod:`alliance_score.fhir`; these models document them in the OpenAPI schema.)"""

    model_config = ConfigDict(extra="allow")


class Questionnaire(_Resource):
    """A FHIR R4 Questionnaire built from an instrument definition."""

    resourceType: Literal["Questionnaire"]  # noqa: N815 - FHIR element name
    url: str
    version: str
    status: str
    item: list[dict[str, Any]]


class Observation(_Resource):
    """A FHIR R4 Observation of a scored QuestionnaireResponse."""

    resourceType: Literal["Observation"]  # noqa: N815 - FHIR element name
    status: Literal["final", "preliminary"]
    code: dict[str, Any]
    component: list[dict[str, Any]]


class OperationOutcomeIssue(_Resource):
    """One issue of an OperationOutcome."""

    severity: Literal["fatal", "error", "warning", "information"]
    code: str
    diagnostics: str | None = None


class OperationOutcome(_Resource):
    """A FHIR R4 OperationOutcome: why a request or a response could not be scored."""

    resourceType: Literal["OperationOutcome"]  # noqa: N815 - FHIR element name
    issue: list[OperationOutcomeIssue] = Field(min_length=1)
