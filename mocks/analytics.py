"""EduBridge analytics: stored Caliper events turned into daily and weekly facts.

Pure computation, no store and no HTTP: `mocks/behaviours/edubridge_analytics.py` reads the
parameters, asks the store for the `EVENT_FIELDS` of one student's events inside a `Window` (a
short array per event, not whole documents), and hands them here. Keeping the arithmetic apart
lets the tests check it against an independent reference and keeps the behaviour module down to
"which rows, which answer".

Days are calendar days in the request's IANA timezone. A window is the half-open UTC interval
[start of the first day, start of the day after the last) so that it is one indexed range on the
stored `eventTimeUtc`, and so that a day that is 23 or 25 hours long (DST) is still one day. Each
event is counted on the local day of its `eventTime`; the metric items' own dates (time-spent
items may carry start/end dates) do not move it. That day is found by comparing the stored UTC
stamp with the window's local midnights (`Days`), so the hot path parses no time at all.
"""
from __future__ import annotations

import bisect
import functools
import re
import zoneinfo
from datetime import date, datetime, timedelta
from typing import Any, Iterable, NamedTuple

from tbconform.mocks.behaviours.caliper import actor_key
from tbconform.specs.edubridge.queries import (  # noqa: F401 (re-exported: the windows of the answers)
    DEFAULT_ZONE,
    UTC,
    AnalyticsInputError,
    Window,
    _millis,
    bound,
    date_range,
    days_window,
    parse_day,
    resolve_zone,
    stamp,
    start_of_day,
    week_of,
)

ACTIVITY_EVENT, TIME_SPENT_EVENT = "ActivityEvent", "TimeSpentEvent"
# metric item type -> answer field (the official client's ActivityMetricsData / TimeSpentMetricsData)
ACTIVITY_METRICS = {"xpEarned": "xpEarned", "totalQuestions": "totalQuestions",
                    "correctQuestions": "correctQuestions", "masteredUnits": "masteredUnits"}
TIME_SPENT_METRICS = {"active": "activeSeconds", "inactive": "inactiveSeconds", "waste": "wasteSeconds"}
WEEKLY_SOURCE = "caliper"  # WeeklyFactRecord.source: where the fact came from
EXACT_INT = 2 ** 53  # beyond this a sum is answered as a float (JSON readers lose integers there)


# ----------------------------------------------------------------------------------------------
# Events -> contributions
# ----------------------------------------------------------------------------------------------

# What the analytics read of a stored event, in this order: the store hands over only these values
# (Store.select_fields), not whole documents. A missing field (or one under a non-object) is None.
# Daily facts need the first DAILY_FIELDS only (fewer paths: a cheaper read); weekly rows need all.
EVENT_FIELDS = ("type", "eventTimeUtc", "object.subject", "object.app.name", "generated.items", "object.course.id",
                "id", "object.course.name", "object.activity.id", "object.activity.name", "actor.email",
                "actorEmail", "sensor", "sendTime", "actorKey")
(_TYPE, _TIME, _SUBJECT, _APP, _ITEMS, _COURSE_ID, _ID, _COURSE_NAME, _ACTIVITY_ID, _ACTIVITY_NAME,
 _ACTOR_EMAIL, _STORED_EMAIL, _SENSOR, _SEND_TIME, ACTOR_KEY) = range(len(EVENT_FIELDS))
DAILY_FIELDS = EVENT_FIELDS[:_ID]
_UNREAD = [None] * (len(EVENT_FIELDS) - len(DAILY_FIELDS))
_METRIC_TABLES = {ACTIVITY_EVENT: ACTIVITY_METRICS, TIME_SPENT_EVENT: TIME_SPENT_METRICS}
# eventTimeUtc as the store spells it (mocks/behaviours/caliper.py `_utc`): UTC, microseconds
_STORED_STAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z")
TABLE_DAYS = 400  # windows up to this long find days in a cached table of midnights (Days)

# `…/courses/<sourcedId>` -> the id: the same cut the Caliper store makes of actor ids. Cached: a
# student's events name a handful of courses, read on every analytics request.
last_segment = functools.lru_cache(maxsize=4096)(actor_key)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


class Contribution(NamedTuple):
    """What one stored event adds to the facts: its local day, grouping keys and metric sums.

    A tuple (cheap to make: an activity request makes one per event); the course id is cut from
    `course_ref` only when asked for (weekly rows, enrollment facts)."""

    event_id: int
    day: date
    label: str  # day.isoformat()
    time: str  # eventTimeUtc as stored (text order is time order)
    subject: str
    app: str
    course_ref: str | None  # object.course.id as sent
    course_name: str | None
    activity_id: str | None
    activity_name: str | None
    event_type: str
    metrics: dict[str, float | int]
    email: str | None
    sensor: Any
    send_time: Any

    @property
    def course_id(self) -> str | None:
        """The course reference's last path segment (a OneRoster course sourcedId)."""
        return last_segment(self.course_ref)

    @property
    def moment(self) -> datetime:
        return datetime.fromisoformat(self.time.replace("Z", "+00:00"))


class Days:
    """The local calendar days of a window, each found from a stored UTC stamp by comparing it
    with the stamps of the local midnights inside the window (text order is time order), rather
    than by parsing and converting every event's time. Built once per (zone, first day, span)."""

    __slots__ = ("dates", "labels", "cuts")

    def __init__(self, zone: zoneinfo.ZoneInfo, first: date, count: int) -> None:
        self.dates = [first + timedelta(days=i) for i in range(count)]
        self.labels = [d.isoformat() for d in self.dates]
        self.cuts = [stamp(start_of_day(d, zone)) for d in self.dates[1:]]

    def index(self, stored: str) -> int:
        return bisect.bisect_right(self.cuts, stored)


@functools.lru_cache(maxsize=64)
def _days(zone: zoneinfo.ZoneInfo, first: date, last: date) -> Days:
    return Days(zone, first, (last - first).days + 1)


def days_of(window: Window) -> Days | None:
    """The days of `window` (its first and last local calendar day and each midnight between), or
    None for a window longer than TABLE_DAYS (its events' days are then parsed one by one: a table
    of ten years of midnights would cost more to build, and to keep, than it saves)."""
    zone = window.zone
    first = window.start.astimezone(zone).date()
    last = max(first, (window.end - timedelta(microseconds=1)).astimezone(zone).date())
    return _days(zone, first, last) if (last - first).days < TABLE_DAYS else None


def _metrics(table: dict[str, str], items: Any) -> dict[str, float | int]:
    """Answer field -> summed value of the event's metric items; an item that is not an object with a
    known `type` and a number `value` (never a boolean) is left out."""
    out: dict[str, float | int] = {}
    if type(items) is not list:
        return out
    for item in items:
        try:
            field, value = table[item["type"]], item["value"]
        except (KeyError, TypeError):  # not an object, no or another type, an unhashable type, no value
            continue
        if type(value) is int or type(value) is float:
            out[field] = out.get(field, 0) + value
    return out


def _contribution(values: list[Any], day: date, label: str) -> Contribution | None:
    """The Contribution of one event's EVENT_FIELDS values, counted on `day`; None for an event that
    feeds no analytics (another type, no subject or app name)."""
    event_type, subject, app = values[_TYPE], values[_SUBJECT], values[_APP]
    table = _METRIC_TABLES.get(event_type) if isinstance(event_type, str) else None
    if table is None or not isinstance(subject, str) or not isinstance(app, str) or not app:
        return None
    return Contribution(
        int(values[_ID] or 0), day, label, values[_TIME], subject, app, _text(values[_COURSE_ID]),
        _text(values[_COURSE_NAME]), _text(values[_ACTIVITY_ID]), _text(values[_ACTIVITY_NAME]), event_type,
        _metrics(table, values[_ITEMS]), _text(values[_ACTOR_EMAIL]) or values[_STORED_EMAIL], values[_SENSOR],
        values[_SEND_TIME])


def _field(record: Any, path: str) -> Any:
    """A record's value at a dotted path, None across a non-object (as the store extracts it)."""
    for name in path.split("."):
        if not isinstance(record, dict):
            return None
        record = record.get(name)
    return record


def _parsed_day(stored: Any, zone: zoneinfo.ZoneInfo) -> date | None:
    try:
        return datetime.fromisoformat(str(stored).replace("Z", "+00:00")).astimezone(zone).date()
    except (ValueError, OverflowError):
        return None


def contribution(record: dict[str, Any], zone: zoneinfo.ZoneInfo) -> Contribution | None:
    """The figures of one whole stored event record (its day from its own time), or None for an
    event that feeds no analytics (another type, no subject or app name, an unreadable time)."""
    values = [_field(record, path) for path in EVENT_FIELDS]
    day = _parsed_day(values[_TIME], zone)
    return None if day is None else _contribution(values, day, day.isoformat())


def contributions(rows: Iterable[list[Any]], window: Window) -> list[Contribution]:
    """The Contributions of the EVENT_FIELDS (or DAILY_FIELDS: the rest read as None) rows of events
    stored inside `window`. A time spelt otherwise than the store writes it (none should be), or
    one in a window too long for a table of days, is parsed instead."""
    days = days_of(window)
    out = []
    for values in rows:
        if len(values) == len(DAILY_FIELDS):
            values = values + _UNREAD
        stored = values[_TIME]
        if days is not None and type(stored) is str and _STORED_STAMP.fullmatch(stored):
            i = days.index(stored)
            item = _contribution(values, days.dates[i], days.labels[i])
        else:
            day = _parsed_day(stored, window.zone)
            item = None if day is None else _contribution(values, day, day.isoformat())
        if item is not None:
            out.append(item)
    return out


def number(value: float | int) -> float | int:
    """A sum as the answer carries it: integral sums as integers (the client's count fields are
    `int`), floats otherwise and beyond what JSON readers keep exact."""
    if type(value) is int:
        return value if -EXACT_INT < value < EXACT_INT else float(value)
    if isinstance(value, float) and value.is_integer() and abs(value) < EXACT_INT:
        return int(value)
    return value


# ----------------------------------------------------------------------------------------------
# Daily facts (activity, enrollment)
# ----------------------------------------------------------------------------------------------


_ACTIVITY_FIELDS, _TIME_SPENT_FIELDS = tuple(ACTIVITY_METRICS.values()), tuple(TIME_SPENT_METRICS.values())


def _sums(members: Iterable[Contribution]) -> dict[str, float | int]:
    """Metric field -> sum over the members, added up in their (stored) order, as the reference does."""
    sums: dict[str, float | int] = {}
    for member in members:
        for field, value in member.metrics.items():
            sums[field] = sums.get(field, 0) + value
    return sums


def _cell(members: list[Contribution], apps: Iterable[str]) -> dict[str, Any]:
    """One SubjectMetrics answer cell."""
    sums = _sums(members)
    return {"activityMetrics": {f: number(sums.get(f, 0)) for f in _ACTIVITY_FIELDS},
            "timeSpentMetrics": {f: number(sums.get(f, 0)) for f in _TIME_SPENT_FIELDS},
            "apps": sorted(apps)}


def daily_facts(items: Iterable[Contribution]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(facts, factsByApp): {date: {subject: SubjectMetrics}} and {app: {date: {subject: …}}},
    days and keys in ascending order; only days with events appear.

    A (day, subject) fed by one app (the usual case) has the same events, hence the same figures,
    in both maps: its cell is computed once and stands in both."""
    groups: dict[tuple[str, str], list[Contribution]] = {}
    for item in items:
        key = (item.label, item.subject)
        members = groups.get(key)
        if members is None:
            groups[key] = [item]
        else:
            members.append(item)
    facts: dict[str, Any] = {}
    app_cells: dict[tuple[str, str, str], dict[str, Any]] = {}
    for (day, subject), members in sorted(groups.items()):
        apps = {m.app for m in members}
        cell = facts.setdefault(day, {})[subject] = _cell(members, apps)
        if len(apps) == 1:
            app_cells[(members[0].app, day, subject)] = cell
        else:
            for app in apps:
                app_cells[(app, day, subject)] = _cell([m for m in members if m.app == app], (app,))
    by_app: dict[str, Any] = {}
    for (app, day, subject), cell in sorted(app_cells.items()):
        by_app.setdefault(app, {}).setdefault(day, {})[subject] = cell
    return facts, by_app


# ----------------------------------------------------------------------------------------------
# Weekly facts
# ----------------------------------------------------------------------------------------------


def _only(values: Iterable[Any]) -> Any:
    """The one value all members share, else None."""
    distinct = set(values)
    return distinct.pop() if len(distinct) == 1 else None


def _seconds_text(value: float | int) -> str:
    """WeeklyFactRecord's seconds are strings in the official client's model."""
    return str(number(value))


def weekly_facts(items: Iterable[Contribution], person: dict[str, Any]) -> list[dict[str, Any]]:
    """One WeeklyFactRecord per (local day, subject, app, course) with its summed metrics.

    `person`: what the roster knows of the student (email, userId, username, names, grade), used
    where the events say nothing. `id` is the smallest stored event id of the row (stable);
    `datetime` its earliest event time; `dayOfWeek` 0 = Sunday … 6 = Saturday (JavaScript's getDay,
    as the EduBridge spec declares it), although the week itself runs Monday to Sunday.
    """
    groups: dict[tuple[str, str, str, str], list[Contribution]] = {}
    for item in items:
        groups.setdefault((item.label, item.subject, item.app, item.course_id or ""), []).append(item)
    rows = []
    for (day_text, subject, app, course_id), members in sorted(groups.items()):
        day = members[0].day
        sums = _sums(members)
        first = min(members, key=lambda m: (m.moment, m.event_id))  # parsed here only: a few per row
        email = next((m.email for m in sorted(members, key=lambda m: m.event_id) if m.email), None)
        rows.append({
            "id": min(m.event_id for m in members),
            "email": email or person.get("email") or "",
            "date": day_text,
            "datetime": _millis(first.moment),
            "username": person.get("username"),
            "userGrade": person.get("userGrade"),
            "userFamilyName": person.get("userFamilyName"),
            "userGivenName": person.get("userGivenName"),
            "userId": person.get("userId"),
            "subject": subject,
            "app": app,
            "courseId": course_id or None,
            "courseName": _only(m.course_name for m in members),
            "campusId": None,
            "campusName": None,
            "enrollmentId": person.get("enrollmentId"),
            "activityId": _only(m.activity_id for m in members),
            "activityName": _only(m.activity_name for m in members),
            **{f: number(sums.get(f, 0)) for f in _ACTIVITY_FIELDS},
            **{f: _seconds_text(sums.get(f, 0)) for f in _TIME_SPENT_FIELDS},
            "source": WEEKLY_SOURCE,
            "alphaLevel": None,
            "generatedAt": None,
            "sendTime": max((m.send_time for m in members if m.send_time), default=None),
            "sensor": _only(m.sensor for m in members),
            "eventType": _only(m.event_type for m in members),
            "year": day.year,
            "month": day.month,
            "day": day.day,
            "dayOfWeek": day.isoweekday() % 7,
        })
    return rows
