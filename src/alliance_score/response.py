"""One administration: the :class:`Response` model and :func:`score_response`.

A single response is scored as a batch of one through :func:`score_frame` and the same
kernel, so the scalar and batch paths cannot disagree.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Annotated, Any

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
from .frame import OnInvalid, score_frame
from .instrument import Instrument
from .registry import INSTRUMENT_REF, resolve_instrument
from .scoring import Status

__all__ = ["Answer", "Response", "ScoreResult", "score_response"]

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
    unknown = [k for k in given if k not in set(ins.item_ids)]
    row = {item: given.get(item) for item in ins.item_ids}
    frame = pd.DataFrame([row], columns=list(ins.item_ids), dtype=object)
    result = score_frame(
        frame,
        ins,
        items={i: i for i in ins.item_ids},
        scales=scales,
        missing_codes=missing_codes,
        labels=labels,
        on_invalid=on_invalid,
        allow_provisional=allow_provisional,
        return_problems=True,
    )
    out = result.scores.iloc[0]
    problems = result.problem_records()
    status = Status(out["status"])
    if unknown:
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
        if on_invalid == "reject":
            status = Status.INVALID
    valid = status is not Status.INVALID
    chosen: list[str] = list(result.scores.attrs["alliance_score"]["scales"])
    cut_flags = [c.flag for c in ins.cutoffs if c.flag in result.scores.columns]
    return ScoreResult(
        instrument_id=ins.id,
        instrument_version=ins.version,
        definition_origin=ins.origin,
        definition_hash=ins.content_hash,
        library_version=__version__,
        status=status,
        scores={s: _float(out[s]) if valid else None for s in chosen},
        n_answered={s: int(out[f"{s}_n_answered"]) for s in chosen},
        prorated={s: bool(out[f"{s}_prorated"]) and valid for s in chosen},
        flags={f: _flag(out[f]) if valid else None for f in cut_flags},
        provisional=result.provisional,
        problems=tuple(problems),
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


def _float(value: Any) -> float | None:
    x = float(value)
    return None if math.isnan(x) else x


def _flag(value: Any) -> bool | None:
    return None if value is pd.NA else bool(value)


def _text(value: Answer) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    return str(value)
