"""``/score``: one administration, or a batch of them, to the library's ScoreResult."""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool

from ...instrument import Instrument
from ...response import Answer, ScoreResult, score_response
from ..errors import ApiError, error_responses
from ..lookup import InstrumentRef, registry_instrument
from ..models import BatchRequest, BatchResult, ScoreOptions, ScoreRequest
from ..settings import Settings

__all__ = ["router"]

router = APIRouter(prefix="/score", tags=["score"])

_ERRORS = error_responses(400, 401, 403, 404, 413, 422, 503)

INLINE_ANSWERS = 64
"""An answer set this small is scored on the event loop (microseconds); a larger one (up to
1,000 answers, each possibly a problem to report) in a worker thread, so that one large
request cannot hold up the others."""


def _check_scales(ins: Instrument, options: ScoreOptions) -> None:
    unknown = [s for s in options.scales or () if s not in ins.scale_ids]
    if unknown:
        raise ApiError(
            422,
            "unknown_scale",
            f"{ins.ref} has no scale {', '.join(map(repr, unknown))}; its scales are "
            f"{', '.join(ins.scale_ids)}.",
        )


def _score(ins: Instrument, answers: Mapping[str, Answer], options: ScoreOptions) -> ScoreResult:
    return score_response(
        ins,
        answers,
        scales=options.scales,
        missing_codes=options.missing_codes,
        labels=options.labels,
        on_invalid=options.on_invalid,
        allow_provisional=options.allow_provisional,
    )


@router.post("/{instrument_id}", summary="Score one administration", responses=_ERRORS)
async def score(instrument_id: InstrumentRef, body: ScoreRequest) -> ScoreResult:
    """Score one administration given as item id -> answer.

    Answers that break the instrument's rules are judged, not refused: the result is a 200
    with status ``invalid`` and one coded problem per answer. A request that is not of
    this shape (a missing ``answers``, an answer that is a list or a boolean, an unknown
    option) is a 422; an unknown instrument a 404.
    """
    ins = registry_instrument(instrument_id)
    _check_scales(ins, body)
    if len(body.answers) <= INLINE_ANSWERS:
        return _score(ins, body.answers, body)
    return await run_in_threadpool(_score, ins, body.answers, body)


@router.post(
    "/{instrument_id}/batch",
    summary="Score several administrations of one instrument",
    responses=_ERRORS,
)
async def score_batch(
    instrument_id: InstrumentRef, body: BatchRequest, request: Request
) -> BatchResult:
    """Score each answer set with the same options; one result per set, in order.

    At most ``max_batch`` sets (1000 unless configured); more is a 413 with code
    ``batch_too_large``, and nothing is scored.
    """
    settings: Settings = request.app.state.settings
    if len(body.answers) > settings.max_batch:
        raise ApiError(
            413,
            "batch_too_large",
            f"A batch holds at most {settings.max_batch} answer sets; got "
            f"{len(body.answers)}. Send it in parts.",
        )
    ins = registry_instrument(instrument_id)
    _check_scales(ins, body)
    results = await run_in_threadpool(
        lambda: [_score(ins, answers, body) for answers in body.answers]
    )
    return BatchResult(results=results)
