"""EduBridge semantic rules, for any EduBridge target (Timeback's paths), through HTTP only.

EduBridge is a course-centric layer over OneRoster, with analytics computed from Caliper events, so
these rules talk to all three APIs: they create what they need through OneRoster (a student, a
course at a school the target lists), act through EduBridge (enroll, unenroll, defaultClass, users)
or Caliper (`POST /caliper/event`), and read the result back through the other view. Response
shapes are the contract layer's business (schemathesis validates every answer); these rules check
what a schema cannot see: that the views agree, and that the analytics sum what was sent.

Everything a rule creates carries the run id (`ctx.new_id`) and is registered for deletion before
the write that creates it; records the target allocates as a side effect (the course's default
class) are registered as soon as the answer names them. EduBridge may also create a school year and
a term for the school: those are shared by every course of the school and are left in place. Caliper
events cannot be deleted; they are tagged (`extensions.tbconformRun`, a run-tagged sensor, app and
actor) and only ever move the analytics of the run's own students.

Analytics rules poll (`ANALYTICS_WAIT`), since staging processes events in batches; they stop early
as soon as an answer holds more than was sent, or puts it on a day it does not belong to, since
waiting cannot mend that.
"""
from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any, Callable
from urllib.parse import quote
from zoneinfo import ZoneInfo

from tbconform.harness.catalog import OpInfo
from tbconform.harness.checks.caliper import envelope, new_sensor, send
from tbconform.harness.checks.oneroster import _number  # a number, or a numeric string, read as float
from tbconform.harness.context import CheckContext
from tbconform.harness.rules import CheckFailed, NotApplicable, rule
from tbconform.harness.checks.kit import operation_at, fill_path, short

ROSTERING = "/ims/oneroster/rostering/v1p2"
USERS, COURSES, SCHOOLS = f"{ROSTERING}/users", f"{ROSTERING}/courses", f"{ROSTERING}/schools"
CLASSES, ENROLLMENTS, SESSIONS = f"{ROSTERING}/classes", f"{ROSTERING}/enrollments", f"{ROSTERING}/academicSessions"
EB = "/edubridge"
ENROLL, UNENROLL = f"{EB}/enrollments/enroll/{{userId}}/{{courseId}}", f"{EB}/enrollments/unenroll/{{userId}}/{{courseId}}"
USER_ENROLLMENTS, DEFAULT_CLASS = f"{EB}/enrollments/user/{{userId}}", f"{EB}/enrollments/defaultClass/{{courseId}}"
EB_USERS, ACTIVITY, WEEKLY = f"{EB}/users/", f"{EB}/analytics/activity", f"{EB}/analytics/facts/weekly"
ENROLLMENT_FACTS = f"{EB}/analytics/enrollment/{{enrollmentId}}"
CALIPER_CONTEXT = "http://purl.imsglobal.org/ctx/caliper/v1p2"

ZONE = "Pacific/Auckland"  # UTC+12/+13: a morning there is the previous day in UTC
SUBJECT = "Math"
ANALYTICS_WAIT = 10.0  # seconds an analytics answer may take to show what was sent (batch processing)
POLL_EVERY = 0.5
TOLERANCE = 1e-6
ACTIVITY_FIELDS = ("xpEarned", "totalQuestions", "correctQuestions", "masteredUnits")
TIME_FIELDS = ("activeSeconds", "inactiveSeconds", "wasteSeconds")
FIELDS = ACTIVITY_FIELDS + TIME_FIELDS
# answer field -> the metric item type an event's `generated.items` carries it as
ACTIVITY_ITEMS = {"xpEarned": "xpEarned", "totalQuestions": "totalQuestions",
                  "correctQuestions": "correctQuestions", "masteredUnits": "masteredUnits"}
TIME_ITEMS = {"activeSeconds": "active", "inactiveSeconds": "inactive", "wasteSeconds": "waste"}

Totals = dict[tuple[str, str], float]  # (local day, field) -> sum


def _at(method: str, path: str) -> Callable[[OpInfo], bool]:
    return operation_at("edubridge", method, path)






def _answer(ctx: CheckContext, path: str, params: Any = None, key: str | None = None, kind: type = dict) -> Any:
    """The body of GET `path`'s 200 answer, or (with `key`) the `kind` (dict or list) under `key`;
    the rule fails, saying which, on any other status or shape. `params`: a dict, or (name, value)
    pairs for a repeated parameter."""
    response = ctx.get(path, params)
    pairs = params.items() if isinstance(params, dict) else params or []
    shown = path + ("?" + "&".join(f"{k}={v}" for k, v in pairs) if pairs else "")
    if response.status_code != 200:
        raise CheckFailed(f"GET {shown} answered {response.status_code}, expected 200: {short(response.text)}")
    body = ctx.json(response)
    if key is None:
        return body
    item = body.get(key) if isinstance(body, dict) else None
    if not isinstance(item, kind):
        raise CheckFailed(f"GET {shown}: the body holds no {key!r} {'array' if kind is list else 'object'}")
    return item


def _read(ctx: CheckContext, path: str, key: str) -> dict[str, Any]:
    """The object under `key` of GET `path`'s 200 answer."""
    return _answer(ctx, path, key=key)


def _ref(node: Any) -> str | None:
    return node.get("sourcedId") if isinstance(node, dict) and isinstance(node.get("sourcedId"), str) else None


# ---------------------------------------------------------------------------------------------
# Run-tagged OneRoster records


def school_id(ctx: CheckContext) -> str:
    """A school the target lists (not one of the run's), for the run's users and courses."""
    response = ctx.get(SCHOOLS, {"limit": 20})
    if response.status_code != 200:
        raise NotApplicable(f"GET {SCHOOLS} answered {response.status_code}, so there is no school to create "
                            f"test records at")
    body = ctx.json(response)
    orgs = body.get("orgs") if isinstance(body, dict) else None
    live = [o for o in orgs or [] if isinstance(o, dict) and isinstance(o.get("sourcedId"), str)
            and o.get("status") != "tobedeleted" and not ctx.own(o)]
    if not live:
        raise NotApplicable(f"GET {SCHOOLS} lists no school to create test records at")
    return live[0]["sourcedId"]


def _create(ctx: CheckContext, path: str, key: str, record: dict[str, Any], what: str) -> str:
    record_id = record["sourcedId"]
    ctx.cleanup.add(f"{path}/{quote(record_id, safe='')}", f"{what} {record_id}")
    response = ctx.request("POST", path, json={key: record})
    if not 200 <= response.status_code < 300:
        raise CheckFailed(f"POST {path} creating the run's {what} answered {response.status_code}: "
                          f"{short(response.text, 300)}")
    return record_id


def create_user(ctx: CheckContext, school: str, roles: tuple[str, ...] = ("student",), label: str = "student") -> str:
    """A run-tagged OneRoster user with `roles` (the first primary) at `school`; its email is
    `<sourcedId>@tbconform.example`."""
    user_id = ctx.new_id(label)
    role_list = [{"roleType": "primary" if n == 0 else "secondary", "role": role, "org": {"sourcedId": school}}
                 for n, role in enumerate(roles)]
    record = {"sourcedId": user_id, "status": "active", "enabledUser": True, "givenName": "tbconform",
              "familyName": user_id, "username": user_id, "email": email_of(user_id), "roles": role_list,
              "metadata": {"tbconformRun": ctx.config.run_id}}
    return _create(ctx, USERS, "user", record, "user")


def create_course(ctx: CheckContext, school: str) -> str:
    course_id = ctx.new_id("course")
    record = {"sourcedId": course_id, "status": "active", "title": f"tbconform {course_id}",
              "courseCode": course_id, "subjects": [SUBJECT], "grades": ["04"], "org": {"sourcedId": school},
              "metadata": {"tbconformRun": ctx.config.run_id}}
    return _create(ctx, COURSES, "course", record, "course")


def email_of(user_id: str) -> str:
    return f"{user_id.lower()}@tbconform.example"


# ---------------------------------------------------------------------------------------------
# Enrollment


def enroll(ctx: CheckContext, user_id: str, course_id: str) -> dict[str, Any]:
    """POST enroll with a run-tagged enrollment sourcedId: the answer's `data` (its id may be the
    target's own), the enrollment registered for deletion under both ids."""
    wanted = ctx.new_id("enrollment")
    ctx.cleanup.add(f"{ENROLLMENTS}/{quote(wanted, safe='')}", f"enrollment {wanted}")
    path = fill_path(ENROLL, userId=user_id, courseId=course_id)
    response = ctx.request("POST", path, json={"sourcedId": wanted, "role": "student"})
    if not 200 <= response.status_code < 300:
        raise CheckFailed(f"POST {path} answered {response.status_code}, expected 201: {short(response.text, 300)}")
    body = ctx.json(response)
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict) or not isinstance(data.get("id"), str):
        raise CheckFailed(f"POST {path} answered {response.status_code} without data.id")
    if data["id"] != wanted:
        ctx.cleanup.add(f"{ENROLLMENTS}/{quote(data['id'], safe='')}", f"enrollment {data['id']}")
    return data


def listed_enrollments(ctx: CheckContext, user_id: str) -> list[dict[str, Any]]:
    data = _answer(ctx, fill_path(USER_ENROLLMENTS, userId=user_id), key="data", kind=list)
    return [e for e in data if isinstance(e, dict)]


def own_class(ctx: CheckContext, class_id: str) -> None:
    """Register a class the target created for one of the run's courses, so that it goes too."""
    ctx.cleanup.add(f"{CLASSES}/{quote(class_id, safe='')}", f"default class {class_id}")


def enrolled_student(ctx: CheckContext, label: str = "student") -> tuple[str, str, str]:
    """A run-tagged student enrolled (through enroll) in a run-tagged course at a listed school:
    (user id, course id, enrollment id), the class the target made for the course registered for
    deletion too (when OneRoster shows the enrollment)."""
    school = school_id(ctx)
    user_id, course_id = create_user(ctx, school, label=label), create_course(ctx, school)
    enrollment_id = enroll(ctx, user_id, course_id)["id"]
    record = ctx.get(f"{ENROLLMENTS}/{quote(enrollment_id, safe='')}")
    klass = _ref((ctx.json(record).get("enrollment") or {}).get("class")) if record.status_code == 200 else None
    if klass:
        own_class(ctx, klass)
    return user_id, course_id, enrollment_id


@rule("edubridge.enroll.creates-oneroster",
      "After POST /edubridge/enrollments/enroll/{userId}/{courseId} the OneRoster enrollment exists (active, of "
      "that user), its class exists and belongs to the course, the class's terms exist, and GET "
      "/edubridge/enrollments/user/{userId} lists it under the course.", _at("POST", ENROLL), writes=True)
def enroll_creates_oneroster(ctx: CheckContext, op: OpInfo) -> None:
    school = school_id(ctx)
    user_id, course_id = create_user(ctx, school), create_course(ctx, school)
    data = enroll(ctx, user_id, course_id)
    enrollment_id = data["id"]
    path = f"{ENROLLMENTS}/{quote(enrollment_id, safe='')}"
    response = ctx.get(path)
    if response.status_code != 200:
        raise CheckFailed(f"enroll answered enrollment {enrollment_id!r}, but OneRoster GET {path} answers "
                          f"{response.status_code}")
    record = ctx.json(response).get("enrollment")
    if not isinstance(record, dict):
        raise CheckFailed(f"GET {path}: the body holds no 'enrollment' object")
    problems = []
    if record.get("status") != "active":
        problems.append(f"status {record.get('status')!r}")
    if _ref(record.get("user")) != user_id:
        problems.append(f"user {_ref(record.get('user'))!r} instead of {user_id!r}")
    if record.get("role") != "student":
        problems.append(f"role {record.get('role')!r} instead of 'student'")
    class_id = _ref(record.get("class"))
    if class_id is None:
        raise CheckFailed(f"OneRoster enrollment {enrollment_id!r} names no class")
    own_class(ctx, class_id)
    if problems:
        raise CheckFailed(f"OneRoster enrollment {enrollment_id!r} after enroll: " + "; ".join(problems))
    klass = _read(ctx, f"{CLASSES}/{quote(class_id, safe='')}", "class")
    if _ref(klass.get("course")) != course_id:
        raise CheckFailed(f"the enrollment's class {class_id!r} belongs to course {_ref(klass.get('course'))!r}, "
                          f"not to {course_id!r}")
    terms = [_ref(t) for t in klass.get("terms") or []]
    if not terms or None in terms:
        raise CheckFailed(f"the enrollment's class {class_id!r} names no term (terms {short(klass.get('terms'))})")
    for term in terms:
        session = _read(ctx, f"{SESSIONS}/{quote(str(term), safe='')}", "academicSession")
        if session.get("status") == "tobedeleted":
            raise CheckFailed(f"the class's term {term!r} is tobedeleted")
    periods = {p.get("id") for p in data.get("periods") or [] if isinstance(p, dict)}
    if periods and not periods <= set(terms):
        raise CheckFailed(f"enroll answered periods {sorted(map(str, periods))}, but the class's terms are {terms}")
    listed = [e for e in listed_enrollments(ctx, user_id) if e.get("id") == enrollment_id]
    if not listed:
        raise CheckFailed(f"GET {fill_path(USER_ENROLLMENTS, userId=user_id)} does not list enrollment {enrollment_id!r}")
    course = listed[0].get("course")
    if not isinstance(course, dict) or course.get("id") != course_id:
        raise CheckFailed(f"GET {fill_path(USER_ENROLLMENTS, userId=user_id)} lists enrollment {enrollment_id!r} under "
                          f"course {short(course)}, not {course_id!r}")


@rule("edubridge.unenroll.soft-deletes",
      "After DELETE /edubridge/enrollments/unenroll/{userId}/{courseId} the OneRoster enrollment is tobedeleted "
      "(still listed with that status; GET by id answers 404 or that status) and GET "
      "/edubridge/enrollments/user/{userId} no longer lists it.", _at("DELETE", UNENROLL), writes=True)
def unenroll_soft_deletes(ctx: CheckContext, op: OpInfo) -> None:
    user_id, course_id, enrollment_id = enrolled_student(ctx)
    if not any(e.get("id") == enrollment_id for e in listed_enrollments(ctx, user_id)):
        raise CheckFailed(f"enroll answered enrollment {enrollment_id!r}, but GET "
                          f"{fill_path(USER_ENROLLMENTS, userId=user_id)} does not list it, so unenroll cannot be judged")
    path = fill_path(UNENROLL, userId=user_id, courseId=course_id)
    response = ctx.request("DELETE", path)
    if not 200 <= response.status_code < 300:
        raise CheckFailed(f"DELETE {path} answered {response.status_code}, expected 204: {short(response.text)}")
    if any(e.get("id") == enrollment_id for e in listed_enrollments(ctx, user_id)):
        raise CheckFailed(f"after DELETE {path}, GET {fill_path(USER_ENROLLMENTS, userId=user_id)} still lists "
                          f"enrollment {enrollment_id!r}")
    item = f"{ENROLLMENTS}/{quote(enrollment_id, safe='')}"
    after = ctx.get(item)
    if after.status_code == 200:
        status = (ctx.json(after).get("enrollment") or {}).get("status")
        if status != "tobedeleted":
            raise CheckFailed(f"after DELETE {path}, OneRoster GET {item} answers the enrollment with status "
                              f"{status!r}, expected 404 or 'tobedeleted'")
    elif after.status_code != 404:
        raise CheckFailed(f"after DELETE {path}, OneRoster GET {item} answered {after.status_code}, expected 404")
    literal = "'" + enrollment_id.replace("'", "''") + "'"
    listed = _answer(ctx, ENROLLMENTS, {"filter": f"sourcedId={literal}", "limit": 100}, key="enrollments", kind=list)
    found = [e for e in listed if isinstance(e, dict) and e.get("sourcedId") == enrollment_id]
    if not found:
        raise CheckFailed(f"after DELETE {path}, OneRoster {ENROLLMENTS} no longer lists {enrollment_id!r}: a hard "
                          f"delete; unenroll marks the enrollment tobedeleted")
    if found[0].get("status") != "tobedeleted":
        raise CheckFailed(f"after DELETE {path}, OneRoster lists enrollment {enrollment_id!r} with status "
                          f"{found[0].get('status')!r}, expected 'tobedeleted'")


@rule("edubridge.enroll.default-class-stable",
      "GET /edubridge/enrollments/defaultClass/{courseId} answers the same class twice, and that class exists in "
      "OneRoster under the course.", _at("GET", DEFAULT_CLASS), writes=True)
def default_class_stable(ctx: CheckContext, op: OpInfo) -> None:
    course_id = create_course(ctx, school_id(ctx))
    path = fill_path(DEFAULT_CLASS, courseId=course_id)
    ids = []
    for _ in range(2):
        data = _read(ctx, path, "data")
        if not isinstance(data.get("id"), str):
            raise CheckFailed(f"GET {path} answered a class without an id")
        own_class(ctx, data["id"])
        ids.append(data["id"])
    if ids[0] != ids[1]:
        raise CheckFailed(f"GET {path} answered class {ids[0]!r}, then {ids[1]!r}: the default class of a course is "
                          f"one class")
    klass = _read(ctx, f"{CLASSES}/{quote(ids[0], safe='')}", "class")
    if _ref(klass.get("course")) != course_id:
        raise CheckFailed(f"the default class {ids[0]!r} belongs to course {_ref(klass.get('course'))!r}, "
                          f"not to {course_id!r}")


# ---------------------------------------------------------------------------------------------
# Users by exclusive role


def _users_page(ctx: CheckContext, roles: tuple[str, ...], **params: Any) -> list[dict[str, Any]]:
    query = [("roles", r) for r in roles] + list(params.items())  # requests repeats a parameter given as pairs
    return [u for u in _answer(ctx, EB_USERS, query, key="users", kind=list) if isinstance(u, dict)]


def _roles_of(user: dict[str, Any]) -> set[Any]:
    return {r.get("role") for r in user.get("roles") or [] if isinstance(r, dict)}


@rule("edubridge.users.roles-exclusive",
      "GET /edubridge/users/?roles=student lists only users all of whose roles are student: a student+teacher "
      "is absent there and present for roles=student&roles=teacher; a plain student is present.",
      _at("GET", EB_USERS), writes=True)
def users_roles_exclusive(ctx: CheckContext, op: OpInfo) -> None:
    school = school_id(ctx)  # first: without a school to create the run's users at, nothing is judged
    wrong = [u.get("sourcedId") for u in _users_page(ctx, ("student",), limit=100) if _roles_of(u) != {"student"}]
    if wrong:
        raise CheckFailed(f"GET {EB_USERS}?roles=student lists users with other roles too: {short(wrong)}")
    mixed = create_user(ctx, school, ("student", "teacher"), "student-teacher")
    plain = create_user(ctx, school, ("student",), "student")
    ids = f"'{mixed},{plain}'"  # the filter grammar's `@` (in) takes one quoted, comma-separated list
    found = {u.get("sourcedId") for u in _users_page(ctx, ("student",), filter=f"sourcedId@{ids}", limit=100)}
    if mixed in found:
        raise CheckFailed(f"GET {EB_USERS}?roles=student lists {mixed!r}, whose roles are student and teacher")
    if plain not in found:
        raise CheckFailed(f"GET {EB_USERS}?roles=student does not list the student {plain!r}")
    both = {u.get("sourcedId") for u in _users_page(ctx, ("student", "teacher"), filter=f"sourcedId@{ids}",
                                                     limit=100)}
    if mixed not in both:
        raise CheckFailed(f"GET {EB_USERS}?roles=student&roles=teacher does not list {mixed!r}, whose roles are "
                          f"student and teacher")


# ---------------------------------------------------------------------------------------------
# Analytics


@dataclass(frozen=True)
class Sent:
    """One Timeback-profile event the harness sends: when, and what it adds."""

    at: datetime  # UTC
    event_type: str  # ActivityEvent | TimeSpentEvent
    metrics: dict[str, float]  # answer field -> value


def week_plan(zone: ZoneInfo, today: date | None = None) -> tuple[date, list[Sent]]:
    """The Monday (local) of the week two weeks back, and the events to send in it: two of each
    kind on the Thursday, two (09:30 and 10:00 local) on the Wednesday in UTC, two (16:00, 16:30)
    on the Thursday in UTC too, so that a target bucketing days in UTC splits them."""
    today = today or datetime.now(zone).date()
    monday = today - timedelta(days=today.weekday() + 14)
    thursday = monday + timedelta(days=3)

    def local(hour: int, minute: int) -> datetime:
        return datetime(thursday.year, thursday.month, thursday.day, hour, minute, tzinfo=zone).astimezone(timezone.utc)

    plan = [
        Sent(local(9, 30), "ActivityEvent", {"xpEarned": 12.5, "totalQuestions": 10, "correctQuestions": 8,
                                             "masteredUnits": 1}),
        Sent(local(10, 0), "TimeSpentEvent", {"activeSeconds": 600, "inactiveSeconds": 60, "wasteSeconds": 30}),
        Sent(local(16, 0), "ActivityEvent", {"xpEarned": 7, "totalQuestions": 4, "correctQuestions": 3,
                                             "masteredUnits": 0}),
        Sent(local(16, 30), "TimeSpentEvent", {"activeSeconds": 300, "inactiveSeconds": 0, "wasteSeconds": 15}),
    ]
    return monday, plan


def expected_totals(plan: list[Sent], zone: ZoneInfo) -> Totals:
    out: Totals = {}
    for sent in plan:
        day = sent.at.astimezone(zone).date().isoformat()
        for field, value in sent.metrics.items():
            out[(day, field)] = out.get((day, field), 0) + value
    return out


def timeback_event(ctx: CheckContext, sent: Sent, actor: str, email: str, app: str,
                   course: str | None = None) -> dict[str, Any]:
    """A Timeback-profile ActivityEvent (Completed) or TimeSpentEvent (SpentTime) as the official
    client builds it, acted by `actor` in the run's own app (on the course IRI `course`, if given),
    tagged with the run id."""
    activity = sent.event_type == "ActivityEvent"
    table = ACTIVITY_ITEMS if activity else TIME_ITEMS
    items = [{"type": table[field], "value": value} for field, value in sent.metrics.items()]
    stamp = sent.at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{sent.at.microsecond // 1000:03d}Z"
    event = {
        "@context": CALIPER_CONTEXT, "id": f"urn:uuid:{uuid.uuid4()}", "type": sent.event_type,
        "action": "Completed" if activity else "SpentTime", "profile": "TimebackProfile", "eventTime": stamp,
        "actor": {"id": actor, "type": "TimebackUser", "email": email, "role": "student"},
        "object": {"id": f"https://tbconform.example/activities/{ctx.config.run_id}", "type": "TimebackActivityContext",
                   "subject": SUBJECT, "app": {"name": app}, "activity": {"name": f"tbconform {ctx.config.run_id}"}},
        "generated": {"id": f"urn:uuid:{uuid.uuid4()}",
                      "type": "TimebackActivityMetricsCollection" if activity else "TimebackTimeSpentMetricsCollection",
                      "items": items},
        "extensions": {"tbconformRun": ctx.config.run_id},
    }
    if course is not None:
        event["object"]["course"] = {"id": course, "name": f"tbconform {course.rsplit('/', 1)[-1]}"}
    return event


def course_iri(ctx: CheckContext, course_id: str) -> str:
    return f"{ctx.session.base_url.rstrip('/')}{COURSES}/{quote(course_id, safe='')}"


def send_activity(ctx: CheckContext, label: str, student: str | None = None,
                  course: str | None = None) -> tuple[str, date, Totals]:
    """The week plan's events acted by a student (a new run-tagged one unless given; actor id = its
    OneRoster URL), on `course` when given, and then one more ActivityEvent on another course:
    (student id, the week's Monday, the totals expected per local day in ZONE; with a course, the
    totals of that course only)."""
    zone = ZoneInfo(ZONE)
    student = student or create_user(ctx, school_id(ctx), label=label)
    actor = f"{ctx.session.base_url.rstrip('/')}{USERS}/{quote(student, safe='')}"
    monday, plan = week_plan(zone)
    app = f"tbconform {ctx.config.run_id}"
    events = [timeback_event(ctx, sent, actor, email_of(student), app, course and course_iri(ctx, course))
              for sent in plan]
    if course is not None:
        elsewhere = Sent(plan[0].at, "ActivityEvent", {"xpEarned": 100, "totalQuestions": 50,
                                                        "correctQuestions": 50, "masteredUnits": 5})
        events.append(timeback_event(ctx, elsewhere, actor, email_of(student), app,
                                     course_iri(ctx, ctx.new_id("other-course"))))
    send(ctx, envelope(new_sensor(ctx, label), *events), "Timeback ActivityEvents and TimeSpentEvents")
    return student, monday, expected_totals(plan, zone)


def daily_totals(body: Any) -> Totals:
    """(day, field) sums of an activity answer's `facts` over every subject."""
    out: Totals = {}
    facts = body.get("facts") if isinstance(body, dict) else None
    for day, subjects in (facts or {}).items() if isinstance(facts, dict) else []:
        for metrics in (subjects or {}).values() if isinstance(subjects, dict) else []:
            if not isinstance(metrics, dict):
                continue
            for group in ("activityMetrics", "timeSpentMetrics"):
                for field, value in (metrics.get(group) or {}).items():
                    number = _number(value)
                    if field in FIELDS and number:
                        out[(day, field)] = out.get((day, field), 0) + number
    return out


def weekly_totals(body: Any) -> Totals:
    """(day, field) sums of a weekly answer's rows (their `date`; seconds may be strings)."""
    out: Totals = {}
    rows = body.get("facts") if isinstance(body, dict) else None
    for row in rows if isinstance(rows, list) else []:
        if not isinstance(row, dict):
            continue
        day = str(row.get("date") or "")[:10]
        for field in FIELDS:
            number = _number(row.get(field))
            if number:
                out[(day, field)] = out.get((day, field), 0) + number
    return out


def _delta(after: Totals, before: Totals) -> Totals:
    keys = set(after) | set(before)
    return {k: after.get(k, 0) - before.get(k, 0) for k in keys if abs(after.get(k, 0) - before.get(k, 0)) > TOLERANCE}


def _show(totals: Totals) -> str:
    days: dict[str, list[str]] = {}
    for (day, field), value in sorted(totals.items()):
        days.setdefault(day, []).append(f"{field}={value:g}")
    return "; ".join(f"{day}: {', '.join(fields)}" for day, fields in days.items()) or "nothing"


def verdict(moved: Totals, expected: Totals) -> str:
    """'ok', 'short' (less than sent so far, on the right days: waiting may mend it) or 'wrong'."""
    if set(moved) - set(expected):
        return "wrong"
    if any(moved[k] > expected[k] + TOLERANCE for k in moved):
        return "wrong"
    if all(abs(moved.get(k, 0) - v) <= TOLERANCE for k, v in expected.items()):
        return "ok"
    return "short"


def await_totals(read: Callable[[], Totals], before: Totals, expected: Totals, what: str) -> None:
    """Poll `read` until it moved by exactly `expected` from `before` (at most ANALYTICS_WAIT s)."""
    deadline = time.monotonic() + ANALYTICS_WAIT
    while True:
        moved = _delta(read(), before)
        state = verdict(moved, expected)
        if state == "ok":
            return
        if state == "wrong" or time.monotonic() >= deadline:
            waited = "" if state == "wrong" else f" (within {ANALYTICS_WAIT:g} s)"
            raise CheckFailed(f"{what} moved by {_show(moved)}{waited}; the events sent add {_show(expected)} "
                              f"(local days in {ZONE})")
        time.sleep(POLL_EVERY)


def activity_reader(ctx: CheckContext, student: str, monday: date, zone: str = ZONE) -> Callable[[], Totals]:
    params = {"studentId": student, "startDate": monday.isoformat(),
              "endDate": (monday + timedelta(days=6)).isoformat(), "timezone": zone}
    return lambda: daily_totals(_answer(ctx, ACTIVITY, params))


def weekly_reader(ctx: CheckContext, student: str, monday: date, zone: str = ZONE) -> Callable[[], Totals]:
    params = {"studentId": student, "weekDate": (monday + timedelta(days=2)).isoformat(), "timezone": zone}
    return lambda: weekly_totals(_answer(ctx, WEEKLY, params))


@rule("edubridge.analytics.daily-moves",
      f"Timeback ActivityEvents and TimeSpentEvents sent for a student move its GET /edubridge/analytics/activity "
      f"daily totals by exactly their metrics, on their local day in the requested timezone ({ZONE}).",
      _at("GET", ACTIVITY), writes=True)
def daily_moves(ctx: CheckContext, op: OpInfo) -> None:
    _new_student_moves(ctx, "daily", activity_reader, ACTIVITY)


def _new_student_moves(ctx: CheckContext, label: str, reader: Callable[..., Callable[[], Totals]], path: str) -> None:
    """Send the week plan for a new student: `reader`'s totals must move by exactly what was sent (the
    student is new, so before the send they are empty)."""
    student, monday, expected = send_activity(ctx, label)
    await_totals(reader(ctx, student, monday), {}, expected,
                 f"GET {path} for {student} (week of {monday}, timezone {ZONE})")


@rule("edubridge.analytics.weekly-moves",
      f"Timeback ActivityEvents and TimeSpentEvents sent for a student move GET /edubridge/analytics/facts/weekly "
      f"by exactly their metrics, in rows dated with "
      f"their local day in the requested timezone ({ZONE}).", _at("GET", WEEKLY), writes=True)
def weekly_moves(ctx: CheckContext, op: OpInfo) -> None:
    _new_student_moves(ctx, "weekly", weekly_reader, WEEKLY)


@rule("edubridge.analytics.enrollment-moves",
      "Events on a course sent for a student enrolled in it (through enroll) move GET "
      "/edubridge/analytics/enrollment/{enrollmentId} by exactly their metrics, on their local days, and events on "
      "another course do not move it.", _at("GET", ENROLLMENT_FACTS), writes=True)
def enrollment_moves(ctx: CheckContext, op: OpInfo) -> None:
    user_id, course_id, enrollment_id = enrolled_student(ctx, label="enrolled")
    _, monday, expected = send_activity(ctx, "enrollment", student=user_id, course=course_id)
    path = fill_path(ENROLLMENT_FACTS, enrollmentId=enrollment_id)
    params = {"startDate": monday.isoformat(), "endDate": (monday + timedelta(days=6)).isoformat(), "timezone": ZONE}
    await_totals(lambda: daily_totals(_answer(ctx, path, params)), {}, expected,
                 f"GET {path} (student {user_id}, course {course_id}, week of {monday}, timezone {ZONE})")


def _students_with_activity(ctx: CheckContext, limit: int = 100) -> list[tuple[str, datetime]]:
    """(student id, event time) of Timeback events the target lists, acted by users not the run's."""
    response = ctx.get("/caliper/events", {"limit": limit})
    if response.status_code != 200:
        raise NotApplicable(f"GET /caliper/events answered {response.status_code}, so no student with activity "
                            f"can be found")
    body = ctx.json(response)
    out, seen = [], set()
    for event in body.get("events") or [] if isinstance(body, dict) else []:
        actor = event.get("actor") if isinstance(event, dict) else None
        if not isinstance(actor, dict) or event.get("type") not in ("ActivityEvent", "TimeSpentEvent"):
            continue
        actor_id = actor.get("id")
        if not isinstance(actor_id, str) or "/users/" not in actor_id:
            continue
        student = actor_id.rstrip("/").rsplit("/", 1)[-1]
        try:
            when = datetime.fromisoformat(str(event.get("eventTime")).replace("Z", "+00:00"))
        except ValueError:
            continue
        if student in seen or ctx.own(student) or when.tzinfo is None:
            continue
        seen.add(student)
        out.append((student, when))
    return out


@rule("edubridge.analytics.weekly-equals-daily",
      f"For a student with activity, the weekly facts of a week summed per day equal GET "
      f"/edubridge/analytics/activity's daily totals of that week's days (timezone {ZONE}).",
      _at("GET", WEEKLY))
def weekly_equals_daily(ctx: CheckContext, op: OpInfo) -> None:
    zone = ZoneInfo(ZONE)
    for student, when in _students_with_activity(ctx)[:3]:
        local = when.astimezone(zone).date()
        monday = local - timedelta(days=local.weekday())
        weekly, daily = weekly_reader(ctx, student, monday)(), activity_reader(ctx, student, monday)()
        if not weekly and not daily:  # an event the analytics do not count (no subject or app, say)
            continue
        if _delta(weekly, daily):
            raise CheckFailed(f"student {student}, week of {monday} ({ZONE}): weekly facts sum to {_show(weekly)}, "
                              f"daily facts to {_show(daily)}")
        return
    raise NotApplicable("no student with activity was found (none of the first Timeback events GET /caliper/events "
                        "lists is counted in its student's daily or weekly facts)")


def _envelope(body: Any) -> bool:
    return isinstance(body, dict) and body.get("imsx_codeMajor") == "failure" and "imsx_description" in body


@rule("edubridge.analytics.requires-student",
      "GET /edubridge/analytics/activity and /analytics/facts/weekly without studentId and email answer 400 (or "
      "422) in the IMS error envelope.", _at("GET", ACTIVITY))
def requires_student(ctx: CheckContext, op: OpInfo) -> None:
    for path, params in ((ACTIVITY, {"startDate": "2025-09-15", "endDate": "2025-09-21"}),
                         (WEEKLY, {"weekDate": "2025-09-17"})):
        response = ctx.get(path, params)
        if response.status_code not in (400, 422):
            raise CheckFailed(f"GET {path} without studentId and email answered {response.status_code}, expected 400")
        try:
            body = response.json()
        except ValueError:
            body = None
        if not _envelope(body):
            raise CheckFailed(f"GET {path} without studentId and email answered {response.status_code} without the "
                              f"IMS error envelope: {short(response.text)}")
