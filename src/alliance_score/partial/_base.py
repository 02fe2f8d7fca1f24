"""What every partial statistic shares: strict models, JSON, and a check before merging."""

from __future__ import annotations

from typing import Any, Self

from pydantic import BaseModel, ConfigDict, ValidationError

from ..errors import DataError

__all__ = ["Partial", "PartialMismatchError"]

MAX_JSON_BYTES = 256 << 20
"""Largest partial statistic read from JSON (a registry of millions of clients fits)."""


class PartialMismatchError(DataError):
    """Two partial statistics that do not describe the same thing cannot be merged."""


class Partial(BaseModel):
    """Base of the partial statistics: frozen, strict, serialisable, mergeable."""

    model_config = ConfigDict(frozen=True, extra="forbid", ser_json_inf_nan="constants")

    def to_json(self) -> str:
        """The statistic as JSON text (exact: floats round-trip)."""
        return self.model_dump_json()

    @classmethod
    def from_json(cls, text: str | bytes) -> Self:
        """Read a statistic written by :meth:`to_json` (validated: shapes, counts, kind).

        Raises :class:`~alliance_score.errors.DataError` for text that is not one.
        """
        if len(text) > MAX_JSON_BYTES:
            raise DataError(f"A partial statistic is at most {MAX_JSON_BYTES} bytes of JSON.")
        try:
            return cls.model_validate_json(text)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "the document"
            raise DataError(
                f"Not a valid {cls.__name__}: {where}: {first['msg']} "
                f"({exc.error_count()} error(s))."
            ) from None

    def _check_same(self, other: Any, fields: tuple[str, ...]) -> None:
        if type(other) is not type(self):
            raise PartialMismatchError(
                f"Cannot merge a {type(self).__name__} with a {type(other).__name__}."
            )
        for name in fields:
            mine, theirs = getattr(self, name), getattr(other, name)
            if mine != theirs:
                raise PartialMismatchError(
                    f"Cannot merge {type(self).__name__} objects with different {name}: "
                    f"{_short(mine)} and {_short(theirs)}."
                )


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
