"""Property tests: no input makes the parser, the checker or the formatter raise."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from resp_dsl.compile import compile_text
from resp_dsl.diagnostics import Diagnostic
from resp_dsl.syntax.fmt import format_text
from resp_dsl.syntax.parse import decode_source

WORDS = ["model", '"Qwen/Qwen3-8B"', '"zoo:tiny-reasoner"', "calibrate", "self_generated", "task", "generic", "from",
         "gsm8k", "mathqa", "tiny_gsm", "n=128", "n=", "score", "taylor", "wanda", "decode_only", "full", "schedule",
         "milestones", "iterative", "oneshot", "[0.1..0.4]", "[0.2, 0.3]", "[", "]", "regen", "ρ=1.0", "rho=0",
         "protect", "first", "10%", "blocks", "last", "block", ",", "prune", "to", "0.4", "eval", "at", "export",
         "per_layer", "report", "table", "rows=arm", "by", "arm", "a:", "for", "x", "in", "x=", ";", "\n", "\n    ",
         "param", "=", "use", "stdlib/resp", "# c", "basis", "structures", "steps=3", "every", "1%", "-1", "1.5", ":"]

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _ok(result) -> None:
    assert all(isinstance(d, Diagnostic) for d in result.diagnostics)
    assert not [d for d in result.diagnostics if d.code == "internal-error"], result.diagnostics


@SETTINGS
@given(st.lists(st.sampled_from(WORDS), max_size=40))
def test_token_soup_never_raises(words):
    text = " ".join(words)
    _ok(compile_text(text, "fuzz.prune"))
    out, diags = format_text(text, "fuzz.prune")
    if out is not None:  # formatting is idempotent whenever it succeeds
        assert format_text(out, "fuzz.prune")[0] == out


@SETTINGS
@given(st.text(max_size=300))
def test_any_text_never_raises(text):
    _ok(compile_text(text, "fuzz.prune"))


@SETTINGS
@given(st.binary(max_size=300))
def test_any_bytes_never_raise(data):
    text, diags = decode_source(data, "fuzz.prune")
    if text is not None:
        _ok(compile_text(text, "fuzz.prune"))
    else:
        assert diags


@SETTINGS
@given(st.lists(st.floats(min_value=-2, max_value=2, allow_nan=False), min_size=1, max_size=6),
       st.floats(min_value=-1, max_value=2, allow_nan=False))
def test_schedules_check_without_raising(ms, rho):
    text = ('model "Qwen/Qwen3-8B"\ncalibrate self_generated from gsm8k n=4\nscore taylor decode_only\n'
            f"schedule milestones [{', '.join(repr(round(m, 3)) for m in ms)}] regen ρ={round(rho, 3)}\n")
    r = compile_text(text, "fuzz.prune")
    _ok(r)
    ms_r = [round(m, 3) for m in ms]
    from resp_dsl.check.protection import MAX_LOCAL_SPARSITY

    valid = all(0 < m < 1 for m in ms_r) and all(a < b for a, b in zip(ms_r, ms_r[1:])) and 0 <= round(rho, 3) <= 1 \
        and max(ms_r) <= MAX_LOCAL_SPARSITY  # nothing protected: the whole model must keep a sliver
    assert r.ok == valid, [d.message for d in r.diagnostics]
