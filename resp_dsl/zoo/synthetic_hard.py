"""The harder synthetic task of ``tiny-rlm`` (``tiny_gsm_hard``): 4-8 steps, many valid traces.

A problem follows one quantity through 4-8 events. Additive events (buy, lose,
receive or give away single items or whole containers of them) come in runs
("phases"); multiplicative events (double, triple, split into equal groups)
separate the runs. Within a phase the events commute, and every partial sum
stays in [1, MAX_VALUE] whatever the order, so many different traces are valid.

Three answer styles exist for one problem:

* ``gold_solution``: a human-style worked solution in GSM8K's format
  (sentences, ``<<a+b=c>>`` annotations, ``#### N``), in the question's order;
* ``trace``: the canonical model-style trace (events in order, no extras);
* ``sample_trace(problem, rng)``: one of many model-style traces, drawn at
  random as chain-of-thought varies: the events of a phase in another order,
  gains and losses totalled first, container products computed up front or
  when used (``k*m`` or ``m*k``), an optional re-statement of the start, an
  optional check of the last step, optional connective words. Every variant's
  arithmetic is exact and it ends in ``#### answer``.

The training target of a problem is drawn afresh every time it is used (from
the batch's own seeded generator), so the model learns a distribution over
traces with real entropy, as a reasoning LLM does, not one string.

Generation is deterministic from a seed: ``generate_problem(random.Random(s))``.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field

from resp_dsl.zoo.synthetic import CONTAINERS, NAMES, OBJECTS, _pick, generate_splits

FRIENDS = ("a friend", "a neighbor", "the teacher", "a classmate", "grandma", "a cousin", "mom", "dad")
MAX_VALUE = 200
MIN_EVENTS, MAX_EVENTS = 4, 8
MAX_PHASE = 3  # additive events in one run

# The model's own equation grammar: "a+b=c" (also "-", "*", "/"); checks by `verify_trace`.
EQUATION = re.compile(r"(\d+)([-+*/])(\d+)=(\d+)")


@dataclass(frozen=True)
class Event:
    """One event of a problem. Additive kinds change the count by `delta`; others multiply or divide by `k`."""

    kind: str  # "add" | "sub" | "gain_bulk" | "lose_bulk" | "mul" | "div"
    a: int  # items (add/sub), containers (bulk), factor (mul/div)
    b: int = 0  # items per container (bulk)
    sentence: str = ""

    @property
    def additive(self) -> bool:
        return self.kind in ("add", "sub", "gain_bulk", "lose_bulk")

    @property
    def delta(self) -> int:
        size = self.a * self.b if self.kind in ("gain_bulk", "lose_bulk") else self.a
        return size if self.kind in ("add", "gain_bulk") else -size


@dataclass(frozen=True)
class Problem:
    question: str
    gold_solution: str  # GSM8K style, ends with "#### N"
    trace: str  # the canonical model-style trace
    answer: int
    start: int = 0
    events: tuple[Event, ...] = field(default=())

    def to_json(self) -> dict:
        """The GSM8K schema plus the canonical model-style trace."""
        return {"question": self.question, "answer": self.gold_solution, "trace": self.trace}


def phases(problem: Problem) -> list[list[Event]]:
    """Runs of additive events, and single multiplicative events, in question order."""
    out: list[list[Event]] = []
    for ev in problem.events:
        if ev.additive and out and out[-1][0].additive:
            out[-1].append(ev)
        else:
            out.append([ev])
    return out


def _additive_event(rng: random.Random, cur: int, phase_gain: int, phase_loss: int, name: str, obj: str) -> Event | None:
    """An additive event that keeps every ordering of the phase in [1, MAX_VALUE], or None."""
    room_up = MAX_VALUE - (cur + phase_gain)  # gains applied before every loss
    room_down = cur - phase_loss - 1  # losses applied before every gain
    kinds = []
    if room_up >= 2:
        kinds += ["add", "add"]
    if room_up >= 4:
        kinds += ["gain_bulk", "gain_bulk"]
    if room_down >= 1:
        kinds += ["sub", "sub"]
    if room_down >= 4:
        kinds.append("lose_bulk")
    if not kinds:
        return None
    kind = _pick(rng, kinds)
    friend = _pick(rng, FRIENDS)
    if kind == "add":
        a = rng.randint(2, min(40, room_up))
        s = _pick(rng, (f"{name} buys {a} more.", f"{name} finds {a} more.",
                        f"{friend.capitalize()} gives {name} {a}.", f"{name} wins {a}."))
        return Event("add", a, 0, s)
    if kind == "sub":
        a = rng.randint(1, min(40, room_down))
        s = _pick(rng, (f"{name} gives {a} to {friend}.", f"{name} loses {a}.",
                        f"{name} sells {a}.", f"{name} uses {a}."))
        return Event("sub", a, 0, s)
    room = room_up if kind == "gain_bulk" else room_down
    k = rng.randint(2, min(6, room // 2))
    m = rng.randint(2, min(12, room // k))
    box = _pick(rng, CONTAINERS)
    if kind == "gain_bulk":
        s = _pick(rng, (f"{name} buys {k} {box} of {m}.", f"{name} gets {k} {box} with {m} in each."))
    else:
        s = _pick(rng, (f"{name} gives away {k} {box} of {m}.", f"{name} sells {k} {box} of {m} each."))
    return Event(kind, k, m, s)


def _multiplicative_event(rng: random.Random, cur: int, name: str, obj: str) -> Event | None:
    kinds = []
    if cur * 2 <= MAX_VALUE:
        kinds.append("mul")
    if cur >= 4 and any(cur % k == 0 for k in range(2, 7)):
        kinds.append("div")
    if not kinds:
        return None
    if _pick(rng, kinds) == "mul":
        k = rng.choice([k for k in (2, 3, 4) if cur * k <= MAX_VALUE])
        word = {2: "doubles", 3: "triples"}.get(k)
        s = (f"{name}'s {obj} {word}." if word and rng.random() < 0.5 else f"{name} gets {k} times as many.")
        return Event("mul", k, 0, s)
    k = rng.choice([k for k in range(2, 7) if cur % k == 0])
    s = _pick(rng, (f"{name} splits them into {k} equal groups and keeps one.",
                    f"{name} shares them equally among {k} kids, {name} included."))
    return Event("div", k, 0, s)


def apply(cur: int, ev: Event) -> int:
    if ev.additive:
        return cur + ev.delta
    return cur * ev.a if ev.kind == "mul" else cur // ev.a


def generate_problem(rng: random.Random) -> Problem:
    """One problem of MIN_EVENTS..MAX_EVENTS events, every partial result in [1, MAX_VALUE] in any valid order."""
    while True:  # a draw that gets stuck before MIN_EVENTS (rare) is discarded; the next draw follows from `rng`
        p = _draw_problem(rng)
        if p is not None:
            return p


def _draw_problem(rng: random.Random) -> Problem | None:
    name = _pick(rng, NAMES)
    obj = _pick(rng, OBJECTS)
    n_events = rng.randint(MIN_EVENTS, MAX_EVENTS)
    start = cur = rng.randint(8, 80)
    events: list[Event] = []
    phase_start, phase_gain, phase_loss, phase_len = cur, 0, 0, 0
    while len(events) < n_events:
        ev = None
        want_mul = phase_len >= MAX_PHASE or (phase_len >= 1 and rng.random() < 0.35)
        if want_mul:
            ev = _multiplicative_event(rng, cur, name, obj)
        if ev is None and phase_len < MAX_PHASE:
            ev = _additive_event(rng, phase_start, phase_gain, phase_loss, name, obj)
        if ev is None and not want_mul:
            ev = _multiplicative_event(rng, cur, name, obj)
        if ev is None:  # neither kind fits (rare): a phase is full and cur cannot be scaled; lose one item
            ev = Event("sub", 1, 0, f"{name} loses 1.") if cur > 1 else Event("add", 2, 0, f"{name} finds 2 more.")
            if phase_len >= MAX_PHASE or (ev.kind == "sub" and phase_start - phase_loss - 1 < 1):
                return None
        events.append(ev)
        cur = apply(cur, ev)
        if ev.additive:
            phase_len += 1
            phase_gain += max(ev.delta, 0)
            phase_loss += max(-ev.delta, 0)
        else:
            phase_start, phase_gain, phase_loss, phase_len = cur, 0, 0, 0
    question = " ".join([_pick(rng, (f"{name} has {start} {obj}.", f"{name} had {start} {obj}.",
                                     f"{name} starts with {start} {obj}."))]
                        + [e.sentence for e in events]
                        + [_pick(rng, (f"How many {obj} does {name} have now?", f"How many {obj} now?",
                                       f"How many {obj} does {name} have in the end?"))])
    problem = Problem(question, _gold(name, obj, start, events, cur), "", cur, start, tuple(events))
    return Problem(question, problem.gold_solution, canonical_trace(problem), cur, start, tuple(events))


def _gold(name: str, obj: str, start: int, events: list[Event], answer: int) -> str:
    """The human-style solution, GSM8K's format, in the question's order."""
    lines = [f"{name} starts with {start} {obj}."]
    cur = start
    for ev in events:
        new = apply(cur, ev)
        if ev.kind == "add":
            lines.append(f"After getting {ev.a} more, {name} has {cur} + {ev.a} = <<{cur}+{ev.a}={new}>>{new} {obj}.")
        elif ev.kind == "sub":
            lines.append(f"Taking away {ev.a} leaves {cur} - {ev.a} = <<{cur}-{ev.a}={new}>>{new} {obj}.")
        elif ev.kind in ("gain_bulk", "lose_bulk"):
            p = ev.a * ev.b
            lines.append(f"The {ev.a} containers hold {ev.a} * {ev.b} = <<{ev.a}*{ev.b}={p}>>{p} {obj}.")
            if ev.kind == "gain_bulk":
                lines.append(f"So {name} has {cur} + {p} = <<{cur}+{p}={new}>>{new} {obj}.")
            else:
                lines.append(f"So {name} has {cur} - {p} = <<{cur}-{p}={new}>>{new} {obj}.")
        elif ev.kind == "mul":
            lines.append(f"With {ev.a} times as many, {name} has {cur} * {ev.a} = <<{cur}*{ev.a}={new}>>{new} {obj}.")
        else:
            lines.append(f"One of {ev.a} equal groups is {cur} / {ev.a} = <<{cur}/{ev.a}={new}>>{new} {obj}.")
        cur = new
    return "\n".join(lines) + f"\n#### {answer}"


# -- the model's own traces ---------------------------------------------------------------------------

CONNECTIVES = ("", "", "", "so ", "then ", "now ")
OPENERS = ("", "start {s}. ", "have {s}. ", "{s} at first. ")
CLOSERS = ("", "answer {a}. ", "so {a}. ")


class _Writer:
    """Collects equations of one trace, each with an optional connective word."""

    def __init__(self, rng: random.Random | None):
        self.rng = rng
        self.parts: list[str] = []
        self.last: tuple[int, str, int, int] | None = None

    def choose(self, options, canonical=0):
        return options[canonical] if self.rng is None else options[self.rng.randrange(len(options))]

    def eq(self, a: int, op: str, b: int, c: int, *, swap_ok: bool = True) -> None:
        if swap_ok and op in "+*" and self.rng is not None and self.rng.random() < 0.3:
            a, b = b, a
        self.parts.append(f"{self.choose(CONNECTIVES)}{a}{op}{b}={c}.")
        self.last = (a, op, b, c)


def _write(problem: Problem, rng: random.Random | None) -> str:
    """A trace; `rng=None` gives the canonical one (question order, no extras)."""
    w = _Writer(rng)
    opener = w.choose(OPENERS).format(s=problem.start)
    cur = problem.start
    for phase in phases(problem):
        ev = phase[0]
        if not ev.additive:
            new = apply(cur, ev)
            w.eq(cur, "*" if ev.kind == "mul" else "/", ev.a, new, swap_ok=False)
            cur = new
            continue
        order = list(phase)
        if rng is not None:
            rng.shuffle(order)
        upfront = rng is not None and rng.random() < 0.5
        if upfront:  # container products first, in the chosen order
            for e in order:
                if e.b:
                    w.eq(e.a, "*", e.b, e.a * e.b)
        gains = [e for e in order if e.delta > 0]
        losses = [e for e in order if e.delta < 0]
        grouped = rng is not None and (len(gains) >= 2 or len(losses) >= 2) and rng.random() < 0.4
        if grouped:  # total gains and total losses, then apply them in either order
            totals = []
            for group in (gains, losses):
                total = 0
                for i, e in enumerate(group):
                    if e.b and not upfront:
                        w.eq(e.a, "*", e.b, e.a * e.b)
                    size = abs(e.delta)
                    if i:
                        w.eq(total, "+", size, total + size)
                    total += size
                totals.append(total)
            steps = [("+", totals[0]), ("-", totals[1])]
            if rng.random() < 0.5:
                steps.reverse()
            for op, size in steps:
                if size:
                    new = cur + size if op == "+" else cur - size
                    w.eq(cur, op, size, new, swap_ok=op == "+")
                    cur = new
            continue
        for e in order:
            if e.b and not upfront:
                w.eq(e.a, "*", e.b, e.a * e.b)
            new = cur + e.delta
            w.eq(cur, "+" if e.delta > 0 else "-", abs(e.delta), new, swap_ok=e.delta > 0)
            cur = new
    assert cur == problem.answer, "trace does not reach the answer"
    check = ""
    if rng is not None and w.last is not None and rng.random() < 0.35:
        a, op, b, c = w.last
        inverse = {"+": "-", "-": "+", "*": "/", "/": "*"}[op]
        check = f"check {c}{inverse}{b}={a}. "
    closer = w.choose(CLOSERS).format(a=cur)
    body = opener + " ".join(w.parts) + (" " + check if check else " ") + closer
    return "<think>" + body.rstrip() + f"</think> #### {cur}"


def canonical_trace(problem: Problem) -> str:
    return _write(problem, None)


def sample_trace(problem: Problem, rng: random.Random) -> str:
    """One valid model-style trace of `problem`, drawn with `rng`."""
    return _write(problem, rng)


def verify_trace(trace: str, answer: int) -> list[str]:
    """Problems with a trace: wrong equations, or a final answer other than `answer` (empty when valid)."""
    errors = []
    body, _, final = trace.partition("</think>")
    found = EQUATION.findall(body)
    if body.count("=") != len(found):
        errors.append(f"{body.count('=') - len(found)} equation(s) not of the form a+b=c with non-negative integers")
    for a, op, b, c in found:
        a, b, c = int(a), int(b), int(c)
        value = {"+": a + b, "-": a - b, "*": a * b, "/": a // b if b and a % b == 0 else None}[op]
        if value != c:
            errors.append(f"{a}{op}{b}={c} is wrong")
    m = re.fullmatch(r" #### (\d+)", final)
    if not m or int(m.group(1)) != answer:
        errors.append(f"trace ends in {final!r}, not ' #### {answer}'")
    return errors


SPLITS: dict[str, tuple[int, int]] = {  # name -> (seed, size); streams disjoint from tiny-reasoner's seeds
    "test": (11_000_003, 1000),
    "validation": (12_000_003, 500),
    "train": (13_000_003, 5000),
}


def generate_all_splits() -> dict[str, list[Problem]]:
    """test, validation, train, in that order of priority: later splits never repeat earlier questions."""
    return generate_splits(generate_problem, SPLITS)
