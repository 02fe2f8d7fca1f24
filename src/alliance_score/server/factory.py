"""The application factory: :func:`create_app` builds one service from its settings."""

from __future__ import annotations

import json
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp

from .._version import __version__
from ..fhir.response import QuestionnaireResponse
from .errors import PROBLEM_JSON, install_handlers
from .middleware import AccessLog, DeclaredLengthLimit, RequestTimeout
from .routers import fhir, health, instruments, score
from .security import require_access
from .settings import Settings

__all__ = ["OPENAPI_PATH", "create_app", "openapi_document", "openapi_text"]

OPENAPI_PATH = "/openapi.json"

_DESCRIPTION = """\
Score validated therapeutic-alliance questionnaires over HTTP, with the same library
functions and the same result model as the Python API (`alliance_score`).

Every endpoint but `GET /health` needs `Authorization: Bearer <token>` when the service
was started with a token (`ALLIANCE_SCORE_TOKEN`); without one, it answers only on
loopback addresses. Errors are `application/problem+json` with a stable `code`.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the service.

    Parameters
    ----------
    settings
        How the service behaves (token, limits, CORS); ``None`` reads them from the
        ``ALLIANCE_SCORE_*`` environment variables.

    Examples
    --------
    >>> from alliance_score.server import Settings, create_app
    >>> app = create_app(Settings(max_batch=10))
    >>> app.state.settings.max_batch
    10
    """
    settings = Settings() if settings is None else settings
    app = _Service(
        title="alliance-score",
        version=__version__,
        description=_DESCRIPTION,
        openapi_url=None,  # served below, behind the same token as the rest
        docs_url=None,  # the interactive pages load scripts from a CDN: not for health data
        redoc_url=None,
        max_body_size=settings.max_body_bytes,
    )
    app.state.settings = settings
    guarded = [Depends(require_access)]
    app.include_router(health.router)
    app.include_router(instruments.router, dependencies=guarded)
    app.include_router(score.router, dependencies=guarded)
    app.include_router(fhir.router, dependencies=guarded)
    install_handlers(app)

    @app.get(OPENAPI_PATH, include_in_schema=False, dependencies=guarded)
    async def openapi() -> JSONResponse:
        return JSONResponse(openapi_document(app))

    app.add_middleware(RequestTimeout, seconds=settings.timeout_seconds)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type"],
        )
    return app


class _Service(FastAPI):
    """FastAPI with the access log and the declared-length check outside its own
    middleware, so that they see (and answer) every request first."""

    def build_middleware_stack(self) -> ASGIApp:
        limit = self.state.settings.max_body_bytes
        return AccessLog(DeclaredLengthLimit(super().build_middleware_stack(), limit))


def openapi_document(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI document of ``app``; error responses are ``application/problem+json``.

    The document does not depend on the settings, so the committed copy
    (``docs/openapi.json``) describes every instance.
    """
    if app.openapi_schema is None:
        doc = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
        )
        error_body = {"$ref": "#/components/schemas/ErrorBody"}
        for path in doc["paths"].values():
            for operation in path.values():
                for status, response in operation.get("responses", {}).items():
                    content = response.get("content", {})
                    if status[0] in "45" and any(
                        media.get("schema") == error_body for media in content.values()
                    ):
                        response["content"] = {PROBLEM_JSON: {"schema": error_body}}
        # the QuestionnaireResponse the FHIR endpoint reads (its body is read as bytes)
        qr = QuestionnaireResponse.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas = doc["components"]["schemas"]
        for name, schema in {**qr.pop("$defs", {}), "QuestionnaireResponse": qr}.items():
            if name in schemas and schemas[name] != schema:
                raise ValueError(f"two different schemas are both named {name!r}")
            schemas[name] = schema
        app.openapi_schema = doc
    return app.openapi_schema


def openapi_text() -> str:
    """The OpenAPI document as committed in ``docs/openapi.json`` (regenerate it with
    ``python -m alliance_score.server > docs/openapi.json``)."""
    return json.dumps(openapi_document(create_app(Settings())), indent=2) + "\n"
