"""Paging, sort, fields and search faults: each wraps the generic `list` action."""
from __future__ import annotations

from typing import Any

from tbconform.mocks.actions import DEFAULT_LIMIT
from tbconform.mocks.context import RequestContext, Response
from tbconform.mocks.faults import fault
from tbconform.mocks.faults.rewrite import Action, edit_json, hiding, repage, with_query

fault("sort-ignored", "sort and orderBy are accepted but not applied", wraps="list")(hiding("sort", "orderBy"))
fault("search-ignored", "search= is accepted but not applied", wraps="list")(hiding("search"))


@fault("sort-reversed", "orderBy=asc sorts descending and desc ascending", wraps="list")
def _sort_reversed(call: Action) -> Action:
    def run(ctx: RequestContext) -> Response:
        if ctx.query.get("sort") is None and ctx.query.get("orderBy") is None:
            return call(ctx)
        flipped = "asc" if str(ctx.query.get("orderBy", "asc")).lower() == "desc" else "desc"
        return repage(ctx, call(with_query(ctx, orderBy=flipped)))
    return run


@fault("fields-ignored", "fields= is accepted but whole records are returned", wraps="list")
def _fields_ignored(call: Action) -> Action:
    def run(ctx: RequestContext) -> Response:
        checked = call(ctx)  # unknown field names are still refused
        if ctx.query.get("fields") is None or checked.status != 200:
            return checked
        return repage(ctx, call(with_query(ctx, fields=None)))
    return run


@fault("total-count-off-by-one", "X-Total-Count and totalCount report one record more than exist", wraps="list")
def _total_off_by_one(call: Action) -> Action:
    def run(ctx: RequestContext) -> Response:
        response = call(ctx)
        if response.status != 200:
            return response
        return repage(ctx, response, total=int(response.headers["X-Total-Count"]) + 1)
    return run


@fault("page-duplicate", "pages after the first start one record early (one record repeats across pages)",
       wraps="list")
def _page_duplicate(call: Action) -> Action:
    def run(ctx: RequestContext) -> Response:
        offset = int(ctx.query.get("offset", 0))
        if offset <= 0:
            return call(ctx)
        return repage(ctx, call(with_query(ctx, offset=offset - 1)), offset=offset)
    return run


@fault("limit-ignored", "pages hold the default 100 records whatever limit asks for", wraps="list")
def _limit_ignored(call: Action) -> Action:
    def run(ctx: RequestContext) -> Response:
        limit = int(ctx.query.get("limit", DEFAULT_LIMIT))
        return repage(ctx, call(with_query(ctx, limit=DEFAULT_LIMIT)), limit=limit)
    return run


def _body_fault(name: str, description: str, edit: Any) -> None:
    """A fault that edits the JSON body of every list answer."""
    @fault(name, description, wraps="list")
    def wrap(call: Action) -> Action:
        return lambda ctx: edit_json(call(ctx), edit)


_body_fault("page-fields-wrong", "pageNumber is zero-based",
            lambda body: body.update(pageNumber=int(body["pageNumber"]) - 1))
_body_fault("wrong-type", "totalCount is sent as a string", lambda body: body.update(totalCount=str(body["totalCount"])))


# Link faults come last, so they see the Link header the faults above may have rebuilt.
@fault("link-next-missing", "the Link header never carries rel=next", wraps="list")
def _link_next_missing(call: Action) -> Action:
    def run(ctx: RequestContext) -> Response:
        response = call(ctx)
        if "Link" in response.headers:
            parts = response.headers["Link"].split(", ")
            response.headers["Link"] = ", ".join(p for p in parts if 'rel="next"' not in p)
        return response
    return run


@fault("link-header-missing", "list answers carry no Link header at all", wraps="list")
def _link_header_missing(call: Action) -> Action:
    def run(ctx: RequestContext) -> Response:
        response = call(ctx)
        response.headers.pop("Link", None)
        return response
    return run
