"""Typed QTI values as plain Python, so that evaluating an expression is a few dict look-ups and
comparisons, not object construction:

* NULL is `None`; an empty container is NULL too (QTI treats them alike), so every constructor
  below returns `None` for no members;
* single values: `str` (identifier, string, uri, file), `bool`, `int`, `float` (also duration, in
  seconds), `tuple[int, int]` (point), `tuple[str, str]` (directedPair, kept in order; pair,
  kept sorted so that "A B" and "B A" are one value);
* containers: `Multiple` (a bag: order-free, duplicates count), `Ordered` (a sequence), both tuples,
  and `Record` (a dict field -> value).

The base type of a value is known where it is declared (a response or outcome declaration, a
`qti-base-value`), so values carry none; `to_json` gets it from the declaration.
"""
from __future__ import annotations

import math
import re
from collections import Counter
from typing import Any, Iterable

from tbconform.mocks.scoring.errors import ResponseMisfit
from tbconform.specs.qti.vocabulary import BASE_TYPES

NUMERIC = frozenset({"integer", "float", "duration"})
INT_MIN, INT_MAX = -2 ** 31, 2 ** 31 - 1
_INT = re.compile(r"[+-]?\d+")
_FLOAT = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_NAME_CHARS = re.compile(r"\S+")


class Multiple(tuple):
    """A multiple-cardinality container: compared as a bag."""

    __slots__ = ()


class Ordered(tuple):
    """An ordered-cardinality container: compared as a sequence."""

    __slots__ = ()


class Record(dict):
    """A record-cardinality value: field identifier -> single value."""


def container(kind: str, members: Iterable[Any]) -> Any:
    """A `Multiple` or `Ordered` of `members` (NULL members dropped), or NULL when none is left."""
    items = tuple(member for member in members if member is not None)
    if not items:
        return None
    return Ordered(items) if kind == "ordered" else Multiple(items)


def same(a: Any, b: Any) -> bool:
    """QTI `match` on two non-NULL values: bags compare order-free with duplicates, sequences and
    single values compare exactly (3 matches 3.0, as the numbers are equal)."""
    if isinstance(a, Multiple) or isinstance(b, Multiple):
        if not (isinstance(a, tuple) and isinstance(b, tuple)) or len(a) != len(b):
            return False
        return Counter(a) == Counter(b)
    return a == b


def parse_scalar(text: str, base_type: str) -> Any:
    """One value of `base_type` from its XML/wire text; `ValueError` saying why it is not one."""
    if base_type in ("string", "file", "uri"):
        return text
    value = text.strip()
    if base_type == "identifier":
        if not _NAME_CHARS.fullmatch(value):
            raise ValueError(f"{_show(text)} is not an identifier")
        return value
    if base_type == "float" or base_type == "duration":
        if not _FLOAT.fullmatch(value) or not math.isfinite(number := float(value)):
            raise ValueError(f"{_show(text)} is not a number")
        return number
    if base_type == "integer":
        return _integer(text, value)
    if base_type == "boolean":
        lowered = value.lower()
        if lowered in ("true", "1"):
            return True
        if lowered in ("false", "0"):
            return False
        raise ValueError(f"{_show(text)} is not a boolean (true or false)")
    if base_type == "intOrIdentifier":
        return int(value) if _INT.fullmatch(value) else parse_scalar(value, "identifier")
    parts = value.split()
    if len(parts) != 2:
        raise ValueError(f"{_show(text)} is not a {base_type} (two space-separated "
                         f"{'integers' if base_type == 'point' else 'identifiers'})")
    if base_type == "point":
        return (_integer(text, parts[0]), _integer(text, parts[1]))
    if base_type == "directedPair":
        return (parts[0], parts[1])
    if base_type == "pair":
        return tuple(sorted(parts))
    raise ValueError(f"unknown base type {base_type!r}")


def _integer(text: str, value: str) -> int:
    """QTI integers are 32-bit (xs:int); "3.0" from a slider or a numeric keypad is the integer 3."""
    if _INT.fullmatch(value) and len(value) <= 12:
        number = int(value)
    elif _FLOAT.fullmatch(value) and len(value) <= 32 and float(value).is_integer():
        number = int(float(value))
    else:
        raise ValueError(f"{_show(text)} is not an integer")
    if not INT_MIN <= number <= INT_MAX:
        raise ValueError(f"{_show(text)} is out of the integer range")
    return number


def _show(text: str) -> str:
    """`text` quoted for a message, cut to 40 characters."""
    return repr(text if len(text) <= 40 else text[:40] + "...")


def wire_value(identifier: str, cardinality: str, base_type: str, raw: Any, default: Any) -> Any:
    """The typed value of a response as `process-response` receives it (a string or a list of
    strings). Single: one string (a one-element list is accepted). Multiple/ordered: a list of
    strings, or one string as a one-element list; blank members are ignored. An empty response
    (None, "", [] or only blanks) is the declaration's default value (NULL when it has none).
    Identifiers and numbers are read trimmed; strings are kept as sent ("Paris " does not match
    "Paris": trimming or case-folding is the item's choice, through its mapping or string-match).
    Anything else raises `ResponseMisfit` naming the identifier, what was expected and what came."""
    expected = f"{cardinality} {base_type}"
    if raw is None or raw == "" or raw == []:
        return default
    if isinstance(raw, (list, tuple)):
        members = list(raw)
    else:
        members = [raw]
    if any(not isinstance(member, str) for member in members):
        kinds = sorted({type(member).__name__ for member in members if not isinstance(member, str)})
        raise ResponseMisfit(f"response {identifier!r} expects {_shape(cardinality, base_type)} "
                             f"({expected}), got a {' / '.join(kinds)}")
    members = [member for member in members if member.strip()]
    if not members:
        return default
    if cardinality == "record":
        raise ResponseMisfit(f"response {identifier!r} is declared with record cardinality, "
                             "which process-response does not accept")
    if base_type not in BASE_TYPES:
        raise ResponseMisfit(f"response {identifier!r} is declared with unknown base type "
                             f"{base_type!r}; no response fits it")
    if cardinality == "single" and len(members) > 1:
        raise ResponseMisfit(f"response {identifier!r} expects one value ({expected}), "
                             f"got {len(members)} values")
    try:
        values = [parse_scalar(member, base_type) for member in members]
    except ValueError as exc:
        raise ResponseMisfit(f"response {identifier!r} expects {expected}: {exc}") from None
    if cardinality == "single":
        return values[0]
    return container(cardinality, values)


def _shape(cardinality: str, base_type: str) -> str:
    return "a string" if cardinality == "single" else "a list of strings"


def to_json(value: Any, base_type: str | None) -> Any:
    """`value` as JSON: points and pairs as "x y" / "A B" strings, containers as lists, records
    as objects, NULL as None."""
    if isinstance(value, float) and not math.isfinite(value):
        return None  # an overflow is no JSON number
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, Record):
        return {key: to_json(member, None) for key, member in value.items()}
    if isinstance(value, (Multiple, Ordered)):
        return [to_json(member, base_type) for member in value]
    if isinstance(value, tuple):
        return f"{value[0]} {value[1]}"
    return str(value)


def to_wire(value: Any) -> str | list[str] | None:
    """`value` in the form process-response receives it (the inverse of `wire_value`): one string
    for a single value, a list of strings for a container, None for NULL."""
    if value is None:
        return None
    if isinstance(value, (Multiple, Ordered)):
        return [_wire_scalar(member) for member in value]
    return _wire_scalar(value)


def _wire_scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return f"{value[0]} {value[1]}"
    return repr(value) if isinstance(value, float) else str(value)


def numeric(value: Any) -> bool:
    """True for an int or float (bool excluded: QTI booleans are not numbers)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)
