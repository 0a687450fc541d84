"""The one registry of stable diagnostic codes.

Codes are kebab-case and never change meaning once released: tests, editors and
users grep for them. Each maps to its default severity and a one-line summary
(``resp-dsl check --explain`` and docs/language.md list them).
"""

from __future__ import annotations

ERROR = "error"
WARNING = "warning"

# The codes, one constant each: call sites use these names, never the strings.
UNREADABLE_FILE = "unreadable-file"
INVALID_UTF8 = "invalid-utf8"
BINARY_FILE = "binary-file"
FILE_TOO_LARGE = "file-too-large"
TOO_DEEPLY_NESTED = "too-deeply-nested"
SYNTAX_ERROR = "syntax-error"
UNEXPECTED_CHARACTER = "unexpected-character"
UNTERMINATED_STRING = "unterminated-string"
UNEXPECTED_END = "unexpected-end"
BAD_INDENT = "bad-indent"
EMPTY_RECIPE = "empty-recipe"
UNKNOWN_STATEMENT = "unknown-statement"
UNKNOWN_OPTION = "unknown-option"
UNKNOWN_VALUE = "unknown-value"
UNKNOWN_TASK = "unknown-task"
UNKNOWN_NAME = "unknown-name"
UNKNOWN_IMPORT = "unknown-import"
UNKNOWN_PARAM = "unknown-param"
IMPORT_CYCLE = "import-cycle"
MISPLACED_STATEMENT = "misplaced-statement"
DUPLICATE_ARM = "duplicate-arm"
DUPLICATE_SETTING = "duplicate-setting"
DUPLICATE_PARAM = "duplicate-param"
DUPLICATE_OPTION = "duplicate-option"
MISSING_ARGUMENT = "missing-argument"
MISSING_MODEL = "missing-model"
MISSING_CALIBRATION = "missing-calibration"
MISSING_SCORE = "missing-score"
MISSING_SCHEDULE = "missing-schedule"
INCOMPATIBLE_OPTIONS = "incompatible-options"
WRONG_TYPE = "wrong-type"
OUT_OF_RANGE = "out-of-range"
NOT_INCREASING = "not-increasing"
EMPTY_LIST = "empty-list"
INVALID_RANGE = "invalid-range"
EVAL_POINT_NOT_REACHED = "eval-point-not-reached"
UNREACHABLE_TARGET = "unreachable-target"
PROTECT_OUT_OF_RANGE = "protect-out-of-range"
LOCAL_PATH_MISSING = "local-path-missing"
REPORT_UNBUILDABLE = "report-unbuildable"
EXPORT_PATH_ESCAPES = "export-path-escapes"
NON_FINITE_NUMBER = "non-finite-number"
DUPLICATE_SEED = "duplicate-seed"
SEED_WITHOUT_EFFECT = "seed-without-effect"
MISSING_SEEDS = "missing-seeds"
UNKNOWN_ARM = "unknown-arm"
NO_CALIBRATION_PROBLEMS = "no-calibration-problems"
CALIBRATION_TASK_MISMATCH = "calibration-task-mismatch"
UNSUPPORTED_ARCHITECTURE = "unsupported-architecture"
INCONSISTENT_CONFIG = "inconsistent-config"
MODEL_CONFIG_UNREADABLE = "model-config-unreadable"
UNIFORM_EXPORT_DENSE = "uniform-export-dense"
MODEL_CONFIG_UNKNOWN = "model-config-unknown"
INTERNAL_ERROR = "internal-error"
UNUSED_PARAM = "unused-param"
UNUSED_TASK = "unused-task"
UNUSED_VARIABLE = "unused-variable"
DUPLICATE_IMPORT = "duplicate-import"
NO_EFFECT = "no-effect"
TINY_PERCENTAGE = "tiny-percentage"

CODES: dict[str, tuple[str, str]] = {
    # input and syntax
    UNREADABLE_FILE: (ERROR, "the file cannot be read"),
    INVALID_UTF8: (ERROR, "the file is not valid UTF-8 text"),
    BINARY_FILE: (ERROR, "the file looks binary (NUL bytes)"),
    FILE_TOO_LARGE: (ERROR, "the file is larger than a recipe can reasonably be"),
    TOO_DEEPLY_NESTED: (ERROR, "brackets or blocks nest deeper than the language allows"),
    SYNTAX_ERROR: (ERROR, "the text does not follow the grammar"),
    UNEXPECTED_CHARACTER: (ERROR, "a character that no token starts with"),
    UNTERMINATED_STRING: (ERROR, "a string literal without its closing quote"),
    UNEXPECTED_END: (ERROR, "the file ends in the middle of a statement"),
    BAD_INDENT: (ERROR, "indentation that matches no enclosing block"),
    EMPTY_RECIPE: (WARNING, "the file contains no statements"),
    # names
    UNKNOWN_STATEMENT: (ERROR, "a statement head the language does not know"),
    UNKNOWN_OPTION: (ERROR, "an option the statement does not take"),
    UNKNOWN_VALUE: (ERROR, "a value outside the allowed choices"),
    UNKNOWN_TASK: (ERROR, "a task that is neither built in nor defined"),
    UNKNOWN_NAME: (ERROR, "a name that is not a parameter, loop variable or known word"),
    UNKNOWN_IMPORT: (ERROR, "a `use` target that does not exist"),
    UNKNOWN_PARAM: (ERROR, "`--set` names a parameter the recipe does not define"),
    IMPORT_CYCLE: (ERROR, "files that `use` each other in a cycle"),
    # structure
    MISPLACED_STATEMENT: (ERROR, "a statement where it is not allowed"),
    DUPLICATE_ARM: (ERROR, "two arms with the same name in one scope"),
    DUPLICATE_SETTING: (ERROR, "a setting given twice in the same scope"),
    DUPLICATE_PARAM: (ERROR, "a parameter defined twice"),
    DUPLICATE_OPTION: (ERROR, "an option given twice in one statement"),
    MISSING_ARGUMENT: (ERROR, "a statement lacks a required argument"),
    MISSING_MODEL: (ERROR, "an arm has no `model`"),
    MISSING_CALIBRATION: (ERROR, "a scoring method that needs calibration data has none"),
    MISSING_SCORE: (ERROR, "an arm prunes without a `score` statement"),
    MISSING_SCHEDULE: (ERROR, "an arm scores but never prunes"),
    INCOMPATIBLE_OPTIONS: (ERROR, "options that cannot be used together"),
    # types and ranges
    WRONG_TYPE: (ERROR, "a value of the wrong type"),
    OUT_OF_RANGE: (ERROR, "a number outside its allowed range"),
    NOT_INCREASING: (ERROR, "sparsities that do not strictly increase"),
    EMPTY_LIST: (ERROR, "an empty list where values are needed"),
    INVALID_RANGE: (ERROR, "a range `[a..b step s]` that yields no values"),
    EVAL_POINT_NOT_REACHED: (ERROR, "an evaluation or export point the schedule never reaches"),
    UNREACHABLE_TARGET: (ERROR, "a sparsity that the protected blocks make impossible"),
    PROTECT_OUT_OF_RANGE: (ERROR, "a protected block index outside the model"),
    LOCAL_PATH_MISSING: (ERROR, "a local file or directory that does not exist"),
    REPORT_UNBUILDABLE: (ERROR, "a report that cannot be built from the recipe's results"),
    EXPORT_PATH_ESCAPES: (ERROR, "an export path that is not a directory inside --out"),
    NON_FINITE_NUMBER: (ERROR, "a number that is infinite, NaN, or too large to represent"),
    # seeds and comparisons
    DUPLICATE_SEED: (ERROR, "a seed listed twice in `repeat seeds`"),
    SEED_WITHOUT_EFFECT: (ERROR, "`repeat seeds` over arms that draw no calibration data: every seed would give the same result"),
    MISSING_SEEDS: (ERROR, "`over seed` in a recipe whose arms are not repeated over seeds"),
    UNKNOWN_ARM: (ERROR, "`report compare` names an arm the recipe does not have"),
    # `eval ... on calibration`
    NO_CALIBRATION_PROBLEMS: (ERROR, "`eval ... on calibration` in an arm whose calibration draws no task problems"),
    CALIBRATION_TASK_MISMATCH: (ERROR, "`eval ... on calibration` of a task other than the one the calibration drew from"),
    # model-aware
    UNSUPPORTED_ARCHITECTURE: (ERROR, "a model family without an adapter"),
    INCONSISTENT_CONFIG: (ERROR, "a model config whose head/channel counts do not fit together"),
    MODEL_CONFIG_UNREADABLE: (ERROR, "a model config.json that cannot be read"),
    UNIFORM_EXPORT_DENSE: (WARNING, "a uniform export that keeps every parameter of the dense model"),
    MODEL_CONFIG_UNKNOWN: (WARNING, "no offline config for the model: model-aware checks skipped"),
    # never expected: a bug in resp-dsl, reported as a diagnostic instead of a traceback
    INTERNAL_ERROR: (ERROR, "resp-dsl failed on this input; please report it"),
    # hygiene
    UNUSED_PARAM: (WARNING, "a parameter that nothing reads"),
    UNUSED_TASK: (WARNING, "a task defined but never evaluated or calibrated on"),
    UNUSED_VARIABLE: (WARNING, "a loop variable that the loop body never reads"),
    DUPLICATE_IMPORT: (WARNING, "the same file used twice"),
    NO_EFFECT: (WARNING, "a statement that changes nothing"),
    TINY_PERCENTAGE: (WARNING, "a sparsity below 1% written with `%` (0.25% is 0.0025)"),
}


def severity(code: str) -> str:
    """The default severity of ``code`` (KeyError for unregistered codes: a bug)."""
    return CODES[code][0]
