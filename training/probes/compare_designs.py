"""Compare two tiny-rlm designs on the validation split (the split designs are chosen on).

    python training/probes/compare_designs.py measure MODEL_DIR THREADS OUT.json [N]
    python training/probes/compare_designs.py compare A.json B.json

`measure`: on validation problems 1..N (default 500), greedy correctness per problem; two T=0.6 samples
per problem (seeds 0 and 1): accuracy, the fraction of problems whose two traces differ, and the decode
entropy at T=0.6 of the first sample, per token and per character of the generated text (tokenizers
differ, so only the per-character figure compares designs). `compare`: B minus A, paired on the same
problems (McNemar, Newcombe 95% interval).
"""
import json
import sys


def measure(model_dir, threads, out, n=500):
    import torch

    from resp_dsl.zoo_build.card import SAMPLING, decode_statistics
    from resp_dsl.zoo_build.evaluate import generate_on_task, load_bundled

    torch.set_num_threads(threads)
    model, tok = load_bundled("tiny-rlm", model_dir)
    _, g, greedy, t_greedy = generate_on_task(model, tok, name="tiny-rlm", n=n, split="validation", temperature=0.0)
    _, a, ca, _ = generate_on_task(model, tok, name="tiny-rlm", n=n, split="validation", seed=0, **SAMPLING)
    _, b, cb, _ = generate_on_task(model, tok, name="tiny-rlm", n=n, split="validation", seed=1, **SAMPLING)
    stats = decode_statistics(model, tok, a, temperature=SAMPLING["temperature"])
    chars = sum(len(x.text) for x in a)
    result = {
        "model": str(model_dir), "n": n, "parameters": sum(p.numel() for p in model.parameters()),
        "greedy": greedy, "greedy_accuracy": sum(greedy) / n,
        "greedy_seconds": round(t_greedy, 1), "greedy_new_tokens": sum(len(x.token_ids) for x in g),
        "sampled_accuracy_seeds": [sum(ca) / n, sum(cb) / n],
        "differ_fraction": sum(x.text != y.text for x, y in zip(a, b)) / n,
        "entropy_T_per_token": stats["entropy_T"], "tokens": stats["tokens"], "chars": chars,
        "entropy_T_per_char": round(stats["entropy_T"] * stats["tokens"] / max(1, chars), 4),
    }
    json.dump(result, open(out, "w"), indent=1)
    print(json.dumps({k: v for k, v in result.items() if k != "greedy"}))


def compare(a_path, b_path):
    from resp_dsl.stats import format_p, mcnemar

    a, b = json.load(open(a_path)), json.load(open(b_path))
    assert a["n"] == b["n"]
    p = mcnemar(a["greedy"], b["greedy"])  # difference = a - b
    lo, hi = p.interval
    print(f"greedy: A {sum(a['greedy'])}/{a['n']}, B {sum(b['greedy'])}/{b['n']}; "
          f"B - A = {-100 * p.difference:+.1f} points [{-100 * hi:+.1f}, {-100 * lo:+.1f}], p = {format_p(p.p_value)}")
    for k in ("sampled_accuracy_seeds", "differ_fraction", "entropy_T_per_token", "entropy_T_per_char",
              "greedy_seconds", "parameters"):
        print(f"{k}: A {a[k]}  B {b[k]}")


if __name__ == "__main__":
    if sys.argv[1] == "measure":
        measure(sys.argv[2], int(sys.argv[3]), sys.argv[4], *(int(x) for x in sys.argv[5:6]))
    else:
        compare(sys.argv[2], sys.argv[3])
