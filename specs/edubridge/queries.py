"""EduBridge analytics query parameters: IANA timezones, local calendar days and the UTC windows
they cover, and the judges that say whether a query can be answered at all.

OpenAPI cannot say "studentId or email", "endDate not before startDate" or "an IANA timezone", so
the analytics operations name a judge here with `x-tb-query-validator`. The sandbox answers 400
with the judge's problems (mocks/validation.py), and the contract layer counts a query the judge
refuses as a negative case (harness/contract.py), so both sides always agree on what is valid.
`mocks/analytics.py` builds its windows with the same functions.

Days are calendar days in the request's timezone. A window is the half-open UTC interval
[start of the first day, start of the day after the last), so a day that is 23 or 25 hours long
(DST) is still one day.
"""
from __future__ import annotations

import functools
import re
import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any, Callable

UTC = timezone.utc
DEFAULT_ZONE = "UTC"
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
STUDENT = ("studentId", "email")


class AnalyticsInputError(ValueError):
    """A parameter the analytics cannot honour; the behaviour answers 400 naming `param`."""

    def __init__(self, param: str, message: str) -> None:
        super().__init__(message)
        self.param = param
        self.message = message


@functools.lru_cache(maxsize=1)
def _zone_names() -> dict[str, str]:
    """Every IANA name by its lower-case spelling (read once, on the first unusual spelling)."""
    return {name.lower(): name for name in zoneinfo.available_timezones()}


def resolve_zone(name: Any) -> zoneinfo.ZoneInfo:
    """The IANA timezone `name` (UTC when absent). Matched case-insensitively, as browsers' Intl
    (and so Timeback's JavaScript servers) do; anything else is an input error, never a file read."""
    text = str(name).strip() if name not in (None, "") else DEFAULT_ZONE
    candidates = [text] if _plausible_zone(text) else []
    canonical = _zone_names().get(text.lower()) if candidates else None
    if canonical and canonical != text:
        candidates.append(canonical)
    for candidate in candidates:
        try:
            return zoneinfo.ZoneInfo(candidate)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
            continue
    raise AnalyticsInputError("timezone", f"timezone must be an IANA timezone name (e.g. America/New_York), got {text!r}")


def _plausible_zone(text: str) -> bool:
    return 0 < len(text) <= 64 and bool(re.fullmatch(r"[A-Za-z0-9_+\-]+(?:/[A-Za-z0-9_+\-]+)*", text))


def start_of_day(day: date, zone: zoneinfo.ZoneInfo) -> datetime:
    """The UTC instant a local calendar day begins. A midnight that a DST change skips maps (fold 0,
    the offset before the change) onto the change itself, which is exactly when that day begins."""
    return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)


@dataclass(frozen=True)
class Window:
    """The half-open UTC interval [start, end) of events a request covers, and its timezone."""

    start: datetime
    end: datetime
    zone: zoneinfo.ZoneInfo

    def stored_bounds(self) -> tuple[str, str]:
        """The bounds spelt as the stored `eventTimeUtc` (UTC, microseconds), comparable as text."""
        return stamp(self.start), stamp(self.end)

    def labels(self) -> tuple[str, str]:
        """startDate / endDate of the answer: first and last millisecond, UTC, as the client sends them."""
        return _millis(self.start), _millis(self.end - timedelta(milliseconds=1))


def _clock(moment: datetime) -> str:
    """`YYYY-MM-DDTHH:MM:SS` in UTC, the year always four digits (strftime's %Y is not, before 1000)."""
    m = moment.astimezone(UTC)
    return f"{m.year:04d}-{m.month:02d}-{m.day:02d}T{m.hour:02d}:{m.minute:02d}:{m.second:02d}"


def stamp(moment: datetime) -> str:
    """As the stored `eventTimeUtc`: UTC, microseconds."""
    return f"{_clock(moment)}.{moment.astimezone(UTC).microsecond:06d}Z"


def _millis(moment: datetime) -> str:
    return f"{_clock(moment)}.{moment.astimezone(UTC).microsecond // 1000:03d}Z"


def parse_day(param: str, text: Any) -> date:
    raw = str(text).strip()
    try:
        if _DATE_ONLY.match(raw):
            return date.fromisoformat(raw)
    except ValueError:
        pass
    raise AnalyticsInputError(param, f"{param} must be a date (YYYY-MM-DD), got {raw!r}")


def _parse_moment(param: str, raw: str, zone: zoneinfo.ZoneInfo) -> datetime:
    """A date-time; one without an offset is local time in `zone`."""
    try:
        if not _DATE_TIME.match(raw):
            raise ValueError(raw)
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00").replace("z", "+00:00"))
        moment = moment if moment.tzinfo else moment.replace(tzinfo=zone)
        return moment.astimezone(UTC)
    except (ValueError, OverflowError):
        raise AnalyticsInputError(param, f"{param} must be a date (YYYY-MM-DD) or an ISO 8601 date-time, "
                                         f"got {raw!r}") from None


def bound(param: str, text: Any, zone: zoneinfo.ZoneInfo, end: bool) -> datetime:
    """One end of a range. A date means its whole local day; a date-time is an instant, and as an
    end it is inclusive: one given to the millisecond (the official client sends `…23:59:59.999Z`)
    covers that whole millisecond, since events are stored to the microsecond."""
    raw = str(text).strip()
    try:
        if _DATE_ONLY.match(raw):
            day = parse_day(param, raw)
            return start_of_day(day + timedelta(days=1), zone) if end else start_of_day(day, zone)
        moment = _parse_moment(param, raw, zone)
        if end:
            step = timedelta(milliseconds=1) if moment.microsecond % 1000 == 0 else timedelta(microseconds=1)
            moment += step
        return moment
    except OverflowError:
        raise AnalyticsInputError(param, f"{param} is outside the supported range of dates, got {raw!r}") from None


def date_range(start_text: Any, end_text: Any, zone: zoneinfo.ZoneInfo,
               start_param: str = "startDate", end_param: str = "endDate") -> Window:
    """The window of startDate..endDate (both inclusive); endDate before startDate is an error."""
    start = bound(start_param, start_text, zone, end=False)
    end = bound(end_param, end_text, zone, end=True)
    if end <= start:
        raise AnalyticsInputError(end_param, f"{end_param} ({str(end_text).strip()}) is before {start_param} "
                                             f"({str(start_text).strip()})")
    return Window(start, end, zone)


def days_window(first: date, last: date, zone: zoneinfo.ZoneInfo) -> Window:
    try:
        return Window(start_of_day(first, zone), start_of_day(last + timedelta(days=1), zone), zone)
    except OverflowError:
        raise AnalyticsInputError("endDate", "the range reaches outside the supported dates") from None


def week_of(text: Any, zone: zoneinfo.ZoneInfo, param: str = "weekDate") -> Window:
    """Monday to Sunday (local) of the week holding `text`: a date, or an instant (the official
    client sends the local midnight of the date it was given, converted to UTC)."""
    raw = str(text).strip()
    try:
        day = parse_day(param, raw) if _DATE_ONLY.match(raw) else _parse_moment(param, raw, zone).astimezone(zone).date()
        monday = day - timedelta(days=day.weekday())
        return days_window(monday, monday + timedelta(days=6), zone)
    except (OverflowError, AnalyticsInputError) as exc:
        if isinstance(exc, AnalyticsInputError) and exc.param == param:
            raise
        raise AnalyticsInputError(param, f"{param} is outside the supported range of dates, got {raw!r}") from None


# ----------------------------------------------------------------------------------------------
# Judges (x-tb-query-validator)
# ----------------------------------------------------------------------------------------------

Problem = dict[str, str]


def _text(query: dict[str, Any], name: str) -> str | None:
    value = query.get(name)
    if isinstance(value, list):
        value = value[0] if value else None
    text = str(value).strip() if value is not None else ""
    return text or None


def _judged(check: Callable[[], Any]) -> list[Problem]:
    try:
        check()
    except AnalyticsInputError as exc:
        return [{"path": exc.param, "message": exc.message}]
    return []


def _student(query: dict[str, Any]) -> list[Problem]:
    if any(_text(query, name) for name in STUDENT):
        return []
    return [{"path": "studentId", "message": "give studentId or email to name the student"}]


def _zone_of(query: dict[str, Any]) -> tuple[zoneinfo.ZoneInfo | None, list[Problem]]:
    try:
        return resolve_zone(_text(query, "timezone")), []
    except AnalyticsInputError as exc:
        return None, [{"path": exc.param, "message": exc.message}]


def _range(query: dict[str, Any], required: bool) -> list[Problem]:
    zone, problems = _zone_of(query)
    start, end = _text(query, "startDate"), _text(query, "endDate")
    if required:
        problems += [{"path": n, "message": f"query parameter {n!r} is required"}
                     for n, v in (("startDate", start), ("endDate", end)) if v is None]
    if zone is None:
        return problems
    for name, value, is_end in (("startDate", start, False), ("endDate", end, True)):
        if value is not None:
            problems += _judged(lambda: bound(name, value, zone, is_end))
    if start is not None and end is not None and not problems:
        problems += _judged(lambda: date_range(start, end, zone))
    return problems


def student_range(query: dict[str, Any]) -> list[Problem]:
    """analytics/activity: a student, startDate..endDate (in order), an IANA timezone."""
    return _student(query) + _range(query, required=True)


def student_week(query: dict[str, Any]) -> list[Problem]:
    """analytics/facts/weekly: a student, the week of weekDate, an IANA timezone."""
    zone, problems = _zone_of(query)
    week = _text(query, "weekDate")
    if week is None:
        problems.append({"path": "weekDate", "message": "query parameter 'weekDate' is required"})
    elif zone is not None:
        problems += _judged(lambda: week_of(week, zone))
    return _student(query) + problems


def optional_range(query: dict[str, Any]) -> list[Problem]:
    """analytics/enrollment/{id}: optional startDate..endDate (in order), an IANA timezone."""
    return _range(query, required=False)


QUERY_VALIDATORS: dict[str, Callable[[dict[str, Any]], list[Problem]]] = {
    "edubridge.student-range": student_range,
    "edubridge.student-week": student_week,
    "edubridge.range": optional_range,
}
