"""Pure tensor maths of pruning: importance, structure sums, ranking, slicing. No modules, no hooks."""
