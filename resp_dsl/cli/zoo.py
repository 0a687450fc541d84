"""`resp-dsl zoo`: build the bundled task data, train and evaluate the bundled tiny models."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from resp_dsl.zoo_build.card import SECTIONS  # torch-free at import
from resp_dsl.zoo.tokenizer import BPE
from resp_dsl.zoo_build.train import MICRO_BATCH  # torch-free at import


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="zoo_command", metavar="ACTION", required=True)
    d = sub.add_parser("data", help="(re)generate the synthetic task's JSONL splits")
    d.add_argument("name", nargs="?", default="tiny-reasoner", help="bundled model (default: tiny-reasoner)")
    d.add_argument("--out", type=Path, help="directory for the splits (default: the package's bundled data)")
    d.add_argument("--force", action="store_true", help="replace existing files")

    k = sub.add_parser("tokenizer", help="learn a bundled BPE tokenizer's merges (writes resp_dsl/zoo/tokenizers/KIND.json)")
    k.add_argument("kind", choices=BPE, help="the BPE tokenizer")
    k.add_argument("--out", type=Path, help="file to write (default: the package's bundled file)")
    k.add_argument("--force", action="store_true", help="replace an existing file")

    t = sub.add_parser("train", help="train a bundled model (resumable)")
    t.add_argument("name", nargs="?", default="tiny-reasoner", help="bundled model (default: tiny-reasoner)")
    t.add_argument("--design", help="train one of the model's designs (resp_dsl.zoo.spec.DESIGNS) instead of "
                                    "its bundled spec; needs --out")
    t.add_argument("--workdir", type=Path, help="checkpoints, resumed from here (default: .train/NAME[-DESIGN])")
    t.add_argument("--out", type=Path, help="final model directory (default: the package's bundled model)")
    t.add_argument("--steps", type=int, help="training steps (default from the training spec)")
    t.add_argument("--threads", type=int, help="torch threads (default 2)")
    t.add_argument("--seed", type=int, help="seed (default 0)")
    t.add_argument("--until", type=int, help="stop (with a checkpoint) at this step; resume later")
    t.add_argument("--device", default="cpu",
                   help="where the arithmetic runs: cpu (default) or cuda; the batches are the same on any device")
    t.add_argument("--micro-batch", type=int, default=MICRO_BATCH,
                   help="sequences per forward pass (default %(default)s); changes speed and memory, not the maths")
    t.add_argument("--data-workers", type=int, default=0,
                   help="processes that make the coming steps' batches ahead (default 0: in the training "
                        "loop); for an accelerator, which would otherwise wait on Python; the data are the same")
    t.add_argument("--init-from", type=Path, metavar="MODEL_DIR",
                   help="warm start: continue a model this command trained (its weights and step, a fresh "
                        "optimizer) to --steps, in a new --workdir; for a shipped model, which has no optimizer state")
    t.add_argument("--force", action="store_true", help="replace an existing model directory")

    e = sub.add_parser("eval", help="accuracy of a bundled model on its task")
    e.add_argument("name", nargs="?", default="tiny-reasoner", help="bundled model (default: tiny-reasoner)")
    e.add_argument("--model", type=Path, help="model directory, dense or an export of any format (default: the bundled one)")
    e.add_argument("--n", type=int, default=500, help="test problems (default 500)")
    e.add_argument("--split", default="test", help="split of the task (default: test)")
    e.add_argument("--temperature", type=float, default=0.6, help="sampling temperature (default 0.6)")
    e.add_argument("--greedy", action="store_true", help="greedy decoding (temperature 0)")
    e.add_argument("--seed", type=int, default=0, help="sampling seed, per problem (default 0)")
    e.add_argument("--batch-size", type=int, default=64, help="prompts per generation batch (default 64)")
    e.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    e.add_argument("--json", action="store_true", help="print the result as JSON")

    c = sub.add_parser("card", help="measure a bundled model and (re)write its model card")
    c.add_argument("name", nargs="?", default="tiny-reasoner", help="bundled model (default: tiny-reasoner)")
    c.add_argument("--section", action="append", choices=SECTIONS,
                   help="measure only this section (repeatable; default: all); the others keep their figures")
    c.add_argument("--n", type=int, help="problems per measurement (default: the section's own, e.g. 500 test problems)")
    c.add_argument("--seed", type=int, default=0, help="sampling seed (default 0)")
    c.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    c.add_argument("--workers", type=int, default=1,
                   help="processes for the sensitivity section, each with threads/workers threads (default 1); "
                        "the figures do not depend on it")
    c.add_argument("--model", type=Path, help="model directory whose card to write (default: the bundled one)")


def run(args: argparse.Namespace) -> int:
    from resp_dsl import zoo

    if args.zoo_command == "tokenizer":
        from resp_dsl.zoo_build.bpe import write

        print(f"wrote {write(args.kind, args.out, force=args.force)}")
        return 0
    if args.name not in zoo.MODELS:
        print(f"error: unknown bundled model {args.name!r}; available: {', '.join(zoo.MODELS)}", file=sys.stderr)
        return 2
    if args.zoo_command == "data":
        out = zoo.write_data(args.name, args.out, force=args.force)
        print(f"wrote splits to {out}")
        return 0
    if args.zoo_command == "train":
        from dataclasses import replace

        from resp_dsl.zoo.spec import get
        from resp_dsl.zoo_build.train import train

        try:
            zoo_model = get(args.name, args.design)
        except LookupError as e:
            print(f"error: {e.args[0]}", file=sys.stderr)
            return 2
        if args.design and args.out is None:
            print(f"error: --design {args.design} needs --out: a design never replaces the bundled model "
                  f"(adopting one is a change to resp_dsl/zoo/spec.py)", file=sys.stderr)
            return 2
        overrides = {k: v for k, v in (("steps", args.steps), ("threads", args.threads), ("seed", args.seed)) if v is not None}
        spec = replace(zoo_model.train, **overrides)
        out = args.out or zoo.path(args.name, must_exist=False)
        workdir = args.workdir or Path(".train") / (args.name + (f"-{args.design}" if args.design else ""))
        summary = train(workdir, out, zoo_model, train_spec=spec, force=args.force, until=args.until,
                        device=args.device, micro_batch=args.micro_batch, init_from=args.init_from,
                        data_workers=args.data_workers)
        if "stopped_at" in summary:
            return 0
        print(f"trained {args.name}: {summary}")
        print(f"model written to {out}")
        return 0
    if args.zoo_command == "card":
        from resp_dsl.zoo_build.card import write_card

        if args.workers < 1:
            print(f"error: --workers must be at least 1, got {args.workers}", file=sys.stderr)
            return 2
        path = write_card(args.name, sections=args.section, n=args.n, seed=args.seed, threads=args.threads,
                          workers=args.workers, model_dir=args.model)
        print(path.read_text())
        print(f"wrote {path}")
        return 0
    if args.zoo_command == "eval":
        from resp_dsl.zoo_build.evaluate import evaluate_bundled

        return evaluate_bundled(args)
    return 2
