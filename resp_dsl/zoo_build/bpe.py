"""Learn a bundled BPE tokenizer (``resp-dsl zoo tokenizer bpe1024``).

The merges are learned from the training problems of a task (questions and one sampled trace
each, in the trainer's own way of drawing them; no test or validation question is read) and the
training split of the generic corpus. The result is a pure function of the `BpeSpec`, the
task generator and the generic corpus (whose checksum, which depends on the Python version, is
recorded in the file); it is written atomically and never over an existing file unless asked.
"""

from __future__ import annotations

import json
import random
from importlib import import_module
from pathlib import Path

from resp_dsl.files import write_text_atomic
from resp_dsl.zoo import generic
from resp_dsl.zoo.tokenizer import BPE, CHARACTERS, PRETOKENIZE, SPECIAL_TOKENS, UNK, bpe_path


def corpus(kind: str) -> list[str]:
    """The texts a BPE tokenizer learns from, in a fixed order."""
    spec = BPE[kind]
    gen = import_module(f"resp_dsl.zoo.{spec.generator}")
    splits = gen.generate_all_splits()
    held_out = {p.question for p in splits["test"]} | {p.question for p in splits["validation"]}
    rng = random.Random(spec.seed)
    texts: list[str] = []
    while len(texts) < 2 * spec.problems:
        p = gen.generate_problem(rng)
        if p.question in held_out:
            continue
        texts += [p.question, gen.sample_trace(p, rng)]
    return texts + list(generic.split_docstrings()["train"])


def learn(kind: str) -> str:
    """The tokenizer file (`tokenizers` JSON) of a BPE tokenizer, learned from `corpus(kind)`."""
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers

    spec = BPE[kind]
    core = Tokenizer(models.BPE(unk_token=UNK, fuse_unk=False))
    core.pre_tokenizer = pre_tokenizers.Split(Regex(PRETOKENIZE), behavior="isolated")
    core.decoder = decoders.Fuse()
    trainer = trainers.BpeTrainer(vocab_size=spec.vocab_size, special_tokens=list(SPECIAL_TOKENS),
                                  initial_alphabet=list(CHARACTERS), limit_alphabet=len(CHARACTERS),
                                  show_progress=False)
    core.train_from_iterator(corpus(kind), trainer)
    data = json.loads(core.to_str())
    # The special tokens keep the ids they have in the character tokenizer (pad 0, <|im_end|> 2, ...).
    assert [data["model"]["vocab"][t] for t in SPECIAL_TOKENS] == list(range(len(SPECIAL_TOKENS)))
    data["resp_dsl"] = {"kind": kind, "spec": vars(spec), "generic_corpus_sha256": generic.corpus_checksum()}
    return json.dumps(data, indent=1, ensure_ascii=True, sort_keys=True) + "\n"


def write(kind: str, out: Path | None = None, *, force: bool = False) -> Path:
    out = Path(out) if out else bpe_path(kind)
    if out.exists() and not force:
        raise SystemExit(f"{out} exists; pass --force to replace it")
    out.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(out, learn(kind))
    return out
