"""Design probe (validation only; a record of issue #11, not part of the package): model-style traces that name what each product and total is.

A container product is written with its container word ("crates: 3*4=12."), a total of
gains or losses with its kind ("gains 12+33=45.", "losses 14+6=20."). Everything else
(orders, grouping, upfront products, checks, connectives) is drawn exactly as in
resp_dsl.zoo.synthetic_hard._write. Patched into the module by `install()`.
"""
import random, re
from resp_dsl.zoo import synthetic_hard as sh

BOX = re.compile(r" (\d+) ([a-z]+) (?:of|with) (\d+)")


def box(e):
    m = BOX.search(e.sentence)
    return m.group(2) if m else "each"


def _write(problem, rng):
    w = sh._Writer(rng)
    def eq(a, op, b, c, tag="", swap_ok=True):
        if swap_ok and op in "+*" and w.rng is not None and w.rng.random() < 0.3:
            a, b = b, a
        w.parts.append(f"{w.choose(sh.CONNECTIVES)}{tag}{a}{op}{b}={c}.")
        w.last = (a, op, b, c)
    opener = w.choose(sh.OPENERS).format(s=problem.start)
    cur = problem.start
    for phase in sh.phases(problem):
        ev = phase[0]
        if not ev.additive:
            new = sh.apply(cur, ev)
            eq(cur, "*" if ev.kind == "mul" else "/", ev.a, new, swap_ok=False)
            cur = new
            continue
        order = list(phase)
        if rng is not None:
            rng.shuffle(order)
        upfront = rng is not None and rng.random() < 0.5
        if upfront:
            for e in order:
                if e.b:
                    eq(e.a, "*", e.b, e.a * e.b, tag=f"{box(e)}: ")
        gains = [e for e in order if e.delta > 0]
        losses = [e for e in order if e.delta < 0]
        grouped = rng is not None and (len(gains) >= 2 or len(losses) >= 2) and rng.random() < 0.4
        if grouped:
            totals = []
            for label, group in (("gains ", gains), ("losses ", losses)):
                total = 0
                for i, e in enumerate(group):
                    if e.b and not upfront:
                        eq(e.a, "*", e.b, e.a * e.b, tag=f"{box(e)}: ")
                    size = abs(e.delta)
                    if i:
                        eq(total, "+", size, total + size, tag=label)
                    total += size
                totals.append(total)
            steps = [("+", totals[0]), ("-", totals[1])]
            if rng.random() < 0.5:
                steps.reverse()
            for op, size in steps:
                if size:
                    new = cur + size if op == "+" else cur - size
                    eq(cur, op, size, new, swap_ok=op == "+")
                    cur = new
            continue
        for e in order:
            if e.b and not upfront:
                eq(e.a, "*", e.b, e.a * e.b, tag=f"{box(e)}: ")
            new = cur + e.delta
            eq(cur, "+" if e.delta > 0 else "-", abs(e.delta), new, swap_ok=e.delta > 0)
            cur = new
    assert cur == problem.answer
    check = ""
    if rng is not None and w.last is not None and rng.random() < 0.35:
        a, op, b, c = w.last
        inverse = {"+": "-", "-": "+", "*": "/", "/": "*"}[op]
        check = f"check {c}{inverse}{b}={a}. "
    closer = w.choose(sh.CLOSERS).format(a=cur)
    body = opener + " ".join(w.parts) + (" " + check if check else " ") + closer
    return "<think>" + body.rstrip() + f"</think> #### {cur}"


def install():
    sh.sample_trace = lambda problem, rng: _write(problem, rng)


def paired_validation(dirs):
    """Greedy correctness of each model dir on validation problems 1-500; the paired difference of the first two."""
    import torch
    from resp_dsl.stats import mcnemar, wilson
    from resp_dsl.zoo_build.evaluate import generate_on_task, load_bundled

    torch.set_num_threads(1)
    res = []
    for d in dirs:
        model, tok = load_bundled("tiny-rlm", d)
        res.append(generate_on_task(model, tok, name="tiny-rlm", n=500, split="validation", temperature=0.0)[2])
        k = sum(res[-1])
        print(d, k, "/ 500", [round(100 * x, 1) for x in wilson(k, 500)], flush=True)
    if len(res) >= 2:
        p = mcnemar(res[1], res[0])
        print("second minus first:", round(100 * p.difference, 2), [round(100 * x, 2) for x in p.interval], "p", p.p_value)


if __name__ == "__main__":
    # python training/probes/named_quantities.py train ctl|tag WORKDIR OUT STEPS THREADS
    #   (WORKDIR: a copy of the 8500-step training/tiny-rlm checkpoint)
    # python training/probes/named_quantities.py eval OUT_CTL OUT_TAG
    # python training/probes/named_quantities.py show   (six validation problems with a tagged trace each)
    import sys
    from dataclasses import replace
    from pathlib import Path

    if sys.argv[1] == "train":
        arm, workdir, out, steps, threads = sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
        if arm == "tag":
            install()
        from resp_dsl.zoo.spec import get
        from resp_dsl.zoo_build.train import train

        m = get("tiny-rlm")
        train(workdir, out, m, train_spec=replace(m.train, steps=steps, threads=threads))
    elif sys.argv[1] == "eval":
        paired_validation(sys.argv[2:])
    else:
        for p in sh.generate_all_splits()["validation"][:6]:
            t = _write(p, random.Random(1))
            print(p.question, "\n  ", t, "\n  ", sh.verify_trace(t, p.answer))
