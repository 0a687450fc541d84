"""An optional answer-extractor model: an instruct LLM that reads the final answer out of an output.

The paper reads final answers with Qwen3-30B-A3B-Instruct-2507 because regex extraction can be
ambiguous for outputs that lack a fixed format. Regex extraction stays the default; with an
extractor, each output is shown to the extractor model with the question, its short reply is
read with the task's own extractor, and the record keeps both the regex answer and the
extracted one, so the difference is visible per example.

    >>> ex = ModelExtractor.load("Qwen/Qwen3-30B-A3B-Instruct-2507", dtype="bf16", device="cuda")
    >>> evaluate_direct(model, tok, "gsm8k", extractor=ex)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

NUMBER_INSTRUCTION = ("Read the response to the problem below and reply with its final numeric answer only "
                      "(digits, no units). If the response gives no final answer, reply NONE.")
CHOICE_INSTRUCTION = ("Read the response to the multiple-choice problem below and reply with the letter of the "
                      "option it finally chooses, only the letter. If it chooses none, reply NONE.")


class ModelExtractor:
    """Greedy, batched, deterministic: the same outputs always give the same answers."""

    def __init__(self, model: Any, tokenizer: Any, *, max_new_tokens: int = 16, batch_size: int = 16,
                 max_response_chars: int = 6000, name: str | None = None):
        self.model, self.tokenizer = model, tokenizer
        self.max_new_tokens, self.batch_size = max_new_tokens, batch_size
        self.max_response_chars = max_response_chars
        self.name = name or getattr(getattr(model, "config", None), "_name_or_path", "extractor")

    @classmethod
    def load(cls, path: str, *, dtype: str = "auto", device: str = "cpu", **kwargs: Any) -> ModelExtractor:
        from resp_dsl.models.loading import load_model

        model, tok = load_model(path, dtype=dtype, device=device)
        return cls(model, tok, name=path, **kwargs)

    def prompt(self, question: str, response: str, kind: str) -> str:
        instruction = CHOICE_INSTRUCTION if kind == "choice" else NUMBER_INSTRUCTION
        # Keep the end of long responses: the final answer is there.
        response = response[-self.max_response_chars:]
        content = f"{instruction}\n\nProblem:\n{question}\n\nResponse:\n{response}\n\nFinal answer:"
        if getattr(self.tokenizer, "chat_template", None):
            return self.tokenizer.apply_chat_template([{"role": "user", "content": content}], tokenize=False,
                                                      add_generation_prompt=True, enable_thinking=False)
        return content + " "

    def __call__(self, questions: Sequence[str], responses: Sequence[str], *, kind: str = "number") -> list[str]:
        """The extractor's raw replies, one per response."""
        from resp_dsl.generation.hf import generate

        prompts = [self.prompt(q, r, kind) for q, r in zip(questions, responses)]
        gens = generate(self.model, self.tokenizer, prompts, max_new_tokens=self.max_new_tokens, temperature=0.0,
                        batch_size=self.batch_size, stop=["\n"])
        return [g.text.strip() for g in gens]


def apply_extractor(extractor: ModelExtractor, task: Any, examples: Sequence[Any], records: list[dict]) -> None:
    """Replace each record's prediction by the extractor's reading (the regex one is kept as `pred_regex`)."""
    kind = "choice" if getattr(task, "name", "") == "mathqa" or getattr(task, "answer_kind", "") == "choice" else "number"
    replies = extractor([ex.question for ex in examples], [r["output"] for r in records], kind=kind)
    for rec, ex, reply in zip(records, examples, replies):
        pred = None if reply.upper().startswith("NONE") else task.extract(reply)
        rec["pred_regex"] = rec["pred"]
        rec["extractor_reply"] = reply
        rec["pred"] = pred
        rec["correct"] = task.is_correct(pred, ex)
