"""A procedural generator of GSM8K-like multi-step word problems.

Each problem follows one quantity through 2-4 steps of + - x / with exact
integer results. Two answer styles exist for the same problem:

* ``gold_solution``: a human-style worked solution in GSM8K's own format
  (sentences, ``<<a+b=c>>`` calculator annotations, ``#### N``);
* ``trace``: the bundled model's own way of answering, a terse thinking trace
  with one equation per step: ``<think>5*3=15. 12+15=27.</think> #### 27``.

Calibrating on the first versus the second is therefore a real difference,
as it is for Qwen3 on GSM8K.

Generation is deterministic from a seed: ``generate_problem(random.Random(s))``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

NAMES = (
    "Mia", "Liam", "Ava", "Noah", "Emma", "Omar", "Sofia", "Lucas", "Zoe", "Ethan",
    "Nora", "Leo", "Ivy", "Jack", "Lily", "Ryan", "Maya", "Ben", "Chloe", "Sam",
    "Aria", "Owen", "Ella", "Adam", "Ruby", "Kai", "Lena", "Finn", "Tara", "Hugo",
)
FRIENDS = ("a friend", "her brother", "his sister", "a neighbor", "the teacher", "a classmate", "grandma", "a cousin")
OBJECTS = (
    "apples", "marbles", "stickers", "cookies", "pencils", "coins", "books", "shells",
    "cards", "stamps", "candies", "balloons", "eggs", "flowers", "toy cars", "beads",
)
CONTAINERS = ("bags", "boxes", "packs", "jars", "baskets", "crates")

MAX_VALUE = 200


@dataclass(frozen=True)
class Problem:
    question: str
    gold_solution: str  # GSM8K style, ends with "#### N"
    trace: str  # the model's own style, "<think>...</think> #### N"
    answer: int
    equations: tuple[str, ...] = field(default=())

    def to_json(self) -> dict:
        """The GSM8K schema plus the model-style trace."""
        return {"question": self.question, "answer": self.gold_solution, "trace": self.trace}


def _pick(rng: random.Random, seq):
    return seq[rng.randrange(len(seq))]


def generate_problem(rng: random.Random) -> Problem:
    """One problem with 2-4 steps, every intermediate value in [1, MAX_VALUE]."""
    name = _pick(rng, NAMES)
    obj = _pick(rng, OBJECTS)
    n_steps = rng.choice((2, 3, 4))
    cur = rng.randint(5, 60)
    sentences = [_pick(rng, (f"{name} has {cur} {obj}.", f"{name} had {cur} {obj}.", f"{name} starts with {cur} {obj}."))]
    gold = [f"{name} starts with {cur} {obj}."]
    equations: list[str] = []
    kinds_done: list[str] = []
    for _ in range(n_steps):
        options = ["sub"]
        if MAX_VALUE - cur >= 2:
            options.append("add")
        if "bulk" not in kinds_done:
            options.append("bulk")
        if cur * 2 <= MAX_VALUE:
            options.append("mul")
        if any(cur % k == 0 for k in range(2, 7)) and cur >= 4:
            options.append("div")
        if cur < 3 and len(options) > 1:
            options = [o for o in options if o != "sub"]
        # Avoid long runs of one operation: pick among the others when possible.
        if kinds_done and len(options) > 1 and rng.random() < 0.6:
            options = [o for o in options if o != kinds_done[-1]] or options
        kind = _pick(rng, options)
        kinds_done.append(kind)
        if kind == "add":
            b = rng.randint(2, min(40, MAX_VALUE - cur))
            new = cur + b
            friend = _pick(rng, FRIENDS)
            sentences.append(_pick(rng, (
                f"{name} buys {b} more {obj}.",
                f"{name} finds {b} more {obj}.",
                f"{friend.capitalize()} gives {name} {b} {obj}.",
                f"{name} gets {b} more {obj} as a gift.",
            )))
            equations.append(f"{cur}+{b}={new}")
            gold.append(f"After getting {b} more, {name} has {cur} + {b} = <<{cur}+{b}={new}>>{new} {obj}.")
        elif kind == "sub":
            b = rng.randint(1, min(40, cur - 1))
            new = cur - b
            friend = _pick(rng, FRIENDS)
            sentences.append(_pick(rng, (
                f"{name} gives {b} {obj} to {friend}.",
                f"{name} loses {b} {obj}.",
                f"{name} sells {b} of the {obj}.",
                f"{name} uses {b} {obj}.",
            )))
            equations.append(f"{cur}-{b}={new}")
            gold.append(f"Taking away {b} leaves {cur} - {b} = <<{cur}-{b}={new}>>{new} {obj}.")
        elif kind == "mul":
            k = rng.choice([k for k in (2, 3, 4) if cur * k <= MAX_VALUE])
            new = cur * k
            word = {2: "doubles", 3: "triples"}.get(k)
            if word and rng.random() < 0.5:
                sentences.append(f"The number of {obj} {name} has {word}.")
            else:
                sentences.append(f"{name} ends up with {k} times as many {obj}.")
            equations.append(f"{cur}*{k}={new}")
            gold.append(f"With {k} times as many, {name} has {cur} * {k} = <<{cur}*{k}={new}>>{new} {obj}.")
        elif kind == "div":
            k = rng.choice([k for k in range(2, 7) if cur % k == 0])
            new = cur // k
            sentences.append(_pick(rng, (
                f"{name} splits the {obj} into {k} equal groups and keeps one group.",
                f"{name} shares the {obj} equally among {k} kids, {name} included, and keeps one share.",
            )))
            equations.append(f"{cur}/{k}={new}")
            gold.append(f"One of {k} equal groups is {cur} / {k} = <<{cur}/{k}={new}>>{new} {obj}.")
        else:  # bulk: buy k containers with m each
            k = rng.randint(2, 6)
            m_max = min(12, (MAX_VALUE - cur) // k)
            if m_max < 2:
                b = 1
                new = cur - b
                sentences.append(f"{name} loses {b} {obj}.")
                equations.append(f"{cur}-{b}={new}")
                gold.append(f"Losing {b} leaves {cur} - {b} = <<{cur}-{b}={new}>>{new} {obj}.")
                cur = new
                continue
            m = rng.randint(2, m_max)
            box = _pick(rng, CONTAINERS)
            p = k * m
            new = cur + p
            sentences.append(f"{name} buys {k} {box} with {m} {obj} in each.")
            equations.append(f"{k}*{m}={p}")
            equations.append(f"{cur}+{p}={new}")
            gold.append(f"The {box} hold {k} * {m} = <<{k}*{m}={p}>>{p} {obj}.")
            gold.append(f"So {name} has {cur} + {p} = <<{cur}+{p}={new}>>{new} {obj}.")
        cur = new
    sentences.append(_pick(rng, (
        f"How many {obj} does {name} have now?",
        f"How many {obj} does {name} have in the end?",
        f"How many {obj} are left with {name}?",
    )))
    question = " ".join(sentences)
    gold_solution = "\n".join(gold) + f"\n#### {cur}"
    trace = "<think>" + " ".join(e + "." for e in equations) + f"</think> #### {cur}"
    return Problem(question, gold_solution, trace, cur, tuple(equations))


def sample_trace(problem: Problem, rng: random.Random) -> str:
    """The training target of `problem`: this task has one trace per problem (draws nothing from `rng`)."""
    return problem.trace


# Split seeds are disjoint streams; a question that occurs in an earlier split is skipped.
SPLITS: dict[str, tuple[int, int]] = {  # name -> (seed, size)
    "test": (1_000_003, 1000),
    "validation": (2_000_003, 500),
    "train": (3_000_003, 5000),
}


def draw_unique(generate, seed: int, size: int, seen: set[str]) -> list:
    """`size` problems from `generate(random.Random(seed))`, skipping (and adding to `seen`) known questions."""
    rng = random.Random(seed)
    out: list = []
    while len(out) < size:
        p = generate(rng)
        if p.question in seen:
            continue
        seen.add(p.question)
        out.append(p)
    return out


def generate_split(name: str, exclude: set[str] | None = None) -> list[Problem]:
    seed, size = SPLITS[name]
    return draw_unique(generate_problem, seed, size, set(exclude or ()))


def generate_splits(generate, splits: dict[str, tuple[int, int]]) -> dict:
    """test, validation, train, in that order of priority: later splits never repeat earlier questions."""
    result: dict[str, list] = {}
    seen: set[str] = set()
    for name in ("test", "validation", "train"):
        result[name] = draw_unique(generate, *splits[name], seen)
    return result


def generate_all_splits() -> dict[str, list[Problem]]:
    return generate_splits(generate_problem, SPLITS)


def training_stream(seed: int, exclude: set[str]):
    """An endless stream of fresh training problems that never hit `exclude`."""
    rng = random.Random(seed)
    while True:
        p = generate_problem(rng)
        if p.question not in exclude:
            yield p
