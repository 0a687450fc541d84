"""Test helpers: graphs built from the op schemas (`graphs`), tiny models and samples (`models`), data locations (`data`)."""
