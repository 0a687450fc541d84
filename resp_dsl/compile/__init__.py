"""The compiler pipeline: text -> AST (+imports) -> IR -> checks -> graph.

    >>> from resp_dsl.compile import compile_file
    >>> result = compile_file("recipes/quickstart.prune")
    >>> result.ok, len(result.graph.nodes)
"""

from resp_dsl.compile.pipeline import CompileResult, check_file, compile_file, compile_text  # noqa: F401
