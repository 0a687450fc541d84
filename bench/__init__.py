"""Measured figures of resp-dsl; `python -m bench [--quick]` runs them all and prints one table (docs/bench.md)."""
