"""Measure a bundled model and write its model card (``resp-dsl zoo card NAME [--section S]``).

The card is made of sections, each measured by one function here and stored in
``card.json`` beside the weights together with the exact command that produced it,
so a card can be filled in one section at a time and every figure names its command:

* ``dense``: greedy and sampled (T=0.6, top-p 0.95) accuracy on the test split, 95% Wilson intervals;
* ``diversity``: two sampled traces per prompt (seeds 0 and 1): how many differ, and the mean
  decode entropy / NLL of the model on its own sampled tokens;
* ``sensitivity``: greedy accuracy on the validation split with one structure removed (masked):
  every query head, every KV group, a seeded sample of MLP channels;
* ``magnitude``: data-free magnitude pruning to 20/30/40% of prunable parameters, sampled;
* ``taylor``: one-shot Taylor (decode-only loss) on 128 self-generated traces, 30%, three
  calibration seeds.

Pruning goes through the project's engine (`resp_dsl.pruning`: score, select, apply). A section
that is not measured yet is rendered with the command that measures it. Training figures come
from the training run's own summary (``training.json``).
"""

from __future__ import annotations

import json
import os
import platform
import random
import time
from pathlib import Path

from resp_dsl.files import MODEL_CARD_JSON, TRAINING_RECORD_JSON, write_text_atomic
from resp_dsl.generation.base import TEMPERATURE, TOP_P
from resp_dsl.stats import format_p
from resp_dsl.zoo.tokenizer import describe as describe_tokenizer

SECTIONS = ("dense", "diversity", "sensitivity", "magnitude", "taylor")
PRUNE_TARGETS = (0.2, 0.3, 0.4)
TAYLOR_TARGET = 0.3
TAYLOR_SEEDS = (0, 1, 2)
CALIBRATION_N = 128
SENSITIVITY_N = 100  # the screen: the first validation problems, per single-structure measurement
CONFIRM_N = 400  # the confirmation of a structure over the bar: the next validation problems (101-500)
SENSITIVITY_CHANNELS = 32  # MLP channels sampled (seeded) for the profile
SAMPLING = {"temperature": TEMPERATURE, "top_p": TOP_P}  # the API defaults; top-k off
COST_LIMIT_POINTS = 5.0  # the bar: no single structure may cost more than this


def protect_spec():
    """First and last blocks kept: int(0.1·L) blocks at the front (at least block 0), and the last."""
    from resp_dsl.pruning.select import ProtectSpec

    return ProtectSpec(first_fraction=0.1, last=True, blocks=(0,))


def command(name: str, section: str, opts: dict) -> str:
    args = " ".join(f"--{k.replace('_', '-')} {v}" for k, v in opts.items())
    return f"resp-dsl zoo card {name} --section {section}" + (f" {args}" if args else "")


# -- sections ------------------------------------------------------------------------------------------

def measure_dense(model, tok, name: str, *, n: int, seed: int, progress=None, **_) -> dict:
    from resp_dsl.zoo_build.evaluate import accuracy

    return {"greedy": accuracy(model, tok, name=name, n=n, temperature=0.0, seed=seed, progress=progress),
            "sampled": accuracy(model, tok, name=name, n=n, seed=seed, progress=progress, **SAMPLING)}


def measure_diversity(model, tok, name: str, *, n: int, seed: int, progress=None, **_) -> dict:
    """Two sampled traces per prompt (seeds `seed`, `seed`+1); entropy and NLL on the first seed's tokens."""
    from resp_dsl.zoo_build.evaluate import generate_on_task

    _, a, ca, _ = generate_on_task(model, tok, name=name, n=n, seed=seed, progress=progress, **SAMPLING)
    _, b, cb, _ = generate_on_task(model, tok, name=name, n=n, seed=seed + 1, progress=progress, **SAMPLING)
    differ = sum(x.text != y.text for x, y in zip(a, b))
    stats = decode_statistics(model, tok, a, temperature=SAMPLING["temperature"])
    return {"n": len(a), "seeds": [seed, seed + 1], "differ": differ, "differ_fraction": differ / max(1, len(a)),
            "accuracy_seeds": [sum(ca) / max(1, len(ca)), sum(cb) / max(1, len(cb))], **stats}


def decode_statistics(model, tok, gens, *, temperature: float) -> dict:
    """Mean over generated tokens of: entropy of the sampling distribution at `temperature` and at T=1,
    and NLL (T=1) of the token that was sampled, all in nats/token (teacher-forced on prompt + generation)."""
    import torch

    ent_t = ent_1 = nll = 0.0
    count = 0
    model.eval()
    with torch.no_grad():
        for g in gens:
            if not g.token_ids:
                continue
            prompt_ids = tok(g.prompt, add_special_tokens=False)["input_ids"]
            ids = torch.tensor([prompt_ids + list(g.token_ids)])
            logits = model(input_ids=ids).logits[0, len(prompt_ids) - 1 : -1].float()
            targets = ids[0, len(prompt_ids):]
            logp = torch.log_softmax(logits, -1)
            logp_t = torch.log_softmax(logits / temperature, -1)
            ent_1 += float(-(logp.exp() * logp).sum())
            ent_t += float(-(logp_t.exp() * logp_t).sum())
            nll += float(-logp.gather(1, targets[:, None]).sum())
            count += len(targets)
    c = max(1, count)
    return {"tokens": count, "entropy_T": round(ent_t / c, 4), "entropy_T1": round(ent_1 / c, 4),
            "nll_T1": round(nll / c, 4), "entropy_temperature": temperature}


def single_structures(dims, *, n_channels: int, seed: int) -> list[tuple[str, int, int]]:
    """(kind, block, index) of every query head, every KV group, and `n_channels` seeded MLP channels."""
    out = [("head", l, h) for l in range(dims.num_layers) for h in range(dims.num_heads)]
    out += [("kv_group", l, g) for l in range(dims.num_layers) for g in range(dims.num_kv_heads)]
    pairs = [(l, c) for l in range(dims.num_layers) for c in range(dims.intermediate_size)]
    out += [("channel", l, c) for l, c in sorted(random.Random(seed).sample(pairs, n_channels))]
    return out


def layout_without(dims, kind: str, layer: int, index: int) -> list[dict[str, list[int]]]:
    """The dense layout less one structure (a KV group takes its query heads with it)."""
    from resp_dsl.pruning.state import full_layout

    layout = full_layout(dims)
    block = layout[layer]
    if kind == "head":
        block["q_heads"] = [h for h in block["q_heads"] if h != index]
    elif kind == "kv_group":
        block["kv_heads"] = [g for g in block["kv_heads"] if g != index]
        block["q_heads"] = [h for h in block["q_heads"] if h // dims.heads_per_group != index]
    elif kind == "channel":
        block["channels"] = [c for c in block["channels"] if c != index]
    else:
        raise ValueError(f"unknown structure kind {kind!r}")
    return layout


def without(model, kind: str, layer: int, index: int):
    """A masked copy of `model` with one structure removed."""
    import copy

    from resp_dsl.pruning.apply import apply_selection
    from resp_dsl.pruning.state import dense_dims

    pruned = copy.deepcopy(model)
    apply_selection(pruned, {"layers": layout_without(dense_dims(model), kind, layer, index)}, mode="masked")
    return pruned


def _greedy_without(model, tok, name: str, key, n: int, start: int) -> list[bool]:
    """Greedy correctness on validation problems `start`..`start+n-1`, with structure `key` removed (None: dense)."""
    from resp_dsl.zoo_build.evaluate import generate_on_task

    m = model if key is None else without(model, *key)
    _, _, correct, _ = generate_on_task(m, tok, name=name, n=n, split="validation", temperature=0.0,
                                        batch_size=min(n, SENSITIVITY_N), start=start)
    return correct


_WORKER: dict = {}  # the model of a sensitivity worker process, loaded once by _worker_init


def _worker_init(name: str, model_dir: str | None, threads: int) -> None:
    import torch

    from resp_dsl.zoo_build.evaluate import load_bundled

    torch.set_num_threads(threads)
    _WORKER["name"] = name
    _WORKER["model"], _WORKER["tok"] = load_bundled(name, model_dir)


def _worker_job(key, n: int, start: int) -> list[bool]:
    return _greedy_without(_WORKER["model"], _WORKER["tok"], _WORKER["name"], key, n, start)


def _run_jobs(jobs, *, model, tok, name: str, workers: int, threads: int, model_dir):
    """(job, correct flags) for each (key, n, start) job, in completion order: here, or in `workers`
    spawned processes that load the same model with max(1, threads // workers) threads each. A job's
    result does not depend on where it runs (greedy, the same batches)."""
    if workers <= 1:
        for job in jobs:
            yield job, _greedy_without(model, tok, name, *job)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"), initializer=_worker_init,
                             initargs=(name, str(model_dir) if model_dir else None, max(1, threads // workers))) as pool:
        futures = {pool.submit(_worker_job, *job): job for job in jobs}
        for future in as_completed(futures):
            yield futures[future], future.result()


def measure_sensitivity(model, tok, name: str, *, n: int, seed: int, progress=None, resume=None, save=None,
                        workers: int = 1, threads: int = 1, model_dir=None, confirm_n: int | None = None, **_) -> dict:
    """Greedy validation accuracy with each single structure removed, in two stages.

    The *screen* measures every structure on the first `n` validation problems. A structure the
    screen puts over the bar is *confirmed* on the next `confirm_n` (default CONFIRM_N) problems,
    which the screen did not see (so the selection does not bias the estimate): its drop against
    the dense model on the same problems, with a paired 95% (Newcombe) interval and the exact
    McNemar p-value.

    Resumable: `resume` is a partial result of an earlier call with the same n and seed (its
    measurements are kept when the dense baselines reproduce); `save(figures)` is called with a
    partial result every few structures. `workers` > 1 measures structures in that many processes.
    """
    from resp_dsl.pruning.state import dense_dims
    from resp_dsl.stats import mcnemar
    from resp_dsl.zoo_build.evaluate import bits

    def jobs(todo):
        return _run_jobs(todo, model=model, tok=tok, name=name, workers=workers, threads=threads,
                         model_dir=model_dir)

    confirm_n = CONFIRM_N if confirm_n is None else confirm_n
    base = _greedy_without(model, tok, name, None, n, 0)
    structures = single_structures(dense_dims(model), n_channels=SENSITIVITY_CHANNELS, seed=seed)
    done = {}
    if resume and resume.get("dense_bits") == bits(base) and resume.get("n") == n:
        done = {(r["kind"], r["layer"], r["index"]): dict(r) for r in resume["profile"]}
    base_acc = sum(base) / len(base)
    confirm = None

    def figures():
        return _sensitivity_figures(base, [done[k] for k in structures if k in done], len(structures), n, seed,
                                    confirm, confirming=bool(confirm_n))

    todo = [(k, n, 0) for k in structures if k not in done]
    for count, ((key, _, _), correct) in enumerate(jobs(todo), 1):
        acc = sum(correct) / len(correct)
        done[key] = {"kind": key[0], "layer": key[1], "index": key[2], "accuracy": acc,
                     "drop_points": round(100 * (base_acc - acc), 2), "correct_bits": bits(correct)}
        if save and count % 8 == 0:
            save(figures())
        if progress:
            progress(len(done), len(structures))

    flagged = [k for k in structures if done[k]["drop_points"] > COST_LIMIT_POINTS]
    if confirm_n and flagged:
        conf_base = _greedy_without(model, tok, name, None, confirm_n, n)
        confirm = {"start": n, "n": len(conf_base), "dense_accuracy": sum(conf_base) / max(1, len(conf_base)),
                   "dense_bits": bits(conf_base), "flagged": len(flagged)}
        if not (resume and (resume.get("confirm") or {}).get("dense_bits") == confirm["dense_bits"]):
            for r in done.values():  # confirmations against another baseline do not count
                r.pop("confirm", None)
        todo = [(k, confirm_n, n) for k in flagged if "confirm" not in done[k]]
        for count, ((key, _, _), correct) in enumerate(jobs(todo), 1):
            p = mcnemar(conf_base, correct)  # a = dense, b = without: the difference is the drop
            done[key]["confirm"] = {"n": p.n, "drop_points": round(100 * p.difference, 2),
                                    "ci95_points": [round(100 * x, 2) for x in p.interval],
                                    "p_value": float(f"{p.p_value:.4g}"), "only_dense": p.only_a, "only_without": p.only_b}
            if save and count % 4 == 0:
                save(figures())
            if progress:
                progress(count, len(todo))
    return figures()


def _sensitivity_figures(base: list[bool], profile: list[dict], total: int, n: int, seed: int,
                         confirm: dict | None = None, confirming: bool = True) -> dict:
    from resp_dsl.zoo_build.evaluate import bits

    flagged = [r for r in profile if r["drop_points"] > COST_LIMIT_POINTS]
    confirmed = [r for r in flagged if "confirm" in r]
    complete = len(profile) == total and (not confirming or not flagged
                                          or (confirm is not None and len(confirmed) == len(flagged)))
    summary = {}
    for kind in ("head", "kv_group", "channel"):
        rows = [r for r in profile if r["kind"] == kind]
        if rows:
            drops = [r["drop_points"] for r in rows]
            conf = [r["confirm"] for r in rows if "confirm" in r]
            summary[kind] = {"count": len(drops), "max_drop_points": max(drops),
                             "mean_drop_points": round(sum(drops) / len(drops), 2),
                             "over_limit": sum(d > COST_LIMIT_POINTS for d in drops),
                             "confirmed": len(conf),
                             "confirmed_over_limit": sum(c["drop_points"] > COST_LIMIT_POINTS for c in conf),
                             "interval_above_limit": sum(c["ci95_points"][0] > COST_LIMIT_POINTS for c in conf)}
    worst = max(profile, key=lambda r: r["drop_points"]) if profile else None
    worst_confirmed = max(confirmed, key=lambda r: r["confirm"]["drop_points"]) if confirmed else None
    if complete:  # only the worst structure keeps its per-problem bits (the spot check re-measures it)
        profile = [r if r is worst else {k: v for k, v in r.items() if k != "correct_bits"} for r in profile]
    return {"split": "validation", "n": n, "dense_accuracy": sum(base) / len(base), "dense_bits": bits(base),
            "channel_sample_seed": seed, "limit_points": COST_LIMIT_POINTS, "complete": complete,
            "measured_structures": len(profile), "total_structures": total, "summary": summary,
            "worst": {k: worst[k] for k in ("kind", "layer", "index", "drop_points")} if worst else None,
            "worst_confirmed": ({k: worst_confirmed[k] for k in ("kind", "layer", "index")}
                                | {"drop_points": worst_confirmed["confirm"]["drop_points"],
                                   "ci95_points": worst_confirmed["confirm"]["ci95_points"]}) if worst_confirmed else None,
            "confirm": confirm, "profile": profile}


def measure_magnitude(model, tok, name: str, *, n: int, seed: int, progress=None, **_) -> dict:
    import copy

    from resp_dsl.pruning.apply import apply_selection
    from resp_dsl.pruning.scoring import score_structures
    from resp_dsl.pruning.select import select_structures
    from resp_dsl.zoo_build.evaluate import accuracy

    scores = score_structures(model, [], method="magnitude")
    out = {}
    for target in PRUNE_TARGETS:
        pruned = copy.deepcopy(model)
        sel = select_structures(pruned, scores, target=target, basis="params", protect=protect_spec(), normalize="type")
        apply_selection(pruned, sel, mode="masked")
        out[str(target)] = {"achieved": sel.achieved,
                            **accuracy(pruned, tok, name=name, n=n, seed=seed, progress=progress, **SAMPLING)}
    return {"protected": protect_spec().protected(model.config.num_hidden_layers), "targets": out}


def self_generated_samples(model, tok, name: str, *, n: int, seed: int):
    """`n` calibration samples: the model's own sampled answers to `n` seeded training prompts."""
    from resp_dsl.generation.hf import generate
    from resp_dsl.pruning.calib import CalibSample
    from resp_dsl.tasks import get_task
    from resp_dsl.zoo.spec import get

    spec = get(name)
    task = get_task(spec.task)
    examples = task.load("train", limit=n, seed=seed, shuffle=True)
    prompts = [task.build_prompt(ex, tok) for ex in examples]
    gens = generate(model, tok, prompts, max_new_tokens=spec.max_new_tokens, seed=seed, stop=list(task.stop),
                    **SAMPLING)
    samples = []
    for g in gens:
        prompt_ids = tok(g.prompt, add_special_tokens=False)["input_ids"]
        samples.append(CalibSample(prompt_ids + list(g.token_ids), len(prompt_ids)))
    return samples


def measure_taylor(model, tok, name: str, *, n: int, seed: int, progress=None, **_) -> dict:
    import copy
    import statistics

    from resp_dsl.pruning.apply import apply_selection
    from resp_dsl.pruning.scoring import score_structures
    from resp_dsl.pruning.select import select_structures
    from resp_dsl.zoo_build.evaluate import accuracy

    runs = []
    for cal_seed in TAYLOR_SEEDS:
        samples = self_generated_samples(model, tok, name, n=CALIBRATION_N, seed=cal_seed)
        scores = score_structures(model, samples, method="taylor", loss="decode_only")
        pruned = copy.deepcopy(model)
        sel = select_structures(pruned, scores, target=TAYLOR_TARGET, basis="params", protect=protect_spec(),
                                normalize="type")
        apply_selection(pruned, sel, mode="masked")
        res = accuracy(pruned, tok, name=name, n=n, seed=seed, progress=progress, **SAMPLING)
        runs.append({"calibration_seed": cal_seed, "achieved": sel.achieved, **res})
    accs = [r["accuracy"] for r in runs]
    return {"target": TAYLOR_TARGET, "calibration_n": CALIBRATION_N, "loss": "decode_only",
            "mean": statistics.mean(accs), "stdev": statistics.stdev(accs) if len(accs) > 1 else 0.0,
            "min": min(accs), "max": max(accs), "runs": runs}


MEASURE = {"dense": measure_dense, "diversity": measure_diversity, "sensitivity": measure_sensitivity,
           "magnitude": measure_magnitude, "taylor": measure_taylor}


def _partial(figures: dict) -> bool:
    return figures.get("complete") is False


# Which stored figures the same command continues rather than measures afresh: a partial
# measurement, and a sensitivity profile made before the confirmation stage existed (its screen is
# kept; the confirmation is added).
UNFINISHED = {"sensitivity": lambda f: _partial(f) or "confirm" not in f}
DEFAULT_N = {"dense": 500, "diversity": 200, "sensitivity": SENSITIVITY_N, "magnitude": 500, "taylor": 500}


# -- card file -----------------------------------------------------------------------------------------

def _machine() -> dict:
    return {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(), "python": platform.python_version()}


def read_card(model_dir: Path) -> dict:
    p = Path(model_dir) / MODEL_CARD_JSON
    if not p.is_file():
        return {"sections": {}}
    card = json.loads(p.read_text(encoding="utf-8"))
    if "sections" not in card:  # tiny-reasoner's first card: one flat measurement
        return {"sections": {}, "legacy": card}
    return card


def measure_section(name: str, section: str, *, n: int | None = None, seed: int = 0, threads: int = 2,
                    workers: int = 1, model_dir: Path | None = None, progress=None, resume=None, save=None,
                    seconds_before: float = 0.0) -> dict:
    """Measure one section; the result records its command, time and machine.

    `resume`/`save` (sections that support them: sensitivity) continue an earlier partial
    measurement and store progress: `save(section_result)`; the result's seconds add
    `seconds_before`, the time the earlier calls spent. `workers` > 1 spreads the sections
    that support it (sensitivity) over that many processes; the figures do not depend on it.
    """
    import torch

    from resp_dsl.zoo_build.evaluate import load_bundled

    if section not in MEASURE:
        raise ValueError(f"unknown card section {section!r}; choose from {', '.join(SECTIONS)}")
    torch.set_num_threads(threads)
    model, tok = load_bundled(name, model_dir)
    n = n or DEFAULT_N[section]
    opts = {"n": n, "seed": seed, "threads": threads} | ({"workers": workers} if workers > 1 else {})
    t0 = time.perf_counter()

    def result(figures):
        return {"command": command(name, section, opts), "n": n, "seed": seed, "threads": threads,
                "seconds": round(seconds_before + time.perf_counter() - t0, 1), "machine": _machine(),
                "measured": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "figures": figures}

    figures = MEASURE[section](model, tok, name, n=n, seed=seed, progress=progress, resume=resume,
                               save=(lambda f: save(result(f))) if save else None, workers=workers,
                               threads=threads, model_dir=model_dir)
    return result(figures)


def write_card(name: str = "tiny-reasoner", *, sections=None, n: int | None = None, seed: int = 0, threads: int = 2,
               workers: int = 1, model_dir: Path | None = None, progress=None) -> Path:
    """Measure `sections` (default: all the model's), merge them into card.json, re-render README.md."""
    from resp_dsl import zoo

    model_dir = Path(model_dir or zoo.path(name))

    def store(section, result):
        card = read_card(model_dir)  # re-read: another section may have landed meanwhile
        card["sections"][section] = result
        write_text_atomic(model_dir / MODEL_CARD_JSON, json.dumps(card, indent=1))
        render_to(name, model_dir)

    for section in sections or SECTIONS:
        previous = read_card(model_dir)["sections"].get(section)
        resume = None
        if previous and previous["seed"] == seed and UNFINISHED.get(section, _partial)(previous["figures"]):
            resume = previous["figures"]  # a partial measurement: continue it
        result = measure_section(name, section, n=n, seed=seed, threads=threads, workers=workers, model_dir=model_dir,
                                 progress=progress, resume=resume, save=lambda r, s=section: store(s, r),
                                 seconds_before=previous["seconds"] if resume else 0.0)
        store(section, result)
    return model_dir / "README.md"


def render_to(name: str, model_dir: Path) -> Path:
    record = model_dir / TRAINING_RECORD_JSON
    training = json.loads(record.read_text()) if record.is_file() else {}
    write_text_atomic(model_dir / "README.md", render(name, read_card(model_dir), training))
    return model_dir / "README.md"


# -- rendering -----------------------------------------------------------------------------------------

def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def _acc(r: dict) -> str:
    lo, hi = r.get("ci95", (None, None))
    ci = f" [{_pct(lo)}, {_pct(hi)}]" if lo is not None else ""
    return f"**{_pct(r['accuracy'])}** ({r['correct']}/{r['n']}){ci}"


def _missing(name: str, section: str) -> str:
    return (f"*Not measured yet.* Run `{command(name, section, {'n': DEFAULT_N[section], 'seed': 0, 'threads': 2})}` "
            f"to fill this section in.\n")


def _head(sec: dict) -> str:
    return f"Measured by `{sec['command']}` ({sec['seconds']} s, {sec['measured']}).\n\n"


def render_dense(name, sec):
    f = sec["figures"]
    return _head(sec) + (
        f"First {f['greedy']['n']} problems of the test split, exact match on the number after `####`, "
        "95% Wilson intervals:\n\n| decoding | accuracy |\n|---|---|\n"
        f"| greedy | {_acc(f['greedy'])} |\n"
        f"| sampled, T=0.6, top-p 0.95, seed {f['sampled']['seed']} | {_acc(f['sampled'])} |\n\n"
        f"Generation throughput (hf backend, batch {f['sampled']['batch_size']}, {sec['threads']} threads): "
        f"**{f['sampled']['tokens_per_s']} generated tokens/s**.\n")


def render_diversity(name, sec):
    f = sec["figures"]
    return _head(sec) + (
        f"Each of the first {f['n']} test prompts sampled twice (T=0.6, top-p 0.95, seeds {f['seeds'][0]} and "
        f"{f['seeds'][1]}):\n\n| | |\n|---|---|\n"
        f"| prompts whose two traces differ | **{f['differ']}/{f['n']} = {_pct(f['differ_fraction'])}** |\n"
        f"| mean decode entropy at T={f['entropy_temperature']} (nats/token) | **{f['entropy_T']}** |\n"
        f"| mean decode entropy at T=1 (nats/token) | {f['entropy_T1']} |\n"
        f"| mean NLL of the sampled tokens, T=1 (nats/token) | {f['nll_T1']} |\n"
        f"| accuracy of the two samples | {_pct(f['accuracy_seeds'][0])}, {_pct(f['accuracy_seeds'][1])} |\n\n"
        f"(Over {f['tokens']} generated tokens of the first seed, teacher-forced.)\n")


def render_sensitivity(name, sec):
    f = sec["figures"]
    heads = [r for r in f["profile"] if r["kind"] == "head"]
    groups = [r for r in f["profile"] if r["kind"] == "kv_group"]
    chans = [r for r in f["profile"] if r["kind"] == "channel"]

    def grid(rows, label):
        if not rows:
            return "(not measured yet)\n"
        cells = {(r["layer"], r["index"]): r["drop_points"] for r in rows}
        width = 1 + max(r["index"] for r in rows)
        out = "| block | " + " | ".join(f"{label}{j}" for j in range(width)) + " |\n"
        out += "|---" * (width + 1) + "|\n"
        for layer in sorted({r["layer"] for r in rows}):
            out += f"| {layer} | " + " | ".join(f"{cells[(layer, j)]:+.0f}" if (layer, j) in cells else "·"
                                                for j in range(width)) + " |\n"
        return out

    conf = f.get("confirm")
    rows = []
    for k, v in f["summary"].items():
        row = f"| {k.replace('_', ' ')}s | {v['count']} | {v['max_drop_points']:.0f} | {v['mean_drop_points']:.1f} | {v['over_limit']} |"
        if conf:
            row += f" {v.get('confirmed_over_limit', 0)} of {v.get('confirmed', 0)} | {v.get('interval_above_limit', 0)} |"
        rows.append(row)
    header = "| structures | measured | max drop | mean drop | over the bar (screen) |"
    if conf:
        header += f" over the bar (confirmed, n={conf['n']}) | interval above the bar |"
    header += "\n" + "|---" * (header.count("|") - 1) + "|"
    w = f["worst"]
    partial = "" if f.get("complete", True) else (
        f"**Partial**: {f['measured_structures']} of {f['total_structures']} structures screened so far"
        + (f", {sum(1 for r in f['profile'] if 'confirm' in r)} of {conf['flagged']} confirmations" if conf else "")
        + "; the same command continues the measurement.\n\n")
    chan_list = ", ".join(f"{r['layer']}.{r['index']}: {r['drop_points']:+.0f}" for r in chans) or "not measured yet"
    worst = (f"Worst single structure in the screen: {w['kind'].replace('_', ' ')} {w['index']} of block {w['layer']} "
             f"({w['drop_points']:+.0f} points).\n\n") if w else ""
    vacuous = "" if 100 * f["dense_accuracy"] >= 2 * f["limit_points"] else (
        f"**Vacuous here**: no removal can cost more than the dense accuracy ({_pct(f['dense_accuracy'])}), so "
        "this profile says nothing about redundancy until the model solves the task.\n\n")
    confirmation = ""
    if conf:
        flagged = [r for r in f["profile"] if r["drop_points"] > f["limit_points"]]
        lines = "\n".join(
            f"| {r['kind'].replace('_', ' ')} {r['index']} of block {r['layer']} | {r['drop_points']:+.0f} | "
            + (f"{r['confirm']['drop_points']:+.1f} [{r['confirm']['ci95_points'][0]:+.1f}, "
               f"{r['confirm']['ci95_points'][1]:+.1f}] | {r['confirm']['only_dense']} / {r['confirm']['only_without']} | "
               f"{format_p(r['confirm']['p_value'])} |" if "confirm" in r else "not yet | | |")
            for r in sorted(flagged, key=lambda r: (r["kind"], r["layer"], r["index"])))
        confirmation = (
            f"**Confirmation.** A screen of {f['n']} problems has a wide error: a drop of a few points there can be "
            f"noise, in either direction. Every structure the screen puts over the bar is therefore measured again on "
            f"validation problems {conf['start'] + 1}-{conf['start'] + conf['n']}, which the screen did not see (so "
            f"picking it by its screen result does not bias the new estimate); dense on those: "
            f"{_pct(conf['dense_accuracy'])}. Drop with a paired 95% interval (Newcombe), the problems only the dense "
            "model / only the model without the structure solved, and the exact McNemar p-value. Structures the "
            "screen put under the bar are not re-measured.\n\n"
            "| structure | screen drop | confirmed drop [95% CI] | only dense / only without | p |\n|---|---|---|---|---|\n"
            f"{lines}\n\n")
    return _head(sec) + partial + vacuous + (
        f"Greedy accuracy on the first {f['n']} validation problems with exactly one structure removed "
        f"(masked through `resp_dsl.pruning`); dense: {_pct(f['dense_accuracy'])}. Drops in points "
        f"(positive = worse); the bar is {f['limit_points']:.0f} points.\n\n"
        f"{header}\n" + "\n".join(rows) + f"\n\n{worst}{confirmation}"
        f"Every query head (screen drop in points):\n\n{grid(heads, 'h')}\n"
        f"Every KV group (its query heads removed with it):\n\n{grid(groups, 'g')}\n"
        f"MLP channels (block.channel: drop), {SENSITIVITY_CHANNELS} sampled with seed {f['channel_sample_seed']}: "
        f"{chan_list}.\n")


def render_magnitude(name, sec):
    f = sec["figures"]
    rows = "\n".join(f"| {int(100 * float(k))}% | {_pct(v['achieved'])} | {_acc(v)} |" for k, v in f["targets"].items())
    return _head(sec) + (
        "Lowest-magnitude query heads and MLP channels masked to the target fraction of prunable parameters "
        f"(blocks {f['protected']} kept), sampled at T=0.6, first {sec['n']} test problems. Data-free, for "
        "realism: real LLMs collapse under it. Not a tuning target.\n\n"
        f"| target | achieved | accuracy |\n|---|---|---|\n{rows}\n")


def render_taylor(name, sec):
    f = sec["figures"]
    rows = "\n".join(f"| {r['calibration_seed']} | {_pct(r['achieved'])} | {_acc(r)} |" for r in f["runs"])
    return _head(sec) + (
        f"One-shot Taylor scores (decode-only loss) on {f['calibration_n']} self-generated traces "
        f"(T=0.6 answers to training prompts drawn with the calibration seed), pruned to {int(100 * f['target'])}% "
        f"in one step, sampled at T=0.6 on the first {sec['n']} test problems:\n\n"
        f"| calibration seed | achieved | accuracy |\n|---|---|---|\n{rows}\n\n"
        f"Mean **{_pct(f['mean'])}**, standard deviation {100 * f['stdev']:.1f} points, "
        f"range {_pct(f['min'])} to {_pct(f['max'])}.\n")


RENDER = {"dense": ("Accuracy", render_dense), "diversity": ("Stochasticity: decode entropy and trace diversity", render_diversity),
          "sensitivity": ("Redundancy: single-structure sensitivity profile", render_sensitivity),
          "magnitude": ("Data-free magnitude pruning", render_magnitude),
          "taylor": ("One-shot Taylor, self-generated calibration, three seeds", render_taylor)}


def render(name: str, card: dict, training: dict) -> str:
    from resp_dsl.zoo.spec import get

    spec = get(name)
    t = training.get("training", {})
    ts = training.get("train_spec", {})
    ms = training.get("model_spec", {})
    drop = ts.get("dropout")
    dropout = (f"Structured dropout during training only (per sequence, per block): each query head dropped with "
               f"p={drop['head']}, each KV group with p={drop['kv_group']}, each group of "
               f"{drop['channel_group_size']} MLP channels with p={drop['channel_group']}, kept ones rescaled; "
               "chosen a priori so that no single structure is critical, not tuned on pruning results.\n"
               if drop else "No dropout.\n")
    body = []
    for section in SECTIONS:
        title, fn = RENDER[section]
        sec = card["sections"].get(section)
        body.append(f"## {title}\n" + (fn(name, sec) if sec else _missing(name, section)))
    segments = "; ".join(f"`{c}`" for c in t.get("commands", [])) or "not recorded"
    return f"""# {name}

{_status(spec, card)}{spec.summary}. A {t.get('parameters', 0) / 1e6:.2f}M-parameter model of `transformers`' **Qwen3**
architecture, trained from scratch by `resp-dsl zoo train {name}` on the project's own synthetic
task `{spec.task}` plus generic text. Load it offline with
`AutoModelForCausalLM.from_pretrained(resp_dsl.zoo.path("{name}"))`; recipes name it `model "zoo:{name}"`.

Every figure below is measured by the command written next to it (`resp-dsl zoo card {name} --section S`),
and stored with it in `card.json`.

## Architecture
| | |
|---|---|
| layers | {ms.get('num_hidden_layers')} |
| hidden size | {ms.get('hidden_size')} |
| query heads / KV heads | {ms.get('num_attention_heads')} / {ms.get('num_key_value_heads')} (grouped-query attention) |
| head_dim | {ms.get('head_dim')} (explicit; hidden/heads would be {ms.get('hidden_size', 0) // max(1, ms.get('num_attention_heads', 1))}) |
| MLP intermediate size | {ms.get('intermediate_size')} (SwiGLU) |
| q_norm / k_norm | yes (Qwen3) |
| embeddings | tied |
| tokenizer | {describe_tokenizer(ms.get('tokenizer', 'chars'))}, Qwen3-style chat template with `enable_thinking` |
| generation defaults | T=0.6, top-p 0.95, top-k 20 (Qwen3's thinking-mode defaults) |

## Data
{_data_text(spec)}
- **Generic text**: the docstrings of a Python standard library, the training interpreter's own or the
  sources `RESP_DSL_STDLIB_DIR` named (read with `ast`, never imported; corpus sha256
  `{t.get('generic_corpus_sha256', '?')[:16]}…`),
  {ts.get('generic_batch')} of the {ts.get('generic_batch', 0) + ts.get('task_batch', 0)} sequences of every batch, loss on every token.

## Training
Commands: {segments} (seed {ts.get('seed')}). {t.get('steps')} steps of {ts.get('task_batch')} task +
{ts.get('generic_batch')} generic sequences, AdamW (lr {ts.get('lr')}, cosine to {ts.get('min_lr_ratio')}×, warmup
{ts.get('warmup')}), bf16 autocast with fp32 weights, on {_devices(t)}.
{dropout}
Measured training throughput: **{t.get('train_tokens_per_s_median')} tokens/s** (median over steps, padding
excluded, on {_devices(t)}). Wall time recorded by the trainer: {_wall(t)}. {training.get('wall_note', '')}

""" + "\n".join(body)


def _status(spec, card: dict) -> str:
    """The design targets these weights miss (accuracy, redundancy once confirmed), or '' when they meet them."""
    short = []
    dense = card["sections"].get("dense")
    if dense is not None and dense["figures"]["greedy"]["accuracy"] < spec.greedy_target:
        short.append(f"dense greedy accuracy is {_pct(dense['figures']['greedy']['accuracy'])}, below the design "
                     f"target of {_pct(spec.greedy_target)}")
    sens = card["sections"].get("sensitivity")
    f = sens["figures"] if sens else {}
    over = sum(s.get("confirmed_over_limit", 0) for s in f.get("summary", {}).values())
    if f.get("complete") and over:
        w = f["worst_confirmed"]
        short.append(f"it is not redundant: {over} single structures cost more than the {f['limit_points']:.0f}-point "
                     f"bar when removed alone (confirmed on {f['confirm']['n']} validation problems; worst: "
                     f"{w['kind'].replace('_', ' ')} {w['index']} of block {w['layer']}, {w['drop_points']:+.1f} points)")
    if not short:
        return ""
    text = "; ".join(short)
    return (f"> **Status: below its design targets.** {text[0].upper()}{text[1:]}. The figures below describe these "
            f"weights, not the design. A kept checkpoint directory resumes training with "
            f"`resp-dsl zoo train {spec.name} --steps N --workdir DIR`; the package ships the weights, not "
            f"the checkpoint: from a clean clone, continue these weights with a fresh optimizer "
            f"(`resp-dsl zoo train {spec.name} --init-from MODEL_DIR --workdir DIR --out OUT --steps N`, N above "
            f"their steps) or retrain from scratch with the commands under Training.\n\n")


def _devices(t: dict) -> str:
    """Where the recorded segments ran (a segment without a device ran on the CPU)."""
    seen = []
    for s in t.get("segments", []):
        d = s.get("device") or f"CPU, {s.get('threads', '?')} thread(s)"
        if d not in seen:
            seen.append(d)
    return " and ".join(seen) or "CPU"


def _wall(t: dict) -> str:
    segs = [s for s in t.get("segments", []) if "started" in s and "ended" in s]
    if not segs:
        return "not recorded"
    return (f"{t.get('wall_seconds_recorded')} s over {len(segs)} call(s) "
            + ", ".join(f"{s['started']} to {s['ended']} (steps {s['from_step']}-{s['reached']}, "
                        f"{s['train_seconds']} s training)" for s in segs))


def _data_text(spec) -> str:
    gen = spec.task_generator()
    return (f"- **Reasoning task** (`{spec.task}`): splits in `resp_dsl/zoo/{spec.name}/data/` in GSM8K's schema "
            "(`question`, and `answer` = a human-style worked solution ending in `#### N`, which the model never "
            "saw), made by `resp_dsl/zoo/" + spec.generator + ".py`:\n\n  > "
            + "\n\n".join((gen.__doc__ or "").strip().split("\n\n")[:-1]).replace("\n", "\n  > ") + "\n\n"
            "  Training problems are drawn fresh every step from a seeded generator and never repeat a test or "
            "validation question.")
