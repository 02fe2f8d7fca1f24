"""Keywords renamed so that one keyword has one meaning across the public API (not public).

An old keyword keeps working for one release with a :class:`DeprecationWarning` that names
the new one; giving both is an :class:`~alliance_score.errors.ArgumentError`. The table of
keywords is in ``docs/vocabulary.md``.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from ..errors import ArgumentError

__all__ = ["renamed_keywords"]

P = ParamSpec("P")
R = TypeVar("R")


def renamed_keywords(**renames: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Accept each old keyword (``old="new"``) for the new one, with a DeprecationWarning."""

    def decorate(function: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(function)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            for old, new in renames.items():
                if old in kwargs:
                    if new in kwargs:
                        raise ArgumentError(
                            f"{function.__name__}() got both {old}= (its old name) and {new}=; "
                            f"give {new}= only."
                        )
                    warnings.warn(
                        f"{function.__name__}(): {old}= is renamed {new}= (one keyword, one "
                        f"meaning across alliance-score); {old}= will be removed in the next "
                        "release.",
                        DeprecationWarning,
                        stacklevel=2,
                    )
                    value: Any = kwargs.pop(old)
                    kwargs[new] = value
            return function(*args, **kwargs)

        return wrapper

    return decorate
