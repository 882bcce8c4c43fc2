"""Match request paths to spec operations.

Routes live in a segment trie. Static segments beat parameters (`/courses/components` before
`/courses/{sourcedId}`), and a trailing slash is ignored, because the specs spell collection
roots without one and some clients call them with it.
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


def split_path(raw_path: bytes) -> list[str]:
    """Split on '/' before percent-decoding, so an encoded slash stays inside one segment."""
    text = raw_path.decode("latin-1")
    segments = [s for s in text.split("?", 1)[0].split("/") if s != ""]
    try:
        return [unquote(s, errors="strict") if "%" in s else s for s in segments]
    except UnicodeDecodeError:
        raise PathError("path is not valid percent-encoded UTF-8") from None


class Router:
    def __init__(self, operations: list[CompiledOperation]) -> None:
        self._root = _Node()
        for op in operations:
            node = self._root
            for segment in (s for s in op.op.path.strip("/").split("/") if s):
                if segment.startswith("{"):
                    node.param = node.param or _Node()
                    node = node.param
                else:
                    node = node.static.setdefault(segment, _Node())
            if op.op.method in node.methods:
                raise ValueError(f"duplicate route {op.op.method} {op.op.path}")
            node.methods[op.op.method] = op

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
        if op is None:  # the most specific path decides: wrong method is 405
            return Match(None, {}, sorted(node.methods))
        return Match(op, dict(zip(op.path_names, values)), [])
