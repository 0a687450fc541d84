"""`resp-dsl cache ls|du|gc|rm|verify`: see and clean the checkpoint store.

Never imports torch. Exit codes: 0 ok, 2 usage, 3 a corrupt entry found by ``verify``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from resp_dsl.runtime.store import Store, StoreError, default_cache_dir, usable_root


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--cache", metavar="DIR", default=None,
        help="store root (default: $RESP_DSL_CACHE or ~/.cache/resp-dsl)",
    )
    parser.add_argument("--format", choices=("text", "json"), default="text", help="output format")
    sub = parser.add_subparsers(dest="action", metavar="ACTION")
    sub.add_parser("ls", help="list entries: key, op, size, age, status")
    sub.add_parser("du", help="bytes used by entries, in-op checkpoints and temporary files")
    gc = sub.add_parser("gc", help="remove dead temporary files and incomplete entries; with --keep*, all others")
    gc.add_argument("--keep", metavar="KEY", action="append", default=None,
                    help="keep only these keys or key prefixes, as `resp-dsl plan` prints them (repeatable); "
                         "everything else is removed. A prefix that matches no entry stops gc")
    gc.add_argument("--keep-file", metavar="FILE", default=None,
                    help="keep only the keys or prefixes listed in FILE, one per line")
    gc.add_argument("--keep-recipe", metavar="RECIPE", nargs="+", default=None,
                    help="keep exactly the entries these recipes need (with the --set values given)")
    gc.add_argument("--set", dest="overrides", action="append", default=[], metavar="NAME=VALUE",
                    help="a recipe `param` value for --keep-recipe (repeatable)")
    gc.add_argument("--dry-run", action="store_true", help="print what would be removed")
    rm = sub.add_parser("rm", help="remove entries by key or key prefix")
    rm.add_argument("keys", nargs="+", metavar="KEY", help="a key or a prefix of at least 2 characters")
    rm.add_argument("--dry-run", action="store_true", help="print what would be removed")
    verify = sub.add_parser("verify", help="re-hash entries (and the exports they recorded) and report corrupt ones")
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
    problem = usable_root(store.root, write=action in ("gc", "rm"))
    if problem:
        print(f"error: --cache {store.root}: {problem}", file=sys.stderr)
        return 2
    try:
        return _ACTIONS[action](store, args)
    except StoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: {exc.strerror or exc}: {exc.filename or store.root}", file=sys.stderr)
        return 2


def _ls(store: Store, args: argparse.Namespace) -> int:
    rows = store.ls()
    uses = {r.key: store.uses(r.key) for r in rows}
    data = [
        {"key": r.key, "op": r.op, "size": r.size, "created": r.created, "status": r.status, "path": str(r.path),
         "uses": uses[r.key]}
        for r in rows
    ]
    lines = [f"{'KEY':<12} {'OP':<10} {'SIZE':>10} {'AGE':>5}  {'STATUS':<10} NODE (RECIPE)"]
    for r in rows:
        u = uses[r.key]
        used = f"{u[0]['node']} ({u[0]['recipe']})" + (f" +{len(u) - 1} more" if len(u) > 1 else "") if u else "-"
        lines.append(f"{r.key[:12]:<12} {r.op[:10]:<10} {_human(r.size):>10} {_age(r.created):>5}  "
                     f"{r.status:<10} {used}")
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
    if args.keep is not None or args.keep_file is not None or args.keep_recipe is not None:
        wanted = list(args.keep or [])
        if args.keep_file:
            try:
                with open(args.keep_file, encoding="utf-8") as f:
                    wanted += [line.split()[0] for line in f if line.strip() and not line.startswith("#")]
            except OSError as exc:
                print(f"error: cannot read --keep-file {args.keep_file}: {exc.strerror}", file=sys.stderr)
                return 2
        known = sorted(set(store.keys()) | set(store.partial_keys()))
        keep = set()
        unmatched = []
        for prefix in wanted:
            hits = [k for k in known if k.startswith(prefix)] if len(prefix) >= MIN_PREFIX else []
            keep.update(hits)
            if not hits:
                unmatched.append(prefix)
        if unmatched:
            print(f"error: {len(unmatched)} --keep entr{'y matches' if len(unmatched) == 1 else 'ies match'} no "
                  f"key in {store.root} (at least {MIN_PREFIX} characters): {', '.join(unmatched[:5])}; "
                  "nothing removed", file=sys.stderr)
            return 2
        if args.keep_recipe:
            needed = _recipe_keys(args.keep_recipe, args.overrides)
            if needed is None:
                return 1
            keep |= needed
    removed = store.gc(keep, dry_run=args.dry_run)
    verb = "would remove" if args.dry_run else "removed"
    _emit(args, {"removed": removed, "dry_run": args.dry_run},
          "\n".join([f"{verb} {r}" for r in removed] + [f"{verb} {len(removed)} item(s)"]))
    return 0


MIN_PREFIX = 8  # `plan` prints 12 characters; shorter prefixes are too easy to mistype into a match


def _recipe_keys(files: list[str], overrides: list[str]) -> set[str] | None:
    """Every node key of these recipes (None, with the diagnostics printed, if one does not compile)."""
    from resp_dsl.cli.check import parse_overrides, print_diagnostics
    from resp_dsl.compile import compile_file

    values = parse_overrides(overrides)
    if values is None:
        return None
    keys: set[str] = set()
    for f in files:
        res = compile_file(f, overrides=values)
        if not res.ok or res.graph is None:
            print_diagnostics([res], "text")
            print(f"error: --keep-recipe {f} does not compile; nothing removed", file=sys.stderr)
            return None
        keys |= {res.graph.key(n) for n in res.graph.nodes}
    return keys


def _rm(store: Store, args: argparse.Namespace) -> int:
    removed: list[str] = []
    unknown = []
    for key in args.keys:
        hits = store.rm(key, dry_run=args.dry_run)
        if not hits:
            unknown.append(key)
        removed += hits
    verb = "would remove" if args.dry_run else "removed"
    _emit(args, {"removed": removed, "dry_run": args.dry_run, "unknown": unknown},
          "\n".join([f"{verb} {r}" for r in removed] + [f"{verb} {len(removed)} entr{'y' if len(removed) == 1 else 'ies'}"]))
    if unknown:
        print(f"error: no entry matches {', '.join(unknown)} in {store.root}", file=sys.stderr)
        return 3
    return 0


def _verify(store: Store, args: argparse.Namespace) -> int:
    keys = store.keys()
    if args.keys:
        unmatched = [p for p in args.keys if not any(k.startswith(p) for k in keys)]
        if unmatched:
            print(f"error: no entry matches {', '.join(unmatched)} in {store.root}", file=sys.stderr)
            return 3
        keys = [k for k in keys if any(k.startswith(p) for p in args.keys)]
    report = {k: store.verify(k) for k in keys}
    exports_checked = 0
    for k in keys:
        if report[k] or not store.export_locations(k):
            continue
        problems, n = _verify_exports(store, k)
        exports_checked += n
        report[k] = problems
    bad = {k: p for k, p in report.items() if p}
    lines = [f"{k}: {'; '.join(p)}" for k, p in bad.items()]
    lines.append(f"{len(keys) - len(bad)} ok, {len(bad)} corrupt"
                 + (f" ({exports_checked} export director{'y' if exports_checked == 1 else 'ies'} checked)"
                    if exports_checked else "")
                 + (" (remove with `resp-dsl cache rm KEY`; a run re-exports a damaged export)" if bad else ""))
    _emit(args, {"checked": len(keys), "exports_checked": exports_checked, "corrupt": bad}, "\n".join(lines))
    return 3 if bad else 0


def _verify_exports(store: Store, key: str) -> tuple[list[str], int]:
    """Full re-hash of every export directory recorded for an export entry that still exists."""
    from resp_dsl.runtime import exports

    try:
        files = json.loads((store.entry_dir(key) / exports.EXPORT_RECORD).read_text(encoding="utf-8"))["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return [f"{exports.EXPORT_RECORD} records no checksums"], 0
    problems, n = [], 0
    for where in store.export_locations(key):
        if not where.exists():
            continue  # moved or deleted by the user: nothing recorded there any more
        n += 1
        found, _ = exports.verify(where, files, None)
        problems += [f"export {where}: {p}" for p in found]
    return problems, n


_ACTIONS = {"ls": _ls, "du": _du, "gc": _gc, "rm": _rm, "verify": _verify}
