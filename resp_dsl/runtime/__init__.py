"""Running recipes: the checkpoint store, the dry executor behind plan, the interpreter."""
