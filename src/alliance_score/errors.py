"""Exceptions, stable problem codes and the problem record.

Two kinds of trouble are kept apart:

* **Exceptions** stop a call: a bad instrument definition, an unknown instrument id, data
  that cannot be mapped to an instrument's items, a file that cannot be read. All derive
  from :class:`AllianceScoreError`.
* **Problems** are findings about individual cells or rows of otherwise usable data (a
  value out of range, text where a number belongs). They never stop a call: they are
  collected as :class:`Problem` records, every one of them, and the rest of the data is
  still scored.

Codes are stable and machine-readable; tests and callers should rely on the code, never
on the wording of a message.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

__all__ = [
    "AllianceScoreError",
    "AllianceScoreWarning",
    "ArgumentError",
    "ColumnMappingError",
    "DataError",
    "InstrumentDefinitionError",
    "MissingDependencyError",
    "OutputError",
    "Problem",
    "ProblemCode",
    "ProvisionalScaleError",
    "UnknownInstrumentError",
    "UnknownScaleError",
    "UnreadableFileError",
]


class ProblemCode(StrEnum):
    """Stable codes for problems found in response data."""

    NOT_A_NUMBER = "not_a_number"
    """A cell holds text that is neither a number, a missing token nor an allowed label."""
    NOT_ALLOWED_VALUE = "not_allowed_value"
    """A number inside the range that the response scale does not allow (``4.5`` on a
    Likert item, ``3.25`` on a VAS item recorded to 0.1)."""
    OUT_OF_RANGE = "out_of_range"
    """A number outside the response scale's ``min``..``max``."""
    NOT_FINITE = "not_finite"
    """An infinite value."""
    WRONG_TYPE = "wrong_type"
    """A cell of a type that cannot hold an answer (a boolean, a date, a list)."""
    UNKNOWN_ITEM = "unknown_item"
    """An answer given for an item id the instrument does not have."""
    SEVERAL_ANSWERS = "several_answers"
    """A FHIR QuestionnaireResponse answers a single-answer item more than once."""
    UNKNOWN_CODING = "unknown_coding"
    """A FHIR coded answer from another code system, or a code the system does not have."""
    RESPONSE_STATUS = "response_status"
    """A FHIR QuestionnaireResponse whose status is not ``completed`` or ``amended``."""
    NOT_A_RESPONSE = "not_a_response"
    """A record of a FHIR input that is not a readable QuestionnaireResponse."""
    UNKNOWN_QUESTIONNAIRE = "unknown_questionnaire"
    """A FHIR QuestionnaireResponse for a questionnaire no known definition has."""
    PROVISIONAL_ONLY = "provisional_only"
    """A response to an instrument whose every scale is provisional, scored in bulk
    without ``allow_provisional``."""
    DUPLICATE_ROW = "duplicate_row"
    """Two rows share the same identifiers (reported, never dropped)."""
    RAGGED_LINE = "ragged_line"
    """A line of a delimited file with more or fewer fields than its header."""
    UNDECODABLE = "undecodable"
    """A cell of a text file holds bytes that are not valid in the file's encoding; they
    are read as U+FFFD and every other cell is read intact."""


class Problem(BaseModel):
    """One problem found in the data: where it is, what was found and which rule it broke.

    ``row`` is the row's 0-based position in the data; ``index`` is its index label, kept
    for the caller but never written into ``message`` (it may be a respondent id).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    row: int | None
    index: str | None = None
    column: str | None
    item: str | None
    value: str | None
    code: ProblemCode
    message: str


class AllianceScoreError(Exception):
    """Root of every exception raised by alliance-score."""


class AllianceScoreWarning(UserWarning):
    """Root of the warnings alliance-score gives (the command line prints them as one
    ``alliance-score: warning:`` line each)."""


class InstrumentDefinitionError(AllianceScoreError, ValueError):
    """An instrument definition file is malformed or breaks a rule of the format.

    ``errors`` lists every problem found, each as ``(field path, message, value)``.
    """

    def __init__(
        self, source: str, errors: Sequence[tuple[str, str, object]], *, hint: str = ""
    ) -> None:
        self.source = source
        self.errors = list(errors)
        lines = [f"Invalid instrument definition {source}: {len(self.errors)} problem(s)"]
        for path, msg, value in self.errors:
            shown = repr(value)
            if len(shown) > 80:
                shown = shown[:77] + "..."
            lines.append(f"  - {path or '<root>'}: {msg} (got {shown})")
        if hint:
            lines.append(hint)
        super().__init__("\n".join(lines))


class UnknownInstrumentError(AllianceScoreError, LookupError):
    """No instrument with the requested id (or id and version) can be found."""

    def __init__(
        self,
        requested: str,
        suggestions: Sequence[str],
        available: Sequence[str],
        *,
        missing_file: str | None = None,
    ):
        self.requested = requested
        self.suggestions = list(suggestions)
        self.available = list(available)
        if missing_file is not None:  # a path was given: the catalogue is beside the point
            super().__init__(
                f"Cannot load the instrument definition {requested!r}: {missing_file}."
            )
            return
        msg = f"Unknown instrument {requested!r}."
        if self.suggestions:
            msg += " Did you mean: " + ", ".join(repr(s) for s in self.suggestions) + "?"
        msg += " Available: " + (", ".join(self.available) or "none") + "."
        super().__init__(msg)

    def __str__(self) -> str:
        return str(self.args[0])


class UnknownScaleError(AllianceScoreError, KeyError):
    """An instrument has no scale with the requested id; the message names the closest ids."""

    def __str__(self) -> str:
        return str(self.args[0])


class DataError(AllianceScoreError, ValueError):
    """The data as a whole cannot be scored (as opposed to problems in single cells)."""


class ArgumentError(DataError, TypeError):
    """An argument of a library function has a wrong type or value; the message names it.

    A :class:`DataError` (and so a ``ValueError``) and a ``TypeError``, so that code that
    caught either before keeps working.
    """


class ColumnMappingError(DataError):
    """The data's columns cannot be matched unambiguously to the instrument's items."""


class ProvisionalScaleError(AllianceScoreError, ValueError):
    """A provisional scale (or cut-off) was requested without ``allow_provisional=True``."""


class UnreadableFileError(AllianceScoreError, OSError):
    """An input file cannot be opened, decoded or parsed."""


class OutputError(UnreadableFileError):
    """An output cannot be written (disk full, a closed pipe, a cell the format cannot
    hold); nothing half-written is left and an older file of the same name is intact.
    (A subclass of :class:`UnreadableFileError`, which such failures raised before.)"""


class MissingDependencyError(AllianceScoreError, ImportError):
    """An optional dependency is needed for this feature; the message names the extra."""

    def __init__(self, feature: str, package: str, extra: str) -> None:
        super().__init__(
            f"{feature} needs the optional package {package!r}: "
            f"pip install 'alliance-score[{extra}]'"
        )
