"""Match request paths to spec operations.

Static segments beat parameters (`/courses/components` before `/courses/{sourcedId}`), and a
trailing slash is ignored, because the specs spell collection roots without one and some
clients call them with it.
"""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote

from mocks.model import CompiledOperation


class PathError(ValueError):
    """The raw path cannot be decoded (bad percent-encoding)."""


@dataclass
class Match:
    operation: CompiledOperation | None
    params: dict[str, str]
    allowed: list[str]


def split_path(raw_path: bytes) -> list[str]:
    """Split on '/' before percent-decoding, so an encoded slash stays inside one segment."""
    try:
        text = raw_path.decode("ascii")
    except UnicodeDecodeError:
        text = raw_path.decode("utf-8", "strict") if raw_path else "/"
    segments = [s for s in text.split("?", 1)[0].split("/") if s != ""]
    try:
        return [unquote(s, errors="strict") for s in segments]
    except UnicodeDecodeError:
        raise PathError("path is not valid percent-encoded UTF-8") from None


class Router:
    def __init__(self, operations: list[CompiledOperation]) -> None:
        self._table: dict[tuple[str | None, ...], dict[str, tuple[CompiledOperation, list[int]]]] = {}
        by_length: dict[int, list[tuple[str | None, ...]]] = {}
        for op in operations:
            template = tuple(s for s in op.op.path.strip("/").split("/") if s)
            shape = tuple(None if s.startswith("{") else s for s in template)
            slots = [i for i, s in enumerate(shape) if s is None]
            methods = self._table.setdefault(shape, {})
            if op.op.method in methods:
                raise ValueError(f"duplicate route {op.op.method} {op.op.path}")
            methods[op.op.method] = (op, slots)
            group = by_length.setdefault(len(shape), [])
            if shape not in group:
                group.append(shape)
        # Most specific first: compare segment by segment, a literal before a parameter.
        self._shapes = {
            n: sorted(shapes, key=lambda s: tuple(0 if p is not None else 1 for p in s))
            for n, shapes in by_length.items()
        }

    def match(self, method: str, segments: list[str]) -> Match | None:
        for shape in self._shapes.get(len(segments), ()):
            if all(p is None or p == seg for p, seg in zip(shape, segments)):
                methods = self._table[shape]
                entry = methods.get(method)
                if entry is None:  # the most specific path decides: wrong method is 405
                    return Match(None, {}, sorted(methods))
                op, slots = entry
                return Match(op, {op.path_names[i]: segments[slot] for i, slot in enumerate(slots)}, [])
        return None
