"""The whole API fuzzed from its own OpenAPI document (schemathesis, bounded examples).

Every operation gets generated requests, valid and invalid, with and without the token:
no response is a 5xx, and every response (status, media type, headers, body) is the one
the document describes.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings
from pydantic import SecretStr
from schemathesis.checks import positive_data_acceptance
from schemathesis.core.result import Ok

from alliance_score.server import Settings, create_app, openapi_document

TOKEN = "fuzz-token-0123456789abcdef"  # noqa: S105 - a test token
AUTH = {"Authorization": f"Bearer {TOKEN}"}

app = create_app(Settings(token=SecretStr(TOKEN), max_batch=20))
schema = schemathesis.openapi.from_asgi("/openapi.json", app, headers=AUTH)


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_api_conforms_to_its_schema(case: schemathesis.Case[Any]) -> None:
    # Every check but one: a request can fit the schema and still break a rule the schema
    # cannot state (a scale the instrument lacks, a provisional scale without opt-in, a
    # batch over max_batch); those are answered 413/422, as documented.
    case.call_and_validate(headers=AUTH, excluded_checks=[positive_data_acceptance])


def test_the_fuzzed_schema_covers_every_operation() -> None:
    operations = [r.ok() for r in schema.get_all_operations() if isinstance(r, Ok)]
    fuzzed = {(op.method.upper(), op.path) for op in operations}
    documented = {
        (method.upper(), path)
        for path, operations in openapi_document(app)["paths"].items()
        for method in operations
    }
    assert fuzzed == documented
    assert ("POST", "/score/{instrument_id}/batch") in fuzzed
