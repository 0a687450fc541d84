"""What the bundled tiny reasoning model is: its architecture and training settings."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

MODEL_NAME = "tiny-reasoner"


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

    def to_dict(self) -> dict:
        return asdict(self)
