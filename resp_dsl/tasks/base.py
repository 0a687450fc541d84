"""What every task provides: examples, prompts, answer extraction and scoring.

A task is plain data in, plain data out: ``load`` gives ``Example`` records,
``build_prompt`` a string for the model, ``extract`` the answer in a model's text,
``is_correct`` the verdict. Subclasses set how rows map to examples and how
prompts look; loading and chat templating live here.
"""

from __future__ import annotations

import dataclasses
import os
import random
from pathlib import Path
from typing import Any, ClassVar


class TaskError(Exception):
    """A task cannot be built or its data cannot be loaded; the message says what to do."""

    def __init__(self, message: str, hint: str | None = None):
        self.message, self.hint = message, hint
        super().__init__(message + (f"\n  hint: {hint}" if hint else ""))


@dataclasses.dataclass(frozen=True)
class Example:
    """One problem: ``target`` is the canonical answer string, ``solution`` the gold text."""

    id: str
    question: str
    solution: str
    target: str
    choices: tuple[str, ...] | None = None

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["choices"] = list(self.choices) if self.choices is not None else None
        return d


def has_chat_template(tokenizer: Any) -> bool:
    return tokenizer is not None and bool(getattr(tokenizer, "chat_template", None))


def render_chat(tokenizer: Any, messages: list[dict[str, str]], *, enable_thinking: bool = True) -> str:
    """Apply the tokenizer's chat template with a generation prompt.

    ``enable_thinking`` reaches templates that read it (Qwen3's); others ignore it.
    """
    return tokenizer.apply_chat_template(
        messages, tokenize=False, add_generation_prompt=True, enable_thinking=enable_thinking
    )


def load_rows(*, path: str | None = None, name: str | None = None, data_files: Any = None,
              split: str) -> list[dict[str, Any]]:
    """Rows of one split through ``datasets``: local files (``data_files``) or a hub dataset.

    Local JSON/JSONL files go through the ``json`` builder; a missing file or an offline hub
    fails with a ``TaskError`` naming the way out.
    """
    import datasets

    if data_files is not None:
        files = data_files.get(split) if isinstance(data_files, dict) else data_files
        if files is None:
            raise TaskError(f"no data file for split {split!r}",
                            hint=f"data_files has splits: {', '.join(sorted(data_files))}")
        paths = [files] if isinstance(files, (str, os.PathLike)) else list(files)
        for p in paths:
            if not Path(p).is_file():
                raise TaskError(f"data file {p} does not exist")
        try:
            ds = datasets.load_dataset("json", data_files={split: [str(p) for p in paths]}, split=split)
        except Exception as exc:  # datasets raises many types for bad JSON
            raise TaskError(f"cannot read {', '.join(map(str, paths))} as JSON lines: {exc}") from exc
        return [dict(r) for r in ds]
    try:
        ds = datasets.load_dataset(path, name, split=split)
    except Exception as exc:
        offline = os.environ.get("HF_DATASETS_OFFLINE") == "1" or os.environ.get("HF_HUB_OFFLINE") == "1"
        raise TaskError(
            f"cannot load hub dataset {path}{'/' + name if name else ''} split {split!r}: {exc}",
            hint=("offline mode is on; " if offline else "")
            + "point the task at local files with data_dir=DIR or data_files={split: PATH}, or use jsonl:PATH",
        ) from exc
    return [dict(r) for r in ds]


class Task:
    """Base class of tasks; see ``resp_dsl.tasks.get_task`` for the registry."""

    name: ClassVar[str] = ""
    version: ClassVar[int] = 1
    default_shots: ClassVar[int] = 0
    max_new_tokens: ClassVar[int] = 2048  # the generation budget a recipe gets unless it sets its own
    answer_kind: ClassVar[str] = "number"  # vocab.AnswerKind: what the extractor reads
    split_sizes: ClassVar[dict[str, int]] = {}  # problems per split, where known offline (for `plan`)
    # Strings that end a generation, beside the tokenizer's EOS (lm-eval's `until`).
    stop: ClassVar[tuple[str, ...]] = ()
    splits: ClassVar[tuple[str, ...]] = ("train", "test")

    def __init__(self, *, data_files: dict[str, Any] | None = None, data_dir: str | os.PathLike[str] | None = None,
                 path: str | None = None, hub_name: str | None = None):
        if data_dir is not None:
            d = Path(data_dir).expanduser()
            if not d.is_dir():
                raise TaskError(f"data directory {d} does not exist")
            found = {s: str(d / f"{s}.jsonl") for s in self.splits if (d / f"{s}.jsonl").is_file()}
            if not found:
                raise TaskError(f"no {'/'.join(s + '.jsonl' for s in self.splits)} in {d}")
            data_files = {**found, **(data_files or {})}
        self.data_files = data_files
        self.path = path
        self.hub_name = hub_name
        self._rows: dict[str, list[dict[str, Any]]] = {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.fingerprint()})"

    def fingerprint(self) -> dict[str, Any]:
        """What identifies this task's data and prompts (for cache keys)."""
        src = {k: str(v) for k, v in (self.data_files or {}).items()} if self.data_files else self.path
        return {"task": self.name, "version": self.version, "source": src, "hub_name": self.hub_name}

    # -- data ----------------------------------------------------------------------------------
    def rows(self, split: str) -> list[dict[str, Any]]:
        """The raw rows of ``split`` (cached per task object)."""
        if split not in self._rows:
            self._rows[split] = load_rows(path=self.path, name=self.hub_name, data_files=self.data_files, split=split)
        return self._rows[split]

    def to_example(self, row: dict[str, Any], index: int, split: str) -> Example:
        raise NotImplementedError

    def load(self, split: str, limit: int | None = None, seed: int = 0, *, shuffle: bool = False) -> list[Example]:
        """Examples of ``split``: the first ``limit`` in file order, or with ``shuffle`` a
        seeded random sample of ``limit`` (the same for the same seed)."""
        rows = self.rows(split)
        order = list(range(len(rows)))
        if shuffle:
            random.Random(seed).shuffle(order)
        if limit is not None:
            if limit < 0:
                raise TaskError(f"limit must be >= 0, got {limit}")
            order = order[:limit]
        return [self.to_example(rows[i], i, split) for i in order]

    def draw(self, split: str, n: int, seed: int) -> list[Example]:
        """The problems a calibration set draws: ``n`` of ``split``, shuffled with ``seed``. The one
        definition that `calibrate` and `eval ... on calibration` share, so both see the same problems."""
        return self.load(split, limit=n, seed=seed, shuffle=True)

    # -- prompts -------------------------------------------------------------------------------
    def exemplars(self, shots: int) -> list[tuple[str, str]]:
        """The first ``shots`` few-shot (user text, assistant text) pairs."""
        if shots:
            raise TaskError(f"task {self.name} has no few-shot exemplars; use shots=0")
        return []

    def user_text(self, example: Example) -> str:
        """The user turn that asks ``example``."""
        return example.question

    def plain_prompt(self, example: Example, shots: int) -> str:
        """The prompt without a chat template."""
        parts = [f"{q} {a}\n\n" for q, a in self.exemplars(shots)]
        return "".join(parts) + self.user_text(example)

    def messages(self, example: Example, shots: int, *, multiturn: bool = True) -> list[dict[str, str]]:
        """Chat messages: few-shot pairs as user/assistant turns (``multiturn``) or folded
        into one user message, the way lm-eval's ``fewshot_as_multiturn`` does."""
        pairs = self.exemplars(shots)
        if not multiturn:
            return [{"role": "user", "content": self.plain_prompt(example, shots)}]
        msgs: list[dict[str, str]] = []
        for q, a in pairs:
            msgs += [{"role": "user", "content": q}, {"role": "assistant", "content": a}]
        return msgs + [{"role": "user", "content": self.user_text(example)}]

    def build_prompt(self, example: Example, tokenizer: Any = None, *, shots: int | None = None,
                     chat: bool = True, enable_thinking: bool = True, multiturn: bool = True) -> str:
        """The model input for ``example``: the chat template (with ``enable_thinking``) when
        ``chat`` and the tokenizer has one, else plain text."""
        shots = self.default_shots if shots is None else shots
        if shots < 0:
            raise TaskError(f"shots must be >= 0, got {shots}")
        if chat and has_chat_template(tokenizer):
            return render_chat(tokenizer, self.messages(example, shots, multiturn=multiturn),
                               enable_thinking=enable_thinking)
        return self.plain_prompt(example, shots)

    # -- answers -------------------------------------------------------------------------------
    def extract(self, text: str) -> str | None:
        raise NotImplementedError

    def is_correct(self, pred: str | None, example: Example) -> bool:
        raise NotImplementedError

    def score(self, text: str, example: Example) -> dict[str, Any]:
        """One per-example record: the extracted answer and whether it is right."""
        pred = self.extract(text)
        return {"id": example.id, "target": example.target, "pred": pred, "correct": self.is_correct(pred, example)}
