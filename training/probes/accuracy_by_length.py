"""python training/probes/accuracy_by_length.py MODEL_DIR N THREADS OUT.json

Greedy accuracy on validation problems 1..N, grouped by the length of the problem's gold solution
(its number of equations, 4 to 13 for tiny_gsm_hard): does the model fail on long problems only?"""
import collections
import json
import sys

import torch

from resp_dsl.zoo.synthetic_hard import EQUATION
from resp_dsl.zoo_build.evaluate import generate_on_task, load_bundled


def main(model_dir: str, n: int, threads: int, out: str) -> dict:
    torch.set_num_threads(threads)
    model, tok = load_bundled("tiny-rlm", model_dir)
    exs, _, correct, _ = generate_on_task(model, tok, name="tiny-rlm", n=n, split="validation", temperature=0.0)
    groups = collections.defaultdict(list)
    for ex, ok in zip(exs, correct):
        groups[len(EQUATION.findall(ex.solution or ""))].append(bool(ok))
    result = {"model": model_dir, "n": n, "accuracy": sum(correct) / n,
              "by_gold_equations": {str(k): {"n": len(v), "correct": sum(v)} for k, v in sorted(groups.items())}}
    with open(out, "w") as f:
        json.dump(result, f, indent=1)
    return result


if __name__ == "__main__":
    r = main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
    for k, v in r["by_gold_equations"].items():
        print(f"{k:>3} equations: {v['correct']:>3}/{v['n']:<3} {100 * v['correct'] / v['n']:5.1f}%")
