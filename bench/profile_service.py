"""Where a request's time goes in the scoring service: CPU time per request, in one process.

Usage (from the repository root, with the ``server`` extra installed):

    python bench/profile_service.py --requests 1000 --repeat 5

It calls the app directly through ASGI (no sockets, no HTTP parsing) and the library
functions alone, side by side in one process, and reports CPU time (``process_time``,
which counts only the time this process ran, so a busy machine distorts it less than
wall time) per request, best and median of the repeats:

* ``score_response`` alone and ``fhir.score_questionnaire_response`` + ``fhir.observation``
  alone (the library's share);
* ``GET /health`` through the app (the floor of the framework and the middleware);
* ``POST /score/wai-sr`` and ``POST /fhir/QuestionnaireResponse/$score`` through the app,
  with a token, as deployed;
* ``POST /score/wai-sr`` with the library call replaced by a stored result (the
  framework's share of a scored request: routing, auth, body parsing and validation,
  serialisation).

What is left of the load bench's server CPU per request (bench_service.py) beyond the
app's is the HTTP server's (uvicorn: sockets, HTTP parsing, the event loop).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from collections.abc import Callable
from typing import Any

from pydantic import SecretStr

from alliance_score import fhir, score_response
from alliance_score.server import Settings, create_app
from alliance_score.server.routers import score as score_router

TOKEN = "bench-token-0123456789abcdef"
ANSWERS = {str(i): (i % 5) + 1 for i in range(1, 13)}
QR = {
    "resourceType": "QuestionnaireResponse",
    "id": "qr-1",
    "status": "completed",
    "questionnaire": "https://alliance-score.github.io/fhir/Questionnaire/wai-sr|1.0",
    "subject": {"reference": "Patient/example"},
    "item": [{"linkId": k, "answer": [{"valueInteger": v}]} for k, v in ANSWERS.items()],
}
BODIES = {
    "/health": b"",
    "/score/wai-sr": json.dumps({"answers": ANSWERS}).encode(),
    "/fhir/QuestionnaireResponse/$score": json.dumps(QR).encode(),
}
APP = create_app(Settings(token=SecretStr(TOKEN)))


def _scope(path: str, body: bytes) -> dict[str, Any]:
    headers = [
        (b"host", b"127.0.0.1"),
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"authorization", f"Bearer {TOKEN}".encode()),
    ]
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET" if path == "/health" else "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": headers,
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
        "root_path": "",
    }


async def _calls(path: str, n: int) -> None:
    body = BODIES[path]
    for _ in range(n):
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any], sent: list[dict[str, Any]] = sent) -> None:
            sent.append(message)

        await APP(_scope(path, body), receive, send)
        if sent[0]["status"] != 200:
            raise SystemExit(f"{path}: {sent}")


def _per_call(run: Callable[[int], object], n: int) -> float:
    start = time.process_time()
    run(n)
    return (time.process_time() - start) / n * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    stored = score_response("wai-sr", ANSWERS)
    real = score_router._score

    def stubbed(n: int) -> None:
        score_router._score = lambda *a: stored
        try:
            asyncio.run(_calls("/score/wai-sr", n))
        finally:
            score_router._score = real

    cases: dict[str, Callable[[int], object]] = {
        "library: score_response": lambda n: [score_response("wai-sr", ANSWERS) for _ in range(n)],
        "library: QuestionnaireResponse -> Observation": lambda n: [
            fhir.observation(
                fhir.score_questionnaire_response(BODIES["/fhir/QuestionnaireResponse/$score"]),
                response=QR,
            )
            for _ in range(n)
        ],
        "app: GET /health": lambda n: asyncio.run(_calls("/health", n)),
        "app: POST /score/wai-sr": lambda n: asyncio.run(_calls("/score/wai-sr", n)),
        "app: POST /score/wai-sr, library call stubbed": stubbed,
        "app: POST /fhir/QuestionnaireResponse/$score": lambda n: asyncio.run(
            _calls("/fhir/QuestionnaireResponse/$score", n)
        ),
    }
    for run in cases.values():  # warm up
        run(50)
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(args.repeat):
        for name, run in cases.items():
            times[name].append(_per_call(run, args.requests))
    print("| what | CPU us per request, best | median |")
    print("| --- | ---: | ---: |")
    for name, values in times.items():
        print(f"| {name} | {min(values):,.0f} | {statistics.median(values):,.0f} |")


if __name__ == "__main__":
    main()
