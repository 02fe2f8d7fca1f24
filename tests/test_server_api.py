"""The scoring service in-process: every endpoint, every error, the limits and the log."""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import SecretStr, ValidationError
from starlette.types import Receive, Scope, Send

import alliance_score as als
from alliance_score.errors import InstrumentDefinitionError
from alliance_score.response import Answer
from alliance_score.server import Settings, create_app
from alliance_score.server.middleware import ACCESS_LOGGER, ERROR_LOGGER, RequestTimeout
from alliance_score.server.routers import score as score_router

ROOT = Path(__file__).resolve().parents[1]
LOCAL = "http://127.0.0.1"
TOKEN = "t0ken-for-the-tests-0123456789"  # noqa: S105 - a test token
WAI_FOURS: dict[str, Answer] = {str(i): 4 for i in range(1, 13)}
PROBLEM_JSON = "application/problem+json"


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings come from the arguments of each test, never from the caller's shell."""
    for name in ("TOKEN", "INSECURE_NO_AUTH", "MAX_BODY_BYTES", "MAX_BATCH", "TIMEOUT_SECONDS"):
        monkeypatch.delenv(f"ALLIANCE_SCORE_{name}", raising=False)
    monkeypatch.delenv("ALLIANCE_SCORE_CORS_ORIGINS", raising=False)
    monkeypatch.delenv("ALLIANCE_SCORE_INSTRUMENTS", raising=False)


def client(base_url: str = LOCAL, **options: Any) -> TestClient:
    return TestClient(create_app(Settings(**options)), base_url=base_url)


@pytest.fixture
def local() -> Iterator[TestClient]:
    with client() as c:
        yield c


def error(response: Any, status: int, code: str) -> dict[str, Any]:
    """The problem-details body of an error response, checked."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["detail"]
    return body


# -- health -------------------------------------------------------------------------------


def test_health_needs_no_token_and_says_nothing_else() -> None:
    with client(token=TOKEN) as c:
        response = c.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


# -- catalogue ----------------------------------------------------------------------------


def test_instruments_lists_the_catalogue_without_server_paths(local: TestClient) -> None:
    response = local.get("/instruments")
    assert response.status_code == 200
    listed = response.json()
    want = [s.model_dump(exclude={"path"}) for s in als.list_instruments()]
    assert listed == json.loads(json.dumps(want))
    assert all("path" not in entry for entry in listed)


def test_instrument_has_its_definition_provenance_and_ledger(local: TestClient) -> None:
    body = local.get("/instruments/wai-s").json()
    ins = als.load_instrument("wai-s")
    assert body["definition"] == json.loads(ins.model_dump_json())
    assert body["origin"] == "shipped"
    assert body["content_hash"] == ins.content_hash
    assert body["scale_status"] == {
        "total": "provisional",
        "task": "provisional",
        "goal": "provisional",
        "bond": "provisional",
    }
    elements = [e["element"] for e in body["ledger"]]
    assert elements[:2] == ["Response scale and anchors", "Reversed-item set"]
    assert all(e["verified"] == (e["evidence"]["level"] in ("P", "S2")) for e in body["ledger"])


def test_instrument_by_id_and_version(local: TestClient) -> None:
    assert local.get("/instruments/srs@3.0").json()["definition"]["version"] == "3.0"
    error(local.get("/instruments/srs@9.9"), 404, "unknown_instrument")


def test_unknown_instrument_is_404_with_suggestions(local: TestClient) -> None:
    body = error(local.get("/instruments/wai-rs"), 404, "unknown_instrument")
    assert "wai-sr" in body["detail"]
    error(local.post("/score/nope", json={"answers": {}}), 404, "unknown_instrument")


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/instruments/wai%20sr", 422, "invalid_request"),
        ("/instruments/-wai", 422, "invalid_request"),
        ("/instruments/wai-sr@1.x", 422, "invalid_request"),
        ("/instruments/..%2Fsecret", 404, "not_found"),
        ("/instruments/" + "a" * 90, 422, "invalid_request"),
    ],
    ids=["space", "leading-dash", "bad-version", "encoded-slash", "too-long"],
)
def test_ids_are_validated(local: TestClient, path: str, status: int, code: str) -> None:
    error(local.get(path), status, code)


def test_a_definition_file_named_in_a_request_is_never_read(
    local: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a valid definition in the working folder, named as the library would read a path
    shutil.copy(ROOT / "instruments" / "srs.toml", tmp_path / "mine.toml")
    monkeypatch.chdir(tmp_path)
    assert als.load_instrument("mine.toml").id == "srs"  # the library reads it ...
    error(local.get("/instruments/mine.toml"), 404, "unknown_instrument")  # ... the service not
    answers = {"answers": {"relationship": 9}}
    error(local.post("/score/mine.toml", json=answers), 404, "unknown_instrument")


# -- score --------------------------------------------------------------------------------


def test_score_returns_the_library_result(local: TestClient) -> None:
    response = local.post("/score/wai-sr", json={"answers": WAI_FOURS})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    expected = als.score_response("wai-sr", WAI_FOURS)
    assert als.ScoreResult.model_validate(response.json()) == expected
    assert response.json()["scores"] == {"task": 4.0, "bond": 4.0, "goal": 4.0, "total": 4.0}


def test_invalid_answers_are_judged_not_refused(local: TestClient) -> None:
    answers = {**WAI_FOURS, "3": 4.5, "8": 6, "1": "four", "99": 1}
    response = local.post("/score/wai-sr", json={"answers": answers})
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "invalid"
    assert body["scores"] == {"task": None, "bond": None, "goal": None, "total": None}
    codes = sorted(p["code"] for p in body["problems"])
    assert codes == ["not_a_number", "not_allowed_value", "out_of_range", "unknown_item"]


def test_score_options_reach_the_library(local: TestClient) -> None:
    answers: dict[str, Answer] = {**WAI_FOURS, "1": "Always", "2": -99}
    body = local.post(
        "/score/wai-sr", json={"answers": answers, "labels": True, "missing_codes": [-99]}
    ).json()
    assert body == json.loads(
        als.score_response("wai-sr", answers, labels=True, missing_codes=[-99]).model_dump_json()
    )
    assert body["n_answered"]["total"] == 11
    srs = {"relationship": 9.1, "goals": 8.9, "approach": 9.0}
    body = local.post("/score/srs", json={"answers": srs, "allow_provisional": True}).json()
    assert body["flags"] == {"total_below_36": False}
    assert body["provisional"] == ["total_below_36"]
    missing = local.post(
        "/score/wai-sr", json={"answers": {"1": 9}, "on_invalid": "missing", "scales": ["task"]}
    ).json()
    assert missing["status"] != "invalid"
    assert list(missing["scores"]) == ["task"]


def test_a_provisional_or_unknown_scale_is_a_422(local: TestClient) -> None:
    body = {"answers": WAI_FOURS, "scales": ["task"]}
    error(local.post("/score/wai-s", json=body), 422, "provisional_scale")
    assert local.post("/score/wai-s", json={**body, "allow_provisional": True}).status_code == 200
    found = error(
        local.post("/score/wai-sr", json={**body, "scales": ["nope"]}), 422, "unknown_scale"
    )
    assert "task, bond, goal, total" in found["detail"]
    batch = {"answers": [WAI_FOURS], "scales": ["nope"]}
    error(local.post("/score/wai-sr/batch", json=batch), 422, "unknown_scale")


@pytest.mark.parametrize(
    "body",
    [
        {"answers": [4, 4]},
        {"answers": {"1": True}},
        {"answers": {"1": [4]}},
        {"answers": {"1": {"value": 4}}},
        {},
        {"answers": {}, "unknown_option": 1},
        {"answers": {}, "on_invalid": "guess"},
        {"answers": {}, "missing_codes": list(range(51))},
        {"answers": {str(i): 1 for i in range(1001)}},
        [],
    ],
    ids=[
        "list",
        "boolean",
        "nested-list",
        "object",
        "no-answers",
        "extra-field",
        "bad-policy",
        "too-many-codes",
        "too-many-answers",
        "array-body",
    ],
)
def test_malformed_requests_are_422_without_echoing_values(local: TestClient, body: object) -> None:
    response = local.post("/score/wai-sr", json=body)
    found = error(response, 422, "invalid_request")
    assert found["errors"], found
    assert all(set(e) == {"loc", "msg", "type"} for e in found["errors"])
    assert "value" not in response.text


def test_the_error_example_of_the_docs_is_what_the_service_answers(local: TestClient) -> None:
    from .catalogue_docs_runner import blocks

    (shown,) = [
        json.loads(b.body)
        for b in blocks(ROOT / "docs" / "service.md")
        if b.lang == "json" and "invalid_request" in b.body
    ]
    sent = {"answers": {"1": 4}, "labels": "yes"}
    assert json.dumps(sent) in (ROOT / "docs" / "service.md").read_text().replace("\n", " ")
    assert local.post("/score/wai-sr", json=sent).json() == shown


def test_a_body_that_is_not_json_is_a_422(local: TestClient) -> None:
    sent = b'{"answers": {"1": 4'
    response = local.post(
        "/score/wai-sr", content=sent, headers={"content-type": "application/json"}
    )
    error(response, 422, "invalid_request")
    as_text = local.post(
        "/score/wai-sr", content=b"answers=4", headers={"content-type": "text/plain"}
    )
    error(as_text, 422, "invalid_request")


@settings(max_examples=40, deadline=None)
@given(
    answers=st.dictionaries(
        st.sampled_from([*WAI_FOURS, "13", "x"]),
        st.one_of(
            st.none(),
            st.integers(-3, 9),
            st.floats(allow_nan=False, allow_infinity=False, width=32),
            st.sampled_from(["", "NA", "4", "Always", " 3 ", "-99"]),
        ),
        max_size=14,
    ),
    labels=st.booleans(),
)
def test_the_service_equals_the_library(answers: dict[str, Any], labels: bool) -> None:
    with client() as c:
        body = c.post("/score/wai-sr", json={"answers": answers, "labels": labels}).json()
    expected = als.score_response("wai-sr", answers, labels=labels)
    assert body == json.loads(expected.model_dump_json())


def test_a_large_answer_set_is_scored_off_the_event_loop(
    local: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    threads: list[str] = []
    real: Callable[..., Any] = score_router._score

    def spy(*args: Any) -> Any:
        threads.append(threading.current_thread().name)
        return real(*args)

    monkeypatch.setattr(score_router, "_score", spy)
    small = local.post("/score/wai-sr", json={"answers": WAI_FOURS})
    big = {**WAI_FOURS, **{f"x{i}": 1 for i in range(score_router.INLINE_ANSWERS)}}
    large = local.post("/score/wai-sr", json={"answers": big})
    assert (small.status_code, large.status_code) == (200, 200)
    assert large.json()["status"] == "invalid"
    main, worker = threads
    assert main != worker


# -- batch --------------------------------------------------------------------------------


def test_batch_scores_in_order(local: TestClient) -> None:
    sets: list[dict[str, Answer]] = [WAI_FOURS, {"1": 9}, {}, {**WAI_FOURS, "12": 1}]
    response = local.post("/score/wai-sr/batch", json={"answers": sets})
    assert response.status_code == 200
    results = response.json()["results"]
    assert results == [json.loads(als.score_response("wai-sr", a).model_dump_json()) for a in sets]
    assert local.post("/score/wai-sr/batch", json={"answers": []}).json() == {"results": []}


def test_batch_over_the_limit_is_refused_whole() -> None:
    with client(max_batch=3) as c:
        assert c.post("/score/srs/batch", json={"answers": [{}] * 3}).status_code == 200
        body = error(c.post("/score/srs/batch", json={"answers": [{}] * 4}), 413, "batch_too_large")
    assert "at most 3" in body["detail"]


# -- limits: body size, time --------------------------------------------------------------


def test_a_body_over_the_limit_is_413_before_it_is_read() -> None:
    with client(max_body_bytes=2000) as c:
        small = {"answers": WAI_FOURS}
        assert c.post("/score/wai-sr", json=small).status_code == 200
        big = json.dumps({"answers": {**WAI_FOURS, "x": "y" * 3000}}).encode()
        error(
            c.post("/score/wai-sr", content=big, headers={"content-type": "application/json"}),
            413,
            "body_too_large",
        )


def test_a_chunked_body_over_the_limit_is_counted_while_read() -> None:
    def chunks() -> Iterator[bytes]:  # no Content-Length: sent chunked
        yield b'{"answers": {"1": "'
        for _ in range(20):
            yield b"y" * 200
        yield b'"}}'

    with client(max_body_bytes=2000) as c:
        response = c.post(
            "/score/wai-sr", content=chunks(), headers={"content-type": "application/json"}
        )
        assert "content-length" not in {k.lower() for k in response.request.headers}
        error(response, 413, "body_too_large")
        error(
            c.post(
                "/score/wai-sr/batch",
                content=chunks(),
                headers={"content-type": "application/json"},
            ),
            413,
            "body_too_large",
        )


def test_the_default_body_limit_is_one_mebibyte() -> None:
    assert Settings().max_body_bytes == 1024 * 1024
    with client() as c:
        body = json.dumps({"answers": [{"1": "y" * 1000}] * 1100}).encode()
        assert len(body) > 1024 * 1024
        error(
            c.post(
                "/score/wai-sr/batch", content=body, headers={"content-type": "application/json"}
            ),
            413,
            "body_too_large",
        )


def test_a_slow_request_is_cut_off_with_503(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    real: Callable[..., Any] = score_router._score

    def slow(*args: Any) -> Any:
        time.sleep(0.3)
        return real(*args)

    monkeypatch.setattr(score_router, "_score", slow)
    with client(timeout_seconds=0.05) as c:
        body = error(c.post("/score/srs/batch", json={"answers": [{}]}), 503, "timeout")
        assert "0.05 s" in body["detail"]


def test_timeout_middleware_cuts_off_a_slow_reader() -> None:
    """The deadline covers reading the body too (a client that trickles it in)."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()  # never answered in time below
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"late"})

    sent: list[dict[str, Any]] = []

    async def trickle() -> dict[str, Any]:
        await asyncio.sleep(1)
        return {"type": "http.request", "body": b"{}", "more_body": False}

    async def send(message: Any) -> None:
        sent.append(message)

    scope: dict[str, Any] = {"type": "http", "method": "POST", "path": "/", "headers": []}
    asyncio.run(RequestTimeout(app, 0.05)(scope, trickle, send))
    assert sent[0]["status"] == 503
    assert json.loads(sent[1]["body"])["code"] == "timeout"


# -- who may call -------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/instruments", "/instruments/wai-sr", "/openapi.json"], ids=str)
def test_a_token_is_needed_everywhere_but_health(path: str) -> None:
    with client(token=TOKEN) as c:
        body = error(c.get(path), 401, "not_authenticated")
        assert TOKEN not in json.dumps(body)
        assert c.get(path).headers["www-authenticate"] == "Bearer"
        error(c.get(path, headers={"Authorization": f"Bearer {TOKEN}x"}), 401, "not_authenticated")
        error(c.get(path, headers={"Authorization": f"Basic {TOKEN}"}), 401, "not_authenticated")
        ok = c.get(path, headers={"Authorization": f"Bearer {TOKEN}"})
        assert ok.status_code == 200


def test_a_token_is_needed_to_score() -> None:
    with client(base_url="http://10.1.2.3", token=TOKEN) as c:
        error(c.post("/score/wai-sr", json={"answers": WAI_FOURS}), 401, "not_authenticated")
        error(c.post("/score/wai-sr/batch", json={"answers": []}), 401, "not_authenticated")
        auth = {"Authorization": f"Bearer {TOKEN}"}
        assert c.post("/score/wai-sr", json={"answers": WAI_FOURS}, headers=auth).is_success


def test_the_token_is_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    import hmac

    seen: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        seen.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    with client(token=TOKEN) as c:
        c.get("/instruments", headers={"Authorization": "Bearer wrong"})
    assert seen == [(b"wrong", TOKEN.encode())]


def test_without_a_token_only_loopback_is_answered() -> None:
    with client(base_url="http://192.168.1.20") as c:
        body = error(c.get("/instruments"), 403, "token_required")
        assert "ALLIANCE_SCORE_TOKEN" in body["detail"]
        error(c.post("/score/wai-sr", json={"answers": {}}), 403, "token_required")
        assert c.get("/health").status_code == 200
    for base in ("http://127.0.0.1", "http://[::1]", "http://localhost"):
        with client(base_url=base) as c:
            assert c.get("/instruments").status_code == 200, base
    with client(base_url="http://192.168.1.20", insecure_no_auth=True) as c:
        assert c.get("/instruments").status_code == 200


def test_without_a_token_the_host_must_be_local_too() -> None:
    """A page whose host name was made to resolve to 127.0.0.1 (DNS rebinding) sends its
    own name as Host: refused while the service has no token."""
    with client() as c:
        rebound = {"Host": "evil.example:8000"}
        error(c.get("/instruments", headers=rebound), 403, "token_required")
        assert c.get("/instruments", headers={"Host": "localhost:8000"}).status_code == 200
    with client(token=SecretStr(TOKEN)) as c:
        auth = {"Authorization": f"Bearer {TOKEN}", "Host": "scoring.clinic.example"}
        assert c.get("/instruments", headers=auth).status_code == 200


@pytest.mark.parametrize(
    "header",
    [("X-Forwarded-For", "203.0.113.9"), ("Forwarded", "for=203.0.113.9;proto=https")],
    ids=["x-forwarded-for", "forwarded"],
)
def test_without_a_token_a_proxied_request_is_refused(header: tuple[str, str]) -> None:
    """A proxy on the same machine connects over loopback; the header it adds shows that
    the caller may be anywhere."""
    with client() as c:
        error(c.get("/instruments", headers=dict([header])), 403, "token_required")
        assert c.get("/health", headers=dict([header])).status_code == 200
    with client(token=SecretStr(TOKEN)) as c:
        auth = {"Authorization": f"Bearer {TOKEN}", header[0]: header[1]}
        assert c.get("/instruments", headers=auth).status_code == 200


@pytest.mark.parametrize("token", ["short", " " + TOKEN, TOKEN + "\n"], ids=repr)
def test_weak_tokens_are_refused(token: str) -> None:
    with pytest.raises(ValidationError, match="at least 16 printable"):
        Settings(token=SecretStr(token))


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALLIANCE_SCORE_TOKEN", TOKEN)
    monkeypatch.setenv("ALLIANCE_SCORE_MAX_BATCH", "7")
    monkeypatch.setenv("ALLIANCE_SCORE_CORS_ORIGINS", '["https://portal.example"]')
    monkeypatch.setenv("ALLIANCE_SCORE_INSTRUMENTS", "/nonexistent")  # the registry's, ignored
    s = Settings()
    assert s.token is not None and s.token.get_secret_value() == TOKEN
    assert (s.max_batch, s.cors_origins) == (7, ("https://portal.example",))
    assert TOKEN not in repr(s)


def test_the_module_level_app_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import alliance_score.server as server

    monkeypatch.setenv("ALLIANCE_SCORE_MAX_BATCH", "5")
    monkeypatch.setattr(server, "_app", None)
    app = server.app
    assert app.state.settings.max_batch == 5
    assert server.app is app
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        server.nope  # noqa: B018


# -- CORS, OpenAPI, errors ----------------------------------------------------------------


def test_no_cors_unless_configured() -> None:
    preflight = {
        "Origin": "https://portal.example",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type",
    }
    with client() as c:
        response = c.options("/score/wai-sr", headers=preflight)
        assert "access-control-allow-origin" not in response.headers
        got = c.get("/instruments", headers={"Origin": "https://portal.example"})
        assert "access-control-allow-origin" not in got.headers
    with client(cors_origins=("https://portal.example",)) as c:
        response = c.options("/score/wai-sr", headers=preflight)
        assert response.status_code == 200
        assert response.headers["access-control-allow-origin"] == "https://portal.example"
        other = c.options("/score/wai-sr", headers={**preflight, "Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers


def test_openapi_is_served_and_the_browser_pages_are_not(local: TestClient) -> None:
    doc = local.get("/openapi.json").json()
    assert doc["info"]["title"] == "alliance-score"
    assert "/score/{instrument_id}" in doc["paths"]
    for path in ("/docs", "/redoc"):
        error(local.get(path), 404, "not_found")


def test_unknown_routes_and_methods(local: TestClient) -> None:
    error(local.get("/patients/123"), 404, "not_found")
    error(local.get("/score/wai-sr"), 405, "method_not_allowed")


def test_an_unexpected_failure_is_a_500_problem(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any) -> Any:
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(score_router, "_score", broken)
    with TestClient(create_app(Settings()), base_url=LOCAL, raise_server_exceptions=False) as c:
        body = error(c.post("/score/srs", json={"answers": {}}), 500, "internal_error")
    assert "secret" not in json.dumps(body)


def test_a_broken_definition_on_the_server_is_a_500_without_its_content(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(ref: str) -> Any:
        raise InstrumentDefinitionError("/srv/defs/x.toml", [("id", "bad", "hunter2")])

    monkeypatch.setattr(score_router, "registry_instrument", broken)
    with client() as c:
        body = error(c.post("/score/srs", json={"answers": {}}), 500, "definition_error")
    assert "hunter2" not in json.dumps(body)
    assert "/srv" not in json.dumps(body)


# -- the access log -----------------------------------------------------------------------


def test_the_access_log_has_method_route_status_and_time_only(
    caplog: pytest.LogCaptureFixture,
) -> None:
    secret = "C-0042-Smith"  # noqa: S105 - an identifier, not a password
    caplog.set_level(logging.DEBUG)
    with client() as c:
        c.post(
            f"/score/wai-sr?client={secret}",
            json={"answers": {**WAI_FOURS, "1": secret, secret: 3}},
            headers={"X-Patient": secret, "User-Agent": secret},
        )
        c.get(f"/patients/{secret}")
        c.post("/score/wai-sr", json={"answers": [secret]})
    # everything the service logged (the test's own HTTP client logs the URLs it calls)
    served = [r for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]
    assert served
    assert not [r.getMessage() for r in served if secret in r.getMessage()]
    access = [r for r in caplog.records if r.name == ACCESS_LOGGER]
    lines = [r.getMessage() for r in access]
    assert len(lines) == 3
    assert lines[0].startswith("POST /score/{instrument_id} 200 ")
    assert lines[1].startswith("GET <unmatched> 404 ")
    assert lines[2].startswith("POST /score/{instrument_id} 422 ")
    for line in lines:
        assert len(line.split(" ")) == 4, line
        took = line.split(" ")[3]
        assert took.endswith("ms") and float(took[:-2]) >= 0


def test_a_failure_is_logged_without_its_message(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "C-0042-Smith"  # noqa: S105 - an identifier, not a password

    def broken(*args: Any) -> Any:
        raise ValueError(f"input_value={secret!r}")  # as a third-party error might

    monkeypatch.setattr(score_router, "_score", broken)
    caplog.set_level(logging.INFO)
    with TestClient(create_app(Settings()), base_url=LOCAL) as c:
        error(c.post("/score/srs", json={"answers": {}}), 500, "internal_error")
    served = [r for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]
    assert not [r.getMessage() for r in served if secret in r.getMessage()]
    assert not [r for r in served if r.exc_info]
    failure = next(r.getMessage() for r in served if r.name == ERROR_LOGGER)
    assert failure.startswith("ValueError in POST /score/{instrument_id} (message withheld")
    assert "in broken" in failure  # where it happened
    access = [r.getMessage() for r in served if r.name == ACCESS_LOGGER]
    assert access[0].startswith("POST /score/{instrument_id} 500 ")
