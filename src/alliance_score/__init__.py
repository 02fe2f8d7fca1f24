"""alliance-score: score validated therapeutic-alliance questionnaires.

Instruments are validated data (TOML definitions with cited, per-scale verification);
one numpy kernel scores them; single responses and DataFrames are thin adapters around
that kernel.

>>> import alliance_score as als
>>> sorted(s.id for s in als.list_instruments() if "verified" in s.scales.values())
['srs', 'wai-sr']
"""

from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:  # imported on first use (below), so that the package starts fast
    from . import sessions
    from .errors import (
        AllianceScoreError,
        ArgumentError,
        ColumnMappingError,
        DataError,
        InstrumentDefinitionError,
        MissingDependencyError,
        OutputError,
        Problem,
        ProblemCode,
        ProvisionalScaleError,
        UnknownInstrumentError,
        UnknownScaleError,
        UnreadableFileError,
    )
    from .frame import FrameResult, score_frame
    from .instrument import (
        Anchor,
        Cutoff,
        Evidence,
        Instrument,
        Item,
        Licence,
        Norm,
        ResponseScale,
        Scale,
        Source,
    )
    from .mapping import resolve_columns
    from .psychometrics import (
        PsychometricReport,
        check_keying,
        item_analysis,
        item_frequencies,
        item_matrix,
        psychometric_report,
    )
    from .psychometrics.reliability import reliability
    from .registry import InstrumentSummary, list_instruments, load_instrument, parse_instrument
    from .response import Response, ScoreResult, score_response
    from .scoring import Status, score_matrix

_MODULES: dict[str, tuple[str, ...]] = {
    "errors": (
        "AllianceScoreError",
        "ArgumentError",
        "ColumnMappingError",
        "DataError",
        "InstrumentDefinitionError",
        "MissingDependencyError",
        "OutputError",
        "Problem",
        "ProblemCode",
        "ProvisionalScaleError",
        "UnknownInstrumentError",
        "UnknownScaleError",
        "UnreadableFileError",
    ),
    "frame": ("FrameResult", "score_frame"),
    "instrument": (
        "Anchor",
        "Cutoff",
        "Evidence",
        "Instrument",
        "Item",
        "Licence",
        "Norm",
        "ResponseScale",
        "Scale",
        "Source",
    ),
    "mapping": ("resolve_columns",),
    "psychometrics": (
        "PsychometricReport",
        "check_keying",
        "item_analysis",
        "item_frequencies",
        "item_matrix",
        "psychometric_report",
        "reliability",
    ),
    "registry": ("InstrumentSummary", "list_instruments", "load_instrument", "parse_instrument"),
    "response": ("Response", "ScoreResult", "score_response"),
    "scoring": ("Status", "score_matrix"),
    "sessions": ("sessions",),
}
_LAZY: dict[str, str] = {name: module for module, names in _MODULES.items() for name in names}
"""Every public name loads its module on first use: ``import alliance_score`` itself
imports nothing heavy (the definitions need pydantic, the kernel numpy, assembly pandas,
psychometrics scipy), so the command line's help and catalogue commands start fast and
a program pays only for what it uses."""


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    module = importlib.import_module(f".{module_name}", __name__)
    value = module if name == module_name else getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


__all__ = [
    "AllianceScoreError",
    "Anchor",
    "ArgumentError",
    "ColumnMappingError",
    "Cutoff",
    "DataError",
    "Evidence",
    "FrameResult",
    "Instrument",
    "InstrumentDefinitionError",
    "InstrumentSummary",
    "Item",
    "Licence",
    "MissingDependencyError",
    "Norm",
    "OutputError",
    "Problem",
    "ProblemCode",
    "ProvisionalScaleError",
    "PsychometricReport",
    "Response",
    "ResponseScale",
    "Scale",
    "ScoreResult",
    "Source",
    "Status",
    "UnknownInstrumentError",
    "UnknownScaleError",
    "UnreadableFileError",
    "__version__",
    "check_keying",
    "item_analysis",
    "item_frequencies",
    "item_matrix",
    "list_instruments",
    "load_instrument",
    "parse_instrument",
    "psychometric_report",
    "reliability",
    "resolve_columns",
    "score_frame",
    "score_matrix",
    "score_response",
    "sessions",
]
