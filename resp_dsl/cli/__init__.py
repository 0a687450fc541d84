"""The `resp-dsl` command line: one subcommand per module, imported lazily.

Each subcommand module defines ``add_arguments(parser)`` and ``run(args) -> int``.
Modules are imported only when their command runs, so ``check``/``plan``/``fmt``/
``graph``/``ls`` never pull in torch.

Exit codes: 0 ok, 1 recipe errors, 2 usage errors, 3 run failure, 130 interrupted.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# name -> (module, one-line help). Keep alphabetical within groups.
COMMANDS: dict[str, tuple[str, str]] = {
    "check": ("resp_dsl.cli.check", "validate recipes and report every error"),
    "plan": ("resp_dsl.cli.plan", "show the execution graph, cache state and cost estimates"),
    "graph": ("resp_dsl.cli.graph", "export the execution graph (dot, mermaid, json)"),
    "fmt": ("resp_dsl.cli.fmt", "format recipes canonically"),
    "ls": ("resp_dsl.cli.ls", "list stdlib fragments, shipped recipes and bundled models"),
    "run": ("resp_dsl.cli.run", "execute a recipe with checkpointing"),
    "eval": ("resp_dsl.cli.eval", "accuracy of any model directory (dense or exported) on a task"),
    "cache": ("resp_dsl.cli.cache", "inspect and clean the checkpoint store"),
    "zoo": ("resp_dsl.cli.zoo", "build, train and evaluate the bundled tiny models"),
}


def _build_parser(argv: list[str]) -> tuple[argparse.ArgumentParser, object | None]:
    from resp_dsl import __version__

    parser = argparse.ArgumentParser(
        prog="resp-dsl",
        description="Declarative structured pruning recipes for reasoning LLMs.",
    )
    parser.add_argument("--version", action="version", version=f"resp-dsl {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    # Only the chosen command's module is imported.
    chosen = next((a for a in argv if not a.startswith("-")), None)
    module = None
    for name, (mod_name, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        if name == chosen:
            module = importlib.import_module(mod_name)
            module.add_arguments(p)
            p.set_defaults(_module=module)
    return parser, module


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        parser, _ = _build_parser(argv)
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: usage errors exit 2, --help exits 0
        return int(exc.code or 0)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        return int(args._module.run(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
