"""The EduBridge enrollment layer round-trips with OneRoster: what enroll, defaultClass,
unenroll, resetGoals and resetProgress write are ordinary OneRoster records (same ids, linked:
enrollment -> class -> term -> school year, class -> course and school), visible through the
OneRoster endpoints; defaultClass is idempotent; a refused enroll writes nothing."""
from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import pytest

from tests.conftest import GRADEBOOK, ROSTERING
from tests.edubridge_common import client, module_sandbox, records  # noqa: F401 (client: a fixture)
from tests.test_edubridge_sandbox import SPEC, assert_ims

EB = "/edubridge/enrollments"
ENROLL_OP = "/edubridge/enrollments/enroll/{userId}/{courseId}"


sandbox = module_sandbox()


@pytest.fixture(scope="module")
def courses(sandbox) -> list[dict[str, Any]]:
    return records(sandbox, "courses")


def new_student(client, school: str) -> str:
    """A fresh student (so no seeded enrollment gets in the way), created through OneRoster."""
    user_id = f"eb-test-{uuid.uuid4()}"
    made = client.post(f"{ROSTERING}/users", json={"user": {
        "sourcedId": user_id, "status": "active", "enabledUser": True, "givenName": "Eda", "familyName": "Bridge",
        "email": f"{user_id}@example.org", "userIds": [], "agents": [], "userProfiles": [],
        "roles": [{"roleType": "primary", "role": "student",
                   "org": {"href": f"{ROSTERING}/orgs/{school}", "sourcedId": school, "type": "org"}}]}})
    assert made.status_code == 201, made.text
    return user_id


def roster(client, path: str) -> dict[str, Any]:
    answer = client.get(f"{ROSTERING}{path}")
    assert answer.status_code == 200, (path, answer.text[:300])
    return answer.json()


def test_enroll_creates_linked_oneroster_records(client, courses) -> None:
    course = courses[0]
    school = course["org"]["sourcedId"]
    student = new_student(client, school)
    answer = client.post(f"{EB}/enroll/{student}/{course['sourcedId']}", json={})
    view = SPEC.check("post", ENROLL_OP, answer)["data"]
    assert view["role"] == "student" and view["course"]["id"] == course["sourcedId"]
    assert view["school"]["id"] == school and view["beginDate"] == date.today().isoformat()

    enrollment = roster(client, f"/enrollments/{view['id']}")["enrollment"]
    assert enrollment["user"]["sourcedId"] == student and enrollment["role"] == "student"
    assert enrollment["school"]["sourcedId"] == school and enrollment["status"] == "active"
    klass = roster(client, f"/classes/{enrollment['class']['sourcedId']}")["class"]
    assert klass["course"]["sourcedId"] == course["sourcedId"] and klass["school"]["sourcedId"] == school
    assert klass["title"] == course["title"]
    term_id = klass["terms"][0]["sourcedId"]
    assert [p["id"] for p in view["periods"]] == [term_id]
    term = roster(client, f"/academicSessions/{term_id}")["academicSession"]
    today = date.today().isoformat()
    assert term["type"] == "term" and term["startDate"] <= today <= term["endDate"]
    assert term["org"]["sourcedId"] == school
    year = roster(client, f"/academicSessions/{term['parent']['sourcedId']}")["academicSession"]
    assert year["type"] == "schoolYear" and year["org"]["sourcedId"] == school
    assert term_id in {c["sourcedId"] for c in year["children"]}
    assert year["startDate"] <= today <= year["endDate"]
    listed = roster(client, "/classes?filter=" + f"course.sourcedId='{course['sourcedId']}'&limit=3000")["classes"]
    assert klass["sourcedId"] in {c["sourcedId"] for c in listed}
    mine = SPEC.check("get", "/edubridge/enrollments/user/{userId}", client.get(f"{EB}/user/{student}"))["data"]
    assert [e["id"] for e in mine] == [view["id"]]


def test_enroll_with_school_and_options(client, courses, sandbox) -> None:
    course = courses[0]
    other_school = next(c["org"]["sourcedId"] for c in courses if c["org"]["sourcedId"] != course["org"]["sourcedId"])
    student = new_student(client, other_school)
    chosen = f"enr-{uuid.uuid4()}"
    metadata = {"goals": {"dailyXp": 50, "dailyLessons": 3},
                "metrics": {"totalXp": 900, "totalLessons": 30, "totalGrades": 2, "courseType": "core",
                            "isSupplemental": False},
                "studentSpecificGoals": True}
    answer = client.post(f"{EB}/enroll/{student}/{course['sourcedId']}/{other_school}",
                         json={"sourcedId": chosen, "role": "teacher", "beginDate": "2026-09-01", "metadata": metadata})
    view = SPEC.check("post", "/edubridge/enrollments/enroll/{userId}/{courseId}/{schoolId}", answer)["data"]
    assert (view["id"], view["role"], view["beginDate"], view["school"]["id"]) == \
        (chosen, "teacher", "2026-09-01", other_school)
    assert view["metadata"] == metadata
    enrollment = roster(client, f"/enrollments/{chosen}")["enrollment"]
    assert enrollment["metadata"] == metadata and enrollment["role"] == "teacher"
    klass = roster(client, f"/classes/{enrollment['class']['sourcedId']}")["class"]
    assert klass["school"]["sourcedId"] == other_school
    default = client.get(f"{EB}/defaultClass/{course['sourcedId']}").json()["data"]
    assert default["id"] != klass["sourcedId"]  # the course's own school has a class of its own
    assert client.get(f"{EB}/defaultClass/{course['sourcedId']}/{other_school}").json()["data"]["id"] == klass["sourcedId"]
    before = sandbox.sandbox.store.counts()
    again = client.post(f"{EB}/enroll/{student}/{course['sourcedId']}/{other_school}", json={"role": "teacher"})
    assert again.status_code == 201 and again.json()["data"]["id"] == chosen  # enrolling again is idempotent
    assert sandbox.sandbox.store.counts() == before


def test_default_class_is_idempotent_and_is_the_enroll_class(client, courses, sandbox) -> None:
    course = courses[3]
    school = course["org"]["sourcedId"]
    first = SPEC.check("get", "/edubridge/enrollments/defaultClass/{courseId}",
                       client.get(f"{EB}/defaultClass/{course['sourcedId']}"))["data"]
    counts = sandbox.sandbox.store.counts()
    for path in (f"{EB}/defaultClass/{course['sourcedId']}", f"{EB}/defaultClass/{course['sourcedId']}/{school}"):
        assert client.get(path).json()["data"] == first
    assert sandbox.sandbox.store.counts() == counts
    assert first["course"] == {"id": course["sourcedId"], "title": course["title"], "metadata": course["metadata"]}
    klass = roster(client, f"/classes/{first['id']}")["class"]
    assert [t["sourcedId"] for t in klass["terms"]] == first["periods"]
    student = new_student(client, school)
    view = client.post(f"{EB}/enroll/{student}/{course['sourcedId']}", json={}).json()["data"]
    assert roster(client, f"/enrollments/{view['id']}")["enrollment"]["class"]["sourcedId"] == first["id"]
    classes = [c for c in records(sandbox, "classes") if c["course"]["sourcedId"] == course["sourcedId"]
               and c["sourcedId"] == first["id"]]
    assert len(classes) == 1


def test_unenroll_marks_tobedeleted_in_both_views(client, courses) -> None:
    course = courses[1]
    school = course["org"]["sourcedId"]
    student = new_student(client, school)
    view = client.post(f"{EB}/enroll/{student}/{course['sourcedId']}", json={}).json()["data"]
    other = client.post(f"{EB}/enroll/{student}/{courses[2]['sourcedId']}", json={}).json()["data"]
    gone = client.delete(f"{EB}/unenroll/{student}/{course['sourcedId']}")
    assert gone.status_code == 204 and gone.content == b""
    assert_ims(client.get(f"{ROSTERING}/enrollments/{view['id']}"), 404)
    listed = roster(client, f"/enrollments?filter=user.sourcedId='{student}'")["enrollments"]
    assert {e["sourcedId"]: e["status"] for e in listed} == {view["id"]: "tobedeleted", other["id"]: "active"}
    assert [e["id"] for e in client.get(f"{EB}/user/{student}").json()["data"]] == [other["id"]]
    assert_ims(client.delete(f"{EB}/unenroll/{student}/{course['sourcedId']}"), 404)


def test_unenroll_at_a_school_leaves_other_schools(client, courses) -> None:
    course = courses[0]
    home = course["org"]["sourcedId"]
    away = next(c["org"]["sourcedId"] for c in courses if c["org"]["sourcedId"] != home)
    student = new_student(client, home)
    here = client.post(f"{EB}/enroll/{student}/{course['sourcedId']}", json={}).json()["data"]
    there = client.post(f"{EB}/enroll/{student}/{course['sourcedId']}/{away}", json={}).json()["data"]
    assert here["id"] != there["id"]
    assert client.delete(f"{EB}/unenroll/{student}/{course['sourcedId']}/{away}").status_code == 204
    assert [e["id"] for e in client.get(f"{EB}/user/{student}").json()["data"]] == [here["id"]]
    assert_ims(client.delete(f"{EB}/unenroll/{student}/{course['sourcedId']}/{away}"), 404)


def test_refused_enroll_writes_nothing(client, courses, sandbox) -> None:
    course = courses[5]  # no default class yet: a partial write would leave sessions or a class behind
    taken = records(sandbox, "enrollments")[0]["sourcedId"]
    student = new_student(client, course["org"]["sourcedId"])
    before = sandbox.sandbox.store.counts()
    assert_ims(client.post(f"{EB}/enroll/{student}/{course['sourcedId']}", json={"sourcedId": taken}), 409)
    assert sandbox.sandbox.store.counts() == before


@pytest.mark.parametrize("path", ["resetGoals", "propagateGoals"])
def test_goals_are_copied_except_student_specific(client, courses, sandbox, path) -> None:
    course = dict(courses[4])
    goals = {"dailyXp": 77 if path == "resetGoals" else 66, "dailyLessons": 4}
    course["metadata"] = {**(course.get("metadata") or {}), "goals": goals}
    course.pop("dateLastModified", None)
    put = client.put(f"{ROSTERING}/courses/{course['sourcedId']}", json={"course": course})
    assert put.status_code < 300, put.text
    school = course["org"]["sourcedId"]
    plain, own = new_student(client, school), new_student(client, school)
    a = client.post(f"{EB}/enroll/{plain}/{course['sourcedId']}", json={}).json()["data"]
    b = client.post(f"{EB}/enroll/{own}/{course['sourcedId']}",
                    json={"metadata": {"goals": {"dailyXp": 1}, "studentSpecificGoals": True}}).json()["data"]
    classes = {c["sourcedId"] for c in records(sandbox, "classes") if c["course"]["sourcedId"] == course["sourcedId"]}
    eligible = [e for e in records(sandbox, "enrollments") if e["class"]["sourcedId"] in classes
                and e["status"] == "active" and (e.get("metadata") or {}).get("studentSpecificGoals") is not True]
    answer = client.post(f"/edubridge/enrollments/{path}/{course['sourcedId']}", json={})
    data = SPEC.check("post", f"/edubridge/enrollments/{path}/{{courseId}}", answer)["data"]
    assert data == {"updated": len(eligible), "errors": []} and data["updated"] >= 1
    assert roster(client, f"/enrollments/{a['id']}")["enrollment"]["metadata"]["goals"] == goals
    assert roster(client, f"/enrollments/{b['id']}")["enrollment"]["metadata"]["goals"] == {"dailyXp": 1}


def _item(client, course: str | None = None, klass: str | None = None) -> str:
    item_id = f"ali-{uuid.uuid4()}"
    body: dict[str, Any] = {"sourcedId": item_id, "status": "active", "title": "progress check", "metadata": {}}
    if course:
        body["course"] = {"href": f"{ROSTERING}/courses/{course}", "sourcedId": course, "type": "course"}
    if klass:
        body["class"] = {"href": f"{ROSTERING}/classes/{klass}", "sourcedId": klass, "type": "class"}
    made = client.put(f"{GRADEBOOK}/assessmentLineItems/{item_id}", json={"assessmentLineItem": body})
    assert made.status_code in (200, 201), made.text
    return item_id


def _result(client, item: str, student: str) -> str:
    result_id = f"ar-{uuid.uuid4()}"
    made = client.put(f"{GRADEBOOK}/assessmentResults/{result_id}", json={"assessmentResult": {
        "sourcedId": result_id, "status": "active", "score": 0.8, "scoreDate": "2026-10-01T00:00:00.000Z",
        "scoreStatus": "fully graded",
        "assessmentLineItem": {"href": f"{GRADEBOOK}/assessmentLineItems/{item}", "sourcedId": item,
                               "type": "assessmentLineItem"},
        "student": {"href": f"{ROSTERING}/users/{student}", "sourcedId": student, "type": "user"}}})
    assert made.status_code in (200, 201), made.text
    return result_id


def test_reset_progress_marks_only_the_course_results(client, courses) -> None:
    course, other = courses[2], courses[1]
    student = new_student(client, course["org"]["sourcedId"])
    klass = client.get(f"{EB}/defaultClass/{course['sourcedId']}").json()["data"]["id"]
    other_class = client.get(f"{EB}/defaultClass/{other['sourcedId']}").json()["data"]["id"]
    by_course = _result(client, _item(client, course=course["sourcedId"]), student)
    by_class = _result(client, _item(client, klass=klass), student)
    elsewhere = _result(client, _item(client, course=other["sourcedId"]), student)
    other_class_result = _result(client, _item(client, klass=other_class), student)
    someone_else = _result(client, _item(client, course=course["sourcedId"]), new_student(client, course["org"]["sourcedId"]))
    answer = client.delete(f"{EB}/resetProgress/{student}/{course['sourcedId']}")
    assert answer.status_code == 204 and answer.content == b""
    for gone in (by_course, by_class):
        assert_ims(client.get(f"{GRADEBOOK}/assessmentResults/{gone}"), 404)
    for kept in (elsewhere, other_class_result, someone_else):
        assert client.get(f"{GRADEBOOK}/assessmentResults/{kept}").status_code == 200
    listed = client.get(f"{GRADEBOOK}/assessmentResults", params={"filter": f"student.sourcedId='{student}'"}).json()
    status = {r["sourcedId"]: r["status"] for r in listed["assessmentResults"]}
    assert status[by_course] == status[by_class] == "tobedeleted" and status[elsewhere] == "active"
    assert_ims(client.delete(f"{EB}/resetProgress/{student}/no-such-course"), 404)
