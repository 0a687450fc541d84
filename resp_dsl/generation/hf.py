"""The ``hf`` backend: batched sampling with a transformers model and its KV cache.

Prompts are sorted by token length (longest first) and cut into left-padded batches;
each batch runs one prefill and then one cached forward per new token. Rows that finish
(EOS or a stop string) are dropped from the batch and its cache as they go, so a batch
costs as much as its live rows.

Determinism: every prompt index draws its sampling noise from its own stream
(``sampling.row_rng(seed, index)``), one uniform number per generated token. A prompt's
continuation therefore does not depend on which prompts share its batch, on the batch
size, or on resuming from a checkpoint, as long as the model's logits for that row are
the same; on CPU in float32 they are (tested). On GPUs, batched kernels can differ in the
last bits between batch shapes, which can flip a near-tie draw: same seed and same batch
size reproduce exactly, other batch sizes agree statistically.

    gens = generate(model, tok, prompts, max_new_tokens=256, temperature=0.6, seed=0,
                    checkpoint=JsonlCheckpoint(store.partial_dir(key) / "gen.jsonl"))
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from resp_dsl.generation.base import (
    AUTO_BATCH, TEMPERATURE, TOP_K, TOP_P, Checkpoint, Generation, Progress, check_sampling, end_shard,
    first_batch_size, resume, shard_part,
)
from resp_dsl.generation.sampling import row_rng, sample_next
from resp_dsl.models.adapters import takes_logits_to_keep


def eos_token_ids(model: Any, tokenizer: Any) -> set[int]:
    """Every id that ends a sequence: the tokenizer's EOS and the model's generation config EOS."""
    ids: set[int] = set()
    for source in (getattr(tokenizer, "eos_token_id", None),
                   getattr(getattr(model, "generation_config", None), "eos_token_id", None)):
        if isinstance(source, int):
            ids.add(source)
        elif isinstance(source, (list, tuple)):
            ids.update(int(i) for i in source)
    return ids


def _pad_id(tokenizer: Any, eos: set[int]) -> int:
    pad = getattr(tokenizer, "pad_token_id", None)
    if pad is not None:
        return int(pad)
    return min(eos) if eos else 0


def select_cache_rows(cache: Any, rows: torch.Tensor) -> None:
    """Keep only ``rows`` of a KV cache's batch, in every layer.

    ``DynamicCache.batch_select_indices`` skips layers whose cache holds no elements, and a
    block pruned to zero KV heads caches [B, 0, T, D] tensors: those must lose the same rows,
    or the next step cannot append to them.
    """
    cache.batch_select_indices(rows)
    for layer in getattr(cache, "layers", ()):
        keys, values = getattr(layer, "keys", None), getattr(layer, "values", None)
        if isinstance(keys, torch.Tensor) and keys.dim() > 0 and keys.shape[0] != rows.numel():
            layer.keys = keys[rows]
            layer.values = values[rows]


def finish_text(tokenizer: Any, token_ids: list[int], eos: set[int], stop: Sequence[str]) -> str:
    """The text of generated ids: trailing EOS dropped, cut before the first stop string."""
    ids = token_ids[:-1] if token_ids and token_ids[-1] in eos else token_ids
    text = tokenizer.decode(ids, skip_special_tokens=False)
    cut = min((p for p in (text.find(s) for s in stop) if p >= 0), default=-1)
    return text[:cut] if cut >= 0 else text


def generate(
    model: Any,
    tokenizer: Any,
    prompts: Sequence[str],
    *,
    max_new_tokens: int,
    temperature: float = TEMPERATURE,
    top_p: float = TOP_P,
    top_k: int = TOP_K,
    seed: int = 0,
    batch_size: int | str = 64,
    stop: Sequence[str] | None = None,
    progress: Progress | None = None,
    checkpoint: Checkpoint | None = None,
    add_special_tokens: bool = False,
) -> list[Generation]:
    """Continue every prompt; results come back in input order.

    ``prompts`` are final strings (chat templates already applied, hence
    ``add_special_tokens=False``). ``stop`` strings end a row like EOS does.
    ``batch_size="auto"`` starts large (256 on CUDA, 64 on CPU) and halves the batch on
    out-of-memory until it fits; rows are seeded one by one, so the batch size does not
    change what is sampled. ``progress(done, total)`` is called after each batch. With ``checkpoint``
    (``load()``/``append(records)``, e.g. ``store.JsonlCheckpoint``), each finished batch
    is saved and a later call with the same prompts skips the saved ones.
    """
    check_sampling(max_new_tokens=max_new_tokens, temperature=temperature, top_p=top_p, top_k=top_k,
                   batch_size=batch_size)
    prompts = list(prompts)
    stop = tuple(s for s in (stop or ()) if s)
    results = resume(prompts, checkpoint)
    if progress is not None:
        progress(len(results), len(prompts))
    todo = [i for i in range(len(prompts)) if i not in results]
    if not todo:
        return [results[i] for i in range(len(prompts))]

    encoded = tokenizer([prompts[i] for i in todo], add_special_tokens=add_special_tokens)["input_ids"]
    ids = dict(zip(todo, encoded))
    empty = [i for i in todo if not ids[i]]
    if empty:
        raise ValueError(f"prompt {empty[0]} tokenizes to nothing; every prompt needs at least one token")
    order = shard_part(sorted(todo, key=lambda i: (-len(ids[i]), i)), checkpoint)
    eos = eos_token_ids(model, tokenizer)
    pad = _pad_id(tokenizer, eos)
    was_training = model.training
    model.eval()
    try:
        bs = first_batch_size(batch_size, next(model.parameters()).device.type)
        start = 0
        while start < len(order):
            rows = order[start : start + bs]
            try:
                outs = _generate_batch(
                    model, [ids[i] for i in rows], rows, max_new_tokens=max_new_tokens, temperature=temperature,
                    top_p=top_p, top_k=top_k, seed=seed, eos=eos, pad=pad, stop=stop, tokenizer=tokenizer,
                )
            except torch.OutOfMemoryError:
                if batch_size != AUTO_BATCH or bs == 1:
                    raise
                bs = max(1, min(bs, len(rows)) // 2)
                if torch.cuda.is_available():
                    torch.cuda.empty_cache()
                continue
            start += len(rows)
            for i, (token_ids, reason) in zip(rows, outs):
                results[i] = Generation(prompt=prompts[i], text=finish_text(tokenizer, token_ids, eos, stop),
                                        token_ids=token_ids, n_prompt_tokens=len(ids[i]), finish_reason=reason)
            if checkpoint is not None:
                checkpoint.append([results[i].to_record(i) for i in rows])
            if progress is not None:
                progress(len(results), len(prompts))
    finally:
        model.train(was_training)
    end_shard()
    return [results[i] for i in range(len(prompts))]


def _generate_batch(model: Any, prompt_ids: list[list[int]], indices: list[int], *, max_new_tokens: int,
                    temperature: float, top_p: float, top_k: int, seed: int, eos: set[int], pad: int,
                    stop: tuple[str, ...], tokenizer: Any) -> list[tuple[list[int], str]]:
    """Generate for one batch; returns (generated ids, finish reason) per row, in batch order."""
    device = next(model.parameters()).device
    n, width = len(prompt_ids), max(len(p) for p in prompt_ids)
    input_ids = torch.full((n, width), pad, dtype=torch.long)
    attn = torch.zeros((n, width), dtype=torch.long)
    for r, p in enumerate(prompt_ids):  # left padding
        input_ids[r, width - len(p):] = torch.tensor(p, dtype=torch.long)
        attn[r, width - len(p):] = 1
    input_ids, attn = input_ids.to(device), attn.to(device)
    pos = (attn.cumsum(-1) - 1).clamp(min=0)
    rngs = [row_rng(seed, i) for i in indices]
    generated: list[list[int]] = [[] for _ in range(n)]
    reasons: list[str | None] = [None] * n
    stop_tokens = max((len(s) for s in stop), default=0) + 1  # every token decodes to >= 1 character
    extra = {"logits_to_keep": 1} if takes_logits_to_keep(model) else {}

    live = list(range(n))  # batch row -> original row
    cache = None
    cur_ids, cur_pos = input_ids, pos
    # no_grad, not inference_mode: tensors a module caches during generation (e.g. a pruned
    # attention's index buffers) must stay usable by the backward pass of a later scoring op.
    with torch.no_grad():
        for _ in range(max_new_tokens):
            out = model(input_ids=cur_ids, attention_mask=attn, position_ids=cur_pos, past_key_values=cache,
                        use_cache=True, **extra)
            cache = out.past_key_values
            u = torch.tensor([rngs[r].random() for r in live], dtype=torch.float64)
            nxt = sample_next(out.logits[:, -1, :], u, temperature=temperature, top_p=top_p, top_k=top_k)
            for b, tok in enumerate(nxt.tolist()):
                r = live[b]
                generated[r].append(tok)
                if tok in eos:
                    reasons[r] = "eos"
                elif stop:
                    tail = tokenizer.decode(generated[r][-stop_tokens:], skip_special_tokens=False)
                    if any(s in tail for s in stop):
                        reasons[r] = "stop"
            keep = [b for b, r in enumerate(live) if reasons[r] is None]
            if not keep:
                break
            cur_ids = nxt.unsqueeze(-1)
            cur_pos = cur_pos[:, -1:] + 1
            attn = torch.cat([attn, attn.new_ones((attn.shape[0], 1))], dim=-1)
            if len(keep) < len(live):  # drop finished rows from the batch and the cache
                sel = torch.tensor(keep, device=device)
                select_cache_rows(cache, sel)
                cur_ids, cur_pos, attn = cur_ids[sel], cur_pos[sel], attn[sel]
                live = [live[b] for b in keep]
    return [(generated[r], reasons[r] or "length") for r in range(n)]
