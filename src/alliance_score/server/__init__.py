"""The scoring service: an ASGI app over the library, for tools not written in Python.

Build one with :func:`create_app` (``create_app(Settings(...))``), or run the
module-level ``app``, which reads its settings from the environment::

    alliance-score serve                          # loopback, port 8000
    uvicorn alliance_score.server:app --no-access-log

Needs the ``server`` extra: ``pip install 'alliance-score[server]'``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import MissingDependencyError

try:
    import fastapi  # noqa: F401
    import pydantic_settings  # noqa: F401
except ImportError as exc:  # pragma: no cover - the extra is installed where tests run
    raise MissingDependencyError("The scoring service", exc.name or "fastapi", "server") from exc

from .factory import create_app, openapi_document, openapi_text
from .settings import Settings

if TYPE_CHECKING:
    from fastapi import FastAPI

__all__ = ["Settings", "app", "create_app", "openapi_document", "openapi_text"]

_app: FastAPI | None = None


def __getattr__(name: str) -> Any:
    """``app``: the service built from the environment, on first use (so importing this
    package for :func:`create_app` never reads the environment)."""
    global _app
    if name == "app":
        if _app is None:
            _app = create_app(Settings())
        return _app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
