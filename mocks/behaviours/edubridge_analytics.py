"""EduBridge analytics behaviours: activity, weekly and enrollment facts read from the Caliper
events the sandbox stored (`POST /caliper/event`), computed at read time.

A spec cannot say "sum these metric items per local day", so the three operations name these
behaviours (`x-tb-behaviour`). This module only decides which stored rows feed an answer and how
the answer is wrapped; the arithmetic is `mocks/analytics.py`. One student's events are found
through the indexed `actorKey` / `actorId` / `actorEmail` and the `eventTimeUtc` range
(`event_query`): no request reads more rows than that student's window holds, and of those rows
only the fields the figures need (`analytics.EVENT_FIELDS`) leave the store. With
`SandboxConfig.analytics_delay` > 0 events stored more recently than that are left out, as
staging's batch processing shows them only later.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from tbconform.mocks import analytics
from tbconform.mocks.analytics import AnalyticsInputError, Contribution, Window
from tbconform.mocks.context import RequestContext, Response
from tbconform.mocks.errors import ApiError
from tbconform.mocks.query import BoolExpr, Compiler, Node, Predicate

EVENTS, USERS, ENROLLMENTS, CLASSES = "caliperEvents", "users", "enrollments", "classes"
DEFAULT_HISTORY_DAYS = 366  # an enrollment without a usable beginDate: its facts of the last year
MAX_HISTORY_DAYS = 3660  # and never more than about ten years back by default


# ----------------------------------------------------------------------------------------------
# Parameters
# ----------------------------------------------------------------------------------------------


def _param(ctx: RequestContext, name: str) -> str | None:
    value = ctx.query.get(name)
    if isinstance(value, list):
        value = value[0] if value else None
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _bad(error: AnalyticsInputError) -> ApiError:
    return ApiError(400, error.message, [{"path": error.param, "message": error.message}])


def _zone(ctx: RequestContext) -> ZoneInfo:
    return analytics.resolve_zone(_param(ctx, "timezone"))


def _required(ctx: RequestContext, name: str) -> str:
    value = _param(ctx, name)
    if value is None:
        raise AnalyticsInputError(name, f"query parameter {name!r} is required")
    return value


def student_condition(student_id: str | None, email: str | None) -> Node:
    """The stored events of a student: by sourcedId (the actor id's last segment, or the whole
    actor id) and/or by email (stored lower-cased). Neither is an input error."""
    if not student_id and not email:
        raise AnalyticsInputError("studentId", "give studentId or email to name the student")
    parts: list[Node] = []
    if student_id:
        parts += [Predicate("actorKey", "=", student_id), Predicate("actorId", "=", student_id)]
    if email:
        parts.append(Predicate("actorEmail", "=", email.lower()))
    return BoolExpr("OR", tuple(parts))


# ----------------------------------------------------------------------------------------------
# Reading the events
# ----------------------------------------------------------------------------------------------


def stored_before(delay: float, now: datetime | None = None) -> str | None:
    """The `created_at` an event must not exceed to be counted (None: no delay). Same spelling as
    the stored stamp (mocks/actions.py `now_iso`: UTC, milliseconds), so text order is time order."""
    if not delay or delay <= 0:
        return None
    cutoff = (now or datetime.now(timezone.utc)) - timedelta(seconds=delay)
    return cutoff.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def event_query(fields: dict[str, Any], who: Node, window: Window, cutoff: str | None) -> tuple[str, list[Any]]:
    """WHERE clause and parameters selecting the student's events in the window, found through
    the actor indexes (public so that a test can EXPLAIN the statement the store runs)."""
    start, end = window.stored_bounds()
    rest: list[Node] = [Predicate("eventTimeUtc", ">=", start), Predicate("eventTimeUtc", "<", end)]
    if cutoff is not None:
        rest.append(Predicate("created_at", "<=", cutoff))
    compiler = Compiler(fields)
    # The student's index drives the plan; the range is tested on that student's rows only. (Left to
    # the planner, the range's selectivity hint wins, and a month of everyone's events is read.)
    return compiler.driven_by(who, BoolExpr("AND", tuple(rest))), compiler.params


def _rows(ctx: RequestContext, who: Node, window: Window,
          fields: tuple[str, ...] = analytics.EVENT_FIELDS) -> list[list[Any]]:
    """`fields` (analytics.EVENT_FIELDS or DAILY_FIELDS) of the student's events in the window, in
    stored order."""
    cutoff = stored_before(ctx.sandbox.config.analytics_delay)
    where, params = event_query(ctx.collection(EVENTS).fields, who, window, cutoff)
    return ctx.store.select_fields(EVENTS, fields, where, params)


def _contributions(ctx: RequestContext, who: Node, window: Window) -> list[Contribution]:
    """What the student's events in the window add to daily facts."""
    return analytics.contributions(_rows(ctx, who, window, analytics.DAILY_FIELDS), window)


def _daily_answer(window: Window, items: list[Contribution], **extra: Any) -> dict[str, Any]:
    facts, by_app = analytics.daily_facts(items)
    start, end = window.labels()
    return {"message": f"{len(items)} event{'s' if len(items) != 1 else ''} on {len(facts)} "
                       f"day{'s' if len(facts) != 1 else ''}",
            **extra, "startDate": start, "endDate": end, "facts": facts, "factsByApp": by_app}


# ----------------------------------------------------------------------------------------------
# Operations
# ----------------------------------------------------------------------------------------------


def activity(ctx: RequestContext) -> Response:
    """GET /edubridge/analytics/activity: daily facts of one student, startDate..endDate."""
    try:
        who = student_condition(_param(ctx, "studentId"), _param(ctx, "email"))
        zone = _zone(ctx)
        window = analytics.date_range(_required(ctx, "startDate"), _required(ctx, "endDate"), zone)
    except AnalyticsInputError as exc:
        raise _bad(exc) from None
    return Response.json(200, _daily_answer(window, _contributions(ctx, who, window)))


def _person(ctx: RequestContext, user_id: str | None) -> dict[str, Any]:
    """What the roster knows of the student (one key lookup), for the weekly rows."""
    user = ctx.store.get(USERS, user_id) if user_id else None
    if not isinstance(user, dict):
        return {"userId": user_id}
    grades = user.get("grades") if isinstance(user.get("grades"), list) else []
    return {"userId": user.get("sourcedId", user_id), "email": user.get("email"), "username": user.get("username"),
            "userGivenName": user.get("givenName"), "userFamilyName": user.get("familyName"),
            "userGrade": str(grades[0]) if grades else None}


def weekly(ctx: RequestContext) -> Response:
    """GET /edubridge/analytics/facts/weekly: one row per (day, subject, app, course) of the
    Monday-to-Sunday week holding weekDate."""
    student_id = _param(ctx, "studentId")
    try:
        who = student_condition(student_id, _param(ctx, "email"))
        zone = _zone(ctx)
        window = analytics.week_of(_required(ctx, "weekDate"), zone)
    except AnalyticsInputError as exc:
        raise _bad(exc) from None
    rows = _rows(ctx, who, window)
    items = analytics.contributions(rows, window)
    user_id = student_id or next((r[analytics.ACTOR_KEY] for r in rows if r[analytics.ACTOR_KEY]), None)
    facts = analytics.weekly_facts(items, _person(ctx, user_id))
    start, end = window.labels()
    return Response.json(200, {"message": f"{len(facts)} weekly fact{'s' if len(facts) != 1 else ''}",
                               "startDate": start, "endDate": end, "facts": facts})


def _begin_date(enrollment: dict[str, Any]) -> date | None:
    text = enrollment.get("beginDate")
    try:
        return date.fromisoformat(str(text)[:10]) if text else None
    except ValueError:
        return None


def _enrollment_window(ctx: RequestContext, enrollment: dict[str, Any], zone: ZoneInfo) -> Window:
    """startDate..endDate as given; what is missing defaults to the enrollment's begin .. today
    (local), never more than MAX_HISTORY_DAYS back."""
    today = datetime.now(zone).date()
    begin = _begin_date(enrollment) or today - timedelta(days=DEFAULT_HISTORY_DAYS)
    first = max(begin, today - timedelta(days=MAX_HISTORY_DAYS))
    start = _param(ctx, "startDate") or first.isoformat()
    end = _param(ctx, "endDate") or max(today, first).isoformat()
    return analytics.date_range(start, end, zone)


def _ref(node: Any) -> str | None:
    return node.get("sourcedId") if isinstance(node, dict) and isinstance(node.get("sourcedId"), str) else None


def enrollment(ctx: RequestContext) -> Response:
    """GET /edubridge/analytics/enrollment/{enrollmentId}: the enrolled student's facts on the
    course of the enrollment's class."""
    enrollment_id = ctx.path_params["enrollmentId"]
    record = ctx.store.get(ENROLLMENTS, enrollment_id)
    if not isinstance(record, dict) or record.get("status") == "tobedeleted":
        raise ApiError(404, f"enrollment {enrollment_id!r} not found")
    user_id = _ref(record.get("user"))
    klass = ctx.store.get(CLASSES, _ref(record.get("class")) or "")
    course_id = _ref(klass.get("course")) if isinstance(klass, dict) else None
    try:
        zone = _zone(ctx)
        window = _enrollment_window(ctx, record, zone)
    except AnalyticsInputError as exc:
        raise _bad(exc) from None
    items = (_contributions(ctx, student_condition(user_id, None), window) if user_id and course_id else [])
    on_course = [c for c in items if course_id in (c.course_ref, c.course_id)]
    return Response.json(200, _daily_answer(window, on_course, enrollmentId=enrollment_id))


BEHAVIOURS = {
    "edubridge.analytics.activity": activity,
    "edubridge.analytics.weekly": weekly,
    "edubridge.analytics.enrollment": enrollment,
}
