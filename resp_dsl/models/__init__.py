"""Model families (adapters), the random-model factory and the pruned-model loader."""
