"""Intervals and paired tests against published / hand-computed values."""

import pytest

from resp_dsl.stats import bootstrap_over_seeds, mcnemar, wilson


def test_wilson_matches_published_values():
    # Newcombe (1998), Table I: 81/263 -> 0.2553 to 0.3662; 0/10 -> 0 to 0.2775
    lo, hi = wilson(81, 263)
    assert (round(lo, 4), round(hi, 4)) == (0.2553, 0.3662)
    lo, hi = wilson(0, 10)
    assert lo == 0.0 and round(hi, 4) == 0.2775
    assert wilson(10, 10)[1] == pytest.approx(1.0) and wilson(0, 0) == (0.0, 1.0)
    with pytest.raises(ValueError):
        wilson(11, 10)


def test_mcnemar_counts_only_discordant_pairs():
    a = [True] * 50 + [True] * 10 + [False] * 2 + [False] * 38
    b = [True] * 50 + [False] * 10 + [True] * 2 + [False] * 38
    r = mcnemar(a, b)
    assert (r.only_a, r.only_b, r.n) == (10, 2, 100)
    assert r.difference == pytest.approx(0.08)
    # exact binomial: 2 * P(X <= 2 | 12, 1/2) = 2 * 79 / 4096
    assert r.p_value == pytest.approx(2 * 79 / 4096)
    assert r.interval[0] < 0.08 < r.interval[1] and r.interval[0] > 0  # significant: excludes 0
    same = mcnemar(a, a)
    assert same.p_value == 1.0 and same.difference == 0.0
    with pytest.raises(ValueError):
        mcnemar([True], [True, False])


def test_paired_interval_properties():
    a = [True] * 8 + [True] * 5 + [False] * 4 + [False] * 13
    b = [True] * 8 + [False] * 5 + [True] * 4 + [False] * 13
    r, s = mcnemar(a, b), mcnemar(b, a)
    assert round(r.difference, 4) == 0.0333 and r.interval[0] < r.difference < r.interval[1]
    assert s.interval == pytest.approx((-r.interval[1], -r.interval[0]))  # swapping the arms negates it
    # pairing helps: when the arms agree on most problems the interval is narrower than treating
    # the two accuracies as independent samples
    la, ua = wilson(13, 30)
    lb, ub = wilson(12, 30)
    unpaired = (r.difference - ((13 / 30 - la) ** 2 + (ub - 12 / 30) ** 2) ** 0.5,
                r.difference + ((ua - 13 / 30) ** 2 + (12 / 30 - lb) ** 2) ** 0.5)
    assert unpaired[0] < r.interval[0] and r.interval[1] < unpaired[1]


def test_bootstrap_over_seeds_spans_the_seed_spread():
    runs = [[True] * 57 + [False] * 43, [True] * 8 + [False] * 92, [True] * 78 + [False] * 22]
    r = bootstrap_over_seeds(runs, iterations=500, seed=1)
    assert r.per_seed == (0.57, 0.08, 0.78) and r.mean == pytest.approx(0.4767, abs=1e-4)
    assert r.interval[0] < 0.2 and r.interval[1] > 0.7  # three seeds this far apart: a wide interval
    tight = bootstrap_over_seeds([[True] * 90 + [False] * 10] * 3, iterations=500)
    assert tight.interval[1] - tight.interval[0] < 0.15
    assert bootstrap_over_seeds(runs, iterations=500, seed=1) == r  # seeded


def test_wilson_bounds_are_exact_at_zero_and_all_correct():
    # regression: rounding left wilson(0, 3)[0] at 5.6e-17, above the accuracy 0/3, and a plot's error bar negative
    for n in range(1, 200):
        assert wilson(0, n)[0] == 0.0 and wilson(n, n)[1] == 1.0


def test_format_p_never_prints_a_bare_zero():
    from resp_dsl.stats import format_p

    assert format_p(None) == ""
    assert format_p(1.0) == "1"
    assert format_p(0.024137) == "0.0241"
    assert format_p(1e-4) == "0.0001"
    assert format_p(3e-9) == "<1e-4" and format_p(0.0) == "<1e-4"
