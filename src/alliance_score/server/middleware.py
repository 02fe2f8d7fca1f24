"""ASGI middleware of the service: the access log and the request timeout.

The access log has one line per request: method, route template, status and time. Never
the path as sent (``/score/wai-sr`` is logged as ``/score/{instrument_id}``), the query
string, a header, the client's address or the body, so answers and identifiers cannot
reach a log. A request that matches no route is logged as ``<unmatched>``. An unexpected
failure is logged (``alliance_score.server.errors``) by its type and traceback, without
its message, which may quote the data.
"""

from __future__ import annotations

import asyncio
import logging
import time
import traceback
from typing import Any

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import error_response

__all__ = ["ACCESS_LOGGER", "ERROR_LOGGER", "AccessLog", "DeclaredLengthLimit", "RequestTimeout"]

ACCESS_LOGGER = "alliance_score.server.access"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
ERROR_LOGGER = "alliance_score.server.errors"
_log = logging.getLogger(ACCESS_LOGGER)
_errors = logging.getLogger(ERROR_LOGGER)


class AccessLog:
    """Log ``METHOD /route/{template} STATUS 1.2ms`` for every HTTP request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        method = scope["method"] if scope["method"] in _METHODS else "OTHER"
        try:
            await self.app(scope, receive, send_status)
        except Exception as exc:
            # The framework has answered 500 already. The exception is logged here, by
            # type and place only, and not passed on: its message may quote the data
            # (a third-party error such as pydantic's prints the input), and the
            # server would log it whole.
            status = 500
            where = "".join(traceback.format_list(traceback.extract_tb(exc.__traceback__)))
            _errors.error(
                "%s in %s %s (message withheld: it may quote request data)\n%s",
                type(exc).__qualname__,
                method,
                _template(scope),
                where.rstrip(),
            )
        finally:
            _log.info(
                "%s %s %d %.1fms",
                method,
                _template(scope),
                status,
                (time.perf_counter() - start) * 1000,
            )


def _template(scope: Scope) -> str:
    route: Any = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "<unmatched>"


class DeclaredLengthLimit:
    """Answer 413 at once when ``Content-Length`` declares a body over the limit.

    Bodies without a declared length (chunked) are counted while they are read by the
    framework's own limit (``FastAPI(max_body_size=...)``); this only gives the early
    refusal the same problem-details body as every other error.
    """

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            declared = Headers(scope=scope).get("content-length", "")
            if declared.isdigit() and int(declared) > self.max_body_bytes:
                response = error_response(
                    413,
                    "body_too_large",
                    f"The request body is larger than this service accepts "
                    f"({self.max_body_bytes} bytes).",
                    headers={"Connection": "close"},
                    path=scope["path"],
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


class RequestTimeout:
    """Answer 503 (code ``timeout``) when a request takes longer than ``seconds``.

    The time counts from the first byte of the request to the start of the response, so a
    client that sends its body slowly is cut off too. A response already started is
    not interrupted.
    """

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_started(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            async with asyncio.timeout(self.seconds) as deadline:
                await self.app(scope, receive, send_started)
        except TimeoutError:
            if not deadline.expired() or started:
                raise
            response = error_response(
                503,
                "timeout",
                f"The request took longer than this service allows ({self.seconds:g} s).",
                headers={"Retry-After": "1"},
                path=scope["path"],
            )
            await response(scope, receive, send)
