"""Write faults: deletions that vanish or repeat, unchecked references, updates that keep the old record."""
from __future__ import annotations

from typing import Any, Callable

from tbconform.mocks.actions import id_param, is_deleted
from tbconform.mocks.context import RequestContext, Response
from tbconform.mocks.errors import ApiError
from tbconform.mocks.faults import fault
from tbconform.mocks.faults.rewrite import Action


@fault("hard-delete", "DELETE removes the record (it vanishes from listings instead of showing tobedeleted)",
       wraps="delete")
def _hard_delete(call: Action) -> Action:
    def run(ctx: RequestContext) -> Response:
        with ctx.store.transaction():
            response = call(ctx)
            ctx.store.delete(ctx.collection().name, id_param(ctx))
        return response
    return run


@fault("delete-repeat-accepted", "DELETE of an already deleted record answers 204 again", wraps="delete")
def _delete_repeat(call: Action) -> Action:
    def run(ctx: RequestContext) -> Response:
        try:
            return call(ctx)
        except ApiError as exc:
            stored = ctx.store.get(ctx.collection().name, id_param(ctx))
            if exc.status != 404 or stored is None or not is_deleted(stored):
                raise
        status = ctx.operation.success_status
        return Response.empty(status if status != 200 else 204)
    return run


@fault("references-not-checked", "writes whose references do not resolve are accepted", wraps="references")
def _references_not_checked(check: Callable[..., None]) -> Callable[..., None]:
    return lambda ctx, coll, record: None


@fault("update-ignored", "PUT answers success but keeps the old record", wraps=("update", "upsert", "patch"))
def _update_ignored(call: Action) -> Action:
    def run(ctx: RequestContext) -> Response:
        name = ctx.collection().name
        with ctx.store.transaction():
            old: dict[str, Any] | None = ctx.store.get(name, id_param(ctx))
            response = call(ctx)
            if old is not None and not is_deleted(old) and response.status < 300:
                ctx.store.replace(name, old)
        return response
    return run
