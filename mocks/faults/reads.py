"""Read faults: listed records lack a required field, GET disagrees with the listing or answers 200
for an unknown id, and the seeded world holds a reference that does not resolve."""
from __future__ import annotations

from typing import Any, Callable

from tbconform.mocks.actions import id_param, is_deleted, now_iso, require_parents, response_keys, singular
from tbconform.mocks.context import RequestContext, Response
from tbconform.mocks.errors import ApiError
from tbconform.mocks.faults import fault
from tbconform.mocks.faults.rewrite import Action, edit_json, listed

DANGLING_USER = "tbconform-fault-missing-user"


@fault("required-field-missing", "listed users lack the required field enabledUser", wraps="list")
def _required_field_missing(call: Action) -> Action:
    def strip(ctx: RequestContext, body: dict[str, Any]) -> None:
        for records in listed(ctx, body):
            for record in records:
                record.pop("enabledUser", None)

    def run(ctx: RequestContext) -> Response:
        response = call(ctx)
        if ctx.collection().name != "users":
            return response
        return edit_json(response, lambda body: strip(ctx, body))
    return run


@fault("get-differs", "GET by id answers a different dateLastModified than the listing", wraps="get")
def _get_differs(call: Action) -> Action:
    def age(body: dict[str, Any]) -> None:
        for record in body.values():
            if isinstance(record, dict):
                record["dateLastModified"] = "2000-01-01T00:00:00.000Z"
    return lambda ctx: edit_json(call(ctx), age)


@fault("not-found-200", "GET of an unknown id answers 200 with a stub record", wraps="get")
def _not_found_200(call: Action) -> Action:
    def run(ctx: RequestContext) -> Response:
        require_parents(ctx)  # a missing parent still answers 404
        try:
            return call(ctx)
        except ApiError as exc:
            record_id = id_param(ctx)
            stored = ctx.store.get(ctx.collection().name, record_id)
            if exc.status != 404 or (stored is not None and is_deleted(stored)):
                raise
        stub = {"sourcedId": record_id, "status": "active", "dateLastModified": now_iso()}
        return Response.json(200, {k: stub for k in response_keys(ctx, singular(ctx))})
    return run


@fault("dangling-reference", "the first enrollment references a user that does not exist", wraps="seeded")
def _dangling_reference(seeded: Callable[[Any], None]) -> Callable[[Any], None]:
    def run(sandbox: Any) -> None:
        seeded(sandbox)
        record = sandbox.store.first("enrollments")
        if record:
            record["user"] = {**(record.get("user") or {}), "sourcedId": DANGLING_USER,
                              "href": f"/ims/oneroster/rostering/v1p2/users/{DANGLING_USER}"}
            sandbox.store.replace("enrollments", record)
    return run
