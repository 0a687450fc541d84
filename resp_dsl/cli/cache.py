"""`resp-dsl cache ls|du|gc|rm|verify`: see and clean the checkpoint store.

Never imports torch. Exit codes: 0 ok, 2 usage, 3 a corrupt entry found by ``verify``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from resp_dsl.runtime.store import Store, StoreError, default_cache_dir


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--cache", metavar="DIR", default=None,
        help="store root (default: $RESP_DSL_CACHE or ~/.cache/resp-dsl)",
    )
    parser.add_argument("--format", choices=("text", "json"), default="text", help="output format")
    sub = parser.add_subparsers(dest="action", metavar="ACTION")
    sub.add_parser("ls", help="list entries: key, op, size, age, status")
    sub.add_parser("du", help="bytes used by entries, in-op checkpoints and temporary files")
    gc = sub.add_parser("gc", help="remove dead temporary files and incomplete entries; with --keep, all others")
    gc.add_argument("--keep", metavar="KEY", action="append", default=None,
                    help="keep only these keys (repeatable); everything else is removed")
    gc.add_argument("--keep-file", metavar="FILE", default=None,
                    help="keep only the keys listed in FILE, one per line (e.g. from `resp-dsl plan`)")
    gc.add_argument("--dry-run", action="store_true", help="print what would be removed")
    rm = sub.add_parser("rm", help="remove entries by key or key prefix")
    rm.add_argument("keys", nargs="+", metavar="KEY", help="a key or a prefix of at least 2 characters")
    rm.add_argument("--dry-run", action="store_true", help="print what would be removed")
    verify = sub.add_parser("verify", help="re-hash entries and report corrupt ones")
    verify.add_argument("keys", nargs="*", metavar="KEY", help="keys or prefixes (default: every entry)")


def _human(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"  # unreachable


def _age(created: float | None) -> str:
    if created is None:
        return "-"
    s = max(0.0, time.time() - created)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if s >= size:
            return f"{s / size:.0f}{unit}"
    return f"{s:.0f}s"


def _emit(args: argparse.Namespace, data: object, text: str) -> None:
    if args.format == "json":
        json.dump(data, sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
    elif text:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")


def run(args: argparse.Namespace) -> int:
    store = Store(args.cache if args.cache else default_cache_dir())
    action = getattr(args, "action", None)
    if action is None:
        print("usage: resp-dsl cache [--cache DIR] {ls,du,gc,rm,verify}", file=sys.stderr)
        return 2
    try:
        return _ACTIONS[action](store, args)
    except StoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _ls(store: Store, args: argparse.Namespace) -> int:
    rows = store.ls()
    data = [
        {"key": r.key, "op": r.op, "size": r.size, "created": r.created, "status": r.status, "path": str(r.path)}
        for r in rows
    ]
    lines = [f"{'KEY':<20} {'OP':<16} {'SIZE':>10} {'AGE':>5}  STATUS"]
    for r in rows:
        lines.append(f"{r.key[:20]:<20} {r.op[:16]:<16} {_human(r.size):>10} {_age(r.created):>5}  {r.status}")
    if not rows:
        lines = [f"store {store.root} is empty"]
    _emit(args, data, "\n".join(lines))
    return 0


def _du(store: Store, args: argparse.Namespace) -> int:
    u = store.du()
    data = {"root": str(store.root), "entries": u.entries, "n_entries": u.n_entries, "partial": u.partial,
            "n_partial": u.n_partial, "tmp": u.tmp, "n_tmp": u.n_tmp, "total": u.total}
    text = (
        f"{store.root}\n"
        f"  entries  {_human(u.entries):>10}  ({u.n_entries})\n"
        f"  partial  {_human(u.partial):>10}  ({u.n_partial})\n"
        f"  tmp      {_human(u.tmp):>10}  ({u.n_tmp})\n"
        f"  total    {_human(u.total):>10}"
    )
    _emit(args, data, text)
    return 0


def _gc(store: Store, args: argparse.Namespace) -> int:
    keep = None
    if args.keep is not None or args.keep_file is not None:
        keep = set(args.keep or [])
        if args.keep_file:
            try:
                with open(args.keep_file, encoding="utf-8") as f:
                    keep |= {line.strip() for line in f if line.strip() and not line.startswith("#")}
            except OSError as exc:
                print(f"error: cannot read --keep-file {args.keep_file}: {exc.strerror}", file=sys.stderr)
                return 2
    removed = store.gc(keep, dry_run=args.dry_run)
    verb = "would remove" if args.dry_run else "removed"
    _emit(args, {"removed": removed, "dry_run": args.dry_run},
          "\n".join([f"{verb} {r}" for r in removed] + [f"{verb} {len(removed)} item(s)"]))
    return 0


def _rm(store: Store, args: argparse.Namespace) -> int:
    removed: list[str] = []
    for key in args.keys:
        removed += store.rm(key, dry_run=args.dry_run)
    verb = "would remove" if args.dry_run else "removed"
    _emit(args, {"removed": removed, "dry_run": args.dry_run},
          "\n".join([f"{verb} {r}" for r in removed] + [f"{verb} {len(removed)} entr{'y' if len(removed) == 1 else 'ies'}"]))
    return 0


def _verify(store: Store, args: argparse.Namespace) -> int:
    keys = store.keys()
    if args.keys:
        keys = [k for k in keys if any(k.startswith(p) for p in args.keys)]
    report = {k: store.verify(k) for k in keys}
    bad = {k: p for k, p in report.items() if p}
    lines = [f"{k}: {'; '.join(p)}" for k, p in bad.items()]
    lines.append(f"{len(keys) - len(bad)} ok, {len(bad)} corrupt" + (" (remove with `resp-dsl cache rm KEY`)" if bad else ""))
    _emit(args, {"checked": len(keys), "corrupt": bad}, "\n".join(lines))
    return 3 if bad else 0


_ACTIONS = {"ls": _ls, "du": _du, "gc": _gc, "rm": _rm, "verify": _verify}
