"""Generate the OneRoster 1.2 (Timeback flavour) OpenAPI 3.1 specs.

Run from the repository root:  python -m tbconform.specs.oneroster._generate

Writes rostering.yaml, gradebook.yaml and resources.yaml next to this file. Everything is
data-driven: ENTITIES describes the entity schemas (fields, required sets, write quirks,
examples), OPERATIONS describes every endpoint (method, full path, operationId, x-tb-binding or
x-tb-behaviour); the builders below turn both into components and operation objects. Each spec
only carries the components it references (closed over $ref), so every file is self-contained.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tbconform.specs.fieldpaths import (
    field_paths,
    fields_pattern,
    filter_pattern,
    sortable_paths,
    top_level_fields,
)
from tbconform.specs.schema_kit import (
    arr,
    close_refs,
    collect_refs,
    dump_yaml,
    enum,
    obj,
    path_params,
    quirk,
    ref,
    refs,
    s,
    sref,
)

HERE = Path(__file__).resolve().parent
SPECS = ("rostering", "gradebook", "resources")
BASES = {api: f"/ims/oneroster/{api}/v1p2" for api in SPECS}
SERVERS = [
    {"url": "http://127.0.0.1:8765", "description": "sandbox"},
    {"url": "https://api.alpha-1edtech.ai"},
    {"url": "https://api.staging.alpha-1edtech.ai"},
]
SCOPE = "https://purl.imsglobal.org/spec/or/v1p1/scope/"
SCOPES = {
    "admin": "Full access to every OneRoster service",
    "roster-core.readonly": "Read core rostering data",
    "roster.readonly": "Read rostering data",
    "roster.createput": "Create and update rostering data",
    "roster.delete": "Delete rostering data",
    "roster-demographics.readonly": "Read demographics",
    "roster-demographics.createput": "Create and update demographics",
    "roster-demographics.delete": "Delete demographics",
    "resource.readonly": "Read learning resources",
    "resource.createput": "Create and update learning resources",
    "resource.delete": "Delete learning resources",
    "gradebook.readonly": "Read gradebook data",
    "gradebook.createput": "Create and update gradebook data",
    "gradebook.delete": "Delete gradebook data",
}
FAMILY = {"rostering": "roster", "gradebook": "gradebook", "resources": "resource"}
METHOD_RIGHT = {"get": "readonly", "post": "createput", "put": "createput", "patch": "createput",
                "delete": "delete"}
LIMIT_MAX = 3000
HOST = "https://api.alpha-1edtech.ai"

# ----------------------------------------------------------------------------------------------
# Schema vocabulary (the generic constructors live in specs/schema_kit.py)
# ----------------------------------------------------------------------------------------------

NSTR = s(nullable=True)
NNUM = s("number", nullable=True)
DATETIME = s(format="date-time")
STRINGS = arr(s(), nullable=True)
TF = ("true", "false")
BOOL_OR_TF = {"anyOf": [{"type": "boolean"}, enum(*TF)]}
GRADES = quirk(arr(s()),
               "Grades are strings ('-1' Pre-K, '0' K, '1'..'12', '13' AP), not integers.")
# Optional fields that Timeback's read schemas publish as non-null: a read leaves such a field
# out rather than answer null. Writes still take null (as before; Timeback's create inputs do
# not, see SANDBOX_DIFFERENCES), and the sandbox then stores the field as absent.
NULL_DROPPED = "Writes may send null; the field then reads as absent, never null."
STRING_LIST = quirk(arr(s()), NULL_DROPPED)
# Timeback's official client sends grades as integers on create/update (it normalises them to
# ints); the sandbox stores the wire strings. So writes take either, reads promise strings.
GRADES_WRITE = quirk({"type": ["array", "null"], "items": {"type": ["string", "integer"]}},
                     "Writes accept integer grades (the official client sends ints); reads are strings.")
WRITE_QUIRKS = {"grades": GRADES_WRITE}
LO_IDS = arr(obj({"source": s(), "learningObjectiveIds": arr(s())},
                 ["source", "learningObjectiveIds"]), nullable=True)
LO_RESULTS = arr(obj({"source": s(), "learningObjectiveResults": arr(obj(
    {"learningObjectiveId": s(), "score": s("number"), "textScore": s()},
    ["learningObjectiveId"]))}, ["source", "learningObjectiveResults"]), nullable=True)
SCORE_STATUS = enum("exempt", "fully graded", "not submitted", "partially graded", "submitted")
STRING_FLAG = quirk(NSTR, "A boolean carried as a string ('true'/'false') on the wire.")
RESULT_FLAG = quirk(s(), "A boolean carried as a string ('true'/'false') on the wire. "
                    + NULL_DROPPED)


def gref(sourced_id: str, kind: str, api: str, plural: str) -> dict[str, str]:
    return {"href": f"{HOST}{BASES[api]}/{plural}/{sourced_id}", "sourcedId": sourced_id,
            "type": kind}


MODIFIED = "2025-08-01T12:00:00.000Z"

# ----------------------------------------------------------------------------------------------
# Entities
# ----------------------------------------------------------------------------------------------


@dataclass
class Entity:
    name: str
    collection: str
    one: str  # singular wrapper key
    many: str  # plural wrapper key
    spec: str  # the spec that owns the collection
    fields: dict[str, Any]
    read_required: list[str]
    write_required: list[str]
    example: dict[str, Any]
    search: list[str] = field(default_factory=list)
    write_overrides: dict[str, Any] = field(default_factory=dict)
    read_only: tuple[str, ...] = ()
    write_extra: dict[str, Any] = field(default_factory=dict)
    family: str | None = None  # scope family override
    description: str = ""


def base_fields(metadata: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "sourcedId": s(minLength=1),
        "status": enum("active", "tobedeleted"),
        "dateLastModified": DATETIME,
        "metadata": metadata or obj({}, nullable=True,
                                    description="Free-form extension data (Timeback extras)."),
    }


def ex(sourced_id: str, **fields: Any) -> dict[str, Any]:
    return {"sourcedId": sourced_id, "status": "active", "dateLastModified": MODIFIED, **fields}


ORG_SCHOOL = gref("org-0002", "org", "rostering", "orgs")
ORG_DISTRICT = gref("org-0001", "org", "rostering", "orgs")
TERM = gref("as-2025-t1", "academicSession", "rostering", "academicSessions")
YEAR = gref("as-2025", "academicSession", "rostering", "academicSessions")
COURSE = gref("course-0001", "course", "rostering", "courses")
CLASS = gref("class-0001", "class", "rostering", "classes")
STUDENT = gref("user-0001", "user", "rostering", "users")
TEACHER = gref("user-0002", "user", "rostering", "users")
COMPONENT = gref("cc-0001", "courseComponent", "rostering", "courses/components")
RESOURCE = gref("res-0001", "resource", "resources", "resources")

ENTITIES: dict[str, Entity] = {}


def entity(e: Entity) -> Entity:
    ENTITIES[e.name] = e
    return e


ROLE = obj({
    "roleType": enum("primary", "secondary"),
    "role": enum("administrator", "aide", "guardian", "parent", "proctor", "relative", "student",
                 "teacher"),
    "org": ref("orgs"),
    "userProfile": s(),
    "beginDate": NSTR,
    "endDate": NSTR,
}, ["roleType", "role", "org"])

USER = entity(Entity(
    "User", "users", "user", "users", "rostering",
    {
        "userMasterIdentifier": NSTR,
        "username": NSTR,
        "userIds": arr(obj({"type": s(), "identifier": s()}, ["type", "identifier"])),
        "enabledUser": quirk(enum(*TF), "String 'true'/'false', not a JSON boolean."),
        "givenName": s(),
        "familyName": s(),
        "middleName": NSTR,
        "roles": arr(ROLE),
        "agents": refs("users", default=[]),
        "userProfiles": quirk(arr(obj({
            "profileId": s(), "profileType": s(), "vendorId": s(), "applicationId": s(),
            "description": NSTR,
            "app": obj({"sourcedId": s(), "name": s(), "description": NSTR, "domain": s(),
                        "metadata": obj({}, nullable=True)}, ["sourcedId", "name", "domain"]),
            "credentials": arr(obj({"id": s(), "type": s(), "username": s(),
                                    "password": NSTR}, ["id", "type", "username"]), default=[]),
        }, ["profileId", "profileType", "vendorId", "applicationId", "app", "credentials"]),
            default=[]), "A profile made by POST /users/{userId}/credentials names its "
            "application (applicationName) as profileType, vendorId, applicationId and app "
            "(sourcedId and name; domain empty)."),
        "primaryOrg": quirk(ref("orgs"), NULL_DROPPED),
        "identifier": NSTR,
        "email": NSTR,
        "preferredFirstName": NSTR,
        "preferredMiddleName": NSTR,
        "preferredLastName": NSTR,
        "pronouns": NSTR,
        "grades": GRADES,
        "password": NSTR,
        "sms": NSTR,
        "phone": NSTR,
        "demographics": {"anyOf": [sref("Demographics"), {"type": "null"}],
                         "description": "Only filled by GET /users/{sourcedId}/demographics."},
    },
    ["sourcedId", "status", "dateLastModified", "enabledUser", "givenName", "familyName", "roles",
     "agents", "userProfiles"],
    ["enabledUser", "givenName", "familyName", "roles"],
    ex("user-0001", username="ada.lovelace", userIds=[{"type": "SIS", "identifier": "S-1001"}],
       enabledUser="true", givenName="Ada", familyName="Lovelace", middleName=None,
       roles=[{"roleType": "primary", "role": "student", "org": ORG_SCHOOL}],
       agents=[gref("user-0003", "user", "rostering", "users")], userProfiles=[],
       primaryOrg=ORG_SCHOOL, identifier="S-1001", email="ada.lovelace@example.edu",
       grades=["9"], metadata={"onboarding": {"state": "completed"}}),
    search=["givenName", "familyName", "email"],
    write_overrides={
        "enabledUser": quirk(BOOL_OR_TF, "Reads return a string; writes accept a boolean too."),
        "roles": arr(ROLE, minItems=1),
        "primaryOrg": ref("orgs", required=False),
    },
    read_only=("demographics",),
))

ORG = entity(Entity(
    "Org", "orgs", "org", "orgs", "rostering",
    {
        "name": s(),
        "type": enum("department", "school", "district", "local", "state", "national"),
        "identifier": quirk(s(default=""), "Timeback reads always carry a string; writes may "
                            "omit it (or send null): the sandbox stores an empty string."),
        "parent": ref("orgs", required=False),
        "children": refs("orgs", default=[]),
    },
    ["sourcedId", "status", "dateLastModified", "name", "type", "identifier", "children"],
    ["name"],
    ex("org-0002", name="Alpha High School", type="school", identifier="AHS",
       parent=ORG_DISTRICT, children=[]),
    search=["name"],
    write_overrides={"identifier": quirk(s(nullable=True), "Writes may omit it or send null (as "
                                         "Timeback's create input allows); it then reads as an "
                                         "empty string.")},
))

ACADEMIC_SESSION = entity(Entity(
    "AcademicSession", "academicSessions", "academicSession", "academicSessions", "rostering",
    {
        "title": s(),
        "startDate": s(description="Calendar date, YYYY-MM-DD."),
        "endDate": s(description="Calendar date, YYYY-MM-DD."),
        "type": enum("gradingPeriod", "semester", "schoolYear", "term"),
        "parent": ref("academicSessions", required=False),
        "children": refs("academicSessions"),
        "schoolYear": quirk(s("integer", minimum=1900, maximum=2999),
                            "The ending year of the school year, a number on reads (writes may "
                            "send a 4-digit string). A write without one takes the parent "
                            "session's, else endDate's year, else the current year (UTC)."),
        "org": quirk(ref("orgs"), "A write that names a parent session may omit it: the "
                     "session then belongs to its parent's org."),
    },
    ["sourcedId", "status", "dateLastModified", "title", "startDate", "endDate", "type",
     "schoolYear", "org"],
    ["title", "startDate", "endDate"],
    ex("as-2025-t1", title="Fall 2025", startDate="2025-08-18", endDate="2025-12-19",
       type="term", parent=YEAR, children=[], schoolYear=2026, org=ORG_SCHOOL),
    search=["title"],
    write_overrides={"schoolYear": quirk(
        {"anyOf": [{"type": "integer", "minimum": 1900, "maximum": 2999},
                   s(pattern="^(19|2[0-9])[0-9]{2}$")]},
        "Writes accept the year as an integer or a 4-digit string; reads return the number.")},
    write_extra={"anyOf": [{"required": ["org"]},
                           {"required": ["parent"], "properties": {"parent": {"type": "object"}}}]},
))

COURSE_ENTITY = entity(Entity(
    "Course", "courses", "course", "courses", "rostering",
    {
        "title": s(),
        "academicSession": ref("academicSessions", required=False),
        "schoolYear": ref("academicSessions", required=False),
        "courseCode": NSTR,
        "grades": GRADES,
        "subjects": STRINGS,
        "subjectCodes": STRINGS,
        "org": ref("orgs"),
        "level": NSTR,
        "gradingScheme": NSTR,
        "resources": refs("resources"),
    },
    ["sourcedId", "status", "dateLastModified", "title", "org"],
    ["title", "org"],
    ex("course-0001", title="Algebra I", schoolYear=YEAR, courseCode="ALG1", grades=["9"],
       subjects=["Math"], subjectCodes=[], org=ORG_SCHOOL, resources=[RESOURCE],
       metadata={"metrics": {"totalXp": 1200, "totalLessons": 40}}),
    search=["title", "courseCode"],
))

CLASS_ENTITY = entity(Entity(
    "Class", "classes", "class", "classes", "rostering",
    {
        "title": s(),
        "classCode": s(nullable=True, default=None),
        "classType": enum("homeroom", "scheduled", default="scheduled"),
        "location": s(nullable=True, default=None),
        "grades": GRADES,
        "subjects": STRING_LIST,
        "course": ref("courses"),
        "school": ref("orgs"),
        "org": quirk(ref("orgs"), "Timeback's create input names the school `org`; reads may "
                     "carry it as `school`. The sandbox keeps whichever was written."),
        "terms": refs("academicSessions"),
        "subjectCodes": STRING_LIST,
        "periods": STRING_LIST,
        "resources": refs("resources"),
    },
    ["sourcedId", "status", "dateLastModified", "title", "classCode", "classType", "location",
     "course", "school", "terms"],
    ["title", "course", "terms"],
    ex("class-0001", title="Algebra I - Period 1", classCode="ALG1-P1", classType="scheduled",
       location="Room 101", grades=["9"], subjects=["Math"], course=COURSE, school=ORG_SCHOOL,
       terms=[TERM], periods=["1"], resources=[RESOURCE]),
    search=["title"],
    write_extra={"anyOf": [{"required": ["org"]}, {"required": ["school"]}]},
    write_overrides={k: STRINGS for k in ("subjects", "subjectCodes", "periods")},
))

ENROLLMENT_META = obj({
    "goals": obj({k: s("number") for k in ("dailyXp", "dailyLessons", "dailyActiveMinutes",
                                           "dailyAccuracy", "dailyMasteredUnits")}),
    "metrics": obj({"totalXp": s("number"), "totalLessons": s("number"),
                    "totalGrades": s("number"), "courseType": s(),
                    "isSupplemental": s("boolean")}),
}, nullable=True, description="Free-form; Timeback keeps learning goals and metrics here "
   "(PATCH merges it).")

ENROLLMENT = entity(Entity(
    "Enrollment", "enrollments", "enrollment", "enrollments", "rostering",
    {
        "role": enum("administrator", "proctor", "student", "teacher"),
        "primary": quirk(enum(*TF, nullable=True, default=None), "String 'true'/'false' on reads."),
        "beginDate": s(nullable=True, default=None),
        "endDate": s(nullable=True, default=None),
        "user": ref("users"),
        "class": ref("classes"),
        "school": quirk(ref("orgs"), "Taken from the class when a write omits it."),
    },
    ["sourcedId", "status", "dateLastModified", "role", "primary", "beginDate", "endDate", "user",
     "class", "school"],
    ["user"],
    ex("enr-0001", role="student", primary="false", beginDate="2025-08-18",
       endDate="2025-12-19", user=STUDENT, **{"class": CLASS}, school=ORG_SCHOOL,
       metadata={"goals": {"dailyXp": 120}, "metrics": {"totalXp": 340, "courseType": "core"}}),
    write_overrides={"primary": quirk(
        {"anyOf": [{"type": "boolean"}, enum(*TF)]},
        "Writes accept a boolean or the strings 'true'/'false'; reads return the string.")},
))
ENROLLMENT.fields = {**base_fields(ENROLLMENT_META), **ENROLLMENT.fields}

RACE = ("americanIndianOrAlaskaNative", "asian", "blackOrAfricanAmerican",
        "nativeHawaiianOrOtherPacificIslander", "white", "demographicRaceTwoOrMoreRaces",
        "hispanicOrLatinoEthnicity")
DEMOGRAPHIC_PLACES = ("countryOfBirthCode", "stateOfBirthAbbreviation", "cityOfBirth",
                      "publicSchoolResidenceStatus")
DEMOGRAPHICS = entity(Entity(
    "Demographics", "demographics", "demographics", "demographics", "rostering",
    {
        "birthDate": s(nullable=True, pattern=r"^\d{4}-\d{2}-\d{2}$", default=None),
        "sex": enum("male", "female", "other", "unspecified", nullable=True, default=None),
        **{k: quirk(enum(*TF, nullable=True, default=None), "Race/ethnicity flags are strings.")
           for k in RACE},
        **{k: s(nullable=True, default=None) for k in DEMOGRAPHIC_PLACES},
    },
    ["sourcedId", "status", "dateLastModified", "birthDate", "sex", *RACE, *DEMOGRAPHIC_PLACES],
    ["sourcedId"],
    ex("user-0001", birthDate="2010-04-02", sex="female",
       **{k: "true" if k == "white" else "false" for k in RACE}, countryOfBirthCode="US",
       stateOfBirthAbbreviation="TX", cityOfBirth="Austin", publicSchoolResidenceStatus=None),
    write_overrides={k: quirk({"anyOf": [{"type": "boolean"}, enum(*TF, nullable=True)]},
                              "Writes accept booleans too; reads return strings.")
                     for k in RACE},
    family="roster-demographics",
    description="Demographics share the sourcedId of the user they describe, so writes must "
                "supply it.",
))

COURSE_COMPONENT = entity(Entity(
    "CourseComponent", "courseComponents", "courseComponent", "courseComponents", "rostering",
    {
        "title": s(),
        "course": ref("courses"),
        "courseComponent": ref("courseComponents", required=False),
        "parent": ref("courseComponents", required=False),
        "sortOrder": s("number", default=0),
        "prerequisites": STRINGS,
        "prerequisiteCriteria": enum("ALL", "ANY", nullable=True),
        "unlockDate": quirk(s(), "When the component unlocks for students (a date-time string); "
                            "a write without one unlocks it at once (creation time)."),
    },
    ["sourcedId", "status", "dateLastModified", "title", "course", "sortOrder", "unlockDate"],
    ["title", "course"],
    ex("cc-0001", title="Unit 1: Linear Equations", course=COURSE, courseComponent=None,
       parent=None, sortOrder=1, prerequisites=[], prerequisiteCriteria="ALL",
       unlockDate="2025-08-18T00:00:00.000Z"),
    search=["title"],
))

COMPONENT_RESOURCE = entity(Entity(
    "ComponentResource", "componentResources", "componentResource", "componentResources",
    "rostering",
    {
        "title": s(),
        "courseComponent": ref("courseComponents"),
        "resource": ref("resources"),
        "sortOrder": s("number", default=0),
        "lessonType": enum("powerpath-100", "quiz", "test-out", "placement", "unit-test",
                           "alpha-read-article", nullable=True),
    },
    ["sourcedId", "status", "dateLastModified", "title", "courseComponent", "resource",
     "sortOrder"],
    ["title", "resource"],
    ex("cr-0001", title="Linear Equations Quiz", courseComponent=COMPONENT, resource=RESOURCE,
       sortOrder=1, lessonType="quiz"),
    search=["title"],
))

RESOURCE_META = obj({
    "type": enum("qti", "text", "audio", "video", "interactive", "visual", "course-material",
                 "assessment-bank"),
    "subType": s(), "subject": s(), "xp": s("number"), "url": s(), "launchUrl": s(),
    "toolProvider": s(), "lessonType": s(),
}, nullable=True, description="Free-form; Timeback types it by `metadata.type`.")

RESOURCE_ENTITY = entity(Entity(
    "Resource", "resources", "resource", "resources", "resources",
    {
        "title": s(),
        "roles": arr(enum("primary", "secondary")),
        "importance": enum("primary", "secondary"),
        "vendorResourceId": s(),
        "vendorId": NSTR,
        "applicationId": NSTR,
    },
    ["sourcedId", "status", "dateLastModified", "title", "vendorResourceId"],
    ["title", "vendorResourceId"],
    ex("res-0001", title="Linear Equations Quiz", roles=["primary"], importance="primary",
       vendorResourceId="qti-test-0001", vendorId=None, applicationId=None,
       metadata={"type": "qti", "subType": "qti-test", "subject": "Math", "xp": 20,
                 "url": "https://qti.alpha-1edtech.ai/api/assessment-tests/qti-test-0001"}),
    search=["title"],
))
RESOURCE_ENTITY.fields = {**base_fields(RESOURCE_META), **RESOURCE_ENTITY.fields}

CATEGORY = entity(Entity(
    "Category", "categories", "category", "categories", "gradebook",
    {"title": s(), "weight": NNUM},
    ["sourcedId", "status", "dateLastModified", "title"],
    ["title"],
    ex("cat-0001", title="Homework", weight=0.4),
    search=["title"],
))

SCORE_SCALE = entity(Entity(
    "ScoreScale", "scoreScales", "scoreScale", "scoreScales", "gradebook",
    {
        "title": s(),
        "type": s(),
        "class": ref("classes"),
        "course": ref("courses", required=False),
        "scoreScaleValue": arr(obj({"itemValueLHS": s(), "itemValueRHS": s(), "value": s(),
                                    "description": s()}, ["itemValueLHS", "itemValueRHS"])),
    },
    ["sourcedId", "status", "dateLastModified", "title", "type", "class", "scoreScaleValue"],
    ["title", "type", "class", "scoreScaleValue"],
    ex("ss-0001", title="Letter grades", type="letter", **{"class": CLASS}, course=COURSE,
       scoreScaleValue=[{"itemValueLHS": "90", "itemValueRHS": "A"},
                        {"itemValueLHS": "80", "itemValueRHS": "B"}]),
    search=["title"],
))

LINE_ITEM = entity(Entity(
    "LineItem", "lineItems", "lineItem", "lineItems", "gradebook",
    {
        "title": s(),
        "description": NSTR,
        "assignDate": DATETIME,
        "dueDate": DATETIME,
        "class": ref("classes"),
        "school": ref("orgs"),
        "category": ref("categories"),
        "gradingPeriod": ref("academicSessions", required=False),
        "academicSession": ref("academicSessions", required=False),
        "scoreScale": ref("scoreScales", required=False),
        "resultValueMin": NNUM,
        "resultValueMax": NNUM,
        "learningObjectiveSet": LO_IDS,
    },
    ["sourcedId", "status", "dateLastModified", "title", "assignDate", "dueDate", "class",
     "school", "category"],
    ["title", "assignDate", "dueDate", "category"],
    ex("li-0001", title="Homework 1", description="Solve one-step equations",
       assignDate="2025-09-01T00:00:00.000Z", dueDate="2025-09-08T00:00:00.000Z",
       **{"class": CLASS}, school=ORG_SCHOOL,
       category=gref("cat-0001", "category", "gradebook", "categories"),
       gradingPeriod=gref("as-2025-t1-gp1", "academicSession", "rostering", "academicSessions"),
       scoreScale=gref("ss-0001", "scoreScale", "gradebook", "scoreScales"),
       resultValueMin=0, resultValueMax=100),
    search=["title"],
))

GRADING_FLAGS = {k: STRING_FLAG for k in ("inProgress", "incomplete", "late", "missing")}

RESULT = entity(Entity(
    "Result", "results", "result", "results", "gradebook",
    {
        "lineItem": ref("lineItems"),
        "student": ref("users"),
        "class": ref("classes", required=False),
        "scoreScale": ref("scoreScales", required=False),
        "scoreStatus": SCORE_STATUS,
        "score": NNUM,
        "textScore": NSTR,
        "scoreDate": DATETIME,
        "comment": NSTR,
        "learningObjectiveSet": LO_RESULTS,
        **{k: RESULT_FLAG for k in GRADING_FLAGS},
    },
    ["sourcedId", "status", "dateLastModified", "lineItem", "student", "scoreStatus",
     "scoreDate"],
    ["student", "scoreStatus", "scoreDate"],
    ex("result-0001", lineItem=gref("li-0001", "lineItem", "gradebook", "lineItems"),
       student=STUDENT, **{"class": CLASS}, scoreStatus="fully graded", score=92,
       textScore="A", scoreDate="2025-09-09T15:30:00.000Z", comment="Great work", late="false"),
    write_overrides=GRADING_FLAGS,
))

ASSESSMENT_LINE_ITEM = entity(Entity(
    "AssessmentLineItem", "assessmentLineItems", "assessmentLineItem", "assessmentLineItems",
    "gradebook",
    {
        "title": s(),
        "description": NSTR,
        "class": ref("classes", required=False),
        "parentAssessmentLineItem": ref("assessmentLineItems", required=False),
        "scoreScale": ref("scoreScales", required=False),
        "resultValueMin": NNUM,
        "resultValueMax": NNUM,
        "component": quirk(ref("courseComponents", required=False), "Timeback-proprietary."),
        "componentResource": quirk(ref("componentResources", required=False),
                                   "Timeback-proprietary."),
        "course": quirk(ref("courses", required=False), "Timeback-proprietary."),
        "learningObjectiveSet": LO_IDS,
    },
    ["sourcedId", "status", "dateLastModified", "title"],
    ["title"],
    ex("ali-0001", title="Unit 1 Quiz", **{"class": CLASS}, parentAssessmentLineItem=None,
       resultValueMin=0, resultValueMax=100, component=COMPONENT,
       componentResource=gref("cr-0001", "componentResource", "rostering",
                              "courses/component-resources"),
       course=COURSE),
    search=["title"],
))

ASSESSMENT_RESULT = entity(Entity(
    "AssessmentResult", "assessmentResults", "assessmentResult", "assessmentResults",
    "gradebook",
    {
        "assessmentLineItem": ref("assessmentLineItems"),
        "student": ref("users"),
        "score": NNUM,
        "textScore": NSTR,
        "scoreDate": DATETIME,
        "scoreScale": ref("scoreScales", required=False),
        "scorePercentile": NNUM,
        "scoreStatus": SCORE_STATUS,
        "comment": NSTR,
        "learningObjectiveSet": LO_RESULTS,
        **GRADING_FLAGS,
    },
    ["sourcedId", "status", "dateLastModified", "assessmentLineItem", "student", "scoreDate",
     "scoreStatus"],
    ["assessmentLineItem", "student", "scoreDate", "scoreStatus"],
    ex("ar-0001", assessmentLineItem=gref("ali-0001", "assessmentLineItem", "gradebook",
                                          "assessmentLineItems"),
       student=STUDENT, score=85, scoreDate="2025-09-20T14:00:00.000Z",
       scoreStatus="fully graded", metadata={"xp": 20, "accuracy": 85, "masteredUnits": 1}),
))

for _e in ENTITIES.values():
    if "sourcedId" not in _e.fields:
        _e.fields = {**base_fields(), **_e.fields}

# ----------------------------------------------------------------------------------------------
# Component library (built once; each spec takes the closure of what it references)
# ----------------------------------------------------------------------------------------------

LIB: dict[str, dict[str, Any]] = {k: {} for k in
                                  ("schemas", "parameters", "headers", "requestBodies",
                                   "responses", "securitySchemes")}

GUIDREF_PROPS = {"sourcedId": s(minLength=1), "type": s(), "href": s()}
LIB["schemas"]["GUIDRef"] = obj(
    GUIDREF_PROPS, ["sourcedId"], description="Reference to another record by sourcedId.",
    example={"sourcedId": "org-0002", "type": "org", "href": ORG_SCHOOL["href"]})
LIB["schemas"]["NullableGUIDRef"] = obj(
    GUIDREF_PROPS, ["sourcedId"], nullable=True,
    description="An optional reference; Timeback sends null when it is unset.",
    example={"sourcedId": "as-2025", "type": "academicSession"})
LIB["schemas"]["SourcedIdPair"] = obj(
    {"suppliedSourcedId": s(), "allocatedSourcedId": s()},
    ["suppliedSourcedId", "allocatedSourcedId"],
    example={"suppliedSourcedId": "user-0001", "allocatedSourcedId": "user-0001"})
LIB["schemas"]["SourcedIdPairs"] = obj(
    {"sourcedIdPairs": {"anyOf": [sref("SourcedIdPair"), arr(sref("SourcedIdPair"))],
                        "description": "One pair (single create) or a list (bulk create)."}},
    ["sourcedIdPairs"],
    example={"sourcedIdPairs": {"suppliedSourcedId": "user-0001",
                                "allocatedSourcedId": "user-0001"}})
LIB["schemas"]["EmptyObject"] = {"type": "object", "additionalProperties": True,
                                 "description": "An empty (or ignorable) JSON object.",
                                 "example": {}}
LIB["schemas"]["ImsxStatusInfo"] = {
    "type": "object",
    "description": "IMS error envelope.",
    "properties": {
        "imsx_codeMajor": enum("success", "processing", "failure", "unsupported"),
        "imsx_severity": enum("status", "warning", "error"),
        "imsx_description": s(),
        "imsx_CodeMinor": obj({"imsx_codeMinorField": arr(obj(
            {"imsx_codeMinorFieldName": s(), "imsx_codeMinorFieldValue": s()},
            ["imsx_codeMinorFieldName", "imsx_codeMinorFieldValue"]))},
            ["imsx_codeMinorField"]),
        "imsx_error_details": arr(obj({})),
    },
    "required": ["imsx_codeMajor", "imsx_severity", "imsx_description", "imsx_CodeMinor"],
    "additionalProperties": True,
    "example": {
        "imsx_codeMajor": "failure", "imsx_severity": "error",
        "imsx_description": "User not found.",
        "imsx_CodeMinor": {"imsx_codeMinorField": [
            {"imsx_codeMinorFieldName": "TargetEndSystem",
             "imsx_codeMinorFieldValue": "unknownobject"}]},
    },
}

ERRORS = {  # status: (component name, description, minor code)
    "400": ("BadRequest", "The request is malformed (bad parameter or JSON).", "invaliddata"),
    "401": ("Unauthorized", "Missing, expired or invalid bearer token.", "unauthorisedrequest"),
    "403": ("Forbidden", "The token lacks the scope this operation needs.", "forbidden"),
    "404": ("NotFound", "The record (or a record named in the path) does not exist.",
            "unknownobject"),
    "405": ("MethodNotAllowed", "The path exists but not with this method.", "invaliddata"),
    "409": ("Conflict", "A record with this sourcedId already exists (use PUT to change it).",
            "invaliddata"),
    "413": ("PayloadTooLarge", "The request body is too large.", "invaliddata"),
    "415": ("UnsupportedMediaType", "The request body is not application/json.", "invaliddata"),
    "422": ("UnprocessableEntity", "The body is well-formed but invalid (schema or reference).",
            "invaliddata"),
    "429": ("TooManyRequests", "Rate limited; retry after `Retry-After` seconds.",
            "server_busy"),
    "500": ("InternalServerError", "Unexpected server failure.", "internal_server_error"),
}
for _status, (_name, _desc, _minor) in ERRORS.items():
    _resp: dict[str, Any] = {"description": _desc, "content": {"application/json": {
        "schema": sref("ImsxStatusInfo"),
        "example": {"imsx_codeMajor": "failure", "imsx_severity": "error",
                    "imsx_description": _desc, "imsx_CodeMinor": {"imsx_codeMinorField": [
                        {"imsx_codeMinorFieldName": "TargetEndSystem",
                         "imsx_codeMinorFieldValue": _minor}]}}}}}
    if _status == "429":
        _resp["headers"] = {"Retry-After": {"$ref": "#/components/headers/RetryAfter"}}
    if _status == "405":
        _resp["headers"] = {"Allow": {"$ref": "#/components/headers/Allow"}}
    LIB["responses"][_name] = _resp
OP_ERRORS = ("400", "401", "403", "404", "422", "429", "500")

LIB["headers"] = {
    "XTotalCount": {"description": "Total number of records matching the request.",
                    "schema": {"type": "integer", "minimum": 0}},
    "Link": {"description": "RFC 8288 paging links (rel next/last/first/prev).",
             "schema": {"type": "string"}},
    "RetryAfter": {"description": "Seconds to wait before retrying.",
                   "schema": {"type": "integer", "minimum": 0}},
    "Allow": {"description": "Methods the path supports.", "schema": {"type": "string"}},
}
LIB["parameters"] = {
    "Limit": {"name": "limit", "in": "query", "required": False,
              "description": f"Page size (Timeback allows up to {LIMIT_MAX}).",
              "schema": {"type": "integer", "minimum": 1, "maximum": LIMIT_MAX, "default": 100}},
    "Offset": {"name": "offset", "in": "query", "required": False,
               "description": "Number of records to skip.",
               "schema": {"type": "integer", "minimum": 0, "default": 0}},
    "OrderBy": {"name": "orderBy", "in": "query", "required": False,
                "description": "Sort direction (used with `sort`).",
                "schema": {"type": "string", "enum": ["asc", "desc"]}},
}
LIB["securitySchemes"] = {"OAuth2": {
    "type": "oauth2",
    "description": "OAuth 2.0 client credentials; the token carries the granted scopes.",
    "flows": {"clientCredentials": {"tokenUrl": "/oauth2/token",
                                    "scopes": {SCOPE + k: v for k, v in SCOPES.items()}}},
}}


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    while isinstance(node, dict) and "$ref" in node:
        node = LIB["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def _build_entity_schemas(e: Entity) -> None:
    """Register <E> (read), <E>Write (request body) and <E>Patch (partial) schemas."""
    props = copy.deepcopy(e.fields)
    read: dict[str, Any] = {"type": "object"}
    if e.description:
        read["description"] = e.description
    read.update({"properties": props, "required": e.read_required,
                 "additionalProperties": True, "example": e.example})
    LIB["schemas"][e.name] = read

    wprops = {k: copy.deepcopy(e.write_overrides.get(k, WRITE_QUIRKS.get(k, v)))
              for k, v in e.fields.items() if k not in e.read_only and k != "dateLastModified"}
    write_example = {k: v for k, v in e.example.items() if k in wprops}
    write: dict[str, Any] = {"type": "object", "description": (
        f"{e.name} as written by clients: sourcedId (server allocates one when absent) and "
        "status are optional.")}
    write.update({"properties": wprops, "required": e.write_required, **e.write_extra,
                  "additionalProperties": True, "example": write_example})
    if e.name == "Class":  # Timeback's clients send the school as `org`
        write["example"] = {k: v for k, v in write_example.items() if k != "school"}
        write["example"]["org"] = ORG_SCHOOL
    LIB["schemas"][e.name + "Write"] = write
    first = e.write_required[0]
    patch_example = ({"metadata": {"goals": {"dailyXp": 150}}} if e.name == "Enrollment"
                     else {first: e.example[first]})
    LIB["schemas"][e.name + "Patch"] = {
        "type": "object", "description": f"Partial {e.name}; given fields are merged.",
        "properties": copy.deepcopy(wprops), "additionalProperties": True,
        "example": patch_example}


for _e in ENTITIES.values():
    _build_entity_schemas(_e)


def _cap(word: str) -> str:
    return word[0].upper() + word[1:]


def _a(word: str) -> str:
    return ("an " if word[0].lower() in "aeiou" else "a ") + word


FILTER_MAX_LENGTH = 1024  # keeps any filter within SQLite's expression-depth limit


def query_params(e: Entity, single: bool = False) -> list[dict[str, str]]:
    """Register (once) and reference the entity's query parameters."""
    name = e.name
    schema = LIB["schemas"][name]
    if name + "Fields" not in LIB["parameters"]:
        paths = field_paths(schema, _resolve)
        LIB["parameters"][name + "Sort"] = {
            "name": "sort", "in": "query", "required": False,
            "description": f"Field to sort {e.many} by.",
            "schema": {"type": "string", "enum": sortable_paths(paths)}}
        LIB["parameters"][name + "Filter"] = {
            "name": "filter", "in": "query", "required": False,
            "description": "Filter expression, e.g. `status='active' AND title~'alg'` "
                           "(operators = != ~ > >= < <= @; joined by AND / OR).",
            "schema": {"type": "string", "maxLength": FILTER_MAX_LENGTH,
                       "pattern": filter_pattern(list(paths))}}
        LIB["parameters"][name + "Fields"] = {
            "name": "fields", "in": "query", "required": False,
            "description": "Comma-separated top-level fields to return.",
            "schema": {"type": "string",
                       "pattern": fields_pattern(top_level_fields(schema, _resolve))}}
        if e.search:
            LIB["parameters"][name + "Search"] = {
                "name": "search", "in": "query", "required": False,
                "description": "Timeback-proprietary free-text search over "
                               + ", ".join(e.search) + ".",
                "schema": {"type": "string", "maxLength": 256}}
    if single:
        return [{"$ref": f"#/components/parameters/{name}Fields"}]
    names = ["Limit", "Offset", name + "Sort", "OrderBy", name + "Filter", name + "Fields"]
    if e.search:
        names.append(name + "Search")
    return [{"$ref": f"#/components/parameters/{n}"} for n in names]


def list_response(e: Entity, keys: list[str]) -> dict[str, str]:
    name = "".join(_cap(k) for k in keys) + "List"
    if name not in LIB["responses"]:
        props: dict[str, Any] = {k: arr(sref(e.name)) for k in keys}
        props.update({k: {"type": "integer", "minimum": 0} for k in
                      ("totalCount", "pageCount", "pageNumber", "offset", "limit")})
        example = {k: [e.example] for k in keys}
        example.update(totalCount=1, pageCount=1, pageNumber=1, offset=0, limit=100)
        note = " (the same records under each key)" if len(keys) > 1 else ""
        LIB["schemas"][name] = {"type": "object", "description": f"A page of {e.many}{note}.",
                                "properties": props, "required": list(props),
                                "additionalProperties": True, "example": example}
        LIB["responses"][name] = {
            "description": f"A page of {e.many}{note}.",
            "headers": {"X-Total-Count": {"$ref": "#/components/headers/XTotalCount"},
                        "Link": {"$ref": "#/components/headers/Link"}},
            "content": {"application/json": {"schema": sref(name)}}}
    return {"$ref": f"#/components/responses/{name}"}


def single_response(e: Entity, keys: list[str]) -> dict[str, str]:
    name = "".join(_cap(k) for k in keys) + "Single"
    if name not in LIB["responses"]:
        LIB["schemas"][name] = {"type": "object", "description": f"One {e.name}.",
                                "properties": {k: sref(e.name) for k in keys},
                                "required": list(keys), "additionalProperties": True,
                                "example": {k: e.example for k in keys}}
        LIB["responses"][name] = {"description": f"One {e.name}.",
                                  "content": {"application/json": {"schema": sref(name)}}}
    return {"$ref": f"#/components/responses/{name}"}


def request_body(e: Entity, key: str, many: bool = False, extra: tuple[str, ...] = (),
                 patch: bool = False) -> dict[str, str]:
    target = e.name + ("Patch" if patch else "Write")
    name = _cap(key) + ("Patch" if patch else "") + (
        "With" + "And".join(_cap(x) for x in extra) if extra else "") + "Body"
    if name not in LIB["requestBodies"]:
        item: dict[str, Any] = sref(target)
        if extra:
            item = {"allOf": [sref(target)], "required": list(extra)}
        schema = obj({key: arr(item, minItems=1) if many else item}, [key])
        example = LIB["schemas"][target]["example"]
        LIB["requestBodies"][name] = {
            "required": True,
            "description": f"`{key}` wrapping " + ("a list of " if many else "") + target
                           + (" (also requires " + ", ".join(extra) + ")" if extra else "")
                           + ".",
            "content": {"application/json": {
                "schema": schema, "example": {key: [example] if many else example}}}}
    return {"$ref": f"#/components/requestBodies/{name}"}


# ----------------------------------------------------------------------------------------------
# Operations table
# ----------------------------------------------------------------------------------------------


@dataclass
class Op:
    spec: str
    method: str
    path: str  # relative to the spec's base path
    operation_id: str
    summary: str
    entity: Entity | None
    binding: dict[str, Any] | None = None
    behaviour: str | None = None
    request: dict[str, Any] | None = None  # explicit requestBody (behaviours)
    responses: dict[str, Any] | None = None  # explicit 2xx responses (behaviours)
    params: list[dict[str, Any]] | None = None  # explicit query params (behaviours)
    body_extra: tuple[str, ...] = ()
    group: str | None = None  # CRUD family, for links
    links_to: str | None = None
    status: str = "200"
    family: str | None = None


OPS: list[Op] = []


def binding(collection: str, action: str, **kw: Any) -> dict[str, Any]:
    order = ("scope", "via", "match", "requires", "id", "bodyKey", "many", "responseKeys",
             "defaults", "respond")
    out: dict[str, Any] = {"collection": collection, "action": action}
    out.update({k: kw[k] for k in order if kw.get(k) is not None})
    return out


def L(spec: str, path: str, op_id: str, summary: str, e: Entity,
      keys: list[str] | None = None, group: str | None = None, **b: Any) -> None:
    OPS.append(Op(spec, "get", path, op_id, summary, e, binding(
        e.collection, "list", responseKeys=keys or [e.many], **b), group=group))


def C(spec: str, path: str, op_id: str, summary: str, e: Entity, key: str | None = None,
      many: bool = False, extra: tuple[str, ...] = (), links_to: str | None = None,
      **b: Any) -> None:
    OPS.append(Op(spec, "post", path, op_id, summary, e, binding(
        e.collection, "create", bodyKey=key or (e.many if many else e.one),
        many=True if many else None, respond="sourcedIdPairs", **b),
        body_extra=extra, links_to=None if many else links_to, status="201"))


def crud(spec: str, path: str, e: Entity, plural: str, one: str, *, put: str | None,
         put_status: str = "200", patch: bool = False, scope: str | None = None,
         list_keys: list[str] | None = None, get_keys: list[str] | None = None,
         key: str | None = None, defaults: dict[str, Any] | None = None,
         extra: tuple[str, ...] = (), only: tuple[str, ...] = ("list", "create", "get",
                                                                "update", "delete")) -> None:
    """The standard family: list, create, get, update/upsert, patch, delete."""
    item = path + "/{sourcedId}"
    key = key or e.one
    common = {"scope": scope}
    if "list" in only:
        L(spec, path, f"getAll{plural}", f"List {plural[0].lower() + plural[1:]}", e,
          keys=list_keys, group=path, **common)
    if "create" in only:
        C(spec, path, f"create{one}", f"Create {_a(one)}", e, key=key, extra=extra,
          links_to=path, defaults=defaults)
    if "get" in only:
        OPS.append(Op(spec, "get", item, f"get{one}", f"Get one {one}", e, binding(
            e.collection, "get", id="sourcedId", responseKeys=get_keys or [e.one], **common),
            group=path))
    if "update" in only and put:
        upsert = put == "upsert"
        OPS.append(Op(spec, "put", item, f"{'upsert' if upsert else 'update'}{one}",
                      f"{'Update or create' if upsert else 'Update'} {_a(one)}", e, binding(
                          e.collection, "upsert" if upsert else "update", id="sourcedId",
                          bodyKey=key, respond="wrapped" if upsert else put, **common),
                      body_extra=extra, group=path, status="201" if upsert else put_status))
    if patch:
        OPS.append(Op(spec, "patch", item, f"patch{one}", f"Partially update {_a(one)}", e,
                      binding(e.collection, "patch", id="sourcedId", bodyKey=key,
                              respond="empty", **common), group=path))
    if "delete" in only:
        OPS.append(Op(spec, "delete", item, f"delete{one}",
                      f"Delete {_a(one)} (soft: status becomes tobedeleted)", e,
                      binding(e.collection, "delete", id="sourcedId", **common),
                      group=path, status="204"))


def X(spec: str, method: str, path: str, op_id: str, summary: str, behaviour: str,
      e: Entity | None = None, request: dict[str, Any] | None = None,
      responses: dict[str, Any] | None = None, params: list[dict[str, Any]] | None = None,
      family: str | None = None) -> None:
    OPS.append(Op(spec, method, path, op_id, summary, e, behaviour=behaviour, request=request,
                  responses=responses, params=params, family=family,
                  status=next(iter(responses or {"200": None}))))


def json_body(schema: dict[str, Any], example: Any, description: str,
              required: bool = True) -> dict[str, Any]:
    return {"required": required, "description": description,
            "content": {"application/json": {"schema": schema, "example": example}}}


def json_response(description: str, schema: dict[str, Any], example: Any) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": schema, "example": example}}}


RO, GB, RS = "rostering", "gradebook", "resources"
U_, O_, AS_, C_, CL_, E_ = USER, ORG, ACADEMIC_SESSION, COURSE_ENTITY, CLASS_ENTITY, ENROLLMENT

# --- Rostering: plain collections and views ---------------------------------------------------
crud(RO, "/academicSessions", AS_, "AcademicSessions", "AcademicSession", put="entity",
     extra=("type",))
crud(RO, "/classes", CL_, "Classes", "Class", put="entity")
crud(RO, "/courses", C_, "Courses", "Course", put="empty")
crud(RO, "/courses/component-resources", COMPONENT_RESOURCE, "ComponentResources",
     "ComponentResource", put="empty", extra=("courseComponent",))
crud(RO, "/courses/components", COURSE_COMPONENT, "CourseComponents", "CourseComponent",
     put="empty")
crud(RO, "/demographics", DEMOGRAPHICS, "Demographics", "Demographic", put="entity")
crud(RO, "/enrollments", E_, "Enrollments", "Enrollment", put="empty", put_status="201",
     patch=True, extra=("role", "class"))
crud(RO, "/gradingPeriods", AS_, "GradingPeriods", "GradingPeriod", put="empty",
     put_status="201", scope="type='gradingPeriod'", list_keys=["gradingPeriods"],
     get_keys=["gradingPeriod", "academicSession"], key="academicSession",
     defaults={"type": "gradingPeriod"})
crud(RO, "/orgs", O_, "Orgs", "Org", put="empty", put_status="201", extra=("type",))
crud(RO, "/schools", O_, "Schools", "School", put="entity", scope="type='school'",
     list_keys=["orgs"], get_keys=["org"], key="org", defaults={"type": "school"})
crud(RO, "/students", U_, "Students", "Student", put=None, scope="roles.role='student'",
     list_keys=["users"], get_keys=["user"], only=("list", "get"))
crud(RO, "/teachers", U_, "Teachers", "Teacher", put=None, scope="roles.role='teacher'",
     list_keys=["users"], get_keys=["user"], only=("list", "get"))
crud(RO, "/terms", AS_, "Terms", "Term", put="entity", scope="type='term'",
     list_keys=["terms"], get_keys=["term"], key="term", defaults={"type": "term"})
crud(RO, "/users", U_, "Users", "User", put="wrapped")

# --- Rostering: nested lists and writes ---------------------------------------------------------
SCHOOL_Q = "(school.sourcedId='{schoolSourcedId}' OR org.sourcedId='{schoolSourcedId}')"
for _role, _plural, _one in (("student", "Students", "Student"),
                             ("teacher", "Teachers", "Teacher")):
    _via = [{"collection": "enrollments",
             "where": f"class.sourcedId='{{classSourcedId}}' AND role='{_role}'",
             "pick": "user.sourcedId"}]
    L(RO, f"/classes/{{classSourcedId}}/{_plural.lower()}", f"get{_plural}ForClass",
      f"{_plural} enrolled in a class", U_, keys=["users", _plural.lower()], via=_via,
      match="sourcedId", requires={"classSourcedId": "classes"})
    C(RO, f"/classes/{{classSourcedId}}/{_plural.lower()}", f"add{_one}ToClass",
      f"Enrol a {_role} in a class", E_, key="enrollment", links_to="/enrollments",
      requires={"classSourcedId": "classes"},
      defaults={"class": {"sourcedId": "{classSourcedId}"}, "role": _role})
    L(RO, f"/schools/{{schoolSourcedId}}/classes/{{classSourcedId}}/{_plural.lower()}",
      f"get{_plural}ForClassInSchool", f"{_plural} of a class in a school", U_,
      keys=["users", _plural.lower()], via=_via, match="sourcedId",
      requires={"schoolSourcedId": "orgs", "classSourcedId": "classes"})
    L(RO, f"/schools/{{schoolSourcedId}}/{_plural.lower()}", f"get{_plural}ForSchool",
      f"{_plural} of a school", U_, keys=["users"],
      scope=f"roles.role='{_role}' AND roles.org.sourcedId='{{schoolSourcedId}}'",
      requires={"schoolSourcedId": "orgs"})
    L(RO, f"/{_plural.lower()}/{{{_role}SourcedId}}/classes", f"getClassesFor{_one}",
      f"Classes a {_role} is enrolled in", CL_,
      via=[{"collection": "enrollments",
            "where": f"user.sourcedId='{{{_role}SourcedId}}' AND role='{_role}'",
            "pick": "class.sourcedId"}],
      match="sourcedId", requires={f"{_role}SourcedId": "users"})

L(RO, "/classes/{classSourcedId}/enrollments", "getEnrollmentsForClass",
  "Enrollments of a class", E_, scope="class.sourcedId='{classSourcedId}'",
  requires={"classSourcedId": "classes"})
L(RO, "/schools/{schoolSourcedId}/classes/{classSourcedId}/enrollments",
  "getEnrollmentsForClassInSchool", "Enrollments of a class in a school", E_,
  scope="class.sourcedId='{classSourcedId}'",
  requires={"schoolSourcedId": "orgs", "classSourcedId": "classes"})
L(RO, "/schools/{schoolSourcedId}/classes", "getClassesForSchool", "Classes of a school", CL_,
  scope=SCHOOL_Q, requires={"schoolSourcedId": "orgs"})
L(RO, "/schools/{schoolSourcedId}/courses", "getCoursesForSchool", "Courses of a school", C_,
  scope="org.sourcedId='{schoolSourcedId}'", requires={"schoolSourcedId": "orgs"})
L(RO, "/schools/{schoolSourcedId}/enrollments", "getEnrollmentsForSchool",
  "Enrollments of a school", E_, scope="school.sourcedId='{schoolSourcedId}'",
  requires={"schoolSourcedId": "orgs"})
L(RO, "/schools/{schoolSourcedId}/terms", "getTermsForSchool", "Terms of a school", AS_,
  keys=["terms"], scope="type='term' AND org.sourcedId='{schoolSourcedId}'",
  requires={"schoolSourcedId": "orgs"})
L(RO, "/courses/{courseSourcedId}/classes", "getClassesForCourse", "Classes of a course", CL_,
  scope="course.sourcedId='{courseSourcedId}'", requires={"courseSourcedId": "courses"})
L(RO, "/terms/{termSourcedId}/classes", "getClassesForTerm", "Classes in a term", CL_,
  scope="terms.sourcedId='{termSourcedId}'", requires={"termSourcedId": "academicSessions"})
L(RO, "/terms/{termSourcedId}/gradingPeriods", "getGradingPeriodsForTerm",
  "Grading periods of a term", AS_, keys=["gradingPeriods"],
  scope="type='gradingPeriod' AND parent.sourcedId='{termSourcedId}'",
  requires={"termSourcedId": "academicSessions"})
C(RO, "/terms/{termSourcedId}/gradingPeriods", "createGradingPeriodForTerm",
  "Create a grading period under a term", AS_, key="academicSession", links_to="/gradingPeriods",
  requires={"termSourcedId": "academicSessions"},
  defaults={"type": "gradingPeriod", "parent": {"sourcedId": "{termSourcedId}"}})
L(RO, "/users/{userSourcedId}/classes", "getClassesForUser", "Classes a user is enrolled in",
  CL_, via=[{"collection": "enrollments", "where": "user.sourcedId='{userSourcedId}'",
             "pick": "class.sourcedId"}], match="sourcedId",
  requires={"userSourcedId": "users"})
L(RO, "/users/{userId}/agentFor", "getAgentFor", "Users this user is an agent for", U_,
  keys=["users"], scope="agents.sourcedId='{userId}'", requires={"userId": "users"})
L(RO, "/users/{userId}/agents", "getAgentsForUser", "Agents (parents, guardians) of a user", U_,
  keys=["agents"], via=[{"collection": "users", "where": "sourcedId='{userId}'",
                         "pick": "agents.sourcedId"}],
  match="sourcedId", requires={"userId": "users"})
L(RO, "/courses/components/{sourcedId}/resources", "getResourcesForCourseComponent",
  "Resources attached to a course component (legacy path)", RESOURCE_ENTITY,
  via=[{"collection": "componentResources", "where": "courseComponent.sourcedId='{sourcedId}'",
        "pick": "resource.sourcedId"}], match="sourcedId",
  requires={"sourcedId": "courseComponents"})
C(RO, "/courses/components/{sourcedId}/resources", "addResourceToCourseComponent",
  "Attach a resource to a course component (legacy path)", COMPONENT_RESOURCE,
  key="componentResource", links_to="/courses/component-resources",
  requires={"sourcedId": "courseComponents"},
  defaults={"courseComponent": {"sourcedId": "{sourcedId}"}})
OPS.append(Op(RO, "get", "/courses/components/{sourcedId}/resources/{resourceSourcedId}",
              "getResourceForCourseComponent", "Get one resource of a course component "
              "(legacy path)", RESOURCE_ENTITY, binding(
                  "resources", "get", id="resourceSourcedId", responseKeys=["resource"],
                  requires={"sourcedId": "courseComponents"})))

# --- Rostering: behaviours ----------------------------------------------------------------------
X(RO, "get", "/users/{sourcedId}/demographics", "getUserWithDemographics",
  "A user with its demographics record embedded", "users.demographics", U_,
  responses={"200": {"$ref": "#/components/responses/UserSingle"}},
  params=query_params(U_, single=True), family="roster-demographics")
X(RO, "post", "/users/{userId}/agents", "addAgentForUser", "Make a user an agent of this user",
  "agents.add", U_, request=json_body(
      obj({"agentSourcedId": s(minLength=1)}, ["agentSourcedId"]),
      {"agentSourcedId": "user-0003"}, "The sourcedId of the agent (parent/guardian) user."),
  responses={"200": json_response("Relationship recorded.", sref("EmptyObject"), {})})
X(RO, "delete", "/users/{userId}/agents/{agentSourcedId}", "removeAgentForUser",
  "Remove an agent relationship", "agents.remove", U_,
  responses={"204": {"description": "Relationship removed."}})
X(RO, "post", "/users/{userId}/credentials", "registerUserCredentials",
  "Register third-party application credentials for a user", "credentials.register", U_,
  request=json_body(obj({"applicationName": s(minLength=1), "credentials": obj(
      {"username": s(), "password": s()}, ["username", "password"])},
      ["applicationName", "credentials"]),
      {"applicationName": "Reading App", "credentials": {"username": "ada.l",
                                                         "password": "s3cret!"}},
      "Application name and the credentials to store (encrypted)."),
  responses={"200": json_response(
      "Credentials stored in a user profile.",
      obj({"userProfileId": s(), "credentialId": s(), "message": s()},
          ["userProfileId", "credentialId", "message"]),
      {"userProfileId": "up-0001", "credentialId": "cred-0001",
       "message": "Credentials registered"})})
X(RO, "post", "/users/{userId}/credentials/{credentialId}/decrypt", "decryptUserCredential",
  "Decrypt a stored credential's password", "credentials.decrypt", U_,
  request=json_body(obj({}), {}, "Empty object (the body is ignored).", required=False),
  responses={"200": json_response("The clear-text password.", obj({"password": s()},
                                                                  ["password"]),
                                  {"password": "s3cret!"})})
UNIT = obj({
    "title": s(), "sortOrder": s("number"),
    "qtiTestId": s(description="QTI assessment-test identifier the unit is built from."),
    "lessons": arr(obj({"title": s(), "qtiTestId": s(), "lessonType": s()}),
                   description="Optional lessons/tests of the unit."),
}, description="One unit; kept as the component's metadata.")
X(RO, "post", "/courses/structure", "createCourseStructure",
  "Create a course with its component tree in one call", "courses.structure",
  C_, request=json_body(
      obj({"course": sref("CourseWrite"),
           "courseStructure": {"type": "object", "additionalProperties": UNIT,
                               "description": "Map of unit key to unit; one courseComponent "
                                              "per unit, ordered by key."}},
          ["course", "courseStructure"]),
      {"course": {"title": "Algebra I", "org": {"sourcedId": "org-0002"}},
       "courseStructure": {"unit-01": {"title": "Unit 1: Linear Equations",
                                       "qtiTestId": "qti-test-0001"},
                           "unit-02": {"title": "Unit 2: Inequalities"}}},
      "Timeback-proprietary and client-only; the wire shape is not published, so the sandbox "
      "documents its own: the course plus a map of units, each becoming a courseComponent of "
      "the new course."),
  responses={"201": {"description": "Created; allocatedSourcedId is the new course's.",
                     "content": {"application/json": {"schema": sref("SourcedIdPairs")}}}})

# --- Gradebook -----------------------------------------------------------------------------------
crud(GB, "/assessmentLineItems", ASSESSMENT_LINE_ITEM, "AssessmentLineItems",
     "AssessmentLineItem", put="upsert", patch=True)
crud(GB, "/assessmentResults", ASSESSMENT_RESULT, "AssessmentResults", "AssessmentResult",
     put="upsert", patch=True)
crud(GB, "/categories", CATEGORY, "Categories", "Category", put="upsert")
crud(GB, "/lineItems", LINE_ITEM, "LineItems", "LineItem", put="upsert",
     extra=("class", "school"))
crud(GB, "/results", RESULT, "Results", "Result", put="upsert", extra=("lineItem",))
crud(GB, "/scoreScales", SCORE_SCALE, "ScoreScales", "ScoreScale", put="upsert")

CLASS_DEFAULT = {"class": {"sourcedId": "{classSourcedId}"}}
C(GB, "/classes/{classSourcedId}/academicSessions/{academicSessionSourcedId}/results",
  "createResultsForAcademicSessionForClass", "Create results for a class in an academic session",
  RESULT, many=True, extra=("lineItem",), defaults=CLASS_DEFAULT,
  requires={"classSourcedId": "classes", "academicSessionSourcedId": "academicSessions"})
C(GB, "/classes/{classSourcedId}/lineItems", "createLineItemsForClass",
  "Create line items for a class", LINE_ITEM, many=True, extra=("school",),
  defaults=CLASS_DEFAULT, requires={"classSourcedId": "classes"})
L(GB, "/classes/{classSourcedId}/lineItems/{lineItemSourcedId}/results",
  "getResultsForLineItemForClass", "Results of a line item of a class", RESULT,
  scope="lineItem.sourcedId='{lineItemSourcedId}'",
  requires={"classSourcedId": "classes", "lineItemSourcedId": "lineItems"})
L(GB, "/classes/{classSourcedId}/students/{studentSourcedId}/results",
  "getResultsForStudentForClass", "Results of a student in a class", RESULT,
  scope="class.sourcedId='{classSourcedId}' AND student.sourcedId='{studentSourcedId}'",
  requires={"classSourcedId": "classes", "studentSourcedId": "users"})
L(GB, "/classes/{sourcedId}/categories", "getCategoriesForClass",
  "Categories used by a class's line items", CATEGORY,
  via=[{"collection": "lineItems", "where": "class.sourcedId='{sourcedId}'",
        "pick": "category.sourcedId"}], match="sourcedId", requires={"sourcedId": "classes"})
for _ent in (LINE_ITEM, RESULT, SCORE_SCALE):
        # One template per path shape: the lineItems GET shares `{classSourcedId}` with its POST.
    _param = "classSourcedId" if _ent is LINE_ITEM else "sourcedId"
    L(GB, f"/classes/{{{_param}}}/{_ent.many}", f"get{_cap(_ent.many)}ForClass",
      f"{_cap(_ent.many)} of a class", _ent, scope=f"class.sourcedId='{{{_param}}}'",
      requires={_param: "classes"})
# Not in Timeback's endpoint list, but the official client's `line_items(id).results()` sends it.
L(GB, "/lineItems/{sourcedId}/results", "getResultsForLineItem", "Results of a line item (client path)",
  RESULT, scope="lineItem.sourcedId='{sourcedId}'", requires={"sourcedId": "lineItems"})
C(GB, "/lineItems/{sourcedId}/results", "createResultsForLineItem",
  "Create results for a line item", RESULT, many=True,
  defaults={"lineItem": {"sourcedId": "{sourcedId}"}}, requires={"sourcedId": "lineItems"})
L(GB, "/schools/{sourcedId}/lineItems", "getLineItemsForSchool", "Line items of a school",
  LINE_ITEM, scope="school.sourcedId='{sourcedId}'", requires={"sourcedId": "orgs"})
C(GB, "/schools/{sourcedId}/lineItems", "createLineItemsForSchool",
  "Create line items for a school", LINE_ITEM, many=True, extra=("class",),
  defaults={"school": {"sourcedId": "{sourcedId}"}}, requires={"sourcedId": "orgs"})
L(GB, "/schools/{sourcedId}/scoreScales", "getScoreScalesForSchool",
  "Score scales of a school's classes", SCORE_SCALE,
  via=[{"collection": "classes",
        "where": "school.sourcedId='{sourcedId}' OR org.sourcedId='{sourcedId}'",
        "pick": "sourcedId"}], match="class.sourcedId", requires={"sourcedId": "orgs"})

# --- Resources -----------------------------------------------------------------------------------
crud(RS, "/resources", RESOURCE_ENTITY, "Resources", "Resource", put="empty")
RESOURCE_VIA = {
    "classes": ("classSourcedId", [{"collection": "classes",
                                    "where": "sourcedId='{classSourcedId}'",
                                    "pick": "resources.sourcedId"}]),
    "courses": ("courseSourcedId", [{"collection": "courses",
                                     "where": "sourcedId='{courseSourcedId}'",
                                     "pick": "resources.sourcedId"}]),
    "users": ("userSourcedId", [{"collection": "enrollments",
                                 "where": "user.sourcedId='{userSourcedId}'",
                                 "pick": "class.sourcedId"},
                                {"collection": "classes", "match": "sourcedId",
                                 "pick": "resources.sourcedId"}]),
}
for _prefix, _suffix in (("/resources", ""), ("", "Alias")):
    for _owner, (_param, _via) in RESOURCE_VIA.items():
        _one = {"classes": "Class", "courses": "Course", "users": "User"}[_owner]
        L(RS, f"{_prefix}/{_owner}/{{{_param}}}/resources", f"getResourcesFor{_one}{_suffix}",
          f"Resources of a {_one.lower()}" + (" (1EdTech-style alias path)" if _suffix else ""),
          RESOURCE_ENTITY, via=_via, match="sourcedId", requires={_param: _owner})
X(RS, "post", "/resources/export/{sourceId}", "exportResource",
  "Export a resource as a Common Cartridge package", "resources.export", RESOURCE_ENTITY,
  responses={"200": {"description": "The Common Cartridge (zip) archive.", "content": {
      "application/zip": {"schema": {"type": "string", "format": "binary"}}}}})

# ----------------------------------------------------------------------------------------------
# Differences from 1EdTech (recorded on every spec root)
# ----------------------------------------------------------------------------------------------

DIFFERENCES = [
    ("class roster response key",
     "GET /classes/{id}/students|teachers is documented with `students`/`teachers`; the "
     "official clients read `users`. The sandbox returns the same list under both keys.",
     "Returns `users`."),
    ("grading period keys",
     "Grading periods are written as `{academicSession: ...}` and read as "
     "`gradingPeriod(s)`; the sandbox returns GET one under `gradingPeriod` and "
     "`academicSession`.", "Rostering is read-only; grading periods read as `academicSession`."),
    ("rostering writes",
     "POST/PUT/DELETE exist on orgs, schools, users, classes, courses, enrollments, terms, "
     "gradingPeriods, academicSessions, demographics; PATCH on enrollments (metadata merge).",
     "The rostering service is read-only."),
    ("rostering PUT responses",
     "PUT answers vary: the unwrapped entity (schools, classes, academicSessions, terms, "
     "demographics), `{user}` for users, `{}` for orgs, enrollments, courses, components, "
     "component resources, resources, grading periods (201 for orgs, enrollments, grading "
     "periods).", "No rostering PUT."),
    ("gradebook PUT",
     "Update-or-create returning 201 with the wrapped entity `{lineItem: ...}`.",
     "201 with no body."),
    ("course components",
     "Course components and component resources are proprietary and live under rostering "
     "(`/courses/components`, `/courses/component-resources`, legacy "
     "`/courses/components/{id}/resources`, client-only `POST /courses/structure`).",
     "Not defined."),
    ("resources-by-x paths",
     "Resources of a class/course/user are under `/resources/v1p2/resources/{classes|courses|"
     "users}/{id}/resources`; the 1EdTech-style paths are kept as aliases.",
     "`/resources/v1p2/{classes|courses|users}/{id}/resources`."),
    ("limit maximum", f"`limit` defaults to 100 and is capped at {LIMIT_MAX}.",
     "No maximum."),
    ("body paging fields",
     "List bodies carry totalCount, pageCount, pageNumber, offset and limit besides "
     "X-Total-Count/Link headers (the Python client only uses the headers).",
     "Paging only through X-Total-Count and Link headers."),
    ("search parameter",
     "Proprietary `search` free-text parameter on lists (users: givenName, familyName, "
     "email; courses: title, courseCode; classes: title; orgs: name).", "No `search`."),
    ("string booleans",
     "enabledUser, Enrollment.primary and demographics race flags are strings on reads; "
     "writes also accept JSON booleans. Result flags (late, missing, ...) are strings.",
     "String enums 'true'/'false' only."),
    ("schoolYear",
     "AcademicSession.schoolYear is published as a number on reads and a string on writes; "
     "the spec reads a number and writes accept either.", "4-digit year string."),
    ("class school key", "Class create input names the school `org`; reads name it `school`.",
     "`school` everywhere."),
    ("proprietary endpoints",
     "agents/agentFor, user credentials (register, decrypt), resource export to Common "
     "Cartridge, PATCH on assessment line items/results.", "Not defined."),
    ("assessment line item references",
     "AssessmentLineItem also references course, component and componentResource.",
     "Not defined."),
    ("path parameter names",
     "`/lineItems/{sourcedId}/results`, `/schools/{sourcedId}/lineItems|scoreScales`, "
     "`/classes/{sourcedId}/lineItems` (GET) next to `/classes/{classSourcedId}/lineItems` "
     "(POST); this spec uses one template, `{classSourcedId}`, for both methods of that path.",
     "`lineItemSourcedId`, `schoolSourcedId`, `classSourcedId`."),
    ("scopes", "Scope URIs use `/spec/or/v1p1/scope/` plus an `admin` scope.",
     "`/spec/or/v1p2/scope/` URIs."),
    ("trailing slash", "Collection roots are published with a trailing slash (`/users/`); "
     "clients call them without. Both are the same route.", "No trailing slash."),
]

# Where the sandbox itself departs from Timeback's published schemas, and why. `ignore` lists the
# Timeback schema locations (`Schema.field.sub`: Timeback's component, or our entity schema where
# Timeback inlines it) that tests/test_timeback_fidelity.py may let differ; keep it empty unless a
# seeded answer really differs, so the test keeps guarding everything else.
SANDBOX_DIFFERENCES: list[dict[str, Any]] = [
    {"topic": "academic session org on writes",
     "timeback": "AcademicSession reads require `org`; its create input requires it too.",
     "oneEdTech": "`org` is required.",
     "sandbox": "A write that names a parent session may omit `org` (the official Python "
                "client's AcademicSession model has no `org`, so a session built from it loses "
                "one): the session takes its parent's org. A write with neither is refused (400), "
                "so every session reads with an org, as Timeback's read schema requires.",
     "ignore": []},
    {"topic": "org identifier",
     "timeback": "Org reads require a string `identifier`; the create input allows null or none.",
     "oneEdTech": "Optional.",
     "sandbox": "A write without an identifier (or with null) stores an empty string, so reads "
                "keep Timeback's read schema.",
     "ignore": []},
    {"topic": "null on optional fields",
     "timeback": "Some optional fields are non-null in both the read schema and the create input: "
                 "User.primaryOrg and grades; Class grades, subjects, subjectCodes and periods; "
                 "Result inProgress, incomplete, late and missing.",
     "oneEdTech": "Optional fields; null is not a value.",
     "sandbox": "Writes still accept null there (clients that serialise unset fields as null "
                "keep working); the field is then stored as absent, so reads never carry the "
                "null Timeback's read schema rejects.",
     "ignore": []},
    {"topic": "write bookkeeping fields",
     "timeback": "Many create inputs require `status` (academic sessions, grading periods, "
                 "courses, course components and component resources, categories, score scales, "
                 "results, assessment line items and results); `dateLastModified`, where a write "
                 "input has it, is a date-time.",
     "oneEdTech": "`status` and `dateLastModified` are required on every record.",
     "sandbox": "Writes may omit `status` (a new record is active) and the server sets "
                "`dateLastModified` itself, ignoring whatever the body says, so a malformed one "
                "is not refused. Reads always carry both.",
     "ignore": []},
    {"topic": "duplicate create",
     "timeback": "The create operations document 201, 400, 401, 403, 404, 422, 429 and 500.",
     "oneEdTech": "Not defined.",
     "sandbox": "A POST naming a sourcedId that already exists answers 409 (use PUT to change a "
                "record): overwriting it silently would hide a client's id clash.",
     "ignore": []},
    {"topic": "operations missing from Timeback's OpenAPI file",
     "timeback": "PATCH on enrollments, assessment line items and assessment results, and "
                 "POST /terms, PUT and DELETE /terms/{id}, are exposed by the official Python "
                 "client (and Timeback's endpoint list) but absent from the published OpenAPI file.",
     "oneEdTech": "Not defined.",
     "sandbox": "Served, since the official client calls them; a probe of one of them with a "
                "body-less request answers 400, not the 405 a reader of the OpenAPI file expects.",
     "ignore": []},
]

# ----------------------------------------------------------------------------------------------
# Assembly
# ----------------------------------------------------------------------------------------------


def _security(op: Op) -> list[dict[str, list[str]]]:
    family = op.family or (op.entity.family if op.entity and op.entity.family else None) \
        or FAMILY[op.spec]
    return [{"OAuth2": [f"{SCOPE}{family}.{METHOD_RIGHT[op.method]}"]},
            {"OAuth2": [f"{SCOPE}admin"]}]


def _operation(op: Op) -> dict[str, Any]:
    e = op.entity
    out: dict[str, Any] = {"operationId": op.operation_id, "summary": op.summary}
    tag = (op.binding or {}).get("collection") or (e.collection if e else op.spec)
    out["tags"] = [tag]
    out["security"] = _security(op)
    b = op.binding
    params: list[dict[str, Any]] = []
    ok: dict[str, Any] = {}
    body = None
    if b is not None:
        target = ENTITIES_BY_COLLECTION[b["collection"]]
        action = b["action"]
        if action == "list":
            params = query_params(target)
            ok[op.status] = list_response(target, b["responseKeys"])
        elif action == "get":
            params = query_params(target, single=True)
            ok[op.status] = single_response(target, b["responseKeys"])
        elif action in ("create", "update", "upsert", "patch"):
            body = request_body(target, b["bodyKey"], many=bool(b.get("many")),
                                extra=op.body_extra, patch=action == "patch")
            respond = b["respond"]
            if respond == "sourcedIdPairs":
                ok[op.status] = {"description": "Created.", "content": {
                    "application/json": {"schema": sref("SourcedIdPairs")}}}
            elif respond == "wrapped":
                ok[op.status] = single_response(target, [b["bodyKey"]])
            elif respond == "entity":
                ok[op.status] = json_response("The updated record (unwrapped).",
                                              sref(target.name), target.example)
            else:
                ok[op.status] = json_response("Stored.", sref("EmptyObject"), {})
        elif action == "delete":
            ok["204"] = {"description": "Deleted (no body)."}
        out["x-tb-binding"] = b
    else:
        out["x-tb-behaviour"] = op.behaviour
        params = op.params or []
        body = op.request
        ok = op.responses or {}
    if params:
        out["parameters"] = params
    if body is not None:
        out["requestBody"] = body
    responses = dict(ok)
    errors = list(OP_ERRORS) + (["413", "415"] if body is not None else [])
    if (b or {}).get("action") == "create" or op.behaviour == "courses.structure":
        errors.append("409")
    for status in sorted(errors):
        responses[status] = {"$ref": f"#/components/responses/{ERRORS[status][0]}"}
    out["responses"] = responses
    # keep extensions last
    for key in ("x-tb-binding", "x-tb-behaviour"):
        if key in out:
            out[key] = out.pop(key)
    return out


ENTITIES_BY_COLLECTION = {e.collection: e for e in ENTITIES.values()}


def _add_links(spec_ops: list[Op], built: dict[str, dict[str, Any]]) -> None:
    for op in spec_ops:
        if not op.links_to:
            continue
        links = {}
        for other in spec_ops:
            action = (other.binding or {}).get("action")
            if other.group == op.links_to and action in ("get", "update", "upsert", "delete"):
                links[other.operation_id] = {
                    "operationId": other.operation_id,
                    "parameters": {"sourcedId": "$response.body#/sourcedIdPairs/"
                                                "allocatedSourcedId"}}
        if links:
            built[op.operation_id]["responses"][op.status]["links"] = links


# Fields the sandbox store indexes (x-tb-collections.<name>.indexed): what the bindings' scopes and
# `via` chains filter on, the references clients filter by, and the usual sync filters. A name that
# is not a field of the collection's entity makes the spec fail to load (specs/collections.py).
INDEXED_EVERYWHERE = ["status", "dateLastModified"]
INDEXED: dict[str, list[str]] = {
    "users": ["roles.role", "roles.org.sourcedId", "agents.sourcedId", "primaryOrg.sourcedId"],
    "orgs": ["type", "parent.sourcedId"],
    "academicSessions": ["type", "parent.sourcedId", "org.sourcedId"],
    "courses": ["org.sourcedId"],
    "classes": ["course.sourcedId", "school.sourcedId", "org.sourcedId", "terms.sourcedId"],
    "enrollments": ["class.sourcedId", "user.sourcedId", "school.sourcedId", "role"],
    "courseComponents": ["course.sourcedId", "parent.sourcedId"],
    "componentResources": ["courseComponent.sourcedId", "resource.sourcedId"],
    "lineItems": ["class.sourcedId", "school.sourcedId", "category.sourcedId"],
    "results": ["lineItem.sourcedId", "student.sourcedId", "class.sourcedId"],
    "scoreScales": ["class.sourcedId"],
    "assessmentLineItems": ["class.sourcedId"],
    "assessmentResults": ["assessmentLineItem.sourcedId", "student.sourcedId"],
}


def build_spec(api: str) -> dict[str, Any]:
    spec_ops = [op for op in OPS if op.spec == api]
    built = {op.operation_id: _operation(op) for op in spec_ops}
    _add_links(spec_ops, built)
    paths: dict[str, dict[str, Any]] = {}
    for op in spec_ops:
        full = BASES[api] + op.path
        item = paths.setdefault(full, {})
        if "parameters" not in item and path_params(full):
            item["parameters"] = path_params(full)
        item[op.method] = built[op.operation_id]
    for item in paths.values():  # parameters first, then methods in a stable order
        order = ["parameters", "get", "post", "put", "patch", "delete"]
        items = sorted(item.items(), key=lambda kv: order.index(kv[0]))
        item.clear()
        item.update(items)

    collections = {}
    for e in ENTITIES.values():
        if e.spec == api:
            entry: dict[str, Any] = {"schema": e.name}
            if e.search:
                entry["search"] = list(e.search)
            entry["indexed"] = [*INDEXED_EVERYWHERE, *INDEXED.get(e.collection, [])]
            collections[e.collection] = entry

    doc: dict[str, Any] = {
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "info": {
            "title": f"OneRoster 1.2 {api.capitalize()} (Timeback)",
            "version": "1.2.0-timeback",
            "description": (
                f"Timeback's OneRoster 1.2 {api} service as the tbconform sandbox serves it. "
                "Generated by specs/oneroster/_generate.py; do not edit by hand. Where "
                "Timeback differs from the 1EdTech binding the spec follows Timeback "
                "(see x-tb-differences)."),
        },
        "servers": SERVERS,
        "tags": [],
        "paths": paths,
        "components": {},
        "x-tb-api": "oneroster",
        "x-tb-error-style": "ims",
        "x-tb-collections": collections,
        "x-tb-differences": [{"topic": t, "timeback": tb, "oneEdTech": one}
                             for t, tb, one in DIFFERENCES] + SANDBOX_DIFFERENCES,
    }
    # components: closure over $ref, plus the full error set
    for e in ENTITIES.values():
        if e.spec == api:
            query_params(e)  # make sure every owned collection has its params registered
    wanted: set[tuple[str, str]] = {("responses", v[0]) for v in ERRORS.values()}
    wanted |= {("securitySchemes", "OAuth2")}
    wanted |= {("schemas", e.name) for e in ENTITIES.values() if e.spec == api}
    collect_refs(paths, wanted)
    wanted = close_refs(LIB, wanted)
    comps: dict[str, Any] = {}
    for kind in ("schemas", "parameters", "headers", "requestBodies", "responses",
                 "securitySchemes"):
        names = sorted(n for k, n in wanted if k == kind)
        if names:
            comps[kind] = {n: copy.deepcopy(LIB[kind][n]) for n in names}
    doc["components"] = comps
    doc["tags"] = [{"name": t} for t in sorted({tag for op in built.values()
                                                for tag in op["tags"]})]
    return doc


def render(api: str) -> str:
    return dump_yaml(build_spec(api))


def main() -> None:
    for api in SPECS:
        (HERE / f"{api}.yaml").write_text(render(api), encoding="utf-8")
        print(f"wrote specs/oneroster/{api}.yaml")


if __name__ == "__main__":
    main()
