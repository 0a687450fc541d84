"""resp-dsl: a declarative pruning-recipe language for reasoning LLMs.

Importing the package never imports torch: the front end (check, plan, fmt,
graph, ls) must run where torch is absent. Torch-side helpers are loaded lazily.
"""

__version__ = "0.1.0"


def load_pruned(path, **kwargs):
    """Load a model exported by resp-dsl (any export format) without remote code."""
    from resp_dsl.models.loading import load_pruned as _load_pruned

    return _load_pruned(path, **kwargs)


__all__ = ["__version__", "load_pruned"]
