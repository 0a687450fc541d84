"""`resp-dsl fmt FILE... [--check]`: rewrite recipes in canonical form (keeps comments).

With ``--check`` nothing is written; exit 1 if any file would change. Files are
replaced atomically (temp file + rename) and only when the text changes.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from resp_dsl.diagnostics import render


def add_arguments(parser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE", help="recipe files to format in place")
    parser.add_argument("--check", action="store_true", help="report files that are not formatted; change nothing")
    parser.add_argument("--diff", action="store_true", help="print a unified diff instead of writing")


def write_atomic(path: str | Path, text: str) -> None:
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent or ".", prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o777)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    if path.read_text(encoding="utf-8") != text:  # verify what we wrote
        raise OSError(f"{path}: content changed while writing")


def run(args) -> int:
    from resp_dsl.syntax.fmt import format_text
    from resp_dsl.syntax.parse import read_source

    status = 0
    for f in args.files:
        if not Path(f).exists():
            print(f"resp-dsl: error: no such file: {f}", file=sys.stderr)
            return 2
        text, diags = read_source(f)
        out = None
        if text is not None:
            out, diags = format_text(text, f)
        if out is None:
            sources = {f: text} if text is not None else {}
            for d in diags:
                print(render(d, sources), file=sys.stderr)
            status = 1
            continue
        if out == text:
            continue
        if args.check:
            print(f"{f}: would reformat")
            status = 1
        elif args.diff:
            import difflib

            sys.stdout.writelines(difflib.unified_diff(text.splitlines(True), out.splitlines(True), f, f))
        else:
            try:
                write_atomic(f, out)
            except OSError as exc:
                print(f"resp-dsl: error: cannot rewrite {f}: {exc.strerror or exc}", file=sys.stderr)
                print("  hint: fmt writes a temporary file next to the recipe; the directory must be writable "
                      "(or use --diff)", file=sys.stderr)
                status = max(status, 2)
                continue
            print(f"{f}: reformatted")
    return status
