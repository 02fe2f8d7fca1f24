"""Instruments named in requests: ids from the registry only, never a path."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

from ..errors import UnknownInstrumentError
from ..instrument import Instrument
from ..registry import load_instrument
from .models import INSTRUMENT_REF

__all__ = ["InstrumentRef", "registry_instrument"]

InstrumentRef = Annotated[
    str,
    Path(
        pattern=INSTRUMENT_REF,
        max_length=80,
        description="Instrument id or id@version from the catalogue (GET /instruments).",
        examples=["wai-sr"],
    ),
]


def registry_instrument(ref: str) -> Instrument:
    """The registry's instrument with this id or ``id@version``.

    The pattern of :data:`InstrumentRef` keeps out separators; a name ending in
    ``.toml``, which :func:`~alliance_score.load_instrument` would read as a file, is
    refused here, so no text from a request reaches the file system.
    """
    if ref.lower().endswith(".toml"):
        raise UnknownInstrumentError(ref, [], [], missing_file="the service loads ids only")
    return load_instrument(ref)
