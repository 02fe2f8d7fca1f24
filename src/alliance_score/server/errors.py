"""Error responses: RFC 9457 problem details with a stable ``code``.

Every error the service sends, whatever raised it (a malformed body, an unknown
instrument, a missing token, a body over the limit, a timeout, a bug), is an
``application/problem+json`` body of :class:`ErrorBody`. The ``code`` is stable and
machine-readable; ``detail`` is for people. Bodies never echo the values sent: a
validation error names the field and the rule, not the input.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import (
    AllianceScoreError,
    DataError,
    InstrumentDefinitionError,
    ProvisionalScaleError,
    UnknownInstrumentError,
)

__all__ = [
    "FHIR_JSON",
    "FHIR_PREFIX",
    "PROBLEM_JSON",
    "ApiError",
    "ErrorBody",
    "FieldError",
    "error_response",
    "error_responses",
    "install_handlers",
]

PROBLEM_JSON = "application/problem+json"
FHIR_JSON = "application/fhir+json"
FHIR_PREFIX = "/fhir/"
"""Errors on paths under this prefix are FHIR ``OperationOutcome`` resources."""
_log = logging.getLogger("alliance_score.server")

_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "body_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    500: "internal_error",
    503: "timeout",
}


class FieldError(BaseModel):
    """One rule a request broke: where (``loc``), the rule (``msg``, ``type``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    loc: list[str | int]
    msg: str
    type: str


class ErrorBody(BaseModel):
    """An error response (RFC 9457 problem details, with a stable ``code``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: str = "about:blank"
    title: str = Field(description="The HTTP status phrase.")
    status: int
    code: str = Field(
        description="Stable machine-readable code: invalid_request, bad_request, "
        "unknown_instrument, unknown_scale, provisional_scale, bad_data, batch_too_large, "
        "body_too_large, not_authenticated, token_required, not_found, "
        "method_not_allowed, timeout, definition_error, internal_error."
    )
    detail: str
    errors: list[FieldError] = Field(default_factory=list)


class ApiError(Exception):
    """An error the service answers with a problem-details body."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.headers = dict(headers or {})


_ISSUE_TYPES = {
    400: "structure",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    413: "too-costly",
    415: "not-supported",
    422: "invalid",
    503: "timeout",
}


def error_response(
    status: int,
    code: str,
    detail: str,
    *,
    errors: list[FieldError] | None = None,
    headers: Mapping[str, str] | None = None,
    path: str = "",
) -> JSONResponse:
    """The response for an error: problem details, or an ``OperationOutcome`` on a FHIR
    path (``path`` under :data:`FHIR_PREFIX`)."""
    if path.startswith(FHIR_PREFIX):
        issues = [
            {
                "severity": "error",
                "code": _ISSUE_TYPES.get(status, "exception"),
                "details": {"text": code},
                "diagnostics": detail,
            }
        ]
        issues += [
            {
                "severity": "error",
                "code": "invalid",
                "details": {"text": e.type},
                "diagnostics": e.msg,
                "expression": [".".join(map(str, e.loc))],
            }
            for e in errors or []
        ]
        return JSONResponse(
            {"resourceType": "OperationOutcome", "issue": issues},
            status_code=status,
            headers=headers,
            media_type=FHIR_JSON,
        )
    body = ErrorBody(
        title=HTTPStatus(status).phrase,
        status=status,
        code=code,
        detail=detail,
        errors=errors or [],
    )
    return JSONResponse(
        body.model_dump(mode="json"), status_code=status, headers=headers, media_type=PROBLEM_JSON
    )


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` entries of a route for the errors it can answer."""
    return {s: {"model": ErrorBody, "description": HTTPStatus(s).phrase} for s in statuses}


def _validation(request: Request, exc: Exception) -> JSONResponse:
    found = exc.errors() if isinstance(exc, RequestValidationError) else []
    errors = [
        FieldError(
            loc=[p if isinstance(p, int) else str(p) for p in e.get("loc", ())],
            msg=str(e.get("msg", "")),
            type=str(e.get("type", "")),
        )
        for e in found
    ]
    where = "; ".join(f"{'.'.join(map(str, e.loc))}: {e.msg}" for e in errors[:5])
    more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
    return error_response(
        422,
        "invalid_request",
        f"The request is malformed: {where}{more}.",
        errors=errors,
        path=request.url.path,
    )


def _http(request: Request, exc: Exception) -> JSONResponse:
    status = exc.status_code if isinstance(exc, StarletteHTTPException) else 500
    code = _CODES.get(status, "error")
    detail = {
        413: "The request body is larger than this service accepts.",
        400: "The request body cannot be read as JSON.",
        404: "No such endpoint.",
        405: "This endpoint does not accept that method.",
    }.get(status, str(getattr(exc, "detail", "")))
    headers = getattr(exc, "headers", None)
    return error_response(status, code, detail, headers=headers, path=request.url.path)


def _api(request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, ApiError):
        return _internal(request, exc)
    return error_response(
        exc.status, exc.code, exc.detail, headers=exc.headers, path=request.url.path
    )


def _library(request: Request, exc: Exception) -> JSONResponse:
    path = request.url.path
    if isinstance(exc, UnknownInstrumentError):
        return error_response(404, "unknown_instrument", str(exc), path=path)
    if isinstance(exc, ProvisionalScaleError):
        return error_response(422, "provisional_scale", str(exc), path=path)
    if isinstance(exc, InstrumentDefinitionError):
        # A broken definition in the service's own folders: the operator's problem, and
        # the message may quote the file; say which kind of failure it is, nothing more.
        _log.error("an instrument definition cannot be loaded: %s", exc.source)
        return error_response(
            500,
            "definition_error",
            "An instrument definition on the server is invalid.",
            path=path,
        )
    if isinstance(exc, DataError):
        return error_response(422, "bad_data", str(exc), path=path)
    return error_response(422, "bad_request", str(exc), path=path)


def _internal(request: Request, exc: Exception) -> JSONResponse:
    return error_response(
        500,
        "internal_error",
        "The service failed; the log has the cause.",
        path=request.url.path,
    )


def install_handlers(app: FastAPI) -> None:
    """Answer every kind of error with a problem-details body."""
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(ApiError, _api)
    app.add_exception_handler(AllianceScoreError, _library)
    app.add_exception_handler(Exception, _internal)
