"""No input, however broken, produces a traceback; exit codes are 0/1/2 as documented."""

from __future__ import annotations

import sys

import pytest


def _no_traceback(out: str, err: str) -> None:
    assert "Traceback" not in out + err


CASES = {
    "binary": bytes(range(256)) * 8,
    "empty": b"",
    "invalid_utf8": b'model "Qwen/Qwen3-8B"\nscore taylor \xff\xfe\n',
    "deep_lists": b"prune to " + b"[" * 5000 + b"]" * 5000 + b"\n",
    "deep_blocks": b"".join(b"    " * i + b"arm a%d:\n" % i for i in range(40)) + b"    " * 40 + b"score taylor\n",
    "huge": b"# " + b"x" * (10 * 1024 * 1024) + b"\n",
    "only_comments": b"# nothing here\n\n# still nothing\n",
    "crlf": b'model "Qwen/Qwen3-8B"\r\ncalibrate task from gsm8k\r\nscore taylor\r\nprune to 0.2\r\n',
    "junk_text": "∑∫ score ρ==ρ [[[ ]]] :::: ;;;; \t\t \"\n\\".encode(),
    "long_line": b"prune to [" + b"0.1, " * 20000 + b"0.2]\n",
}
EXPECTED = {"empty": 0, "only_comments": 0, "crlf": 0}


@pytest.mark.parametrize("name", sorted(CASES))
def test_check_never_crashes(name, tmp_path, run_cli):
    path = tmp_path / f"{name}.prune"
    path.write_bytes(CASES[name])
    code, out, err = run_cli("check", path)
    _no_traceback(out, err)
    assert code == EXPECTED.get(name, 1), out + err
    if code:
        assert f"{path}:" in out + err  # file:line:col: error: ...


@pytest.mark.parametrize("name", ["binary", "deep_lists", "invalid_utf8"])
def test_other_commands_never_crash(name, tmp_path, run_cli):
    path = tmp_path / f"{name}.prune"
    path.write_bytes(CASES[name])
    for cmd in (["plan", path], ["graph", path, "--format", "json"], ["fmt", "--check", path]):
        code, out, err = run_cli(*cmd)
        _no_traceback(out, err)
        assert code == 1


def test_usage_errors_exit_2(tmp_path, run_cli):
    assert run_cli("check", tmp_path / "missing.prune")[0] == 2
    assert run_cli("check")[0] == 2
    good = tmp_path / "r.prune"
    good.write_text("param n = 1\nmodel \"Qwen/Qwen3-8B\"\ncalibrate task from gsm8k n=n\nscore taylor\nprune to 0.2\n")
    assert run_cli("check", good, "--set", "nope=3")[0] == 2
    assert run_cli("check", good, "--set", "novalue")[0] == 2
    assert run_cli("check", good, "--set", "n=64")[0] == 0
    assert run_cli("check", good, "--set", "n=-1")[0] == 1


def test_json_output_is_data(tmp_path, run_cli):
    import json

    path = tmp_path / "bad.prune"
    path.write_text('model "Qwen/Qwen3-8B"\ncalibrate task from gsm8k\nscore wanda2\nprune to 1.5\n')
    code, out, _ = run_cli("check", "--format", "json", path)
    assert code == 1
    data = json.loads(out)
    codes = {d["code"] for d in data["diagnostics"]}
    assert codes == {"unknown-value", "out-of-range"}  # all errors, not only the first
    d = data["diagnostics"][0]
    assert d["span"]["line"] == 3 and d["span"]["col"] == 7 and d["hint"] == 'did you mean "wanda"?'


def test_text_rendering_has_caret_and_hint(tmp_path, run_cli):
    path = tmp_path / "t.prune"
    path.write_text('model "Qwen/Qwen3-8B"\ncalibrate task from gsm8k\nscore taylor decode_onyl\nprune to 0.2\n')
    code, out, err = run_cli("check", path)
    assert code == 1
    assert f"{path}:3:14: error: unknown score option \"decode_onyl\"  [unknown-value]" in err
    assert "    3 | score taylor decode_onyl" in err or "   3 | score taylor decode_onyl" in err
    assert "^~~~~~~~~~" in err and 'hint: did you mean "decode_only"?' in err


def test_all_errors_of_a_file_are_reported(tmp_path, run_cli):
    path = tmp_path / "many.prune"
    path.write_text('model "Qwen/Qwen3-8B" dtype bf61\ncalibrate selfgen from gsm8k\nscore wanda2\nscroe x\n')
    code, out, err = run_cli("check", "--format", "json", path)
    import json

    assert len(json.loads(out)["diagnostics"]) == 4


def test_check_does_not_import_torch(tmp_path):
    import subprocess

    code = ("import sys\n"
            "sys.modules['torch'] = None  # importing torch now raises: proves it is never needed\n"
            "from resp_dsl.cli import main\n"
            "rcs = [main(['check', '-q', 'recipes/paper_table1.prune']), main(['plan', 'recipes/quickstart.prune']),\n"
            "       main(['graph', 'recipes/paper_table3_regen_ratio.prune', '--format', 'dot']),\n"
            "       main(['fmt', '--check', 'recipes/quickstart.prune']), main(['ls'])]\n"
            "assert rcs == [0, 0, 0, 0, 0], rcs\n"
            "del sys.modules['torch']\n"
            "assert 'torch' not in sys.modules and 'transformers' not in sys.modules\n"
            "print('ok')\n")
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    p = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0 and p.stdout.strip().endswith("ok"), p.stdout + p.stderr
