"""The tokenizers of the bundled tiny models: one token per character, or a small BPE.

``chars`` (one token per character) keeps arithmetic learnable by a model of a few
million parameters. A ``bpe*`` tokenizer (``BPE``) is a byte-pair encoding learned
from the training problems of a task and the generic corpus, with Qwen2/3's
pre-tokenization: digits are single tokens (as Qwen's are), words merge (with
their leading space). On tiny_gsm_hard a question and its trace take half as many
tokens as characters (2.1 characters per token), a trace alone four fifths (it is
mostly digits). Its merges are stored in ``tokenizers/<kind>.json`` (built by
``resp-dsl zoo tokenizer``). Both share the special tokens, with the same ids, and
the chat template, which follows Qwen3's, including its thinking switch::

    tok.apply_chat_template([{"role": "user", "content": q}],
                            add_generation_prompt=True, enable_thinking=True,
                            tokenize=False)
    # '<|im_start|>user\\n' + q + '<|im_end|>\\n<|im_start|>assistant\\n'

With ``enable_thinking=False`` the prompt ends with an empty ``<think></think>``
block, as Qwen3's does, and the model answers without a trace.
"""

from __future__ import annotations

import json
import string
from dataclasses import dataclass
from pathlib import Path

PAD = "<|endoftext|>"
IM_START = "<|im_start|>"
IM_END = "<|im_end|>"
THINK = "<think>"
END_THINK = "</think>"
UNK = "<unk>"
SPECIAL_TOKENS = (PAD, IM_START, IM_END, THINK, END_THINK, UNK)

# Printable ASCII without the vertical tab / form feed, plus newline.
CHARACTERS = tuple(dict.fromkeys("\n" + "".join(c for c in string.printable if c not in "\r\x0b\x0c\t")))

CHAT_TEMPLATE = (
    "{%- for message in messages -%}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}"
    "{{ '<|im_start|>assistant\\n' }}"
    "{%- if enable_thinking is defined and enable_thinking is false -%}"
    "{{ '<think></think>' }}"
    "{%- endif -%}"
    "{%- endif -%}"
)


@dataclass(frozen=True)
class BpeSpec:
    """How a BPE tokenizer is learned (`resp_dsl.zoo_build.bpe`)."""

    vocab_size: int
    generator: str  # the task generator (module in resp_dsl.zoo) whose training problems and traces it reads
    problems: int  # problems drawn (question and one sampled trace each); test/validation questions skipped
    seed: int = 0


BPE: dict[str, BpeSpec] = {
    "bpe1024": BpeSpec(vocab_size=1024, generator="synthetic_hard", problems=20000),
}
TOKENIZERS = ("chars", *BPE)
TOKENIZER_DIR = Path(__file__).resolve().parent / "tokenizers"

# Qwen2/3's pre-tokenizer pattern with one token per digit.
PRETOKENIZE = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
               r"|\s*[\r\n]+|\s+(?!\S)|\s+")


def describe(kind: str) -> str:
    """One line for a model card."""
    if kind == "chars":
        return "one token per character"
    spec = BPE[kind]
    return (f"byte-pair encoding, {spec.vocab_size} tokens learned from the task's training problems and the generic "
            f"corpus (`resp-dsl zoo tokenizer {kind}`); Qwen-style pre-tokenization, one token per digit")


def bpe_path(kind: str) -> Path:
    if kind not in BPE:
        raise ValueError(f"unknown BPE tokenizer {kind!r}; available: {', '.join(BPE)}")
    return TOKENIZER_DIR / f"{kind}.json"


def vocab_size(kind: str = "chars") -> int:
    """Number of tokens of a tokenizer, without loading `tokenizers` (for `check` and `plan`)."""
    if kind == "chars":
        return len(vocabulary())
    data = json.loads(bpe_path(kind).read_text(encoding="utf-8"))
    return len(set(data["model"]["vocab"].values()) | {t["id"] for t in data["added_tokens"]})


def vocabulary() -> dict[str, int]:
    """Token -> id: the special tokens first, then one id per character."""
    tokens = list(SPECIAL_TOKENS) + list(CHARACTERS)
    return {t: i for i, t in enumerate(tokens)}


def build_tokenizer(kind: str = "chars"):
    """Build a tokenizer (`TOKENIZERS`) as a `transformers.PreTrainedTokenizerFast`.

    Characters outside printable ASCII map to ``<unk>``; tabs are expanded by
    callers that feed free text (see `normalize_text`).
    """
    from tokenizers import Tokenizer, decoders, models

    if kind == "chars":
        # BPE without merges over an unsplit input is exactly one token per character.
        core = Tokenizer(models.BPE(vocab=vocabulary(), merges=[], unk_token=UNK, fuse_unk=False))
        core.decoder = decoders.Fuse()
        core.add_special_tokens(list(SPECIAL_TOKENS))
    else:
        path = bpe_path(kind)
        if not path.is_file():
            raise FileNotFoundError(f"{path} is missing; build it with `resp-dsl zoo tokenizer {kind}`")
        data = json.loads(path.read_text(encoding="utf-8"))
        data.pop("resp_dsl", None)  # how it was learned (kept in the file, unknown to `tokenizers`)
        core = Tokenizer.from_str(json.dumps(data))
    return wrap(core)


def wrap(core):
    """The `transformers` tokenizer around a `tokenizers.Tokenizer` core: special tokens and chat template."""
    from transformers import PreTrainedTokenizerFast

    tok = PreTrainedTokenizerFast(
        tokenizer_object=core,
        bos_token=None,
        eos_token=IM_END,
        pad_token=PAD,
        unk_token=UNK,
        padding_side="left",
        model_max_length=4096,
        clean_up_tokenization_spaces=False,
    )
    tok.chat_template = CHAT_TEMPLATE
    return tok


def normalize_text(text: str) -> str:
    """Map free text onto the tokenizer's alphabet (tabs to spaces, others dropped)."""
    text = text.replace("\t", "    ").replace("\r\n", "\n").replace("\r", "\n")
    allowed = set(CHARACTERS)
    return "".join(c for c in text if c in allowed)
