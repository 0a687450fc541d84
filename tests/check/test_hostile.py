"""Hostile input that used to escape as a hang, a traceback or a wrong exit code (issue 15, item 7)."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SMALL = 'use stdlib/tasks\nmodel "zoo:tiny-reasoner" dtype fp32 device cpu\nscore magnitude\nprune to 0.2\n'


def _clean(code, out, err):
    assert "Traceback" not in out + err, out + err
    return code


def test_devices_and_fifos_are_refused_without_reading(tmp_path, run_cli):
    fifo = tmp_path / "recipe.prune"
    os.mkfifo(fifo)
    for target in ("/dev/zero", fifo):
        code, out, err = run_cli("check", target)
        assert _clean(code, out, err) == 1
        assert "not a regular file" in out + err


def test_a_huge_file_is_refused_after_one_mib(tmp_path, run_cli):
    big = tmp_path / "big.prune"
    with open(big, "wb") as f:
        f.truncate(64 << 20)  # sparse: 64 MiB of NULs
    code, out, err = run_cli("check", big)
    assert _clean(code, out, err) == 1 and "limited to" in out + err


@pytest.mark.parametrize("value", ["1e400", "-1e400", "1e16", "99999999999999999999"])
def test_non_finite_numbers_fail_check_with_a_position(tmp_path, run_cli, value):
    p = tmp_path / "r.prune"
    p.write_text(SMALL.replace("score magnitude", f"calibrate self_generated from tiny_gsm n=4 temperature={value}\n"
                                                  "score taylor decode_only"))
    for cmd in ("check", "plan"):
        code, out, err = run_cli(cmd, p)
        assert _clean(code, out, err) == 1
        assert "[non-finite-number]" in out + err and "r.prune:3:" in out + err


@pytest.mark.parametrize("value", ["1e400", "nan", "inf"])
def test_non_finite_set_values_fail(tmp_path, run_cli, value):
    p = tmp_path / "r.prune"
    p.write_text("param t = 0.6\n" + SMALL.replace(
        "score magnitude", "calibrate self_generated from tiny_gsm n=4 temperature=t\nscore taylor decode_only"))
    code, out, err = run_cli("plan", p, "--set", f"t={value}")
    assert _clean(code, out, err) in (1, 2)


def test_an_implausible_model_config_is_an_error_not_a_memory_error(tmp_path, run_cli):
    cfg = json.loads((ROOT / "resp_dsl" / "zoo" / "tiny-reasoner" / "model" / "config.json").read_text())
    cfg.update(num_hidden_layers=10**12, intermediate_size=10**15)
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    code, out, err = run_cli("plan", ROOT / "recipes" / "quickstart.prune", "--model-config", tmp_path / "config.json")
    assert _clean(code, out, err) == 1 and "implausibly large" in out + err


@pytest.mark.parametrize("path", ["/etc/x", "../../x", "~", "", ".", "a/../../b"])
def test_an_export_path_outside_out_fails_check(tmp_path, run_cli, path):
    p = tmp_path / "r.prune"
    p.write_text(SMALL + f'export per_layer to "{path}" at final\n')
    code, out, err = run_cli("check", p)
    assert _clean(code, out, err) == 1
    assert "[export-path-escapes]" in out + err and "r.prune:5:" in out + err


def test_run_usage_errors(tmp_path, run_cli):
    p = tmp_path / "r.prune"
    p.write_text(SMALL)
    code, out, err = run_cli("run", p, "--threads", "-3", "--cache", tmp_path / "c")
    assert _clean(code, out, err) == 2 and "--threads" in err
    (tmp_path / "file").write_text("not a directory")
    for cache in (tmp_path / "file", tmp_path / "file" / "sub"):
        code, out, err = run_cli("run", p, "--cache", cache)
        assert _clean(code, out, err) == 2 and "--cache" in err
        code, out, err = run_cli("cache", "--cache", cache, "ls")
        assert _clean(code, out, err) == 2
        code, out, err = run_cli("run", p, "--cache", tmp_path / "c", "--out", cache)
        assert _clean(code, out, err) == 2 and "--out" in err


def test_cache_verify_and_rm_of_an_unknown_key_fail(tmp_path, run_cli):
    from resp_dsl.runtime.store import Store

    store = Store(tmp_path / "c")
    with store.write("ab" * 32) as tmp:
        (tmp / "f.txt").write_text("x")
    code, out, err = run_cli("cache", "--cache", tmp_path / "c", "verify", "ffff")
    assert _clean(code, out, err) == 3 and "no entry matches ffff" in err
    code, out, err = run_cli("cache", "--cache", tmp_path / "c", "rm", "ffff")
    assert _clean(code, out, err) == 3 and "no entry matches" in err
    code, out, err = run_cli("cache", "--cache", tmp_path / "c", "verify", "abab")
    assert code == 0 and "1 ok" in out


def test_fmt_in_an_unwritable_directory_is_an_error(tmp_path, monkeypatch, capsys):
    import tempfile

    from resp_dsl.cli import main

    p = tmp_path / "r.prune"
    p.write_text("model   \"zoo:tiny-reasoner\"\nscore magnitude\nprune to 0.2\n")

    def denied(*a, **k):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", denied)
    assert main(["fmt", str(p)]) == 2
    err = capsys.readouterr().err
    assert "cannot rewrite" in err and "Permission denied" in err
    assert p.read_text().startswith("model   ")


def test_a_planted_link_is_never_written_through(tmp_path):
    from resp_dsl.runtime.store import copy_atomic

    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    out = tmp_path / "out"
    out.mkdir()
    (out / ".table.md.tmp").symlink_to(victim)  # the old predictable name
    (out / "table.md").symlink_to(victim)
    src = tmp_path / "src.md"
    src.write_text("report")
    copy_atomic(src, out / "table.md")
    assert victim.read_text() == "precious"
    assert (out / "table.md").read_text() == "report" and not (out / "table.md").is_symlink()


def test_use_provenance_is_shown_and_local_fragments_enter_the_keys(tmp_path, run_cli):
    from resp_dsl.compile import compile_file

    (tmp_path / "lib").mkdir()
    frag = tmp_path / "lib" / "frag.prune"
    frag.write_text("score magnitude\n")
    (tmp_path / "r").mkdir()
    recipe = tmp_path / "r" / "r.prune"
    recipe.write_text('use stdlib/tasks\nuse "../lib/frag.prune"\nmodel "zoo:tiny-reasoner"\nprune to 0.2\n')
    code, out, err = run_cli("plan", recipe)
    assert code == 0 and str(frag.resolve()) in out and "uses stdlib/tasks" in out
    code, out, err = run_cli("graph", recipe, "--format", "json")
    imports = json.loads(out)["imports"]
    assert [i["stdlib"] for i in imports] == [True, False]
    before = compile_file(recipe).graph
    frag.write_text("score magnitude  # edited\n")
    after = compile_file(recipe).graph
    assert [before.key(n) for n in before.nodes] != [after.key(n) for n in after.nodes]
    # shipped fragments only: keys are those of a recipe without `use` provenance
    plain = tmp_path / "p.prune"
    plain.write_text(SMALL)
    g = compile_file(plain).graph
    assert g.imports and all(i["stdlib"] for i in g.imports)


def test_check_of_a_fifo_does_not_hang_even_with_a_writer(tmp_path, run_cli):
    fifo = tmp_path / "f.prune"
    os.mkfifo(fifo)

    def writer():
        try:
            fd = os.open(fifo, os.O_WRONLY)
            os.write(fd, b"x" * 1000)
            os.close(fd)
        except OSError:
            pass

    t = threading.Thread(target=writer, daemon=True)
    t.start()
    code, out, err = run_cli("check", fifo)
    assert _clean(code, out, err) == 1
