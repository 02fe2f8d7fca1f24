"""A :class:`~alliance_score.ScoreResult` as a FHIR R4 ``Observation``, and problems as an
``OperationOutcome``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final, Literal

from ..errors import AllianceScoreError, DataError, Problem, ProblemCode, UnknownInstrumentError
from ..instrument import Instrument
from ..response import ScoreResult
from ..scoring import Status
from . import _codes as c
from .response import Reference, ResponseContext, known_definition, parse_context

__all__ = ["PRIMARY_SCALE", "BundleType", "bundle", "observation", "operation_outcome"]

PRIMARY_SCALE: Final = "total"
"""The scale given as ``Observation.valueQuantity`` when it is scored; otherwise the last
scored scale (definitions list their total last). Every scale is also a component."""

_ISSUE_TYPE: Final = {
    ProblemCode.UNKNOWN_ITEM: "structure",
    ProblemCode.SEVERAL_ANSWERS: "structure",
    ProblemCode.RESPONSE_STATUS: "business-rule",
    ProblemCode.UNKNOWN_CODING: "code-invalid",
}


def observation(result: ScoreResult, *, response: object = None) -> dict[str, Any]:
    """The FHIR R4 ``Observation`` of a scored response, as a JSON-ready dict.

    * ``status`` is ``final``; ``preliminary`` when a provisional scale or cut-off was
      scored (also tagged ``provisional`` in ``meta.tag``, on each such component and in
      a ``note``) or when the response itself is not ``completed``/``amended``.
    * ``code`` is the instrument in this library's code system (no LOINC code exists),
      ``category`` is ``survey``.
    * ``valueQuantity`` is the primary score (:data:`PRIMARY_SCALE`); ``component`` has one
      entry per scored scale, with ``dataAbsentReason`` where a scale is not scored and
      extensions for the number of items answered and whether it was prorated.
    * ``interpretation`` lists the cut-off flags that fired (on the Observation and on
      the component of their scale).
    * ``subject``, ``encounter``, ``effectiveDateTime`` (``authored``), ``performer``
      (``source``, else ``author``) and ``derivedFrom`` come from ``response`` when
      given.
    * The ``scoring-definition`` extension records the definition's id, version, content
      hash and origin and the library version; ``method.text`` says the same in words.

    Raises
    ------
    DataError
        For a result with status ``invalid``: it has no scores to report; answer with
        :func:`operation_outcome` of its problems instead.

    Examples
    --------
    >>> from alliance_score import fhir, score_response
    >>> r = score_response("srs", {"relationship": 8, "goals": 8, "approach": 9,
    ...                            "overall": 9}, allow_provisional=True)
    >>> obs = fhir.observation(r)
    >>> obs["status"], obs["valueQuantity"]["value"], obs["interpretation"][0]["text"]
    ('preliminary', 34.0, 'total_below_36')
    """
    if result.status is Status.INVALID:
        raise DataError(
            f"The result is invalid ({len(result.problems)} problem(s)) and has no scores "
            "for an Observation; report its problems with operation_outcome()."
        )
    qr = None if response is None else parse_context(response)
    ins = known_definition(result)
    scale_names = {s.id: s.name for s in ins.scales} if ins else {}
    cut_meaning = {k.flag: k.meaning for k in ins.cutoffs} if ins else {}
    cut_scale = {k.flag: k.scale for k in ins.cutoffs} if ins else {}
    provisional = set(result.provisional)
    preliminary = bool(provisional) or (
        qr is not None and qr.status not in ("completed", "amended")
    )
    fired = [f for f, v in result.flags.items() if v]

    def flags_for(scale: str | None) -> list[dict[str, Any]]:
        return [
            _flag_concept(result.instrument_id, f, cut_meaning.get(f))
            for f in fired
            if scale is None or cut_scale.get(f, PRIMARY_SCALE) == scale
        ]

    components = []
    for scale_id, score in result.scores.items():
        component: dict[str, Any] = {
            "extension": [
                {"url": c.ANSWERED_EXTENSION, "valueInteger": result.n_answered[scale_id]},
                {"url": c.PRORATED_EXTENSION, "valueBoolean": result.prorated[scale_id]},
            ],
            "code": _scale_concept(result.instrument_id, scale_id, scale_names.get(scale_id)),
        }
        if scale_id in provisional:
            component["extension"].append({"url": c.PROVISIONAL_EXTENSION, "valueBoolean": True})
        if score is None:
            component["dataAbsentReason"] = _absent(ins, scale_id, result)
        else:
            component["valueQuantity"] = _quantity(score)
        interpretation = flags_for(scale_id)
        if interpretation:
            component["interpretation"] = interpretation
        components.append(component)

    out: dict[str, Any] = {"resourceType": "Observation"}
    if provisional:
        out["meta"] = {
            "tag": [{"system": c.TAG_SYSTEM, "code": "provisional", "display": "Provisional"}]
        }
    out["extension"] = [_definition_extension(result)]
    out["status"] = "preliminary" if preliminary else "final"
    out["category"] = [
        {"coding": [{"system": c.OBSERVATION_CATEGORY, "code": "survey", "display": "Survey"}]}
    ]
    out["code"] = {
        "coding": [
            {
                "system": c.INSTRUMENT_SYSTEM,
                "code": result.instrument_id,
                "display": ins.name if ins else result.instrument_id,
            }
        ],
        "text": ins.short_name if ins else result.instrument_id,
    }
    if qr is not None:
        _copy_context(qr, out)
    primary = _primary(result)
    primary_score = None if primary is None else result.scores[primary]
    if primary_score is not None:
        out["valueQuantity"] = _quantity(primary_score)
    else:
        out["dataAbsentReason"] = _absent(ins, primary, result)
    fired_all = flags_for(None)
    if fired_all:
        out["interpretation"] = fired_all
    notes = []
    if provisional:
        notes.append(
            "Provisional: "
            + ", ".join(sorted(provisional))
            + " scored on request; the key is not confirmed by primary or two secondary "
            "sources."
        )
    prorated = [s for s, p in result.prorated.items() if p]
    if prorated:
        notes.append("Prorated (scored with items missing): " + ", ".join(prorated) + ".")
    if notes:
        out["note"] = [{"text": n} for n in notes]
    out["method"] = {
        "text": f"alliance-score {result.library_version}, definition "
        f"{result.instrument_id}@{result.instrument_version} ({result.definition_hash})"
    }
    if qr is not None and qr.id:
        out["derivedFrom"] = [{"reference": f"QuestionnaireResponse/{qr.id}"}]
    out["component"] = components
    return out


def _primary(result: ScoreResult) -> str | None:
    if PRIMARY_SCALE in result.scores:
        return PRIMARY_SCALE
    scales = list(result.scores)
    return scales[-1] if scales else None


def _quantity(score: float) -> dict[str, Any]:
    return {"value": score, "unit": "score", "system": c.UCUM, "code": "{score}"}


def _scale_concept(instrument_id: str, scale_id: str, name: str | None) -> dict[str, Any]:
    coding = {"system": c.scale_system(instrument_id), "code": scale_id}
    if name:
        coding["display"] = name
    return {"coding": [coding], "text": scale_id}


def _flag_concept(instrument_id: str, flag: str, meaning: str | None) -> dict[str, Any]:
    coding = {"system": c.flag_system(instrument_id), "code": flag}
    if meaning:
        coding["display"] = meaning
    return {"coding": [coding], "text": flag}


def _absent(ins: Instrument | None, scale_id: str | None, result: ScoreResult) -> dict[str, Any]:
    text = "Not scored."
    if ins is not None and scale_id is not None:
        scale = ins.scale(scale_id)
        text = (
            f"Not scored: {result.n_answered.get(scale_id, 0)} of {len(scale.items)} items "
            f"answered; at least {scale.min_answered} are needed."
        )
    return {
        "coding": [{"system": c.DATA_ABSENT_REASON, "code": "unknown", "display": "Unknown"}],
        "text": text,
    }


def _definition_extension(result: ScoreResult) -> dict[str, Any]:
    return {
        "url": c.DEFINITION_EXTENSION,
        "extension": [
            {"url": "instrument", "valueString": result.instrument_id},
            {"url": "version", "valueString": result.instrument_version},
            {"url": "contentHash", "valueString": result.definition_hash or "unknown"},
            {"url": "origin", "valueString": _origin(result.definition_origin)},
            {"url": "libraryVersion", "valueString": result.library_version},
        ],
    }


def _origin(origin: str) -> str:
    """``shipped`` or the definition file's name (not its folder, which may say more
    about the machine than the Observation should)."""
    if origin in ("shipped", "<model>", "<string>"):
        return origin
    return origin.replace("\\", "/").rsplit("/", 1)[-1] or origin


def _copy_context(qr: ResponseContext, out: dict[str, Any]) -> None:
    if qr.subject is not None:
        out["subject"] = _reference(qr.subject)
    if qr.encounter is not None:
        out["encounter"] = _reference(qr.encounter)
    if qr.authored is not None:
        out["effectiveDateTime"] = qr.authored
    performer = qr.source or qr.author
    if performer is not None:
        out["performer"] = [_reference(performer)]


def _reference(ref: Reference) -> dict[str, Any]:
    return ref.model_dump(exclude_none=True)


def operation_outcome(problems: Sequence[Problem] | AllianceScoreError) -> dict[str, Any]:
    """A FHIR R4 ``OperationOutcome`` for problems found in a response, or for the error
    that stopped it from being read.

    Each problem is one ``issue``: ``severity`` ``error``, ``code`` an R4 issue type
    (``value`` for answers that break the cell rules, ``structure``, ``code-invalid``,
    ``business-rule``), ``details.coding`` the problem code in this library's
    ``problems`` code system, ``diagnostics`` the message and ``expression`` the item's
    location as FHIRPath. An exception becomes one ``processing`` issue (``not-found``
    for an unknown questionnaire).

    Examples
    --------
    >>> from alliance_score import fhir, score_response
    >>> r = score_response("wai-sr", {"1": 9})
    >>> oo = fhir.operation_outcome(r.problems)
    >>> oo["issue"][0]["code"], oo["issue"][0]["details"]["coding"][0]["code"]
    ('value', 'out_of_range')
    >>> oo["issue"][0]["expression"]
    ["QuestionnaireResponse.repeat(item).where(linkId='1')"]
    """
    if isinstance(problems, AllianceScoreError):
        kind = "not-found" if isinstance(problems, UnknownInstrumentError) else "processing"
        issues = [
            {
                "severity": "error",
                "code": kind,
                "details": {"text": type(problems).__name__},
                "diagnostics": str(problems),
            }
        ]
        return {"resourceType": "OperationOutcome", "issue": issues}
    issues = []
    for p in problems:
        issue: dict[str, Any] = {
            "severity": "error",
            "code": _ISSUE_TYPE.get(p.code, "value"),
            "details": {
                "coding": [{"system": c.PROBLEM_SYSTEM, "code": p.code.value}],
                "text": p.code.value,
            },
            "diagnostics": p.message,
        }
        if p.item is not None:
            link = p.item.replace("\\", "\\\\").replace("'", "\\'")
            issue["expression"] = [f"QuestionnaireResponse.repeat(item).where(linkId='{link}')"]
        elif p.code is ProblemCode.RESPONSE_STATUS:
            issue["expression"] = ["QuestionnaireResponse.status"]
        issues.append(issue)
    if not issues:
        issues.append(
            {
                "severity": "information",
                "code": "informational",
                "diagnostics": "No problems found.",
            }
        )
    return {"resourceType": "OperationOutcome", "issue": issues}


BundleType = Literal["collection", "transaction", "batch"]


def bundle(
    resources: Sequence[dict[str, Any]],
    *,
    type: BundleType = "collection",  # noqa: A002 - the FHIR element's name
) -> dict[str, Any]:
    """A FHIR R4 ``Bundle`` of resources (Observations, say), as a JSON-ready dict.

    ``collection`` (default) just holds them; ``transaction`` and ``batch`` add a
    ``POST`` request per entry, ready to send to a FHIR server.

    Examples
    --------
    >>> from alliance_score import fhir, score_response
    >>> obs = fhir.observation(score_response("wai-sr", {str(i): 4 for i in range(1, 13)}))
    >>> b = fhir.bundle([obs], type="transaction")
    >>> b["type"], b["entry"][0]["request"]
    ('transaction', {'method': 'POST', 'url': 'Observation'})
    """
    if type not in ("collection", "transaction", "batch"):
        raise ValueError(f"type must be 'collection', 'transaction' or 'batch'; got {type!r}")
    entries = []
    for resource in resources:
        entry: dict[str, Any] = {"resource": resource}
        if type != "collection":
            entry["request"] = {"method": "POST", "url": str(resource.get("resourceType"))}
        entries.append(entry)
    return {"resourceType": "Bundle", "type": type, "entry": entries}
