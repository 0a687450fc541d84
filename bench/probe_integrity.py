"""Reliability probe at scale: hostile input, kill -9 moments, corruptions, concurrent runs (issue 15).

    python bench/probe_integrity.py [--mutants 120] [--kills 10] [--seed 0] [--only hostile,kill,corrupt,concurrent]

Prints, per family, what was tried and how many came out right:

- hostile: recipes (the bad corpus, byte-level mutants of the shipped recipes, special files,
  non-finite numbers, escaping export paths) through `check`/`plan`/`fmt --check`, and CLI
  invocations (bad flags, bad --cache, unknown keys). Clean = no traceback, no hang (30 s),
  a documented exit code (0 ok, 1 recipe errors, 2 usage, 3 not found / corrupt).
- kill: a run of a small recipe on `zoo:tiny-reasoner` killed with SIGKILL (or SIGTERM) at
  spread-out moments, then resumed. Identical = every stored file and every output file
  byte-identical to an uninterrupted reference run.
- corrupt: one damage at a time to a store entry, an in-op partial checkpoint or an exported
  model, then a re-run. Detected = the run announced it (a warning naming it) and its stored
  and exported files are identical to the reference again.
- concurrent: two (or three) runs started together on one store. Both finished = every run
  exit 0, the store identical to the reference, every --out identical.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENV = dict(os.environ, PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", OMP_NUM_THREADS="1",
           PYTHONUNBUFFERED="1", PYTHONPYCACHEPREFIX=os.path.join(tempfile.gettempdir(), "resp-dsl-probe-pyc"))
ENV.pop("PYTHONDONTWRITEBYTECODE", None)
CLI = [sys.executable, "-m", "resp_dsl"]

RECIPE = """\
use stdlib/tasks
model "zoo:tiny-reasoner" dtype fp32 device cpu
protect last block
calibrate self_generated from tiny_gsm n=4 max_tokens=48 temperature=0.6 seed=0
score taylor decode_only
schedule milestones [0.1, 0.2] regen ρ=1.0
eval tiny_gsm at [dense, 0.1, 0.2] limit=8 max_new_tokens=48
export per_layer to "m-{sparsity}" at final
report table rows=arm cols=sparsity
"""


def sh(args, *, cwd, timeout=600, **kw):
    return subprocess.run(args, cwd=cwd, env=ENV, capture_output=True, text=True, timeout=timeout, **kw)


def tree(d: Path, skip=("manifest.json",)) -> dict[str, str]:
    """Every file under d (relative path -> sha256), manifests (timestamps) excluded."""
    out = {}
    if d.is_dir():
        for f in sorted(d.rglob("*")):
            if f.is_file() and f.name not in skip and not f.is_symlink():
                out[f.relative_to(d).as_posix()] = hashlib.sha256(f.read_bytes()).hexdigest()
    return out


def entries(cache: Path) -> dict[str, str]:
    return {k: v for k, v in tree(cache / "v1").items() if len(k.split("/")[0]) == 2}


def run_args(recipe: Path, cache: Path, out: Path) -> list[str]:
    return [*CLI, "run", str(recipe), "--cache", str(cache), "--out", str(out), "--plain", "--threads", "1"]


# ---------------------------------------------------------------------------------------------- hostile

def hostile(work: Path, mutants: int, rng: random.Random) -> tuple[int, int, list[str]]:
    cases: list[tuple[str, list[str]]] = []
    for f in sorted((ROOT / "tests" / "lang" / "bad").glob("*.prune")):
        cases.append((f"bad/{f.name}", ["check", str(f)]))
    shipped = sorted((ROOT / "recipes").glob("*.prune")) + sorted((ROOT / "stdlib").glob("*.prune"))
    mdir = work / "mutants"
    mdir.mkdir()
    for i in range(mutants):
        src = bytearray(rng.choice(shipped).read_bytes())
        for _ in range(rng.randint(1, 6)):
            kind = rng.random()
            pos = rng.randrange(len(src))
            if kind < 0.35:
                src[pos] = rng.randrange(256)
            elif kind < 0.6:
                del src[pos:pos + rng.randint(1, 40)]
            elif kind < 0.85:
                src[pos:pos] = rng.choice([b"[", b"]", b":", b"\n    ", b"\"", b"1e400", b"-", b"..", b"%", b"\x00",
                                           b"use ../../", b"for x in [", "ρ=".encode(), b"\t", b"{sparsity}", b"arm a:\n"])
            else:
                src = src[:pos]
        p = mdir / f"m{i:03d}.prune"
        p.write_bytes(bytes(src))
        cases.append((f"mutant {i}", [rng.choice(["check", "plan", "fmt"]), str(p)] +
                      (["--check"] if False else [])))
    special = work / "special"
    special.mkdir()
    os.mkfifo(special / "fifo.prune")
    (special / "dir.prune").mkdir()
    with open(special / "sparse.prune", "wb") as f:
        f.truncate(256 << 20)
    (special / "file").write_text("x")
    for target in ("/dev/zero", "/dev/null", special / "fifo.prune", special / "dir.prune", special / "sparse.prune"):
        for cmd in ("check", "plan", "fmt"):
            cases.append((f"{cmd} {target}", [cmd, str(target)]))
    base = 'use stdlib/tasks\nparam t = 0.6\nmodel "zoo:tiny-reasoner" dtype fp32 device cpu\n' \
           'calibrate self_generated from tiny_gsm n=4 temperature=t\nscore taylor decode_only\nprune to 0.2\n'
    for i, extra in enumerate(['export per_layer to "/tmp/x" at final', 'export per_layer to "../.." at final',
                               'export per_layer to "~" at final', 'export per_layer to "" at final',
                               'export per_layer to "." at final', 'export uniform to "a/../../b" at final',
                               'eval tiny_gsm at [0.2] temperature=1e400', 'eval tiny_gsm at [0.2] limit=1e16',
                               'use "/etc/passwd"', 'use "../../../../../dev/zero"']):
        p = special / f"e{i}.prune"
        p.write_text(base + extra + "\n")
        for cmd in ("check", "plan"):
            cases.append((f"{cmd} {extra}", [cmd, str(p)]))
    ok = special / "ok.prune"
    ok.write_text(base)
    for v in ("1e400", "nan", "inf", "-inf", "1e999999", "abc", "[", "0x10", "1e15", "'"):
        cases.append((f"--set t={v}", ["plan", str(ok), "--set", f"t={v}"]))
    huge = json.loads((ROOT / "resp_dsl" / "zoo" / "tiny-reasoner" / "model" / "config.json").read_text())
    for field, value in (("num_hidden_layers", 10**12), ("intermediate_size", 10**15), ("hidden_size", -3),
                         ("num_attention_heads", 0), ("vocab_size", 10**18)):
        cfg = special / f"cfg_{field}.json"
        cfg.write_text(json.dumps({**huge, field: value}))
        cases.append((f"plan --model-config {field}={value}", ["plan", str(ROOT / "recipes" / "quickstart.prune"),
                                                                "--model-config", str(cfg)]))
    for args in (["run", str(ok), "--threads", "-3"], ["run", str(ok), "--threads", "0"],
                 ["run", str(ok), "--cache", str(special / "file")], ["run", str(ok), "--cache", str(special / "file" / "x")],
                 ["cache", "--cache", str(special / "file"), "ls"], ["cache", "--cache", str(special / "file"), "gc"],
                 ["cache", "--cache", str(work / "empty"), "verify", "ffff"], ["cache", "--cache", str(work / "empty"), "rm", "ffff"],
                 ["cache", "--cache", str(work / "empty"), "rm", "f"], ["cache", "--cache", str(work / "empty"), "gc", "--keep", "ab"],
                 ["cache", "--cache", str(work / "empty"), "gc", "--keep-file", "/nonexistent"],
                 ["cache", "--cache", str(work / "empty"), "gc", "--keep-recipe", str(special / "e0.prune")],
                 ["plan", str(ok), "--set", "nope=1"], ["plan", "/nonexistent.prune"], ["check"], ["frobnicate"],
                 ["run", str(ok), "--out", str(special / "file")], ["graph", str(ok), "--format", "nope"]):
        cases.append((" ".join(args[:3]), args))
    clean, bad = 0, []
    for name, args in cases:
        try:
            res = sh([*CLI, *args], cwd=work, timeout=30, stdin=subprocess.DEVNULL)
            good = "Traceback" not in res.stdout + res.stderr and res.returncode in (0, 1, 2, 3)
        except subprocess.TimeoutExpired:
            good = False
        if good:
            clean += 1
        else:
            bad.append(name)
    # fmt may rewrite mutants: harmless, they are scratch files
    return len(cases), clean, bad


# ---------------------------------------------------------------------------------------------- kill -9

def reference(work: Path) -> tuple[Path, Path, Path, float]:
    recipe = work / "probe.prune"
    recipe.write_text(RECIPE)
    cache, out = work / "ref-cache", work / "ref-out"
    t0 = time.perf_counter()
    res = sh(run_args(recipe, cache, out), cwd=work)
    if res.returncode != 0:
        sys.exit(f"reference run failed:\n{res.stdout}\n{res.stderr}")
    return recipe, cache, out, time.perf_counter() - t0


def kills(work: Path, recipe: Path, ref_cache: Path, ref_out: Path, seconds: float, n: int,
          rng: random.Random) -> tuple[int, int, list[str]]:
    same, bad = 0, []
    for i in range(n):
        cache, out = work / f"k{i}-cache", work / f"k{i}-out"
        sig = signal.SIGTERM if i % 5 == 4 else signal.SIGKILL
        at = (0.15 + 0.8 * i / max(1, n - 1)) * seconds * rng.uniform(0.9, 1.1)
        p = subprocess.Popen(run_args(recipe, cache, out), cwd=work, env=ENV, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        time.sleep(at)
        p.send_signal(sig)
        p.wait()
        res = sh(run_args(recipe, cache, out), cwd=work)
        ok = res.returncode == 0 and entries(cache) == entries(ref_cache) and tree(out) == tree(ref_out)
        same += ok
        if not ok:
            bad.append(f"{sig.name} at {at:.1f}s: rc={res.returncode}")
        shutil.rmtree(cache, ignore_errors=True)
        shutil.rmtree(out, ignore_errors=True)
    return n, same, bad


# ---------------------------------------------------------------------------------------------- corruption

def corruptions(work: Path, recipe: Path, ref_cache: Path, ref_out: Path, rng: random.Random, match: str = ""):
    sys.path.insert(0, str(ROOT))
    from resp_dsl.runtime.store import JsonlCheckpoint

    cache, out = work / "c-cache", work / "c-out"
    shutil.copytree(ref_cache, cache)
    shutil.copytree(ref_out, out)
    manifests = {}
    for m in (cache / "v1").glob("??/*/manifest.json"):
        manifests[m.parent.name] = json.loads(m.read_text())
    by_op: dict[str, list[str]] = {}
    for k, m in manifests.items():
        by_op.setdefault(m["op"], []).append(k)

    def flip(f: Path):
        data = bytearray(f.read_bytes())
        i = rng.randrange(len(data))
        data[i] ^= 0xFF
        f.write_bytes(bytes(data))

    def truncate(f: Path):
        f.write_bytes(f.read_bytes()[: max(0, f.stat().st_size // 2)])

    def edit_status(e: Path):
        m = json.loads((e / "manifest.json").read_text())
        m["status"] = "writing"
        (e / "manifest.json").write_text(json.dumps(m))

    def edit_json_value(f: Path):
        text = f.read_text()
        i = next(j for j, ch in enumerate(text) if ch.isdigit())  # change the first digit: a real edit
        f.write_text(text[:i] + str((int(text[i]) + 1) % 10) + text[i + 1:])

    scenarios = []
    for op, keys in sorted(by_op.items()):
        for key in keys[:2]:
            e = cache / "v1" / key[:2] / key
            files = [f for f in sorted(e.iterdir()) if f.name != "manifest.json"]
            f = rng.choice(files)
            scenarios += [
                (f"{op}: flip a byte of {f.name}", key, lambda f=f: flip(f)),
                (f"{op}: truncate {f.name}", key, lambda f=f: truncate(f)),
                (f"{op}: delete {f.name}", key, lambda f=f: f.unlink()),
                (f"{op}: delete manifest", key, lambda e=e: (e / "manifest.json").unlink()),
                (f"{op}: break manifest", key, lambda e=e: (e / "manifest.json").write_text("{")),
                (f"{op}: status edited", key, lambda e=e: edit_status(e)),
                (f"{op}: planted file", key, lambda e=e: (e / "planted.txt").write_text("x")),
            ]
            if f.suffix == ".json" and any(ch.isdigit() for ch in f.read_text()):
                scenarios.append((f"{op}: edit a value in {f.name}", key, lambda f=f: edit_json_value(f)))
    # partial checkpoints: an eval's and a calibration's in-op records, edited or from another node
    for op, name in (("eval", "eval.jsonl"), ("calibrate", "generations.jsonl")):
        for how in ("edited", "foreign", "unsigned"):
            key = sorted(by_op[op])[0]
            other = sorted(by_op[op])[-1] if len(by_op[op]) > 1 else "0" * 64

            def damage(key=key, other=other, how=how, name=name, op=op):
                e = cache / "v1" / key[:2] / key
                shutil.rmtree(e)  # the node must be recomputed, from the planted partial
                part = cache / "v1" / "partial" / key
                part.mkdir(parents=True, exist_ok=True)
                recs = [{"index": i, "prompt": "p", "prompt_sha": "x" * 16, "text": "#### 42", "token_ids": [1, 2],
                         "finish_reason": "stop"} for i in range(4)]
                if how == "foreign":
                    JsonlCheckpoint(part / name, key=other).append(recs)
                elif how == "unsigned":
                    (part / name).write_text("".join(json.dumps(r) + "\n" for r in recs))
                else:
                    JsonlCheckpoint(part / name, key=key).append(recs)
                    lines = (part / name).read_text().splitlines()
                    r = json.loads(lines[0])
                    r["text"] = "#### 1"
                    lines[0] = json.dumps(r)
                    (part / name).write_text("\n".join(lines) + "\n")

            scenarios.append((f"{op} partial: {how} records", key, damage))
    exp = next(iter(sorted(out.glob("m-*"))))
    for fname in ("model.safetensors", "tokenizer.json", "config.json", "modeling_resp_pruned.py", "resp_dsl.json"):
        scenarios += [(f"export: flip a byte of {fname}", None, lambda f=exp / fname: flip(f)),
                      (f"export: delete {fname}", None, lambda f=exp / fname: f.unlink())]
    scenarios += [("export: planted file", None, lambda: (exp / "planted.bin").write_bytes(b"x")),
                  ("export: directory deleted", None, lambda: shutil.rmtree(exp))]

    announced_words = ("corrupt", "do not verify", "does not match", "recomputed")
    detected, bad = 0, []
    scenarios = [s for s in scenarios if not match or match in s[0]]
    for name, key, damage in scenarios:
        damage()
        res = sh(run_args(recipe, cache, out), cwd=work)
        text = res.stdout + res.stderr
        if name.startswith("export: directory deleted"):
            said = True  # a missing export is simply written again (nothing was corrupt)
        else:
            said = any(w in text for w in announced_words)
        ok = res.returncode == 0 and said and entries(cache) == entries(ref_cache) and tree(out) == tree(ref_out)
        detected += ok
        if not ok:
            bad.append(f"{name}: rc={res.returncode} announced={said}")
    return len(scenarios), detected, bad


# ---------------------------------------------------------------------------------------------- concurrency

def concurrent(work: Path, recipe: Path, ref_cache: Path, ref_out: Path):
    scenarios = [("2 fresh runs, different --out", 2, False, True), ("2 fresh runs, same --out", 2, False, False),
                 ("3 fresh runs, different --out", 3, False, True), ("2 runs on a full store, different --out", 2, True, True),
                 ("2 runs on a full store, same --out", 2, True, False), ("2 runs, one started 3 s later", 2, False, True)]
    both, bad = 0, []
    for i, (name, n, full, distinct) in enumerate(scenarios):
        cache = work / f"cc{i}"
        if full:
            shutil.copytree(ref_cache, cache)
        outs = [work / f"cc{i}-out{j if distinct else 0}" for j in range(n)]
        procs = []
        for j in range(n):
            procs.append(subprocess.Popen(run_args(recipe, cache, outs[j]), cwd=work, env=ENV,
                                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
            if "later" in name:
                time.sleep(3)
        texts = [p.communicate(timeout=900)[0] for p in procs]
        ok = all(p.returncode == 0 for p in procs) and entries(cache) == entries(ref_cache) and all(
            tree(o) == tree(ref_out) for o in set(outs))
        both += ok
        if not ok:
            bad.append(f"{name}: rc={[p.returncode for p in procs]} " + " | ".join(t[-300:] for t in texts))
    return len(scenarios), both, bad


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mutants", type=int, default=120)
    ap.add_argument("--kills", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--only", default="hostile,kill,corrupt,concurrent")
    ap.add_argument("--match", default="", help="only the corruption scenarios whose name contains this")
    a = ap.parse_args()
    only = set(a.only.split(","))
    rng = random.Random(a.seed)
    figures = {}
    with tempfile.TemporaryDirectory() as d:
        work = Path(d)
        if "hostile" in only:
            t0 = time.perf_counter()
            tried, clean, bad = hostile(work, a.mutants, rng)
            figures["hostile recipes and CLI invocations"] = (tried, clean, "clean", bad, time.perf_counter() - t0)
        if only & {"kill", "corrupt", "concurrent"}:
            recipe, ref_cache, ref_out, seconds = reference(work)
            print(f"reference run: {seconds:.1f} s, {len(entries(ref_cache))} stored files", flush=True)
            if "kill" in only:
                t0 = time.perf_counter()
                tried, same, bad = kills(work, recipe, ref_cache, ref_out, seconds, a.kills, rng)
                figures["kill moments (SIGKILL, every 5th SIGTERM)"] = (tried, same, "identical", bad,
                                                                        time.perf_counter() - t0)
            if "corrupt" in only:
                t0 = time.perf_counter()
                tried, det, bad = corruptions(work, recipe, ref_cache, ref_out, rng, a.match)
                figures["corruptions (entries, partials, exports)"] = (tried, det, "detected+announced, identical after",
                                                                       bad, time.perf_counter() - t0)
            if "concurrent" in only:
                t0 = time.perf_counter()
                tried, ok, bad = concurrent(work, recipe, ref_cache, ref_out)
                figures["concurrent-run scenarios"] = (tried, ok, "all finished identical", bad, time.perf_counter() - t0)
    for name, (tried, good, what, bad, secs) in figures.items():
        print(f"{name}: {tried} tried / {good} {what}  ({secs:.0f} s)")
        for b in bad[:10]:
            print(f"    not ok: {b}")


if __name__ == "__main__":
    main()
