"""The dry executor behind ``plan``: walks the graph like the interpreter, runs nothing.

For each node it reports whether the cache holds it and an estimate of its cost from
the model config: parameters kept after pruning, tokens to generate, forward and
backward passes, and approximate memory. Pure Python; never imports torch.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from resp_dsl import zoo
from resp_dsl.graph import Graph
from resp_dsl.registry import ModelConfig
from resp_dsl.scorers import SCORERS
from resp_dsl.sparsity import regeneration_seed

DTYPE_BYTES = {"bf16": 2, "fp16": 2, "fp32": 4, "auto": 2}
PROBLEMS = {"gsm8k": 1319, "mathqa": 2985}  # test split sizes
PROMPT_TOKENS = {"gsm8k": 900, "mathqa": 250, "tiny_gsm": 120, "tiny_gsm_hard": 250}  # rough, incl. few-shot examples


@dataclass
class Cost:
    params_kept: int | None = None
    tokens_generated: int = 0
    forward_backward: int = 0
    forward: int = 0
    memory_bytes: int | None = None
    note: str = ""

    def to_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items()}


@dataclass
class NodePlan:
    id: str
    op: str
    key: str
    cached: bool
    cost: Cost
    arms: list[str] = field(default_factory=list)


def _problems(params: dict) -> int | None:
    n = PROBLEMS.get(params["task"])
    if n is None and params.get("task_file"):
        try:
            with open(params["task_file"], "rb") as f:
                n = sum(1 for line in f if line.strip())
        except OSError:
            n = None
    if n is None and zoo.is_bundled_task(params["task"]):
        p = zoo.task_data_path(params["task"], params["split"])
        try:
            n = sum(1 for line in p.open("rb") if line.strip())
        except OSError:
            n = None
    if params.get("limit") and n is not None:
        n = min(n, params["limit"])
    elif params.get("limit"):
        n = params["limit"]
    return n


def sampling_note(p: dict) -> str:
    """The sampling settings in force on a node, as `plan` shows them ('?' = read from the model at run time)."""
    show = {k: ("?" if p.get(k) is None else f"{p[k]:g}") for k in ("temperature", "top_p", "top_k")}
    return f"T={show['temperature']} top_p={show['top_p']} top_k={show['top_k']}"


def kept_params(cfg: ModelConfig, target: float, protect: dict, basis: str) -> int:
    """Parameters left after pruning to ``target`` of the prunable ones (dense base).

    Protection changes where parameters go, not how many (the target is overall). With
    ``basis structures`` the count depends on the heads/channels mix the scores pick, so
    the params-basis figure is the estimate.
    """
    prunable = cfg.num_hidden_layers * cfg.prunable_block_params()
    return int(cfg.total_params() - target * prunable)


def uniform_export_params(cfg: ModelConfig, target: float, protect: dict) -> tuple[int, int, list[int]]:
    """(fewest, most) parameters a `uniform` export of a model pruned to ``target`` can keep,
    and the protected blocks.

    A uniform export pads every block to the widest kept counts, so one block kept dense
    (protected) makes the whole export dense-sized: fewest == most == the dense count. Without
    protection the size depends on the selection: from ``kept_params`` (every block pruned
    alike) up to the dense count (one block left whole).
    """
    from resp_dsl.ir.models import ProtectSpec

    prot = ProtectSpec(first_fraction=protect.get("first_fraction", 0.0), last=protect.get("last", False),
                       blocks=tuple(protect.get("blocks", ()))).resolve(cfg.num_hidden_layers)
    dense = cfg.total_params()
    if prot or target <= 0:
        return dense, dense, prot
    return kept_params(cfg, target, protect, "params"), dense, prot


def _cached_fn(cache_root):
    try:
        from resp_dsl.runtime.store import Store
    except Exception:  # the store is optional for plan: treat everything as not cached
        return lambda key: False
    try:
        store = Store(cache_root) if cache_root is not None else Store()
    except Exception:
        return lambda key: False

    def has(key: str) -> bool:
        try:
            return bool(store.has(key))
        except Exception:
            return False

    return has


def plan(graph: Graph, config, *, cache_root=None) -> list[NodePlan]:
    """Cost and cache state per node, in topological order.

    ``config`` is a ModelConfig for every node, or a callable ``source -> ModelConfig | None``
    so that a recipe sweeping over models costs each branch with its own model.
    """
    has = _cached_fn(cache_root)
    out: list[NodePlan] = []
    n_cal: dict[str, int] = {}
    seq: dict[str, int] = {}
    cfg_of: dict[str, ModelConfig | None] = {}
    prunes: dict[str, dict] = {}  # prune node id -> params (what an export of it keeps)
    lookup = config if callable(config) else (lambda source: config)
    for node in graph.topological_order():
        p, c = node.params, Cost()
        if node.op == "load_model":
            cfg_of[node.id] = lookup(p["model"])
        else:
            parents = [cfg_of.get(i) for i in node.inputs.values()]
            cfg_of[node.id] = next((x for x in parents if x is not None), None)
        config = cfg_of[node.id]
        wbytes = None
        if node.op == "load_model":
            if config:
                c.params_kept = config.total_params()
                wbytes = config.total_params() * DTYPE_BYTES.get(p["dtype"], 2)
                c.memory_bytes = wbytes
        elif node.op == "calibrate":
            n_cal[node.id] = p["n"]
            seq[node.id] = p["max_tokens"] + 200
            if p["source"] == "self_generated":
                c.tokens_generated = p["n"] * p["max_tokens"]
                c.note = f"{p['n']} traces ≤{p['max_tokens']} tok, {sampling_note(p)}, seed {p['seed']}"
            else:
                c.note = f"{p['n']} samples ≤{p['max_tokens']} tokens"
        elif node.op == "regenerate":
            parent = node.inputs["calibration"]
            n = n_cal.get(parent, 0)
            n_cal[node.id], seq[node.id] = n, seq.get(parent, 2048)
            c.tokens_generated = int(round(p["rho"] * n)) * (seq[node.id] - 200)
            c.note = (f"re-sample {int(round(p['rho'] * n))} of {n} traces at {p['milestone']:g}, "
                      f"seed {regeneration_seed(p['seed'], p['milestone'])}")
        elif node.op == "score":
            n = n_cal.get(node.inputs.get("calibration", ""), 0)
            scorer = SCORERS[p["method"]]
            for unit, passes in scorer.cost(n).items():
                setattr(c, unit, passes)
            scope = {"decode_only": "decode tokens", "full": "all tokens"}.get(p["loss"])
            c.note = (f"{p['method']}" + (f" ({scope})" if scope else "") + f" on {', '.join(p['structures'])}, "
                      f"normalize={p['normalize']}")
            if config:
                L, h = config.num_hidden_layers, config.hidden_size
                tokens = seq.get(node.inputs.get("calibration", ""), 0)
                act = tokens * h * L * 2 * 16 if scorer.backward else tokens * h * 2 * 4
                grads = config.total_params() * 4 if scorer.backward else 0
                c.memory_bytes = config.total_params() * 2 + grads + act
        elif node.op == "prune":
            n = n_cal.get(node.inputs.get("calibration", ""), 0)
            if p["steps"] > 1 and p["score"]:  # every step after the first re-scores
                for unit, passes in SCORERS[p["score"]["method"]].cost((p["steps"] - 1) * n).items():
                    setattr(c, unit, passes)
            prunes[node.id] = p
            if config:
                c.params_kept = kept_params(config, p["target"], p["protect"], p["basis"])
            c.note = (f"{p['start']:g} -> {p['target']:g} of {p['basis']}"
                      + (f" in {p['steps']} steps" if p["steps"] > 1 else ""))
        elif node.op == "eval":
            problems = _problems(p)
            if problems is not None:
                c.tokens_generated = problems * p["max_new_tokens"]
            c.note = (f"{problems:,}" if problems is not None else "?") + \
                f" problems × ≤{p['max_new_tokens']} tok, {sampling_note(p)}"
        elif node.op == "export":
            c.note = f"{p['format']} -> {p['path']}"
            pr = prunes.get(node.inputs.get("model", ""))
            if p["format"] == "uniform" and config and pr:
                low, high, prot = uniform_export_params(config, pr["target"], pr["protect"])
                c.params_kept = high if prot else low
                if low == high:
                    c.note += f"  keeps all {human(high)} params: dense-sized (blocks kept dense pad every block)"
                elif p.get("round", "none") != "none":
                    c.note += f"  round={p['round']}: keeps about {human(low)} params (counts rounded to the mean)"
                else:
                    c.note += f"  keeps {human(low)}-{human(high)} params (padded to the widest block)"
        elif node.op == "report":
            from resp_dsl.runtime.report import describe

            c.note = describe(p)
        if wbytes is None and config and node.op in ("calibrate", "regenerate", "eval"):
            kv = 2 * config.num_hidden_layers * config.num_key_value_heads * config.head_dim * 2
            tokens = p.get("max_tokens") or p.get("max_new_tokens") or seq.get(node.id, 2048)
            c.memory_bytes = config.total_params() * 2 + kv * (tokens + 1000) * 8  # batch of 8
        key = graph.key(node.id)
        out.append(NodePlan(node.id, node.op, key, has(key), c, list(node.arms)))
    return out


def human(n: float | int | None, unit: str = "") -> str:
    if n is None:
        return "?"
    for div, suffix in ((1e12, "T"), (1e9, "B" if unit == "" else "G"), (1e6, "M"), (1e3, "k")):
        if abs(n) >= div:
            return f"{n / div:.3g}{suffix}{unit}"
    return f"{n:g}{unit}"
