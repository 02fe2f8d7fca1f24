"""Load on the scoring service: throughput and latency under concurrent clients.

Usage (from the repository root, with the ``server`` extra installed):

    python bench/bench_service.py --requests 3000 --max-seconds 20

For each number of workers (1 and 2) it starts ``alliance-score serve`` on a free
loopback port (with a token, as a deployed service runs), and for each payload (a WAI-SR
answer set to ``POST /score/wai-sr``; a WAI-SR QuestionnaireResponse to
``POST /fhir/QuestionnaireResponse/$score``) and each number of concurrent clients (1, 8,
32) it sends a bounded number of requests (``--requests``, stopping early after
``--max-seconds``) after a warm-up, and reports throughput, p50 and p99 latency and
errors. Every client is a keep-alive HTTP/1.1 connection sending its next request when
the previous answer has arrived; all clients run in one asyncio process with pre-built
requests, so the generator costs little CPU, but it shares the machine's 2 cores with
the server. Loopback only; nothing here is a test.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
TOKEN = "bench-token-0123456789abcdef"
CANONICAL = "https://alliance-score.github.io/fhir/Questionnaire/wai-sr|1.0"


def _answers(rng: random.Random) -> dict[str, int]:
    return {str(i): rng.randint(1, 5) for i in range(1, 13)}


def score_body(rng: random.Random) -> bytes:
    return json.dumps({"answers": _answers(rng)}).encode()


def fhir_body(rng: random.Random) -> bytes:
    qr = {
        "resourceType": "QuestionnaireResponse",
        "id": f"qr-{rng.randint(1, 10**6)}",
        "status": "completed",
        "questionnaire": CANONICAL,
        "subject": {"reference": "Patient/example"},
        "authored": "2026-03-01T10:00:00Z",
        "item": [{"linkId": k, "answer": [{"valueInteger": v}]} for k, v in _answers(rng).items()],
    }
    return json.dumps(qr).encode()


BATCH = 100


def batch_body(rng: random.Random) -> bytes:
    return json.dumps({"answers": [_answers(rng) for _ in range(BATCH)]}).encode()


PAYLOADS = {
    "GET /health (HTTP floor)": ("/health", "", lambda rng: b""),
    "WAI-SR score": ("/score/wai-sr", "application/json", score_body),
    "QuestionnaireResponse": (
        "/fhir/QuestionnaireResponse/$score",
        "application/fhir+json",
        fhir_body,
    ),
    f"WAI-SR batch of {BATCH}": ("/score/wai-sr/batch", "application/json", batch_body),
}


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a process and its descendants (the uvicorn workers)."""
    total = 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return total
    return total + sum(cpu_seconds(int(c)) for c in children)


def request_bytes(port: int, path: str, media: str, body: bytes) -> bytes:
    if not media:
        return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Authorization: Bearer {TOKEN}\r\nContent-Type: {media}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


@dataclass
class Run:
    latencies: list[float]
    errors: int
    seconds: float

    @property
    def count(self) -> int:
        return len(self.latencies)

    def quantile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def _client(
    port: int,
    requests: list[bytes],
    budget: list[int],
    deadline: float,
    latencies: list[float],
    errors: list[int],
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    k = 0
    try:
        while budget[0] > 0 and time.perf_counter() < deadline:
            budget[0] -= 1
            start = time.perf_counter()
            writer.write(requests[k % len(requests)])
            k += 1
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - start)
            if status != 200:
                errors[0] += 1
    except (OSError, asyncio.IncompleteReadError, ValueError):
        errors[0] += 1
    finally:
        writer.close()


async def load(
    port: int, requests: list[bytes], clients: int, total: int, max_seconds: float
) -> Run:
    budget = [total]
    latencies: list[float] = []
    errors = [0]
    start = time.perf_counter()
    deadline = start + max_seconds
    await asyncio.gather(
        *(_client(port, requests, budget, deadline, latencies, errors) for _ in range(clients))
    )
    return Run(latencies, errors[0], time.perf_counter() - start)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def start_server(workers: int) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    env = {**os.environ, "ALLIANCE_SCORE_TOKEN": TOKEN}
    server = subprocess.Popen(
        [sys.executable, "-m", "alliance_score", "serve", "--port", str(port),
         "--workers", str(workers)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return server, port
        time.sleep(0.2)
    server.kill()
    raise SystemExit("the service did not start in 90 s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000, help="requests per scenario")
    parser.add_argument("--max-seconds", type=float, default=20, help="time cap per scenario")
    parser.add_argument("--warmup", type=int, default=300, help="warm-up requests")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument(
        "--payloads", nargs="+", default=list(PAYLOADS), choices=list(PAYLOADS), metavar="NAME"
    )
    args = parser.parse_args()
    rng = random.Random(20261127)
    load_avg = os.getloadavg()
    print(
        f"# machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
        f"load average at start {load_avg[0]:.2f}; Python {platform.python_version()}"
    )
    print(
        "| payload | workers | clients | requests | requests/s | p50 ms | p99 ms | errors "
        "| server CPU us/request | client CPU us/request |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for workers in args.workers:
        server, port = start_server(workers)
        try:
            for name in args.payloads:
                path, media, make = PAYLOADS[name]
                bodies = [request_bytes(port, path, media, make(rng)) for _ in range(200)]
                asyncio.run(load(port, bodies, max(args.clients), args.warmup, 30))
                for clients in args.clients:
                    server_cpu, client_cpu = cpu_seconds(server.pid), time.process_time()
                    run = asyncio.run(load(port, bodies, clients, args.requests, args.max_seconds))
                    server_cpu = cpu_seconds(server.pid) - server_cpu
                    client_cpu = time.process_time() - client_cpu
                    print(
                        f"| {name} | {workers} | {clients} | {run.count} | "
                        f"{run.count / run.seconds:,.0f} | {run.quantile(0.5):.2f} | "
                        f"{run.quantile(0.99):.2f} | {run.errors} | "
                        f"{server_cpu / run.count * 1e6:,.0f} | "
                        f"{client_cpu / run.count * 1e6:,.0f} |",
                        flush=True,
                    )
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(timeout=30)
    print(f"# load average at end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
