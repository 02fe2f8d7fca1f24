"""Who may call the service: the bearer token, or loopback only.

* With a token (``ALLIANCE_SCORE_TOKEN``), every endpoint but ``GET /health`` needs
  ``Authorization: Bearer <token>``; the comparison takes the same time whatever the
  token sent (:func:`hmac.compare_digest`).
* Without one, requests are answered only when they reached the server on a loopback
  address and were not relayed by a proxy (no ``Forwarded`` or ``X-Forwarded-For``
  header), unless ``insecure_no_auth`` is set. The check is made on every request, from
  the address the connection arrived at, so it holds under any ASGI server, whatever
  address it was told to bind; a reverse proxy on the same machine that adds the usual
  forwarding header does not turn the local service into a public one without a token.
  The ``Host`` must name a loopback address too (``127.0.0.1``, ``[::1]``,
  ``localhost``), so that a web page cannot reach the local service by making its own
  host name resolve to 127.0.0.1 (DNS rebinding).
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from .errors import ApiError
from .settings import Settings, is_loopback

__all__ = ["require_access"]

_bearer = HTTPBearer(
    auto_error=False,
    description="The token set in ALLIANCE_SCORE_TOKEN. Needed whenever the service has "
    "one; a service without a token answers only on loopback addresses.",
)


def _arrived_on_loopback(request: Request) -> bool:
    if "forwarded" in request.headers or "x-forwarded-for" in request.headers:
        return False  # relayed by a proxy: the caller may be anywhere
    if not is_loopback(request.url.hostname):
        # a page on another site whose name was made to resolve to 127.0.0.1 (DNS
        # rebinding) sends its own name as Host: a local caller names a local address
        return False
    server = request.scope.get("server")
    if server is None:  # a Unix domain socket: local by construction
        return True
    return is_loopback(str(server[0]))


async def require_access(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """Refuse a request without the right token (401) or from off the machine (403)."""
    settings: Settings = request.app.state.settings
    if settings.token is not None:
        expected = settings.token.get_secret_value().encode("utf-8")
        given = credentials.credentials.encode("utf-8") if credentials is not None else b""
        if not hmac.compare_digest(given, expected):
            raise ApiError(
                401,
                "not_authenticated",
                "This service needs the header 'Authorization: Bearer <token>' with the "
                "token it was started with.",
                headers={"WWW-Authenticate": "Bearer"},
            )
        return
    if settings.insecure_no_auth or _arrived_on_loopback(request):
        return
    raise ApiError(
        403,
        "token_required",
        "This service has no token (ALLIANCE_SCORE_TOKEN) and so answers only requests "
        "made on a loopback address, not relayed by a proxy; set a token to serve others.",
    )
