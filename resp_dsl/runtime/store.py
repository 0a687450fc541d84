"""The content-addressed checkpoint store: one directory per graph node key.

Layout under a store root (``default_cache_dir()`` unless told otherwise)::

    <root>/v1/<key[:2]>/<key>/            a complete entry: artifact files + manifest.json
    <root>/v1/tmp/<key>.<pid>.<rand>/     an entry being written (renamed into place on success)
    <root>/v1/partial/<key>/              in-op checkpoints of an unfinished node (survive a crash)
    <root>/v1/locks/<key>.lock            held (flock) while a run writes <key>

Invariants:
- An entry directory exists only if it was fully written: it is created by one
  ``os.rename`` of a finished temporary directory, so a crash leaves no half entry.
- ``manifest.json`` lists every file with its sha256 and size; ``open`` verifies them
  and a mismatch raises ``CorruptEntryError`` (the caller recomputes, never uses it).
- Nothing here imports torch: ``plan`` and ``cache`` use the store without it.

Example::

    store = Store(default_cache_dir())
    if not store.has(key):
        with store.write(key, {"op": "generate", "params": {...}}) as tmp:
            (tmp / "traces.jsonl").write_text(...)
    entry = store.open(key)           # verified
    path = entry.file("traces.jsonl")
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import fcntl
import hashlib
import json
import os
import re
import shutil
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from resp_dsl.files import CHUNK as _HASH_CHUNK
from resp_dsl.files import sha256_file, write_json_atomic  # noqa: F401  (re-exported: store users import them here)
from resp_dsl.files import umask as _umask

# ATTENTION: bump SCHEME when the entry layout or the manifest format changes;
# old entries then stay where they are and are simply not found (gc removes them).
SCHEME = "v1"
MANIFEST = "manifest.json"
STATUS_COMPLETE = "complete"

_KEY_RE = re.compile(r"^[A-Za-z0-9_-]{4,128}$")
WAIT_REPORT = 10.0  # seconds between "waiting for another run" messages
# Files at least this large are re-hashed by ``open`` only when their size, mtime or inode
# changed since the last full verification (``verify`` and ``cache verify`` always re-hash).
LARGE_FILE = 64 << 20
MAX_USES = 8  # (node, recipe) pairs remembered per key for `cache ls`


class StoreError(Exception):
    """A store operation failed in a way the user can act on."""


class MissingEntryError(StoreError, KeyError):
    """The store has no complete entry for this key."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


class CorruptEntryError(StoreError):
    """An entry's files do not match its manifest; it must be recomputed."""

    def __init__(self, key: str, path: Path, problems: list[str]):
        self.key, self.path, self.problems = key, path, problems
        listed = "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
        super().__init__(f"cache entry {key} at {path} is corrupt ({listed}); it will be recomputed")


class LockedError(StoreError):
    """Another process holds the write lock of this key."""


def default_cache_dir() -> Path:
    """The store root: ``$RESP_DSL_CACHE`` if set, else ``~/.cache/resp-dsl``."""
    env = os.environ.get("RESP_DSL_CACHE")
    if env:
        return Path(env).expanduser()
    return Path.home() / ".cache" / "resp-dsl"


def usable_root(root: Path, *, write: bool = True) -> str | None:
    """Why the directory ``root`` cannot be used (a path component is not a directory, or it is not
    writable when ``write``), or None. For --cache and --out, before any work."""
    root = Path(root)
    probe = root
    while not probe.exists():
        if probe.parent == probe:
            return "no existing parent directory"
        probe = probe.parent
    if not probe.is_dir():
        return f"{probe} is not a directory"
    if not write:
        return None
    if not os.access(probe, os.W_OK | os.X_OK):
        return f"{probe} is not writable"
    base = root / SCHEME
    if base.exists() and (not base.is_dir() or not os.access(base, os.W_OK | os.X_OK)):
        return f"{base} is not a writable directory"
    return None


def check_key(key: str) -> str:
    """Return ``key`` if it is a valid node key (letters, digits, ``-``, ``_``; 4-128 chars)."""
    if not isinstance(key, str) or not _KEY_RE.match(key):
        raise StoreError(f"invalid cache key {key!r}: expected 4-128 characters of [A-Za-z0-9_-]")
    return key


def verify_files(directory: Path, files: dict[str, dict[str, Any]], stamps: dict[str, list] | None = None,
                 *, extra_ok: set[str] = frozenset()) -> tuple[list[str], dict[str, list]]:
    """Problems of ``directory`` against recorded ``files`` ({relpath: {sha256, size}}), and stamps.

    A file of at least ``LARGE_FILE`` bytes whose [size, mtime_ns, inode, sha256] equals its
    entry in ``stamps`` (from an earlier full verification) is not re-hashed; smaller files
    always are. Returns the problems (missing, size or sha256 mismatch, a file or link not
    recorded) and fresh stamps for the large files that verified.
    """
    problems, fresh = [], {}
    stamps = stamps or {}
    for name, info in sorted(files.items()):
        f = directory / name
        try:
            if f.is_symlink():
                raise OSError
            st = f.stat()
        except OSError:
            problems.append(f"{name}: missing")
            continue
        if st.st_size != info.get("size"):
            problems.append(f"{name}: size {st.st_size} != {info.get('size')}")
            continue
        stamp = [st.st_size, st.st_mtime_ns, st.st_ino, info.get("sha256")]
        if st.st_size >= LARGE_FILE and stamps.get(name) == stamp:
            fresh[name] = stamp
        elif sha256_file(f) != info.get("sha256"):
            problems.append(f"{name}: sha256 mismatch")
        elif st.st_size >= LARGE_FILE:
            fresh[name] = stamp
    for f in sorted(directory.rglob("*")):
        rel = f.relative_to(directory).as_posix()
        if (f.is_file() or f.is_symlink()) and rel not in files and rel not in extra_ok:
            problems.append(f"{rel}: not in manifest")
    return problems, fresh


def _holder(lock_path: Path) -> str:
    """The pid written into a lock file by its holder (for messages only)."""
    try:
        return lock_path.read_text(encoding="ascii", errors="replace").strip()[:16] or "?"
    except OSError:
        return "?"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def copy_atomic(src: Path, dst: Path) -> Path:
    """Copy ``src`` to ``dst`` through an unpredictable temporary file in ``dst``'s directory
    (``mkstemp``: created exclusively, never through a planted link) and one ``os.replace``
    (which replaces a link at ``dst`` rather than writing through it)."""
    import tempfile

    dst = Path(dst)
    fd, tmp = tempfile.mkstemp(dir=dst.parent, prefix=f".{dst.name}.", suffix=".tmp")
    try:
        with open(src, "rb") as fin, os.fdopen(fd, "wb") as fout:
            shutil.copyfileobj(fin, fout, _HASH_CHUNK)
            fout.flush()
            os.fsync(fout.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, dst)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    return dst


def _dir_size(path: Path) -> int:
    total = 0
    for p in path.rglob("*"):
        with contextlib.suppress(OSError):
            if p.is_file() and not p.is_symlink():
                total += p.stat().st_size
    return total


@dataclasses.dataclass(frozen=True)
class Entry:
    """A complete, verified store entry."""

    key: str
    path: Path
    manifest: dict[str, Any]

    @property
    def op(self) -> str:
        return self.manifest.get("op", "")

    @property
    def params(self) -> dict[str, Any]:
        return self.manifest.get("params", {})

    @property
    def meta(self) -> dict[str, Any]:
        return self.manifest.get("meta", {})

    @property
    def files(self) -> dict[str, dict[str, Any]]:
        return self.manifest["files"]

    def file(self, name: str) -> Path:
        """The path of one artifact file of this entry; unknown names raise ``StoreError``."""
        if name not in self.manifest["files"]:
            known = ", ".join(sorted(self.manifest["files"])) or "none"
            raise StoreError(f"cache entry {self.key} has no file {name!r} (files: {known})")
        return self.path / name


@dataclasses.dataclass(frozen=True)
class EntryInfo:
    """One row of ``Store.ls()``: what a key holds, from its manifest (not re-hashed)."""

    key: str
    op: str
    size: int
    created: float | None
    status: str  # "complete" | "incomplete" | "partial" (only in-op checkpoints exist)
    path: Path


@dataclasses.dataclass(frozen=True)
class Usage:
    """Bytes on disk by area, from ``Store.du()``."""

    entries: int
    n_entries: int
    partial: int
    n_partial: int
    tmp: int
    n_tmp: int

    @property
    def total(self) -> int:
        return self.entries + self.partial + self.tmp


class Store:
    """A content-addressed checkpoint store rooted at ``root`` (created on first write)."""

    def __init__(self, root: str | os.PathLike[str] | None = None, *, lock_timeout: float = 0.0):
        self.root = Path(root).expanduser() if root is not None else default_cache_dir()
        self.base = self.root / SCHEME
        self.lock_timeout = lock_timeout
        self._held: dict[str, tuple[int, int]] = {}  # key -> (fd, depth): locks are re-entrant per Store
        self._verified: set[tuple[str, float]] = set()  # (key, manifest mtime) verified by this Store

    def __repr__(self) -> str:
        return f"Store({str(self.root)!r})"

    # -- paths ---------------------------------------------------------------------------------
    def entry_dir(self, key: str) -> Path:
        """Where the complete entry of ``key`` lives (it may not exist)."""
        check_key(key)
        return self.base / key[:2] / key

    def partial_dir(self, key: str, *, create: bool = True) -> Path:
        """The scratch area for in-op checkpoints of ``key``; kept across crashes, removed on commit."""
        path = self.base / "partial" / check_key(key)
        if create:
            path.mkdir(parents=True, exist_ok=True)
        return path

    def _lock_path(self, key: str) -> Path:
        return self.base / "locks" / f"{check_key(key)}.lock"

    # -- reading -------------------------------------------------------------------------------
    def _read_manifest(self, key: str) -> dict[str, Any] | None:
        try:
            with open(self.entry_dir(key) / MANIFEST, encoding="utf-8") as f:
                manifest = json.load(f)
        except (OSError, ValueError):
            return None
        if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
            return None
        return manifest

    def has(self, key: str) -> bool:
        """True if a complete entry exists: manifest present and every listed file has its size.

        Cheap (stat only). ``open`` does the full checksum verification.
        """
        manifest = self._read_manifest(key)
        if manifest is None or manifest.get("status") != STATUS_COMPLETE:
            return False
        path = self.entry_dir(key)
        for name, info in manifest["files"].items():
            try:
                if (path / name).stat().st_size != info.get("size"):
                    return False
            except OSError:
                return False
        return True

    def verify(self, key: str, *, full: bool = True) -> list[str]:
        """Check every file of ``key`` against its manifest; return the problems (empty: sound).

        ``full=False`` (what ``open`` does) skips re-hashing a file of at least ``LARGE_FILE``
        bytes whose size, mtime and inode are those recorded at its last full verification;
        small files are always re-hashed.
        """
        path = self.entry_dir(key)
        if not path.is_dir():
            return ["no such entry"]
        manifest = self._read_manifest(key)
        if manifest is None:
            return [f"{MANIFEST} missing or unreadable"]
        problems = []
        if manifest.get("status") != STATUS_COMPLETE:
            problems.append(f"status is {manifest.get('status')!r}, not {STATUS_COMPLETE!r}")
        if manifest.get("key") not in (None, key):
            problems.append(f"manifest belongs to key {manifest.get('key')}")
        stamps = {} if full else (self.read_index("stamps", key) or {})
        found, fresh = verify_files(path, manifest["files"], stamps, extra_ok={MANIFEST})
        problems += found
        if not problems and fresh and fresh != stamps:
            with contextlib.suppress(OSError):
                self.write_index("stamps", key, fresh)
        return problems

    # -- the index: facts about entries kept OUTSIDE them (never part of what a key names) -----
    def _index_path(self, kind: str, key: str) -> Path:
        return self.base / "index" / kind / f"{check_key(key)}.json"

    def read_index(self, kind: str, key: str) -> Any:
        """The JSON recorded under ``index/<kind>/<key>.json`` (None if absent or unreadable)."""
        try:
            with open(self._index_path(kind, key), encoding="utf-8") as f:
                return json.load(f)
        except (OSError, ValueError):
            return None

    def write_index(self, kind: str, key: str, data: Any) -> None:
        """Record ``data`` about ``key`` outside its entry, atomically."""
        path = self._index_path(kind, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_json_atomic(path, data)

    def note_use(self, key: str, *, node: str, recipe: str) -> None:
        """Remember that ``recipe`` used ``key`` as its node ``node`` (for ``cache ls``).

        Kept in ``index/uses/``, outside the entry: an entry holds only what its key determines.
        The newest uses come first; at most ``MAX_USES`` are kept.
        """
        uses = self.uses(key)
        mine = {"node": node, "recipe": recipe}
        if uses[:1] == [mine]:
            return
        uses = [mine] + [u for u in uses if u != mine]
        with contextlib.suppress(OSError):
            self.write_index("uses", key, uses[:MAX_USES])

    def uses(self, key: str) -> list[dict[str, str]]:
        """The (node, recipe) pairs recorded by ``note_use``, newest first."""
        data = self.read_index("uses", key)
        return [u for u in data if isinstance(u, dict)] if isinstance(data, list) else []

    def note_export(self, key: str, location: Path) -> None:
        """Remember where the export node ``key`` wrote its directory (``cache verify`` checks it)."""
        old = self.read_index("exports", key) or []
        locs = [str(Path(location).resolve())]
        locs += [p for p in old if isinstance(p, str) and p not in locs]
        if locs[:MAX_USES] == old:
            return
        with contextlib.suppress(OSError):
            self.write_index("exports", key, locs[:MAX_USES])

    def export_locations(self, key: str) -> list[Path]:
        data = self.read_index("exports", key)
        return [Path(p) for p in data if isinstance(p, str)] if isinstance(data, list) else []

    def open(self, key: str, *, verify: bool = True) -> Entry:
        """The verified entry of ``key``.

        Raises ``MissingEntryError`` if there is none and ``CorruptEntryError`` if its files do
        not match the manifest (the caller then recomputes, e.g. after ``rm(key)``).
        """
        path = self.entry_dir(key)
        if not path.is_dir():
            raise MissingEntryError(f"no cache entry for key {key} under {self.root}")
        manifest_path = path / MANIFEST
        stamp = (key, manifest_path.stat().st_mtime if manifest_path.exists() else -1.0)
        if verify and stamp not in self._verified:
            problems = self.verify(key, full=False)
            if problems:
                raise CorruptEntryError(key, path, problems)
            self._verified.add(stamp)
        manifest = self._read_manifest(key)
        if manifest is None:
            raise CorruptEntryError(key, path, [f"{MANIFEST} missing or unreadable"])
        return Entry(key=key, path=path, manifest=manifest)

    # -- locking -------------------------------------------------------------------------------
    @contextlib.contextmanager
    def lock(self, key: str, *, timeout: float | None = None,
             on_wait: Callable[[float], None] | None = None) -> Iterator[None]:
        """Hold the write lock of ``key`` (re-entrant within this Store).

        The lock is an ``flock`` on ``locks/<key>.lock``: the kernel drops it when its holder
        exits, however it exits (kill -9 included), so a lock is never stale and must never be
        removed by hand (a new file would let a second writer in beside a live one).
        Waits up to ``timeout`` seconds (default: the Store's ``lock_timeout``; ``math.inf``:
        until the holder finishes), calling ``on_wait(seconds waited)`` about every
        ``WAIT_REPORT`` seconds, then raises ``LockedError``.
        """
        check_key(key)
        if key in self._held:
            fd, depth = self._held[key]
            self._held[key] = (fd, depth + 1)
            try:
                yield
            finally:
                fd, depth = self._held[key]
                self._held[key] = (fd, depth - 1)
            return
        path = self._lock_path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o644)
        t0 = time.monotonic()
        limit = self.lock_timeout if timeout is None else timeout
        next_report = 0.0
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError as exc:
                    if exc.errno not in (errno.EAGAIN, errno.EACCES):
                        raise
                    waited = time.monotonic() - t0
                    if waited >= limit:
                        raise LockedError(
                            f"cache entry {key} is being written by another run (pid {_holder(path)}); "
                            "wait for that run to finish"
                        ) from None
                    if on_wait is not None and waited >= next_report:
                        on_wait(waited)
                        next_report = waited + WAIT_REPORT
                    time.sleep(0.1)
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._held[key] = (fd, 1)
        try:
            yield
        finally:
            fd, depth = self._held[key]
            if depth <= 1:
                del self._held[key]
                fcntl.flock(fd, fcntl.LOCK_UN)
                os.close(fd)
            else:
                self._held[key] = (fd, depth - 1)

    def is_locked(self, key: str) -> bool:
        """True if some process (this one included) holds the write lock of ``key``."""
        if key in self._held:
            return True
        path = self._lock_path(key)
        if not path.exists():
            return False
        fd = os.open(path, os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return True
        else:
            fcntl.flock(fd, fcntl.LOCK_UN)
            return False
        finally:
            os.close(fd)

    # -- writing -------------------------------------------------------------------------------
    @contextlib.contextmanager
    def write(self, key: str, meta: dict[str, Any] | None = None) -> Iterator[Path]:
        """Yield a fresh temporary directory; on success it becomes the entry of ``key``.

        ``meta`` may hold ``op`` and ``params`` (recorded at the top of the manifest) and any
        other JSON-serialisable fields (recorded under ``meta``). On an exception the
        temporary directory is removed and nothing changes; the partial dir is kept so the
        op can resume. On success the partial dir is removed. A previous entry of the same
        key (e.g. a corrupt one) is replaced.
        """
        meta = dict(meta or {})
        op = str(meta.pop("op", ""))
        params = meta.pop("params", {})
        with self.lock(key):
            tmp_root = self.base / "tmp"
            tmp_root.mkdir(parents=True, exist_ok=True)
            tmp = tmp_root / f"{key}.{os.getpid()}.{uuid.uuid4().hex[:8]}"
            tmp.mkdir()
            try:
                yield tmp
                self._commit(key, tmp, op=op, params=params, meta=meta)
            finally:
                if tmp.exists():
                    shutil.rmtree(tmp, ignore_errors=True)

    def _commit(self, key: str, tmp: Path, *, op: str, params: Any, meta: dict[str, Any]) -> None:
        if (tmp / MANIFEST).exists():
            raise StoreError(f"an op wrote its own {MANIFEST} into entry {key}; that name is reserved")
        files: dict[str, dict[str, Any]] = {}
        for file in sorted(tmp.rglob("*")):
            if file.is_symlink():
                raise StoreError(f"entry {key}: {file.name} is a symlink; entries hold plain files only")
            if file.is_file():
                with open(file, "rb") as f:
                    os.fsync(f.fileno())
                files[file.relative_to(tmp).as_posix()] = {"sha256": sha256_file(file), "size": file.stat().st_size}
        manifest = {
            "key": key,
            "scheme": SCHEME,
            "op": op,
            "params": params,
            "meta": meta,
            "created": time.time(),
            "status": STATUS_COMPLETE,
            "files": files,
        }
        write_json_atomic(tmp / MANIFEST, manifest)
        _fsync_dir(tmp)
        final = self.entry_dir(key)
        final.parent.mkdir(parents=True, exist_ok=True)
        trash = None
        if final.exists():
            trash = self.base / "tmp" / f"{key}.old.{uuid.uuid4().hex[:8]}"
            os.rename(final, trash)
        os.rename(tmp, final)
        _fsync_dir(final.parent)
        if trash is not None:
            shutil.rmtree(trash, ignore_errors=True)
        shutil.rmtree(self.base / "partial" / key, ignore_errors=True)

    # -- listing and cleaning ------------------------------------------------------------------
    def keys(self) -> list[str]:
        """Every key that has an entry directory (complete or not), sorted."""
        if not self.base.is_dir():
            return []
        out = []
        for shard in self.base.iterdir():
            if len(shard.name) == 2 and shard.is_dir():
                out.extend(p.name for p in shard.iterdir() if p.is_dir() and p.name[:2] == shard.name)
        return sorted(out)

    def partial_keys(self) -> list[str]:
        root = self.base / "partial"
        return sorted(p.name for p in root.iterdir() if p.is_dir()) if root.is_dir() else []

    def ls(self) -> list[EntryInfo]:
        """Every entry and every orphan partial dir, newest first; sizes from the manifest."""
        rows = []
        for key in self.keys():
            path = self.entry_dir(key)
            manifest = self._read_manifest(key)
            if manifest is not None and self.has(key):
                size = sum(int(i.get("size", 0)) for i in manifest["files"].values())
                rows.append(EntryInfo(key, manifest.get("op", ""), size, manifest.get("created"), "complete", path))
            else:
                op = manifest.get("op", "") if manifest else ""
                rows.append(EntryInfo(key, op, _dir_size(path), None, "incomplete", path))
        entry_keys = set(self.keys())
        for key in self.partial_keys():
            if key not in entry_keys:
                path = self.base / "partial" / key
                rows.append(EntryInfo(key, "", _dir_size(path), path.stat().st_mtime, "partial", path))
        rows.sort(key=lambda r: (-(r.created or 0.0), r.key))
        return rows

    def du(self) -> Usage:
        """Bytes used by complete entries, in-op checkpoints and temporary directories."""
        keys = self.keys()
        partial = self.partial_keys()
        tmp_root = self.base / "tmp"
        tmps = [p for p in tmp_root.iterdir()] if tmp_root.is_dir() else []
        return Usage(
            entries=sum(_dir_size(self.entry_dir(k)) for k in keys),
            n_entries=len(keys),
            partial=sum(_dir_size(self.base / "partial" / k) for k in partial),
            n_partial=len(partial),
            tmp=sum(_dir_size(p) if p.is_dir() else p.stat().st_size for p in tmps),
            n_tmp=len(tmps),
        )

    def _remove_key(self, key: str) -> bool:
        """Remove the entry and partial dir of ``key`` under its lock; False if it is locked."""
        try:
            with self.lock(key, timeout=0.0):
                removed = False
                for path in (self.entry_dir(key), self.base / "partial" / key):
                    if path.exists():
                        # rename first so a reader never sees a half-deleted entry
                        doomed = self.base / "tmp" / f"{key}.rm.{uuid.uuid4().hex[:8]}"
                        doomed.parent.mkdir(parents=True, exist_ok=True)
                        os.rename(path, doomed)
                        shutil.rmtree(doomed, ignore_errors=True)
                        removed = True
                self._verified = {s for s in self._verified if s[0] != key}
                for kind in ("uses", "stamps", "exports", "xstamps"):
                    self._index_path(kind, key).unlink(missing_ok=True)
                return removed
        except LockedError:
            return False

    def rm(self, key_or_prefix: str, *, dry_run: bool = False) -> list[str]:
        """Remove every entry (and partial dir) whose key starts with ``key_or_prefix``.

        Returns the keys removed. Keys locked by a running writer are skipped. The prefix
        must have at least 2 characters so a typo cannot empty the store.
        """
        if len(key_or_prefix) < 2 or not re.match(r"^[A-Za-z0-9_-]+$", key_or_prefix):
            raise StoreError(f"refusing to remove by prefix {key_or_prefix!r}: give at least 2 key characters")
        matches = sorted({k for k in self.keys() + self.partial_keys() if k.startswith(key_or_prefix)})
        if dry_run:
            return matches
        return [k for k in matches if self._remove_key(k)]

    def gc(self, keep_keys: Iterable[str] | None = None, *, dry_run: bool = False) -> list[str]:
        """Remove temporary dirs of dead writers, incomplete entries and, if ``keep_keys`` is
        given, every entry and partial dir whose key is not in it. Returns what was removed
        (keys, and ``tmp/<name>`` for temporary directories). Locked keys are never touched.
        """
        keep = None if keep_keys is None else set(keep_keys)
        removed: list[str] = []
        for key in sorted(set(self.keys()) | set(self.partial_keys())):
            complete = self.has(key)
            doomed = (keep is not None and key not in keep) or (
                not complete and self.entry_dir(key).exists()
            )
            if doomed and not self.is_locked(key):
                if dry_run or self._remove_key(key):
                    removed.append(key)
        tmp_root = self.base / "tmp"
        if tmp_root.is_dir():
            for tmp in sorted(tmp_root.iterdir()):
                key = tmp.name.split(".", 1)[0]
                if _KEY_RE.match(key) and self.is_locked(key):
                    continue  # a live writer's directory
                if not dry_run:
                    shutil.rmtree(tmp, ignore_errors=True) if tmp.is_dir() else tmp.unlink(missing_ok=True)
                removed.append(f"tmp/{tmp.name}")
        if not dry_run:  # index records of keys that no longer have an entry (not reported: bookkeeping)
            live = set(self.keys()) | set(self.partial_keys())
            for rec in (self.base / "index").glob("*/*.json"):
                if rec.stem not in live:
                    rec.unlink(missing_ok=True)
        return removed


class JsonlCheckpoint:
    """Per-item results of a long op, appended to a JSONL file as batches finish.

    Each line is ``{"index": i, ..., "_sum": ...}``: ``_sum`` is the sha256 of the node key
    and the record, so a record edited by hand, or copied from another node's partial dir,
    does not verify; it is rejected with a warning (through ``warn``) and recomputed. A crash
    can leave a truncated last line; it is ignored on load (and cut off before the next
    append), so a resumed op redoes only the items whose lines were not fully written::

        ckpt = JsonlCheckpoint(store.partial_dir(key) / "generations.jsonl", key=key, warn=print)
        done = ckpt.load()                  # {index: record}, only records that verify
        ckpt.append([{"index": 7, "text": "..."}])
    """

    SUM = "_sum"

    def __init__(self, path: str | os.PathLike[str], *, key: str = "", warn: Callable[[str], None] | None = None):
        self.path = Path(path)
        self.key = key
        self.warn = warn

    def _sum(self, rec: dict[str, Any]) -> str:
        body = json.dumps({k: v for k, v in rec.items() if k != self.SUM}, ensure_ascii=False, sort_keys=True,
                          separators=(",", ":"))
        return hashlib.sha256(f"{self.key}\n{body}".encode()).hexdigest()

    def load(self) -> dict[int, dict[str, Any]]:
        """Every fully written record that verifies, by index (a later record of an index wins)."""
        done: dict[int, dict[str, Any]] = {}
        self._good_end = 0
        if not self.path.exists():
            return done
        data = _read_bounded(self.path)
        pos = good_end = 0
        rejected = 0
        keep: list[bytes] = []
        while pos < len(data):
            nl = data.find(b"\n", pos)
            if nl < 0:
                break  # a torn last line without its newline
            line = data[pos:nl]
            if line.strip():
                try:
                    rec = json.loads(line)
                except ValueError:
                    break
                if not isinstance(rec, dict) or not isinstance(rec.get("index"), int):
                    break
                if rec.get(self.SUM) != self._sum(rec):
                    rejected += 1
                else:
                    rec.pop(self.SUM)
                    done[rec["index"]] = rec
                    keep.append(line)
            pos = good_end = nl + 1
        self._good_end = good_end
        if rejected:
            if self.warn is not None:
                self.warn(f"warning: {rejected} checkpoint record(s) in {self.path} do not verify"
                          f"{' against node ' + self.key[:12] if self.key else ''}; they are recomputed")
            # rewrite without them, atomically, so they are reported once and never used
            tmp = self.path.with_name(f".{self.path.name}.{uuid.uuid4().hex[:8]}.tmp")
            try:
                with open(tmp, "wb") as f:
                    f.write(b"".join(line + b"\n" for line in keep))
                    f.flush()
                    os.fsync(f.fileno())
                os.replace(tmp, self.path)
            finally:
                tmp.unlink(missing_ok=True)
            self._good_end = self.path.stat().st_size
        return done

    def append(self, records: Iterable[dict[str, Any]]) -> None:
        """Append records (each with an int ``index``) and fsync, as one batch."""
        lines = []
        for rec in records:
            if not isinstance(rec.get("index"), int):
                raise ValueError("every checkpoint record needs an int 'index'")
            rec = {k: v for k, v in rec.items() if k != self.SUM}
            rec[self.SUM] = self._sum(rec)
            lines.append(json.dumps(rec, ensure_ascii=False, sort_keys=True))
        if not lines:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.exists():
            if not hasattr(self, "_good_end"):
                self.load()
            size = self.path.stat().st_size
            if size > self._good_end:  # drop a torn last line before appending
                with open(self.path, "r+b") as f:
                    f.truncate(self._good_end)
        with open(self.path, "a", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
            f.flush()
            os.fsync(f.fileno())
        self._good_end = self.path.stat().st_size

    def clear(self) -> None:
        """Forget every record."""
        self.path.unlink(missing_ok=True)
        self._good_end = 0


def _read_bounded(path: Path, limit: int = 1 << 34) -> bytes:
    """A regular file's bytes (never a FIFO or device, never more than ``limit``)."""
    import stat as _stat

    with open(path, "rb", opener=lambda p, f: os.open(p, f | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))) as f:
        if not _stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            raise StoreError(f"{path} is not a regular file")
        return f.read(limit)
