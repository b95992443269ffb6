"""Why a mapping has no MAESTRO result: integer codes and readable texts.

``Costs.reason`` holds one of these codes per candidate; ``OK`` (0) means the
mapping is valid.  The classes mirror what MAESTRO does with such inputs
(reference ``errors.jsonl``): reject them with a message, crash, exit silently,
or finish with runtime 0.  When several problems apply, the first one MAESTRO
meets is kept (:func:`gamma.costmodel.levels.complete_candidate`): parser
checks, then each level's structure, then the cluster product, then analysis.
"""
from __future__ import annotations

OK = 0
#: Level-structure problems MAESTRO rejects or crashes on while reading.
UNKNOWN_DIMENSION = 1
DUPLICATE_DIMENSION = 2
NO_SPATIAL_MAP = 3
TOO_MANY_SPATIAL_MAPS = 4
TOO_MANY_LEVELS = 5
RS_TEMPORAL_NOT_FULL = 6
OUTPUT_DIM_WITHOUT_FILTER = 7
BAD_DIRECTIVE_VALUE = 8
CLUSTERS_EXCEED_PES = 9
#: Problems found while analysing.
STEP_COUNT_OVERFLOW = 10
SILENT_EXIT = 11
LOWER_LEVEL_NO_STEP = 12
RUNTIME_ZERO = 13
#: Found while MAESTRO builds a cluster level below the top.
TWICE_OUTPUT_BELOW_TOP = 14

#: Code -> (short name, human-readable reason).
REASONS = {
    OK: ("ok", "valid mapping"),
    UNKNOWN_DIMENSION: (
        "rejected-other",
        "a directive names a dimension the layer does not have (e.g. K in a DSCONV layer): "
        "MAESTRO rejects it"),
    DUPLICATE_DIMENSION: (
        "rejected-other",
        "a dimension is mapped three times in one cluster level, or two dimensions are mapped "
        "twice there, or Y' (X') twice: MAESTRO mixes the directives in ways not reproduced"),
    NO_SPATIAL_MAP: ("rejected-other", "a cluster level without SpatialMap: MAESTRO rejects it"),
    TOO_MANY_SPATIAL_MAPS: (
        "rejected-other", "more than two SpatialMaps in a cluster level: MAESTRO rejects it"),
    TOO_MANY_LEVELS: (
        "crash-sigabrt", "more than three Cluster directives (five or more levels): MAESTRO aborts"),
    RS_TEMPORAL_NOT_FULL: (
        "rejected-invalid-mapping",
        "TemporalMap on R/S not the full filter (size and offset must equal Sz(R)/Sz(S)): "
        "MAESTRO rejects it"),
    OUTPUT_DIM_WITHOUT_FILTER: (
        "rejected-other",
        "Y'/X' used in a level without an R/S directive: MAESTRO reads uninitialised memory"),
    BAD_DIRECTIVE_VALUE: (
        "rejected-parse-error", "a directive or cluster size/offset is not a positive integer"),
    CLUSTERS_EXCEED_PES: (
        "crash-sigfpe", "cluster sizes exceed num_pes (product of Cluster sizes > PEs): "
        "MAESTRO divides by zero"),
    STEP_COUNT_OVERFLOW: (
        "crash-sigabrt",
        "more than 2^31-1 steps in one cluster level: MAESTRO's 32-bit step counter overflows"),
    SILENT_EXIT: (
        "silent-exit",
        "a lower level re-steps a dimension it holds whole (filter side smaller than the "
        "stride in a multi-level mapping): MAESTRO exits with status 255"),
    LOWER_LEVEL_NO_STEP: (
        "crash-sigfpe",
        "a lower cluster level has no valid step (its runtime is 0): MAESTRO divides by zero"),
    RUNTIME_ZERO: (
        "runtime-zero",
        "Y'/X' tile larger than the output (every step has no output): MAESTRO reports runtime 0"),
    TWICE_OUTPUT_BELOW_TOP: (
        "rejected-other",
        "a cluster level below the top maps both Y and Y' (or X and X'): MAESTRO looks Y' up "
        "in that level's dimensions and exits ('Dimension Y' not found')"),
}


def reason_text(code: int) -> str:
    """Readable reason for ``code``."""
    return REASONS[int(code)][1]


def reason_class(code: int) -> str:
    """MAESTRO's error class (as in the reference ``errors.jsonl``) for ``code``."""
    return REASONS[int(code)][0]
