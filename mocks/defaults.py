"""Make a written record read the way its read schema says: defaults in, forbidden nulls out.

A read schema may require a field that writes may leave out (Timeback's do: `userProfiles`,
`identifier`, demographics flags, ...). The spec says what an omitted field reads as with a
`default` on the property; this applies it, so a created record reads like a seeded one. A write
may also send null for an optional field whose read schema does not allow null (writes are more
lenient than Timeback's reads): without a default, the field is then left out.
"""
from __future__ import annotations

import copy
from typing import Any, Callable


def _allows_null(schema: dict[str, Any]) -> bool:
    kind = schema.get("type")
    return kind == "null" or (isinstance(kind, list) and "null" in kind) or "type" not in schema


def fill_defaults(record: dict[str, Any], schema: dict[str, Any], resolve: Callable[[Any], Any]) -> dict[str, Any]:
    """Set each top-level property that is absent (or null where the read schema forbids null)
    from its default; drop a forbidden null that has no default."""
    props = resolve(schema).get("properties") or {}
    for name, prop in props.items():
        prop = resolve(prop)
        if "default" in prop:
            if name not in record or (record[name] is None and not _allows_null(prop)):
                record[name] = copy.deepcopy(prop["default"])
        elif name in record and record[name] is None and not _allows_null(prop):
            del record[name]
    return record
