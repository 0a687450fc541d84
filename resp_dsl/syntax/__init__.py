"""Text to AST: the cached LALR parser, span-carrying AST, imports and the formatter."""

from resp_dsl.syntax.parse import parse_text, parse_file, read_source  # noqa: F401
