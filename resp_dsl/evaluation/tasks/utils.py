"""Functions the shipped lm-eval task YAMLs call (``!function utils.NAME``).

They delegate to ``resp_dsl.tasks`` so that lm-eval and ``evaluate_direct`` build the same
prompts and score answers with the same extraction.
"""

from __future__ import annotations

from resp_dsl.tasks.extract import extract_choice, extract_number, numbers_equal, parse_options
from resp_dsl.tasks.gsm8k import parse_gold
from resp_dsl.tasks.mathqa import MathQaTask


def tiny_gsm_dataset(data_files: dict | None = None, **_metadata):
    """The bundled tiny_gsm splits (or `data_files`), for `custom_dataset:` in resp_tiny_gsm.yaml.

    lm-eval calls it with the task's metadata and dataset_kwargs, so the YAML works from the
    `lm_eval` CLI (`--include_path`) without a path written into it.
    """
    import datasets

    from resp_dsl import zoo

    if not data_files:
        data_files = {s: str(zoo.data_path("tiny-reasoner", s)) for s in ("train", "validation", "test")}
    return datasets.load_dataset("json", data_files=data_files)


def numeric_target(doc: dict) -> str:
    answer = str(doc["answer"])
    return parse_gold(answer) if "####" in answer else answer.strip()


def process_numeric(doc: dict, results: list[str]) -> dict:
    """exact_match: the number extracted from the response equals the gold ``#### N``."""
    pred = extract_number(results[0])
    return {"exact_match": float(numbers_equal(pred, numeric_target(doc)))}


def mathqa_doc_to_text(doc: dict) -> str:
    task = MathQaTask()
    return task.user_text(task.to_example(doc, 0, "test"))


def mathqa_target(doc: dict) -> str:
    return str(doc["correct"]).strip().lower()


def process_choice(doc: dict, results: list[str]) -> dict:
    """exact_match: the option letter read from the response equals ``correct``."""
    pred = extract_choice(results[0], parse_options(doc["options"]))
    return {"exact_match": float(pred is not None and pred == mathqa_target(doc))}
