"""alliance-score: score validated therapeutic-alliance questionnaires.

Instruments are validated data (TOML definitions with cited, per-scale verification);
one numpy kernel scores them; single responses and DataFrames are thin adapters around
that kernel.

>>> import alliance_score as als
>>> sorted(s.id for s in als.list_instruments() if "verified" in s.scales.values())
['srs', 'wai-sr']
"""

from . import sessions
from ._version import __version__
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
    reliability,
)
from .registry import InstrumentSummary, list_instruments, load_instrument, parse_instrument
from .response import Response, ScoreResult, score_response
from .scoring import Status, score_matrix

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
