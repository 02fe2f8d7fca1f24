"""Reading a FHIR R4 ``QuestionnaireResponse`` and scoring it.

The response is read with small pydantic models of the few elements used (unknown
elements are ignored, as FHIR readers do), its answers are turned into raw answers keyed
by item id, and those are scored by the same code as
:func:`~alliance_score.score_response`. What is wrong with an answer is a coded
:class:`~alliance_score.errors.Problem`; only a document that is not a readable
``QuestionnaireResponse`` at all, or names a questionnaire that cannot be found, raises.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
)

from ..errors import DataError, Problem, ProblemCode, UnknownInstrumentError
from ..frame import OnInvalid
from ..instrument import Instrument
from ..registry import list_instruments, load_instrument
from ..response import ScoreResult, score_answers
from . import _codes as c
from .questionnaire import answer_values

__all__ = [
    "MAX_DEPTH",
    "MAX_ITEMS",
    "MAX_RESPONSE_BYTES",
    "QuestionnaireResponse",
    "ResponseContext",
    "parse_context",
    "parse_response",
    "read_answers",
    "score_questionnaire_response",
]

MAX_RESPONSE_BYTES: Final = 1 << 20
"""Largest QuestionnaireResponse read from JSON text (1 MiB; a 36-item form is ~10 kB)."""
MAX_DEPTH: Final = 32
"""Deepest nesting of items (groups within groups) that is read."""
MAX_ITEMS: Final = 10_000
"""Most items (at every level) read from one response."""
COMPLETE_STATUSES: Final = frozenset({"completed", "amended"})
_Parsed = TypeVar("_Parsed", bound=BaseModel)


class _In(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Identifier(_In):
    system: StrictStr | None = None
    value: StrictStr | None = None


class Reference(_In):
    """A FHIR ``Reference``: only these elements are read and copied to the Observation."""

    reference: StrictStr | None = None
    type: StrictStr | None = None
    identifier: Identifier | None = None
    display: StrictStr | None = None


class Extension(_In):
    url: StrictStr
    valueDecimal: StrictFloat | StrictInt | None = None  # noqa: N815 - FHIR element name
    valueInteger: StrictInt | None = None  # noqa: N815


class Coding(_In):
    system: StrictStr | None = None
    code: StrictStr | None = None
    display: StrictStr | None = None
    extension: tuple[Extension, ...] = ()


class Answer(BaseModel):
    """One ``answer``: ``valueCoding`` is read as a :class:`Coding` when it is one; every
    other ``value[x]`` element is kept as given (in ``model_extra``) and checked when the
    answer is read, so that a wrong type is a coded problem, not a refused document."""

    model_config = ConfigDict(extra="allow", frozen=True)

    valueCoding: Coding | Any = Field(default=None, union_mode="left_to_right")  # noqa: N815
    item: tuple[ResponseItem, ...] = ()


class ResponseItem(_In):
    linkId: StrictStr  # noqa: N815
    answer: tuple[Answer, ...] = ()
    item: tuple[ResponseItem, ...] = ()


class ResponseContext(_In):
    """What an Observation takes from its QuestionnaireResponse: everything but answers."""

    resourceType: Literal["QuestionnaireResponse"]  # noqa: N815
    id: StrictStr | None = None
    questionnaire: StrictStr | None = None
    status: StrictStr
    subject: Reference | None = None
    encounter: Reference | None = None
    authored: StrictStr | None = None
    author: Reference | None = None
    source: Reference | None = None


class QuestionnaireResponse(ResponseContext):
    """The elements of a FHIR R4 ``QuestionnaireResponse`` that scoring uses."""

    item: tuple[ResponseItem, ...] = ()


Answer.model_rebuild()


def parse_response(qr: object) -> QuestionnaireResponse:
    """Read a QuestionnaireResponse given as a dict, JSON text or bytes.

    Raises
    ------
    DataError
        When the input is not JSON, is larger than :data:`MAX_RESPONSE_BYTES`, is not a
        ``QuestionnaireResponse`` or breaks its structure (a ``linkId`` that is not text,
        items nested deeper than :data:`MAX_DEPTH`). The message names the element, never
        an answer.
    """
    if isinstance(qr, QuestionnaireResponse):
        return qr
    last = _last_text
    if last is not None and last[0] is qr:
        return last[1]
    parsed = _validate(QuestionnaireResponse, _document(qr))
    _check_size(parsed)
    _remember_text(qr, parsed)
    return parsed


def parse_context(qr: object) -> ResponseContext:
    """The subject, encounter, dates and authors of a response, without reading its
    answers (what :func:`~alliance_score.fhir.observation` copies). Raises as
    :func:`parse_response` does."""
    if isinstance(qr, ResponseContext):
        return qr
    last = _last_text
    if last is not None and last[0] is qr:
        return last[1]
    return _validate(ResponseContext, _document(qr))


_last_text: tuple[object, QuestionnaireResponse] | None = None


def _remember_text(qr: object, parsed: QuestionnaireResponse) -> None:
    """Keep the last response read from text (immutable), so that scoring it and then
    making its Observation reads the JSON once."""
    global _last_text
    if isinstance(qr, str | bytes):
        _last_text = (qr, parsed)


def _document(qr: object) -> Mapping[str, Any]:
    if isinstance(qr, str | bytes | bytearray):
        if len(qr) > MAX_RESPONSE_BYTES:
            raise DataError(
                f"The QuestionnaireResponse is larger than {MAX_RESPONSE_BYTES} bytes; "
                "it is not read."
            )
        try:
            qr = json.loads(qr)
        except (ValueError, RecursionError) as exc:
            raise DataError("The QuestionnaireResponse is not valid JSON.") from exc
    if not isinstance(qr, Mapping):
        raise DataError(f"A QuestionnaireResponse must be a JSON object; got {type(qr).__name__}.")
    if qr.get("resourceType") != "QuestionnaireResponse":
        kind = qr.get("resourceType")
        shown = repr(kind[:40]) if isinstance(kind, str) else "none"
        raise DataError(f"Expected a QuestionnaireResponse; the resourceType is {shown}.")
    return qr


def _validate(model: type[_Parsed], document: Mapping[str, Any]) -> _Parsed:
    try:
        return model.model_validate(document)
    except (ValidationError, RecursionError) as exc:
        raise DataError(_describe(exc)) from exc


def _describe(exc: Exception) -> str:
    if not isinstance(exc, ValidationError):
        return "The QuestionnaireResponse is nested too deeply to be read."
    first = exc.errors(include_url=False, include_input=False)[0]
    where = ".".join(str(p) for p in first["loc"]) or "<root>"
    return (
        f"The QuestionnaireResponse is malformed: {where}: {first['msg']} "
        f"({exc.error_count()} error(s))."
    )


def _check_size(qr: QuestionnaireResponse) -> None:
    """Refuse responses nested deeper than MAX_DEPTH or with more than MAX_ITEMS items."""
    count = 0
    stack: list[tuple[ResponseItem, int]] = [(item, 1) for item in qr.item]
    while stack:
        item, depth = stack.pop()
        count += 1
        if depth > MAX_DEPTH or count > MAX_ITEMS:
            raise DataError(
                f"The QuestionnaireResponse has items nested deeper than {MAX_DEPTH} levels "
                f"or more than {MAX_ITEMS} items; it is not read."
            )
        stack += [(child, depth + 1) for child in item.item]
        for answer in item.answer:
            stack += [(child, depth + 1) for child in answer.item]


@dataclass
class ReadAnswers:
    """Raw answers keyed by item id, and the problems found while reading them."""

    answers: dict[str, Any] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


def read_answers(
    qr: QuestionnaireResponse, ins: Instrument, *, labels: bool = False
) -> ReadAnswers:
    """The answers of a response to ``ins``'s Questionnaire, as raw values by item id.

    ``valueInteger`` and ``valueDecimal`` are taken as numbers; ``valueCoding`` by its
    code in the instrument's answer code system, else by an ``itemWeight`` or
    ``ordinalValue`` extension, else (with ``labels``) by its display as an anchor label;
    ``valueString`` only with ``labels``. Groups and nested items are walked by
    ``linkId``; the calculated ``scale:*`` items are ignored. The values are then checked
    by the cell rules like any other answer.
    """
    out = ReadAnswers()
    reader = _Reader(ins, labels, out)
    if qr.status not in COMPLETE_STATUSES:
        out.problems.append(
            _problem(
                None,
                qr.status[:40],
                ProblemCode.RESPONSE_STATUS,
                f"The QuestionnaireResponse has status {qr.status[:40]!r}; only 'completed' "
                "or 'amended' responses are final (on_invalid='missing' scores it anyway).",
            )
        )
    reader.walk(qr.item)
    return out


@dataclass(frozen=True)
class _Vocabulary:
    """What reading answers needs to know of one instrument, worked out once."""

    instrument: Instrument
    item_ids: frozenset[str]
    system: str
    codes: dict[str, float]


_vocabularies: dict[int, _Vocabulary] = {}


def _vocabulary(ins: Instrument) -> _Vocabulary:
    known = _vocabularies.get(id(ins))
    if known is None or known.instrument is not ins:
        likert = ins.response.kind == "likert"
        codes = {c.answer_code(v): v for v in answer_values(ins)} if likert else {}
        known = _Vocabulary(ins, frozenset(ins.item_ids), c.answer_system(ins), codes)
        if len(_vocabularies) >= 256:
            _vocabularies.clear()
        _vocabularies[id(ins)] = known
    return known


class _Reader:
    def __init__(self, ins: Instrument, labels: bool, out: ReadAnswers) -> None:
        vocabulary = _vocabulary(ins)
        self.ins = ins
        self.labels = labels
        self.out = out
        self.item_ids = vocabulary.item_ids
        self.system = vocabulary.system
        self.codes = vocabulary.codes
        self.answered: dict[str, int] = {}
        self.conflicted: set[str] = set()

    def walk(self, items: Sequence[ResponseItem]) -> None:
        for item in items:
            link = item.linkId
            if link == c.SCALES_GROUP or link.startswith(c.SCALE_PREFIX):
                continue  # our calculated items: the form filler's scores are not read
            if item.answer:
                if link in self.item_ids:
                    self.take(link, item.answer)
                else:
                    self.out.problems.append(
                        _problem(
                            link,
                            None,
                            ProblemCode.UNKNOWN_ITEM,
                            f"An answer is given for linkId {link[:40]!r}, which the "
                            f"Questionnaire of {self.ins.ref} does not have (its items are "
                            f"{', '.join(self.ins.item_ids)}).",
                        )
                    )
            if item.item:
                self.walk(item.item)
            for answer in item.answer:
                if answer.item:
                    self.walk(answer.item)

    def take(self, link: str, answers: Sequence[Answer]) -> None:
        seen = self.answered.get(link, 0) + len(answers)
        self.answered[link] = seen
        if seen > 1:
            if link not in self.conflicted:  # one problem per item, however many answers
                self.conflicted.add(link)
                self.out.answers.pop(link, None)
                self.out.problems.append(
                    _problem(
                        link,
                        None,
                        ProblemCode.SEVERAL_ANSWERS,
                        f"Item {link!r} is answered more than once; it takes one answer.",
                    )
                )
            return
        value = self.value(link, answers[0])
        if value is not None:
            self.out.answers[link] = value

    def value(self, link: str, answer: Answer) -> Any:
        given = {k: v for k, v in (answer.model_extra or {}).items() if k.startswith("value")}
        if answer.valueCoding is not None:
            given["valueCoding"] = answer.valueCoding
        if not given:
            return None
        if len(given) > 1:
            return self.wrong(link, "/".join(sorted(given)), "has several value[x] elements")
        ((kind, value),) = given.items()
        if kind == "valueInteger":
            if isinstance(value, int) and not isinstance(value, bool):
                return _number(value)
            return self.wrong(link, kind, "must hold an integer")
        if kind == "valueDecimal":
            if isinstance(value, int | float) and not isinstance(value, bool):
                return _number(value)
            return self.wrong(link, kind, "must hold a number")
        if kind == "valueString":
            if not isinstance(value, str):
                return self.wrong(link, kind, "must hold text")
            if not self.labels:
                return self.wrong(
                    link, kind, "is read only with labels=True (an anchor label as text)"
                )
            return value
        if kind == "valueCoding":
            return self.coding(link, value)
        return self.wrong(link, kind, "cannot hold an answer to this item")

    def coding(self, link: str, coding: object) -> Any:
        if not isinstance(coding, Coding):
            return self.wrong(link, "valueCoding", "is not a valid Coding")
        if coding.system == self.system and coding.code in self.codes:
            return self.codes[coding.code]
        for ext in coding.extension:
            if ext.url in (c.ITEM_WEIGHT, c.ORDINAL_VALUE):
                weight = ext.valueDecimal if ext.valueDecimal is not None else ext.valueInteger
                if weight is not None:
                    return _number(weight)
        if self.labels and coding.display is not None:
            return coding.display
        shown = f"{(coding.system or '')[:80]}|{(coding.code or '')[:40]}"
        if coding.system == self.system:
            why = f"code {(coding.code or '')[:40]!r} is not in the code system {self.system}"
        else:
            why = (
                f"it is from the code system {(coding.system or 'none')[:80]!r}, not "
                f"{self.system}, and carries no itemWeight or ordinalValue"
            )
        self.out.problems.append(
            _problem(
                link,
                shown,
                ProblemCode.UNKNOWN_CODING,
                f"The coded answer to item {link!r} cannot be scored: {why}.",
            )
        )
        return None

    def wrong(self, link: str, kind: str, why: str) -> None:
        self.out.problems.append(
            _problem(
                link,
                kind,
                ProblemCode.WRONG_TYPE,
                f"The answer to item {link!r} cannot be scored: {kind} {why}.",
            )
        )


def _problem(item: str | None, value: str | None, code: ProblemCode, message: str) -> Problem:
    return Problem(
        row=0,
        index="0",
        column=item[:200] if item is not None else None,
        item=item[:200] if item is not None else None,
        value=value,
        code=code,
        message=message,
    )


def resolve_instrument(
    qr: QuestionnaireResponse, instrument: Instrument | str | None = None
) -> Instrument:
    """The instrument a response answers: ``instrument`` if given (it must agree with the
    response's ``questionnaire``), else the one its ``questionnaire`` canonical names."""
    canonical = qr.questionnaire
    shown = None if canonical is None else canonical[:200]
    if instrument is not None:
        ins = load_instrument(instrument)
        if canonical is not None:
            named = c.parse_canonical(canonical)
            if named is None or named[0] != ins.id or named[1] not in ("", ins.version):
                raise DataError(
                    f"The QuestionnaireResponse answers the questionnaire {shown!r}, not "
                    f"{c.questionnaire_canonical(ins)!r}."
                )
        return ins
    if canonical is None:
        raise DataError(
            "The QuestionnaireResponse names no questionnaire; pass instrument= "
            "(--instrument) to say which instrument it answers."
        )
    named = c.parse_canonical(canonical)
    if named is None:
        available = sorted({s.id for s in list_instruments()})
        raise UnknownInstrumentError(str(shown), [], available)
    ident, version = named
    try:
        return load_instrument(f"{ident}@{version}" if version else ident)
    except UnknownInstrumentError as exc:
        raise UnknownInstrumentError(str(shown), exc.suggestions, exc.available) from exc


def score_questionnaire_response(
    qr: object,
    *,
    instrument: Instrument | str | None = None,
    scales: Sequence[str] | None = None,
    missing_codes: Sequence[float | str] = (),
    labels: bool = False,
    on_invalid: OnInvalid = "reject",
    allow_provisional: bool = False,
) -> ScoreResult:
    """Score a FHIR R4 ``QuestionnaireResponse`` (a dict, JSON text or bytes).

    The instrument is the one named by the response's ``questionnaire`` (our canonical
    ``https://alliance-score.github.io/fhir/Questionnaire/<id>``, with an optional
    ``|version``) unless ``instrument`` is given. Options are as in
    :func:`~alliance_score.score_response`.

    Problems in the answers are coded records in ``result.problems`` (an unknown
    ``linkId`` is ``unknown_item``; an item answered twice ``several_answers``; a coding
    from another system ``unknown_coding``; a wrong ``value[x]`` ``wrong_type``; a status
    other than ``completed``/``amended`` ``response_status``; values are checked by the
    same cell rules as every other input). Like invalid cells they make the result
    ``invalid`` unless ``on_invalid="missing"``. Build an ``OperationOutcome`` from them
    with :func:`~alliance_score.fhir.operation_outcome`.

    Raises
    ------
    DataError
        When ``qr`` is not a readable QuestionnaireResponse (see :func:`parse_response`)
        or names another questionnaire than ``instrument``.
    UnknownInstrumentError
        When the questionnaire it names is not known (the message names it).

    Examples
    --------
    >>> from alliance_score import fhir
    >>> qr = {"resourceType": "QuestionnaireResponse", "status": "completed",
    ...       "questionnaire": "https://alliance-score.github.io/fhir/Questionnaire/srs|3.0",
    ...       "item": [{"linkId": k, "answer": [{"valueDecimal": 9.1}]}
    ...                for k in ("relationship", "goals", "approach", "overall")]}
    >>> r = fhir.score_questionnaire_response(qr)
    >>> r.instrument_id, r.scores, r.status.value
    ('srs', {'total': 36.4}, 'complete')
    """
    parsed = parse_response(qr)
    ins = resolve_instrument(parsed, instrument)
    read = read_answers(parsed, ins, labels=labels)
    result = score_answers(
        ins,
        read.answers,
        scales=scales,
        missing_codes=missing_codes,
        labels=labels,
        on_invalid=on_invalid,
        allow_provisional=allow_provisional,
        extra_problems=read.problems,
    )
    _remember(ins)
    return result


_known: dict[str, Instrument] = {}


def _remember(ins: Instrument) -> None:
    """Keep the definition that scored a result, so its Observation can name its scales."""
    if len(_known) >= 256:
        _known.clear()
    _known[ins.content_hash] = ins


def known_definition(result: ScoreResult) -> Instrument | None:
    """The definition that scored ``result``, when it can be found with the same hash."""
    ins = _known.get(result.definition_hash)
    if ins is not None:
        return ins
    ref = (
        result.definition_origin
        if result.definition_origin.endswith(".toml")
        else f"{result.instrument_id}@{result.instrument_version}"
    )
    try:
        ins = load_instrument(ref)
    except (UnknownInstrumentError, DataError, OSError, ValueError):
        return None
    if ins.content_hash != result.definition_hash:
        return None
    _remember(ins)
    return ins


def _number(value: int | float) -> int | float:
    """A JSON number as an answer; an integer too large for a float is infinite (a
    ``not_finite`` problem) rather than an overflow."""
    if isinstance(value, int) and abs(value) > 1 << 53:
        try:
            return float(value)
        except OverflowError:
            return math.inf if value > 0 else -math.inf
    return value
