"""The real service: ``alliance-score serve`` as a subprocess on a free loopback port."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from typing import Any

TOKEN = "process-test-token-0123456789"  # noqa: S105 - a test token
SECRET = "C-7731-Jones"  # noqa: S105 - an identifier, not a password


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _call(url: str, body: Any = None, token: str | None = TOKEN) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method="GET" if data is None else "POST")  # noqa: S310
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_serve_scores_over_http_and_stops_cleanly() -> None:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "ALLIANCE_SCORE_TOKEN": TOKEN, "PYTHONUNBUFFERED": "1"}
    env.pop("ALLIANCE_SCORE_INSECURE_NO_AUTH", None)
    server = subprocess.Popen(  # noqa: S603 - our own command
        [sys.executable, "-m", "alliance_score", "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if _call(f"{base}/health", token=None) == (200, {"status": "ok"}):
                    break
            except OSError:
                pass
            assert server.poll() is None, server.communicate()
            assert time.monotonic() < deadline, "the service did not start in 60 s"
            time.sleep(0.2)
        answers = {str(i): 4 for i in range(1, 13)} | {"1": 5}
        status, result = _call(f"{base}/score/wai-sr?client={SECRET}", {"answers": answers})
        assert status == 200
        assert result["status"] == "complete"
        assert result["scores"]["task"] == 4.25
        status, batch = _call(f"{base}/score/srs/batch", {"answers": [{"goals": 11}, {}]})
        assert status == 200
        assert [r["status"] for r in batch["results"]] == ["invalid", "insufficient"]
        status, problem = _call(f"{base}/score/wai-sr", {"answers": answers}, token=None)
        assert (status, problem["code"]) == (401, "not_authenticated")
    finally:
        server.send_signal(signal.SIGINT)
        try:
            _, stderr = server.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            _, stderr = server.communicate()
    assert server.returncode == 0, stderr
    assert "POST /score/{instrument_id} 200" in stderr
    assert "POST /score/{instrument_id} 401" in stderr
    assert SECRET not in stderr
    assert "127.0.0.1:" not in stderr.replace(f"http://127.0.0.1:{port}", "")  # no client address
