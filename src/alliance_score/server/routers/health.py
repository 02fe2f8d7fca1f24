"""``GET /health``: for load balancers and orchestrators; needs no token, says nothing."""

from __future__ import annotations

from fastapi import APIRouter

from ..models import Health

__all__ = ["router"]

router = APIRouter(tags=["health"])


@router.get("/health", summary="The service is up (no token needed)")
async def health() -> Health:
    """Answer ``{"status": "ok"}``. Open without a token so that probes need no secret;
    it reveals nothing else, not even the version."""
    return Health()
