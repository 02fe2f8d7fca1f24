"""The committed OpenAPI document (docs/openapi.json) is the one the service serves."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from alliance_score.server import Settings, create_app, openapi_text

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = ROOT / "docs" / "openapi.json"


def test_committed_openapi_document_is_current() -> None:
    assert COMMITTED.read_text(encoding="utf-8") == openapi_text(), (
        "docs/openapi.json is stale; regenerate it with: "
        "python -m alliance_score.server > docs/openapi.json"
    )


def test_served_document_equals_the_committed_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ALLIANCE_SCORE_TOKEN", raising=False)
    with TestClient(create_app(Settings(max_batch=3)), base_url="http://127.0.0.1") as c:
        served = c.get("/openapi.json").json()
    assert served == json.loads(COMMITTED.read_text(encoding="utf-8"))


def test_every_error_is_documented_as_problem_details_or_an_outcome() -> None:
    doc = json.loads(openapi_text())
    for path, operations in doc["paths"].items():
        media, model = (
            ("application/fhir+json", "OperationOutcome")
            if path.startswith("/fhir/")
            else ("application/problem+json", "ErrorBody")
        )
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if status.startswith(("4", "5")):
                    assert set(response["content"]) == {media}, (path, method, status)
                    schema = response["content"][media]["schema"]
                    assert schema == {"$ref": f"#/components/schemas/{model}"}
    assert "HTTPValidationError" not in doc["components"]["schemas"]
    assert doc["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"


def test_results_are_the_library_models() -> None:
    """One model for the library and the service: the schema is ScoreResult's own."""
    from alliance_score import ScoreResult

    doc = json.loads(openapi_text())
    served = doc["components"]["schemas"]["ScoreResult"]
    own = ScoreResult.model_json_schema(mode="serialization", ref_template="{model}")
    assert set(served["properties"]) == set(own["properties"])
    assert served["required"] == own["required"]
