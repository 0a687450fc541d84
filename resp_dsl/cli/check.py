"""`resp-dsl check FILE...`: validate recipes and report every problem.

Exit codes: 0 valid (warnings allowed), 1 recipe errors, 2 usage errors.
Never imports torch.
"""

from __future__ import annotations

from resp_dsl import codes as C

import json
import sys
from pathlib import Path

from resp_dsl.diagnostics import has_errors, render, summary


def add_common(parser) -> None:
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="NAME=VALUE",
                        help="override a recipe `param` (repeatable)")
    parser.add_argument("--model-config", metavar="FILE", help="config.json to use for model-aware checks and costs")
    parser.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")


def add_arguments(parser) -> None:
    parser.add_argument("files", nargs="*", metavar="FILE", help="recipe files (.prune)")
    add_common(parser)
    parser.add_argument("-q", "--quiet", action="store_true", help="print only errors and warnings, no summary")
    parser.add_argument("--explain", metavar="CODE",
                        help="explain a diagnostic code (e.g. out-of-range): what it means and which check reports it")


def batch_size_arg(text: str):
    """argparse type of --batch-size: a whole number >= 1 or `auto`."""
    import argparse

    from resp_dsl.generation.base import parse_batch_size

    try:
        return parse_batch_size(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1 or auto, got {text!r}") from None


def torch_for(command: str, threads: int | None = None):
    """torch, with `threads` CPU threads if given; None (after saying which extra to install) without it."""
    try:
        import torch
    except ImportError:
        print(f"resp-dsl: error: `{command}` needs the torch extra: pip install 'resp-dsl[torch]'", file=sys.stderr)
        return None
    if threads:
        torch.set_num_threads(threads)
    return torch


def parse_overrides(items: list[str]) -> dict[str, str] | None:
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            print(f"resp-dsl: error: --set expects NAME=VALUE, got {item!r}", file=sys.stderr)
            return None
        out[name.strip()] = value.strip()
    return out


def usage_error(message: str) -> int:
    print(f"resp-dsl: error: {message}", file=sys.stderr)
    return 2


def validate_paths(files: list[str]) -> str | None:
    for f in files:
        if not Path(f).exists():
            return f"no such file: {f}"
    return None


def compile_for_cli(args, *, graph: bool):
    """Shared by check and (through compile_one) plan/run/graph: (results, exit code if a usage error)."""
    from resp_dsl.compile import check_file, compile_file

    overrides = parse_overrides(args.overrides)
    if overrides is None:
        return None, 2
    files = args.files if hasattr(args, "files") else [args.file]
    problem = validate_paths(files)
    if problem:
        return None, usage_error(problem)
    if args.model_config and not Path(args.model_config).is_file():
        return None, usage_error(f"no such file: {args.model_config}")
    fn = compile_file if graph else check_file
    results = [fn(f, overrides=overrides, model_config=args.model_config) for f in files]
    for r in results:
        bad_set = [d for d in r.diagnostics if d.code == C.UNKNOWN_PARAM]
        if bad_set:
            for d in bad_set:
                print(f"resp-dsl: error: {d.message}" + (f" ({d.hint})" if d.hint else ""), file=sys.stderr)
            return None, 2
    return results, None


def compile_one(args, fmt: str):
    """Shared by plan/run/graph: (the one file's compiled result, None), or (None, exit code) after a
    usage error or the printed diagnostics of a recipe that does not compile."""
    results, code = compile_for_cli(args, graph=True)
    if results is None:
        return None, code
    if not results[0].ok:
        print_diagnostics(results, fmt)
        return None, 1
    return results[0], None


def print_diagnostics(results, fmt: str, quiet: bool = False) -> None:
    if fmt == "json":
        data = [{"file": r.file, "ok": r.ok, "diagnostics": [d.to_dict() for d in r.diagnostics]} for r in results]
        json.dump(data if len(data) > 1 else data[0], sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
        return
    for r in results:
        for d in r.diagnostics:
            print(render(d, r.sources), file=sys.stderr if d.is_error else sys.stdout)
        if not quiet:
            status = "ok" if r.ok else "failed"
            print(f"{r.file}: {status} ({summary(r.diagnostics)})")


def explain(code: str) -> str | None:
    """The explanation of a diagnostic code: its severity and summary (codes.py) and the docstring of
    every check module that reports it, found in the checks' own source (no second list to drift)."""
    import inspect

    from resp_dsl import check as checks
    from resp_dsl.codes import CODES

    if code not in CODES:
        return None
    severity, text = CODES[code]
    lines = [f"{code} ({severity}): {text}"]
    modules = [inspect.getmodule(c) for c in checks.CHECKS]
    const = "C." + code.upper().replace("-", "_")  # call sites name codes by their constants (codes.py)
    reporters = [m for m in modules if m is not None and const in inspect.getsource(m)]
    for m in reporters:
        lines += ["", f"reported by the check {m.__name__.rsplit('.', 1)[-1]} ({m.__name__.replace('.', '/')}.py):",
                  inspect.cleandoc(m.__doc__ or "")]
    if not reporters:
        lines += ["", "reported while the recipe is read, parsed and built (syntax, names, options);",
                  "the message at the caret says what was expected."]
    lines += ["", "all codes: docs/language.md, section Diagnostics"]
    return "\n".join(lines)


def run(args) -> int:
    if args.explain:
        text = explain(args.explain)
        if text is None:
            from resp_dsl.codes import CODES
            from resp_dsl.diagnostics import suggest

            hint = suggest(args.explain, list(CODES))
            print(f"resp-dsl: error: unknown diagnostic code {args.explain!r}" + (f"; {hint}" if hint else ""),
                  file=sys.stderr)
            return 2
        print(text)
        return 0
    if not args.files:
        print("resp-dsl check: error: give recipe files to check, or --explain CODE", file=sys.stderr)
        return 2
    results, code = compile_for_cli(args, graph=False)
    if results is None:
        return code
    print_diagnostics(results, args.format, args.quiet)
    return 1 if any(has_errors(r.diagnostics) for r in results) else 0
