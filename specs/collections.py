"""Store collections declared by the specs (`x-tb-collections`): entity schema, the fields a
filter, sort or sparse fieldset may name, and where the references to other collections are.

Shared by the sandbox (to answer queries) and the harness (to check answers).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Callable

from tbconform.specs.fieldpaths import FieldPath, IndexStats, field_paths, sortable_paths, top_level_fields
from tbconform.specs.loader import SpecDocument, SpecError

Segments = tuple[tuple[str, bool], ...]
DEFAULT_STAMPS = {"modified": "dateLastModified"}  # OneRoster's; Timeback's webhooks use created_at/updated_at


@dataclass
class Collection:
    name: str
    doc: SpecDocument
    schema: dict[str, Any]
    fields: dict[str, FieldPath]
    sortable: set[str]
    top_fields: set[str]
    required: list[str]
    search: list[str]
    refs: list[tuple[Segments, str]]
    indexed: list[str] = field(default_factory=list)  # paths the store keeps an index for
    key: str = "sourcedId"  # the record field that identifies it (the store's key)
    hard_delete: bool = False  # DELETE removes the record (and dependents) instead of marking it
    stamps: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_STAMPS))  # created/modified fields

    def resolve(self, node: Any) -> Any:
        return self.doc.resolve(node)


def _references(schema: dict[str, Any], resolve: Callable[[Any], Any]) -> list[tuple[Segments, str]]:
    found: list[tuple[Segments, str]] = []

    def walk(node: dict[str, Any], prefix: Segments, depth: int) -> None:
        node = resolve(node)
        for name, prop in (node.get("properties") or {}).items():
            target = prop.get("x-tb-ref") if isinstance(prop, dict) else None
            prop = resolve(prop)
            target = target or prop.get("x-tb-ref")
            kind = prop.get("type")
            is_array = kind == "array" or (isinstance(kind, list) and "array" in kind)
            item = resolve(prop.get("items", {})) if is_array else prop
            target = target or (item.get("x-tb-ref") if is_array else None)
            segs = prefix + ((name, is_array),)
            if target:
                found.append((segs, target))
            elif item.get("properties") and depth < 3:
                walk(item, segs, depth + 1)

    walk(schema, (), 1)
    return found


def _indexed(doc: SpecDocument, name: str, spec: dict[str, Any], paths: dict[str, FieldPath]) -> list[str]:
    """Check an `indexed:` declaration and mark its paths (`FieldPath.indexed_in`) in place.

    A name that is not a filterable field of the entity is refused here, at spec load, rather than
    silently indexing nothing.
    """
    declared = spec.get("indexed", [])
    where = f"{doc.label}: x-tb-collections.{name}.indexed"
    if not isinstance(declared, list) or not all(isinstance(f, str) for f in declared):
        raise SpecError(f"{where} must be a list of field paths, got {declared!r}")
    for path in declared:
        if path not in paths:
            raise SpecError(f"{where} names {path!r}, which is not a field of {spec['schema']}; "
                            f"fields: {', '.join(sorted(paths))}")
        paths[path] = replace(paths[path], indexed_in=name, stats=IndexStats())
    return list(dict.fromkeys(declared))


def _record_options(doc: SpecDocument, name: str, spec: dict[str, Any], paths: dict[str, FieldPath]) -> dict[str, Any]:
    """`key`, `delete` and `stamps` of a collection declaration, checked at spec load."""
    where = f"{doc.label}: x-tb-collections.{name}"
    key = spec.get("key", "sourcedId")
    if "key" in spec and (not isinstance(key, str) or key not in paths):
        raise SpecError(f"{where}.key must name a field of {spec['schema']}, got {key!r}")
    delete = spec.get("delete", "soft")
    if delete not in ("soft", "hard"):
        raise SpecError(f"{where}.delete must be 'soft' or 'hard', got {delete!r}")
    stamps = spec.get("stamps", DEFAULT_STAMPS)
    if "stamps" in spec and (not isinstance(stamps, dict) or not set(stamps) <= {"created", "modified"}
            or not all(isinstance(v, str) and v in paths for v in stamps.values())):
        raise SpecError(f"{where}.stamps must map created/modified to fields of {spec['schema']}, got {stamps!r}")
    return {"key": key, "hard_delete": delete == "hard", "stamps": dict(stamps)}


def compile_collections(docs: list[SpecDocument]) -> dict[str, Collection]:
    out: dict[str, Collection] = {}
    for doc in docs:
        for name, spec in (doc.raw.get("x-tb-collections") or {}).items():
            if name in out:
                raise SpecError(f"{doc.label}: collection {name!r} is already declared by {out[name].doc.label}")
            schema = doc.pointer(f"#/components/schemas/{spec['schema']}")
            paths = field_paths(schema, doc.resolve)
            indexed = _indexed(doc, name, spec, paths)
            out[name] = Collection(
                name=name,
                doc=doc,
                schema=schema,
                fields=paths,
                sortable=set(sortable_paths(paths)),
                top_fields=set(top_level_fields(schema, doc.resolve)),
                required=list(doc.resolve(schema).get("required", [])),
                search=list(spec.get("search", [])),
                refs=_references(schema, doc.resolve),
                indexed=indexed,
                **_record_options(doc, name, spec, paths),
            )
    for coll in out.values():
        for _, target in coll.refs:
            if target not in out:
                raise SpecError(f"{coll.doc.label}: {coll.name} references unknown collection {target!r}")
    return out
