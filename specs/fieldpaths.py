"""Which dotted field paths of an entity schema can be filtered, sorted and projected.

The spec generator writes these into parameter patterns and enums, and the sandbox's query
compiler accepts exactly the same set, so both come from this one module.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable

SCALAR_TYPES = {"string", "integer", "number", "boolean"}
FILTER_OPERATORS = ("!=", ">=", "<=", "=", "~", ">", "<", "@")
MAX_DEPTH = 3


class IndexStats:
    """What the store keeping one field's index knows about its values: planner hints, never data.

    `common` holds the values that so many records hold that a page of them is found faster by
    testing records in order than by collecting every match through the index first. mocks/query.py
    picks its SQL by it: on array paths, collecting or probing; on expression indexes, whether to
    tell SQLite that an equality, `@` or range matches few records. The store refreshes it after
    each load (mocks/store.py); a stale or empty set only ever costs speed, never correctness.
    """

    __slots__ = ("common",)

    def __init__(self) -> None:
        self.common: frozenset[Any] = frozenset()

    def __repr__(self) -> str:
        return f"IndexStats(common={sorted(map(repr, self.common))})"


@dataclass(frozen=True)
class FieldPath:
    """A scalar leaf of an entity: `path` is dotted; `in_array` means any-element matching."""

    path: str
    type: str  # string | integer | number | boolean
    in_array: bool
    segments: tuple[tuple[str, bool], ...]  # (property name, is that property an array)
    # Set on the paths a collection declares `indexed` (x-tb-collections): the store keeps an index
    # for them and the query compiler emits the SQL that index answers (see mocks/query.py).
    indexed_in: str | None = None
    # The store's statistics for that index (one holder per compiled collection; not part of equality).
    stats: IndexStats | None = field(default=None, compare=False, repr=False)


Resolver = Callable[[dict[str, Any]], dict[str, Any]]


def _scalar_type(schema: dict[str, Any]) -> str | None:
    kind = schema.get("type")
    if isinstance(kind, list):
        kinds = [k for k in kind if k != "null"]
        kind = kinds[0] if len(kinds) == 1 else None
    if kind in SCALAR_TYPES:
        return kind
    if kind is None and "enum" in schema:
        return "string"
    return None


def field_paths(schema: dict[str, Any], resolve: Resolver) -> dict[str, FieldPath]:
    """Every scalar leaf reachable through declared properties (free-form objects are skipped)."""
    found: dict[str, FieldPath] = {}

    def walk(node: dict[str, Any], prefix: tuple[tuple[str, bool], ...], depth: int) -> None:
        node = resolve(node)
        for name, prop in (node.get("properties") or {}).items():
            prop = resolve(prop)
            is_array = prop.get("type") == "array" or (
                isinstance(prop.get("type"), list) and "array" in prop["type"]
            )
            target = resolve(prop.get("items", {})) if is_array else prop
            segs = prefix + ((name, is_array),)
            leaf = _scalar_type(target)
            if leaf:
                path = ".".join(s for s, _ in segs)
                found[path] = FieldPath(path, leaf, any(a for _, a in segs), segs)
            elif target.get("properties") and depth < MAX_DEPTH:
                walk(target, segs, depth + 1)

    walk(schema, (), 1)
    return found


def sortable_paths(paths: dict[str, FieldPath]) -> list[str]:
    """Scalar paths that cross no array: only those have one value to sort by."""
    return sorted(p for p, f in paths.items() if not f.in_array)


def top_level_fields(schema: dict[str, Any], resolve: Resolver) -> list[str]:
    """Names usable in `fields=` (sparse fieldsets select top-level properties)."""
    return sorted((resolve(schema).get("properties") or {}).keys())


def _alternation(names: list[str]) -> str:
    # Longest first so that `course.sourcedId` is not cut short by `course`.
    return "|".join(re.escape(n) for n in sorted(names, key=lambda n: (-len(n), n)))


VALUE_PATTERN = r"(?:'(?:[^']|'')*'|[A-Za-z0-9_.:+\-]+)"


def filter_pattern(paths: list[str]) -> str:
    """A regular expression for the filter grammar over these fields (one level of parentheses).

    The sandbox accepts every string this matches (and deeper nesting), so generated positive
    filters are always accepted.
    """
    ops = "|".join(re.escape(o) for o in FILTER_OPERATORS)
    pred = rf"(?:{_alternation(paths)})(?:{ops}){VALUE_PATTERN}"
    group = rf"\({pred}(?: (?:AND|OR) {pred})*\)"
    term = rf"(?:{pred}|{group})"
    return rf"^{term}(?: (?:AND|OR) {term})*$"


def fields_pattern(names: list[str]) -> str:
    """A regular expression for a comma-separated sparse fieldset."""
    alt = _alternation(names)
    return rf"^(?:{alt})(?:,(?:{alt}))*$"
