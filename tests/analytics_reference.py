"""An independent reading of EduBridge analytics, for tests/test_edubridge_analytics.py.

Written apart from mocks/analytics.py on purpose (it must not import it, nor anything of the
sandbox): it starts from the events as they were *sent*, converts each event's own time to the
requested timezone with zoneinfo and keeps the ones whose local calendar day lies in the range
(where the sandbox instead turns the range into one UTC interval and asks the store for it), then
adds the metric items up in plain nested dicts. If both readings agree on random events across DST
changes, the sandbox's day windows and sums are right.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any, Iterable
from zoneinfo import ZoneInfo

ACTIVITY_KEYS = {"xpEarned": "xpEarned", "totalQuestions": "totalQuestions",
                 "correctQuestions": "correctQuestions", "masteredUnits": "masteredUnits"}
TIME_KEYS = {"active": "activeSeconds", "inactive": "inactiveSeconds", "waste": "wasteSeconds"}


def instant(text: str) -> datetime:
    """A sent eventTime (Z or an offset) as an aware UTC datetime."""
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    return datetime.fromisoformat(text).astimezone(timezone.utc)


def local_day(event: dict[str, Any], tz: str) -> date:
    return instant(event["eventTime"]).astimezone(ZoneInfo(tz)).date()


def is_students(event: dict[str, Any], student_id: str | None = None, email: str | None = None) -> bool:
    actor = event["actor"]
    actor_id = actor["id"]
    by_id = student_id is not None and (actor_id == student_id or actor_id.rsplit("/", 1)[-1] == student_id)
    by_email = email is not None and actor.get("email", "").lower() == email.lower()
    return by_id or by_email


def figures(event: dict[str, Any]) -> dict[str, float]:
    """Answer field -> summed value of the event's metric items (unknown item types ignored)."""
    keys = ACTIVITY_KEYS if event["type"] == "ActivityEvent" else TIME_KEYS
    out: dict[str, float] = {}
    for item in event["generated"]["items"]:
        if item["type"] in keys:
            out[keys[item["type"]]] = out.get(keys[item["type"]], 0) + item["value"]
    return out


def _empty_cell() -> dict[str, Any]:
    return {"activityMetrics": {k: 0 for k in ACTIVITY_KEYS.values()},
            "timeSpentMetrics": {k: 0 for k in TIME_KEYS.values()}, "apps": set()}


def _add(cell: dict[str, Any], event: dict[str, Any]) -> None:
    cell["apps"].add(event["object"]["app"]["name"])
    for key, value in figures(event).items():
        group = "activityMetrics" if key in ACTIVITY_KEYS.values() else "timeSpentMetrics"
        cell[group][key] += value


def _finish(cell: dict[str, Any]) -> dict[str, Any]:
    return {"activityMetrics": cell["activityMetrics"], "timeSpentMetrics": cell["timeSpentMetrics"],
            "apps": sorted(cell["apps"])}


def selected(events: Iterable[dict[str, Any]], tz: str, first: date, last: date, **who: Any) -> list[dict[str, Any]]:
    """The student's events whose local day (in tz) is first..last."""
    return [e for e in events if is_students(e, **who) and first <= local_day(e, tz) <= last]


def daily(events: Iterable[dict[str, Any]], tz: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(facts, factsByApp) of already selected events."""
    facts: dict[str, dict[str, Any]] = {}
    by_app: dict[str, dict[str, dict[str, Any]]] = {}
    for event in events:
        day = local_day(event, tz).isoformat()
        subject, app = event["object"]["subject"], event["object"]["app"]["name"]
        _add(facts.setdefault(day, {}).setdefault(subject, _empty_cell()), event)
        _add(by_app.setdefault(app, {}).setdefault(day, {}).setdefault(subject, _empty_cell()), event)
    return ({d: {s: _finish(c) for s, c in subjects.items()} for d, subjects in facts.items()},
            {a: {d: {s: _finish(c) for s, c in subjects.items()} for d, subjects in days.items()}
             for a, days in by_app.items()})


def week_days(week_date: date) -> tuple[date, date]:
    monday = week_date - timedelta(days=week_date.weekday())
    return monday, monday + timedelta(days=6)


def course_key(event: dict[str, Any]) -> str | None:
    course = event["object"].get("course")
    if not course or not course.get("id"):
        return None
    return course["id"].rstrip("/").rsplit("/", 1)[-1]


def weekly(events: Iterable[dict[str, Any]], tz: str) -> dict[tuple[str, str, str, str | None], dict[str, Any]]:
    """(date, subject, app, courseId) -> summed metrics, of already selected events."""
    rows: dict[tuple[str, str, str, str | None], dict[str, Any]] = {}
    for event in events:
        key = (local_day(event, tz).isoformat(), event["object"]["subject"], event["object"]["app"]["name"],
               course_key(event))
        row = rows.setdefault(key, {**{k: 0 for k in ACTIVITY_KEYS.values()}, **{k: 0 for k in TIME_KEYS.values()}})
        for field, value in figures(event).items():
            row[field] += value
    return rows
