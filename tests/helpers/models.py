"""Helpers shared by the pruning tests (imported by name: tests/pruning is on sys.path)."""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

import torch

from resp_dsl.pruning.calib import CalibSample

torch.set_num_threads(1)

FAMILIES = ("qwen3", "llama", "qwen2", "mistral")


def random_samples(seed: int = 0, shapes=((12, 4), (9, 3), (15, 0), (7, 6), (11, 5))):
    g = torch.Generator().manual_seed(seed)
    return [CalibSample(torch.randint(1, 100, (n,), generator=g).tolist(), p) for n, p in shapes]


def full_selection(model):
    from resp_dsl.pruning.state import kept_layout

    return {"layers": kept_layout(model)}


def random_layout(dims, draw_bool, *, keep_any=True):
    """A random kept layout (dense indices) drawn with `draw_bool(p)`; a block may lose everything."""
    rep = dims.num_heads // dims.num_kv_heads
    layers = []
    for _ in range(dims.num_layers):
        q = [h for h in range(dims.num_heads) if draw_bool()]
        kv = sorted({h // rep for h in q})
        ch = [c for c in range(dims.intermediate_size) if draw_bool()]
        layers.append({"q_heads": q, "kv_heads": kv, "channels": ch})
    return {"layers": layers}
