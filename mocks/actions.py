"""The generic operations every spec binding maps to: list, get, create, update, upsert, patch,
delete. Nothing here knows an API; collections, scopes and wrapper keys come from `x-tb-binding`.
"""
from __future__ import annotations

import math
import re
import uuid
from datetime import datetime, timezone
from typing import Any, Callable
from urllib.parse import urlencode

import orjson

from tbconform.mocks.context import RequestContext, Response
from tbconform.mocks.errors import ApiError
from tbconform.mocks.model import Collection, Segments
from tbconform.mocks.query import Compiler, Predicate, QueryError, parse_filter, sort_expression

_PLACEHOLDER = re.compile(r"\{([A-Za-z0-9_]+)\}")
DEFAULT_LIMIT = 100
MAX_OFFSET = 2**62  # any larger offset is past every collection; SQLite needs a 64-bit value


def now_iso() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def substitute(template: Any, params: dict[str, str], in_filter: bool = False) -> Any:
    """Fill `{pathParam}` placeholders; inside filter text, quotes in values are doubled."""
    if isinstance(template, str):
        def fill(match: re.Match[str]) -> str:
            value = params.get(match.group(1), match.group(0))
            return value.replace("'", "''") if in_filter else value
        return _PLACEHOLDER.sub(fill, template)
    if isinstance(template, dict):
        return {k: substitute(v, params, in_filter) for k, v in template.items()}
    if isinstance(template, list):
        return [substitute(v, params, in_filter) for v in template]
    return template


def pick(record: Any, path: str) -> list[Any]:
    """All values at a dotted path, flattening arrays on the way."""
    values = [record]
    for name in path.split("."):
        nxt: list[Any] = []
        for value in values:
            if isinstance(value, list):
                value_items = value
            else:
                value_items = [value]
            for item in value_items:
                if isinstance(item, dict) and name in item:
                    got = item[name]
                    nxt.extend(got if isinstance(got, list) else [got])
        values = nxt
    return [v for v in values if v is not None]


# ---------------------------------------------------------------------------------------------
# Views: scope filter + via chain + parent existence


DELETED_MARK = '"tobedeleted"'


def is_deleted(record: dict[str, Any]) -> bool:
    """Soft-deleted: still listed (so a sync sees the deletion) but gone from item endpoints."""
    return record.get("status") == "tobedeleted"


def require_parents(ctx: RequestContext) -> None:
    """Records named in a nested path must exist and not be deleted (a deleted class has no roster)."""
    for param, collection in (ctx.binding.get("requires") or {}).items():
        value = ctx.path_params.get(param)
        parent = ctx.store.get(collection, value) if value is not None else None
        if parent is None or is_deleted(parent):
            noun = collection[:-1] if collection.endswith("s") else collection
            raise ApiError(404, f"{noun} {value!r} not found" + (" (deleted)" if parent else ""))


def _where(ctx: RequestContext, coll: Collection, compiler: Compiler, text: str) -> str:
    try:
        return compiler.compile(parse_filter(substitute(text, ctx.path_params, in_filter=True)))
    except QueryError as exc:  # a scope in the spec is wrong: the spec author must fix it
        raise ApiError(500, f"spec binding filter for {coll.name} is invalid: {exc}") from None


def view_condition(ctx: RequestContext, coll: Collection, compiler: Compiler) -> list[str]:
    binding = ctx.binding
    parts: list[str] = []
    if binding.get("scope"):
        parts.append(_where(ctx, coll, compiler, binding["scope"]))
    steps = binding.get("via") or []
    if steps:
        # The chain becomes nested SQL subqueries inside the one page/count statement: each step's
        # ids are picked by SQLite through the indexes, never loaded into Python.
        picked: str | None = None
        for step in steps:
            step_coll = ctx.collection(step["collection"])
            step_compiler = Compiler(step_coll.fields)
            step_compiler.params = compiler.params  # one statement: placeholders number on
            conds = []
            if step.get("where"):
                conds.append(_where(ctx, step_coll, step_compiler, step["where"]))
            try:
                if step.get("match") and picked is not None:
                    conds.append(step_compiler.member_of(step["match"], picked))
                picked = step_compiler.picked(step_coll.name, step["pick"], " AND ".join(conds) or "1")
            except QueryError as exc:
                raise ApiError(500, f"spec binding via step on {step_coll.name} is invalid: {exc}") from None
        parts.append(compiler.member_of(binding.get("match", "sourcedId"), picked or "SELECT NULL WHERE 0"))
    return parts


def find_in_view(ctx: RequestContext, coll: Collection, record_id: str) -> dict[str, Any] | None:
    compiler = Compiler(coll.fields)
    parts = view_condition(ctx, coll, compiler)
    if not parts:
        return ctx.store.get(coll.name, record_id)
    compiler.params.append(record_id)
    parts.append(f"id = ?{len(compiler.params)}")
    rows = ctx.store.select(coll.name, " AND ".join(parts), compiler.params, limit=1)
    return orjson.loads(rows[0]) if rows else None


# ---------------------------------------------------------------------------------------------
# Reads


def _fields(ctx: RequestContext, coll: Collection) -> set[str] | None:
    raw = ctx.query.get("fields")
    if raw is None:
        return None
    wanted = {f.strip() for f in str(raw).split(",") if f.strip()}
    unknown = sorted(wanted - coll.top_fields)
    if unknown or not wanted:
        raise ApiError(400, f"unknown field(s) in fields: {', '.join(unknown) or '(empty)'}; known: {', '.join(sorted(coll.top_fields))}")
    return wanted | set(coll.required)


def project(record: dict[str, Any], keep: set[str] | None) -> dict[str, Any]:
    return record if keep is None else {k: v for k, v in record.items() if k in keep}


def response_keys(ctx: RequestContext, default: str) -> list[str]:
    keys = ctx.binding.get("responseKeys")
    return list(keys) if keys else [default]


def page_links(ctx: RequestContext, offset: int, limit: int, total: int) -> str:
    def url(new_offset: int) -> str:
        query = {k: v for k, v in ctx.query.items() if k not in ("offset", "limit")}
        query.update(limit=limit, offset=new_offset)
        return f"<{ctx.base_url}{ctx.path}?{urlencode(query)}>"

    last = max(0, (math.ceil(total / limit) - 1) * limit)
    links = []
    if offset + limit < total:
        links.append(f'{url(offset + limit)}; rel="next"')
    if offset > 0:
        links.append(f'{url(max(0, offset - limit))}; rel="prev"')
    links.append(f'{url(0)}; rel="first"')
    links.append(f'{url(last)}; rel="last"')
    return ", ".join(links)


def explain_list_parameter(coll: Collection, name: str, value: Any) -> None:
    """Turn a spec pattern/enum mismatch of filter, sort or fields into a message naming the problem."""
    try:
        if name == "filter":
            Compiler(coll.fields).compile(parse_filter(str(value)))
        elif name == "sort":
            sort_expression(str(value), coll.sortable)
    except QueryError as exc:
        raise ApiError(400, f"query parameter {name!r} is invalid: {exc}") from None
    if name == "fields":
        unknown = sorted({f.strip() for f in str(value).split(",")} - coll.top_fields)
        raise ApiError(400, f"query parameter 'fields' is invalid: unknown field(s) {', '.join(map(repr, unknown))}; "
                            f"known: {', '.join(sorted(coll.top_fields))}")


def action_list(ctx: RequestContext) -> Response:
    require_parents(ctx)
    coll = ctx.collection()
    compiler = Compiler(coll.fields)
    parts = view_condition(ctx, coll, compiler)
    try:
        if ctx.query.get("filter") is not None:
            # the client's filter goes through a replaceable compiler step (mocks/stages.py); it
            # shares the statement's parameter list, so its placeholders follow the scope's
            user = ctx.sandbox.stages.filter_compiler(coll.fields)
            user.params = compiler.params
            parts.append(user.compile(parse_filter(str(ctx.query["filter"]))))
        for param, path in (ctx.binding.get("params") or {}).items():
            value = ctx.query.get(param)
            if value is not None and str(value) != "":
                parts.append(compiler.compile(Predicate(path, "=", str(value))))
        pages = ctx.binding.get("paging") == "pages"
        search = ctx.query.get("query" if pages else "search")
        if search is not None and str(search).strip():
            if not coll.search:
                raise QueryError(f"{coll.name} does not support search")
            compiler.params.append(str(search).strip())
            mark = len(compiler.params)
            parts.append("(" + " OR ".join(f"tb_contains(json_extract(data, '$.{f}'), ?{mark})" for f in coll.search) + ")")
        order = "seq"
        direction = "DESC" if str(ctx.query.get("orderBy", "asc")).lower() == "desc" else "ASC"
        if pages:
            return _page_numbered(ctx, coll, " AND ".join(parts) or "1", compiler.params)
        if ctx.query.get("sort") is not None:
            order = f"{sort_expression(str(ctx.query['sort']), coll.sortable)} {direction}, seq {direction}"
        elif ctx.query.get("orderBy") is not None:
            order = f"seq {direction}"
    except QueryError as exc:
        raise ApiError(400, str(exc)) from None
    keep = _fields(ctx, coll)
    where = " AND ".join(parts) or "1"
    if ctx.binding.get("paging") == "none":  # an unpaged list: every match under the wrapper key(s)
        rows = ctx.store.select(coll.name, where, compiler.params, order)
        items = [project(orjson.loads(r), keep) for r in rows] if keep is not None else [orjson.loads(r) for r in rows]
        return Response.json(200, {k: items for k in response_keys(ctx, coll.name)})
    limit = int(ctx.query.get("limit", DEFAULT_LIMIT))
    offset = min(int(ctx.query.get("offset", 0)), MAX_OFFSET)
    total, rows = ctx.store.page(coll.name, where, compiler.params, order, limit, offset)
    if keep is None:
        items = "[" + ",".join(rows) + "]"
    else:
        items = orjson.dumps([project(orjson.loads(r), keep) for r in rows]).decode()
    keys = response_keys(ctx, coll.name)
    paging = orjson.dumps(paging_fields(offset, limit, total)).decode()
    body = "{" + ",".join(f'"{k}":{items}' for k in keys) + "," + paging[1:]
    return Response.raw_json(200, body, paging_headers(ctx, offset, limit, total))


PAGES_LIMIT = 10  # `paging: pages` default page size (Timeback's QTI lists)


def _page_numbered(ctx: RequestContext, coll: Collection, where: str, params: list[Any]) -> Response:
    """`paging: pages`: `page` (1-based) and `limit` in, `{items, total, page, pages, limit, sort,
    order}` out (Timeback's QTI lists). Unless asked otherwise: newest first (`order=desc`) by the
    collection's creation stamp, ties by store order."""
    default_sort = coll.stamps.get("created") or coll.key
    sort = str(ctx.query.get("sort") or default_sort)
    order = "asc" if str(ctx.query.get("order", "desc")).lower() == "asc" else "desc"
    direction = order.upper()
    try:
        expression = sort_expression(sort, coll.sortable)
    except QueryError as exc:
        raise ApiError(400, str(exc)) from None
    limit = int(ctx.query.get("limit", PAGES_LIMIT))
    page = int(ctx.query.get("page", 1))
    offset = min((page - 1) * limit, MAX_OFFSET)
    total, rows = ctx.store.page(coll.name, where, params, f"{expression} {direction}, seq {direction}", limit, offset)
    keys = response_keys(ctx, "items")
    items = "[" + ",".join(rows) + "]"
    tail = orjson.dumps({"total": total, "page": page, "pages": math.ceil(total / limit), "limit": limit,
                         "sort": sort, "order": order}).decode()
    return Response.raw_json(200, "{" + ",".join(f'"{k}":{items}' for k in keys) + "," + tail[1:])


def paging_fields(offset: int, limit: int, total: int) -> dict[str, int]:
    """The paging members of a list answer (public: a wrapper that re-pages an answer needs them)."""
    return {"totalCount": total, "pageCount": math.ceil(total / limit), "pageNumber": offset // limit + 1,
            "offset": offset, "limit": limit}


def paging_headers(ctx: RequestContext, offset: int, limit: int, total: int) -> dict[str, str]:
    return {"X-Total-Count": str(total), "Link": page_links(ctx, offset, limit, total)}


def id_param(ctx: RequestContext) -> str:
    name = ctx.binding.get("id", "sourcedId")
    try:
        return ctx.path_params[name]
    except KeyError:
        raise ApiError(500, f"binding names id parameter {name!r} that the path lacks") from None


def singular(ctx: RequestContext) -> str:
    return ctx.binding.get("bodyKey") or ctx.collection().name.rstrip("s")


def _not_found(coll: Collection, record_id: str) -> ApiError:
    return ApiError(404, f"{coll.name[:-1] if coll.name.endswith('s') else coll.name} {record_id!r} not found")


def action_get(ctx: RequestContext) -> Response:
    require_parents(ctx)
    coll = ctx.collection()
    record_id = id_param(ctx)
    keep = _fields(ctx, coll)
    if not ctx.binding.get("scope") and not ctx.binding.get("via") and keep is None:
        raw = ctx.store.get_raw(coll.name, record_id)  # hot path: splice stored JSON as is
        if raw is None or (DELETED_MARK in raw and is_deleted(orjson.loads(raw))):
            raise _not_found(coll, record_id)
        keys = response_keys(ctx, singular(ctx))
        if keys == [WHOLE_BODY]:  # `responseKeys: [$]`: the record itself, unwrapped
            return Response.raw_json(200, raw)
        return Response.raw_json(200, "{" + ",".join(f'"{k}":{raw}' for k in keys) + "}")
    record = find_in_view(ctx, coll, record_id)
    if record is None or is_deleted(record):
        raise _not_found(coll, record_id)
    record = project(record, keep)
    keys = response_keys(ctx, singular(ctx))
    return Response.json(200, record if keys == [WHOLE_BODY] else {k: record for k in keys})


# ---------------------------------------------------------------------------------------------
# Writes


def coerce_to_schema(value: Any, schema: dict[str, Any], resolve: Callable[[Any], Any]) -> Any:
    """Write the wire quirks the read schema promises: booleans and numbers stored as strings."""
    schema = resolve(schema)
    kind = schema.get("type")
    if isinstance(kind, list):
        concrete = [k for k in kind if k != "null"]
        kind = concrete[0] if len(concrete) == 1 else None
    if kind == "string" and value is not None:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (int, float)):
            return str(value)
        return value
    if kind == "object" or "properties" in schema:
        if isinstance(value, dict):
            props = schema.get("properties") or {}
            return {k: coerce_to_schema(v, props[k], resolve) if k in props else v for k, v in value.items()}
        return value
    if kind == "array" and isinstance(value, list):
        items = schema.get("items") or {}
        return [coerce_to_schema(v, items, resolve) for v in value]
    return value


def referenced_ids(record: dict[str, Any], segments: Segments) -> list[str]:
    values: list[Any] = [record]
    for name, is_array in segments:
        nxt: list[Any] = []
        for value in values:
            if isinstance(value, dict) and value.get(name) is not None:
                got = value[name]
                if is_array and isinstance(got, list):
                    nxt.extend(got)
                else:
                    nxt.append(got)
        values = nxt
    out = []
    for ref in values:
        if isinstance(ref, dict) and isinstance(ref.get("sourcedId"), str):
            out.append(ref["sourcedId"])
        elif isinstance(ref, str):
            out.append(ref)
    return out


def check_references(ctx: RequestContext, coll: Collection, record: dict[str, Any]) -> None:
    problems = []
    for segments, target in coll.refs:
        ids = referenced_ids(record, segments)
        own = [i for i in ids if target == coll.name and i == record.get(coll.key)]
        for missing in ctx.store.missing(target, [i for i in ids if i not in own]):
            field = ".".join(name for name, _ in segments)
            problems.append({"path": field, "message": f"{field} refers to {target} {missing!r}, which does not exist"})
    if problems:
        raise ApiError(422, "; ".join(p["message"] for p in problems), problems)


def _run_hooks(ctx: RequestContext, coll: Collection, record: dict[str, Any], old: dict[str, Any] | None) -> dict[str, Any]:
    for hook in ctx.sandbox.write_hooks.get(coll.name, []):
        record = hook(ctx, record, old) or record
    return record


def _kept_on_replace(coll: Collection, old: dict[str, Any]) -> dict[str, Any]:
    """What a replacing PUT (`replace: true`) keeps of the stored record: its key and creation stamp."""
    kept = [coll.key, coll.stamps.get("created")]
    return {k: old[k] for k in kept if k and k in old}


def _prepare(ctx: RequestContext, coll: Collection, item: Any, old: dict[str, Any] | None,
             record_id: str | None) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise ApiError(400, f"each {coll.name} entry must be a JSON object")
    binding = ctx.binding
    defaults = substitute(binding.get("defaults") or {}, ctx.path_params)
    now = now_iso()
    if old is None:
        merged: dict[str, Any] = {} if coll.hard_delete else {"status": "active"}
        merged.update(defaults)
        if coll.stamps.get("created"):
            merged[coll.stamps["created"]] = now
    else:
        merged = _kept_on_replace(coll, old) if binding.get("replace") else dict(old)
    merged.update(item)
    merged.update(binding.get("set") or {})
    supplied = merged.get(coll.key)
    if record_id is not None:
        merged[coll.key] = record_id
    elif not isinstance(supplied, str) or not supplied.strip():
        merged[coll.key] = str(uuid.uuid4())
    if old is not None:
        merged.update({k: v for k, v in defaults.items() if k not in item and (k not in merged or not binding.get("replace"))})
    if coll.stamps.get("modified"):
        merged[coll.stamps["modified"]] = now
    record = coerce_to_schema(merged, coll.schema, coll.resolve)
    record = _run_hooks(ctx, coll, record, old)
    ctx.sandbox.stages.references(ctx, coll, record)
    return record


WHOLE_BODY = "$"  # bodyKey for an unwrapped body: the request body is the record itself


def _payload(ctx: RequestContext) -> list[Any]:
    key = ctx.binding.get("bodyKey") or singular(ctx)
    if ctx.binding.get("set") and ctx.body is None:
        return [{}]  # a fixed change (activate, deactivate) needs no body
    if key == WHOLE_BODY and ctx.body is None and ctx.xml is not None:
        return [{}]  # an XML body: the collection's write hook builds the record from ctx.xml
    value = ctx.body if key == WHOLE_BODY else ctx.body_item(key)
    if ctx.binding.get("many"):
        if not isinstance(value, list) or not value:
            raise ApiError(400, f"{key!r} must be a non-empty array")
        return value
    return [value]


def _write_response(ctx: RequestContext, style: Any, records: list[tuple[str | None, dict[str, Any]]]) -> Response:
    status = ctx.operation.success_status
    if isinstance(style, dict):  # an answer template: `{message: "webhook {id} deleted"}`, `{data: null}`
        return Response.json(status, substitute(style, ctx.path_params))
    key = ctx.collection().key
    if style == "sourcedIdPairs":
        pairs = [{"suppliedSourcedId": supplied or rec[key], "allocatedSourcedId": rec[key]}
                 for supplied, rec in records]
        return Response.json(status, {"sourcedIdPairs": pairs if ctx.binding.get("many") else pairs[0]})
    if status == 204 or style == "none":
        return Response.empty(status)
    record = records[0][1]
    if style == "entity":
        return Response.json(status, record)
    if style == "empty":
        return Response.json(status, {})
    keys = ctx.binding.get("responseKeys") or [singular(ctx)]
    return Response.json(status, {k: record for k in keys})


def action_create(ctx: RequestContext) -> Response:
    require_parents(ctx)
    coll = ctx.collection()
    created: list[tuple[str | None, dict[str, Any]]] = []
    with ctx.store.transaction():
        for item in _payload(ctx):
            supplied = item.get(coll.key) if isinstance(item, dict) else None
            record = _prepare(ctx, coll, item, None, None)
            if ctx.store.exists(coll.name, record[coll.key]):
                raise ApiError(409, f"{coll.name} {record[coll.key]!r} already exists; use PUT to change it")
            ctx.store.insert(coll.name, record)
            created.append((supplied if isinstance(supplied, str) else None, record))
    return _write_response(ctx, ctx.binding.get("respond", "sourcedIdPairs"), created)


def _update(ctx: RequestContext, create_missing: bool, deep: bool) -> Response:
    require_parents(ctx)
    coll = ctx.collection()
    record_id = id_param(ctx)
    with ctx.store.transaction():
        old = find_in_view(ctx, coll, record_id)
        stored = old if old is not None else ctx.store.get(coll.name, record_id)
        if old is not None and is_deleted(old):
            old = None  # a deleted record cannot be updated; an upsert re-creates it
        if old is None and (not create_missing or (stored is not None and not is_deleted(stored))):
            raise _not_found(coll, record_id)
        item = _payload(ctx)[0]
        if deep and old is not None and isinstance(item, dict):
            item = deep_merge(old, item)
        record = _prepare(ctx, coll, item, old, record_id)
        if stored is None:
            ctx.store.insert(coll.name, record)
        else:
            ctx.store.replace(coll.name, record)
    return _write_response(ctx, ctx.binding.get("respond", "wrapped"), [(record_id, record)])


def deep_merge(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in patch.items():
        out[key] = deep_merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def action_update(ctx: RequestContext) -> Response:
    return _update(ctx, create_missing=False, deep=False)


def action_upsert(ctx: RequestContext) -> Response:
    return _update(ctx, create_missing=True, deep=False)


def action_patch(ctx: RequestContext) -> Response:
    return _update(ctx, create_missing=False, deep=True)


def action_delete(ctx: RequestContext) -> Response:
    require_parents(ctx)
    coll = ctx.collection()
    record_id = id_param(ctx)
    with ctx.store.transaction():
        record = find_in_view(ctx, coll, record_id)
        if record is None or is_deleted(record):
            raise _not_found(coll, record_id)
        if coll.hard_delete:
            remove_with_dependents(ctx, coll, record_id)
        else:
            record["status"] = "tobedeleted"
            if coll.stamps.get("modified"):
                record[coll.stamps["modified"]] = now_iso()
            ctx.store.replace(coll.name, record)
    respond = ctx.binding.get("respond")
    if isinstance(respond, dict):
        return _write_response(ctx, respond, [])
    return Response.empty(ctx.operation.success_status if ctx.operation.success_status != 200 else 204)


def remove_with_dependents(ctx: RequestContext, coll: Collection, record_id: str) -> None:
    """Hard delete: the record goes, and so does every record of a hard-deleting collection whose
    reference (`x-tb-ref`) points at it (a webhook's filters), so nothing is left dangling."""
    for other in ctx.sandbox.collections.values():
        if not other.hard_delete:
            continue
        for segments, target in other.refs:
            if target != coll.name or any(is_array for _, is_array in segments):
                continue
            path = ".".join(name for name, _ in segments)
            field = path if path in other.fields else f"{path}.sourcedId"
            compiler = Compiler(other.fields)
            where = compiler.compile(Predicate(field, "=", record_id))
            for raw in ctx.store.select(other.name, where, compiler.params):
                dependent = ctx.store.key_of(other.name, orjson.loads(raw))
                if (other.name, dependent) != (coll.name, record_id):
                    remove_with_dependents(ctx, other, dependent)
    ctx.store.delete(coll.name, record_id)


ACTIONS: dict[str, Callable[[RequestContext], Response]] = {
    "list": action_list,
    "get": action_get,
    "create": action_create,
    "update": action_update,
    "upsert": action_upsert,
    "patch": action_patch,
    "delete": action_delete,
}
