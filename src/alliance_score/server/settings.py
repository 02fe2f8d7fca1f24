"""The service's settings: one pydantic-settings object, read from ``ALLIANCE_SCORE_*``.

Every field can be set in the environment (``ALLIANCE_SCORE_TOKEN``,
``ALLIANCE_SCORE_MAX_BATCH``, ...) or passed to :class:`Settings` directly; arguments win
over the environment. The defaults are the safe ones: no CORS, a 1 MiB body limit, at most
1,000 answer sets per batch, 10 s per request.
"""

from __future__ import annotations

import ipaddress

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["MIN_TOKEN_LENGTH", "Settings", "is_loopback"]

MIN_TOKEN_LENGTH = 16
"""Shortest bearer token accepted: a short token is guessed, whatever the comparison."""


class Settings(BaseSettings):
    """How one instance of the scoring service behaves.

    Examples
    --------
    >>> from alliance_score.server import Settings
    >>> s = Settings(max_batch=100)
    >>> s.max_body_bytes, s.max_batch, s.token is None, s.cors_origins
    (1048576, 100, True, ())
    """

    model_config = SettingsConfigDict(env_prefix="ALLIANCE_SCORE_", frozen=True, extra="forbid")

    token: SecretStr | None = Field(
        default=None,
        description="Bearer token every request but GET /health must carry "
        f"(at least {MIN_TOKEN_LENGTH} characters); compared in constant time.",
    )
    insecure_no_auth: bool = Field(
        default=False,
        description="Answer requests without a token on any address (not only loopback).",
    )
    max_body_bytes: int = Field(
        default=1_048_576, ge=1, description="Largest request body in bytes (413 beyond)."
    )
    max_batch: int = Field(
        default=1000, ge=1, le=100_000, description="Most answer sets in one batch request."
    )
    timeout_seconds: float = Field(
        default=10.0, gt=0, le=3600, description="Longest time for one request (503 beyond)."
    )
    cors_origins: tuple[str, ...] = Field(
        default=(),
        description="Origins allowed to call the service from a browser; none by default.",
    )

    @field_validator("token")
    @classmethod
    def _strong_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        secret = value.get_secret_value()
        if len(secret) < MIN_TOKEN_LENGTH or secret != secret.strip() or not secret.isprintable():
            raise ValueError(
                f"must have at least {MIN_TOKEN_LENGTH} printable "
                "characters and no surrounding spaces; make one with: "
                'python -c "import secrets; print(secrets.token_urlsafe(32))"'
            )
        return value


def is_loopback(host: str | None) -> bool:
    """Whether ``host`` (an address or ``localhost``) is a loopback address.

    Host names other than ``localhost`` count as not loopback: what they resolve to can
    change.

    Examples
    --------
    >>> [is_loopback(h) for h in ("127.0.0.1", "::1", "localhost", "0.0.0.0", "example.org")]
    [True, True, True, False, False]
    """
    if host is None:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
