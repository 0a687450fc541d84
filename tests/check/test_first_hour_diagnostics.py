"""Diagnostics a new user needs in the first hour (issue 12, items 10-13): the error, on the
value it is about, with a hint that helps, and nothing that only echoes it."""

from __future__ import annotations

from resp_dsl.compile.pipeline import check_file, compile_text


def _diags(text: str, **kw):
    res = compile_text(text, name="r.prune", graph=False, **kw)
    return res, [(d.code, d.span.line, d.span.col, d.span.end_col, d.message, d.hint) for d in res.diagnostics]


HEAD = 'use stdlib/tasks\nmodel "zoo:tiny-reasoner"\nscore magnitude\n'


def test_unknown_zoo_model_is_an_error_with_did_you_mean():
    res, d = _diags('model "zoo:tiny-reasonr"\nscore magnitude\nprune to 0.2\n')
    assert not res.ok
    assert d == [("unknown-value", 1, 7, 25, 'unknown bundled model "zoo:tiny-reasonr"',
                  'did you mean "zoo:tiny-reasoner"?')]


def test_percent_below_one_percent_warns_and_bare_25_hints():
    res, d = _diags(HEAD + "prune to 0.25%\n")
    assert res.ok and d == [("tiny-percentage", 4, 10, 15, "0.25% is a sparsity of 0.0025", "did you mean 25% (0.25)?")]
    res, d = _diags(HEAD + "prune to 25\n")
    assert [(c, l, col, h) for c, l, col, _, _, h in d] == [("out-of-range", 4, 10, "write 25% or 0.25")]
    res, d = _diags(HEAD + "prune to 25 %\n")
    assert d[0][:3] == ("unexpected-character", 4, 13) and "25%" in d[0][5] and "0.25" in d[0][5]


def test_a_failed_use_does_not_stop_the_checks_of_the_rest():
    res, d = _diags('use stdlib/respp\nuse stdlib/tasks\nmodel "zoo:tiny-reasoner"\nscore magnitud\nprune to 0.3\n')
    assert [(c, l) for c, l, *_ in d] == [("unknown-import", 1), ("unknown-value", 4)]


def test_a_bad_schedule_does_not_cascade_into_no_effect_warnings():
    res, d = _diags(HEAD + "schedule milestone [0.1, 0.2]\neval tiny_gsm at [dense, 0.2]\n")
    assert [c for c, *_ in d] == ["unknown-value"]


def test_carets_underline_the_bad_value():
    res, d = _diags(HEAD + "prune to [0.2, 0.3]\nprotect blocks [0, 7]\neval tiny_gsm at [dense, 0.35]\n"
                    "export per_layer at 0.35\neval tiny_gsm at [dense, 25]\n")
    spans = {(c, l): (col, end) for c, l, col, end, *_ in d}
    assert spans[("protect-out-of-range", 5)] == (20, 21)
    assert spans[("eval-point-not-reached", 6)] == (26, 30)
    assert spans[("eval-point-not-reached", 7)] == (21, 25)
    assert spans[("out-of-range", 8)] == (26, 28)


def test_unknown_option_lists_the_valid_options():
    res, d = _diags(HEAD + "prune to 0.2\neval tiny_gsm at [0.2] bar=2\n")
    (code, line, col, _, msg, hint), = d
    assert code == "unknown-option" and (line, col) == (5, 24)
    assert hint.startswith("valid options: ") and '"limit"' in hint and '"temperature"' in hint


def test_set_with_a_non_number_names_the_flag(tmp_path):
    p = tmp_path / "r.prune"
    p.write_text("use stdlib/tasks\nparam n = 4\n" + HEAD[len("use stdlib/tasks\n"):] +
                 "prune to 0.2\neval tiny_gsm at [0.2] limit=n\n")
    res = check_file(p, overrides={"n": "abc"}, display="r.prune")
    (d,) = res.diagnostics
    assert d.code == "wrong-type" and d.message == '--set n=abc: limit needs a number, got "abc"'
    assert d.hint == "e.g. --set n=4 (the recipe's default)"
