"""The one registry of stable diagnostic codes.

Codes are kebab-case and never change meaning once released: tests, editors and
users grep for them. Each maps to its default severity and a one-line summary
(``resp-dsl check --explain`` and docs/language.md list them).
"""

from __future__ import annotations

ERROR = "error"
WARNING = "warning"

CODES: dict[str, tuple[str, str]] = {
    # input and syntax
    "unreadable-file": (ERROR, "the file cannot be read"),
    "invalid-utf8": (ERROR, "the file is not valid UTF-8 text"),
    "binary-file": (ERROR, "the file looks binary (NUL bytes)"),
    "file-too-large": (ERROR, "the file is larger than a recipe can reasonably be"),
    "too-deeply-nested": (ERROR, "brackets or blocks nest deeper than the language allows"),
    "syntax-error": (ERROR, "the text does not follow the grammar"),
    "unexpected-character": (ERROR, "a character that no token starts with"),
    "unterminated-string": (ERROR, "a string literal without its closing quote"),
    "unexpected-end": (ERROR, "the file ends in the middle of a statement"),
    "bad-indent": (ERROR, "indentation that matches no enclosing block"),
    "empty-recipe": (WARNING, "the file contains no statements"),
    # names
    "unknown-statement": (ERROR, "a statement head the language does not know"),
    "unknown-option": (ERROR, "an option the statement does not take"),
    "unknown-value": (ERROR, "a value outside the allowed choices"),
    "unknown-task": (ERROR, "a task that is neither built in nor defined"),
    "unknown-name": (ERROR, "a name that is not a parameter, loop variable or known word"),
    "unknown-import": (ERROR, "a `use` target that does not exist"),
    "unknown-param": (ERROR, "`--set` names a parameter the recipe does not define"),
    "import-cycle": (ERROR, "files that `use` each other in a cycle"),
    # structure
    "misplaced-statement": (ERROR, "a statement where it is not allowed"),
    "duplicate-arm": (ERROR, "two arms with the same name in one scope"),
    "duplicate-setting": (ERROR, "a setting given twice in the same scope"),
    "duplicate-param": (ERROR, "a parameter defined twice"),
    "duplicate-option": (ERROR, "an option given twice in one statement"),
    "missing-argument": (ERROR, "a statement lacks a required argument"),
    "missing-model": (ERROR, "an arm has no `model`"),
    "missing-calibration": (ERROR, "a scoring method that needs calibration data has none"),
    "missing-score": (ERROR, "an arm prunes without a `score` statement"),
    "missing-schedule": (ERROR, "an arm scores but never prunes"),
    "incompatible-options": (ERROR, "options that cannot be used together"),
    # types and ranges
    "wrong-type": (ERROR, "a value of the wrong type"),
    "out-of-range": (ERROR, "a number outside its allowed range"),
    "not-increasing": (ERROR, "sparsities that do not strictly increase"),
    "empty-list": (ERROR, "an empty list where values are needed"),
    "invalid-range": (ERROR, "a range `[a..b step s]` that yields no values"),
    "eval-point-not-reached": (ERROR, "an evaluation or export point the schedule never reaches"),
    "unreachable-target": (ERROR, "a sparsity that the protected blocks make impossible"),
    "protect-out-of-range": (ERROR, "a protected block index outside the model"),
    "local-path-missing": (ERROR, "a local file or directory that does not exist"),
    "report-unbuildable": (ERROR, "a report that cannot be built from the recipe's results"),
    "export-path-escapes": (ERROR, "an export path that is not a directory inside --out"),
    "non-finite-number": (ERROR, "a number that is infinite, NaN, or too large to represent"),
    # seeds and comparisons
    "duplicate-seed": (ERROR, "a seed listed twice in `repeat seeds`"),
    "seed-without-effect": (ERROR, "`repeat seeds` over arms that draw no calibration data: every seed would give the same result"),
    "missing-seeds": (ERROR, "`over seed` in a recipe whose arms are not repeated over seeds"),
    "unknown-arm": (ERROR, "`report compare` names an arm the recipe does not have"),
    # model-aware
    "unsupported-architecture": (ERROR, "a model family without an adapter"),
    "inconsistent-config": (ERROR, "a model config whose head/channel counts do not fit together"),
    "model-config-unreadable": (ERROR, "a model config.json that cannot be read"),
    "uniform-export-dense": (WARNING, "a uniform export that keeps every parameter of the dense model"),
    "model-config-unknown": (WARNING, "no offline config for the model: model-aware checks skipped"),
    # never expected: a bug in resp-dsl, reported as a diagnostic instead of a traceback
    "internal-error": (ERROR, "resp-dsl failed on this input; please report it"),
    # hygiene
    "unused-param": (WARNING, "a parameter that nothing reads"),
    "unused-task": (WARNING, "a task defined but never evaluated or calibrated on"),
    "unused-variable": (WARNING, "a loop variable that the loop body never reads"),
    "duplicate-import": (WARNING, "the same file used twice"),
    "no-effect": (WARNING, "a statement that changes nothing"),
    "tiny-percentage": (WARNING, "a sparsity below 1% written with `%` (0.25% is 0.0025)"),
}


def severity(code: str) -> str:
    """The default severity of ``code`` (KeyError for unregistered codes: a bug)."""
    return CODES[code][0]
