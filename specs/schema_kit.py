"""Schema-building vocabulary shared by every API's spec generator (`specs/<api>/_generate.py`).

Small constructors that keep a compact declaration readable (`s`, `enum`, `arr`, `obj`, `sref`,
`ref`, `refs`, `quirk`), the `$ref` closure a self-contained spec needs (`collect_refs`,
`close_refs`) and the YAML writer every generated file goes through (`dump_yaml`), so all specs
come out in the same style: no anchors, block layout, keys in declaration order.
"""
from __future__ import annotations

import copy
import re
from typing import Any

import yaml

COMPONENTS = "#/components/schemas/"


def sref(name: str, base: str = COMPONENTS) -> dict[str, Any]:
    """A `$ref` to a named schema (an OpenAPI component unless `base` says otherwise)."""
    return {"$ref": f"{base}{name}"}


def s(kind: str = "string", nullable: bool = False, **kw: Any) -> dict[str, Any]:
    """A schema of one JSON type, or of that type or null."""
    return {"type": [kind, "null"] if nullable else kind, **kw}


def enum(*values: str, nullable: bool = False, **kw: Any) -> dict[str, Any]:
    vals: list[Any] = list(values) + ([None] if nullable else [])
    return {**s("string", nullable), "enum": vals, **kw}


def arr(items: dict[str, Any], nullable: bool = False, **kw: Any) -> dict[str, Any]:
    return {**s("array", nullable), "items": items, **kw}


def obj(props: dict[str, Any], required: list[str] | None = None, nullable: bool = False,
        **kw: Any) -> dict[str, Any]:
    """An object schema; open (`additionalProperties: true`) unless `kw` says otherwise."""
    out: dict[str, Any] = {**s("object", nullable), "properties": props}
    if required:
        out["required"] = required
    out.setdefault("additionalProperties", True)
    out.update(kw)
    return out


def ref(collection: str, required: bool = True, *, target: str = "GUIDRef",
        nullable_target: str = "NullableGUIDRef", **kw: Any) -> dict[str, Any]:
    """A reference property to a record of a store collection (`x-tb-ref`); optional
    references may be null on the wire."""
    return {**sref(target if required else nullable_target), "x-tb-ref": collection, **kw}


def refs(collection: str, *, target: str = "GUIDRef", **kw: Any) -> dict[str, Any]:
    """An array of references to records of a store collection."""
    return {"type": "array", "items": sref(target), "x-tb-ref": collection, **kw}


def quirk(schema: dict[str, Any], note: str) -> dict[str, Any]:
    """Mark where the wire differs from what the standard says (`x-tb-quirk`)."""
    return {**schema, "x-tb-quirk": note}


def path_params(path: str) -> list[dict[str, Any]]:
    """The OpenAPI path parameters (plain strings) a templated path names."""
    return [{"name": n, "in": "path", "required": True, "schema": {"type": "string"}}
            for n in re.findall(r"{([^}]+)}", path)]


def collect_refs(node: Any, found: set[tuple[str, str]]) -> None:
    """Add every `#/components/<kind>/<name>` a node refers to, as (kind, name)."""
    if isinstance(node, dict):
        r = node.get("$ref")
        if isinstance(r, str) and r.startswith("#/components/"):
            _, _, kind, name = r.split("/", 3)
            found.add((kind, name))
        for v in node.values():
            collect_refs(v, found)
    elif isinstance(node, list):
        for v in node:
            collect_refs(v, found)


def close_refs(library: dict[str, dict[str, Any]],
               wanted: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """Close a set of (kind, name) components over the `$ref`s of their definitions."""
    while True:
        more = set(wanted)
        for kind, name in wanted:
            collect_refs(library[kind][name], more)
        if more == wanted:
            return wanted
        wanted = more


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:  # never emit &anchors / *aliases
        return True


def dump_yaml(doc: Any) -> str:
    """The house YAML style of every generated spec."""
    return yaml.dump(doc, Dumper=_Dumper, sort_keys=False, width=100000, allow_unicode=True,
                     default_flow_style=None)


def finish_operation(out: dict[str, Any], *, path: str, ok: tuple[str, dict[str, Any]], errors: Any,
                     has_body: bool, error_refs: dict[str, tuple[str, str]], judged_by: str | None = None,
                     query_judge: str | None = None, binding: dict[str, Any] | None = None,
                     behaviour: str | None = None) -> dict[str, Any]:
    """What every generator writes alike at the end of an operation object: the success answer, the
    error answers it can give (404 on a path with a parameter, 413/415 with a body, each a $ref to
    `error_refs[status][0]`), then the machinery extensions (x-tb-body-validator,
    x-tb-query-validator, and x-tb-binding or x-tb-behaviour)."""
    responses: dict[str, Any] = {ok[0]: ok[1]}
    statuses = set(errors)
    if "{" in path:
        statuses.add("404")
    if has_body:
        statuses |= {"413", "415"}
    for status in sorted(statuses):
        responses[status] = {"$ref": f"#/components/responses/{error_refs[status][0]}"}
    out["responses"] = responses
    if judged_by:
        out["x-tb-body-validator"] = judged_by
    if query_judge:  # what OpenAPI cannot say of a query as a whole (specs/queries.py)
        out["x-tb-query-validator"] = query_judge
    if binding:
        out["x-tb-binding"] = binding
    else:
        out["x-tb-behaviour"] = behaviour
    return out


COMPONENT_KINDS = ("schemas", "parameters", "headers", "requestBodies", "responses", "securitySchemes")


def add_operation(paths: dict[str, dict[str, Any]], path: str, method: str, operation: dict[str, Any]) -> None:
    """Put `operation` under `paths[path][method]`, the path item opening with its path parameters."""
    item = paths.setdefault(path, {})
    if "parameters" not in item and path_params(path):
        item["parameters"] = path_params(path)
    item[method] = operation


def components_for(library: dict[str, dict[str, Any]], paths: dict[str, Any],
                   seeds: set[tuple[str, str]]) -> dict[str, Any]:
    """The `components` of a self-contained spec: the `seeds` (kind, name) pairs a spec always
    carries (error answers, security, collection schemas) and whatever its paths refer to, closed
    over the library's `$ref`s, each kind sorted by name."""
    wanted = set(seeds)
    collect_refs(paths, wanted)
    wanted = close_refs(library, wanted)
    components: dict[str, Any] = {}
    for kind in COMPONENT_KINDS:
        names = sorted(n for k, n in wanted if k == kind)
        if names:
            components[kind] = {n: copy.deepcopy(library[kind][n]) for n in names}
    return components
