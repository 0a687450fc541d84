"""The ``vllm`` backend: the same call as ``hf.generate`` against vLLM's public API.

vLLM is an optional extra (``pip install 'resp-dsl[vllm]'``) for machines with GPUs; it is
imported only when this backend runs. ``model`` is a ``vllm.LLM`` or a model directory /
hub id (a pruned intermediate model is passed as its masked dense export, which stock
vLLM serves). Each prompt gets ``SamplingParams(seed=...)`` derived from ``seed`` and its
index, so, as with ``hf``, a prompt's continuation does not depend on its batch.

Not exercised in CI (vLLM cannot be installed there): the code follows vLLM's documented
``LLM.generate(prompts, sampling_params=[...])`` and ``RequestOutput`` fields.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from resp_dsl.generation.base import (
    TEMPERATURE, TOP_K, TOP_P, Checkpoint, Generation, Progress, check_sampling, end_shard, first_batch_size,
    resume, shard_part,
)

EXTRA_HINT = "pip install 'resp-dsl[vllm]'"


class BackendUnavailable(RuntimeError):
    """A generation backend's package is not installed."""


def require_vllm() -> Any:
    """Import vllm or raise ``BackendUnavailable`` naming the extra to install."""
    try:
        import vllm
    except ImportError as exc:
        raise BackendUnavailable(
            f"the vllm generation backend needs the vllm package, which is not installed ({exc}); "
            f"install it with: {EXTRA_HINT}   (or use backend hf)"
        ) from None
    return vllm


def request_seed(seed: int, index: int) -> int:
    """The per-request vLLM seed of prompt ``index`` (a stable 31-bit hash)."""
    h = hashlib.sha256(f"resp-dsl:{seed}:{index}".encode()).digest()
    return int.from_bytes(h[:4], "big") & 0x7FFFFFFF


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
    dtype: str = "auto",
    tensor_parallel_size: int = 1,
) -> list[Generation]:
    """Continue every prompt with vLLM; same contract as ``resp_dsl.generation.hf.generate``.

    ``batch_size`` is the number of prompts handed to vLLM between checkpoints (vLLM
    schedules its own batches inside). ``tensor_parallel_size`` spreads the model over that many
    GPUs (a recipe's `model ... devices=N`).
    """
    check_sampling(max_new_tokens=max_new_tokens, temperature=temperature, top_p=top_p, top_k=top_k,
                   batch_size=batch_size)
    vllm = require_vllm()
    prompts = list(prompts)
    results = resume(prompts, checkpoint)
    if progress is not None:
        progress(len(results), len(prompts))
    todo = [i for i in range(len(prompts)) if i not in results]
    if not todo:
        return [results[i] for i in range(len(prompts))]
    todo = shard_part(todo, checkpoint)
    llm = model if isinstance(model, vllm.LLM) else vllm.LLM(model=str(model), dtype=dtype, seed=seed,
                                                                 tensor_parallel_size=tensor_parallel_size)
    stop = [s for s in (stop or ()) if s]
    batch_size = first_batch_size(batch_size, "cuda")  # `auto`: vLLM manages its memory itself
    for start in range(0, len(todo), batch_size):
        rows = todo[start : start + batch_size]
        params = [
            vllm.SamplingParams(
                n=1, temperature=temperature, top_p=top_p, top_k=top_k if top_k > 0 else -1,
                max_tokens=max_new_tokens, stop=stop or None, seed=request_seed(seed, i),
                skip_special_tokens=False,
            )
            for i in rows
        ]
        outputs = llm.generate([prompts[i] for i in rows], sampling_params=params, use_tqdm=False)
        for i, out in zip(rows, outputs):
            completion = out.outputs[0]
            if completion.finish_reason == "length":
                reason = "length"
            elif completion.stop_reason is None or isinstance(completion.stop_reason, int):
                reason = "eos"  # vLLM reports EOS / stop token ids as None or the id
            else:
                reason = "stop"
            results[i] = Generation(prompt=prompts[i], text=completion.text, token_ids=list(completion.token_ids),
                                    n_prompt_tokens=len(out.prompt_token_ids or ()), finish_reason=reason)
        if checkpoint is not None:
            checkpoint.append([results[i].to_record(i) for i in rows])
        if progress is not None:
            progress(len(results), len(prompts))
    end_shard()
    return [results[i] for i in range(len(prompts))]
