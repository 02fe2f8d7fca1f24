"""One administration: the :class:`Response` model and :func:`score_response`.

A single response is a batch of one under the same rules: its answers are read by the same
cell rules as :func:`score_frame` (one number at a time) and scored by
:func:`~alliance_score.scoring.score_row`, the kernel's one-row form, without a DataFrame
or numpy arrays. Property tests show that ``score_row`` gives bit for bit what
:func:`~alliance_score.scoring.score_matrix` gives, and that the whole path gives what
:func:`score_frame` gives.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Final, cast

import numpy as np
import pandas as pd
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictFloat,
    StrictInt,
    StrictStr,
    StringConstraints,
)

from ._version import __version__
from .errors import DataError, Problem, ProblemCode, UnknownInstrumentError
from .frame import OnInvalid, _message, cell_text, score_frame
from .instrument import Instrument, Scale
from .parsing import _OK, CODES, CellRules
from .registry import INSTRUMENT_REF, resolve_instrument
from .scoring import Status, provisional_ids, score_row, select_scales

__all__ = ["Answer", "Response", "ScoreResult", "score_answers", "score_response"]

Answer = StrictInt | StrictFloat | StrictStr | None
"""An answer as given: a number, text (parsed by the cell rules) or None for missing.
Strict, so that a boolean is refused rather than read as 1."""


class Response(BaseModel):
    """One administration of an instrument: answers keyed by item id."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    instrument: Annotated[str, StringConstraints(pattern=INSTRUMENT_REF)] | None = Field(
        default=None,
        description="Instrument id (or id@version) the answers belong to; never a path.",
    )
    answers: dict[str, Answer]
    administered_at: datetime | None = None


class ScoreResult(BaseModel):
    """The scores of one administration, with everything needed to cite them."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    instrument_id: str
    instrument_version: str
    definition_origin: str = "<model>"
    """Where the scoring definition came from: ``"shipped"`` or the file it was read from."""
    definition_hash: str = ""
    """``sha256:<hex>`` of the scoring definition (see ``Instrument.content_hash``)."""
    library_version: str
    status: Status
    scores: dict[str, float | None]
    n_answered: dict[str, int]
    prorated: dict[str, bool]
    flags: dict[str, bool | None]
    provisional: tuple[str, ...]
    """Scales and flags in this result that are provisional (scored only on request)."""
    problems: tuple[Problem, ...]

    def __repr__(self) -> str:
        """One line: instrument, status, scores, flags, problems.

        >>> from alliance_score import score_response
        >>> score_response("srs", {"relationship": 9.1, "goals": 8.9, "approach": 9,
        ...                        "overall": 9})
        ScoreResult(srs@3.0, complete, total=36, 0 problems)
        """
        scores = ", ".join(
            f"{k}={'NA' if v is None else f'{v:.4g}'}" for k, v in self.scores.items()
        )
        flags = ", ".join(f"{k}={'NA' if v is None else v}" for k, v in self.flags.items())
        parts = [f"{self.instrument_id}@{self.instrument_version}", self.status.value]
        parts += [p for p in (scores, flags) if p]
        if self.provisional:
            parts.append(f"provisional: {', '.join(self.provisional)}")
        parts.append(f"{len(self.problems)} problem{'' if len(self.problems) == 1 else 's'}")
        return f"ScoreResult({', '.join(parts)})"

    __str__ = __repr__

    def _repr_html_(self) -> str:
        """A compact table for notebooks (see ``alliance_score._html``)."""
        from ._html import score_result_html

        return score_result_html(self)


def score_response(
    instrument: Instrument | str,
    answers: Response | Mapping[str, Answer],
    *,
    scales: Sequence[str] | None = None,
    missing_codes: Sequence[float | str] = (),
    labels: bool = False,
    on_invalid: OnInvalid = "reject",
    allow_provisional: bool = False,
) -> ScoreResult:
    """Score one administration given as item id -> answer.

    Items without an answer count as missing. An answer for an item id the instrument
    does not have is a problem (``unknown_item``) that makes the response invalid
    (or is ignored with ``on_invalid="missing"``, still reported). Other options are as
    in :func:`~alliance_score.score_frame`.

    Examples
    --------
    >>> from alliance_score import score_response
    >>> r = score_response("srs", {"relationship": 9.1, "goals": 8.9,
    ...                            "approach": "9.0", "overall": 9})
    >>> r.scores, r.status.value
    ({'total': 36.0}, 'complete')
    >>> r = score_response("srs", {"relationship": 9.1, "goals": 8.9, "approach": 9.0},
    ...                    allow_provisional=True)
    >>> r.scores["total"], r.prorated["total"], r.flags, r.provisional
    (36.0, True, {'total_below_36': False}, ('total_below_36',))
    """
    ins = resolve_instrument(instrument)
    if isinstance(answers, Response):
        if answers.instrument is not None and not _names(answers.instrument, ins):
            raise DataError(
                f"The response is for instrument {answers.instrument!r}, not {ins.id!r}."
            )
        given: Mapping[str, Answer] = answers.answers
    elif isinstance(answers, Mapping):
        given = answers
    else:
        raise TypeError(f"answers must be a Response or a mapping; got {type(answers).__name__}")
    return score_answers(
        ins,
        given,
        scales=scales,
        missing_codes=missing_codes,
        labels=labels,
        on_invalid=on_invalid,
        allow_provisional=allow_provisional,
    )


def score_answers(
    ins: Instrument,
    given: Mapping[Any, Any],
    *,
    scales: Sequence[str] | None = None,
    missing_codes: Sequence[float | str] = (),
    labels: bool = False,
    on_invalid: OnInvalid = "reject",
    allow_provisional: bool = False,
    extra_problems: Sequence[Problem] = (),
) -> ScoreResult:
    """Score one administration of a loaded instrument (the engine of :func:`score_response`).

    Answers that are numbers, text or missing take the fast path: each is read by
    :meth:`CellRules.read` (the rules :func:`score_frame` applies, one answer at a
    time), and the row is scored by
    :func:`~alliance_score.scoring.score_row`, without building a DataFrame. Any other
    kind of value goes through :func:`score_frame` itself, so both give the same result.
    ``extra_problems`` (found by an adapter such as the FHIR reader) are added after the
    cell problems and, like unknown items, make the response invalid unless
    ``on_invalid="missing"``.
    """
    if on_invalid not in ("reject", "missing"):
        raise ValueError(f"on_invalid must be 'reject' or 'missing'; got {on_invalid!r}")
    chosen, cutoffs = select_scales(ins, scales, allow_provisional=allow_provisional)
    plan = _plan(ins, missing_codes, labels)
    parsed = _parse_fast(plan, given)
    if parsed is None:
        result = _score_with_frame(
            ins, given, chosen, missing_codes, labels, on_invalid, allow_provisional
        )
        kernel_status, scores, n_answered, prorated, flags, provisional, problems = result
    else:
        values, problems = parsed
        row = score_row(
            values,
            ins,
            scales=chosen,
            cutoffs=cutoffs,
            invalid=bool(problems) and on_invalid == "reject",
        )
        kernel_status = row.status
        ids = [s.id for s in row.scales]
        scores = dict(zip(ids, row.scores, strict=True))
        n_answered = dict(zip(ids, row.n_answered, strict=True))
        prorated = dict(zip(ids, row.prorated, strict=True))
        flags = {c.flag: fired for c, fired in zip(row.cutoffs, row.flags, strict=True)}
        provisional = provisional_ids(chosen, cutoffs)
    unknown = [k for k in given if k not in plan.positions]
    problems += [
        Problem(
            row=0,
            index="0",
            column=None,
            item=str(k),
            value=_text(given[k]),
            code=ProblemCode.UNKNOWN_ITEM,
            message=f"Answer given for item {k!r}, which {ins.ref} does not have "
            f"(its items are {', '.join(ins.item_ids)}).{_key_hint(k, ins)}",
        )
        for k in unknown
    ]
    problems += extra_problems
    status = kernel_status
    if (unknown or extra_problems) and on_invalid == "reject":
        status = Status.INVALID
    valid = status is not Status.INVALID
    return ScoreResult.model_construct(
        instrument_id=ins.id,
        instrument_version=ins.version,
        definition_origin=plan.origin,
        definition_hash=plan.content_hash,
        library_version=__version__,
        status=status,
        scores={s: (None if math.isnan(x) else x) if valid else None for s, x in scores.items()},
        n_answered=n_answered,
        prorated={s: p and valid for s, p in prorated.items()},
        flags={f: v if valid else None for f, v in flags.items()},
        provisional=provisional,
        problems=tuple(problems),
    )


@dataclass(frozen=True)
class _Plan:
    """What the fast path needs for one instrument and set of options."""

    instrument: Instrument
    rules: CellRules
    item_ids: tuple[str, ...]
    positions: frozenset[str]
    rule: str
    origin: str
    content_hash: str


_plans: dict[tuple[int, tuple[float | str, ...], bool], _Plan] = {}


def _plan(ins: Instrument, missing_codes: Sequence[float | str], labels: bool) -> _Plan:
    """The cell rules for ``ins`` under these options, built once and remembered."""
    key = (id(ins), tuple(missing_codes), labels)
    plan = _plans.get(key)
    if plan is None or plan.instrument is not ins:
        rules = CellRules.build(ins, missing_codes=missing_codes, labels=labels)
        plan = _Plan(
            ins,
            rules,
            ins.item_ids,
            frozenset(ins.item_ids),
            rules.describe(),
            ins.origin,
            ins.content_hash,
        )
        if len(_plans) >= 256:
            _plans.clear()
        _plans[key] = plan
    return plan


_FAST_TYPES: Final = frozenset({int, float, str})


def _parse_fast(plan: _Plan, given: Mapping[Any, Any]) -> tuple[list[float], list[Problem]] | None:
    """One row read by the cell rules: (values in item order, NaN = missing, problems).

    ``None`` when an answer is of a kind the fast path leaves to :func:`score_frame`.
    """
    rules = plan.rules
    values: list[float] = []
    problems: list[Problem] = []
    for item in plan.item_ids:
        raw = given.get(item)
        if raw is None:
            values.append(math.nan)
            continue
        if type(raw) not in _FAST_TYPES:
            return None
        try:
            value, code = rules.read(raw)
        except (OverflowError, ValueError):
            return None
        values.append(value)
        if code != _OK:
            problem_code = cast(ProblemCode, CODES[code])  # a nonzero code names a problem
            problems.append(
                Problem(
                    row=0,
                    index="0",
                    column=item,
                    item=item,
                    value=cell_text(raw),
                    code=problem_code,
                    message=_message(problem_code, item, item, 0, raw, plan.rule, rules),
                )
            )
    return values, problems


def _score_with_frame(
    ins: Instrument,
    given: Mapping[Any, Any],
    chosen: Sequence[Scale],
    missing_codes: Sequence[float | str],
    labels: bool,
    on_invalid: OnInvalid,
    allow_provisional: bool,
) -> tuple[
    Status,
    dict[str, float],
    dict[str, int],
    dict[str, bool],
    dict[str, bool | None],
    tuple[str, ...],
    list[Problem],
]:
    """The same row scored as a one-row DataFrame by :func:`score_frame`."""
    row = {item: given.get(item) for item in ins.item_ids}
    frame = pd.DataFrame([row], columns=list(ins.item_ids), dtype=object)
    result = score_frame(
        frame,
        ins,
        items={i: i for i in ins.item_ids},
        scales=[s.id for s in chosen],
        missing_codes=missing_codes,
        labels=labels,
        on_invalid=on_invalid,
        allow_provisional=allow_provisional,
        return_problems=True,
    )
    out = result.scores.iloc[0]
    ids = [s.id for s in chosen]
    cut_flags = [c.flag for c in ins.cutoffs if c.flag in result.scores.columns]
    return (
        Status(out["status"]),
        {s: float(out[s]) for s in ids},
        {s: int(out[f"{s}_n_answered"]) for s in ids},
        {s: bool(out[f"{s}_prorated"]) for s in ids},
        {f: _flag(out[f]) for f in cut_flags},
        result.provisional,
        result.problem_records(),
    )


def _names(ref: str, ins: Instrument) -> bool:
    """Whether a response's ``instrument`` (``id`` or ``id@version``) is ``ins``.

    The id is read from the text first, so a definition that is not on the search path
    (passed to :func:`score_response` as an :class:`Instrument`) matches responses naming
    it.
    """
    if ref.partition("@")[0] == ins.id:
        return True
    try:
        return resolve_instrument(ref).id == ins.id
    except UnknownInstrumentError:
        return False


def _key_hint(key: object, ins: Instrument) -> str:
    """Advice for an item id given as a number (``1`` for item ``'1'``)."""
    if not isinstance(key, str) and str(key) in ins.item_ids:
        return f" Item ids are text: {str(key)!r}, not {key!r}."
    return ""


def _flag(value: Any) -> bool | None:
    return None if value is pd.NA else bool(value)


def _text(value: Answer) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    return cell_text(value)
