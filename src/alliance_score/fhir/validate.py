"""Checking resources against FHIR R4 with ``fhir.resources`` (the optional ``fhir`` extra)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from ..errors import DataError

__all__ = ["VALIDATED", "validate"]

VALIDATED: Final = (
    "Bundle",
    "Observation",
    "OperationOutcome",
    "Questionnaire",
    "QuestionnaireResponse",
)
"""The resource types :func:`validate` checks."""


def validate(resource: Mapping[str, Any]) -> None:
    """Check a FHIR resource (a JSON-ready dict) against FHIR R4.

    The check uses the R4B models of ``fhir.resources`` (``fhir.resources.R4B``), whose
    Questionnaire, QuestionnaireResponse, Observation, OperationOutcome and Bundle are
    R4's. Install it with ``pip install "alliance-score[fhir]"``.

    Raises
    ------
    DataError
        When the resource is not one of :data:`VALIDATED` or breaks a FHIR rule (the first
        broken rule is named, with its location).
    MissingDependencyError
        When ``fhir.resources`` is not installed.

    Examples
    --------
    >>> from alliance_score import fhir
    >>> fhir.validate(fhir.questionnaire("srs"))
    >>> fhir.validate({"resourceType": "Observation", "status": "done"})
    Traceback (most recent call last):
    ...
    alliance_score.errors.DataError: The Observation is not valid FHIR R4: ...
    """
    from ..io.source import require

    kind = resource.get("resourceType") if isinstance(resource, Mapping) else None
    if kind not in VALIDATED:
        raise DataError(
            f"Cannot validate a resource of type {str(kind)[:40]!r}; "
            f"validated are {', '.join(VALIDATED)}."
        )
    module = require(f"fhir.resources.R4B.{kind.lower()}", "Validating FHIR resources", "fhir")
    from pydantic import ValidationError

    try:
        getattr(module, kind).model_validate(dict(resource))
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        where = ".".join(str(p) for p in first["loc"]) or "<root>"
        raise DataError(
            f"The {kind} is not valid FHIR R4: {where}: {first['msg']} "
            f"({exc.error_count()} error(s))."
        ) from exc
