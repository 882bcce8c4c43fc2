"""Caliper and webhook faults: broken receivers the `caliper.*` harness rules must each notice.

They wrap the Caliper plug-in's behaviours (`behaviour:<name>` steps, `mocks/behaviours/caliper.py`),
the generic actions of the webhook bindings and, for webhook delivery, the plan a send hands `sandbox.deliveries` (through a view of the
sandbox whose `deliveries` transforms each planned delivery).
"""
from __future__ import annotations

import copy
import dataclasses
import itertools
from typing import Any, Callable, Iterable

import orjson

from tbconform.mocks.behaviours import caliper as B
from tbconform.mocks.context import RequestContext, Response
from tbconform.mocks.errors import ApiError
from tbconform.mocks.faults import fault
from tbconform.mocks.faults.rewrite import Action, edit_json, with_query

SEND, VALIDATE, LIST, GET = ("behaviour:caliper.send", "behaviour:caliper.validate", "behaviour:caliper.list",
                             "behaviour:caliper.get")
LAX_RULE = "caliper.event.action-allowed"


# ----------------------------------------------------------------------------------------------
# Ingestion and reading


@fault("caliper-accepts-invalid-action",
       "send and validate accept an event whose action its type does not allow", wraps=(SEND, VALIDATE))
def _accepts_invalid_action(call: Action) -> Action:
    def run(ctx: RequestContext) -> Response:
        try:
            return call(ctx)
        except ApiError as exc:
            details = exc.details or []
            if exc.status != 400 or not details or any(d.get("rule") != LAX_RULE for d in details):
                raise
        if ctx.operation.behaviour == "caliper.validate":
            return B._answer(200, {"status": "success", "message": "valid", "errors": []})
        job, fresh = B.store_envelope(ctx, ctx.body)
        B.schedule_deliveries(ctx, ctx.body, fresh)
        return B._answer(ctx.operation.success_status, {"status": "success", "message": "accepted",
                                                       "jobId": job["id"]})
    return run


@fault("caliper-refuses-time-spent", "send refuses every valid TimeSpentEvent with 400", wraps=SEND)
def _refuses_time_spent(call: Action) -> Action:
    def run(ctx: RequestContext) -> Response:
        data = ctx.body.get("data") if isinstance(ctx.body, dict) else None
        for index, item in enumerate(data if isinstance(data, list) else []):
            if isinstance(item, dict) and item.get("type") == "TimeSpentEvent":
                raise ApiError(400, "TimeSpentEvent is not supported",
                               [{"path": f"$.data[{index}].type", "rule": "caliper.event.type-known",
                                 "message": "not supported"}])
        return call(ctx)
    return run


@fault("caliper-bad-json-500", "a Caliper request whose body is malformed JSON answers 500", wraps="render")
def _bad_json_500(render: Callable[[str, ApiError], dict[str, Any]]) -> Callable[[str, ApiError], dict[str, Any]]:
    def run(style: str, error: ApiError) -> dict[str, Any]:
        if style == "caliper" and error.status == 400 and "not valid JSON" in error.description:
            raise RuntimeError("fault caliper-bad-json-500: the JSON error escapes as a crash")
        return render(style, error)
    return run


def _judged(ctx: RequestContext) -> None:
    B.judge(ctx.body)  # the verdict stays the healthy one: only what is stored changes


@fault("caliper-drops-event", "a valid envelope of several events is acknowledged whole, but its last event "
       "is not stored", wraps=SEND)
def _drops_event(call: Action) -> Action:
    def run(ctx: RequestContext) -> Response:
        _judged(ctx)
        events = [i for i in ctx.body["data"] if B._is_event(i)]
        if len(events) < 2:
            return call(ctx)
        last = events[-1]
        body = {**ctx.body, "data": [i for i in ctx.body["data"] if i is not last]}
        return call(dataclasses.replace(ctx, body=body))
    return run


@fault("caliper-stores-altered", "stored events lose their extensions (deliveries are sent as received)",
       wraps=SEND)
def _stores_altered(call: Action) -> Action:
    def run(ctx: RequestContext) -> Response:
        response = call(ctx)
        with ctx.store.transaction():
            for item in ctx.body["data"]:
                record = ctx.store.get(B.EVENTS, item.get("id")) if B._is_event(item) else None
                if record is not None and record.get("extensions"):
                    ctx.store.replace(B.EVENTS, {**record, "extensions": {}})
        return response
    return run


@fault("caliper-actor-filter-ignored", "GET /caliper/events ignores actorId", wraps=LIST)
def _actor_filter_ignored(call: Action) -> Action:
    return lambda ctx: call(with_query(ctx, actorId=None))


@fault("caliper-email-filter-ignored", "GET /caliper/events ignores actorEmail", wraps=LIST)
def _email_filter_ignored(call: Action) -> Action:
    return lambda ctx: call(with_query(ctx, actorEmail=None))


@fault("caliper-date-filter-ignored", "GET /caliper/events ignores startDate and endDate", wraps=LIST)
def _date_filter_ignored(call: Action) -> Action:
    return lambda ctx: call(with_query(ctx, startDate=None, endDate=None))


@fault("caliper-paging-total-wrong", "GET /caliper/events reports a pagination total one too high", wraps=LIST)
def _paging_total_wrong(call: Action) -> Action:
    def bump(body: dict[str, Any]) -> None:
        paging = body.get("pagination")
        if isinstance(paging, dict) and isinstance(paging.get("total"), int):
            paging["total"] += 1
    return lambda ctx: edit_json(call(ctx), bump)


@fault("caliper-get-404", "GET /caliper/events/{externalId} answers 404 for stored events", wraps=GET)
def _get_404(call: Action) -> Action:
    def run(ctx: RequestContext) -> Response:
        raise ApiError(404, f"event {ctx.path_params.get('externalId')!r} not found")
    return run


@fault("caliper-validate-disagrees", "POST /caliper/event/validate calls every envelope object valid",
       wraps=VALIDATE)
def _validate_disagrees(call: Action) -> Action:
    def run(ctx: RequestContext) -> Response:
        if not isinstance(ctx.body, dict):
            return call(ctx)
        return B._answer(200, {"status": "success", "message": "valid", "errors": []})
    return run


@fault("caliper-job-pending", "GET /jobs/{jobId}/status reports every job as still active", wraps="get")
def _job_pending(call: Action) -> Action:
    def pending(body: dict[str, Any]) -> None:
        job = body.get("job")
        if isinstance(job, dict):
            job["state"] = "active"
            job.pop("returnValue", None)

    def run(ctx: RequestContext) -> Response:
        response = call(ctx)
        return edit_json(response, pending) if ctx.binding.get("collection") == B.JOBS else response
    return run


@fault("webhook-update-ignored", "PUT /webhooks/{id} answers the change but does not store it", wraps="update")
def _webhook_update_ignored(call: Action) -> Action:
    def run(ctx: RequestContext) -> Response:
        if ctx.binding.get("collection") != B.WEBHOOKS:
            return call(ctx)
        record = ctx.store.get(B.WEBHOOKS, ctx.path_params["id"])
        response = call(ctx)
        if record is not None and response.status < 300:
            ctx.store.replace(B.WEBHOOKS, record)  # the answer shows the change; the store keeps the old
        return response
    return run


# ----------------------------------------------------------------------------------------------
# Delivery


class _Deliveries:
    """The sandbox's deliveries, with every plan passed through `transform`."""

    def __init__(self, real: Any, transform: Callable[[Iterable[B.Outbound]], list[B.Outbound]] | None) -> None:
        self.real, self.transform = real, transform

    def plan(self, planner: Callable[[], Iterable[B.Outbound]]) -> None:
        if self.transform is None:  # the fault plans on its own
            return
        transform = self.transform
        self.real.plan(lambda: transform(planner()))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


class _SandboxView:
    def __init__(self, sandbox: Any, deliveries: _Deliveries) -> None:
        self._sandbox, self.deliveries = sandbox, deliveries

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sandbox, name)


def _planning(transform: Callable[[Iterable[B.Outbound]], list[B.Outbound]] | None) -> Callable[[Action], Action]:
    def wrap(call: Action) -> Action:
        def run(ctx: RequestContext) -> Response:
            view = _SandboxView(ctx.sandbox, _Deliveries(ctx.sandbox.deliveries, transform))
            return call(dataclasses.replace(ctx, sandbox=view))
        return run
    return wrap


@fault("webhook-bad-signature", "webhook deliveries are signed with the wrong key", wraps=SEND)
def _bad_signature(call: Action) -> Action:
    def resign(outbound: Iterable[B.Outbound]) -> list[B.Outbound]:
        return [dataclasses.replace(o, headers={**o.headers, B.SIGNATURE_HEADER: B.signature("not-the-secret", o.body)})
                for o in outbound]
    return _planning(resign)(call)


@fault("webhook-no-retry", "a failed webhook delivery is never attempted again", wraps=SEND)
def _no_retry(call: Action) -> Action:
    def once(wanted: Callable[[], bool] | None) -> Callable[[], bool]:
        count = itertools.count()
        return lambda: next(count) == 0 and (wanted is None or wanted())

    def first_only(outbound: Iterable[B.Outbound]) -> list[B.Outbound]:
        return [dataclasses.replace(o, wanted=once(o.wanted)) for o in outbound]
    return _planning(first_only)(call)


def _extra_deliveries(call: Action, wanted: Callable[[dict[str, Any], str], bool], quiet: bool) -> Action:
    """A send that also (or, with `quiet`, only) delivers every new event to each webhook `wanted(hook, sensor)`
    selects, correctly signed, ignoring the webhook's filters."""
    send = _planning(None)(call) if quiet else call

    def run(ctx: RequestContext) -> Response:
        data = ctx.body.get("data") if isinstance(ctx.body, dict) else None
        fresh = [copy.deepcopy(i) for i in data or [] if B._is_event(i) and ctx.store.get(B.EVENTS, i.get("id")) is None]
        response = send(ctx)
        sandbox, sensor = ctx.sandbox, ctx.body["sensor"]

        def plan() -> list[B.Outbound]:
            with sandbox.store.lock:
                hooks = [h for h in B._select(sandbox.store, B.WEBHOOKS) if wanted(h, sensor)]
            out = []
            for event in fresh:
                body = orjson.dumps(event)
                for hook in hooks:
                    out.append(B.Outbound(url=hook["targetUrl"], body=body,
                                          headers={"Content-Type": "application/json",
                                                   B.SIGNATURE_HEADER: B.signature(str(hook["secret"]), body)},
                                          label={"webhookId": hook["id"], "eventId": event.get("id")}))
            return out
        if fresh:
            sandbox.deliveries.plan(plan)
        return response
    return run


@fault("webhook-fires-unmatched", "every new event is delivered to every active webhook, whatever its sensor "
       "and filters", wraps=SEND)
def _fires_unmatched(call: Action) -> Action:
    return _extra_deliveries(call, lambda hook, sensor: hook.get("active") is True, quiet=True)


@fault("webhook-inactive-delivered", "deactivated webhooks of the event's sensor still receive its new events",
       wraps=SEND)
def _inactive_delivered(call: Action) -> Action:
    return _extra_deliveries(call, lambda hook, sensor: hook.get("active") is not True and hook.get("sensor") == sensor,
                             quiet=False)
