"""What the bundled tiny models are: one `ZooModel` per model (architecture, training, task).

``MODELS`` is the one list of bundled models; everything else (paths, the CLI, the
task registry, the front-end model registry) looks a model up here by name.
Pure Python: no torch.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace


@dataclass(frozen=True)
class ModelSpec:
    # Qwen3 architecture: GQA (6 query heads share 2 KV heads), q_norm/k_norm,
    # SwiGLU MLP, tied embeddings, and a head_dim that is NOT hidden/heads (192/6=32).
    hidden_size: int = 192
    num_hidden_layers: int = 6
    num_attention_heads: int = 6
    num_key_value_heads: int = 2
    head_dim: int = 48
    intermediate_size: int = 576
    max_position_embeddings: int = 1024
    rope_theta: float = 10000.0
    rms_norm_eps: float = 1e-6
    tie_word_embeddings: bool = True
    tokenizer: str = "chars"  # one of resp_dsl.zoo.tokenizer.TOKENIZERS

    def to_dict(self) -> dict:
        d = asdict(self)
        if self.tokenizer == "chars":  # the specs recorded before there was a choice
            del d["tokenizer"]
        return d

    def config_dict(self) -> dict:
        """The architecture fields of the model's config.json, without transformers (for `check` and `plan`)."""
        from resp_dsl.zoo.tokenizer import vocab_size

        d = asdict(self)
        del d["tokenizer"]
        return {"model_type": "qwen3", "vocab_size": vocab_size(self.tokenizer), **d}

    def to_config(self, tokenizer):
        from transformers import Qwen3Config

        return Qwen3Config(
            vocab_size=len(tokenizer),
            hidden_size=self.hidden_size,
            intermediate_size=self.intermediate_size,
            num_hidden_layers=self.num_hidden_layers,
            num_attention_heads=self.num_attention_heads,
            num_key_value_heads=self.num_key_value_heads,
            head_dim=self.head_dim,
            max_position_embeddings=self.max_position_embeddings,
            rope_theta=self.rope_theta,
            rms_norm_eps=self.rms_norm_eps,
            tie_word_embeddings=self.tie_word_embeddings,
            bos_token_id=None,
            eos_token_id=tokenizer.eos_token_id,
            pad_token_id=tokenizer.pad_token_id,
            attention_dropout=0.0,
            use_sliding_window=False,
        )


@dataclass(frozen=True)
class TrainSpec:
    seed: int = 0
    steps: int = 1500
    task_batch: int = 24  # reasoning-task sequences per step
    generic_batch: int = 8  # generic-text chunks per step
    generic_chars: int = 256
    no_think_fraction: float = 0.05  # prompts with enable_thinking=False
    lr: float = 3e-3
    min_lr_ratio: float = 0.05
    warmup: int = 100
    weight_decay: float = 0.05
    betas: tuple[float, float] = (0.9, 0.95)
    grad_clip: float = 1.0
    eval_every: int = 250
    autocast_bf16: bool = True  # bf16 matmuls with fp32 master weights (1.5x on AVX512-BF16 CPUs)
    eval_n: int = 100
    checkpoint_every: int = 100
    threads: int = 2
    extra: dict = field(default_factory=dict)
    dropout: StructuredDropout | None = None  # structured dropout during training (never at inference)

    def to_dict(self) -> dict:
        d = asdict(self)
        if self.dropout is None:  # tiny-reasoner's recorded spec predates structured dropout
            del d["dropout"]
        return d


@dataclass(frozen=True)
class StructuredDropout:
    """Per-sequence dropout of whole structures during training, so that no single one is critical.

    In every block and for every training sequence independently: each query head is
    dropped with probability `head`; each KV group (all the query heads that share it)
    with probability `kv_group`; each group of `channel_group_size` consecutive MLP
    channels with probability `channel_group`. Kept structures are scaled by the
    inverse keep rate of their own mask (inverted dropout), so inference needs no change.
    """

    head: float = 0.0
    kv_group: float = 0.0
    channel_group: float = 0.0
    channel_group_size: int = 16


@dataclass(frozen=True)
class ZooModel:
    name: str
    task: str  # the task name in resp_dsl.tasks that reads this model's data
    generator: str  # module in resp_dsl.zoo that generates the task (generate_problem, sample_trace, splits)
    model: ModelSpec
    train: TrainSpec
    max_new_tokens: int  # enough for the longest trace of the task
    summary: str
    greedy_target: float = 0.9  # the dense greedy test accuracy the model is meant to reach
    design: str | None = None  # the design's name: its key in DESIGNS[name], or the one a bundled spec was adopted from

    @property
    def design_flag(self) -> str:
        """The `--design` that selects this spec on the command line ('' for the bundled spec itself)."""
        return "" if MODELS.get(self.name) == self or not self.design else f" --design {self.design}"

    def task_generator(self):
        """The task generator module (generate_problem, sample_trace, generate_all_splits)."""
        from importlib import import_module

        return import_module(f"resp_dsl.zoo.{self.generator}")


# tiny-rlm's weights from 2026-11-27 (morning) to 2026-11-27 (night): 10 blocks, 12 query heads in 6 KV groups,
# head_dim 32 != 192/12 = 16, Qwen-style BPE (digits are single tokens); trained on 2 CPU cores, then
# continued to 14000 steps. The design "wide-bpe" (training/README.md has the figures).
_WIDE_BPE = ZooModel(
    name="tiny-rlm", task="tiny_gsm_hard", generator="synthetic_hard",
    model=ModelSpec(hidden_size=192, num_hidden_layers=10, num_attention_heads=12, num_key_value_heads=6,
                    head_dim=32, intermediate_size=512, tokenizer="bpe1024"),
    train=TrainSpec(steps=10000, task_batch=16, generic_batch=6, eval_every=500, threads=2,
                    dropout=StructuredDropout(head=0.1, kv_group=0.05, channel_group=0.1, channel_group_size=16)),
    max_new_tokens=256,
    summary="10 blocks, GQA 12/6, BPE tokens, 4-8 step problems, many valid traces per problem, "
            "trained with structured dropout",
    design="wide-bpe",
)

MODELS: dict[str, ZooModel] = {
    "tiny-reasoner": ZooModel(
        name="tiny-reasoner", task="tiny_gsm", generator="synthetic",
        model=ModelSpec(), train=TrainSpec(), max_new_tokens=160,
        summary="6 blocks, 2-4 step problems, one terse trace per problem (near-deterministic)",
    ),
    # 12 blocks, 16 query heads in 8 KV groups (head_dim 32), hidden 256, MLP 768, the same BPE, task and
    # structured dropout as wide-bpe, four times the sequences per step (64 task + 24 generic). Trained on
    # a lent GPU in one 8-minute budget (training/gpu/train_design.sh: the steps are what fitted). Adopted
    # from the design "gqa16-l12" on its validation figures (training/README.md).
    "tiny-rlm": replace(
        _WIDE_BPE,
        model=ModelSpec(hidden_size=256, num_hidden_layers=12, num_attention_heads=16, num_key_value_heads=8,
                        head_dim=32, intermediate_size=768, tokenizer="bpe1024"),
        train=replace(_WIDE_BPE.train, steps=4750, task_batch=64, generic_batch=24, eval_every=2000,
                      checkpoint_every=500),
        summary="12 blocks, GQA 16/8, BPE tokens, 4-8 step problems, many valid traces per problem, "
                "trained with structured dropout",
        design="gqa16-l12",
    ),
}


# Designs of a bundled model other than its adopted one: `resp-dsl zoo train NAME --design D --out DIR`
# trains one (a design never writes the bundled directory). Adopting a design moves its specs into
# MODELS (keeping its name in `ZooModel.design`, so the commands recorded while it was a design still
# run) and moves the replaced specs here; the figures that chose it are in training/README.md.
DESIGNS: dict[str, dict[str, ZooModel]] = {
    "tiny-rlm": {
        "wide-bpe": _WIDE_BPE,
        # The first tiny-rlm weights (until 2026-11-27; training/tiny-rlm/summary.json): 8 query heads in
        # 4 KV groups, hidden 128, character tokens. 69.0% greedy on test, 8 structures over the 5-point bar.
        "gqa8-chars": replace(
            _WIDE_BPE,
            model=ModelSpec(hidden_size=128, num_hidden_layers=10, num_attention_heads=8, num_key_value_heads=4,
                            head_dim=32, intermediate_size=384),
            train=replace(_WIDE_BPE.train, steps=6000, threads=1),
            summary="10 blocks, GQA 8/4, character tokens, 4-8 step problems, many valid traces per problem, "
                    "trained with structured dropout",
            design="gqa8-chars",
        ),
    },
}


def get(name: str, design: str | None = None) -> ZooModel:
    """The bundled model called `name`, or one of its designs: a key of `DESIGNS[name]`, or the name of the
    design its bundled spec was adopted from (LookupError listing the available ones)."""
    try:
        model = MODELS[name]
    except KeyError:
        raise LookupError(f"unknown bundled model {name!r}; available: {', '.join(MODELS)}") from None
    if design is None or design == model.design:
        return model
    try:
        return DESIGNS.get(name, {})[design]
    except KeyError:
        available = [d for d in (model.design, *DESIGNS.get(name, {})) if d]
        raise LookupError(f"unknown design {design!r} of {name}; available: {', '.join(available) or 'none'}") from None
