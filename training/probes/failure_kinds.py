"""python training/probes/failure_kinds.py MODEL_DIR N [THREADS [FAILURES.json]]

Classify a model's greedy failures on validation problems: arithmetic slip, reading/bookkeeping, format."""
import sys, json, collections, torch
from resp_dsl.zoo_build.evaluate import generate_on_task, load_bundled
from resp_dsl.zoo.synthetic_hard import verify_trace, EQUATION
torch.set_num_threads(int(sys.argv[3]) if len(sys.argv) > 3 else 2)
model_dir, n = sys.argv[1], int(sys.argv[2])
model, tok = load_bundled("tiny-rlm", model_dir)
exs, gens, correct, secs = generate_on_task(model, tok, name="tiny-rlm", n=n, split="validation", temperature=0.0)
kinds = collections.Counter(); ops = collections.Counter(); opsall = collections.Counter()
rows = []
for ex, g, ok in zip(exs, gens, correct):
    text = g.text
    for a, op, b, c in EQUATION.findall(text.partition("</think>")[0]):
        opsall[op] += 1
    if ok:
        continue
    gold = int(ex.target)
    errs = verify_trace(text.split("<|im_end|>")[0], gold)
    wrong_eq = [e for e in errs if e.endswith("is wrong")]
    if "</think>" not in text:
        kind = "no_end"
    elif wrong_eq:
        kind = "arithmetic"
        for e in wrong_eq:
            ops[EQUATION.match(e.split(" is")[0]).group(2)] += 1
    elif any("not of the form" in e for e in errs):
        kind = "format"
    else:
        kind = "reading"
    kinds[kind] += 1
    rows.append({"kind": kind, "q": ex.question, "gen": text, "errs": errs})
print(json.dumps({"model": model_dir, "n": n, "accuracy": sum(correct) / n, "failures": dict(kinds),
                  "wrong_equations_by_op": dict(ops), "equations_by_op": dict(opsall), "seconds": round(secs)}))
if len(sys.argv) > 4:  # the failures themselves, to read
    json.dump(rows, open(sys.argv[4], "w"), indent=1)
