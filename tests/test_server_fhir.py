"""The service's FHIR endpoints: a QuestionnaireResponse in, an Observation or an
OperationOutcome out, and each instrument's Questionnaire."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.questionnaire import Questionnaire
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from alliance_score import fhir, load_instrument
from alliance_score.server import Settings, create_app

from .fhir_strategies import answer_sets, mangled_responses, response_for

SCORE = "/fhir/QuestionnaireResponse/$score"
FHIR_JSON = "application/fhir+json"
LOCAL = "http://127.0.0.1"
TOKEN = "fhir-test-token-0123456789"  # noqa: S105 - a test token
WAI_SR = load_instrument("wai-sr")


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TOKEN", "INSECURE_NO_AUTH", "MAX_BODY_BYTES", "MAX_BATCH", "CORS_ORIGINS"):
        monkeypatch.delenv(f"ALLIANCE_SCORE_{name}", raising=False)
    monkeypatch.delenv("ALLIANCE_SCORE_TIMEOUT_SECONDS", raising=False)


@pytest.fixture(scope="module")
def local() -> Iterator[TestClient]:
    with TestClient(create_app(Settings()), base_url=LOCAL) as c:
        yield c


def post(c: TestClient, body: Any, **params: Any) -> Any:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return c.post(SCORE, content=content, params=params, headers={"content-type": FHIR_JSON})


def outcome(response: Any, status: int) -> dict[str, Any]:
    """The OperationOutcome of an error response, checked against FHIR R4B."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == FHIR_JSON
    body: dict[str, Any] = response.json()
    OperationOutcome.model_validate(body)
    assert body["issue"], body
    return body


def codes(body: dict[str, Any]) -> list[str]:
    return [i["details"]["text"] for i in body["issue"]]


def test_a_response_is_scored_to_the_librarys_observation(local: TestClient) -> None:
    qr = response_for(WAI_SR, {str(i): 4 for i in range(1, 13)})
    response = post(local, qr)
    assert response.status_code == 200
    assert response.headers["content-type"] == FHIR_JSON
    body = response.json()
    Observation.model_validate(body)
    expected = fhir.observation(fhir.score_questionnaire_response(qr), response=qr)
    assert body == json.loads(json.dumps(expected))
    assert body["derivedFrom"] == [{"reference": "QuestionnaireResponse/qr-1"}]
    assert body["valueQuantity"]["value"] == 4.0


def test_json_media_type_is_accepted_too(local: TestClient) -> None:
    qr = response_for(WAI_SR, {str(i): 3 for i in range(1, 13)})
    assert local.post(SCORE, json=qr).status_code == 200


def test_options_reach_the_library(local: TestClient) -> None:
    srs = load_instrument("srs")
    qr = response_for(srs, {"relationship": 8.0, "goals": 8.0, "approach": 9.0, "overall": 9.0})
    plain = post(local, qr).json()
    assert plain["status"] == "final"
    provisional = post(local, qr, allow_provisional="true").json()
    assert provisional["status"] == "preliminary"
    assert provisional["interpretation"][0]["text"] == "total_below_36"
    qr["questionnaire"] = None
    del qr["questionnaire"]
    assert post(local, qr, instrument="srs").status_code == 200
    labelled = response_for(WAI_SR, {str(i): 4 for i in range(1, 12)})
    labelled["item"].append({"linkId": "12", "answer": [{"valueString": "Always"}]})
    outcome(post(local, labelled), 422)
    assert post(local, labelled, labels="true").status_code == 200


def test_problems_in_the_answers_are_a_422_outcome(local: TestClient) -> None:
    qr = response_for(WAI_SR, {str(i): 4 for i in range(1, 13)})
    qr["item"][0]["answer"] = [{"valueInteger": 9}]
    qr["item"].append({"linkId": "99", "answer": [{"valueInteger": 1}]})
    body = outcome(post(local, qr), 422)
    assert codes(body) == ["out_of_range", "unknown_item"]
    result = fhir.score_questionnaire_response(qr)
    assert body == json.loads(json.dumps(fhir.operation_outcome(result.problems)))
    missing = post(local, qr, on_invalid="missing")
    assert missing.status_code == 200


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"not json", 422, "bad_data"),
        (b"[1, 2]", 422, "bad_data"),
        ({"resourceType": "Patient"}, 422, "bad_data"),
        (
            {"resourceType": "QuestionnaireResponse", "status": "completed", "item": "x"},
            422,
            "bad_data",
        ),
        (
            {
                "resourceType": "QuestionnaireResponse",
                "status": "completed",
                "questionnaire": "https://alliance-score.github.io/fhir/Questionnaire/nope",
            },
            404,
            "unknown_instrument",
        ),
        ({"resourceType": "QuestionnaireResponse", "status": "completed"}, 422, "bad_data"),
    ],
    ids=["not-json", "array", "patient", "bad-items", "unknown-questionnaire", "no-questionnaire"],
)
def test_unreadable_responses_are_outcomes(
    local: TestClient, body: Any, status: int, code: str
) -> None:
    assert codes(outcome(post(local, body), status)) == [code]


def test_the_instrument_parameter_is_an_id(local: TestClient) -> None:
    qr = response_for(WAI_SR, {"1": 4})
    mismatch = outcome(post(local, qr, instrument="srs"), 422)
    assert codes(mismatch) == ["bad_data"]
    assert codes(outcome(post(local, qr, instrument="wai-sr.toml"), 404)) == ["unknown_instrument"]
    bad = outcome(post(local, qr, instrument="../wai-sr"), 422)
    assert codes(bad)[0] == "invalid_request"
    assert bad["issue"][1]["expression"] == ["query.instrument"]


def test_errors_of_the_service_are_outcomes_on_fhir_paths() -> None:
    qr = response_for(WAI_SR, {"1": 4})
    with TestClient(
        create_app(Settings(token=SecretStr(TOKEN), max_body_bytes=3000)), base_url=LOCAL
    ) as c:
        unauthenticated = outcome(post(c, qr), 401)
        assert unauthenticated["issue"][0]["code"] == "login"
        auth = {"Authorization": f"Bearer {TOKEN}", "content-type": FHIR_JSON}
        big = json.dumps({**qr, "text": "x" * 4000}).encode()
        assert outcome(c.post(SCORE, content=big, headers=auth), 413)["issue"][0]["code"] == (
            "too-costly"
        )

        def chunks() -> Iterator[bytes]:
            yield big[:2000]
            yield big[2000:]

        outcome(c.post(SCORE, content=chunks(), headers=auth), 413)
        assert c.post(SCORE, content=json.dumps(qr).encode(), headers=auth).status_code == 200
        outcome(c.get(SCORE, headers=auth), 405)
    with TestClient(create_app(Settings()), base_url="http://10.0.0.9") as c:
        assert codes(outcome(post(c, qr), 403)) == ["token_required"]


def test_questionnaire_of_an_instrument(local: TestClient) -> None:
    response = local.get("/instruments/wai-sr/questionnaire")
    assert response.status_code == 200
    assert response.headers["content-type"] == FHIR_JSON
    body = response.json()
    Questionnaire.model_validate(body)
    assert body == json.loads(json.dumps(fhir.questionnaire(WAI_SR)))
    missing = local.get("/instruments/nope/questionnaire")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"


@settings(max_examples=30, deadline=None)
@given(answers=answer_sets(WAI_SR), grouped=st.booleans())
def test_the_endpoint_equals_the_library(answers: dict[str, Any], grouped: bool) -> None:
    qr = response_for(WAI_SR, answers, grouped=grouped)
    with TestClient(create_app(Settings()), base_url=LOCAL) as c:
        response = post(c, qr)
    result = fhir.score_questionnaire_response(qr)
    if result.status.value == "invalid":
        expected = fhir.operation_outcome(result.problems)
        assert response.status_code == 422
    else:
        expected = fhir.observation(result, response=qr)
        assert response.status_code == 200
    assert response.json() == json.loads(json.dumps(expected))


@settings(max_examples=30, deadline=None)
@given(qr=mangled_responses(WAI_SR))
def test_any_json_gets_an_observation_or_an_outcome(qr: dict[str, Any]) -> None:
    with TestClient(create_app(Settings()), base_url=LOCAL) as c:
        response = post(c, qr)
    assert response.status_code in (200, 404, 422), response.text
    kind = "Observation" if response.status_code == 200 else "OperationOutcome"
    assert response.json()["resourceType"] == kind


def test_a_large_response_is_scored_off_the_event_loop(
    local: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from alliance_score.server.routers import fhir as fhir_router

    threads: list[str] = []
    real = fhir.score_questionnaire_response

    def spy(*args: Any, **kwargs: Any) -> Any:
        threads.append(threading.current_thread().name)
        return real(*args, **kwargs)

    monkeypatch.setattr(fhir_router, "score_questionnaire_response", spy)
    qr = response_for(WAI_SR, {str(i): 4 for i in range(1, 13)})
    assert post(local, qr).status_code == 200
    padded = {**qr, "text": {"status": "generated", "div": "x" * fhir_router.INLINE_BYTES}}
    assert post(local, padded).status_code == 200
    main, worker = threads
    assert main != worker
