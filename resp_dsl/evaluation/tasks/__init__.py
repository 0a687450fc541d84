"""lm-eval task configs shipped with resp-dsl (YAML) and the functions they call (utils.py)."""
