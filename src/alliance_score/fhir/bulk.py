"""Many QuestionnaireResponses at once: FHIR bulk data (NDJSON) or a Bundle.

:func:`score_bulk` reads a binary stream and yields one :class:`BulkItem` per
QuestionnaireResponse, in input order: its Observation, or the coded problems that kept it
from being scored. Nothing is lost and nothing stops the run but an unreadable stream:

* NDJSON (one resource per line): a line that is not JSON, not a QuestionnaireResponse, or
  longer than :data:`~alliance_score.fhir.MAX_RESPONSE_BYTES` is a ``not_a_response``
  item; a line holding a Bundle contributes its entries.
* A Bundle (one JSON document, at most :data:`MAX_BUNDLE_BYTES`): each entry's
  ``resource``.

Resources of other types (a Patient in a transaction Bundle) are skipped and counted.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, Any, Final

from ..errors import (
    DataError,
    Problem,
    ProblemCode,
    ProvisionalScaleError,
    UnknownInstrumentError,
    UnreadableFileError,
)
from ..frame import OnInvalid
from ..instrument import Instrument
from ..response import ScoreResult
from ..scoring import Status
from .observation import observation
from .response import MAX_RESPONSE_BYTES, parse_response, score_questionnaire_response

__all__ = ["MAX_BUNDLE_BYTES", "BulkItem", "score_bulk"]

MAX_BUNDLE_BYTES: Final = 64 << 20
"""Largest Bundle read as one JSON document (64 MiB); larger inputs belong in NDJSON."""


@dataclass(frozen=True)
class BulkItem:
    """One QuestionnaireResponse of a bulk input and what became of it."""

    row: int
    """0-based position among the responses of the input."""
    line: int | None
    """1-based NDJSON line it was read from (``None`` in a Bundle)."""
    resource_id: str | None
    result: ScoreResult | None
    """``None`` when the response could not be read or its questionnaire is unknown."""
    observation: dict[str, Any] | None
    """``None`` when the response was not scored (unreadable, unknown, ``invalid``)."""
    problems: tuple[Problem, ...]


@dataclass
class _Counts:
    skipped: int = 0
    resource_types: dict[str, int] = field(default_factory=dict)


def score_bulk(
    stream: IO[bytes],
    *,
    instrument: Instrument | str | None = None,
    missing_codes: Sequence[float | str] = (),
    labels: bool = False,
    on_invalid: OnInvalid = "reject",
    allow_provisional: bool = False,
    skipped: list[str] | None = None,
) -> Iterator[BulkItem]:
    """Score every QuestionnaireResponse in an NDJSON or Bundle stream.

    ``skipped``, when given, collects the ``resourceType`` of every resource of another
    type that was passed over.

    Raises
    ------
    UnreadableFileError
        When the input is one JSON document that is not valid JSON or a Bundle larger
        than :data:`MAX_BUNDLE_BYTES`.
    """
    options: dict[str, Any] = {
        "instrument": instrument,
        "missing_codes": missing_codes,
        "labels": labels,
        "on_invalid": on_invalid,
        "allow_provisional": allow_provisional,
    }
    row = 0
    for line, record in _records(stream):
        if isinstance(record, Problem):
            yield BulkItem(row, line, None, None, None, (_at(record, row),))
            row += 1
            continue
        kind = record.get("resourceType")
        if kind != "QuestionnaireResponse":
            if skipped is not None:
                skipped.append(str(kind)[:40] if isinstance(kind, str) else "(none)")
            continue
        yield _score_one(record, row, line, options)
        row += 1


def _score_one(
    resource: Mapping[str, Any], row: int, line: int | None, options: dict[str, Any]
) -> BulkItem:
    raw_id = resource.get("id")
    rid = raw_id[:64] if isinstance(raw_id, str) else None
    try:
        parsed = parse_response(resource)
    except DataError as exc:
        problem = _record(ProblemCode.NOT_A_RESPONSE, str(exc))
        return BulkItem(row, line, rid, None, None, (_at(problem, row, rid),))
    try:
        result = score_questionnaire_response(parsed, **options)
    except (UnknownInstrumentError, DataError) as exc:
        # no questionnaire named, an unknown one, or another than --instrument
        problem = _record(ProblemCode.UNKNOWN_QUESTIONNAIRE, str(exc))
        return BulkItem(row, line, rid, None, None, (_at(problem, row, rid),))
    except ProvisionalScaleError as exc:
        # responses to several instruments: one whose scales are all provisional
        problem = _record(ProblemCode.PROVISIONAL_ONLY, str(exc))
        return BulkItem(row, line, rid, None, None, (_at(problem, row, rid),))
    problems = tuple(_at(p, row, rid) for p in result.problems)
    obs = None if result.status is Status.INVALID else observation(result, response=parsed)
    return BulkItem(row, line, rid, result, obs, problems)


def _record(code: ProblemCode, message: str) -> Problem:
    return Problem(row=None, column=None, item=None, value=None, code=code, message=message)


def _at(problem: Problem, row: int, rid: str | None = None) -> Problem:
    """A problem placed at the response's position, with its id as the index."""
    return problem.model_copy(update={"row": row, "index": rid})


def _records(stream: IO[bytes]) -> Iterator[tuple[int | None, dict[str, Any] | Problem]]:
    """(line, resource or problem) for each record of the stream, in order."""
    first = stream.readline(MAX_RESPONSE_BYTES + 1)
    document = first.strip()
    if document.startswith(b"{") and not _complete(document):
        # a pretty-printed JSON document (a Bundle or one response) spanning lines, or
        # NDJSON whose first line is broken: read as a document if it is one
        data = first + stream.read(MAX_BUNDLE_BYTES + 1 - len(first))
        value = _json(data) if len(data) <= MAX_BUNDLE_BYTES else None
        if value is not None or document == b"{" or len(data) > MAX_BUNDLE_BYTES:
            yield from _document(data, value)
            return
        stream = io.BytesIO(data)
        first = stream.readline(MAX_RESPONSE_BYTES + 1)
    line = 0
    chunk = first
    while chunk:
        line += 1
        if len(chunk) > MAX_RESPONSE_BYTES and not chunk.endswith(b"\n"):
            while chunk and not chunk.endswith(b"\n"):  # skip the rest of the long line
                chunk = stream.readline(1 << 20)
            yield (
                line,
                _record(
                    ProblemCode.NOT_A_RESPONSE,
                    f"Line {line} is longer than {MAX_RESPONSE_BYTES} bytes; it is not read.",
                ),
            )
        elif chunk.strip():
            yield from _line(line, chunk)
        chunk = stream.readline(MAX_RESPONSE_BYTES + 1)


def _complete(text: bytes) -> bool:
    return _json(text) is not None


def _json(text: bytes) -> Any:
    """The JSON value of ``text``, or ``None`` when it is not valid JSON."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


def _line(line: int, text: bytes) -> Iterator[tuple[int | None, dict[str, Any] | Problem]]:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        yield line, _record(ProblemCode.NOT_A_RESPONSE, f"Line {line} is not valid JSON.")
        return
    if not isinstance(value, dict):
        yield (
            line,
            _record(
                ProblemCode.NOT_A_RESPONSE, f"Line {line} is not a JSON object (a FHIR resource)."
            ),
        )
        return
    if value.get("resourceType") == "Bundle":
        for resource in _entries(value):
            yield line, resource
        return
    yield line, value


def _document(data: bytes, value: Any) -> Iterator[tuple[int | None, dict[str, Any] | Problem]]:
    if len(data) > MAX_BUNDLE_BYTES:
        raise UnreadableFileError(
            f"The input is one JSON document larger than {MAX_BUNDLE_BYTES} bytes; write "
            "large inputs as NDJSON (one resource per line)."
        )
    if value is None:
        raise UnreadableFileError(
            "The input is neither NDJSON (one resource per line) nor one valid JSON document."
        )
    if not isinstance(value, dict):  # pragma: no cover - a text starting with { is an object
        raise UnreadableFileError("The input is not a JSON object (a Bundle or a resource).")
    if value.get("resourceType") == "Bundle":
        for resource in _entries(value):
            yield None, resource
        return
    yield None, value


def _entries(bundle: dict[str, Any]) -> Iterator[dict[str, Any] | Problem]:
    entries = bundle.get("entry")
    if entries is None:
        return
    if not isinstance(entries, list):
        yield _record(ProblemCode.NOT_A_RESPONSE, "The Bundle's entry is not a list.")
        return
    for k, entry in enumerate(entries):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if isinstance(resource, dict):
            yield resource
        else:
            yield _record(ProblemCode.NOT_A_RESPONSE, f"Bundle entry {k} holds no resource.")
