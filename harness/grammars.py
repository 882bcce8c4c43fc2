"""Hypothesis strategies for the query languages the specs spell as regular expressions.

A list operation's `filter` and `fields` parameters carry a pattern built by `specs.fieldpaths`
from the collection's field paths.  Drawing from such a pattern is slow (hypothesis turns a
5 kB alternation into a tree of strategies for every operation, and most of the contract layer's
time went there), yet the grammar behind it is tiny: field, operator, value, joined by AND/OR,
with one level of parentheses.  So the harness draws from the grammar directly: it registers one
schemathesis string format per pattern and tags each schema carrying that pattern with it.  The
pattern stays in the schema, so every drawn value is still checked against it (schemathesis
filters format draws by the pattern), and negative generation still negates the pattern.

Only patterns the harness can rebuild from a collection's fields are tagged: a spec whose
pattern says something else keeps schemathesis' own regex-driven generation.
"""
from __future__ import annotations

import hashlib
from typing import Any, Iterable

from hypothesis import strategies as st

from tbconform.specs.collections import Collection
from tbconform.specs.fieldpaths import FILTER_OPERATORS, fields_pattern, filter_pattern

_BARE_VALUE_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.:+-"
_JOINERS = (" AND ", " OR ")
# Enough terms to exercise AND/OR and grouping; the pattern admits more, maxLength caps them.
_MAX_EXTRA_TERMS = 3


def _quoted_value() -> st.SearchStrategy[str]:
    """`'...'` with any characters inside, a quote written as `''`."""
    inner = st.lists(st.one_of(st.characters(codec="utf-8", exclude_characters="'\x00"), st.just("''")), max_size=12)
    return inner.map(lambda parts: "'" + "".join(parts) + "'")


def _bare_value() -> st.SearchStrategy[str]:
    return st.text(alphabet=_BARE_VALUE_CHARS, min_size=1, max_size=12)


def filter_strategy(paths: Iterable[str]) -> st.SearchStrategy[str]:
    """Filter expressions over `paths`: the language of `specs.fieldpaths.filter_pattern(paths)`."""
    names = sorted(paths)
    predicate = st.tuples(st.sampled_from(names), st.sampled_from(FILTER_OPERATORS),
                          st.one_of(_quoted_value(), _bare_value())).map("".join)

    def joined(term: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        rest = st.lists(st.tuples(st.sampled_from(_JOINERS), term).map("".join), max_size=_MAX_EXTRA_TERMS)
        return st.tuples(term, rest).map(lambda parts: parts[0] + "".join(parts[1]))

    group = joined(predicate).map(lambda inner: f"({inner})")
    return joined(st.one_of(predicate, group))


def fieldset_strategy(names: Iterable[str]) -> st.SearchStrategy[str]:
    """Comma-separated field names: the language of `specs.fieldpaths.fields_pattern(names)`."""
    return st.lists(st.sampled_from(sorted(names)), min_size=1, max_size=4).map(",".join)


def _format_name(kind: str, pattern: str) -> str:
    return f"tbconform-{kind}-{hashlib.sha1(pattern.encode()).hexdigest()[:12]}"


def grammar_formats(collections: Iterable[Collection]) -> dict[str, tuple[str, st.SearchStrategy[str]]]:
    """pattern -> (format name, strategy) for the filter and fieldset pattern of each collection."""
    out: dict[str, tuple[str, st.SearchStrategy[str]]] = {}
    for coll in collections:
        paths = list(coll.fields)
        if paths:
            pattern = filter_pattern(paths)
            out.setdefault(pattern, (_format_name("filter", pattern), filter_strategy(paths)))
        if coll.top_fields:
            pattern = fields_pattern(sorted(coll.top_fields))
            out.setdefault(pattern, (_format_name("fields", pattern), fieldset_strategy(coll.top_fields)))
    return out


def tag_patterns(raw: Any, formats: dict[str, tuple[str, Any]]) -> int:
    """Give every string schema in `raw` whose pattern is a known grammar that grammar's format.

    Edits `raw` in place (pass a copy) and returns how many schemas were tagged.  A schema that
    already names a format is left alone.
    """
    tagged = 0
    stack = [raw]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            pattern = node.get("pattern")
            if isinstance(pattern, str) and pattern in formats and "format" not in node:
                node["format"] = formats[pattern][0]
                tagged += 1
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return tagged
