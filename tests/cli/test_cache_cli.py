"""`resp-dsl cache`: gc that keeps what plan prints or what recipes need, ls with node and recipe (issue 12)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from resp_dsl.compile import compile_file
from resp_dsl.runtime.store import Store

ROOT = Path(__file__).resolve().parents[2]
RECIPE = 'use stdlib/tasks\nparam t = 0.2\nmodel "zoo:tiny-reasoner" dtype fp32 device cpu\nscore magnitude\nprune to t\n'


def cli(*args, cwd=ROOT):
    p = subprocess.run([sys.executable, "-m", "resp_dsl", "cache", *map(str, args)], cwd=cwd, capture_output=True,
                       text=True, timeout=120)
    assert "Traceback" not in p.stdout + p.stderr, p.stderr
    return p.returncode, p.stdout, p.stderr


def _fill(store: Store, keys) -> None:
    for k in keys:
        with store.write(k, {"op": "x"}) as tmp:
            (tmp / "a.txt").write_text(k)


def _recipe_keys(path: Path, **overrides) -> set[str]:
    g = compile_file(path, overrides={k: str(v) for k, v in overrides.items()}).graph
    return {g.key(n) for n in g.nodes}


def test_gc_keep_accepts_plan_prefixes_and_refuses_unmatched(tmp_path):
    store = Store(tmp_path / "c")
    keys = ["a1" * 32, "b2" * 32, "c3" * 32]
    _fill(store, keys)
    code, out, err = cli("--cache", store.root, "gc", "--keep", keys[0][:12], "--keep", keys[1][:12], "--dry-run")
    assert code == 0 and keys[2] in out and keys[0] not in out and keys[1] not in out
    # a keep entry that matches nothing (a typo, a key from another store) removes nothing
    code, out, err = cli("--cache", store.root, "gc", "--keep", keys[0][:12], "--keep", "deadbeefdead")
    assert code == 2 and "deadbeefdead" in err and "nothing removed" in err
    assert set(store.keys()) == set(keys)
    # keys inside `plan --full-keys` output lines: the first word of each line is read
    keep = tmp_path / "keep.txt"
    keep.write_text(f"{keys[0]}  main/load_model\n# comment\n{keys[1][:12]} x\n")
    code, out, err = cli("--cache", store.root, "gc", "--keep-file", keep)
    assert code == 0 and set(store.keys()) == set(keys[:2])


def test_gc_keep_recipe_keeps_exactly_what_the_recipes_need(tmp_path):
    recipe = tmp_path / "r.prune"
    recipe.write_text(RECIPE)
    store = Store(tmp_path / "c")
    needed = _recipe_keys(recipe, t=0.3)
    other = _recipe_keys(recipe) - needed  # the default t=0.2 differs in its prune node
    assert other
    _fill(store, needed | other | {"ee" * 32})
    code, out, err = cli("--cache", store.root, "gc", "--keep-recipe", recipe, "--set", "t=0.3")
    assert code == 0, err
    assert set(store.keys()) == needed
    bad = tmp_path / "bad.prune"
    bad.write_text("model\n")
    code, out, err = cli("--cache", store.root, "gc", "--keep-recipe", bad)
    assert code == 1 and set(store.keys()) == needed


def test_ls_shows_node_and_recipe_from_an_index_outside_the_entry(tmp_path):
    store = Store(tmp_path / "c")
    key = "d4" * 32
    _fill(store, [key])
    before = {f.name: f.read_bytes() for f in store.entry_dir(key).iterdir()}
    store.note_use(key, node="resp/prune@0.3", recipe="/r/a.prune")
    store.note_use(key, node="wanda/prune@0.3", recipe="/r/b.prune")
    assert {f.name: f.read_bytes() for f in store.entry_dir(key).iterdir()} == before  # the entry is untouched
    assert store.verify(key) == []
    code, out, err = cli("--cache", store.root, "ls")
    assert code == 0 and "wanda/prune@0.3 (/r/b.prune) +1 more" in out
    code, out, err = cli("--cache", store.root, "--format", "json", "ls")
    assert [u["node"] for u in json.loads(out)[0]["uses"]] == ["wanda/prune@0.3", "resp/prune@0.3"]
    code, out, err = cli("--cache", store.root, "rm", key[:12])
    assert code == 0 and store.uses(key) == []
