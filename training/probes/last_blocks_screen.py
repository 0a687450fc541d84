"""python training/probes/last_blocks_screen.py MODEL_DIR THREADS OUT.json [BLOCK ...]: greedy drop (points) on
validation problems 101-300 of every query head and KV group of the given blocks (default 8 and 9)."""
import sys, json, torch
from resp_dsl.zoo_build import card as zcard
from resp_dsl.zoo_build.evaluate import load_bundled
from resp_dsl.stats import mcnemar
torch.set_num_threads(int(sys.argv[2]))
model, tok = load_bundled("tiny-rlm", sys.argv[1])
blocks = [int(b) for b in sys.argv[4:]] or [8, 9]
N, START = 200, 100
dense = zcard._greedy_without(model, tok, "tiny-rlm", None, N, START)
out = {"dense": sum(dense) / N, "blocks": blocks, "drops": {}}
for layer in blocks:
    for kind, count in (("head", model.config.num_attention_heads), ("kv_group", model.config.num_key_value_heads)):
        for i in range(count):
            w = zcard._greedy_without(model, tok, "tiny-rlm", (kind, layer, i), N, START)
            p = mcnemar(dense, w)
            out["drops"][f"{kind} {i} of block {layer}"] = [round(100 * p.difference, 1), [round(100 * x, 1) for x in p.interval]]
            print(kind, layer, i, out["drops"][f"{kind} {i} of block {layer}"], flush=True)
d = [v[0] for v in out["drops"].values()]
out["max"] = max(d); out["over_5"] = sum(x > 5 for x in d); out["mean"] = round(sum(d) / len(d), 2)
print(json.dumps({k: v for k, v in out.items() if k != "drops"}))
json.dump(out, open(sys.argv[3], "w"), indent=1)
