"""Small tools the fault wrappers share: change a request's query, edit or re-page a list answer."""
from __future__ import annotations

import dataclasses
from typing import Any, Callable

import orjson

from tbconform.mocks.actions import paging_fields, paging_headers, response_keys
from tbconform.mocks.context import RequestContext, Response

Action = Callable[[RequestContext], Response]


def with_query(ctx: RequestContext, **changes: Any) -> RequestContext:
    """A copy of `ctx` whose query has `changes` applied (None removes a parameter)."""
    query = dict(ctx.query)
    for name, value in changes.items():
        if value is None:
            query.pop(name, None)
        else:
            query[name] = value
    return dataclasses.replace(ctx, query=query)


def edit_json(response: Response, edit: Callable[[dict[str, Any]], None]) -> Response:
    """Apply `edit` to the JSON body of a successful answer (error answers pass unchanged)."""
    if response.status != 200 or not response.body:
        return response
    body = orjson.loads(response.body)
    edit(body)
    return Response(response.status, orjson.dumps(body), dict(response.headers), response.content_type)


def listed(ctx: RequestContext, body: dict[str, Any]) -> list[list[dict[str, Any]]]:
    """The record arrays of a list answer (one per response key; they may be the same list)."""
    return [body[k] for k in response_keys(ctx, ctx.collection().name) if isinstance(body.get(k), list)]


def repage(ctx: RequestContext, response: Response, **override: int) -> Response:
    """Recompute the paging members, X-Total-Count and Link of a list answer for `ctx`'s own query,
    with `offset`, `limit` or `total` replaced, so a wrapper that asked the store for another page
    still answers as if it had served the page the client asked for."""
    if response.status != 200:
        return response
    body = orjson.loads(response.body)
    offset = override.get("offset", int(body["offset"]))
    limit = override.get("limit", int(body["limit"]))
    total = override.get("total", int(body["totalCount"]))
    body.update(paging_fields(offset, limit, total))
    headers = {**response.headers, **paging_headers(ctx, offset, limit, total)}
    return Response(200, orjson.dumps(body), headers, response.content_type)


def hiding(*names: str) -> Callable[[Action], Action]:
    """A list wrapper that serves the answer as if the query lacked `names` (links keep them)."""
    def wrap(call: Action) -> Action:
        def run(ctx: RequestContext) -> Response:
            return repage(ctx, call(with_query(ctx, **{n: None for n in names})))
        return run
    return wrap
