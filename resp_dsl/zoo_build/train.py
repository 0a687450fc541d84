"""Train a bundled tiny model (``resp-dsl zoo train tiny-reasoner``, ``... tiny-rlm``).

The model learns a mixture: the synthetic reasoning task (answered in its own
thinking-trace style, loss on the response only) and generic text (the
standard library's docstrings, loss on every token), so that reasoning is one
skill among others, as in a real LLM.

Every batch is a pure function of (seed, step), so a resumed run sees exactly
the data an uninterrupted one would; checkpoints hold the weights
(safetensors), the optimizer state (tensors only, loaded with
``weights_only=True``) and the step. The final model is written atomically and
never over an existing directory unless asked.

A model whose training spec has `StructuredDropout` drops whole query heads, KV
groups and groups of MLP channels per sequence during training (masks drawn
from a generator seeded by (seed, step), so resuming is exact); inference is
unchanged.
"""

from __future__ import annotations

import json
import math
import os
import random
import shutil
import tempfile
import time
from pathlib import Path

from resp_dsl.files import TRAINING_RECORD_JSON, write_json_atomic
from resp_dsl.zoo import generic
from resp_dsl.zoo.spec import StructuredDropout, TrainSpec, ZooModel
from resp_dsl.zoo.tokenizer import IM_END, build_tokenizer


def encode_task(problem, tok, *, think: bool = True, trace: str | None = None) -> tuple[list[int], int]:
    """(token ids, number of prompt tokens) for one problem answered in the model's style (`trace`, default the canonical one)."""
    prompt = tok.apply_chat_template(
        [{"role": "user", "content": problem.question}],
        add_generation_prompt=True, enable_thinking=think, tokenize=False,
    )
    response = ((trace or problem.trace) if think else f" #### {problem.answer}") + IM_END
    p_ids = tok(prompt, add_special_tokens=False)["input_ids"]
    r_ids = tok(response, add_special_tokens=False)["input_ids"]
    return p_ids + r_ids, len(p_ids)


class BatchMaker:
    """Builds the training batch of a given step, deterministically."""

    def __init__(self, tok, spec: TrainSpec, exclude: set[str], gen):
        self.tok = tok
        self.spec = spec
        self.exclude = exclude
        self.gen = gen
        self.docs = generic.split_docstrings()["train"]

    def examples(self, step: int) -> list[tuple[list[int], int]]:
        rng = random.Random(self.spec.seed * 1_000_003 + step)
        out = []
        while len(out) < self.spec.task_batch:
            p = self.gen.generate_problem(rng)
            if p.question in self.exclude:
                continue
            think = rng.random() >= self.spec.no_think_fraction
            out.append(encode_task(p, self.tok, think=think, trace=self.gen.sample_trace(p, rng) if think else None))
        for _ in range(self.spec.generic_batch):
            doc = self.docs[rng.randrange(len(self.docs))]
            start = rng.randrange(max(1, len(doc) - self.spec.generic_chars))
            chunk = doc[start : start + self.spec.generic_chars]
            out.append((self.tok(chunk, add_special_tokens=False)["input_ids"], 0))
        return out

    def batch(self, step: int):
        """The whole step as one right-padded batch: (input_ids, attention_mask, labels)."""
        ids, labels, mask = _pad(self.examples(step), self.tok.pad_token_id, round_to=64)
        return ids, mask, labels

    def micro_batches(self, step: int, size: int, exs: list[tuple[list[int], int]] | None = None
                      ) -> tuple[list[tuple[list[int], object, object]], int, int]:
        """The step's sequences sorted by length in groups of at most `size`, each padded to its own width.

        `exs`: the step's `examples(step)`, when already made (by a data worker).

        Returns ([(rows, input_ids, labels)], predicted tokens in the step, tokens in the step). `rows`
        are the sequences' positions in `examples(step)` (so each keeps its own dropout mask).
        Summing each group's loss over its predicted tokens and dividing by the step's count
        gives the same loss and gradient as the single padded batch, with far less padding (most
        of a step's time is attention, quadratic in the padded width).
        """
        exs = self.examples(step) if exs is None else exs
        order = sorted(range(len(exs)), key=lambda i: len(exs[i][0]))
        groups = [order[i : i + size] for i in range(0, len(order), max(1, size))]
        out = []
        for rows in groups:
            ids, labels, _ = _pad([exs[i] for i in rows], self.tok.pad_token_id, round_to=32)
            out.append((rows, ids, labels))
        # The model predicts token t+1 from position t: the first position's label is never used.
        n_items = sum(len(ids) - max(n_prompt, 1) for ids, n_prompt in exs)
        return out, n_items, sum(len(ids) for ids, _ in exs)


def _pad(exs: list[tuple[list[int], int]], pad: int, *, round_to: int):
    """Right-padded (input_ids, labels, attention_mask); labels -100 on the prompt and the padding.

    The width is rounded up so that few distinct shapes occur (oneDNN builds kernels per shape).
    """
    import torch

    width = -(-max(len(ids) for ids, _ in exs) // round_to) * round_to
    input_ids = torch.full((len(exs), width), pad, dtype=torch.long)
    labels = torch.full((len(exs), width), -100, dtype=torch.long)
    mask = torch.zeros((len(exs), width), dtype=torch.long)
    for i, (ids, n_prompt) in enumerate(exs):
        t = torch.tensor(ids)
        input_ids[i, : len(ids)] = t
        mask[i, : len(ids)] = 1
        labels[i, n_prompt : len(ids)] = t[n_prompt:]
    return input_ids, labels, mask


MICRO_BATCH = 6  # sequences per forward pass; tiny-rlm steps 1.6x faster than in one padded batch on 2 cores (bench/bench_train_step.py)


_WORKER_MAKER: BatchMaker | None = None  # a data worker's copy (set once per worker process)


def _set_worker_maker(maker: BatchMaker) -> None:
    global _WORKER_MAKER
    _WORKER_MAKER = maker


def _worker_examples(step: int) -> list[tuple[list[int], int]]:
    return _WORKER_MAKER.examples(step)


class StepExamples:
    """The examples of steps start, start+1, ... in order; `workers` > 0 makes them ahead in worker processes.

    A step's examples are a pure function of the step, so prefetching changes nothing but the
    speed (on an accelerator, making a large step's problems and tokens in Python takes about as
    long as the step itself). At most `depth` steps are made ahead.
    """

    def __init__(self, maker: BatchMaker, start: int, stop: int, workers: int = 0, depth: int | None = None):
        from collections import deque

        self.maker, self.next, self.stop = maker, start, stop
        self.pool = None
        self.pending: deque = deque()
        self.depth = depth or 4 * max(1, workers)
        if workers > 0:
            import multiprocessing

            os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
            # fork: the workers inherit the maker (its generator and tokenizer); they never touch torch
            self.pool = multiprocessing.get_context("fork").Pool(workers, initializer=_set_worker_maker,
                                                                  initargs=(maker,))
            self._fill()

    def _fill(self) -> None:
        while self.pool is not None and len(self.pending) < self.depth and self.next < self.stop:
            self.pending.append((self.next, self.pool.apply_async(_worker_examples, (self.next,))))
            self.next += 1

    def get(self, step: int) -> list[tuple[list[int], int]]:
        if self.pool is None:
            return self.maker.examples(step)
        made, result = self.pending.popleft()
        if made != step:
            raise RuntimeError(f"data workers out of order: made step {made}, asked for {step}")
        self._fill()
        return result.get()

    def close(self) -> None:
        if self.pool is not None:
            self.pool.terminate()
            self.pool.join()
            self.pool = None

    def __enter__(self) -> StepExamples:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def dropout_masks(drop: StructuredDropout, *, batch: int, layers: int, heads: int, kv_heads: int, head_dim: int,
                  channels: int, seed: int, step: int):
    """Per-layer (o_proj input mask [B,1,heads*head_dim], down_proj input mask [B,1,channels]) for one step.

    Pure function of its arguments: the masks of a step are the same in a resumed run.
    """
    import torch

    g = torch.Generator().manual_seed(seed * 1_000_003 + step)
    out = []
    for _ in range(layers):
        keep = torch.bernoulli(torch.full((batch, heads), 1 - drop.head), generator=g) / (1 - drop.head)
        group = torch.bernoulli(torch.full((batch, kv_heads), 1 - drop.kv_group), generator=g) / (1 - drop.kv_group)
        keep = keep * group.repeat_interleave(heads // kv_heads, dim=1)
        n_groups = channels // drop.channel_group_size
        ch = torch.bernoulli(torch.full((batch, n_groups), 1 - drop.channel_group), generator=g) / (1 - drop.channel_group)
        out.append((keep.repeat_interleave(head_dim, dim=1)[:, None, :],
                    ch.repeat_interleave(drop.channel_group_size, dim=1)[:, None, :]))
    return out


class DropoutHooks:
    """Multiplies the inputs of every block's o_proj and down_proj by the current step's masks."""

    def __init__(self, model, drop: StructuredDropout, seed: int):
        cfg = model.config
        if cfg.intermediate_size % drop.channel_group_size:
            raise SystemExit(f"intermediate_size {cfg.intermediate_size} is not a multiple of "
                             f"channel_group_size {drop.channel_group_size}")
        self.drop, self.seed, self.cfg = drop, seed, cfg
        self.masks: list | None = None
        self.rows = None  # the step's sequences that the current forward pass holds (None: all of them)
        self.handles = []
        for i, layer in enumerate(model.model.layers):
            self.handles.append(layer.self_attn.o_proj.register_forward_pre_hook(self._hook(i, 0)))
            self.handles.append(layer.mlp.down_proj.register_forward_pre_hook(self._hook(i, 1)))

    def _hook(self, layer: int, which: int):
        def hook(module, args):
            if self.masks is None or not module.training:
                return None
            x = args[0]
            m = self.masks[layer][which]
            if self.rows is not None:
                m = m[self.rows]
            return (x * m.to(device=x.device, dtype=x.dtype),) + tuple(args[1:])
        return hook

    def set_step(self, step: int, batch: int) -> None:
        c = self.cfg
        self.masks = dropout_masks(self.drop, batch=batch, layers=c.num_hidden_layers, heads=c.num_attention_heads,
                                   kv_heads=c.num_key_value_heads, head_dim=c.head_dim,
                                   channels=c.intermediate_size, seed=self.seed, step=step)
        self.rows = None

    def select(self, rows) -> None:
        """Apply the masks of these sequences of the step (a micro-batch) in the next forward pass."""
        import torch

        self.rows = torch.as_tensor(rows, dtype=torch.long)


def lr_at(step: int, spec: TrainSpec, restart: int = 0) -> float:
    """Linear warmup, then cosine to `min_lr_ratio`; `restart` > 0: a warm start at that step.

    A warm start (``--init-from``: trained weights, a fresh optimizer) keeps the cosine of the whole
    `spec.steps` and ramps it in over `spec.warmup` steps again, since AdamW's moments start at zero.
    """
    if restart == 0 and step < spec.warmup:
        return spec.lr * (step + 1) / spec.warmup
    progress = (step - spec.warmup) / max(1, spec.steps - spec.warmup)
    cos = 0.5 * (1 + math.cos(math.pi * min(1.0, max(0.0, progress))))
    lr = spec.lr * (spec.min_lr_ratio + (1 - spec.min_lr_ratio) * cos)
    if restart and step - restart < spec.warmup:
        lr *= (step - restart + 1) / spec.warmup
    return lr


LOOSE = ("steps", "threads")  # may change between the calls of one run (extend or shorten it); nothing else may


def spec_differences(saved: dict, train_spec: TrainSpec) -> list[str]:
    """The training-spec fields (all but `LOOSE`) on which a saved spec differs from `train_spec`."""
    saved = {k: v for k, v in saved.items() if k not in LOOSE}
    wanted = {k: v for k, v in json.loads(json.dumps(train_spec.to_dict())).items() if k not in LOOSE}
    return sorted(k for k in set(saved) | set(wanted) if saved.get(k) != wanted.get(k))


def warm_start_source(model_dir: Path, zoo_model: ZooModel, train_spec: TrainSpec) -> dict:
    """What ``--init-from DIR`` starts from: DIR's training record, checked against this run's specs.

    Returns {"path", "sha256", "step", "segments"}; refuses (SystemExit) a directory that is not a
    model trained by this trainer with the same model spec and training spec (steps and threads aside).
    """
    import hashlib

    record_path = Path(model_dir) / TRAINING_RECORD_JSON
    weights = Path(model_dir) / "model.safetensors"
    if not record_path.is_file() or not weights.is_file():
        raise SystemExit(f"--init-from {model_dir}: not a model written by `resp-dsl zoo train` "
                         f"(needs {TRAINING_RECORD_JSON} and model.safetensors)")
    record = json.loads(record_path.read_text())
    if record.get("model_spec") != json.loads(json.dumps(zoo_model.model.to_dict())):
        raise SystemExit(f"--init-from {model_dir}: its model spec differs from {zoo_model.name}'s; "
                         "a warm start continues the same architecture")
    diff = spec_differences(record.get("train_spec", {}), train_spec)
    if diff:
        raise SystemExit(f"--init-from {model_dir}: trained with other settings ({', '.join(diff)})")
    step = int(record["training"]["steps"])
    if train_spec.steps <= step:
        raise SystemExit(f"--init-from {model_dir}: it has {step} steps already; pass --steps above {step}")
    return {"path": str(model_dir), "sha256": hashlib.sha256(weights.read_bytes()).hexdigest(), "step": step,
            "segments": record["training"].get("segments", []),
            "commands": record["training"].get("commands", [])}


def greedy_accuracy(model, tok, problems, *, batch_size: int = 50, max_new_tokens: int = 96,
                    temperature: float = 0.0, seed: int = 0) -> float:
    """Fraction of problems whose generated ``#### N`` equals the answer (quick, for training logs)."""
    import re

    import torch

    correct = 0
    torch.manual_seed(seed)
    model.eval()
    for i in range(0, len(problems), batch_size):
        chunk = problems[i : i + batch_size]
        prompts = [tok.apply_chat_template([{"role": "user", "content": p.question}], add_generation_prompt=True,
                                           enable_thinking=True, tokenize=False) for p in chunk]
        enc = tok(prompts, return_tensors="pt", padding=True, add_special_tokens=False).to(model.device)
        kwargs = dict(do_sample=temperature > 0, max_new_tokens=max_new_tokens,
                      eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id)
        if temperature > 0:
            kwargs.update(temperature=temperature, top_p=1.0, top_k=0)
        with torch.no_grad():
            out = model.generate(**enc, **kwargs)
        texts = tok.batch_decode(out[:, enc["input_ids"].shape[1]:], skip_special_tokens=False)
        for p, text in zip(chunk, texts):
            m = re.search(r"####\s*(-?\d+)", text)
            correct += bool(m and int(m.group(1)) == p.answer)
    return correct / len(problems)


def train_step(model, opt, batches: BatchMaker, hooks: DropoutHooks | None, step: int, spec: TrainSpec,
               micro_batch: int, dev, exs: list[tuple[list[int], int]] | None = None) -> tuple[float, int]:
    """One optimizer step on the step's batch, in length-grouped micro-batches: (mean loss, tokens)."""
    import torch

    groups, n_items, n_tokens = batches.micro_batches(step, micro_batch, exs)
    if hooks:
        hooks.set_step(step, sum(len(rows) for rows, _, _ in groups))
    opt.zero_grad(set_to_none=True)
    loss = torch.zeros((), device=dev)
    for rows, input_ids, labels in groups:
        if hooks:
            hooks.select(rows)
        # Right padding under a causal mask: no real token attends to padding, so no attention mask.
        with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=spec.autocast_bf16):
            out = model(input_ids=input_ids.to(dev), labels=labels.to(dev), num_items_in_batch=n_items)
        out.loss.backward()  # the group's share of the step's mean loss
        loss += out.loss.detach()
    torch.nn.utils.clip_grad_norm_(model.parameters(), spec.grad_clip)
    opt.step()
    return loss.item(), n_tokens  # .item() waits for an accelerator, so the caller's timing is real


def _utc_now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _seconds_between(start: str, end: str) -> float:
    import calendar

    def parse(t: str) -> int:
        return calendar.timegm(time.strptime(t, "%Y-%m-%dT%H:%M:%SZ"))

    return float(parse(end) - parse(start))


def train(workdir: Path, out_dir: Path | None, zoo_model: ZooModel, *, train_spec: TrainSpec | None = None,
          force: bool = False, console=None, until: int | None = None, device: str = "cpu",
          micro_batch: int = MICRO_BATCH, init_from: Path | None = None, data_workers: int = 0) -> dict:
    """Train (or resume) in `workdir`; write the final HF-format model to `out_dir`.

    `until` stops (with a checkpoint) at that step without writing the model; a later call with
    another `train_spec.steps` resumes there, recomputing the learning-rate schedule for the new
    length. Each resume is recorded in the checkpoint's `segments`, so the exact sequence of
    commands that produced a model can be replayed. `device` ("cpu", "cuda", "cuda:1") only
    changes where the arithmetic runs: the batches and dropout masks of every step are the same.
    `micro_batch` (sequences per forward pass; the step's sequences are grouped by length) only
    changes the speed and the memory: the loss is the mean over the step's predicted tokens either way.
    `data_workers` > 0 makes the steps' examples ahead in that many processes (`StepExamples`): the
    same data, for an accelerator that would otherwise wait on Python.
    `init_from` (a model directory this trainer wrote, with the same specs): a warm start in an
    empty `workdir` from its weights and its step, with a fresh optimizer (a shipped model has no
    optimizer state) and the learning rate ramped in again (`lr_at`); the run's record keeps the
    source's segments and commands, so the whole history stays replayable.
    """
    if micro_batch < 1:
        raise SystemExit(f"--micro-batch must be at least 1, got {micro_batch}")
    if data_workers < 0:
        raise SystemExit(f"--data-workers must be 0 or more, got {data_workers}")
    import torch
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
    from safetensors.torch import load_file, save_file
    from transformers import Qwen3ForCausalLM

    console = console or Console()
    model_spec = zoo_model.model
    train_spec = train_spec or zoo_model.train
    gen = zoo_model.task_generator()
    torch.set_num_threads(train_spec.threads)
    torch.manual_seed(train_spec.seed)
    workdir.mkdir(parents=True, exist_ok=True)
    tok = build_tokenizer(model_spec.tokenizer)
    config = model_spec.to_config(tok)
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit(f"--device {device}: torch sees no CUDA device")
    model = Qwen3ForCausalLM(config).to(dev)
    model.train()
    hooks = DropoutHooks(model, train_spec.dropout, train_spec.seed) if train_spec.dropout else None
    n_params = sum(p.numel() for p in model.parameters())
    decay = [p for n, p in model.named_parameters() if p.ndim >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.ndim < 2]
    opt = torch.optim.AdamW([
        {"params": decay, "weight_decay": train_spec.weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ], lr=train_spec.lr, betas=train_spec.betas)

    splits = gen.generate_all_splits()
    exclude = {p.question for p in splits["test"]} | {p.question for p in splits["validation"]}
    batches = BatchMaker(tok, train_spec, exclude, gen)
    val_problems = splits["validation"][: train_spec.eval_n]

    state_path = workdir / "state.json"
    log: list[dict] = []
    segments: list[dict] = []
    start_step = 0
    restart = 0  # the step a warm start began at (0: trained from scratch)
    warm = None
    history: list[str] = []  # a warm start's source's commands (its segments are the first of `segments`)
    if init_from is not None:
        if state_path.exists():
            raise SystemExit(f"{workdir} already holds a checkpoint; --init-from starts a new run "
                             "(resume this one without --init-from, or use another --workdir)")
        warm = warm_start_source(init_from, zoo_model, train_spec)
        got = model.load_state_dict(load_file(str(Path(init_from) / "model.safetensors"), device=str(dev)), strict=False)
        missing = [k for k in got.missing_keys if not (k == "lm_head.weight" and config.tie_word_embeddings)]
        if missing or got.unexpected_keys:
            raise SystemExit(f"--init-from {init_from}: its weights do not fit this model "
                             f"(missing {missing[:3]}, unexpected {got.unexpected_keys[:3]})")
        if config.tie_word_embeddings:
            model.tie_weights()
        start_step = restart = warm["step"]
        segments = [dict(s) for s in warm["segments"]]
        history = list(warm["commands"])
        console.print(f"warm start from {init_from} at step {start_step} (fresh optimizer)")
    elif state_path.exists():
        state = json.loads(state_path.read_text())
        # The step count and thread count may change on resume (`LOOSE`); the device is not part of the spec.
        if (state.get("model_spec") != json.loads(json.dumps(model_spec.to_dict()))
                or spec_differences(state.get("train_spec", {}), train_spec)):
            raise SystemExit(f"{workdir}: checkpoint was made with other settings; use another --workdir")
        model.load_state_dict(load_file(str(workdir / "model.safetensors"), device=str(dev)), strict=False)
        if config.tie_word_embeddings:
            model.tie_weights()
        opt.load_state_dict(torch.load(workdir / "optimizer.pt", weights_only=True, map_location=dev))
        start_step = state["step"]
        restart = state.get("restart", 0)
        history = state.get("history_commands", [])
        log = state["log"]
        segments = state.get("segments", [])
        if segments and segments[-1]["until"] > start_step:  # that call was interrupted: record where it stopped
            segments[-1]["until"] = start_step
        console.print(f"resuming from step {start_step}")

    def checkpoint(step: int) -> None:
        segments[-1].update(reached=step, ended=_utc_now(), train_seconds=round(t_train, 1))
        tmp = workdir / "model.safetensors.tmp"
        save_file({k: v.detach().cpu().contiguous() for k, v in model.state_dict().items() if k != "lm_head.weight"},
                  str(tmp))
        os.replace(tmp, workdir / "model.safetensors")
        torch.save(opt.state_dict(), workdir / "optimizer.pt.tmp")
        os.replace(workdir / "optimizer.pt.tmp", workdir / "optimizer.pt")
        write_json_atomic(state_path, {"step": step, "log": log, "model_spec": model_spec.to_dict(),
                                        "train_spec": train_spec.to_dict(), "segments": segments,
                                        "restart": restart, "history_commands": history})

    last = until if until is not None else train_spec.steps
    segment = {"from_step": start_step, "steps": train_spec.steps, "until": last, "started": _utc_now(),
               "threads": train_spec.threads, "micro_batch": micro_batch}
    if warm is not None:
        segment["init_from"] = {"sha256": warm["sha256"], "step": warm["step"]}
    if dev.type != "cpu":
        segment["device"] = torch.cuda.get_device_name(dev) if dev.type == "cuda" else str(dev)
    if last > start_step:  # a call with nothing left to train (it only writes the model) replays as nothing
        segments.append(segment)
    label = zoo_model.name + (f" (design {zoo_model.design})" if zoo_model.design_flag else "")
    console.print(f"{label}: {n_params:,} parameters, {train_spec.steps} steps, "
                  f"{train_spec.task_batch}+{train_spec.generic_batch} sequences/step, {train_spec.threads} threads")
    tokens_seen = 0
    t_train = 0.0
    data = StepExamples(batches, start_step, last, workers=data_workers)
    with data, Progress(TextColumn("[bold]train"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[info]}"),
                  TimeElapsedColumn(), TimeRemainingColumn(), console=console) as progress:
        bar = progress.add_task("train", total=train_spec.steps, completed=start_step, info="")
        for step in range(start_step, last):
            t0 = time.perf_counter()
            for group in opt.param_groups:
                group["lr"] = lr_at(step, train_spec, restart)
            loss_value, n_tokens = train_step(model, opt, batches, hooks, step, train_spec, micro_batch, dev,
                                              data.get(step))
            dt = time.perf_counter() - t0
            t_train += dt
            tokens_seen += n_tokens
            entry = {"step": step + 1, "loss": round(loss_value, 4), "tok_per_s": round(n_tokens / dt, 1),
                     "seconds": round(dt, 4)}
            if (step + 1) % train_spec.eval_every == 0 or step + 1 == train_spec.steps:
                model.eval()
                entry["val_greedy_acc"] = greedy_accuracy(model, tok, val_problems,
                                                          max_new_tokens=zoo_model.max_new_tokens)
                model.train()
                console.print(f"step {step + 1}: loss {entry['loss']:.3f}  val greedy acc {entry['val_greedy_acc']:.3f}")
            log.append(entry)
            progress.update(bar, advance=1, info=f"loss {entry['loss']:.3f} {entry['tok_per_s']:.0f} tok/s")
            if (step + 1) % train_spec.checkpoint_every == 0 or step + 1 in (train_spec.steps, last):
                checkpoint(step + 1)
    if last < train_spec.steps:
        console.print(f"stopped at step {last} (--until); resume with the same or another --steps")
        return {"stopped_at": last}

    summary = {
        "parameters": n_params,
        "steps": train_spec.steps,
        "final_loss": log[-1]["loss"] if log else None,
        "train_tokens_per_s_median": sorted(e["tok_per_s"] for e in log)[len(log) // 2] if log else None,
        "generic_corpus_sha256": generic.corpus_checksum(),
        "segments": segments,
        "train_seconds_this_call": round(t_train, 1),
        "wall_seconds_recorded": round(sum(_seconds_between(s["started"], s["ended"]) for s in segments
                                           if "started" in s and "ended" in s), 1),
        "commands": history + [f"resp-dsl zoo train {zoo_model.name}{zoo_model.design_flag}"
                     + f" --steps {s['steps']}"
                     + (f" --until {s['until']}" if s["until"] != s["steps"] else "")
                     + (f" --threads {s['threads']}" if "threads" in s else "")
                     + (" --device cuda" if "device" in s else "")
                     + (f" --init-from DIR  # DIR: the model of the commands before it ({s['init_from']['step']} steps, "
                        f"weights sha256 {s['init_from']['sha256'][:12]})" if "init_from" in s else "")
                     for s in segments[len(history):]],
    }
    write_json_atomic(workdir / "summary.json", summary)
    if out_dir is not None:
        model.to("cpu")
        save_model(model, tok, out_dir, force=force, extra={"training": summary, "train_spec": train_spec.to_dict(),
                                                              "model_spec": model_spec.to_dict()})
    return summary


def save_model(model, tok, out_dir: Path, *, force: bool = False, extra: dict | None = None) -> None:
    """Write an HF-format directory atomically; refuse to replace an existing one unless `force`."""
    from transformers import GenerationConfig

    out_dir = Path(out_dir)
    if out_dir.exists() and any(out_dir.iterdir()) and not force:
        raise SystemExit(f"{out_dir} exists and is not empty; pass --force to replace it")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=out_dir.parent))
    try:
        model.generation_config = GenerationConfig(
            eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id,
            do_sample=True, temperature=0.6, top_p=0.95, top_k=20,
        )
        model.save_pretrained(tmp, safe_serialization=True)
        tok.save_pretrained(tmp)
        if extra:
            (tmp / TRAINING_RECORD_JSON).write_text(json.dumps(extra, indent=2, sort_keys=True))
        if out_dir.exists():
            old = out_dir.with_name(out_dir.name + ".old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(out_dir, old)
            os.replace(tmp, out_dir)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, out_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
