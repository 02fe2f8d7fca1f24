"""The real service, as docs/service.md runs it.

One test starts ``alliance-score serve`` as a subprocess (two workers, a token) on a free
loopback port, runs the page's ``curl`` commands and its JavaScript ``fetch`` example
(Node.js) against it, puts the page's nginx configuration in front of it with TLS, and
stops it. Node.js and nginx may be missing on a developer's machine (that part is then
skipped, saying so); with ``CI=true`` they must be there.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from alliance_score.cli import build_parser

from .catalogue_docs_runner import blocks

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "service.md"
TOKEN = "process-test-token-0123456789"  # noqa: S105 - a test token
SECRET = "C-7731-Jones"  # noqa: S105 - an identifier, not a password
DOC_ADDRESS = "127.0.0.1:8000"


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


def _wait(port: int, process: subprocess.Popen[str], what: str) -> None:
    deadline = time.monotonic() + 60
    while True:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        assert process.poll() is None, f"{what} stopped: {process.communicate()}"
        assert time.monotonic() < deadline, f"{what} did not start in 60 s"
        time.sleep(0.2)


def _stop(process: subprocess.Popen[str], how: signal.Signals = signal.SIGINT) -> str:
    process.send_signal(how)
    try:
        _, stderr = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        _, stderr = process.communicate()
    return stderr


def _code(lang: str) -> list[str]:
    return [b.body for b in blocks(PAGE) if b.lang == lang]


def _programs_needed(missing: list[str]) -> None:
    if not missing:
        return
    reason = f"{', '.join(missing)} not installed: that part of docs/service.md was not run"
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def test_the_service_page_runs_against_the_real_server(tmp_path: Path) -> None:
    # the page's serve commands are valid command lines
    serve_lines = [
        line.split("#")[0]
        for body in _code("sh")
        for line in body.splitlines()
        if "alliance-score serve" in line
    ]
    assert len(serve_lines) >= 3
    for line in serve_lines:
        argv = shlex.split(line[line.index("alliance-score") :])[1:]
        assert build_parser().parse_args(argv).command == "serve"

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
    missing: list[str] = []
    try:
        _wait(port, server, "the service")
        assert _call(f"{base}/health", token=None) == (200, {"status": "ok"})

        # scored over HTTP; the token is needed
        answers = {str(i): 4 for i in range(1, 13)} | {"1": 5}
        status, result = _call(f"{base}/score/wai-sr?client={SECRET}", {"answers": answers})
        assert (status, result["status"], result["scores"]["task"]) == (200, "complete", 4.25)
        status, problem = _call(f"{base}/score/wai-sr", {"answers": answers}, token=None)
        assert (status, problem["code"]) == (401, "not_authenticated")

        # the page's curl commands, as written, against this server
        outputs = []
        for body in _code("sh"):
            for line in body.splitlines():
                if line.startswith("curl "):
                    command = line.replace(DOC_ADDRESS, f"127.0.0.1:{port}")
                    done = subprocess.run(  # noqa: S603 - the page's own command
                        ["bash", "-c", command],  # noqa: S607
                        env=env,
                        capture_output=True,
                        text=True,
                        timeout=30,
                        check=False,
                    )
                    assert done.returncode == 0, (line, done.stdout, done.stderr)
                    outputs.append(json.loads(done.stdout))
        assert len(outputs) == 7
        scored = next(o for o in outputs if isinstance(o, dict) and o.get("scores"))
        shown = json.loads(re.search(r'"scores": (\{[^}]*\})', PAGE.read_text())[1])  # type: ignore[index]
        assert scored["scores"] == shown
        assert [o.get("resourceType") for o in outputs if isinstance(o, dict)][-2:] == [
            "Observation",
            "Questionnaire",
        ]

        # the JavaScript example, with Node.js
        if shutil.which("node") is None:
            missing.append("node")
        else:
            (script,) = _code("js")
            expected = re.search(r"console\.log\(.*\); // (.*)", script)[1]  # type: ignore[index]
            (tmp_path / "score.mjs").write_text(script.replace(DOC_ADDRESS, f"127.0.0.1:{port}"))
            done = subprocess.run(
                ["node", "score.mjs"],  # noqa: S607
                cwd=tmp_path,
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            assert done.returncode == 0, done.stderr
            assert done.stdout.strip() == expected

        # the nginx example in front of the service, with TLS
        if shutil.which("nginx") is None or shutil.which("openssl") is None:
            missing.append("nginx")
        else:
            _through_nginx(tmp_path, port)
    finally:
        stderr = _stop(server)
    assert server.returncode == 0, stderr
    assert "POST /score/{instrument_id} 200" in stderr
    assert "POST /score/{instrument_id} 401" in stderr
    assert "GET /instruments/{instrument_id}/questionnaire 200" in stderr
    assert SECRET not in stderr
    assert "127.0.0.1:" not in stderr.replace(f"http://127.0.0.1:{port}", "")  # no client address
    _programs_needed(missing)


def _through_nginx(tmp_path: Path, upstream: int) -> None:
    """The page's nginx configuration, with a self-signed certificate and free ports."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(  # noqa: S603
        [  # noqa: S607
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )  # fmt: skip
    (config,) = _code("nginx")
    port = _free_port()
    config = (
        config.replace(DOC_ADDRESS, f"127.0.0.1:{upstream}")
        .replace("listen 443 ssl;", f"listen 127.0.0.1:{port} ssl;")
        .replace("/etc/ssl/certs/scoring.clinic.example.pem", str(cert))
        .replace("/etc/ssl/private/scoring.clinic.example.key", str(key))
        .replace("/var/log/nginx/alliance-score.log", str(tmp_path / "access.log"))
    )
    assert str(cert) in config and str(tmp_path / "access.log") in config
    (tmp_path / "site.conf").write_text(config)
    temp = tmp_path / "nginx-temp"
    temp.mkdir()
    (tmp_path / "nginx.conf").write_text(
        f"daemon off;\npid {tmp_path / 'nginx.pid'};\nerror_log {tmp_path / 'error.log'};\n"
        "events {}\nhttp {\n"
        + "".join(
            f"  {kind}_temp_path {temp / kind};\n"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        + f"  include {tmp_path / 'site.conf'};\n}}\n"
    )
    proxy = subprocess.Popen(  # noqa: S603
        ["nginx", "-c", str(tmp_path / "nginx.conf"), "-p", str(tmp_path)],  # noqa: S607
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait(port, proxy, "nginx")
        url = f"https://localhost:{port}/score/srs?client={SECRET}"
        body = '{"answers": {"relationship": 9.1, "goals": 8.9, "approach": 9, "overall": 9}}'
        curl = ["curl", "-s", "--cacert", str(cert), "-H", "Content-Type: application/json"]
        with_token = subprocess.run(  # noqa: S603
            [*curl, "-H", f"Authorization: Bearer {TOKEN}", "-d", body, url],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        assert json.loads(with_token.stdout)["scores"] == {"total": 36.0}
        without = subprocess.run(  # noqa: S603
            [*curl, "-d", body, url], capture_output=True, text=True, timeout=30, check=True
        )
        assert json.loads(without.stdout)["code"] == "not_authenticated"
    finally:
        _stop(proxy, signal.SIGQUIT)  # nginx: graceful shutdown
    logged = (tmp_path / "access.log").read_text()
    assert len(logged.splitlines()) == 2
    assert SECRET not in logged and "/score" not in logged and "127.0.0.1" not in logged
