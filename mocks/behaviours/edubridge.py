"""EduBridge behaviours a spec cannot express: the course-centric enrollment layer over OneRoster
(enroll with auto-created school year, term and default class; unenroll; goals; progress reset),
the users-by-exclusive-role list, learning reports (MAP profile, highest grade, time saved),
application metrics, subject tracks and their groups, and the EduBridge Caliper send.

Every record the enrollment layer writes is an ordinary OneRoster record (same collections, same
ids), so OneRoster's endpoints show it at once. Reads and writes go through the store's API and
the query compiler (`_find`), never SQL. The analytics behaviours live in edubridge_analytics.py.
"""
from __future__ import annotations

import dataclasses
import hashlib
import re
import uuid
from datetime import date, datetime, timedelta, timezone
from typing import Any, Callable, Iterable
from urllib.parse import urlencode

import orjson

from tbconform.fixtures.oneroster import ref
from tbconform.mocks.actions import action_list, is_deleted, now_iso
from tbconform.mocks.behaviours.caliper import judge, schedule_deliveries, store_envelope
from tbconform.mocks.context import RequestContext, Response
from tbconform.mocks.errors import ApiError
from tbconform.mocks.query import Compiler, QueryError, parse_filter, quote

USERS, ORGS, COURSES, CLASSES = "users", "orgs", "courses", "classes"
SESSIONS, ENROLLMENTS = "academicSessions", "enrollments"
LINE_ITEMS, RESULTS = "assessmentLineItems", "assessmentResults"
APPLICATIONS, METRICS, TRACKS = "applications", "applicationMetrics", "subjectTracks"
ROLES = ("administrator", "aide", "guardian", "parent", "proctor", "relative", "student", "teacher")
SCHOOL_YEAR_MONTH = 7  # a school year runs from July 1 to June 30
STANDARD_HOURS, TIMEBACK_HOURS = 6, 2
FORMULA = ("totalHoursSaved = schoolDaysElapsed * hoursSavedPerDay; "
           "totalDaysSaved = totalHoursSaved / standardSchoolHoursPerDay")
Record = dict[str, Any]


# ----------------------------------------------------------------------------------------------
# Store helpers
# ----------------------------------------------------------------------------------------------


def _find(ctx: RequestContext, collection: str, condition: str) -> list[Record]:
    """The records matching a filter expression (the `?filter=` grammar), in store order."""
    compiler = Compiler(ctx.collection(collection).fields)
    try:
        where = compiler.compile(parse_filter(condition))
    except QueryError as exc:  # a bug here, not the client's: say so plainly
        raise ApiError(500, f"edubridge query on {collection} is invalid: {exc}") from None
    return [orjson.loads(row) for row in ctx.store.select(collection, where, compiler.params)]


def _active(ctx: RequestContext, collection: str, record_id: str, noun: str) -> Record:
    """The record, or 404 in the IMS envelope when it is missing or soft-deleted."""
    record = ctx.store.get(collection, record_id)
    if record is None or is_deleted(record):
        raise ApiError(404, f"{noun} {record_id!r} not found")
    return record


def _save(ctx: RequestContext, collection: str, record: Record) -> Record:
    """Insert or replace, stamping dateLastModified (the store keeps the record's position)."""
    record["dateLastModified"] = now_iso()
    if ctx.store.exists(collection, ctx.store.key_of(collection, record)):
        ctx.store.replace(collection, record)
    else:
        ctx.store.insert(collection, record)
    return record


def _ref_id(value: Any) -> str | None:
    return value.get("sourcedId") if isinstance(value, dict) else None


def _today() -> date:
    return datetime.now(timezone.utc).date()


def _body(ctx: RequestContext) -> Record:
    if ctx.body is None:
        return {}
    if not isinstance(ctx.body, dict):
        raise ApiError(400, "request body must be a JSON object")
    return ctx.body


# ----------------------------------------------------------------------------------------------
# School year, term and default class (created on demand, as EduBridge does)
# ----------------------------------------------------------------------------------------------


def school_year_of(day: date) -> int:
    """The calendar year a school year containing `day` starts in."""
    return day.year if day.month >= SCHOOL_YEAR_MONTH else day.year - 1


def _covering(ctx: RequestContext, kind: str, owner: str, owner_id: str, day: str) -> Record | None:
    found = _find(ctx, SESSIONS, f"type='{kind}' AND {owner}={quote(owner_id)} AND status='active' "
                                 f"AND startDate<='{day}' AND endDate>='{day}'")
    return found[0] if found else None


def _session(session_id: str, kind: str, title: str, start: str, end: str, school_id: str,
             ending_year: int, parent: Record | None) -> Record:
    return {"sourcedId": session_id, "status": "active", "dateLastModified": now_iso(),
            "metadata": {"createdBy": "edubridge"}, "title": title, "startDate": start, "endDate": end,
            "type": kind, "parent": ref("academicSession", parent["sourcedId"]) if parent else None,
            "children": [], "schoolYear": ending_year, "org": ref("org", school_id)}


def ensure_term(ctx: RequestContext, school_id: str) -> Record:
    """Today's term of the school: an existing one under today's school year, else created (with the
    school year when that is missing too). Call inside a store transaction."""
    today = _today().isoformat()
    year = _covering(ctx, "schoolYear", "org.sourcedId", school_id, today)
    start_year = school_year_of(_today())
    if year is None:
        year = _session(f"eb-year-{school_id}-{start_year}", "schoolYear", f"{start_year}-{start_year + 1}",
                        f"{start_year}-07-01", f"{start_year + 1}-06-30", school_id, start_year + 1, None)
        _save(ctx, SESSIONS, year)
    term = _covering(ctx, "term", "parent.sourcedId", year["sourcedId"], today)
    if term is None:
        term = _session(f"eb-term-{school_id}-{start_year}", "term", f"{year['title']} Term",
                        year["startDate"], year["endDate"], school_id, int(year.get("schoolYear") or start_year + 1),
                        year)
        _save(ctx, SESSIONS, term)
        children = list(year.get("children") or [])
        if all(_ref_id(c) != term["sourcedId"] for c in children):
            year["children"] = children + [ref("academicSession", term["sourcedId"])]
            _save(ctx, SESSIONS, year)
    return term


def ensure_default_class(ctx: RequestContext, course: Record, school_id: str) -> Record:
    """The course's default class for today's term at the school, created when missing (one per
    course + term). Call inside a store transaction."""
    term = ensure_term(ctx, school_id)
    class_id = f"eb-class-{course['sourcedId']}-{term['sourcedId']}"
    existing = ctx.store.get(CLASSES, class_id)
    if existing is not None and not is_deleted(existing):
        return existing
    record = {"sourcedId": class_id, "status": "active", "dateLastModified": now_iso(),
              "metadata": {"createdBy": "edubridge", "defaultClass": True}, "title": course.get("title") or class_id,
              "classCode": f"{course.get('courseCode') or course['sourcedId']}-{term['startDate'][:4]}",
              "classType": "scheduled", "location": None, "grades": list(course.get("grades") or []),
              "subjects": list(course.get("subjects") or []), "course": ref("course", course["sourcedId"]),
              "school": ref("org", school_id), "terms": [ref("term", term["sourcedId"])],
              "subjectCodes": list(course.get("subjectCodes") or []), "periods": []}
    return _save(ctx, CLASSES, record)


def _school_of(ctx: RequestContext, course: Record) -> str:
    """The school named in the path, else the course's org (404 if unknown)."""
    school_id = ctx.path_params.get("schoolId") or _ref_id(course.get("org"))
    if not school_id:
        raise ApiError(404, f"course {course['sourcedId']!r} has no org, and no schoolId was given")
    _active(ctx, ORGS, school_id, "school")
    return school_id


def _default_class_view(klass: Record, course: Record) -> Record:
    return {"id": klass["sourcedId"], "title": klass.get("title") or "", "classCode": klass.get("classCode"),
            "subjectCodes": list(klass.get("subjectCodes") or []), "subjects": list(klass.get("subjects") or []),
            "grades": klass.get("grades"), "periods": [t["sourcedId"] for t in klass.get("terms") or []],
            "course": {"id": course["sourcedId"], "title": course.get("title") or "",
                       "metadata": course.get("metadata") or {}}}


def default_class(ctx: RequestContext) -> Response:
    course = _active(ctx, COURSES, ctx.path_params["courseId"], "course")
    with ctx.store.transaction():
        klass = ensure_default_class(ctx, course, _school_of(ctx, course))
    return Response.json(200, {"data": _default_class_view(klass, course)})


# ----------------------------------------------------------------------------------------------
# Enrollments
# ----------------------------------------------------------------------------------------------


class _Views:
    """Course-centric enrollment views, caching the classes, courses, orgs and terms they name."""

    def __init__(self, ctx: RequestContext) -> None:
        self.ctx = ctx
        self.cache: dict[tuple[str, str], Record | None] = {}

    def get(self, collection: str, record_id: str | None) -> Record | None:
        if record_id is None:
            return None
        key = (collection, record_id)
        if key not in self.cache:
            self.cache[key] = self.ctx.store.get(collection, record_id)
        return self.cache[key]

    def view(self, enrollment: Record) -> Record | None:
        klass = self.get(CLASSES, _ref_id(enrollment.get("class")))
        course = self.get(COURSES, _ref_id((klass or {}).get("course")))
        if klass is None or course is None:
            return None
        school_id = _ref_id(enrollment.get("school")) or _ref_id(klass.get("school")) or _ref_id(klass.get("org"))
        school = self.get(ORGS, school_id) or {}
        periods = []
        for term_ref in klass.get("terms") or []:
            term = self.get(SESSIONS, _ref_id(term_ref))
            if term is not None:
                periods.append({"id": term["sourcedId"], "title": term.get("title") or "",
                                "startDate": term.get("startDate"), "endDate": term.get("endDate")})
        metadata = enrollment.get("metadata")
        return {"id": enrollment["sourcedId"], "role": enrollment.get("role", "student"),
                "beginDate": enrollment.get("beginDate"), "endDate": enrollment.get("endDate"),
                "metadata": metadata if isinstance(metadata, dict) else None,
                "course": {"id": course["sourcedId"], "title": course.get("title") or "",
                           "metadata": course.get("metadata") or {}, "subjects": course.get("subjects"),
                           "grades": course.get("grades"), "primaryApp": None},
                "school": {"id": school_id or "", "name": school.get("name") or ""},
                "periods": periods, "testOutSupported": False, "testOutEligible": False}


def _user_enrollments(ctx: RequestContext, user_id: str) -> list[Record]:
    return _find(ctx, ENROLLMENTS, f"user.sourcedId={quote(user_id)} AND status='active'")


def enroll(ctx: RequestContext) -> Response:
    body = _body(ctx)
    user = _active(ctx, USERS, ctx.path_params["userId"], "user")
    course = _active(ctx, COURSES, ctx.path_params["courseId"], "course")
    role = body.get("role") or "student"
    with ctx.store.transaction():
        school_id = _school_of(ctx, course)
        klass = ensure_default_class(ctx, course, school_id)
        current = [e for e in _user_enrollments(ctx, user["sourcedId"])
                   if _ref_id(e.get("class")) == klass["sourcedId"] and e.get("role") == role]
        wanted_id = body.get("sourcedId")
        if current and (wanted_id is None or wanted_id == current[0]["sourcedId"]):
            record = current[0]  # enrolling again is idempotent; new metadata is merged in
            if isinstance(body.get("metadata"), dict):
                record["metadata"] = {**(record.get("metadata") or {}), **body["metadata"]}
                _save(ctx, ENROLLMENTS, record)
        else:
            record_id = wanted_id or f"eb-enr-{uuid.uuid4()}"
            if ctx.store.exists(ENROLLMENTS, record_id):
                raise ApiError(409, f"enrollment {record_id!r} already exists")
            record = _save(ctx, ENROLLMENTS, {
                "sourcedId": record_id, "status": "active", "dateLastModified": now_iso(),
                "metadata": body.get("metadata") or {}, "role": role, "primary": "false",
                "beginDate": str(body.get("beginDate") or _today().isoformat()), "endDate": None,
                "user": ref("user", user["sourcedId"]), "class": ref("class", klass["sourcedId"]),
                "school": ref("org", school_id)})
        view = _Views(ctx).view(record)
    return Response.json(201, {"data": view})


def unenroll(ctx: RequestContext) -> Response:
    user = _active(ctx, USERS, ctx.path_params["userId"], "user")
    course = _active(ctx, COURSES, ctx.path_params["courseId"], "course")
    school_id = ctx.path_params.get("schoolId")
    if school_id:
        _active(ctx, ORGS, school_id, "school")
    with ctx.store.transaction():
        classes = {c["sourcedId"]: c for c in _find(ctx, CLASSES, f"course.sourcedId={quote(course['sourcedId'])}")}
        gone = []
        for enrollment in _user_enrollments(ctx, user["sourcedId"]):
            klass = classes.get(_ref_id(enrollment.get("class")) or "")
            if klass is None:
                continue
            at = _ref_id(enrollment.get("school")) or _ref_id(klass.get("school"))
            if school_id and at != school_id:
                continue
            enrollment["status"] = "tobedeleted"
            gone.append(_save(ctx, ENROLLMENTS, enrollment))
        if not gone:
            raise ApiError(404, f"user {user['sourcedId']!r} has no active enrollment in course "
                                f"{course['sourcedId']!r}" + (f" at school {school_id!r}" if school_id else ""))
    return Response.empty(204)


def user_enrollments(ctx: RequestContext) -> Response:
    user = _active(ctx, USERS, ctx.path_params["userId"], "user")
    views = _Views(ctx)
    data = [v for v in (views.view(e) for e in _user_enrollments(ctx, user["sourcedId"])) if v is not None]
    return Response.json(200, {"data": data})


def _course_enrollments(ctx: RequestContext, course_id: str) -> list[Record]:
    class_ids = {c["sourcedId"] for c in _find(ctx, CLASSES, f"course.sourcedId={quote(course_id)}")}
    if not class_ids:
        return []
    listed = ",".join(i.replace(",", "") for i in sorted(class_ids))
    found = _find(ctx, ENROLLMENTS, f"class.sourcedId@{quote(listed)} AND status='active'")
    return [e for e in found if _ref_id(e.get("class")) in class_ids]


def reset_goals(ctx: RequestContext) -> Response:
    """propagateGoals / resetGoals: the course's goals onto enrollments without their own."""
    course = _active(ctx, COURSES, ctx.path_params["courseId"], "course")
    goals = (course.get("metadata") or {}).get("goals")
    updated = 0
    with ctx.store.transaction():
        if isinstance(goals, dict):
            for enrollment in _course_enrollments(ctx, course["sourcedId"]):
                metadata = dict(enrollment.get("metadata") or {})
                if metadata.get("studentSpecificGoals") is True:
                    continue
                metadata["goals"] = dict(goals)
                enrollment["metadata"] = metadata
                _save(ctx, ENROLLMENTS, enrollment)
                updated += 1
    return Response.json(200, {"data": {"updated": updated, "errors": []}})


def reset_progress(ctx: RequestContext) -> Response:
    user = _active(ctx, USERS, ctx.path_params["userId"], "user")
    course = _active(ctx, COURSES, ctx.path_params["courseId"], "course")
    course_id = course["sourcedId"]
    with ctx.store.transaction():
        class_ids = {c["sourcedId"] for c in _find(ctx, CLASSES, f"course.sourcedId={quote(course_id)}")}
        items = {i["sourcedId"] for i in _find(ctx, LINE_ITEMS, f"course.sourcedId={quote(course_id)}")}
        if class_ids:
            listed = ",".join(i.replace(",", "") for i in sorted(class_ids))
            items |= {i["sourcedId"] for i in _find(ctx, LINE_ITEMS, f"class.sourcedId@{quote(listed)}")
                      if _ref_id(i.get("class")) in class_ids}
        for result in _find(ctx, RESULTS, f"student.sourcedId={quote(user['sourcedId'])} AND status='active'"):
            if _ref_id(result.get("assessmentLineItem")) in items:
                result["status"] = "tobedeleted"
                _save(ctx, RESULTS, result)
    return Response.empty(204)


# ----------------------------------------------------------------------------------------------
# Users having exclusively the given roles
# ----------------------------------------------------------------------------------------------


def _links(ctx: RequestContext, offset: int, limit: int, total: int) -> str:
    """RFC 8288 links keeping the repeated `roles` / `orgSourcedIds` parameters repeated."""
    def url(new_offset: int) -> str:
        pairs = [(k, v) for k, v in ctx.query.items() if k not in ("offset", "limit")]
        pairs += [("limit", limit), ("offset", new_offset)]
        return f"<{ctx.base_url}{ctx.path}?{urlencode(pairs, doseq=True)}>"

    last = max(0, (-(-total // limit) - 1) * limit)
    links = [f'{url(offset + limit)}; rel="next"'] if offset + limit < total else []
    if offset > 0:
        links.append(f'{url(max(0, offset - limit))}; rel="prev"')
    return ", ".join(links + [f'{url(0)}; rel="first"', f'{url(last)}; rel="last"'])


def exclusive_roles_scope(roles: Iterable[str], orgs: Iterable[str] = ()) -> str:
    """A filter keeping users with at least one of `roles` and none outside them."""
    wanted = sorted(set(roles))
    parts = [f"roles.role@{quote(','.join(wanted))}"]
    parts += [f"roles.role!='{other}'" for other in ROLES if other not in wanted]
    org_ids = [o.replace(",", "") for o in orgs]
    if org_ids:
        parts.append(f"roles.org.sourcedId@{quote(','.join(org_ids))}")
    return " AND ".join(parts)


def users(ctx: RequestContext) -> Response:
    roles = ctx.query.get("roles") or []
    if not roles:
        raise ApiError(400, "query parameter 'roles' is required (repeat it per role)")
    binding = {"collection": USERS, "action": "list", "responseKeys": ["users"],
               "scope": exclusive_roles_scope(roles, ctx.query.get("orgSourcedIds") or [])}
    listed = dataclasses.replace(ctx, operation=dataclasses.replace(ctx.operation, binding=binding))
    answer = action_list(listed)
    body = orjson.loads(answer.body)
    orgs: dict[str, Record | None] = {}
    body["users"] = [_edubridge_user(ctx, u, orgs) for u in body["users"]]
    headers = {**answer.headers, "Link": _links(ctx, body["offset"], body["limit"], body["totalCount"])}
    return Response.json(200, body, headers)


def _edubridge_user(ctx: RequestContext, user: Record, orgs: dict[str, Record | None]) -> Record:
    """A OneRoster user as EduBridge's User model reads it: `primaryOrg` names its org, and each
    agent reference also carries `sourced_id` (the spelling the 0.4.0 client's GUIDRef parses)."""
    primary = user.get("primaryOrg")
    if isinstance(primary, dict) and primary.get("sourcedId"):
        org_id = primary["sourcedId"]
        if org_id not in orgs:
            orgs[org_id] = ctx.store.get(ORGS, org_id)
        user["primaryOrg"] = {**primary, "name": (orgs[org_id] or {}).get("name") or ""}
    if isinstance(user.get("agents"), list):
        user["agents"] = [{**a, "sourced_id": a.get("sourcedId")} if isinstance(a, dict) else a
                          for a in user["agents"]]
    return user


# ----------------------------------------------------------------------------------------------
# Learning reports: MAP profile, highest grade mastered, time saved
# ----------------------------------------------------------------------------------------------


def _int(value: Any) -> int | None:
    try:
        return int(float(value)) if value is not None and value != "" else None
    except (TypeError, ValueError):
        return None


def _results_of(ctx: RequestContext, student_id: str) -> list[Record]:
    return _find(ctx, RESULTS, f"student.sourcedId={quote(student_id)} AND status='active'")


def _kind(result: Record) -> str:
    return str((result.get("metadata") or {}).get("assessmentType") or "").lower()


def _map_test(ctx: RequestContext, result: Record, items: dict[str, Record | None]) -> Record:
    meta = result.get("metadata") or {}
    item_id = _ref_id(result.get("assessmentLineItem")) or ""
    if item_id not in items:
        items[item_id] = ctx.store.get(LINE_ITEMS, item_id)
    item_meta = (items[item_id] or {}).get("metadata") or {}
    grade = meta.get("gradeLevel")
    return {"subject": str(meta.get("subject") or item_meta.get("subject") or ""),
            "testWindow": item_meta.get("testWindow"),
            "ritScore": _int(meta.get("ritScore", result.get("score"))), "percentile": _int(meta.get("percentile")),
            "gradeLevel": None if grade is None else str(grade), "ritGrade": _int(meta.get("ritGrade")),
            "testDate": meta.get("testDate") or (result.get("scoreDate") or "")[:10] or None,
            "assessmentResultSourcedId": result["sourcedId"]}


def map_profile(ctx: RequestContext) -> Response:
    user = _active(ctx, USERS, ctx.path_params["userId"], "user")
    items: dict[str, Record | None] = {}
    tests = [_map_test(ctx, r, items) for r in _results_of(ctx, user["sourcedId"]) if _kind(r) == "map"]
    tests.sort(key=lambda t: t["testDate"] or "", reverse=True)
    newest = tests[0] if tests else {}
    return Response.json(200, {"data": {
        "userId": user["sourcedId"], "ritScore": newest.get("ritScore"), "percentile": newest.get("percentile"),
        "gradeLevel": newest.get("gradeLevel"), "testDate": newest.get("testDate"),
        "subject": newest.get("subject"), "metadata": {}, "tests": tests}})


def _best(values: Iterable[int | None]) -> int | None:
    present = [v for v in values if v is not None]
    return max(present) if present else None


def highest_grade(ctx: RequestContext) -> Response:
    student = _active(ctx, USERS, ctx.path_params["studentId"], "student")
    subject = ctx.path_params["subject"]
    by_kind: dict[str, list[int | None]] = {}
    for result in _results_of(ctx, student["sourcedId"]):
        meta = result.get("metadata") or {}
        if str(meta.get("subject") or "").casefold() != subject.casefold():
            continue
        kind = _kind(result)
        value = meta.get("ritGrade") if kind == "map" else meta.get("grade")
        by_kind.setdefault(kind, []).append(_int(value))
    rit, edulastic = _best(by_kind.get("map", [])), _best(by_kind.get("edulastic", []))
    placement, test_out = _best(by_kind.get("placement", [])), _best(by_kind.get("test-out", []))
    overall = _best([rit, edulastic, placement, test_out])

    def text(value: int | None) -> str | None:
        return None if value is None else str(value)

    return Response.json(200, {"studentId": student["sourcedId"], "subject": subject, "grades": {
        "ritGrade": rit, "edulasticGrade": text(edulastic), "placementGrade": text(placement),
        "testOutGrade": text(test_out), "highestGradeOverall": text(overall)}})


def school_days(start: date, end: date) -> int:
    """Weekdays from start to end, both included (0 when start is after end)."""
    if start > end:
        return 0
    days = (end - start).days + 1
    full_weeks, rest = divmod(days, 7)
    count = full_weeks * 5
    for offset in range(rest):
        if (start + timedelta(days=full_weeks * 7 + offset)).weekday() < 5:
            count += 1
    return count


def _date(text: Any) -> date | None:
    try:
        return date.fromisoformat(str(text)[:10])
    except ValueError:
        return None


def time_saved(ctx: RequestContext) -> Response:
    user = _active(ctx, USERS, ctx.path_params["userId"], "user")
    today = _today()
    dated = [(begun, e) for e in _user_enrollments(ctx, user["sourcedId"])
             if (begun := _date(e.get("beginDate"))) is not None]
    first = min(dated, key=lambda pair: pair[0]) if dated else None
    earliest = first[0] if first else None
    year_start = date(school_year_of(today), SCHOOL_YEAR_MONTH, 1)
    school_id = _ref_id(first[1].get("school")) if first else None
    year = _covering(ctx, "schoolYear", "org.sourcedId", school_id, today.isoformat()) if school_id else None
    if year is not None:  # the school's own calendar, when it has one for today
        year_start = _date(year.get("startDate")) or year_start
    elapsed = school_days(max(earliest, year_start), today) if earliest else 0
    saved_per_day = STANDARD_HOURS - TIMEBACK_HOURS
    hours = elapsed * saved_per_day
    return Response.json(200, {"data": {
        "totalHoursSaved": hours, "totalDaysSaved": round(hours / STANDARD_HOURS, 2), "schoolDaysElapsed": elapsed,
        "earliestStartDate": earliest.isoformat() if earliest else None, "schoolYearStartDate": year_start.isoformat(),
        "calculation": {"standardSchoolHoursPerDay": STANDARD_HOURS, "timebackHoursPerDay": TIMEBACK_HOURS,
                        "hoursSavedPerDay": saved_per_day, "formula": FORMULA}}})


# ----------------------------------------------------------------------------------------------
# Application metrics
# ----------------------------------------------------------------------------------------------


def _metric_key(app_id: str, metric: Record) -> str:
    """The store key the seed (fixtures/edubridge.py) writes too."""
    return f"{app_id}:{metric['metric']}:{metric['metricSource']}"


def _metric_body(ctx: RequestContext) -> Record:
    metric = _body(ctx).get("applicationMetric")
    if not isinstance(metric, dict) or not all(isinstance(metric.get(k), str) and metric[k]
                                               for k in ("metric", "metricSource")):
        raise ApiError(400, 'body must be {"applicationMetric": {"metric": "...", "metricSource": "..."}}')
    return metric


def _metrics_of(ctx: RequestContext, app_id: str) -> list[Record]:
    return [{k: m[k] for k in ("applicationSourcedId", "metric", "metricSource")}
            for m in _find(ctx, METRICS, f"applicationSourcedId={quote(app_id)}")]


def get_application_metrics(ctx: RequestContext) -> Response:
    app = _active(ctx, APPLICATIONS, ctx.path_params["applicationSourcedId"], "application")
    return Response.json(200, {"data": {
        "applicationSourcedId": app["sourcedId"], "totalUsers": None, "activeUsers": None, "totalSessions": None,
        "avgSessionDuration": None, "metadata": {}, "metrics": _metrics_of(ctx, app["sourcedId"])}})


def create_application_metric(ctx: RequestContext) -> Response:
    metric = _metric_body(ctx)
    app = _active(ctx, APPLICATIONS, ctx.path_params["applicationSourcedId"], "application")
    record = {"sourcedId": _metric_key(app["sourcedId"], metric), "applicationSourcedId": app["sourcedId"],
              "metric": metric["metric"], "metricSource": metric["metricSource"]}
    with ctx.store.transaction():
        if ctx.store.exists(METRICS, record["sourcedId"]):
            raise ApiError(409, f"application {app['sourcedId']!r} already tracks {metric['metric']!r} "
                                f"from {metric['metricSource']!r}")
        _save(ctx, METRICS, record)
    return Response.json(201, {"data": {k: record[k] for k in ("applicationSourcedId", "metric", "metricSource")}})


def delete_application_metric(ctx: RequestContext) -> Response:
    metric = _metric_body(ctx)
    app = _active(ctx, APPLICATIONS, ctx.path_params["applicationSourcedId"], "application")
    key = _metric_key(app["sourcedId"], metric)
    with ctx.store.transaction():
        if not ctx.store.exists(METRICS, key):
            raise ApiError(404, f"application {app['sourcedId']!r} does not track {metric['metric']!r} "
                                f"from {metric['metricSource']!r}")
        ctx.store.delete(METRICS, key)
    return Response.empty(204)


# ----------------------------------------------------------------------------------------------
# Subject tracks and their groups
# ----------------------------------------------------------------------------------------------

def track_id(subject: str, grade: str, org_id: str | None) -> str:
    """A new track's id, derived from its key (subject + grade + org): a readable slug plus a hash
    of the exact key. Tracks already stored (the seed's) keep their own ids."""
    key = f"{subject}\x1f{grade}\x1f{org_id or ''}"
    slug = re.sub(r"[^a-z0-9]+", "-", f"{subject}-{grade}-{org_id or 'global'}".lower()).strip("-")
    return f"st-{slug}-{hashlib.sha1(key.encode()).hexdigest()[:8]}"


def _track_at(ctx: RequestContext, subject: str, grade: str, org_id: str | None) -> Record | None:
    """The stored track of a key (subject + grade + org; no org: the global track)."""
    for track in _find(ctx, TRACKS, f"subject={quote(subject)} AND grade={quote(grade)}"):
        if (track.get("orgSourcedId") or None) == (org_id or None):
            return track
    return None


def _new_track(ctx: RequestContext, subject: str, grade: str, course_id: str, org_id: str | None) -> Record:
    """A track record for the key (reusing the stored track's id); 404 for an unknown course or org."""
    _active(ctx, COURSES, course_id, "course")
    if org_id:
        _active(ctx, ORGS, org_id, "org")
    stored = _track_at(ctx, subject, grade, org_id)
    ident = stored["sourcedId"] if stored else track_id(subject, grade, org_id)
    return {"sourcedId": ident, "id": ident, "subject": subject, "grade": grade, "courseId": course_id,
            "orgSourcedId": org_id or None}


def track_view(ctx: RequestContext, record: Record, cache: dict[tuple[str, str], Record | None]) -> Record:
    """A track as answered: its course and org expanded from the current OneRoster records."""
    def get(collection: str, record_id: str) -> Record | None:
        if (collection, record_id) not in cache:
            cache[(collection, record_id)] = ctx.store.get(collection, record_id)
        return cache[(collection, record_id)]

    course_id, org_id = str(record.get("courseId") or ""), record.get("orgSourcedId")
    course = get(COURSES, course_id) or {}
    org = get(ORGS, org_id) if org_id else None
    return {"id": record.get("id") or record["sourcedId"], "subject": record.get("subject") or "",
            "grade": str(record.get("grade") or ""),
            "course": {"sourcedId": course_id, "id": course_id, "title": course.get("title") or "",
                       "metadata": course.get("metadata") or {}},
            "org": {"sourcedId": org_id, "id": org_id, "name": (org or {}).get("name") or ""} if org_id else None}


def list_tracks(ctx: RequestContext) -> Response:
    """The generic list (paging, headers) with each track's course and org expanded."""
    binding = {"collection": TRACKS, "action": "list", "responseKeys": ["subjectTrack"]}
    answer = action_list(dataclasses.replace(ctx, operation=dataclasses.replace(ctx.operation, binding=binding)))
    body = orjson.loads(answer.body)
    cache: dict[tuple[str, str], Record | None] = {}
    body["subjectTrack"] = [track_view(ctx, t, cache) for t in body["subjectTrack"]]
    return Response.json(200, body, answer.headers)


def upsert_track(ctx: RequestContext) -> Response:
    body = _body(ctx)
    with ctx.store.transaction():
        record = _save(ctx, TRACKS, _new_track(ctx, body["subject"], body["grade"], body["courseId"],
                                               body.get("orgSourcedId")))
    return Response.json(200, {"subjectTrack": track_view(ctx, record, {})})


def _all_tracks(ctx: RequestContext) -> list[Record]:
    return [orjson.loads(row) for row in ctx.store.select(TRACKS)]


def _group_tracks(ctx: RequestContext, subject: str, grade: str, course_id: str) -> list[Record]:
    return _find(ctx, TRACKS, f"subject={quote(subject)} AND courseId={quote(course_id)} AND grade={quote(grade)}")


def list_groups(ctx: RequestContext) -> Response:
    groups: dict[tuple[str, str, str], list[Record]] = {}
    for track in _all_tracks(ctx):
        groups.setdefault((track["subject"], track["grade"], track["courseId"]), []).append(track)
    data, cache = [], {}
    for (subject, grade, course_id), tracks in groups.items():
        views = [track_view(ctx, t, cache) for t in tracks]
        title = views[0]["course"]["title"] or course_id
        data.append({"id": f"{subject}|{grade}|{course_id}", "name": f"{subject} grade {grade}: {title}",
                     "description": None,
                     "key": {"subject": subject, "grade": grade, "courseId": course_id,
                             "isGlobal": any(t.get("orgSourcedId") is None for t in tracks)},
                     "tracks": views, "metadata": None})
    return Response.json(200, {"groups": data})


def _targets(org_ids: list[str], is_global: bool) -> list[str | None]:
    targets: list[str | None] = list(dict.fromkeys(org_ids))
    if is_global or not targets:
        targets.append(None)
    return targets


def create_group(ctx: RequestContext) -> Response:
    body = _body(ctx)
    subject, grade, course_id = body["subject"], body["grade"], body["courseId"]
    with ctx.store.transaction():
        for org_id in _targets(body["orgSourcedIds"], False):
            if _track_at(ctx, subject, grade, org_id) is not None:
                raise ApiError(409, f"a subject track for {subject!r} grade {grade!r} at "
                                    f"{org_id or 'global'!r} already exists")
            _save(ctx, TRACKS, _new_track(ctx, subject, grade, course_id, org_id))
    return Response.empty(204)


def replace_group(ctx: RequestContext) -> Response:
    body = _body(ctx)
    subject, grade = body["subject"], body["grade"]
    with ctx.store.transaction():
        current = _group_tracks(ctx, subject, grade, body["currentCourseId"])
        if not current:
            raise ApiError(404, f"no subject track group for {subject!r} grade {grade!r} and course "
                                f"{body['currentCourseId']!r}")
        mine = {t["sourcedId"] for t in current}
        records = [_new_track(ctx, subject, grade, body["courseId"], org_id)
                   for org_id in _targets(body["orgSourcedIds"], bool(body.get("isGlobal")))]
        if body.get("strategy", "replace") == "fail":
            taken = [r["sourcedId"] for r in records if r["sourcedId"] not in mine
                     and ctx.store.exists(TRACKS, r["sourcedId"])]
            if taken:
                raise ApiError(409, f"subject tracks of another group exist: {', '.join(taken)}")
        for track in current:
            ctx.store.delete(TRACKS, track["sourcedId"])
        for record in records:
            _save(ctx, TRACKS, record)
    return Response.empty(204)


def delete_group(ctx: RequestContext) -> Response:
    body = _body(ctx)
    is_global = body.get("isGlobal")
    with ctx.store.transaction():
        tracks = [t for t in _group_tracks(ctx, body["subject"], body["grade"], body["courseId"])
                  if is_global is None or (t.get("orgSourcedId") is None) == bool(is_global)]
        if not tracks:
            raise ApiError(404, f"no subject track group for {body['subject']!r} grade {body['grade']!r} and "
                                f"course {body['courseId']!r}")
        for track in tracks:
            ctx.store.delete(TRACKS, track["sourcedId"])
    return Response.empty(204)


# ----------------------------------------------------------------------------------------------
# Caliper through EduBridge
# ----------------------------------------------------------------------------------------------


def caliper_send(ctx: RequestContext) -> Response:
    """Judged, stored and delivered exactly as POST /caliper/event; EduBridge's own answer."""
    judge(ctx.body)
    job, fresh = store_envelope(ctx, ctx.body)
    schedule_deliveries(ctx, ctx.body, fresh)
    total = len(job["returnValue"]["results"])
    message = f"{total} event{'s' if total != 1 else ''} accepted for processing"
    if len(fresh) != total:
        message += f" ({total - len(fresh)} already stored)"
    return Response.json(200, {"success": True, "message": message})


BEHAVIOURS: dict[str, Callable[[RequestContext], Response]] = {
    "edubridge.enroll": enroll,
    "edubridge.unenroll": unenroll,
    "edubridge.user-enrollments": user_enrollments,
    "edubridge.default-class": default_class,
    "edubridge.reset-goals": reset_goals,
    "edubridge.reset-progress": reset_progress,
    "edubridge.users": users,
    "edubridge.map-profile": map_profile,
    "edubridge.highest-grade": highest_grade,
    "edubridge.time-saved": time_saved,
    "edubridge.application-metrics.get": get_application_metrics,
    "edubridge.application-metrics.create": create_application_metric,
    "edubridge.application-metrics.delete": delete_application_metric,
    "edubridge.subject-track.list": list_tracks,
    "edubridge.subject-track.upsert": upsert_track,
    "edubridge.subject-track-groups.list": list_groups,
    "edubridge.subject-track-groups.create": create_group,
    "edubridge.subject-track-groups.replace": replace_group,
    "edubridge.subject-track-groups.delete": delete_group,
    "caliper.edubridge-send": caliper_send,
}
