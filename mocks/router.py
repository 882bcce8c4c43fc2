"""Match request paths to spec operations.

Routes live in a segment trie. Static segments beat parameters (`/courses/components` before
`/courses/{sourcedId}`), and a trailing slash is ignored, because the specs spell collection
roots without one and some clients call them with it.

A spec may serve its paths under several prefixes (`x-tb-mounts: ["", "/api"]` on the spec root:
Timeback's QTI host has `/api`, single-host clients call the root); each operation is routed under
each mount. A route made only of parameters below its mount (QTI's `DELETE /{id}`) does not claim
every path of that shape: another method there is 404, not 405, so unknown paths stay unknown.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import unquote

from tbconform.mocks.model import CompiledOperation


class PathError(ValueError):
    """The raw path cannot be decoded (bad percent-encoding)."""


@dataclass
class Match:
    operation: CompiledOperation | None
    params: dict[str, str]
    allowed: list[str]


@dataclass
class _Node:
    static: dict[str, "_Node"] = field(default_factory=dict)
    param: "_Node | None" = None
    methods: dict[str, CompiledOperation] = field(default_factory=dict)
    catch_all: bool = False  # reached through parameters only (below the mount)


def split_path(raw_path: bytes) -> list[str]:
    """Split on '/' before percent-decoding, so an encoded slash stays inside one segment."""
    text = raw_path.decode("latin-1")
    segments = [s for s in text.split("?", 1)[0].split("/") if s != ""]
    try:
        return [unquote(s, errors="strict") if "%" in s else s for s in segments]
    except UnicodeDecodeError:
        raise PathError("path is not valid percent-encoded UTF-8") from None


def mounts(op: CompiledOperation) -> list[str]:
    """The prefixes the operation's spec is served under (`x-tb-mounts`; default: the root only)."""
    declared = op.op.doc.raw.get("x-tb-mounts")
    if declared is None:
        return [""]
    if not isinstance(declared, list) or not declared or not all(isinstance(m, str) for m in declared):
        raise ValueError(f"{op.op.doc.label}: x-tb-mounts must be a non-empty list of path prefixes, got {declared!r}")
    return ["/" + m.strip("/") if m.strip("/") else "" for m in declared]


class Router:
    def __init__(self, operations: list[CompiledOperation]) -> None:
        self._root = _Node()
        for op in operations:
            own = [s for s in op.op.path.strip("/").split("/") if s]
            for mount in mounts(op):
                self._add(op, [s for s in mount.split("/") if s], own)

    def _add(self, op: CompiledOperation, prefix: list[str], own: list[str]) -> None:
        node = self._root
        for segment in prefix + own:
            if segment.startswith("{"):
                node.param = node.param or _Node()
                node = node.param
            else:
                node = node.static.setdefault(segment, _Node())
        if op.op.method in node.methods:
            raise ValueError(f"duplicate route {op.op.method} {'/'.join(prefix + own)}")
        node.methods[op.op.method] = op
        node.catch_all = bool(own) and all(s.startswith("{") for s in own)

    def _find(self, node: _Node, segments: list[str], index: int, values: list[str]) -> _Node | None:
        if index == len(segments):
            return node if node.methods else None
        child = node.static.get(segments[index])
        if child is not None:
            found = self._find(child, segments, index + 1, values)
            if found is not None:
                return found
        if node.param is not None:
            values.append(segments[index])
            found = self._find(node.param, segments, index + 1, values)
            if found is not None:
                return found
            values.pop()
        return None

    def match(self, method: str, segments: list[str]) -> Match | None:
        values: list[str] = []
        node = self._find(self._root, segments, 0, values)
        if node is None:
            return None
        op = node.methods.get(method)
        if op is None and node.catch_all:
            return None
        if op is None:  # the most specific path decides: wrong method is 405
            return Match(None, {}, sorted(node.methods))
        return Match(op, dict(zip(op.path_names, values)), [])
