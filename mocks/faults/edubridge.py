"""EduBridge faults: broken enrollment layers, user lists and analytics the `edubridge.*` harness
rules must each notice (tests/test_harness_detection.py, EDUBRIDGE_DETECTION).

They wrap the EduBridge plug-in's behaviours (`behaviour:<name>` steps named by the spec's
`x-tb-behaviour`, `mocks/behaviours/edubridge.py` and `edubridge_analytics.py`): they change the
request a behaviour sees, the sandbox view it runs in, or the answer it gives, or write to the store
after it (through the store's API), so the behaviours themselves hold no fault branch.
"""
from __future__ import annotations

import dataclasses
import uuid
from typing import Any, Callable

import orjson

from tbconform.mocks.actions import action_list
from tbconform.mocks.behaviours import edubridge as B
from tbconform.mocks.behaviours import edubridge_analytics as A
from tbconform.mocks.context import RequestContext, Response
from tbconform.mocks.faults import fault
from tbconform.mocks.faults.rewrite import Action, edit_json, with_query
from tbconform.mocks.query import quote

ENROLL, UNENROLL = "behaviour:edubridge.enroll", "behaviour:edubridge.unenroll"
USER_ENROLLMENTS, DEFAULT_CLASS = "behaviour:edubridge.user-enrollments", "behaviour:edubridge.default-class"
USERS = "behaviour:edubridge.users"
ACTIVITY_NAME, WEEKLY_NAME = "edubridge.analytics.activity", "edubridge.analytics.weekly"
ACTIVITY, WEEKLY = f"behaviour:{ACTIVITY_NAME}", f"behaviour:{WEEKLY_NAME}"
ENROLLMENT_FACTS = "behaviour:edubridge.analytics.enrollment"
WEEKLY_ROWS_KEPT = 3
LAG_SECONDS = 60.0


def _instead(call: Action, answer: Callable[[RequestContext, Response], Response]) -> Action:
    """The healthy action runs first (its checks, a 404 or 400, still raise), then `answer(ctx,
    healthy response)` is what the client gets."""
    return lambda ctx: answer(ctx, call(ctx))


Change = Callable[[RequestContext, Any, Response], Response | None]  # (ctx, parsed body, healthy answer)


def _on_success(call: Action, status: int, change: Change) -> Action:
    """The healthy action; when it answers `status`, `change(ctx, parsed body, response)` runs in one
    store transaction and may answer instead (None: the healthy answer stands)."""
    def run(ctx: RequestContext) -> Response:
        response = call(ctx)
        if response.status != status:
            return response
        with ctx.store.transaction():
            return change(ctx, orjson.loads(response.body), response) or response
    return run


def _daily_cells(body: dict[str, Any]) -> list[dict[str, Any]]:
    """Every SubjectMetrics cell of an activity answer (facts and factsByApp)."""
    cells = []
    for day in (body.get("facts") or {}).values():
        cells.extend(day.values())
    for app in (body.get("factsByApp") or {}).values():
        for day in app.values():
            cells.extend(day.values())
    return cells


# ----------------------------------------------------------------------------------------------
# Analytics


@fault("edubridge-xp-summed-twice", "GET /edubridge/analytics/activity answers every day's xpEarned doubled",
       wraps=ACTIVITY)
def _xp_twice(call: Action) -> Action:
    def double(body: dict[str, Any]) -> None:
        for cell in _daily_cells(body):
            cell["activityMetrics"]["xpEarned"] *= 2
    return lambda ctx: edit_json(call(ctx), double)


@fault("edubridge-days-in-utc", "the analytics ignore `timezone`: days (and the week) are UTC days",
       wraps=(ACTIVITY, WEEKLY))
def _days_in_utc(call: Action) -> Action:
    return lambda ctx: call(with_query(ctx, timezone=None))


@fault("edubridge-weekly-truncated", f"GET /edubridge/analytics/facts/weekly answers at most {WEEKLY_ROWS_KEPT} "
       "rows (the rest of the week is lost, so the weekly facts are not the daily ones summed)", wraps=WEEKLY)
def _weekly_truncated(call: Action) -> Action:
    def cut(body: dict[str, Any]) -> None:
        body["facts"] = body["facts"][:WEEKLY_ROWS_KEPT]
    return lambda ctx: edit_json(call(ctx), cut)


@fault("edubridge-time-spent-dropped", "the analytics leave out TimeSpentEvents (every seconds total is 0)",
       wraps=(ACTIVITY, WEEKLY))
def _time_spent_dropped(call: Action) -> Action:
    def zero(body: dict[str, Any]) -> None:
        if isinstance(body.get("facts"), list):  # weekly rows: seconds as strings
            for row in body["facts"]:
                row.update(activeSeconds="0", inactiveSeconds="0", wasteSeconds="0")
            return
        for cell in _daily_cells(body):
            cell["timeSpentMetrics"] = {k: 0 for k in cell["timeSpentMetrics"]}
    return lambda ctx: edit_json(call(ctx), zero)


class _LaggingConfig:
    """The sandbox's config, but with analytics that see only events stored LAG_SECONDS ago."""

    analytics_delay = LAG_SECONDS

    def __init__(self, real: Any) -> None:
        self._real = real

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


class _LaggingSandbox:
    def __init__(self, sandbox: Any) -> None:
        self._sandbox, self.config = sandbox, _LaggingConfig(sandbox.config)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sandbox, name)


@fault("edubridge-analytics-lag", f"the analytics leave out events stored in the last {LAG_SECONDS:g} s "
       "(a batch that never catches up within the harness's wait)", wraps=(ACTIVITY, WEEKLY))
def _analytics_lag(call: Action) -> Action:
    return lambda ctx: call(dataclasses.replace(ctx, sandbox=_LaggingSandbox(ctx.sandbox)))


@fault("edubridge-analytics-no-student-200", "analytics without studentId or email answer 200 with no facts "
       "instead of 400", wraps=("query", ACTIVITY, WEEKLY))
def _no_student_200(call: Any) -> Any:
    """Around the query step, a query naming no student skips the analytics' query judge; around the
    two behaviours, it is answered 200 with no facts."""
    def run(*args: Any) -> Any:
        if len(args) == 3:  # the query step: (operation, raw pairs, explain)
            op, pairs, explain = args
            named = any(k in ("studentId", "email") and v.strip() for k, v in pairs)
            if op.behaviour in (ACTIVITY_NAME, WEEKLY_NAME) and not named:
                op = dataclasses.replace(op, query_judge=None)
            return call(op, pairs, explain)
        ctx: RequestContext = args[0]
        if ctx.query.get("studentId") or ctx.query.get("email"):
            return call(ctx)
        empty: Any = [] if ctx.operation.behaviour == "edubridge.analytics.weekly" else {}
        answer = {"message": "no facts", "startDate": None, "endDate": None, "facts": empty}
        if ctx.operation.behaviour != "edubridge.analytics.weekly":
            answer["factsByApp"] = {}
        return Response.json(200, answer)
    return run


@fault("edubridge-enrollment-facts-any-course", "GET /edubridge/analytics/enrollment/{enrollmentId} counts "
       "every event of the student, whatever its course", wraps=ENROLLMENT_FACTS)
def _enrollment_any_course(call: Action) -> Action:
    def every_course(ctx: RequestContext, healthy: Response) -> Response:
        record = ctx.store.get(A.ENROLLMENTS, ctx.path_params["enrollmentId"])
        user_id = A._ref(record.get("user"))
        window = A._enrollment_window(ctx, record, A._zone(ctx))
        items = A._contributions(ctx, A.student_condition(user_id, None), window) if user_id else []
        return Response.json(200, A._daily_answer(window, items, enrollmentId=record["sourcedId"]), healthy.headers)
    return _instead(call, every_course)


# ----------------------------------------------------------------------------------------------
# Enrollments


@fault("edubridge-enroll-no-oneroster", "enroll answers 201 with the enrollment, but stores no OneRoster "
       "enrollment", wraps=ENROLL)
def _enroll_no_oneroster(call: Action) -> Action:
    def forget(ctx: RequestContext, body: Any, response: Response) -> None:
        ctx.store.delete(B.ENROLLMENTS, body["data"]["id"])
    return _on_success(call, 201, forget)


@fault("edubridge-unenroll-hard-delete", "unenroll removes the OneRoster enrollments outright instead of "
       "marking them tobedeleted", wraps=UNENROLL)
def _unenroll_hard_delete(call: Action) -> Action:
    def run(ctx: RequestContext) -> Response:
        user_id = ctx.path_params.get("userId", "")
        before = [e["sourcedId"] for e in B._user_enrollments(ctx, user_id)]
        response = call(ctx)
        with ctx.store.transaction():
            for enrollment_id in before:
                record = ctx.store.get(B.ENROLLMENTS, enrollment_id)
                if record is not None and record.get("status") == "tobedeleted":
                    ctx.store.delete(B.ENROLLMENTS, enrollment_id)
        return response
    return run


@fault("edubridge-user-enrollments-lists-deleted", "GET /edubridge/enrollments/user/{userId} lists tobedeleted "
       "enrollments too", wraps=USER_ENROLLMENTS)
def _lists_deleted(call: Action) -> Action:
    def every_status(ctx: RequestContext, healthy: Response) -> Response:
        views = B._Views(ctx)
        every = B._find(ctx, B.ENROLLMENTS, f"user.sourcedId={quote(ctx.path_params['userId'])}")
        return Response.json(200, {"data": [v for v in (views.view(e) for e in every) if v is not None]})
    return _instead(call, every_status)


@fault("edubridge-default-class-new-each-call", "GET /edubridge/enrollments/defaultClass/{courseId} creates and "
       "answers a new class on every call", wraps=DEFAULT_CLASS)
def _default_class_new(call: Action) -> Action:
    def another(ctx: RequestContext, body: Any, response: Response) -> Response:
        klass = ctx.store.get(B.CLASSES, body["data"]["id"])
        fresh = {**klass, "sourcedId": f"{klass['sourcedId']}-{uuid.uuid4().hex[:8]}"}
        ctx.store.insert(B.CLASSES, fresh)
        body["data"]["id"] = fresh["sourcedId"]
        return Response.json(200, body, response.headers)
    return _on_success(call, 200, another)


# ----------------------------------------------------------------------------------------------
# Users by role


@fault("edubridge-users-roles-inclusive", "GET /edubridge/users/ lists users having any of the roles, not only "
       "those all of whose roles are among them", wraps=USERS)
def _roles_inclusive(call: Action) -> Action:
    def any_role(ctx: RequestContext, healthy: Response) -> Response:
        roles = sorted(set(ctx.query.get("roles") or []))
        binding = {"collection": B.USERS, "action": "list", "responseKeys": ["users"],
                   "scope": f"roles.role@{quote(','.join(roles))}"}
        return action_list(dataclasses.replace(ctx, operation=dataclasses.replace(ctx.operation, binding=binding)))
    return _instead(call, any_role)
