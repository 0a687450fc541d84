"""The execution graph: typed nodes with content keys. The interpreter and ``plan`` walk it.

A node's key identifies what it computes: the same op, version, params and inputs
give the same key on any machine, so a cache entry can be reused safely.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from resp_dsl.diagnostics import Span
from resp_dsl.files import canonical_json, is_documentation, sha256_file

# ATTENTION: bump CACHE_SCHEME when Node.key() inputs change
CACHE_SCHEME = 1


@dataclass(frozen=True)
class Node:
    id: str  # readable and unique, e.g. "resp/prune@0.3"
    op: str
    version: int
    params: dict[str, Any]  # canonical, JSON-able
    inputs: dict[str, str]  # role -> parent node id
    span: Span | None = None
    arms: tuple[str, ...] = ()
    files: tuple[str, ...] = ()  # local files/directories whose checksums enter the key

    def to_dict(self) -> dict:
        return {"id": self.id, "op": self.op, "version": self.version, "params": self.params,
                "inputs": dict(self.inputs), "arms": list(self.arms), "files": list(self.files),
                "span": self.span.to_dict() if self.span else None}


# Files up to this size enter a directory's checksum by content; larger ones (the weights of a
# real model: hashing 16 GB at every `plan` would take minutes) by size and modification time.
CONTENT_HASH_MAX_BYTES = 256 << 20


def checksum_path(path: str) -> str:
    """A file's sha256; for a directory, its top-level files by name and content (files above
    CONTENT_HASH_MAX_BYTES by name, size and mtime), so a fresh clone of the same files gives
    the same keys. Documentation beside the files (``files.is_documentation``: a README, a
    model card, a licence) is left out: it cannot change what a node computes."""
    p = Path(path).expanduser()
    try:
        if p.is_file():
            return "sha256:" + sha256_file(p)
        if p.is_dir():
            entries = []
            for child in sorted(p.iterdir()):
                if child.is_file() and not is_documentation(child.name):
                    st = child.stat()
                    if st.st_size <= CONTENT_HASH_MAX_BYTES:
                        entries.append([child.name, sha256_file(child)])
                    else:
                        entries.append([child.name, st.st_size, st.st_mtime_ns])
            return "dir:" + hashlib.sha256(canonical_json(entries).encode()).hexdigest()
    except OSError:
        pass
    return "missing"


@dataclass
class Graph:
    nodes: dict[str, Node] = field(default_factory=dict)
    # the `use`d files (see syntax.imports.Loaded.imports); a local fragment's text enters every
    # key, so editing it can never reuse entries computed under its old content
    imports: list[dict] = field(default_factory=list)
    _keys: dict[str, str] = field(default_factory=dict, repr=False)
    _sums: dict[str, str] = field(default_factory=dict, repr=False)

    def add(self, node: Node) -> Node:
        if node.id in self.nodes:
            raise ValueError(f"duplicate node id {node.id!r}")
        for role, parent in node.inputs.items():
            if parent not in self.nodes:
                raise ValueError(f"{node.id}: input {role} -> unknown node {parent!r}")
        self.nodes[node.id] = node
        return node

    def topological_order(self) -> list[Node]:
        """Parents before children; ties in insertion order (deterministic). Iterative,
        so a schedule with thousands of milestones cannot exhaust the Python stack."""
        order: list[Node] = []
        state: dict[str, int] = {}  # 1 = on the stack, 2 = done
        for root in self.nodes:
            if state.get(root) == 2:
                continue
            stack = [(root, iter(self.nodes[root].inputs.values()))]
            state[root] = 1
            while stack:
                nid, parents = stack[-1]
                nxt = next(parents, None)
                if nxt is None:
                    stack.pop()
                    state[nid] = 2
                    order.append(self.nodes[nid])
                elif state.get(nxt) == 1:
                    raise ValueError(f"cycle through {nxt!r}")
                elif state.get(nxt) != 2:
                    state[nxt] = 1
                    stack.append((nxt, iter(self.nodes[nxt].inputs.values())))
        return order

    def children(self, node_id: str) -> list[Node]:
        return [n for n in self.nodes.values() if node_id in n.inputs.values()]

    def key(self, node_id: str) -> str:
        """sha256 over op, version, canonical params, parent keys (role order), input checksums, scheme."""
        if node_id in self._keys:
            return self._keys[node_id]
        if any(p not in self._keys for p in self.nodes[node_id].inputs.values()):
            for node in self.topological_order():  # parents first: no deep recursion
                if node.id == node_id:
                    break
                self.key(node.id)
        n = self.nodes[node_id]
        sums = []
        for f in n.files:
            if f not in self._sums:
                self._sums[f] = checksum_path(f)
            sums.append([os.path.basename(f.rstrip("/")), self._sums[f]])
        payload = [n.op, n.version, n.params, [[role, self.key(n.inputs[role])] for role in sorted(n.inputs)],
                   sums, CACHE_SCHEME]
        local = sorted(i["sha256"] for i in self.imports if not i.get("stdlib"))
        if local:  # absent for shipped fragments only: their recipes keep their keys
            payload.append(["use", local])
        key = hashlib.sha256(canonical_json(payload).encode()).hexdigest()
        self._keys[node_id] = key
        return key

    def to_dict(self) -> dict:
        return {"scheme": CACHE_SCHEME, "imports": self.imports, "nodes": [dict(n.to_dict(), key=self.key(n.id)) for n in self.topological_order()]}
