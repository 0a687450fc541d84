"""`resp-dsl run --executor ray`: the graph on a Ray cluster, every ready node at once.

The driver (the process that runs `resp-dsl run`) owns the store. It walks the same graph as
the local interpreter, reuses what the store holds, and sends every node whose parents are
done to a Ray task with the resources it asks for (``placement``). Nodes of a cluster share
no filesystem, so nothing travels by path: a task receives its inputs' entry files and its
node's partial (checkpoint) files as bytes, materializes them in a private temporary
directory, runs the op there (``op_function``) and returns its output files with their
sha256; the driver verifies them and commits them with ``Store.write``, exactly as a local
run does (atomic, manifest, checksums). The base weights are not shipped: a worker reads
them where ``model.json`` says (the hub cache or a path every worker sees).

Sharding (``sharding``): with ``shards > 1``, a generation node runs as that many
tasks over its prompts and a Taylor score node over its calibration batches; each finished
shard is committed into the node's partial dir in the driver's store (generation records
into its checkpoint, score accumulators as ``shard-K-of-N.safetensors``), and one more task
finishes the node from them. A killed driver therefore resumes, locally or on Ray, from
every committed node and shard; a shard lost with its worker is retried by Ray on another
worker (``MAX_RETRIES``).

``export`` and ``report`` write into the user's ``--out``: they run on the driver.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import socket
import tempfile
import time
from pathlib import Path, PurePosixPath
from typing import Any

from resp_dsl.ops import OPS
from resp_dsl.ops.base import human
from resp_dsl import sharding
from resp_dsl.runtime.interpreter import (
    SUMMARY,
    NodeFailed,
    NodeOutcome,
    _compute,
    _nodes_in_order,
    _PlainReporter,
    _reuse,
    params_for_run,
    preflight,
)

INSTALL = "pip install 'resp-dsl[ray]'"

MAX_RETRIES = 3  # a task whose worker dies (kill -9, node lost) is run again, on any worker
CONNECT_TIMEOUT_S = 5.0
CLIENT_TIMEOUT_S = 1  # Ray Client's first wait for a ray:// address (+5 s on each of its 3 tries)


class RayUnavailable(RuntimeError):
    """Ray is not installed, or the cluster cannot be reached; the message says what to do."""

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.hint = hint


def op_function(name: str):
    """The implementation of op ``name`` (ctx, node, inputs, out) -> summary, or None.

    The one place this executor looks ops up, so that it follows the op table wherever it lives.
    """
    from resp_dsl.ops import OPS

    op = OPS.get(name)
    return op.run if op is not None else None


# ---------------------------------------------------------------------------------------
# connecting


def require_ray():
    try:
        import ray
    except ImportError:
        raise RayUnavailable("--executor ray needs Ray, which is not installed",
                             hint=f"install the extra: {INSTALL}") from None
    return ray


def connect(address: str | None):
    """The ``ray`` module, connected: to ``address`` (``auto``, ``host:port``, ``ray://host:port``),
    or to a Ray started on this machine when there is none; an existing connection is kept.
    An address that does not answer within ``CONNECT_TIMEOUT_S`` is an error, not a hang."""
    ray = require_ray()
    if ray.is_initialized():
        return ray
    if address and address != "auto":
        host, port = _host_port(address)
        try:
            socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S).close()
        except OSError as exc:
            raise RayUnavailable(f"cannot reach a Ray cluster at {address}: {exc.strerror or exc}",
                                 hint="start one with `ray start --head` and pass the address it prints "
                                      "(or --address auto on a cluster node)") from None
    if address and address.startswith("ray://"):  # Ray Client tries 3 times: 5 + 10 + 15 s by default, here 1 + 6 + 11
        os.environ.setdefault("RAY_CLIENT_INITIAL_CONNECTION_TIMEOUT_S", str(CLIENT_TIMEOUT_S))
    try:
        ray.init(address=address or None, include_dashboard=False, log_to_driver=False,
                 configure_logging=False)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise RayUnavailable(f"cannot connect to Ray{' at ' + address if address else ''}: {exc}".splitlines()[0],
                             hint="`ray status` on the head node says whether the cluster is up") from None
    return ray


def _host_port(address: str) -> tuple[str, int]:
    rest = address.split("://", 1)[1] if "://" in address else address
    host, _, port = rest.rpartition(":")
    default = 10001 if address.startswith("ray://") else 6379
    if not host:
        return rest, default
    try:
        return host.strip("[]"), int(port)
    except ValueError:
        raise RayUnavailable(f"--address {address!r} is not host:port, ray://host:port or auto") from None


# ---------------------------------------------------------------------------------------
# placement


def model_device(graph, node) -> str:
    """The device of the model a node works on (its load_model ancestor's), "cpu" if none."""
    seen = node
    while "model" in seen.inputs:  # up the model inputs to the node that loads the model
        seen = graph.nodes[seen.inputs["model"]]
    return str(seen.params.get("device") or "cpu")


def model_devices(graph, node) -> int:
    """How many GPUs one copy of the node's model spans (`model ... devices=N`; 1 when not set)."""
    seen = node
    while "model" in seen.inputs:
        seen = graph.nodes[seen.inputs["model"]]
    return int(seen.params.get("devices", 1))


def placement(graph, node, *, gpus_per_eval: float | None = None) -> dict[str, float]:
    """The Ray resources one task of ``node`` asks for: a CPU, and as many GPUs as its model spans
    when it is on CUDA (``devices=N``; ``gpus_per_eval`` for eval nodes when given)."""
    gpus = float(model_devices(graph, node)) if model_device(graph, node).startswith("cuda") else 0.0
    if OPS[node.op].resource_group == "eval" and gpus_per_eval is not None:
        gpus = float(gpus_per_eval)
    return {"num_cpus": 1.0, "num_gpus": gpus}


AUTO = "auto"


def auto_shards(request: dict[str, float], cluster: dict[str, float]) -> int:
    """How many tasks of this size the whole cluster runs at once: its GPUs over the GPUs a task
    asks for (CPUs over CPUs for a CPU task), at least 1.

    >>> auto_shards({"num_cpus": 1, "num_gpus": 1}, {"CPU": 64, "GPU": 8})
    8
    """
    gpus, cpus = request.get("num_gpus", 0), request.get("num_cpus", 1)
    n = cluster.get("GPU", 0) // gpus if gpus else cluster.get("CPU", 1) // max(cpus, 1e-9)
    return max(1, int(n))


def memory_estimates(graph) -> dict[str, int]:
    """Bytes each node needs, from its op's own cost (``Op.cost``, what `plan` prints), where the
    model's config can be read offline; the Ray executor asks for them as the `memory` resource."""
    from resp_dsl.registry import resolve
    from resp_dsl.runtime.dry import plan

    def config(source):
        try:
            return resolve(source)
        except Exception:  # noqa: BLE001 - an unknown model just has no estimate
            return None

    return {p.id: int(p.cost.memory_bytes) for p in plan(graph, config) if p.cost.memory_bytes}


def check_fits(nodes, requests: dict[str, dict[str, float]], cluster: list[dict]) -> None:
    """Refuse, before anything runs, a node that no single Ray node can hold."""
    alive = [n.get("Resources", {}) for n in cluster if n.get("Alive", n.get("alive", True))]
    most = {"num_gpus": max((r.get("GPU", 0) for r in alive), default=0),
            "num_cpus": max((r.get("CPU", 0) for r in alive), default=0),
            "memory": max((r.get("memory", 0) for r in alive), default=0)}
    for node in nodes:
        if OPS[node.op].runs_on_driver:
            continue
        for res, word in (("num_gpus", "GPU"), ("num_cpus", "CPU"), ("memory", "memory")):
            if res not in requests[node.id]:
                continue
            asked = requests[node.id][res]
            if asked > most[res]:
                if res == "memory":
                    message = (f"needs about {human(asked, 'B')} per task (its `plan` estimate), but the largest "
                               f"node of the Ray cluster has {human(most[res], 'B')}")
                else:
                    message = f"asks for {asked:g} {word}(s) per task, but the largest node of the Ray cluster has {most[res]:g}"
                raise NodeFailed(node, "", message, "lower --gpus-per-eval, or add a Ray node with more " + word + "s",
                                 None)


# ---------------------------------------------------------------------------------------
# the worker side

_WORKER: dict[str, Any] = {}  # per worker process: loaded models and a private store, reused across tasks


def _worker_context(options: dict):
    from resp_dsl.runtime.context import RunContext
    from resp_dsl.runtime.store import Store

    if "store" not in _WORKER:
        _WORKER["tmp"] = tempfile.TemporaryDirectory(prefix="resp-dsl-worker-")
        _WORKER["store"] = Store(Path(_WORKER["tmp"].name) / "store")
        _WORKER["models"], _WORKER["built"] = {}, {}
    logs: list[str] = []
    ctx = RunContext(store=_WORKER["store"], out_dir=Path(_WORKER["tmp"].name) / "out", log=logs.append,
                     batch_size=options.get("batch_size"), threads=options.get("threads"))
    ctx._models, ctx._built = _WORKER["models"], _WORKER["built"]
    return ctx, logs


def _safe_name(name: str) -> str:
    p = PurePosixPath(name)
    if p.is_absolute() or not p.parts or any(part in ("", ".", "..") for part in p.parts):
        raise ValueError(f"refusing a transferred file named {name!r}")
    return str(p)


def _write_files(root: Path, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        target = root / _safe_name(name)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


def _read_files(root: Path) -> dict[str, bytes]:
    if not root.is_dir():
        return {}
    return {f.relative_to(root).as_posix(): f.read_bytes() for f in sorted(root.rglob("*")) if f.is_file()}


def _sums(files: dict[str, bytes]) -> dict[str, str]:
    return {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}


def _worker_name() -> str:
    try:
        import ray

        node_id = ray.get_runtime_context().get_node_id()
    except Exception:  # noqa: BLE001 - outside Ray (direct calls in tests)
        node_id = "local"
    return f"{socket.gethostname()}:{os.getpid()} (node {node_id[:8]})"


def _announce(board, node_id: str) -> None:
    """Tell the driver's live view which worker runs ``node_id`` (best effort: never fails a task)."""
    if board is None:
        return
    with contextlib.suppress(Exception):
        board.put_nowait((node_id, _worker_name()))


def _show_workers(board, reporter) -> None:
    """Move the workers' announcements into the live view (``reporter.where``, else a log line)."""
    if board is None:
        return
    with contextlib.suppress(Exception):
        while not board.empty():
            node_id, worker = board.get_nowait()
            where = getattr(reporter, "where", None)
            if where is not None:
                where(node_id, worker)
            else:
                reporter.log(f"{node_id}: running on {worker}")


def execute(node, key: str, inputs: dict, partial_files: dict[str, bytes], work, options: dict) -> dict:
    """One task: run ``node`` (whole, one shard, or the finish from reduced score shards) in a
    private directory and return what it wrote. Never raises for an op failure: it returns
    ``{"kind": "error", ...}`` with the partial files, so the driver keeps what was done."""
    from resp_dsl.runtime.context import Artifact, OpError
    from resp_dsl.runtime.provenance import peak_memory

    ctx, logs = _worker_context(options)
    _announce(options.get("board"), node.id)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="resp-dsl-task-") as tmp:
        root = Path(tmp)
        arts = {}
        for role, (akey, aop, meta, files) in inputs.items():
            _write_files(root / "in" / role, _resolve(files))
            arts[role] = Artifact(akey, aop, root / "in" / role, dict(meta))
        partial = root / "partial"
        partial.mkdir()
        _write_files(partial, partial_files)
        out = root / "out"
        out.mkdir()
        ctx.key, ctx.partial = key, partial
        base = {"worker": _worker_name(), "logs": logs}
        if isinstance(work, tuple) and work[0] == "reduce":
            work = sharding.Reduced(_reduce(work[1]))
        try:
            fn = op_function(node.op)
            if fn is None:
                raise OpError(f"op {node.op!r} has no implementation in this runtime")
            with sharding.running(work):
                summary = fn(ctx, node, arts, out) or {}
        except sharding.ShardFinished as done:
            payload = _tensor_bytes(done.payload) if done.payload is not None else None
            return {**base, "kind": "shard", "payload": payload, "partial": _read_files(partial),
                    "seconds": time.perf_counter() - t0, "peak_rss_mib": peak_memory().get("rss_mib")}
        except OpError as exc:
            return {**base, "kind": "error", "message": str(exc), "hint": exc.hint, "partial": _read_files(partial)}
        except Exception as exc:  # noqa: BLE001 - reported with the node's name by the driver
            return {**base, "kind": "error", "message": f"{type(exc).__name__}: {exc}", "hint": None,
                    "partial": _read_files(partial)}
        (out / SUMMARY).write_text(json.dumps(summary, sort_keys=True), encoding="utf-8")
        files = _read_files(out)
        return {**base, "kind": "whole", "files": files, "sums": _sums(files), "summary": summary,
                "seconds": time.perf_counter() - t0, "peak_rss_mib": peak_memory().get("rss_mib")}


def _resolve(files):
    if isinstance(files, dict):
        return files
    import ray

    return ray.get(files)


def _tensor_bytes(tensors: dict) -> bytes:
    from safetensors.torch import save

    return save({k: v.contiguous() for k, v in tensors.items()})


def _reduce(payloads: list[bytes]) -> dict:
    from safetensors.torch import load

    from resp_dsl.pruning.scoring import reduce_partials

    return reduce_partials([load(p) for p in payloads])  # shard 0, 1, ...: a fixed order


# ---------------------------------------------------------------------------------------
# the driver


class _Node:
    """The driver's record of a node being computed: its lock, shards done, tasks in flight."""

    def __init__(self, node, key: str, count: int, kind: str | None, lock: contextlib.ExitStack):
        self.node, self.key, self.count, self.kind, self.lock = node, key, count, kind, lock
        self.shards: dict[int, dict] = {}
        self.t0 = time.perf_counter()
        self.seconds = 0.0  # task time, summed over shards


def run_graph_ray(graph, *, store, out_dir: Path, reporter=None, overwrite_exports: bool = False,
                  targets: set[str] | None = None, keep_going: bool = False, compute: set[str] | None = None,
                  batch_size: int | str | None = None, recipe: str = "", threads: int | None = None,
                  address: str | None = None, shards: int | str = 1, gpus_per_eval: float | None = None
                  ) -> list[NodeOutcome]:
    """``interpreter.run_graph`` on a Ray cluster: same arguments and outcomes, plus where to run
    (``address``), how many shards a big node is cut into (``"auto"``: ``auto_shards``), and the
    GPUs of an eval task."""
    from resp_dsl.runtime.context import Artifact, RunContext

    ray = connect(address)
    reporter = reporter or _PlainReporter()
    nodes = [n for n in _nodes_in_order(graph) if targets is None or n.id in targets]
    keys = {n.id: graph.key(n.id) for n in nodes}
    ctx = RunContext(store=store, out_dir=Path(out_dir), progress=reporter.progress, log=reporter.log,
                     overwrite_exports=overwrite_exports, batch_size=batch_size, threads=threads)
    from ray.util.queue import Queue

    board = Queue()  # workers announce (node, worker) when a task starts: the live view shows where it runs
    options = {"batch_size": batch_size, "threads": threads, "board": board}
    requests = {n.id: placement(graph, n, gpus_per_eval=gpus_per_eval) for n in nodes}
    for node_id, need in memory_estimates(graph).items():
        if node_id in requests:
            requests[node_id]["memory"] = float(need)
    preflight(nodes)
    check_fits(nodes, requests, ray.nodes())
    task = ray.remote(execute)
    outcomes: dict[str, NodeOutcome] = {}
    artifacts: dict[str, Artifact] = {}
    blobs: dict[str, Any] = {}  # node id -> object ref of its entry's files, put once
    announced: set[str] = set()
    running: dict[str, _Node] = {}
    inflight: dict[Any, tuple[str, Any]] = {}  # object ref -> (node id, shard index | "whole" | "finish")
    pending = list(nodes)
    reporter.start([(n.id, n.op, keys[n.id]) for n in nodes])

    def finish(node, status, summary=None, seconds=0.0, error=None, hint=None, peak_rss_mib=None):
        outcomes[node.id] = NodeOutcome(node.id, node.op, keys[node.id], status, seconds, summary or {}, error, hint,
                                        peak_rss_mib)
        if summary is not None and status not in ("failed", "skipped"):
            ctx.summaries[node.id] = summary
        reporter.node(node.id, status, outcomes[node.id])

    def fail(node, failed: NodeFailed):
        state = running.pop(node.id, None)
        if state is not None:
            for ref, (nid, _) in list(inflight.items()):
                if nid == node.id:
                    ray.cancel(ref, force=True)
                    del inflight[ref]
            state.lock.close()
        if not (keep_going or not OPS[node.op].failure_stops_run) or not failed.key:
            raise failed
        finish(node, "failed", error=str(failed), hint=failed.hint)

    def inputs_of(node) -> dict:
        refs = {}
        for role, pid in node.inputs.items():
            art = artifacts[pid]
            if pid not in blobs:
                blobs[pid] = ray.put(_read_files(art.path))
            refs[role] = (art.key, art.op, dict(art.meta), blobs[pid])
        return refs

    def submit(state: _Node, work, tag, partial_files: dict[str, bytes] | None = None) -> None:
        node = state.node
        files = _read_files(store.partial_dir(state.key)) if partial_files is None else partial_files
        ref = task.options(**requests[node.id], max_retries=MAX_RETRIES).remote(
            node, state.key, inputs_of(node), files, work, options)
        inflight[ref] = (node.id, tag)

    def start(node) -> None:
        key = keys[node.id]
        params_for_run(node, key)  # the op's schema, as the local interpreter checks before running
        lock = contextlib.ExitStack()
        lock.enter_context(store.lock(key, timeout=math.inf,
                                      on_wait=lambda s: reporter.log(f"waiting for another run to finish {node.id}")))
        found = _reuse(ctx, node, key, artifacts, reporter, announced)  # finished by the run we waited for?
        if found is not None:
            lock.close()
            finish(node, "cached", found)
            return
        count = auto_shards(requests[node.id], ray.cluster_resources()) if shards == AUTO else int(shards)
        kind = OPS[node.op].shard_kind(node.params) if count > 1 else None
        state = running[node.id] = _Node(node, key, count if kind else 1, kind, lock)
        reporter.node(node.id, "running", None)
        if kind is None:
            submit(state, None, "whole")
            return
        done = _committed_shards(store, key, count) if kind == "score" else {}
        state.shards.update({k: {"seconds": 0.0} for k in done})
        for k in range(count):
            if k not in done:
                submit(state, sharding.Shard(k, count), k)
        if len(state.shards) == count:
            _finish_shards(state)

    def _finish_shards(state: _Node) -> None:
        if state.kind == "score":
            payloads = [_shard_file(store, state.key, sharding.Shard(k, state.count)).read_bytes()
                        for k in range(state.count)]
            submit(state, ("reduce", payloads), "finish")
        else:  # the merged checkpoint holds every prompt: the op only assembles the artifact
            submit(state, None, "finish")

    def settle(node_id: str, tag, result: dict) -> None:
        state = running[node_id]
        node = state.node
        for line in result.get("logs") or ():
            reporter.log(f"{node_id}: {line}")
        if result["kind"] == "error":
            _commit_partial(store, state.key, result.get("partial") or {})
            partial = store.partial_dir(state.key)
            fail(node, NodeFailed(node, state.key, result["message"], result.get("hint"), partial))
            return
        state.seconds += result.get("seconds", 0.0)
        if result["kind"] == "shard":
            _commit_partial(store, state.key, result.get("partial") or {})
            if result.get("payload") is not None:
                from resp_dsl.files import write_bytes_atomic

                write_bytes_atomic(_shard_file(store, state.key, sharding.Shard(tag, state.count)), result["payload"])
            state.shards[tag] = result
            reporter.log(f"{node_id}: shard {tag + 1}/{state.count} done on {result['worker']}")
            if len(state.shards) == state.count:
                _finish_shards(state)
            return
        try:
            art = _commit(store, node, state.key, result)
        except ValueError as exc:
            fail(node, NodeFailed(node, state.key, str(exc), "the files changed in transfer; run again", None))
            return
        artifacts[node_id] = art
        running.pop(node_id)
        state.lock.close()
        reporter.log(f"{node_id}: ran on {result['worker']}")
        status = "recomputed" if state.key in announced else "done"
        peaks = [r.get("peak_rss_mib") for r in (result, *state.shards.values()) if r.get("peak_rss_mib")]
        finish(node, status, result["summary"], time.perf_counter() - state.t0, peak_rss_mib=max(peaks, default=None))

    try:
        while pending or inflight:
            progressed = True
            while progressed:
                progressed = False
                for node in list(pending):
                    parents = list(node.inputs.values())
                    if any(p not in outcomes for p in parents):
                        continue
                    pending.remove(node)
                    progressed = True
                    key = keys[node.id]
                    blocked = [p for p in parents if outcomes[p].status in ("failed", "skipped")]
                    if blocked:
                        finish(node, "skipped", error=f"needs {blocked[0]}, which failed")
                        continue
                    ctx.key = key
                    if recipe:
                        store.note_use(key, node=node.id, recipe=recipe)
                    try:
                        found = _reuse(ctx, node, key, artifacts, reporter, announced)
                        if found is not None:
                            finish(node, "cached", found)
                            continue
                        if compute is not None and node.id not in compute:
                            raise NodeFailed(node, key, "is not in the store, and --only runs just the nodes it names",
                                             f"run with --until {node.id} first (or --until the node you named)", None)
                        if OPS[node.op].runs_on_driver or op_function(node.op) is None:
                            with store.lock(key, timeout=math.inf):
                                status, summary, seconds = _compute(ctx, node, key, artifacts, reporter, announced)
                            finish(node, status, summary, seconds)
                        else:
                            start(node)
                    except NodeFailed as failed:
                        fail(node, failed)
            if not inflight:
                break
            ready, _ = ray.wait(list(inflight), num_returns=1, timeout=0.5)
            _show_workers(board, reporter)
            if not ready:
                continue
            node_id, tag = inflight.pop(ready[0])
            try:
                result = ray.get(ready[0])
            except ray.exceptions.RayError as exc:  # the worker was lost MAX_RETRIES + 1 times, or cancelled
                result = {"kind": "error", "message": f"its Ray task failed: {str(exc).splitlines()[0]}",
                          "hint": "`ray status` shows whether the cluster lost nodes; run again to resume"}
            if node_id in running:
                settle(node_id, tag, result)
    finally:
        for ref in list(inflight):
            ray.cancel(ref, force=True)
        for state in running.values():
            state.lock.close()
    return [outcomes[n.id] for n in nodes if n.id in outcomes]


def _shard_file(store, key: str, shard: sharding.Shard) -> Path:
    return store.partial_dir(key) / f"{shard.name}.safetensors"


def _committed_shards(store, key: str, count: int) -> set[int]:
    """Score shards of a ``count``-way split already in the node's partial dir (a resumed run)."""
    from safetensors import safe_open

    done = set()
    for k in range(count):
        f = _shard_file(store, key, sharding.Shard(k, count))
        if f.is_file():
            try:
                with safe_open(str(f), framework="pt"):
                    done.add(k)
            except Exception:  # noqa: BLE001 - a torn file is computed again
                f.unlink(missing_ok=True)
    return done


def _commit_partial(store, key: str, files: dict[str, bytes]) -> None:
    """A task's checkpoint files joined into the node's partial dir (JSONL records appended,
    each still verified against the node key when the op loads them)."""
    from resp_dsl.files import write_bytes_atomic

    if not files:
        return
    partial = store.partial_dir(key)
    for name, data in files.items():
        target = partial / _safe_name(name)
        if name.endswith(".jsonl") and target.is_file():
            data = sharding.merge_jsonl([target.read_bytes(), data])
        elif name.endswith(".jsonl"):
            data = sharding.merge_jsonl([data])
        write_bytes_atomic(target, data)


def _commit(store, node, key: str, result: dict):
    """A task's output files, verified against the sums the worker computed, as the entry of ``key``."""
    from resp_dsl.runtime.context import Artifact

    files, sums = result["files"], result["sums"]
    if _sums(files) != sums:
        bad = sorted(n for n in files if _sums({n: files[n]})[n] != sums.get(n))
        raise ValueError(f"files returned by the worker do not match their checksums: {', '.join(bad) or 'names'}")
    with store.write(key, {"op": node.op, "params": node.params}) as tmp:
        _write_files(Path(tmp), files)
    entry = store.open(key, verify=False)
    return Artifact(key, node.op, Path(entry.path), dict(entry.meta))
