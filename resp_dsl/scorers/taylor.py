"""First-order Taylor importance |W · ∂L/∂W| (RESP, GISP), from forward/backward hooks.

All parameters stay frozen (no `.grad` on any weight); the hidden states entering the scored
blocks are made a leaf, and a hook on each projection's output receives ∂L/∂y in backward:
- variant="elementwise" (the authors' `param_first`): |W ⊙ G| with G the gradient over the whole
  calibration set, accumulated in fp32 for the blocks being scored; `layers_per_pass=k` scores
  k blocks per pass over the data to bound memory.
- variant="vectorized" (LLM-Pruner's `vectorize`): |Σ W ⊙ G| per structure from per-row/column
  running sums (`kernels.taylor`), never forming G.
The loss is each sample's mean NLL over its counted tokens (`decode_only`: the trace; `full`: all).
"""

from __future__ import annotations

from resp_dsl.scorers.base import Scorer


class Taylor(Scorer):
    def terms(self, model, adapter, layers, samples, *, loss, variant, batch_size, progress, layers_per_pass):
        terms = taylor_terms(model, adapter, layers, samples, loss, variant, batch_size, progress, layers_per_pass)
        return terms, variant == "vectorized"

    def partials(self, model, adapter, layers, samples, *, loss, variant, batch_size, progress, layers_per_pass,
                 batches):
        return taylor_partials(model, adapter, layers, samples, loss, variant, batch_size, progress, layers_per_pass,
                               batches)

    def terms_from_partials(self, adapter, layers, partials, *, variant):
        return taylor_terms_from_partials(adapter, layers, partials, variant), variant == "vectorized"


TAYLOR = Taylor("taylor", "first-order Taylor |W x dL/dW| summed per structure (forward + backward)",
                variants=("elementwise", "vectorized"), backward=True, shardable=True)


def taylor_terms(model, adapter, layers, samples, loss, variant, batch_size, progress, layers_per_pass):
    from resp_dsl.pruning.scoring import ROWS

    terms: list[dict] = [{} for _ in layers]

    def finish_chunk(acc):
        for (i, name), a in acc.items():
            terms[i][name] = _terms_from(a, variant, name in ROWS)
            a.clear()

    _accumulate(model, adapter, layers, samples, loss, variant, batch_size, progress, layers_per_pass, finish_chunk)
    return _fill_empty(terms, adapter, layers)


def taylor_partials(model, adapter, layers, samples, loss, variant, batch_size, progress, layers_per_pass,
                    batches: list[int]) -> dict:
    """The accumulators of calibration batches ``batches`` only (a shard), as fp32 CPU tensors named
    ``"{block}.{projection}.{G|s|gb}"``: the gradient (elementwise) or the per-row/column sums
    (vectorized), already divided by the whole set's count, so shards add up to the full set's."""
    out: dict = {}

    def keep_chunk(acc):
        for (i, name), a in acc.items():
            for part in ("G", "s", "gb"):
                if part in a:
                    out[f"{i}.{name}.{part}"] = a[part].detach().float().cpu().contiguous()
            a.clear()

    _accumulate(model, adapter, layers, samples, loss, variant, batch_size, progress, layers_per_pass, keep_chunk,
                batches=batches)
    return out


def taylor_terms_from_partials(adapter, layers, partials: dict, variant):
    """The terms of ``taylor_terms`` from reduced accumulators (``taylor_partials`` summed over shards)."""
    from resp_dsl.pruning.scoring import ROWS, projections

    terms: list[dict] = [{} for _ in layers]
    for i, layer in enumerate(layers):
        for name, lin in projections(adapter, layer).items():
            found = {part: partials[f"{i}.{name}.{part}"] for part in ("G", "s", "gb") if f"{i}.{name}.{part}" in partials}
            if "G" in found or "s" in found:
                a = {"weight": lin.weight, "bias": lin.bias,
                     **{k: v.to(device=lin.weight.device) for k, v in found.items()}}
                terms[i][name] = _terms_from(a, variant, name in ROWS)
    return _fill_empty(terms, adapter, layers)


def _accumulate(model, adapter, layers, samples, loss, variant, batch_size, progress, layers_per_pass, on_chunk,
                batches: list[int] | None = None):
    """Forward + backward over the calibration batches (all, or the indices ``batches``), block
    chunk by block chunk; ``on_chunk(acc)`` receives each chunk's accumulators."""
    from resp_dsl.pruning.calib import batch_losses, counted_samples, make_batches
    from resp_dsl.pruning.scoring import ROWS, leaf_hook, pad_id, projections

    n_counted = counted_samples(samples, loss)
    if n_counted == 0:
        raise ValueError(f"no calibration sample has a target under loss={loss!r} (all tokens are prompt)")
    n_layers = len(layers)
    per_pass = n_layers if variant == "vectorized" or layers_per_pass is None else max(1, int(layers_per_pass))
    chunks = [range(a, min(a + per_pass, n_layers)) for a in range(0, n_layers, per_pass)]
    all_batches = list(make_batches(samples, batch_size, loss=loss, pad_id=pad_id(model)))
    todo = all_batches if batches is None else [all_batches[b] for b in batches]
    total, done = len(todo) * len(chunks), 0
    frozen = [(p, p.requires_grad) for p in model.parameters()]
    training = model.training
    model.eval()
    try:
        for p, _ in frozen:
            p.requires_grad_(False)
        for chunk in chunks:
            acc = {}  # (layer, name) -> accumulators
            handles = []
            leaf_owner = adapter.layers(model)[chunk[0] - 1] if chunk[0] > 0 else model.get_input_embeddings()
            handles.append(leaf_owner.register_forward_hook(leaf_hook))
            for i in chunk:
                for name, lin in projections(adapter, layers[i]).items():
                    handles.append(lin.register_forward_hook(_grad_hook(acc, (i, name), lin, variant, name in ROWS)))
            try:
                for batch in todo:
                    total_loss = batch_losses(model, batch).sum() / n_counted
                    total_loss.backward()
                    done += 1
                    if progress:
                        progress(done, total)
            finally:
                for h in handles:
                    h.remove()
            on_chunk(acc)
    finally:
        for p, flag in frozen:
            p.requires_grad_(flag)
        model.train(training)


def _fill_empty(terms, adapter, layers):
    import torch

    from resp_dsl.pruning.scoring import ROWS, projections

    for i, layer in enumerate(layers):
        # A projection with no rows never fires a useful hook: its terms are empty vectors.
        for name, lin in projections(adapter, layer).items():
            if name not in terms[i]:
                size = lin.weight.shape[0] if name in ROWS else lin.weight.shape[1]
                terms[i][name] = torch.zeros(size, device=lin.weight.device)
    return terms


def _grad_hook(acc, key, lin, variant, rows):
    import torch

    from resp_dsl.kernels import taylor as ktaylor

    def forward_hook(module, args, output):
        if not output.requires_grad:
            return
        x = args[0]

        def backward_hook(gy):
            xf = x.reshape(-1, x.shape[-1])
            g = gy.reshape(-1, gy.shape[-1])
            a = acc.setdefault(key, {"weight": module.weight, "bias": module.bias})
            if module.bias is not None:
                a["gb"] = a.get("gb", 0) + g.float().sum(0)
            if variant == "elementwise":
                if "G" not in a:
                    a["G"] = torch.zeros(module.weight.shape, dtype=torch.float32, device=g.device)
                ktaylor.accumulate_weight_grad(a["G"], xf, g)
            else:
                fn = ktaylor.row_wg_sums if rows else ktaylor.col_wg_sums
                a["s"] = a.get("s", 0) + fn(module.weight, xf, g)

        output.register_hook(backward_hook)

    return forward_hook


def _terms_from(a: dict, variant: str, rows: bool):
    from resp_dsl.kernels import taylor as ktaylor

    w, b = a["weight"], a["bias"]
    if variant == "elementwise":
        e = ktaylor.taylor_scores(w, a["G"])
        t = e.sum(1) if rows else e.sum(0)
        if rows and b is not None:
            t = t + ktaylor.taylor_scores(b, a["gb"])
        return t
    t = a["s"]
    if rows and b is not None:
        t = t + b.float() * a["gb"]
    return t
