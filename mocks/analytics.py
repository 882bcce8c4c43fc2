"""EduBridge analytics: stored Caliper events turned into daily and weekly facts.

Pure computation, no store and no HTTP: `mocks/behaviours/edubridge_analytics.py` reads the
parameters, asks the store for one student's events inside a `Window`, and hands the parsed records
here. Keeping the arithmetic apart lets the tests check it against an independent reference and
keeps the behaviour module down to "which rows, which answer".

Days are calendar days in the request's IANA timezone. A window is the half-open UTC interval
[start of the first day, start of the day after the last) so that it is one indexed range on the
stored `eventTimeUtc`, and so that a day that is 23 or 25 hours long (DST) is still one day. Each
event is counted on the local day of its `eventTime`; the metric items' own dates (time-spent
items may carry start/end dates) do not move it.
"""
from __future__ import annotations

import functools
import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Iterable

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


@dataclass(frozen=True, slots=True)
class Contribution:
    """What one stored event adds to the facts: its local day, grouping keys and metric sums."""

    event_id: int
    day: date
    moment: datetime
    subject: str
    app: str
    course_ref: str | None  # object.course.id as sent
    course_id: str | None  # its last path segment (a OneRoster course sourcedId)
    course_name: str | None
    activity_id: str | None
    activity_name: str | None
    event_type: str
    metrics: dict[str, float | int]
    email: str | None
    sensor: str | None
    send_time: str | None


# `…/courses/<sourcedId>` -> the id: the same cut the Caliper store makes of actor ids. Cached: a
# student's events name a handful of courses, read on every analytics request.
last_segment = functools.lru_cache(maxsize=4096)(actor_key)


def _named(node: Any) -> tuple[str | None, str | None]:
    if not isinstance(node, dict):
        return None, None
    ident = node.get("id") if isinstance(node.get("id"), str) else None
    name = node.get("name") if isinstance(node.get("name"), str) else None
    return ident, name


def _metric_value(value: Any) -> float | int | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return value


def _metrics(event_type: str, generated: Any) -> dict[str, float | int]:
    table = ACTIVITY_METRICS if event_type == ACTIVITY_EVENT else TIME_SPENT_METRICS
    out: dict[str, float | int] = {}
    items = generated.get("items") if isinstance(generated, dict) else None
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        field, value = table.get(item.get("type")), _metric_value(item.get("value"))
        if field is not None and value is not None:
            out[field] = out.get(field, 0) + value
    return out


def contribution(record: dict[str, Any], zone: zoneinfo.ZoneInfo) -> Contribution | None:
    """The figures of one stored event record, or None for an event that feeds no analytics
    (another type, no subject or app name, an unreadable time)."""
    event_type = record.get("type")
    if event_type not in (ACTIVITY_EVENT, TIME_SPENT_EVENT):
        return None
    context = record.get("object")
    if not isinstance(context, dict) or not isinstance(context.get("subject"), str):
        return None
    _, app = _named(context.get("app"))
    try:
        moment = datetime.fromisoformat(str(record.get("eventTimeUtc")).replace("Z", "+00:00"))
        day = moment.astimezone(zone).date()
    except (ValueError, OverflowError):
        return None
    if not app:
        return None
    course_id, course_name = _named(context.get("course"))
    activity_id, activity_name = _named(context.get("activity"))
    actor = record.get("actor")
    email = actor.get("email") if isinstance(actor, dict) and isinstance(actor.get("email"), str) else None
    return Contribution(
        event_id=int(record.get("id") or 0), day=day, moment=moment, subject=context["subject"], app=app,
        course_ref=course_id, course_id=last_segment(course_id), course_name=course_name, activity_id=activity_id,
        activity_name=activity_name, event_type=event_type, metrics=_metrics(event_type, record.get("generated")),
        email=email or record.get("actorEmail"), sensor=record.get("sensor"), send_time=record.get("sendTime"))


def contributions(records: Iterable[dict[str, Any]], zone: zoneinfo.ZoneInfo) -> list[Contribution]:
    return [c for c in (contribution(r, zone) for r in records) if c is not None]


def number(value: float | int) -> float | int:
    """A sum as the answer carries it: integral sums as integers (the client's count fields are
    `int`), floats otherwise and beyond what JSON readers keep exact."""
    if isinstance(value, float) and value.is_integer() and abs(value) < EXACT_INT:
        return int(value)
    if isinstance(value, int) and abs(value) >= EXACT_INT:
        return float(value)
    return value


# ----------------------------------------------------------------------------------------------
# Daily facts (activity, enrollment)
# ----------------------------------------------------------------------------------------------


class _SubjectDay:
    """Running sums of one (day, subject) cell, and the apps that fed it."""

    __slots__ = ("sums", "apps")

    def __init__(self) -> None:
        self.sums: dict[str, float | int] = {}
        self.apps: set[str] = set()

    def add(self, item: Contribution) -> None:
        self.apps.add(item.app)
        for field, value in item.metrics.items():
            self.sums[field] = self.sums.get(field, 0) + value

    def render(self) -> dict[str, Any]:
        return {"activityMetrics": {f: number(self.sums.get(f, 0)) for f in ACTIVITY_METRICS.values()},
                "timeSpentMetrics": {f: number(self.sums.get(f, 0)) for f in TIME_SPENT_METRICS.values()},
                "apps": sorted(self.apps)}


def daily_facts(items: Iterable[Contribution]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(facts, factsByApp): {date: {subject: SubjectMetrics}} and {app: {date: {subject: …}}},
    days and keys in ascending order; only days with events appear."""
    cells: dict[tuple[str, str], _SubjectDay] = {}
    by_app: dict[tuple[str, str, str], _SubjectDay] = {}
    for item in items:
        day = item.day.isoformat()
        cells.setdefault((day, item.subject), _SubjectDay()).add(item)
        by_app.setdefault((item.app, day, item.subject), _SubjectDay()).add(item)
    facts: dict[str, Any] = {}
    for (day, subject), cell in sorted(cells.items()):
        facts.setdefault(day, {})[subject] = cell.render()
    apps: dict[str, Any] = {}
    for (app, day, subject), cell in sorted(by_app.items()):
        apps.setdefault(app, {}).setdefault(day, {})[subject] = cell.render()
    return facts, apps


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
        groups.setdefault((item.day.isoformat(), item.subject, item.app, item.course_id or ""), []).append(item)
    rows = []
    for (day_text, subject, app, course_id), members in sorted(groups.items()):
        day = members[0].day
        sums: dict[str, float | int] = {}
        for member in members:
            for field, value in member.metrics.items():
                sums[field] = sums.get(field, 0) + value
        first = min(members, key=lambda m: (m.moment, m.event_id))
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
            **{f: number(sums.get(f, 0)) for f in ACTIVITY_METRICS.values()},
            **{f: _seconds_text(sums.get(f, 0)) for f in TIME_SPENT_METRICS.values()},
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
