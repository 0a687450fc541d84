"""Building the bundled models: train (`train.py`), evaluate (`evaluate.py`), measure and write the card (`card.py`).

Only the CLI (`resp-dsl zoo train|eval|card`) imports this package. It uses the engine (tasks,
generation, pruning) on the zoo's assets; the zoo itself (`resp_dsl.zoo`: paths, specs, tokenizer,
the synthetic tasks' generators, the generic corpus) imports nothing of the engine, so the
engine may read the zoo's assets without an import cycle (`tests/test_layers.py`).
"""
