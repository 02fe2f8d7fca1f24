"""alliance-score: score validated therapeutic-alliance questionnaires."""

from ._version import __version__
from .registry import list_instruments, load_instrument

__all__ = ["__version__", "list_instruments", "load_instrument"]
