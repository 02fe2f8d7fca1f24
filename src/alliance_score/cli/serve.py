"""``alliance-score serve``: run the scoring service (needs the ``server`` extra)."""

from __future__ import annotations

import argparse
import copy
import os
from typing import Any

from ..errors import MissingDependencyError
from . import _common

__all__ = ["register"]

EPILOG = """\
examples:
  alliance-score serve                                  # http://127.0.0.1:8000
  alliance-score serve --port 8080 --workers 2
  ALLIANCE_SCORE_TOKEN=... alliance-score serve --host 0.0.0.0

Listening on any address other than loopback needs a token in ALLIANCE_SCORE_TOKEN
(every request then carries 'Authorization: Bearer <token>') or --insecure-no-auth.
Limits and CORS: ALLIANCE_SCORE_MAX_BODY_BYTES, ALLIANCE_SCORE_MAX_BATCH,
ALLIANCE_SCORE_TIMEOUT_SECONDS, ALLIANCE_SCORE_CORS_ORIGINS (a JSON list). TLS belongs to
a reverse proxy in front (docs/service.md). Stop with Ctrl-C.
"""


def register(subparsers: Any) -> None:
    """Add the ``serve`` command."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "serve",
        help="run the HTTP scoring service (loopback by default)",
        description="Run the HTTP scoring service: JSON endpoints for the catalogue, "
        "single and batch scores and FHIR QuestionnaireResponses, described by OpenAPI "
        "at /openapi.json. Needs: pip install 'alliance-score[server]'.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)"
    )
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    parser.add_argument(
        "--workers", type=int, default=1, metavar="N", help="worker processes (default 1)"
    )
    parser.add_argument(
        "--insecure-no-auth",
        action="store_true",
        help="answer requests without a token on a non-loopback address (only on a "
        "network you trust completely)",
    )
    parser.set_defaults(handler=_serve)


def _serve(args: argparse.Namespace) -> int:
    if not 0 <= args.port <= 65535:
        _common.error(f"--port must be from 0 to 65535; got {args.port}")
        return _common.EXIT_USAGE
    if args.workers < 1:
        _common.error(f"--workers must be 1 or more; got {args.workers}")
        return _common.EXIT_USAGE
    try:
        import uvicorn
        from pydantic import ValidationError

        from ..server import Settings, create_app
        from ..server.middleware import ACCESS_LOGGER, ERROR_LOGGER
        from ..server.settings import is_loopback
    except ImportError as exc:
        raise MissingDependencyError(
            "alliance-score serve", exc.name or "fastapi", "server"
        ) from exc
    if args.insecure_no_auth:
        # through the environment, so that worker processes see it too
        os.environ["ALLIANCE_SCORE_INSECURE_NO_AUTH"] = "true"
    try:
        settings = Settings()
    except ValidationError as exc:
        for e in exc.errors(include_url=False, include_input=False):
            name = "ALLIANCE_SCORE_" + "_".join(map(str, e["loc"])).upper()
            _common.error(f"{name}: {e['msg'].removeprefix('Value error, ')}")
        return _common.EXIT_USAGE
    if not is_loopback(args.host) and settings.token is None and not settings.insecure_no_auth:
        _common.error(
            f"--host {args.host} is not a loopback address: set a token in "
            "ALLIANCE_SCORE_TOKEN (clients send 'Authorization: Bearer <token>'), or pass "
            "--insecure-no-auth on a network you trust completely."
        )
        return _common.EXIT_USAGE
    options: dict[str, Any] = {
        "host": args.host,
        "port": args.port,
        "access_log": False,  # uvicorn's line has the client address and the query string
        "server_header": False,
        "log_config": _log_config(uvicorn.config.LOGGING_CONFIG, ACCESS_LOGGER, ERROR_LOGGER),
    }
    if args.workers == 1:
        uvicorn.run(create_app(settings), **options)
    else:
        uvicorn.run("alliance_score.server:app", workers=args.workers, **options)
    return _common.EXIT_OK


def _log_config(base: dict[str, Any], access_logger: str, error_logger: str) -> dict[str, Any]:
    """uvicorn's logging set-up plus the service's access and error logs (to standard
    error)."""
    config = copy.deepcopy(base)
    for name in (access_logger, error_logger):
        config["loggers"][name] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    return config
