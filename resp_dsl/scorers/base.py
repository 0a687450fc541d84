"""What a scorer is: a named way to rate every query head, KV head and MLP channel.

A scorer declares what the language and `plan` need to know without torch (its name, a one-line
summary, whether it reads calibration data, whether the token scope `decode_only`/`full`
applies, its variants, what one pass over the calibration set costs), and computes per-row /
per-column *terms* of each block's projections; ``pruning.scoring.score_structures`` sums those
into heads, KV heads and channels (``kernels.slicing.assemble_layer``). Module level stays
torch-free: a scorer imports torch inside ``terms``.

Adding a scorer = one file in this package + one line in ``SCORERS`` (``scorers/__init__.py``)
+ its entry in docs/language.md + its tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Scorer:
    name: str
    summary: str
    calibrated: bool = True  # reads calibration samples
    token_scope: bool = True  # `decode_only` / `full` choose which tokens it reads
    variants: tuple[str, ...] = ()  # the first is the default
    backward: bool = False  # a pass over the calibration set is forward + backward (else forward only)
    shardable: bool = False  # implements `partials`/`terms_from_partials`: shards of the batches add up

    def cost(self, samples: int) -> dict[str, int]:
        """Passes one scoring costs over `samples` calibration samples (what `plan` adds up)."""
        if not self.calibrated:
            return {}
        return {"forward_backward": samples} if self.backward else {"forward": samples}

    def terms(self, model, adapter, layers, samples, *, loss: str, variant: str | None, batch_size: int,
              progress, layers_per_pass: int | None) -> tuple[list[dict[str, Any]], bool]:
        """Per block, {projection name: per-row (q, k, v, gate, up) or per-column (o, down) terms},
        and whether a structure's total must be made non-negative after summation."""
        raise NotImplementedError

    def partials(self, model, adapter, layers, samples, *, loss: str, variant: str | None, batch_size: int,
                 progress, layers_per_pass: int | None, batches: list[int]) -> dict[str, Any]:
        """The additive accumulators of the calibration batches ``batches`` alone (one shard), as named
        CPU tensors; summing every shard's (``pruning.scoring.reduce_partials``) gives the whole set's."""
        raise NotImplementedError(f"{self.name} scoring cannot be sharded")

    def terms_from_partials(self, adapter, layers, partials: dict[str, Any], *,
                            variant: str | None) -> tuple[list[dict[str, Any]], bool]:
        """What ``terms`` returns, from the reduced accumulators of every shard."""
        raise NotImplementedError(f"{self.name} scoring cannot be sharded")
