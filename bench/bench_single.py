"""Time one response: ``score_response``, the cached ``load_instrument`` and FHIR JSON to
an Observation, each beside the path it replaces, in one run.

Usage (from the repository root)::

    python bench/bench_single.py            # WAI-SR, 12 answers, warm
    python bench/bench_single.py --calls 2000 --repeats 21

Every figure is the median over ``--repeats`` batches of the per-call time in a batch of
``--calls`` calls, after a warm-up call. The machine is shared and noisy, so the script
measures each new path beside the old one, interleaved batch by batch, and reports their
ratio as well as the times. It prints a Markdown section for ``bench/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from alliance_score import fhir, load_instrument, score_frame, score_response
from alliance_score.registry import load_instrument as cached_load
from alliance_score.scoring import score_matrix, score_row, select_scales

ANSWERS = {str(i): (i % 5) + 1 for i in range(1, 13)}


def per_call(fn: Callable[[], Any], calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls


def interleaved(cases: dict[str, Callable[[], Any]], calls: int, repeats: int) -> dict[str, float]:
    """Median per-call seconds of each case, batches of the cases taken in turn."""
    for fn in cases.values():
        fn()
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(repeats):
        for name, fn in cases.items():
            times[name].append(per_call(fn, calls))
    return {name: statistics.median(t) for name, t in times.items()}


def one_row_frame_path() -> Any:
    """The previous score_response: a one-row DataFrame through score_frame."""
    ins = load_instrument("wai-sr")
    frame = pd.DataFrame([ANSWERS], columns=list(ins.item_ids), dtype=object)
    return score_frame(frame, ins, items={i: i for i in ins.item_ids}, return_problems=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    ins = load_instrument("wai-sr")
    chosen, cutoffs = select_scales(ins)
    row = [float(ANSWERS[i]) for i in ins.item_ids]
    matrix = np.array([row])
    qr = json.dumps(
        {
            "resourceType": "QuestionnaireResponse",
            "id": "bench",
            "questionnaire": fhir.questionnaire_canonical(ins),
            "status": "completed",
            "subject": {"reference": "Patient/p"},
            "authored": "2026-01-01T10:00:00Z",
            "item": [
                {
                    "linkId": item,
                    "answer": [
                        {
                            "valueCoding": {
                                "system": fhir.answer_system(ins),
                                "code": str(ANSWERS[item]),
                            }
                        }
                    ],
                }
                for item in ins.item_ids
            ],
        }
    )
    uncached = cached_load.__wrapped__  # type: ignore[attr-defined]

    def qr_to_observation() -> dict[str, Any]:
        result = fhir.score_questionnaire_response(qr)
        return fhir.observation(result, response=qr)

    rows = {
        "load_instrument('wai-sr'), cached": lambda: load_instrument("wai-sr"),
        "load_instrument('wai-sr'), search path re-read": lambda: uncached("wai-sr"),
        "score_response, fast path": lambda: score_response(ins, ANSWERS),
        "score_response as before (one-row score_frame)": one_row_frame_path,
        "  of which the one-row kernel (score_row)": lambda: score_row(
            row, ins, scales=chosen, cutoffs=cutoffs
        ),
        "score_matrix on a 1-row matrix (the batch kernel, for comparison)": lambda: score_matrix(
            matrix, ins, scales=chosen, cutoffs=cutoffs
        ),
        "QuestionnaireResponse JSON -> Observation dict": qr_to_observation,
    }
    t = interleaved(rows, args.calls, args.repeats)
    us = {k: v * 1e6 for k, v in t.items()}
    keys = list(rows)
    print(f"Python {platform.python_version()}, numpy {np.__version__}, pandas {pd.__version__}")
    print(f"median of {args.repeats} batches x {args.calls} calls, interleaved\n")
    print("| call (WAI-SR, 12 answers, warm) | µs per call |")
    print("|---|---:|")
    for k in keys:
        print(f"| {k} | {us[k]:,.1f} |")
    print()
    print(f"- cached lookup: {us[keys[1]] / us[keys[0]]:,.0f}x faster than re-reading")
    print(f"- score_response: {us[keys[3]] / us[keys[2]]:,.1f}x faster than the one-row frame")
    share = us[keys[4]] / us[keys[2]]
    print(f"- the kernel call is {share:.0%} of score_response's time")
    print(f"- score_response outside the kernel: {us[keys[2]] - us[keys[4]]:,.1f} µs")
    print(f"- the one-row kernel: {us[keys[5]] / us[keys[4]]:,.1f}x faster than score_matrix")


if __name__ == "__main__":
    main()
