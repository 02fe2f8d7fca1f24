"""Canonical URLs, code systems and extension URLs used in the FHIR resources.

No LOINC or SNOMED CT code exists for the alliance instruments, so instruments, scales,
answers, cut-off flags and problems are coded in code systems of this library, all under
:data:`BASE`. Canonical URLs identify; they need not resolve.
"""

from __future__ import annotations

import re
from typing import Final

from ..instrument import Instrument

BASE: Final = "https://alliance-score.github.io/fhir"
"""Root of every canonical URL and code system of this library."""

INSTRUMENT_SYSTEM: Final = f"{BASE}/CodeSystem/instruments"
"""Codes for instruments (code = instrument id): ``Observation.code``, ``Questionnaire.code``."""
PROBLEM_SYSTEM: Final = f"{BASE}/CodeSystem/problems"
"""Codes for problems (code = :class:`~alliance_score.errors.ProblemCode` value)."""
TAG_SYSTEM: Final = f"{BASE}/CodeSystem/tags"
"""``meta.tag`` codes: ``provisional``."""
DEFINITION_EXTENSION: Final = f"{BASE}/StructureDefinition/scoring-definition"
"""Which definition scored an Observation: sub-extensions ``instrument``, ``version``,
``contentHash``, ``origin`` and ``libraryVersion``."""
PROVISIONAL_EXTENSION: Final = f"{BASE}/StructureDefinition/provisional"
"""``valueBoolean`` true on a component whose scale (or cut-off) is provisional."""
PRORATED_EXTENSION: Final = f"{BASE}/StructureDefinition/prorated"
"""``valueBoolean``: the scale was scored with at least one of its items missing."""
ANSWERED_EXTENSION: Final = f"{BASE}/StructureDefinition/items-answered"
"""``valueInteger``: how many of the scale's items were answered."""

# HL7 URLs (FHIR R4 core, the FHIR extensions pack and SDC)
ITEM_WEIGHT: Final = "http://hl7.org/fhir/StructureDefinition/itemWeight"
ORDINAL_VALUE: Final = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
MIN_VALUE: Final = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_VALUE: Final = "http://hl7.org/fhir/StructureDefinition/maxValue"
MAX_DECIMAL_PLACES: Final = "http://hl7.org/fhir/StructureDefinition/maxDecimalPlaces"
ENTRY_FORMAT: Final = "http://hl7.org/fhir/StructureDefinition/entryFormat"
ITEM_CONTROL: Final = "http://hl7.org/fhir/StructureDefinition/questionnaire-itemControl"
ITEM_CONTROL_SYSTEM: Final = "http://hl7.org/fhir/questionnaire-item-control"
UNIT: Final = "http://hl7.org/fhir/StructureDefinition/questionnaire-unit"
CALCULATED_EXPRESSION: Final = (
    "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-calculatedExpression"
)
UCUM: Final = "http://unitsofmeasure.org"
OBSERVATION_CATEGORY: Final = "http://terminology.hl7.org/CodeSystem/observation-category"
DATA_ABSENT_REASON: Final = "http://terminology.hl7.org/CodeSystem/data-absent-reason"

_ID: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_VERSION: Final = re.compile(r"\d{1,9}(?:\.\d{1,9}){0,5}")

SCALE_PREFIX: Final = "scale:"
"""``linkId`` prefix of the calculated scale items (``scale:total``). A colon cannot occur
in an item id, so these never clash with an item."""
SCALES_GROUP: Final = "scales"
"""``linkId`` of the group holding the calculated scale items."""


def questionnaire_url(ins: Instrument) -> str:
    """The Questionnaire's canonical URL (without version): ``{BASE}/Questionnaire/{id}``."""
    return f"{BASE}/Questionnaire/{ins.id}"


def questionnaire_canonical(ins: Instrument) -> str:
    """``url|version``: names exactly one definition."""
    return f"{questionnaire_url(ins)}|{ins.version}"


def answer_system(ins: Instrument) -> str:
    """The code system of an instrument's answers (code = the value, as ``"4"``)."""
    return f"{BASE}/CodeSystem/{ins.id}-answers"


def scale_system(instrument_id: str) -> str:
    """The code system of an instrument's scales (code = the scale id)."""
    return f"{BASE}/CodeSystem/{instrument_id}-scales"


def flag_system(instrument_id: str) -> str:
    """The code system of an instrument's cut-off flags (code = the flag)."""
    return f"{BASE}/CodeSystem/{instrument_id}-flags"


def answer_code(value: float) -> str:
    """The code of an answer value: ``4.0`` is ``"4"``, ``0.5`` is ``"0.5"``."""
    x = float(value)
    return str(int(x)) if x.is_integer() else repr(x)


def parse_canonical(canonical: str) -> tuple[str, str] | None:
    """``(id, version)`` from one of our Questionnaire canonicals (version may be ``""``);
    ``None`` for any other URL."""
    url, _, version = canonical.partition("|")
    prefix = f"{BASE}/Questionnaire/"
    if not url.startswith(prefix):
        return None
    ident = url[len(prefix) :]
    # Only an instrument id and version are taken from data, never a path: an id that
    # ends in .toml would be read as a file name by load_instrument.
    if not _ID.fullmatch(ident) or ident.casefold().endswith(".toml"):
        return None
    if version and not _VERSION.fullmatch(version):
        return None
    return ident, version
