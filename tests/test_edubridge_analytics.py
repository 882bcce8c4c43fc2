"""EduBridge analytics from stored Caliper events: random Timeback events sent through the sandbox's
`POST /caliper/event` come back from `GET /edubridge/analytics/activity`, `/facts/weekly` and
`/analytics/enrollment/{id}` exactly as tests/analytics_reference.py (an independent reading that
converts each event's own time to the timezone) computes them, in timezones with DST changes and
odd offsets; weekly rows add up to the daily facts; bad input gets a 4xx in the IMS envelope;
`analytics_delay` hides fresh events; and one student's window is read through an index.
"""
from __future__ import annotations

import re
import time
import uuid
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tbconform.mocks import analytics
from tbconform.mocks.behaviours.edubridge_analytics import EVENTS, event_query, stored_before, student_condition
from tbconform.mocks.sandbox import Sandbox, SandboxConfig
from tbconform.mocks.testing import run_sandbox
from tests import analytics_reference as ref
from tests.edubridge_common import client, module_sandbox  # noqa: F401 (client: a fixture)

REPO = Path(__file__).resolve().parents[1]
SPEC = REPO / "specs" / "edubridge" / "edubridge.yaml"
APIS = ["oneroster", "caliper", "edubridge"]
ACTIVITY, WEEKLY, ENROLLMENT = "/edubridge/analytics/activity", "/edubridge/analytics/facts/weekly", "/edubridge/analytics/enrollment"
CONTEXT = "http://purl.imsglobal.org/ctx/caliper/v1p2"
USERS_IRI = "https://api.alpha-1edtech.ai/ims/oneroster/rostering/v1p2/users/"
COURSES_IRI = "https://api.alpha-1edtech.ai/ims/oneroster/rostering/v1p2/courses/"
ZONES = ["UTC", "America/New_York", "Europe/London", "Australia/Lord_Howe", "Pacific/Chatham", "Asia/Kathmandu",
         "America/Sao_Paulo", "Pacific/Kiritimati"]
# UTC instants of 2025 DST changes: New York (spring, fall), London (spring, fall), Lord Howe (half-hour
# change, end and start), Chatham (end, start); Kathmandu (+05:45) and Kiritimati (+14) have none.
EDGES = [datetime(2025, 3, 9, 7, 0), datetime(2025, 11, 2, 6, 0), datetime(2025, 3, 30, 1, 0),
         datetime(2025, 10, 26, 1, 0), datetime(2025, 4, 5, 15, 0), datetime(2025, 10, 4, 15, 30),
         datetime(2025, 4, 5, 14, 0), datetime(2025, 9, 27, 14, 0)]
SUBJECTS = ["Math", "Reading", "Science", "FastMath"]
APPS = ["Alpha Math", "ReadRiver", "LabQuest"]
COURSES = [None, "course-a", "course-b"]


def spec_config(**over: Any) -> SandboxConfig:
    if not SPEC.is_file():
        pytest.skip(f"{SPEC.relative_to(REPO)} not generated yet")
    return SandboxConfig(apis=APIS, **over)


sandbox = module_sandbox(spec_config)


# ----------------------------------------------------------------------------------------------
# Events
# ----------------------------------------------------------------------------------------------


def caliper_time(moment: datetime, offset_minutes: int | None) -> str:
    """A UTC instant spelt with Z, or with a fixed offset (the store normalises both)."""
    if offset_minutes is None:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    local = moment.astimezone(timezone(timedelta(minutes=offset_minutes)))
    return local.isoformat(timespec="milliseconds")


def timeback_event(student: str, email: str, kind: str, when: str, subject: str, app: str, course: str | None,
                   items: list[tuple[str, float]], activity: str | None = None) -> dict[str, Any]:
    context: dict[str, Any] = {"id": f"https://app.example.org/activities/{uuid.uuid4()}",
                               "type": "TimebackActivityContext", "subject": subject, "app": {"name": app}}
    if course:
        context["course"] = {"id": COURSES_IRI + course, "name": f"Course {course}"}
    if activity:
        context["activity"] = {"name": activity}
    collection = ("TimebackActivityMetricsCollection" if kind == "ActivityEvent"
                  else "TimebackTimeSpentMetricsCollection")
    return {"@context": CONTEXT, "id": f"urn:uuid:{uuid.uuid4()}", "type": kind, "profile": "TimebackProfile",
            "actor": {"id": USERS_IRI + student, "type": "TimebackUser", "email": email},
            "action": "Completed" if kind == "ActivityEvent" else "SpentTime", "object": context,
            "generated": {"id": f"urn:uuid:{uuid.uuid4()}", "type": collection,
                          "items": [{"type": t, "value": v} for t, v in items]},
            "eventTime": when}


def send(client: httpx.Client, events: list[dict[str, Any]]) -> None:
    for start in range(0, len(events), 200):
        body = {"sensor": "https://app.example.org/sensors/main", "sendTime": "2025-09-15T14:05:00.000Z",
                "dataVersion": CONTEXT, "data": events[start:start + 200]}
        response = client.post("/caliper/event", json=body)
        assert response.status_code == 200, response.text


def new_student() -> tuple[str, str]:
    ident = str(uuid.uuid4())
    return ident, f"Student.{ident[:8]}@Example.ORG"


# values that add up exactly in binary floating point, so the two readings may sum in any order
XP = st.integers(0, 800).map(lambda n: n / 4)
COUNT = st.integers(0, 40)
SECONDS = st.integers(0, 7200).map(lambda n: n / 2)
ACTIVITY_ITEMS = st.lists(st.one_of(st.tuples(st.just("xpEarned"), XP),
                                    st.tuples(st.sampled_from(["totalQuestions", "correctQuestions", "masteredUnits"]),
                                              COUNT)), max_size=6)
TIME_ITEMS = st.lists(st.tuples(st.sampled_from(["active", "inactive", "waste", "unknown", "anti-pattern"]), SECONDS),
                      max_size=5)


@st.composite
def event_specs(draw: st.DrawFn, edge: datetime) -> dict[str, Any]:
    """One event's choices: a time within four days of the DST edge, its kind, keys and metrics."""
    kind = draw(st.sampled_from(["ActivityEvent", "TimeSpentEvent"]))
    minutes = draw(st.integers(-4 * 1440, 4 * 1440))
    moment = (edge.replace(tzinfo=timezone.utc) + timedelta(minutes=minutes, seconds=draw(st.integers(0, 59)),
                                                            milliseconds=draw(st.integers(0, 999))))
    return {"kind": kind, "when": caliper_time(moment, draw(st.sampled_from([None, None, -300, 345, 825, -690]))),
            "subject": draw(st.sampled_from(SUBJECTS)), "app": draw(st.sampled_from(APPS)),
            "course": draw(st.sampled_from(COURSES)),
            "items": draw(ACTIVITY_ITEMS if kind == "ActivityEvent" else TIME_ITEMS)}


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    edge = draw(st.sampled_from(EDGES))
    return {"zone": draw(st.sampled_from(ZONES)), "edge": edge,
            "events": draw(st.lists(event_specs(edge), min_size=1, max_size=25)),
            "noise": draw(st.lists(event_specs(edge), max_size=4)),
            "first": draw(st.integers(-4, 3)), "span": draw(st.integers(0, 6))}


def build(student: str, email: str, specs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [timeback_event(student, email, s["kind"], s["when"], s["subject"], s["app"], s["course"], s["items"])
            for s in specs]


# ----------------------------------------------------------------------------------------------
# Comparing answers
# ----------------------------------------------------------------------------------------------


def assert_ims_error(response: httpx.Response, status: int | None = None) -> dict[str, Any]:
    assert 400 <= response.status_code < 500, (response.status_code, response.text)
    if status is not None:
        assert response.status_code == status, response.text
    body = response.json()
    assert body["imsx_codeMajor"] == "failure" and body["imsx_description"], body
    return body


def ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    return response.json()


def client_bounds(first: date, last: date, tz: str) -> tuple[str, str]:
    """What the official client sends for bare dates with a timezone: local day edges in UTC."""
    zone = ZoneInfo(tz)
    start = datetime(first.year, first.month, first.day, tzinfo=zone).astimezone(timezone.utc)
    end = datetime(last.year, last.month, last.day, 23, 59, 59, 999000, tzinfo=zone).astimezone(timezone.utc)
    return (start.strftime("%Y-%m-%dT%H:%M:%S.") + f"{start.microsecond // 1000:03d}Z",
            end.strftime("%Y-%m-%dT%H:%M:%S.") + f"{end.microsecond // 1000:03d}Z")


def weekly_sums(rows: list[dict[str, Any]]) -> dict[tuple[str, str, str, str | None], dict[str, float]]:
    out = {}
    for row in rows:
        key = (row["date"], row["subject"], row["app"], row["courseId"])
        assert key not in out, f"two weekly rows for {key}"
        out[key] = {f: row[f] for f in ("xpEarned", "totalQuestions", "correctQuestions", "masteredUnits")}
        out[key].update({f: float(row[f]) for f in ("activeSeconds", "inactiveSeconds", "wasteSeconds")})
    return out


def fold_weekly(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Weekly rows summed per (day, subject), in the daily facts' shape."""
    out: dict[str, dict[str, Any]] = {}
    for row in rows:
        cell = out.setdefault(row["date"], {}).setdefault(row["subject"], {
            "activityMetrics": dict.fromkeys(("xpEarned", "totalQuestions", "correctQuestions", "masteredUnits"), 0),
            "timeSpentMetrics": dict.fromkeys(("activeSeconds", "inactiveSeconds", "wasteSeconds"), 0),
            "apps": set()})
        cell["apps"].add(row["app"])
        for field in cell["activityMetrics"]:
            cell["activityMetrics"][field] += row[field]
        for field in cell["timeSpentMetrics"]:
            cell["timeSpentMetrics"][field] += float(row[field])
    for cells in out.values():
        for cell in cells.values():
            cell["apps"] = sorted(cell["apps"])
    return out


# ----------------------------------------------------------------------------------------------
# Property tests through HTTP
# ----------------------------------------------------------------------------------------------


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(scenario=scenarios())
def test_activity_and_weekly_match_the_reference(client, scenario):
    student, email = new_student()
    other, other_email = new_student()
    sent = build(student, email, scenario["events"])
    noise = build(other, other_email, scenario["noise"])
    send(client, sent + noise)
    tz = scenario["zone"]
    first = (scenario["edge"].replace(tzinfo=timezone.utc) + timedelta(days=scenario["first"])).astimezone(
        ZoneInfo(tz)).date()
    last = first + timedelta(days=scenario["span"])
    expected = ref.daily(ref.selected(sent + noise, tz, first, last, student_id=student), tz)

    by_id = ok(client.get(ACTIVITY, params={"studentId": student, "startDate": first.isoformat(),
                                            "endDate": last.isoformat(), "timezone": tz}))
    assert (by_id["facts"], by_id["factsByApp"]) == expected
    by_email = ok(client.get(ACTIVITY, params={"email": email.upper(), "startDate": first.isoformat(),
                                               "endDate": last.isoformat(), "timezone": tz}))
    assert (by_email["facts"], by_email["factsByApp"]) == expected
    start, end = client_bounds(first, last, tz)
    assert (by_id["startDate"], by_id["endDate"]) == (start, end)
    as_client = ok(client.get(ACTIVITY, params={"studentId": student, "startDate": start, "endDate": end,
                                                "timezone": tz}))
    assert (as_client["facts"], as_client["factsByApp"]) == expected

    monday, sunday = ref.week_days(first)
    week_events = ref.selected(sent, tz, monday, sunday, student_id=student)
    weekly = ok(client.get(WEEKLY, params={"studentId": student, "weekDate": first.isoformat(), "timezone": tz}))
    assert weekly_sums(weekly["facts"]) == ref.weekly(week_events, tz)
    assert all(row["email"] == email and row["userId"] == student for row in weekly["facts"])
    assert all(date(row["year"], row["month"], row["day"]).isoformat() == row["date"]
               and row["dayOfWeek"] == date.fromisoformat(row["date"]).isoweekday() % 7 for row in weekly["facts"])
    week = ok(client.get(ACTIVITY, params={"studentId": student, "startDate": monday.isoformat(),
                                           "endDate": sunday.isoformat(), "timezone": tz}))
    assert fold_weekly(weekly["facts"]) == week["facts"]
    as_client_week = ok(client.get(WEEKLY, params={"email": email, "weekDate": client_bounds(first, first, tz)[0],
                                                   "timezone": tz}))
    assert as_client_week["facts"] == weekly["facts"]


def test_a_day_is_the_local_calendar_day_across_dst(client):
    """New York's 2025-11-02 has 25 hours: 04:00Z that day and 04:59Z the next are both on it; 05:00Z
    the next is not. The spring day (2025-03-09) has 23: 04:59Z the next day already belongs to the 10th."""
    student, email = new_student()
    times = ["2025-11-02T04:00:00.000Z", "2025-11-03T04:59:59.999Z", "2025-11-03T05:00:00.000Z",
             "2025-11-02T03:59:59.999Z", "2025-03-10T03:59:59.999Z", "2025-03-10T04:00:00.000Z"]
    send(client, [timeback_event(student, email, "ActivityEvent", t, "Math", "Alpha Math", None,
                                 [("xpEarned", 2 ** i)]) for i, t in enumerate(times)])
    fall = ok(client.get(ACTIVITY, params={"studentId": student, "startDate": "2025-11-02", "endDate": "2025-11-02",
                                           "timezone": "America/New_York"}))
    assert fall["facts"]["2025-11-02"]["Math"]["activityMetrics"]["xpEarned"] == 1 + 2
    assert (fall["startDate"], fall["endDate"]) == ("2025-11-02T04:00:00.000Z", "2025-11-03T04:59:59.999Z")
    spring = ok(client.get(ACTIVITY, params={"studentId": student, "startDate": "2025-03-09",
                                             "endDate": "2025-03-10", "timezone": "america/new_york"}))
    assert {d: c["Math"]["activityMetrics"]["xpEarned"] for d, c in spring["facts"].items()} == {"2025-03-09": 16,
                                                                                              "2025-03-10": 32}


# ----------------------------------------------------------------------------------------------
# Enrollment facts
# ----------------------------------------------------------------------------------------------


def _enrolled(sandbox) -> tuple[dict[str, Any], str, str]:
    store = sandbox.sandbox.store
    for raw in store.select("enrollments"):
        enrollment = orjson.loads(raw)
        klass = store.get("classes", enrollment["class"]["sourcedId"])
        if enrollment.get("status") == "active" and klass and klass.get("course"):
            return enrollment, enrollment["user"]["sourcedId"], klass["course"]["sourcedId"]
    pytest.skip("the seeded world has no enrollment with a class and course")


def test_enrollment_facts_are_the_students_events_on_the_course(client, sandbox):
    enrollment, user_id, course_id = _enrolled(sandbox)
    email = f"{user_id}@example.org"
    on_course = [timeback_event(user_id, email, "ActivityEvent", "2031-02-03T10:00:00.000Z", "Math", "Alpha Math",
                                course_id, [("xpEarned", 5), ("totalQuestions", 4)]),
                 timeback_event(user_id, email, "TimeSpentEvent", "2031-02-04T10:00:00.000Z", "Math", "Alpha Math",
                                course_id, [("active", 60), ("waste", 1.5)])]
    off_course = [timeback_event(user_id, email, "ActivityEvent", "2031-02-03T11:00:00.000Z", "Math", "Alpha Math",
                                 "another-course", [("xpEarned", 100)]),
                  timeback_event(user_id, email, "ActivityEvent", "2031-02-03T12:00:00.000Z", "Math", "Alpha Math",
                                 None, [("xpEarned", 1000)])]
    someone_else, other_email = new_student()
    send(client, on_course + off_course + [timeback_event(someone_else, other_email, "ActivityEvent",
                                                          "2031-02-03T10:00:00.000Z", "Math", "Alpha Math",
                                                          course_id, [("xpEarned", 7)])])
    answer = ok(client.get(f"{ENROLLMENT}/{enrollment['sourcedId']}",
                           params={"startDate": "2031-02-01", "endDate": "2031-02-28", "timezone": "Asia/Kathmandu"}))
    assert answer["enrollmentId"] == enrollment["sourcedId"]
    assert (answer["facts"], answer["factsByApp"]) == ref.daily(on_course, "Asia/Kathmandu")
    assert answer["facts"]["2031-02-03"]["Math"]["activityMetrics"]["xpEarned"] == 5


def test_enrollment_facts_default_to_the_enrollment_begin_until_today(client, sandbox):
    enrollment, user_id, course_id = _enrolled(sandbox)
    now = datetime.now(timezone.utc)
    recent = timeback_event(user_id, f"{user_id}@example.org", "ActivityEvent", caliper_time(now, None), "Math",
                            "Alpha Math", course_id, [("xpEarned", 3)])
    send(client, [recent])
    answer = ok(client.get(f"{ENROLLMENT}/{enrollment['sourcedId']}"))
    today = now.date().isoformat()
    assert answer["facts"][today]["Math"]["activityMetrics"]["xpEarned"] >= 3
    begin = str(enrollment.get("beginDate") or "")[:10]
    if begin and begin <= today:
        assert answer["startDate"].startswith(begin), answer["startDate"]
    assert answer["endDate"] == f"{today}T23:59:59.999Z"


# ----------------------------------------------------------------------------------------------
# Bad input
# ----------------------------------------------------------------------------------------------

STUDENT = {"studentId": "someone"}
BAD_INPUT = [
    (ACTIVITY, {"startDate": "2025-01-01", "endDate": "2025-01-31"}, "no student"),
    (ACTIVITY, {**STUDENT, "endDate": "2025-01-31"}, "no startDate"),
    (ACTIVITY, {**STUDENT, "startDate": "2025-01-01"}, "no endDate"),
    (ACTIVITY, {**STUDENT, "startDate": "2025-13-01", "endDate": "2025-12-31"}, "month 13"),
    (ACTIVITY, {**STUDENT, "startDate": "2025-02-30", "endDate": "2025-03-31"}, "February 30"),
    (ACTIVITY, {**STUDENT, "startDate": "yesterday", "endDate": "2025-01-31"}, "not a date"),
    (ACTIVITY, {**STUDENT, "startDate": "2025-01-01", "endDate": "2025-01-31T25:00:00Z"}, "hour 25"),
    (ACTIVITY, {**STUDENT, "startDate": "2025-01-31", "endDate": "2025-01-01"}, "endDate before startDate"),
    (ACTIVITY, {**STUDENT, "startDate": "2025-01-02T00:00:00Z", "endDate": "2025-01-01T23:59:59Z"}, "end instant first"),
    (ACTIVITY, {**STUDENT, "startDate": "2025-01-01", "endDate": "2025-01-31", "timezone": "Mars/Olympus_Mons"},
     "unknown timezone"),
    (ACTIVITY, {**STUDENT, "startDate": "2025-01-01", "endDate": "2025-01-31", "timezone": "../../etc/passwd"},
     "timezone path"),
    (ACTIVITY, {**STUDENT, "startDate": "2025-01-01", "endDate": "2025-01-31", "timezone": "+05:00"},
     "offset, not a zone"),
    (ACTIVITY, {**STUDENT, "startDate": "9999-12-31", "endDate": "9999-12-31", "timezone": "Pacific/Kiritimati"},
     "past the last date"),
    (ACTIVITY, {**STUDENT, "startDate": "0001-01-01", "endDate": "0001-01-01", "timezone": "Asia/Tokyo"},
     "before the first date"),
    (WEEKLY, {"weekDate": "2025-01-15"}, "weekly: no student"),
    (WEEKLY, STUDENT, "weekly: no weekDate"),
    (WEEKLY, {**STUDENT, "weekDate": "15/01/2025"}, "weekly: bad date"),
    (WEEKLY, {**STUDENT, "weekDate": "2025-01-15", "timezone": "Nowhere/Town"}, "weekly: unknown timezone"),
    (f"{ENROLLMENT}/{{enrollment}}", {"timezone": "Not/AZone"}, "enrollment: unknown timezone"),
    (f"{ENROLLMENT}/{{enrollment}}", {"startDate": "2025-02-01", "endDate": "2025-01-01"}, "enrollment: end first"),
    (f"{ENROLLMENT}/{{enrollment}}", {"startDate": "2025-02-31"}, "enrollment: bad date"),
]


@pytest.mark.parametrize(("path", "params", "why"), BAD_INPUT, ids=[case[2] for case in BAD_INPUT])
def test_bad_input_is_a_4xx_in_the_ims_envelope(client, sandbox, path, params, why):
    if "{enrollment}" in path:
        path = path.replace("{enrollment}", _enrolled(sandbox)[0]["sourcedId"])
    assert_ims_error(client.get(path, params=params), 400)


def test_unknown_enrollment_is_404(client):
    assert_ims_error(client.get(f"{ENROLLMENT}/no-such-enrollment"), 404)


def test_an_unknown_student_has_no_facts(client):
    answer = ok(client.get(ACTIVITY, params={"studentId": "nobody-at-all", "startDate": "2025-01-01",
                                             "endDate": "2025-12-31"}))
    assert answer["facts"] == {} and answer["factsByApp"] == {}


# ----------------------------------------------------------------------------------------------
# Batch delay
# ----------------------------------------------------------------------------------------------


def test_analytics_delay_hides_fresh_events():
    delay = 1.5
    with run_sandbox(spec_config(analytics_delay=delay, size="small")) as running, running.client() as c:
        student, email = new_student()
        send(c, [timeback_event(student, email, "ActivityEvent", "2025-06-02T12:00:00.000Z", "Math", "Alpha Math",
                                None, [("xpEarned", 9)])])
        sent_at = time.monotonic()
        params = {"studentId": student, "startDate": "2025-06-02", "endDate": "2025-06-02"}
        assert ok(c.get(ACTIVITY, params=params))["facts"] == {}
        assert ok(c.get(WEEKLY, params={"studentId": student, "weekDate": "2025-06-02"}))["facts"] == []
        time.sleep(max(0.0, delay + 0.2 - (time.monotonic() - sent_at)))
        assert ok(c.get(ACTIVITY, params=params))["facts"]["2025-06-02"]["Math"]["activityMetrics"]["xpEarned"] == 9


def test_stored_before_is_spelt_as_the_stored_stamp():
    now = datetime(2025, 6, 2, 12, 0, 0, 500000, tzinfo=timezone.utc)
    assert stored_before(0.0, now) is None
    assert stored_before(2.25, now) == "2025-06-02T11:59:58.250Z"


# ----------------------------------------------------------------------------------------------
# Pure computation (mocks/analytics.py) and the query plan
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("tz", "day", "start", "end"), [
    ("America/New_York", "2025-03-09", "2025-03-09T05:00:00.000000Z", "2025-03-10T04:00:00.000000Z"),  # 23 h
    ("America/New_York", "2025-11-02", "2025-11-02T04:00:00.000000Z", "2025-11-03T05:00:00.000000Z"),  # 25 h
    ("Australia/Lord_Howe", "2025-04-06", "2025-04-05T13:00:00.000000Z", "2025-04-06T13:30:00.000000Z"),  # 24.5 h
    ("Asia/Kathmandu", "2025-01-01", "2024-12-31T18:15:00.000000Z", "2025-01-01T18:15:00.000000Z"),
    ("America/Sao_Paulo", "2018-11-04", "2018-11-04T03:00:00.000000Z", "2018-11-05T02:00:00.000000Z"),  # no midnight
])
def test_day_windows_follow_the_zone(tz, day, start, end):
    window = analytics.date_range(day, day, analytics.resolve_zone(tz))
    assert window.stored_bounds() == (start, end)


def test_week_runs_monday_to_sunday_in_the_zone():
    zone = analytics.resolve_zone("Pacific/Chatham")
    window = analytics.week_of("2025-09-28", zone)  # a Sunday, the day DST starts there
    assert window.start.astimezone(zone).date() == date(2025, 9, 22)
    assert (window.end - timedelta(microseconds=1)).astimezone(zone).date() == date(2025, 9, 28)
    assert analytics.week_of("2025-09-22T11:00:00.000Z", zone).start == window.start  # that instant is the 23rd there


def test_zone_names_are_case_insensitive_but_never_paths():
    assert str(analytics.resolve_zone("europe/london")) == "Europe/London"
    assert str(analytics.resolve_zone(None)) == "UTC"
    for bad in ("/etc/localtime", "Europe/../Europe/London", "Mars/Base", "", " " * 3 + "x" * 100):
        if bad.strip():
            with pytest.raises(analytics.AnalyticsInputError):
                analytics.resolve_zone(bad)


PARAM_TEXT = st.one_of(st.text(max_size=40), st.dates().map(date.isoformat),
                       st.datetimes(timezones=st.sampled_from([timezone.utc, timezone(timedelta(hours=-12)),
                                                               timezone(timedelta(hours=14))])).map(datetime.isoformat),
                       st.sampled_from(["0001-01-01", "9999-12-31", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999Z"]))


@settings(max_examples=300, deadline=None)
@given(start=PARAM_TEXT, end=PARAM_TEXT, zone=st.one_of(st.sampled_from(ZONES + ["Etc/GMT+12", "Etc/GMT-14"]),
                                                         st.text(max_size=20)))
def test_any_parameter_text_gives_a_window_or_an_input_error(start, end, zone):
    """Never another exception (which would answer 500): every bound either reads or is refused."""
    try:
        tz = analytics.resolve_zone(zone)
        window = analytics.date_range(start, end, tz)
        assert window.start < window.end
        window.labels()
        analytics.week_of(start, tz).labels()
    except analytics.AnalyticsInputError as exc:
        assert exc.param in ("timezone", "startDate", "endDate", "weekDate") and exc.message


def test_metrics_ignore_what_is_not_a_number():
    record = {"id": 7, "type": "ActivityEvent", "eventTimeUtc": "2025-01-01T00:00:00.000000Z",
              "object": {"subject": "Math", "app": {"name": "A"}},
              "generated": {"items": [{"type": "xpEarned", "value": True}, {"type": "xpEarned", "value": "5"},
                                      {"type": "xpEarned", "value": 2}, {"type": "xpEarned", "value": 0.5},
                                      {"type": "nope", "value": 1}, "junk"]}}
    item = analytics.contribution(record, analytics.resolve_zone("UTC"))
    assert item is not None and item.metrics == {"xpEarned": 2.5}
    facts, _ = analytics.daily_facts([item, item])
    assert facts["2025-01-01"]["Math"]["activityMetrics"] == {"xpEarned": 5, "totalQuestions": 0,
                                                              "correctQuestions": 0, "masteredUnits": 0}
    assert analytics.contribution({**record, "type": "GradeEvent"}, analytics.resolve_zone("UTC")) is None


STUDENTS, PER_STUDENT = 1500, 40


@pytest.fixture(scope="module")
def crowded_store() -> Sandbox:
    """The caliper collections with 1,500 students x 40 events over four weeks (60,000 events)."""
    sandbox = Sandbox(SandboxConfig(apis=["caliper"]))
    base = datetime(2025, 9, 1, tzinfo=timezone.utc)
    records = []
    for s in range(STUDENTS):
        key = f"student-{s:05d}"
        for e in range(PER_STUDENT):
            moment = base + timedelta(hours=(s * 7 + e * 17) % (28 * 24), minutes=s % 60)
            external = f"urn:uuid:{uuid.UUID(int=s * PER_STUDENT + e)}"
            records.append((EVENTS, {
                "id": s * PER_STUDENT + e + 10 ** 6, "externalId": external, "sourcedId": external,
                "type": "ActivityEvent", "eventTime": moment.isoformat(), "created_at": "2025-09-01T00:00:00.000Z",
                "actorId": USERS_IRI + key, "actorKey": key, "actorEmail": f"{key}@example.org",
                "eventTimeUtc": analytics.stamp(moment),
                "object": {"subject": "Math", "app": {"name": "A"}},
                "generated": {"items": [{"type": "xpEarned", "value": 1}]}}))
    sandbox.store.load(records)
    return sandbox


@pytest.mark.parametrize("who", ["studentId", "email", "both"])
@pytest.mark.parametrize("delayed", [False, True])
def test_one_students_window_is_read_through_an_actor_index(crowded_store, who, delayed):
    store, fields = crowded_store.store, crowded_store.collections[EVENTS].fields
    key = "student-00042"
    condition = student_condition(key if who != "email" else None, f"{key}@example.org" if who != "studentId" else None)
    window = analytics.date_range("2025-09-01", "2025-09-30", analytics.resolve_zone("America/Chicago"))
    where, params = event_query(fields, condition, window, stored_before(5.0) if delayed else None)
    plan = store.explain(store.select_sql(EVENTS, where), params)
    indexes = {"studentId": ("tbx_caliperEvents__actorKey", "tbx_caliperEvents__actorId"),
               "email": ("tbx_caliperEvents__actorEmail",),
               "both": ("tbx_caliperEvents__actorKey", "tbx_caliperEvents__actorId", "tbx_caliperEvents__actorEmail")}
    for index in indexes[who]:
        assert any(index in line for line in plan), plan
    assert not any("eventTimeUtc" in line or re.search(r"SCAN records$|records_by_collection", line)
                   for line in plan), plan
    rows = store.select(EVENTS, where, params)
    assert 0 < len(rows) <= PER_STUDENT and all(orjson.loads(r)["actorKey"] == key for r in rows)


def test_mock_takes_an_analytics_delay():
    from tbconform.harness import cli

    assert cli.build_parser().parse_args(["mock", "--analytics-delay", "2.5"]).analytics_delay == 2.5
    assert cli.build_parser().parse_args(["mock"]).analytics_delay == 0.0
    for bad in ("-1", "nan", "inf"):
        with pytest.raises(cli.UsageError, match="analytics-delay"):
            cli.cmd_mock(cli.build_parser().parse_args(["mock", "--analytics-delay", bad]))


# ----------------------------------------------------------------------------------------------
# The fast path: days by stamp comparison, only the needed fields out of the store
# ----------------------------------------------------------------------------------------------

INSTANTS = st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2060, 12, 31),
                        timezones=st.just(timezone.utc))


@settings(max_examples=300, deadline=None)
@given(zone=st.sampled_from(ZONES + ["America/Sao_Paulo", "Africa/Casablanca"]), start=INSTANTS,
       hours=st.integers(1, 24 * 45), at=st.lists(st.floats(0, 1, exclude_max=True), min_size=1, max_size=20))
def test_a_stored_stamp_falls_on_its_parsed_local_day(zone, start, hours, at):
    """`Days` compares stored UTC stamps with the window's local midnights: the day it finds is the
    one converting the instant to the zone gives, across DST changes, for any window start."""
    tz = analytics.resolve_zone(zone)
    window = analytics.date_range(analytics.stamp(start), analytics.stamp(start + timedelta(hours=hours)), tz)
    days = analytics.days_of(window)
    for fraction in at:
        moment = window.start + (window.end - window.start) * fraction
        assert days.dates[days.index(analytics.stamp(moment))] == moment.astimezone(tz).date(), moment


def test_select_fields_answers_json_values_in_order():
    from tbconform.mocks.store import Store

    store = Store()
    store.insert("things", {"sourcedId": "a", "flag": True, "name": "x", "nested": {"list": [1, 2], "deep": {"n": 5}},
                            "big": 2 ** 62, "small": 0.1, "nothing": None, "text": "{\"not\": \"an object\"}"})
    store.insert("things", {"sourcedId": "b", "nested": "a string, not an object"})
    paths = ["flag", "name", "nested", "nested.deep.n", "big", "small", "nothing", "missing", "name.below", "text"]
    assert store.select_fields("things", paths) == [
        [True, "x", {"list": [1, 2], "deep": {"n": 5}}, 5, 2 ** 62, 0.1, None, None, None, "{\"not\": \"an object\"}"],
        [None, None, "a string, not an object", None, None, None, None, None, None, None]]
    assert store.select_fields("things", ["name"], "id = ?", ["a"]) == [["x"]]


@pytest.mark.parametrize("tz", ["UTC", "America/Chicago", "Pacific/Chatham"])
@pytest.mark.parametrize("span", [("2025-09-03", "2025-09-20"), ("2024-01-01", "2026-12-31")],
                         ids=["table of days", "too long for a table"])
def test_contributions_from_fields_equal_those_of_whole_records(crowded_store, tz, span):
    store, fields = crowded_store.store, crowded_store.collections[EVENTS].fields
    zone = analytics.resolve_zone(tz)
    window = analytics.date_range(*span, zone)
    assert (analytics.days_of(window) is None) == (span[0] < "2025")
    where, params = event_query(fields, student_condition("student-00042", None), window, None)
    whole = [analytics.contribution(orjson.loads(r), zone) for r in store.select(EVENTS, where, params)]
    assert whole and None not in whole
    assert analytics.contributions(store.select_fields(EVENTS, analytics.EVENT_FIELDS, where, params), window) == whole
    daily_only = analytics.contributions(store.select_fields(EVENTS, analytics.DAILY_FIELDS, where, params), window)
    assert analytics.daily_facts(daily_only) == analytics.daily_facts(whole)
