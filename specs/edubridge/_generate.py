"""Generate the EduBridge (Timeback) OpenAPI 3.1 spec.

Run from the repository root:  python -m tbconform.specs.edubridge._generate

Writes edubridge.yaml next to this file. EduBridge is Timeback's course-centric layer over
OneRoster: most of its state is OneRoster's (users, courses, classes, academic sessions,
enrollments, assessment results), so its behaviours read and write those collections, and the
spec declares only the few collections of its own (applications, their metrics, subject tracks).
Schemas come from the tables below (FIELD tables per answer shape, one OPS row per operation);
where the Sep-2025 spec and the 0.4.0 official client disagree, the sandbox serves what the client
parses and says so in DIFFERENCES.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tbconform.specs.caliper import _generate as caliper_spec
from tbconform.specs.oneroster import _generate as oneroster_spec
from tbconform.specs.schema_kit import (add_operation, arr, close_refs, components_for, dump_yaml, enum,
                                         finish_operation, obj, s, sref)

HERE = Path(__file__).resolve().parent
BASE = "/edubridge"
SERVERS = oneroster_spec.SERVERS
SCOPE = oneroster_spec.SCOPE  # EduBridge sits on the OneRoster host and its scopes
RIGHTS = {"get": "roster.readonly", "post": "roster.createput", "put": "roster.createput",
          "delete": "roster.delete"}
STAMP = "2025-09-01T08:00:00.000Z"
USER_ID, COURSE_ID, SCHOOL_ID = "user-0001", "course-0001", "org-0002"
ENROLLMENT_ID, CLASS_ID, TERM_ID = "eb-enr-user-0001-course-0001", "eb-class-course-0001-2025", "eb-term-org-0002-2025"
APP_ID = "app-0001"

LIB: dict[str, dict[str, Any]] = {k: {} for k in ("schemas", "parameters", "headers", "requestBodies",
                                                  "responses", "securitySchemes")}
SCHEMAS = LIB["schemas"]

NSTR, NINT, NNUM = s(nullable=True), s("integer", nullable=True), s("number", nullable=True)
DATE_OR_TIME = {"type": "string", "maxLength": 64, "anyOf": [{"format": "date"}, {"format": "date-time"}]}
STRINGS = arr(s())


def schema(name: str, props: dict[str, Any], required: list[str], description: str, example: Any,
           **kw: Any) -> None:
    """Register one component schema (open object) with its example."""
    SCHEMAS[name] = obj(props, required, description=description, example=example, **kw)


def wrapped(name: str, key: str, inner: dict[str, Any], example: Any, description: str) -> None:
    """An answer `{<key>: inner}`: the `data` wrapper most EduBridge answers use."""
    schema(name, {key: inner}, [key], description, {key: example})


# ----------------------------------------------------------------------------------------------
# Analytics (behaviours in mocks/behaviours/edubridge_analytics.py)
# ----------------------------------------------------------------------------------------------

ACTIVITY = {"xpEarned": 42.5, "totalQuestions": 20, "correctQuestions": 17, "masteredUnits": 1}
TIME_SPENT = {"activeSeconds": 1800.0, "inactiveSeconds": 120.0, "wasteSeconds": 30.0}
SUBJECT_METRICS = {"activityMetrics": ACTIVITY, "timeSpentMetrics": TIME_SPENT, "apps": ["Example Math"]}
DAILY = {"2025-09-15": {"Math": SUBJECT_METRICS}}
BY_APP = {"Example Math": DAILY}
schema("ActivityMetrics", {"xpEarned": s("number"), "totalQuestions": s("integer"),
                           "correctQuestions": s("integer"), "masteredUnits": s("integer")},
       ["xpEarned", "totalQuestions", "correctQuestions", "masteredUnits"],
       "Sums of the activity metrics (TimebackActivityMetricsCollection items) of a day and subject.", ACTIVITY)
schema("TimeSpentMetrics", {"activeSeconds": s("number"), "inactiveSeconds": s("number"),
                            "wasteSeconds": s("number")},
       ["activeSeconds", "inactiveSeconds", "wasteSeconds"],
       "Sums of the time-spent metrics (TimebackTimeSpentMetricsCollection items) of a day and subject.",
       TIME_SPENT)
schema("SubjectMetrics", {"activityMetrics": sref("ActivityMetrics"), "timeSpentMetrics": sref("TimeSpentMetrics"),
                          "apps": arr(s(), description="Names of the apps the facts came from.")},
       ["activityMetrics", "timeSpentMetrics", "apps"], "A day's metrics in one subject.", SUBJECT_METRICS)
SCHEMAS["DailyFacts"] = s("object", additionalProperties=s("object", additionalProperties=sref("SubjectMetrics")),
                          propertyNames={"format": "date"},
                          description="Facts by date (YYYY-MM-DD, in the request's timezone), then by subject.",
                          example=DAILY)
SCHEMAS["FactsByApp"] = s("object", additionalProperties=sref("DailyFacts"),
                          description="The same facts by app name first, then by date and subject.",
                          example=BY_APP)
schema("ActivityResponse", {"message": s(), "startDate": s(), "endDate": s(), "facts": sref("DailyFacts"),
                            "factsByApp": sref("FactsByApp")},
       ["message", "startDate", "endDate", "facts", "factsByApp"],
       "A student's daily activity facts over a date range.",
       {"message": "Activity facts", "startDate": "2025-09-15T00:00:00.000Z", "endDate": "2025-09-21T23:59:59.999Z",
        "facts": DAILY, "factsByApp": BY_APP})
schema("EnrollmentFactsResponse", {"message": s(), "enrollmentId": s(), "startDate": NSTR, "endDate": NSTR,
                                   "facts": sref("DailyFacts"), "factsByApp": sref("FactsByApp")},
       ["message", "enrollmentId", "facts", "factsByApp"],
       "The daily facts of one enrollment (its student in its course).",
       {"message": "Enrollment facts", "enrollmentId": ENROLLMENT_ID, "startDate": None, "endDate": None,
        "facts": DAILY, "factsByApp": BY_APP})
# WeeklyFactRecord of the official client, field by field: (name, schema, required)
WEEKLY_FIELDS: list[tuple[str, dict[str, Any], bool]] = [
    ("id", s("integer"), True), ("email", s(), True), ("date", s(), True), ("datetime", s(), True),
    ("username", NSTR, False), ("userGrade", NSTR, False), ("userFamilyName", NSTR, False),
    ("userGivenName", NSTR, False), ("userId", NSTR, False), ("subject", NSTR, False), ("app", NSTR, False),
    ("courseId", NSTR, False), ("courseName", NSTR, False), ("campusId", NSTR, False), ("campusName", NSTR, False),
    ("enrollmentId", NSTR, False), ("activityId", NSTR, False), ("activityName", NSTR, False),
    ("totalQuestions", NINT, False), ("correctQuestions", NINT, False), ("xpEarned", NNUM, False),
    ("masteredUnits", NINT, False),
    ("activeSeconds", s(nullable=True, description="Seconds, as a decimal string (the client types it str)."), False),
    ("inactiveSeconds", NSTR, False), ("wasteSeconds", NSTR, False),
    ("source", s(description="Where the fact came from, e.g. `caliper`."), True), ("alphaLevel", NSTR, False),
    ("generatedAt", NSTR, False), ("sendTime", NSTR, False), ("sensor", NSTR, False), ("eventType", NSTR, False),
    ("year", s("integer"), True), ("month", s("integer"), True), ("day", s("integer"), True),
    ("dayOfWeek", s("integer", minimum=0, maximum=6, description="0 = Sunday."), True),
]
WEEKLY_FACT = {"id": 1, "email": "ada.student@example.org", "date": "2025-09-15",
               "datetime": "2025-09-15T14:03:12.000Z", "userId": USER_ID, "subject": "Math", "app": "Example Math",
               "courseId": COURSE_ID, "enrollmentId": ENROLLMENT_ID, "activityName": "Fractions quiz 3",
               "totalQuestions": 10, "correctQuestions": 8, "xpEarned": 12.0, "masteredUnits": 0,
               "activeSeconds": None, "inactiveSeconds": None, "wasteSeconds": None, "source": "caliper",
               "sensor": "https://app.example.org/sensors/main", "eventType": "ActivityEvent",
               "year": 2025, "month": 9, "day": 15, "dayOfWeek": 1}
schema("WeeklyFact", {n: sch for n, sch, _ in WEEKLY_FIELDS}, [n for n, _, req in WEEKLY_FIELDS if req],
       "One processed fact (one metric-bearing event) of the week.", WEEKLY_FACT)
schema("WeeklyFactsResponse", {"message": s(), "startDate": s(), "endDate": s(), "facts": arr(sref("WeeklyFact"))},
       ["message", "startDate", "endDate", "facts"], "The facts of the week (Monday to Sunday) containing weekDate.",
       {"message": "Weekly facts", "startDate": "2025-09-15T00:00:00.000Z", "endDate": "2025-09-21T23:59:59.999Z",
        "facts": [WEEKLY_FACT]})
GRADES = {"ritGrade": 5, "edulasticGrade": None, "placementGrade": "4", "testOutGrade": None,
          "highestGradeOverall": "5"}
schema("GradeMastery", {"ritGrade": NINT, "edulasticGrade": NSTR, "placementGrade": NSTR, "testOutGrade": NSTR,
                        "highestGradeOverall": NSTR},
       ["ritGrade", "edulasticGrade", "placementGrade", "testOutGrade", "highestGradeOverall"],
       "The highest grade mastered by source (null: no result of that source); the overall highest of those present.",
       GRADES)
schema("HighestGradeMastered", {"studentId": s(), "subject": s(), "grades": sref("GradeMastery")},
       ["studentId", "subject", "grades"], "Highest grade mastered in a subject (unwrapped, as the client reads it).",
       {"studentId": USER_ID, "subject": "Math", "grades": GRADES})

# ----------------------------------------------------------------------------------------------
# Enrollments (course-centric views of OneRoster records)
# ----------------------------------------------------------------------------------------------

GOALS = {"dailyXp": 40, "dailyLessons": 2, "dailyActiveMinutes": 25, "dailyAccuracy": 80, "dailyMasteredUnits": 1}
METRICS = {"totalXp": 2000, "totalLessons": 60}
schema("EnrollmentGoals", {k: NNUM for k in GOALS}, [], "Daily goals of an enrollment (or course).", GOALS)
schema("EnrollmentMetrics", {"totalXp": NNUM, "totalLessons": NNUM, "totalGrades": NNUM, "courseType": NSTR,
                             "isSupplemental": s("boolean", nullable=True)}, [],
       "Course totals (totalGrades, courseType and isSupplemental are the client's additions).", METRICS)
schema("EnrollmentMetadata", {"goals": {"anyOf": [sref("EnrollmentGoals"), {"type": "null"}]},
                              "metrics": {"anyOf": [sref("EnrollmentMetrics"), {"type": "null"}]},
                              "studentSpecificGoals": s("boolean", description="true: propagateGoals/resetGoals "
                                                                               "leave these goals alone.")},
       [], "Timeback's enrollment metadata (free-form beyond these members).", {"goals": GOALS, "metrics": METRICS})
COURSE_VIEW = {"id": COURSE_ID, "title": "Math G4", "metadata": {"goals": GOALS, "metrics": METRICS},
               "subjects": ["Math"], "grades": ["4"], "primaryApp": None}
schema("EnrollmentCourse", {"id": s(), "title": s(), "metadata": s("object", additionalProperties=True),
                            "subjects": arr(s(), nullable=True), "grades": arr(s(), nullable=True),
                            "primaryApp": obj({"id": s(), "name": s(), "domains": STRINGS},
                                              ["id", "name", "domains"], nullable=True)},
       ["id", "title", "metadata"], "The course of an enrollment.", COURSE_VIEW)
PERIOD = {"id": TERM_ID, "title": "2025-2026 Term", "startDate": "2025-07-01", "endDate": "2026-06-30"}
EDU_ENROLLMENT = {"id": ENROLLMENT_ID, "role": "student", "beginDate": "2025-09-01", "endDate": None,
                  "metadata": {"goals": GOALS, "metrics": METRICS}, "course": COURSE_VIEW,
                  "school": {"id": SCHOOL_ID, "name": "Example Elementary"}, "periods": [PERIOD],
                  "testOutSupported": False, "testOutEligible": False}
schema("EduEnrollment", {
    "id": s(description="The OneRoster enrollment's sourcedId."),
    "role": enum("administrator", "proctor", "student", "teacher"),
    "beginDate": NSTR, "endDate": NSTR, "metadata": {"anyOf": [sref("EnrollmentMetadata"), {"type": "null"}]},
    "course": sref("EnrollmentCourse"),
    "school": obj({"id": s(), "name": s()}, ["id", "name"]),
    "periods": arr(obj({"id": s(), "title": s(), "startDate": NSTR, "endDate": NSTR}, ["id", "title"]),
                   nullable=True, description="The terms of the enrollment's class."),
    "testOutSupported": s("boolean"), "testOutEligible": s("boolean"),
}, ["id", "role", "course", "school"], "A user's enrollment in a course (course-centric view).", EDU_ENROLLMENT)
wrapped("EnrollmentAnswer", "data", sref("EduEnrollment"), EDU_ENROLLMENT, "The enrollment.")
wrapped("EnrollmentListAnswer", "data", arr(sref("EduEnrollment")), [EDU_ENROLLMENT],
        "The user's active enrollments.")
schema("EnrollInput", {
    "sourcedId": s(minLength=1, description="The enrollment's sourcedId (default: allocated)."),
    "role": enum("administrator", "proctor", "student", "teacher", description="Default student."),
    "beginDate": {**DATE_OR_TIME, "description": "Default today."},
    "metadata": sref("EnrollmentMetadata"),
}, [], "Options of an enrollment (all optional).", {"role": "student", "beginDate": "2025-09-01",
                                                     "metadata": {"goals": GOALS}})
DEFAULT_CLASS = {"id": CLASS_ID, "title": "Math G4", "classCode": "course-0001-2025", "subjectCodes": [],
                 "subjects": ["Math"], "grades": ["4"], "periods": [TERM_ID],
                 "course": {"id": COURSE_ID, "title": "Math G4", "metadata": {}}}
schema("DefaultClass", {"id": s(), "title": s(), "classCode": NSTR, "subjectCodes": STRINGS, "subjects": STRINGS,
                        "grades": arr(s(), nullable=True), "periods": arr(s(), description="Term sourcedIds."),
                        "course": obj({"id": s(), "title": s(), "metadata": s("object", additionalProperties=True)},
                                      ["id", "title", "metadata"])},
       ["id", "title", "subjectCodes", "subjects", "periods", "course"],
       "A course's default class for the current term (a OneRoster class with the same sourcedId).", DEFAULT_CLASS)
wrapped("DefaultClassAnswer", "data", sref("DefaultClass"), DEFAULT_CLASS, "The default class.")
schema("GoalsResult", {"updated": s("integer", minimum=0), "errors": STRINGS}, ["updated", "errors"],
       "How many enrollments got the course's goals.", {"updated": 3, "errors": []})
wrapped("GoalsAnswer", "data", sref("GoalsResult"), {"updated": 3, "errors": []}, "Goals copied.")
schema("NullData", {"data": {"type": "null"}}, ["data"], "An answer without data.", {"data": None})

# ----------------------------------------------------------------------------------------------
# Applications, application metrics, subject tracks (EduBridge's own collections)
# ----------------------------------------------------------------------------------------------

APPLICATION = {"sourcedId": APP_ID, "name": "Example Math", "description": "Adaptive math practice",
               "domain": ["math.example.org"], "tenantId": "tenant-0001", "clientAppId": "client-0001",
               "status": "active", "dateLastModified": STAMP, "metadata": {}}
schema("Application", {"sourcedId": s(), "name": s(), "description": NSTR, "domain": STRINGS, "tenantId": NSTR,
                       "clientAppId": NSTR, "status": enum("active", "tobedeleted"), "dateLastModified": s(),
                       "metadata": s("object", nullable=True, additionalProperties=True)},
       ["sourcedId", "name", "domain", "status", "dateLastModified"], "An application (learning app).", APPLICATION)
schema("ApplicationList", {"applications": arr(sref("Application")),
                           **{k: s("integer", minimum=0) for k in ("totalCount", "pageCount", "pageNumber", "offset",
                                                                   "limit")}},
       ["applications"], "Applications.", {"applications": [APPLICATION]})
METRIC = {"applicationSourcedId": APP_ID, "metric": "xpEarned", "metricSource": "caliper"}
schema("ApplicationMetric", {"applicationSourcedId": s(), "metric": s(), "metricSource": s()},
       ["applicationSourcedId", "metric", "metricSource"], "A metric an application reports.", METRIC)
schema("ApplicationMetricRecord", {"sourcedId": s(description="Store key: applicationSourcedId, metric and "
                                                              "metricSource joined by `:`."),
                                   "applicationSourcedId": s(), "metric": s(), "metricSource": s(),
                                   "dateLastModified": s()},
       ["sourcedId", "applicationSourcedId", "metric", "metricSource"], "Store record of an application metric.",
       {"sourcedId": f"{APP_ID}:xpEarned:caliper", **METRIC, "dateLastModified": STAMP})
APP_METRICS = {"applicationSourcedId": APP_ID, "totalUsers": None, "activeUsers": None, "totalSessions": None,
               "avgSessionDuration": None, "metadata": {}, "metrics": [METRIC]}
schema("ApplicationMetrics", {"applicationSourcedId": s(), "totalUsers": NINT, "activeUsers": NINT,
                              "totalSessions": NINT, "avgSessionDuration": NNUM,
                              "metadata": s("object", nullable=True, additionalProperties=True),
                              "metrics": arr(sref("ApplicationMetric"), description="The tracked metrics (the "
                                                                                     "Sep-2025 spec's `data`).")},
       ["applicationSourcedId", "metrics"], "An application's metrics: the client's object, holding the spec's list.",
       APP_METRICS)
wrapped("ApplicationMetricsAnswer", "data", sref("ApplicationMetrics"), APP_METRICS, "The application's metrics.")
wrapped("ApplicationMetricAnswer", "data", sref("ApplicationMetric"), METRIC, "The created metric.")
schema("ApplicationMetricInput", {"applicationMetric": obj({"metric": s(minLength=1), "metricSource": s(minLength=1)},
                                                           ["metric", "metricSource"], additionalProperties=False)},
       ["applicationMetric"], "The metric (create) or the metric to delete.",
       {"applicationMetric": {"metric": "xpEarned", "metricSource": "caliper"}})

TRACK = {"id": "st-math-9-org-0002-3bbdb52a", "subject": "Math", "grade": "9",
         "course": {"sourcedId": COURSE_ID, "id": COURSE_ID, "title": "Math G4", "metadata": {}},
         "org": {"sourcedId": SCHOOL_ID, "id": SCHOOL_ID, "name": "Example Elementary"}}
TRACK_COURSE = obj({"sourcedId": s(), "id": s(), "title": s(), "metadata": s("object", nullable=True,
                                                                            additionalProperties=True)},
                   ["sourcedId", "title"])
TRACK_ORG = obj({"sourcedId": s(), "id": s(), "name": s()}, ["sourcedId", "name"], nullable=True)
schema("SubjectTrack", {"id": s(), "subject": s(), "grade": s(), "course": TRACK_COURSE, "org": TRACK_ORG},
       ["id", "subject", "grade", "course"], "The target course of a subject and grade (at an org, or global).",
       TRACK)
schema("SubjectTrackRecord", {"sourcedId": s(description="Store key, equal to id."), "id": s(), "subject": s(),
                              "grade": s(), "courseId": s(), "orgSourcedId": NSTR, "dateLastModified": s()},
       ["sourcedId", "id", "subject", "grade", "courseId"],
       "Store record of a subject track: its key and course (answers expand course and org when read).",
       {"sourcedId": TRACK["id"], "id": TRACK["id"], "subject": "Math", "grade": "9", "courseId": COURSE_ID,
        "orgSourcedId": SCHOOL_ID, "dateLastModified": STAMP})
schema("SubjectTrackList", {"subjectTrack": arr(sref("SubjectTrack")),
                            **{k: s("integer", minimum=0) for k in ("totalCount", "pageCount", "pageNumber", "offset",
                                                                    "limit")}},
       ["subjectTrack"], "Subject tracks.", {"subjectTrack": [TRACK]})
wrapped("SubjectTrackAnswer", "subjectTrack", sref("SubjectTrack"), TRACK, "The stored subject track.")
NONEMPTY = s(minLength=1)
schema("SubjectTrackInput", {"subject": NONEMPTY, "grade": NONEMPTY, "courseId": NONEMPTY,
                             "orgSourcedId": s(nullable=True, description="The org; absent or null: global.")},
       ["subject", "grade", "courseId"], "A subject track, keyed by subject + grade + org.",
       {"subject": "Math", "grade": "9", "courseId": COURSE_ID, "orgSourcedId": SCHOOL_ID})
GROUP_KEY = {"subject": "Math", "grade": "9", "courseId": COURSE_ID, "isGlobal": False}
GROUP = {"id": "Math|9|course-0001", "name": "Math grade 9: Math G4", "key": GROUP_KEY, "tracks": [TRACK]}
schema("SubjectTrackGroup", {"id": s(description="subject|grade|courseId."), "name": s(), "description": NSTR,
                             "key": obj({"subject": s(), "grade": s(), "courseId": s(), "isGlobal": s("boolean")},
                                        ["subject", "grade", "courseId", "isGlobal"]),
                             "tracks": arr(sref("SubjectTrack")),
                             "metadata": s("object", nullable=True, additionalProperties=True)},
       ["id", "name", "key", "tracks"], "The tracks sending one subject and grade to one course.", GROUP)
wrapped("SubjectTrackGroupList", "groups", arr(sref("SubjectTrackGroup")), [GROUP], "Subject track groups.")
ORG_IDS = arr(NONEMPTY, description="Orgs the group's tracks are for.")
schema("SubjectTrackGroupCreate", {"subject": NONEMPTY, "grade": NONEMPTY, "courseId": NONEMPTY,
                                   "orgSourcedIds": ORG_IDS}, ["subject", "grade", "courseId", "orgSourcedIds"],
       "A new group: one track per org (an empty list: one global track).",
       {"subject": "Math", "grade": "9", "courseId": COURSE_ID, "orgSourcedIds": [SCHOOL_ID]})
schema("SubjectTrackGroupReplace", {"subject": NONEMPTY, "grade": NONEMPTY, "currentCourseId": NONEMPTY,
                                    "courseId": NONEMPTY, "isGlobal": s("boolean"), "orgSourcedIds": ORG_IDS,
                                    "strategy": enum("replace", "fail",
                                                     description="What to do when another group already tracks "
                                                                 "one of the orgs: take it over, or refuse (409).")},
       ["subject", "grade", "currentCourseId", "courseId", "orgSourcedIds"],
       "Replace a group (subject + grade + currentCourseId) by one for courseId.",
       {"subject": "Math", "grade": "9", "currentCourseId": COURSE_ID, "courseId": COURSE_ID, "isGlobal": False,
        "orgSourcedIds": [SCHOOL_ID], "strategy": "replace"})
schema("SubjectTrackGroupKey", {"subject": NONEMPTY, "grade": NONEMPTY, "courseId": NONEMPTY,
                                "isGlobal": s("boolean")}, ["subject", "grade", "courseId"],
       "Which group to delete (isGlobal true: its global track only; false: its org tracks only; absent: all).",
       GROUP_KEY)

# ----------------------------------------------------------------------------------------------
# Learning reports, time saved, users, caliper
# ----------------------------------------------------------------------------------------------

MAP_TEST = {"subject": "Math", "testWindow": "Fall", "ritScore": 212, "percentile": 64, "gradeLevel": "4",
            "ritGrade": 5, "testDate": "2025-09-20", "assessmentResultSourcedId": "ar-0001"}
MAP_PROFILE = {"userId": USER_ID, "ritScore": 212, "percentile": 64, "gradeLevel": "4", "testDate": "2025-09-20",
               "subject": "Math", "metadata": {}, "tests": [MAP_TEST]}
schema("MapTest", {"subject": s(), "testWindow": NSTR, "ritScore": NINT, "percentile": NINT, "gradeLevel": NSTR,
                   "ritGrade": NINT, "testDate": NSTR, "assessmentResultSourcedId": s()},
       ["subject", "assessmentResultSourcedId"], "One MAP test result.", MAP_TEST)
schema("MapProfile", {"userId": s(), "ritScore": NINT, "percentile": NINT, "gradeLevel": NSTR, "testDate": NSTR,
                      "subject": NSTR, "metadata": s("object", nullable=True, additionalProperties=True),
                      "tests": arr(sref("MapTest"), description="Every MAP result, newest first (the Sep-2025 "
                                                                "spec's report cards hold such tests).")},
       ["userId", "tests"], "A student's MAP profile: the newest MAP result, and all of them.", MAP_PROFILE)
wrapped("MapProfileAnswer", "data", sref("MapProfile"), MAP_PROFILE, "The MAP profile.")
CALC = {"standardSchoolHoursPerDay": 6, "timebackHoursPerDay": 2, "hoursSavedPerDay": 4,
        "formula": "totalHoursSaved = schoolDaysElapsed * hoursSavedPerDay; "
                   "totalDaysSaved = totalHoursSaved / standardSchoolHoursPerDay"}
TIME_SAVED = {"totalHoursSaved": 40, "totalDaysSaved": 6.67, "schoolDaysElapsed": 10,
              "earliestStartDate": "2025-09-01", "schoolYearStartDate": "2025-08-01", "calculation": CALC}
schema("TimeSaved", {"totalHoursSaved": s("number"), "totalDaysSaved": s("number"),
                     "schoolDaysElapsed": s("integer", minimum=0), "earliestStartDate": NSTR,
                     "schoolYearStartDate": NSTR,
                     "calculation": obj({"standardSchoolHoursPerDay": s("number"), "timebackHoursPerDay": s("number"),
                                         "hoursSavedPerDay": s("number"), "formula": s()},
                                        ["standardSchoolHoursPerDay", "timebackHoursPerDay", "hoursSavedPerDay",
                                         "formula"])},
       ["totalHoursSaved", "totalDaysSaved", "schoolDaysElapsed", "calculation"],
       "Time saved this school year: weekdays since the later of the first enrollment and the school-year start.",
       TIME_SAVED)
wrapped("TimeSavedAnswer", "data", sref("TimeSaved"), TIME_SAVED, "Time saved.")
SCHEMAS["EduSendResult"] = obj({"success": {"type": "boolean", "const": True}, "message": s()},
                               ["success", "message"], description="The envelope was judged valid and stored.",
                               example={"success": True, "message": "1 event accepted for processing"})

# Imported components: OneRoster's error envelope, user schema and list parameters; Caliper's envelope.
oneroster_spec.query_params(oneroster_spec.ENTITIES["User"])
IMPORTED = close_refs(oneroster_spec.LIB, {("schemas", "ImsxStatusInfo"), ("schemas", "User"),
                                           *(("parameters", p) for p in ("Limit", "Offset", "OrderBy", "UserSort",
                                                                         "UserFilter", "UserFields", "UserSearch")),
                                           ("headers", "XTotalCount"), ("headers", "Link"),
                                           ("headers", "RetryAfter"), ("headers", "Allow")})
for _kind, _name in IMPORTED:
    LIB[_kind][_name] = copy.deepcopy(oneroster_spec.LIB[_kind][_name])
for _name in ("CaliperEnvelope", "CaliperDataItem"):
    SCHEMAS[_name] = copy.deepcopy(caliper_spec.SCHEMAS[_name])
schema("UserList", {"users": arr(sref("User")),
                    **{k: s("integer", minimum=0) for k in ("totalCount", "pageCount", "pageNumber", "offset",
                                                            "limit")}},
       ["users", "totalCount", "pageCount", "pageNumber", "offset", "limit"],
       "Users having exclusively the given roles.", {"users": [], "totalCount": 0, "pageCount": 0, "pageNumber": 1,
                                                     "offset": 0, "limit": 100})
ERRORS = {k: v for k, v in oneroster_spec.ERRORS.items()}
ERRORS["409"] = ("Conflict", "The change conflicts with existing records (a subject track group with "
                             "strategy fail).", "invaliddata")
for _status, (_name, _desc, _minor) in ERRORS.items():
    LIB["responses"][_name] = copy.deepcopy(oneroster_spec.LIB["responses"].get(_name)) or {
        "description": _desc, "content": {"application/json": {"schema": sref("ImsxStatusInfo"), "example": {
            "imsx_codeMajor": "failure", "imsx_severity": "error", "imsx_description": _desc,
            "imsx_CodeMinor": {"imsx_codeMinorField": [{"imsx_codeMinorFieldName": "TargetEndSystem",
                                                        "imsx_codeMinorFieldValue": _minor}]}}}}}
    LIB["responses"][_name]["description"] = _desc
LIB["securitySchemes"] = copy.deepcopy(oneroster_spec.LIB["securitySchemes"])


def query(name: str, description: str, kind: dict[str, Any], required: bool = False,
          example: Any = None) -> dict[str, Any]:
    param = {"name": name, "in": "query", "required": required, "description": description, "schema": kind}
    if example is not None:
        param["example"] = example
    return param


STUDENT_ID = query("studentId", "The student's sourcedId (this or email is required).", s(minLength=1),
                   example=USER_ID)
EMAIL = query("email", "The student's email (this or studentId is required).", s(minLength=1))
TIMEZONE = query("timezone", "IANA time zone of the dates and day boundaries (default UTC).",
                 s(maxLength=64), example="America/Chicago")


def dates(required: bool) -> list[dict[str, Any]]:
    return [query("startDate", "First day (YYYY-MM-DD) or instant (ISO 8601) of the range.", DATE_OR_TIME,
                  required, "2025-09-15"),
            query("endDate", "Last day (YYYY-MM-DD, included whole) or instant (ISO 8601) of the range.",
                  DATE_OR_TIME, required, "2025-09-21")]


ROLES = query("roles", "Repeat per role: users whose roles are all among these (exclusive).",
              arr(enum("administrator", "aide", "guardian", "parent", "proctor", "relative", "student", "teacher"),
                  minItems=1), True, ["student"])
ORGS = query("orgSourcedIds", "Repeat per org: only users with a role at one of these orgs.", arr(NONEMPTY))
USER_LIST = [ROLES, ORGS] + [{"$ref": f"#/components/parameters/{p}"}
                             for p in ("Limit", "Offset", "UserSort", "OrderBy", "UserFilter", "UserFields",
                                       "UserSearch")]

# ----------------------------------------------------------------------------------------------
# Operations: one row each
# ----------------------------------------------------------------------------------------------


@dataclass
class Op:
    method: str
    path: str  # below /edubridge
    operation_id: str
    summary: str
    ok: tuple[str, str | None]  # success status and answer schema (None: no body)
    behaviour: str | None = None
    binding: dict[str, Any] | None = None
    body: str | None = None  # request body schema
    body_required: bool = True
    params: tuple[dict[str, Any], ...] = ()
    errors: tuple[str, ...] = ()  # statuses beyond the common ones
    tag: str = ""
    judged_by: str | None = None
    description: str = ""
    query_judge: str | None = None  # x-tb-query-validator: a judge of specs/edubridge/queries.py


COMMON_ERRORS = ("400", "401", "403", "429", "500")
ENROLL_DESC = ("Creates the OneRoster enrollment of the user in the course's default class: the school's "
               "school-year and term academic sessions for today and the class for course + term are created "
               "first when missing. All records are ordinary OneRoster records, written in one transaction. "
               "The school is the given one, else the course's org. 404 for an unknown user, course or school.")
OPS: list[Op] = [
    # analytics
    Op("get", "/analytics/activity", "getActivity", "Daily activity facts for a date range",
       ("200", "ActivityResponse"), "edubridge.analytics.activity",
       params=(STUDENT_ID, EMAIL, *dates(True), TIMEZONE), tag="analytics", query_judge="edubridge.student-range",
       description="Facts from the student's stored Caliper events, by day (in `timezone`) and subject. One of "
                   "studentId and email is required, endDate is not before startDate and timezone is an IANA "
                   "name (else 400); a student without events (or unknown) has empty facts."),
    Op("get", "/analytics/facts/weekly", "getWeeklyFacts", "Processed facts of the week containing weekDate",
       ("200", "WeeklyFactsResponse"), "edubridge.analytics.weekly",
       params=(STUDENT_ID, EMAIL, query("weekDate", "A day (or instant) of the week wanted.", DATE_OR_TIME, True,
                                        "2025-09-17"), TIMEZONE), tag="analytics",
       query_judge="edubridge.student-week",
       description="One of studentId and email is required and timezone is an IANA name (else 400)."),
    Op("get", "/analytics/enrollment/{enrollmentId}", "getEnrollmentFacts", "Daily facts of one enrollment",
       ("200", "EnrollmentFactsResponse"), "edubridge.analytics.enrollment", params=(*dates(False), TIMEZONE),
       tag="analytics", query_judge="edubridge.range"),
    Op("get", "/analytics/highestGradeMastered/{studentId}/{subject}", "getHighestGradeMastered",
       "Highest grade mastered in a subject", ("200", "HighestGradeMastered"), "edubridge.highest-grade",
       tag="analytics",
       description="From the student's assessment results: MAP (metadata.ritGrade), edulastic, placement and "
                   "test-out (metadata.grade) results of the subject."),
    # applications
    Op("get", "/applications/", "listApplications", "List applications", ("200", "ApplicationList"),
       binding={"collection": "applications", "action": "list", "responseKeys": ["applications"]},
       params=({"$ref": "#/components/parameters/Limit"}, {"$ref": "#/components/parameters/Offset"}),
       tag="applications"),
    Op("get", "/applicationMetrics/{applicationSourcedId}", "getApplicationMetrics", "Metrics of an application",
       ("200", "ApplicationMetricsAnswer"), "edubridge.application-metrics.get", tag="applications"),
    Op("post", "/applicationMetrics/{applicationSourcedId}", "createApplicationMetric", "Add an application metric",
       ("201", "ApplicationMetricAnswer"), "edubridge.application-metrics.create", body="ApplicationMetricInput",
       errors=("409",), tag="applications"),
    Op("delete", "/applicationMetrics/{applicationSourcedId}", "deleteApplicationMetric",
       "Remove an application metric (the body names it)", ("204", None), "edubridge.application-metrics.delete",
       body="ApplicationMetricInput", tag="applications"),
    # caliper
    Op("post", "/caliper/event", "sendCaliperEvent", "Send a Caliper envelope through EduBridge",
       ("200", "EduSendResult"), "caliper.edubridge-send", body="CaliperEnvelope", tag="caliper",
       judged_by="caliper",
       description="Judged and stored exactly like POST /caliper/event on the caliper host (an invalid envelope "
                   "is refused whole, 400, in the IMS envelope here)."),
    # enrollments
    Op("get", "/enrollments/defaultClass/{courseId}", "getDefaultClass", "The course's default class",
       ("200", "DefaultClassAnswer"), "edubridge.default-class", tag="enrollments",
       description="Created (with the term and school year) when missing; the school is the course's org."),
    Op("get", "/enrollments/defaultClass/{courseId}/{schoolId}", "getDefaultClassAtSchool",
       "The course's default class at a school", ("200", "DefaultClassAnswer"), "edubridge.default-class",
       tag="enrollments", description="Created (with the term and school year) when missing."),
    Op("post", "/enrollments/enroll/{userId}/{courseId}", "enrollUser", "Enroll a user in a course",
       ("201", "EnrollmentAnswer"), "edubridge.enroll", body="EnrollInput", body_required=False,
       errors=("409", "422"), tag="enrollments", description=ENROLL_DESC),
    Op("post", "/enrollments/enroll/{userId}/{courseId}/{schoolId}", "enrollUserAtSchool",
       "Enroll a user in a course at a school", ("201", "EnrollmentAnswer"), "edubridge.enroll", body="EnrollInput",
       body_required=False, errors=("409", "422"), tag="enrollments", description=ENROLL_DESC),
    Op("post", "/enrollments/propagateGoals/{courseId}", "propagateGoals",
       "Copy the course's goals to its enrollments (Sep-2025 name)", ("200", "GoalsAnswer"), "edubridge.reset-goals",
       tag="enrollments", description="Enrollments with metadata.studentSpecificGoals true keep theirs."),
    Op("post", "/enrollments/resetGoals/{courseId}", "resetGoals",
       "Copy the course's goals to its enrollments (client 0.4.0 name)", ("200", "GoalsAnswer"),
       "edubridge.reset-goals", tag="enrollments",
       description="Same as propagateGoals. Enrollments with metadata.studentSpecificGoals true keep theirs."),
    Op("delete", "/enrollments/resetProgress/{userId}/{courseId}", "resetProgress",
       "Reset a user's progress in a course", ("204", None), "edubridge.reset-progress", tag="enrollments",
       description="The user's assessment results whose line item belongs to the course (directly or through its "
                   "class) are marked tobedeleted."),
    Op("delete", "/enrollments/unenroll/{userId}/{courseId}", "unenrollUser", "Unenroll a user from a course",
       ("204", None), "edubridge.unenroll", tag="enrollments",
       description="The user's active enrollments in the course's classes are marked tobedeleted; 404 if none."),
    Op("delete", "/enrollments/unenroll/{userId}/{courseId}/{schoolId}", "unenrollUserAtSchool",
       "Unenroll a user from a course at a school", ("204", None), "edubridge.unenroll", tag="enrollments",
       description="Only enrollments at that school; 404 if none."),
    Op("get", "/enrollments/user/{userId}", "listUserEnrollments", "A user's active enrollments",
       ("200", "EnrollmentListAnswer"), "edubridge.user-enrollments", tag="enrollments"),
    # reports
    Op("get", "/learning-reports/map-profile/{userId}", "getMapProfile", "A student's MAP profile",
       ("200", "MapProfileAnswer"), "edubridge.map-profile", tag="learning-reports"),
    Op("get", "/time-saved/user/{userId}", "getTimeSaved", "Time saved this school year",
       ("200", "TimeSavedAnswer"), "edubridge.time-saved", tag="learning-reports"),
    # subject tracks
    Op("get", "/subject-track/", "listSubjectTracks", "List subject tracks", ("200", "SubjectTrackList"),
       "edubridge.subject-track.list",
       params=({"$ref": "#/components/parameters/Limit"}, {"$ref": "#/components/parameters/Offset"}),
       tag="subject-track", description="Each track's course and org are expanded from the OneRoster records."),
    Op("put", "/subject-track/", "upsertSubjectTrack", "Create or replace the track of subject + grade + org",
       ("200", "SubjectTrackAnswer"), "edubridge.subject-track.upsert", body="SubjectTrackInput",
       errors=("404",), tag="subject-track", description="404 for an unknown course or org."),
    Op("delete", "/subject-track/{id}", "deleteSubjectTrack", "Delete a subject track", ("200", "NullData"),
       binding={"collection": "subjectTracks", "action": "delete", "id": "id", "respond": {"data": None}},
       tag="subject-track"),
    Op("get", "/subject-track/groups", "listSubjectTrackGroups", "Subject track groups",
       ("200", "SubjectTrackGroupList"), "edubridge.subject-track-groups.list", tag="subject-track"),
    Op("post", "/subject-track/groups", "createSubjectTrackGroup", "Create a subject track group", ("204", None),
       "edubridge.subject-track-groups.create", body="SubjectTrackGroupCreate", errors=("404", "409"),
       tag="subject-track", description="409 when a track of one of the orgs (subject + grade) already exists."),
    Op("put", "/subject-track/groups", "replaceSubjectTrackGroup", "Replace a subject track group", ("204", None),
       "edubridge.subject-track-groups.replace", body="SubjectTrackGroupReplace", errors=("404", "409"),
       tag="subject-track"),
    Op("delete", "/subject-track/groups", "deleteSubjectTrackGroup", "Delete a subject track group", ("204", None),
       "edubridge.subject-track-groups.delete", body="SubjectTrackGroupKey", errors=("404",),
       tag="subject-track"),
    # users
    Op("get", "/users/", "listUsersByRole", "Users having exclusively the given roles", ("200", "UserList"),
       "edubridge.users", params=tuple(USER_LIST), tag="users",
       description="OneRoster list semantics (limit, offset, sort, orderBy, filter, fields, search) over the users "
                   "all of whose roles are among `roles`."),
]

COLLECTIONS = {
    "applications": {"schema": "Application", "indexed": ["status"]},
    "applicationMetrics": {"schema": "ApplicationMetricRecord", "indexed": ["applicationSourcedId"], "delete": "hard"},
    "subjectTracks": {"schema": "SubjectTrackRecord", "indexed": ["subject", "courseId"], "delete": "hard"},
}

# ----------------------------------------------------------------------------------------------
# Differences (x-tb-differences)
# ----------------------------------------------------------------------------------------------


def difference(topic: str, timeback: str, sandbox: str, one_edtech: str = "Not defined (EduBridge is Timeback's "
                                                                            "own API).") -> dict[str, Any]:
    return {"topic": topic, "timeback": timeback, "oneEdTech": one_edtech, "sandbox": sandbox, "ignore": []}


DIFFERENCES = [
    difference("map-profile",
               "The Sep-2025 spec answers `{data: [{title, pdfUrl, tests[], grade, schoolname, "
               "assessmentResultProviderSystem}]}` (report cards); the 0.4.0 client parses `data` as one object "
               "`MapProfile{userId, ritScore, percentile, gradeLevel, testDate, subject}` and crashes on a list.",
               "Answers the client's object (the newest MAP result) with every MAP result under `tests`, built from "
               "the student's OneRoster assessment results with `metadata.assessmentType: MAP`."),
    difference("applicationMetrics",
               "The spec answers GET with `{data: [{applicationSourcedId, metric, metricSource}]}`; the client "
               "parses `data` as `ApplicationMetrics{applicationSourcedId, totalUsers, activeUsers, totalSessions, "
               "avgSessionDuration}` and crashes on a list.",
               "Answers the client's object; the spec's list is under `data.metrics` (real state: POST adds, "
               "DELETE removes). The usage counts are null (the sandbox does not track sessions)."),
    difference("subject-track groups",
               "The spec lists groups as `{key: {subject, grade, courseId, isGlobal}, tracks[]}`; the client "
               "parses `{id, name, tracks}`.",
               "Each group carries both: `id` (subject|grade|courseId), `name`, `key` and `tracks`. Groups are "
               "derived from the subject tracks (one per subject + grade + course); create, replace and delete "
               "write tracks."),
    difference("Enrollment.metrics",
               "The spec's enrollment metrics are `{totalXp, totalLessons}`; the client adds totalGrades, "
               "courseType and isSupplemental.",
               "Accepts and answers all five (all optional): metadata is stored as given."),
    difference("propagateGoals and resetGoals",
               "The Sep-2025 spec names POST /enrollments/propagateGoals/{courseId}; the 0.4.0 client calls "
               "POST /enrollments/resetGoals/{courseId} with `{}`.",
               "Serves both with one behaviour: the course's metadata.goals are copied to every active enrollment "
               "of its classes lacking metadata.studentSpecificGoals true; `{data: {updated, errors: []}}`."),
    difference("analytics dates",
               "The spec documents startDate/endDate/weekDate as dates; the 0.4.0 client expands a bare date to "
               "an ISO 8601 instant (`2025-09-15T00:00:00.000Z`, end of day for endDate) before sending.",
               "Accepts either a date (YYYY-MM-DD, a whole day in `timezone`) or an ISO 8601 date-time."),
    difference("enroll school",
               "The client documents an omitted schoolId as 'the user's primary org'; the catalog as the course's "
               "school.",
               "An omitted schoolId means the course's org (the user's primary org is not consulted)."),
    difference("default class and sessions",
               "enroll and defaultClass auto-create a school year, a term and one class per course + term; their "
               "ids and titles are not documented.",
               "Today's school year of the school (an active schoolYear session of that org covering today) and "
               "its term covering today are reused; missing ones are created as `eb-year-<school>-<YYYY>` (July 1 "
               "to June 30) and `eb-term-<school>-<YYYY>` (same dates, parent the year, listed in its children). "
               "The default class is `eb-class-<course>-<term>` (the course's title, grades, subjects; classType "
               "scheduled; metadata.defaultClass true). All are plain OneRoster records. Enrolling again in the "
               "same class with the same role answers the existing enrollment (metadata merged)."),
    difference("unenroll and resetProgress answers",
               "The spec answers 204 or `{data: null}`; the client ignores the body.",
               "204 without a body."),
    difference("users list",
               "GET /edubridge/users/ takes repeated `roles` and `orgSourcedIds`; the client reads `{users}` and "
               "the paging fields when present.",
               "`roles` is required (400 without it); a user is listed when every one of its roles is among them "
               "(a student+teacher is not listed for roles=student). OneRoster list semantics and paging headers."),
    difference("users shape",
               "EduBridge's User mirrors OneRoster's but the 0.4.0 client requires `primaryOrg.name` and "
               "parses agent references with a `sourced_id` member (its GUIDRef model has no camelCase alias).",
               "users/ answers the OneRoster user with `primaryOrg.name` filled from the org and `sourced_id` "
               "beside `sourcedId` on each agent reference, so the client parses every user."),
    difference("EduBridge caliper send",
               "POST /edubridge/caliper/event answers `{success, message}`; the docs' example sends no "
               "Authorization header.",
               "Needs a token like every other operation (roster.createput or admin); the envelope is judged by "
               "the Caliper validator and stored as /caliper/event stores it."),
    difference("scopes",
               "The EduBridge spec names no scopes.",
               "Reads need roster.readonly, POST/PUT roster.createput, DELETE roster.delete (admin grants all)."),
    difference("subject tracks",
               "A track is keyed by subject + grade + org; the answer's course and org are expanded objects.",
               "The track id is derived from the key (`st-<subject>-<grade>-<org or global>-<hash of the key>`, slugged); course and "
               "org are expanded from the OneRoster records when read. DELETE answers `{data: null}` and removes the track for "
               "good (it is no OneRoster record)."),
]

# ----------------------------------------------------------------------------------------------
# Assembly
# ----------------------------------------------------------------------------------------------


def _security(op: Op) -> list[dict[str, list[str]]]:
    return [{"OAuth2": [SCOPE + RIGHTS[op.method]]}, {"OAuth2": [SCOPE + "admin"]}]


def _answer(status: str, name: str | None) -> dict[str, Any]:
    if name is None:
        return {"description": "Done (no body)."}
    description = SCHEMAS[name].get("description", "")
    out: dict[str, Any] = {"description": description, "content": {"application/json": {
        "schema": sref(name), "example": SCHEMAS[name]["example"]}}}
    if name in ("UserList", "ApplicationList", "SubjectTrackList"):
        out["headers"] = {"X-Total-Count": {"$ref": "#/components/headers/XTotalCount"},
                          "Link": {"$ref": "#/components/headers/Link"}}
    return out


def _operation(op: Op) -> dict[str, Any]:
    out: dict[str, Any] = {"operationId": op.operation_id, "summary": op.summary}
    if op.description:
        out["description"] = op.description
    out["tags"] = [op.tag]
    out["security"] = _security(op)
    if op.params:
        out["parameters"] = list(op.params)
    if op.body:
        out["requestBody"] = {"required": op.body_required, "content": {"application/json": {
            "schema": sref(op.body), "example": SCHEMAS[op.body]["example"]}}}
    return finish_operation(out, path=op.path, ok=(op.ok[0], _answer(*op.ok)), errors={*COMMON_ERRORS, *op.errors},
                            has_body=bool(op.body), error_refs=ERRORS, judged_by=op.judged_by,
                            query_judge=op.query_judge, binding=op.binding, behaviour=op.behaviour)


def build_spec() -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for op in OPS:
        add_operation(paths, BASE + op.path, op.method, _operation(op))
    wanted: set[tuple[str, str]] = {("responses", v[0]) for v in ERRORS.values()}
    wanted |= {("securitySchemes", "OAuth2")} | {("schemas", c["schema"]) for c in COLLECTIONS.values()}
    components = components_for(LIB, paths, wanted)
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "info": {"title": "EduBridge (Timeback)", "version": "2025-09-timeback",
                 "description": "Timeback's course-centric layer over OneRoster (enrollments with auto-created "
                                "classes and terms, analytics, applications, subject tracks, learning reports) as "
                                "the tbconform sandbox serves it. Generated by specs/edubridge/_generate.py; do not "
                                "edit by hand. Where the Sep-2025 spec and the 0.4.0 official client differ, see "
                                "x-tb-differences."},
        "servers": SERVERS,
        "tags": [{"name": t} for t in sorted({o.tag for o in OPS})],
        "paths": paths,
        "components": components,
        "x-tb-api": "edubridge",
        "x-tb-error-style": "ims",
        "x-tb-requires": ["oneroster", "caliper"],  # enrolls into OneRoster, reads Caliper events
        "x-tb-collections": COLLECTIONS,
        "x-tb-differences": DIFFERENCES,
    }


def render() -> str:
    return dump_yaml(build_spec())


def main() -> None:
    (HERE / "edubridge.yaml").write_text(render(), encoding="utf-8")
    print("wrote specs/edubridge/edubridge.yaml")


if __name__ == "__main__":
    main()
