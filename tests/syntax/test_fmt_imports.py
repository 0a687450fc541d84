"""The formatter (canonical, idempotent, keeps comments) and `use` imports."""

from __future__ import annotations

from pathlib import Path

import pytest

from resp_dsl.compile import check_file, compile_text
from resp_dsl.syntax.fmt import format_text

ROOT = Path(__file__).resolve().parents[2]
ALL = sorted((ROOT / "recipes").glob("*.prune")) + sorted((ROOT / "stdlib").glob("*.prune"))  # golden files keep their ';'-joined lines

MESSY = '''# header comment
model   "Qwen/Qwen3-8B"   dtype  bf16
param n=128   # trailing


calibrate self_generated from gsm8k n = n ; score taylor decode_only  # after two statements
for rho in [0,1.0]:
  # inside the loop
  arm a:   schedule milestones [ 0.1 .. 0.3 ]  regen ρ = rho
protect first 10%  blocks ,last block
eval gsm8k at [0.1,
    0.2,
    0.3]
# footer
'''

CANONICAL = '''# header comment
model "Qwen/Qwen3-8B" dtype bf16
param n = 128  # trailing

calibrate self_generated from gsm8k n=n
score taylor decode_only  # after two statements
for rho in [0, 1.0]:
    # inside the loop
    arm a:
        schedule milestones [0.1..0.3] regen ρ=rho
protect first 10% blocks, last block
eval gsm8k at [0.1, 0.2, 0.3]
# footer
'''


def test_formats_canonically():
    out, diags = format_text(MESSY, "m.prune")
    assert diags == []
    assert out == CANONICAL


def test_idempotent_and_meaning_preserving():
    out, _ = format_text(MESSY, "m.prune")
    assert format_text(out, "m.prune")[0] == out
    a = compile_text(MESSY, "m.prune", graph=True)
    b = compile_text(out, "m.prune", graph=True)
    assert a.ok and b.ok
    assert [a.graph.key(n) for n in a.graph.nodes] == [b.graph.key(n) for n in b.graph.nodes]


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_shipped_files_are_formatted(path):
    text = path.read_text(encoding="utf-8")
    assert format_text(text, path.name)[0] == text, f"run resp-dsl fmt {path}"


def test_fmt_cli_rewrites_atomically_and_checks(tmp_path, run_cli):
    f = tmp_path / "r.prune"
    f.write_text(MESSY)
    assert run_cli("fmt", "--check", f)[0] == 1
    assert f.read_text() == MESSY  # --check never writes
    assert run_cli("fmt", f)[0] == 0
    assert f.read_text() == CANONICAL
    assert run_cli("fmt", "--check", f)[0] == 0
    assert not [p for p in tmp_path.iterdir() if p.name != "r.prune"]  # no temp files left
    bad = tmp_path / "bad.prune"
    bad.write_text("score [\n")
    assert run_cli("fmt", bad)[0] == 1 and bad.read_text() == "score [\n"


def test_use_short_and_long_names_are_the_same(tmp_path):
    for spelling in ("use resp", "use stdlib/resp", 'use "stdlib/resp.prune"', "use stdlib/resp.prune"):
        f = tmp_path / "r.prune"
        f.write_text(f'{spelling}\nmodel "Qwen/Qwen3-8B"\ncalibrate task from gsm8k\nprune to 0.2\n')
        r = check_file(f)
        assert r.ok, (spelling, r.diagnostics)
        assert r.ir.arms[0].score.loss == "decode_only"  # from the fragment


def test_local_import_and_override(tmp_path):
    (tmp_path / "frag.prune").write_text("score taylor full\nprotect last block\n")
    f = tmp_path / "r.prune"
    f.write_text('use frag\nmodel "Qwen/Qwen3-8B"\ncalibrate task from gsm8k\nscore wanda\nprune to 0.2\n')
    r = check_file(f)
    assert r.ok, r.diagnostics
    assert r.ir.arms[0].score.method == "wanda"  # the using file wins over the fragment
    assert r.ir.arms[0].protect.last


def test_import_cycle_names_the_chain(tmp_path):
    (tmp_path / "a.prune").write_text("use b\n")
    (tmp_path / "b.prune").write_text("use c\n")
    (tmp_path / "c.prune").write_text("use a\n")
    r = check_file(tmp_path / "a.prune")
    cyc = [d for d in r.diagnostics if d.code == "import-cycle"]
    assert len(cyc) == 1 and not r.ok
    assert "a.prune -> " in cyc[0].notes[0] and "b.prune" in cyc[0].notes[0] and "c.prune" in cyc[0].notes[0]


def test_errors_inside_fragments_point_into_them(tmp_path):
    (tmp_path / "frag.prune").write_text("score wanda2\n")
    f = tmp_path / "r.prune"
    f.write_text("use frag\n")
    r = check_file(f)
    assert [(Path(d.span.file).name, d.span.line, d.code) for d in r.diagnostics] == [("frag.prune", 1, "unknown-value")]


def test_model_config_override_and_local_dir(tmp_path):
    cfg = tmp_path / "config.json"
    cfg.write_text('{"model_type": "gpt2", "hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4,'
                   ' "intermediate_size": 128}')
    f = tmp_path / "r.prune"
    f.write_text(f'model "{tmp_path}"\ncalibrate task from gsm8k\nscore taylor\nprune to 0.2\n')
    r = check_file(f)
    assert [d.code for d in r.diagnostics] == ["unsupported-architecture"]
    cfg.write_text('{"model_type": "qwen3", "hidden_size": 64, "num_hidden_layers": 4, "num_attention_heads": 6,'
                   ' "num_key_value_heads": 4, "head_dim": 16, "intermediate_size": 128}')
    r = check_file(f)
    assert [d.code for d in r.diagnostics] == ["inconsistent-config"]
    r = check_file(f, model_config=ROOT / "resp_dsl" / "no-such.json")
    assert [d.code for d in r.diagnostics] == ["model-config-unreadable"]


def test_a_task_statement_refines_a_fragments_definition(tmp_path):
    from resp_dsl.compile import compile_file

    (tmp_path / "frag.prune").write_text("task gsm8k shots=4 max_new_tokens=99 temperature=0.3\n")
    (tmp_path / "r.prune").write_text('use "frag.prune"\ntask gsm8k extractor="some/extractor"\n'
                                      'model "Qwen/Qwen3-8B"\neval gsm8k at [dense]\n')
    r = compile_file(tmp_path / "r.prune")
    assert r.ok, r.diagnostics
    t = r.ir.tasks["gsm8k"]
    assert (t.shots, t.max_new_tokens, t.temperature, t.extractor) == (4, 99, 0.3, "some/extractor")


def test_every_family_the_engine_prunes_passes_check(tmp_path):
    """`check` used to reject local Qwen2 and Mistral models although the engine prunes them:
    the family list is now one table (resp_dsl/families.py) read by check and the adapters."""
    import json

    from resp_dsl.families import FAMILIES

    f = tmp_path / "r.prune"
    f.write_text(f'model "{tmp_path}"\ncalibrate task from gsm8k\nscore taylor\nprune to 0.2\n')
    assert set(FAMILIES) >= {"qwen3", "llama", "qwen2", "mistral"}
    for family in FAMILIES:
        (tmp_path / "config.json").write_text(json.dumps({
            "model_type": family, "hidden_size": 64, "num_hidden_layers": 4, "num_attention_heads": 4,
            "num_key_value_heads": 2, "head_dim": 16, "intermediate_size": 128}))
        r = check_file(f)
        assert r.ok and not r.diagnostics, (family, r.diagnostics)
