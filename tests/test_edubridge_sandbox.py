"""EduBridge in the sandbox: the spec is generated, valid and covers the catalog; every operation
answers the shape its spec declares; users/ filters by exclusive roles with OneRoster list
semantics; applications, application metrics, subject tracks and groups keep real state; MAP
profile, highest grade mastered and time saved come from OneRoster records; the EduBridge
Caliper send stores like /caliper/event; bad input gets a 4xx in the IMS envelope and writes
nothing."""
from __future__ import annotations

import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_openapi

from tbconform.mocks.behaviours.edubridge import school_days, school_year_of
from tbconform.specs.edubridge import _generate
from tests.conftest import GRADEBOOK, ROSTERING, catalog_rows, route, spec_routes
from tests.edubridge_common import client, module_sandbox, records  # noqa: F401 (client: a fixture)

SPEC_FILE = Path(__file__).resolve().parents[1] / "specs" / "edubridge" / "edubridge.yaml"
EB = "/edubridge"
METHODS = ("get", "put", "post", "delete", "patch")
CONTEXT = "http://purl.imsglobal.org/ctx/caliper/v1p2"


class Spec:
    """The EduBridge spec, to check answers against the schemas it declares."""

    def __init__(self) -> None:
        self.doc = yaml.safe_load(SPEC_FILE.read_text(encoding="utf-8"))

    def operation(self, method: str, path: str) -> dict[str, Any]:
        return self.doc["paths"][path][method]

    def response_schema(self, method: str, path: str, status: int) -> dict[str, Any] | None:
        response = self.operation(method, path)["responses"][str(status)]
        if "$ref" in response:
            response = self.doc["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
        content = response.get("content")
        return content["application/json"]["schema"] if content else None

    def check(self, method: str, path: str, answer: httpx.Response) -> Any:
        """The answer's status is documented and its body valid against that status' schema."""
        responses = self.operation(method, path)["responses"]
        assert str(answer.status_code) in responses, (method, path, answer.status_code, answer.text[:300])
        schema = self.response_schema(method, path, answer.status_code)
        if schema is None:
            assert answer.content == b"", (method, path, answer.text[:200])
            return None
        body = answer.json()
        validator = Draft202012Validator({**schema, "components": self.doc["components"]},
                                         format_checker=Draft202012Validator.FORMAT_CHECKER)
        errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}" for e in validator.iter_errors(body)]
        assert not errors, (method, path, errors[:5])
        return body


SPEC = Spec()


def assert_ims(answer: httpx.Response, status: int) -> dict[str, Any]:
    assert answer.status_code == status, answer.text[:300]
    body = answer.json()
    assert body["imsx_codeMajor"] == "failure" and body["imsx_severity"] == "error"
    assert body["imsx_CodeMinor"]["imsx_codeMinorField"][0]["imsx_codeMinorFieldValue"]
    return body


sandbox = module_sandbox()


@pytest.fixture(scope="module")
def world(sandbox) -> dict[str, Any]:
    """Seeded ids the tests use: a student, a teacher, a course with its school, an application."""
    users = records(sandbox, "users")
    student = next(u for u in users if [r["role"] for r in u["roles"]] == ["student"])
    teacher = next(u for u in users if [r["role"] for r in u["roles"]] == ["teacher"])
    course = records(sandbox, "courses")[0]
    return {"student": student["sourcedId"], "teacher": teacher["sourcedId"], "course": course["sourcedId"],
            "school": course["org"]["sourcedId"], "app": records(sandbox, "applications")[0]["sourcedId"]}


# ----------------------------------------------------------------------------------------------
# The spec
# ----------------------------------------------------------------------------------------------


def test_spec_is_valid_and_generated() -> None:
    text = SPEC_FILE.read_text(encoding="utf-8")
    assert text == _generate.render(), "edubridge.yaml is stale: run `python -m tbconform.specs.edubridge._generate`"
    spec = yaml.safe_load(text)
    validate_openapi(spec)
    assert spec["x-tb-api"] == "edubridge" and spec["x-tb-error-style"] == "ims"
    ids = []
    for path, item in spec["paths"].items():
        assert path.startswith(EB + "/")
        for method, op in item.items():
            if method not in METHODS:
                continue
            ids.append(op["operationId"])
            assert ("x-tb-binding" in op) != ("x-tb-behaviour" in op), (method, path)
            assert {"401", "403", "500"} <= set(op["responses"]), (method, path)
            if "{" in path:
                assert "404" in op["responses"], (method, path)
            for status, resp in op["responses"].items():
                if status.startswith("4"):
                    schema = SPEC.response_schema(method, path, int(status))
                    assert schema["$ref"].endswith("/ImsxStatusInfo"), (method, path, status)
            scopes = [s for entry in op["security"] for s in entry["OAuth2"]]
            assert any(s.endswith("/admin") for s in scopes) and len(scopes) == 2
    assert len(ids) == len(set(ids)) == 29
    topics = {d["topic"] for d in spec["x-tb-differences"]}
    assert {"map-profile", "applicationMetrics", "subject-track groups", "Enrollment.metrics",
            "propagateGoals and resetGoals"} <= topics
    assert all(set(d) == {"topic", "timeback", "oneEdTech", "sandbox", "ignore"} for d in spec["x-tb-differences"])


def test_examples_are_valid_against_their_schemas() -> None:
    """The contract harness sends the spec's examples: each must be valid where it stands."""
    doc = SPEC.doc

    def valid(schema: dict[str, Any], example: Any, where: str) -> None:
        validator = Draft202012Validator({**schema, "components": doc["components"]},
                                         format_checker=Draft202012Validator.FORMAT_CHECKER)
        errors = [e.message for e in validator.iter_errors(example)]
        assert not errors, (where, errors[:3])

    for name, schema in doc["components"]["schemas"].items():
        if "example" in schema:
            valid(schema, schema["example"], name)
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method not in METHODS:
                continue
            media = (op.get("requestBody") or {}).get("content", {}).get("application/json")
            if media:
                valid(media["schema"], media["example"], f"{method} {path} body")
            for param in op.get("parameters", []):
                if "example" in param:
                    valid(param["schema"], param["example"], f"{method} {path} {param['name']}")


def test_catalog_rows_are_covered() -> None:
    rows = catalog_rows({"EduBridge"})
    assert len(rows) == 26
    have = spec_routes(SPEC.doc)
    wanted = set()
    for row in rows:
        wanted.add(route(row["method"], row["path"]))
        if row["path"].endswith("/{schoolId}"):  # optional segment: both spellings are served
            wanted.add(route(row["method"], row["path"][: -len("/{schoolId}")]))
    assert not sorted(wanted - have), f"uncovered: {sorted(wanted - have)}"
    assert len(have) == 29


def test_analytics_operations_are_declared_for_their_plugin() -> None:
    behaviours = {(m, p): op.get("x-tb-behaviour") for p, item in SPEC.doc["paths"].items()
                  for m, op in item.items() if m in METHODS}
    assert behaviours[("get", f"{EB}/analytics/activity")] == "edubridge.analytics.activity"
    assert behaviours[("get", f"{EB}/analytics/facts/weekly")] == "edubridge.analytics.weekly"
    assert behaviours[("get", f"{EB}/analytics/enrollment/{{enrollmentId}}")] == "edubridge.analytics.enrollment"
    params = {p["name"]: p for p in SPEC.operation("get", f"{EB}/analytics/activity")["parameters"]}
    assert set(params) == {"studentId", "email", "startDate", "endDate", "timezone"}
    assert params["startDate"]["required"] and params["endDate"]["required"] and not params["studentId"]["required"]


# ----------------------------------------------------------------------------------------------
# Every operation answers its spec's shape
# ----------------------------------------------------------------------------------------------


def _calls(w: dict[str, Any]) -> list[tuple[str, str, str, dict[str, Any]]]:
    """(method, spec path, concrete path, request kwargs) for every operation, in a runnable order."""
    u, c, s, a = w["student"], w["course"], w["school"], w["app"]
    track = {"subject": "Science", "grade": "11", "courseId": c, "orgSourcedId": s}
    metric = {"applicationMetric": {"metric": "shapeCheck", "metricSource": "test"}}
    group = {"subject": "Art", "grade": "5", "courseId": c}
    return [
        ("get", "/analytics/activity", "/analytics/activity",
         {"params": {"studentId": u, "startDate": "2025-09-01", "endDate": "2025-09-30"}}),
        ("get", "/analytics/facts/weekly", "/analytics/facts/weekly", {"params": {"studentId": u, "weekDate": "2025-09-10"}}),
        ("get", "/analytics/highestGradeMastered/{studentId}/{subject}", f"/analytics/highestGradeMastered/{u}/Math", {}),
        ("get", "/applications/", "/applications/", {}),
        ("get", "/applicationMetrics/{applicationSourcedId}", f"/applicationMetrics/{a}", {}),
        ("post", "/applicationMetrics/{applicationSourcedId}", f"/applicationMetrics/{a}", {"json": metric}),
        ("delete", "/applicationMetrics/{applicationSourcedId}", f"/applicationMetrics/{a}", {"json": metric}),
        ("post", "/caliper/event", "/caliper/event", {"json": envelope(activity(u))}),
        ("get", "/enrollments/defaultClass/{courseId}", f"/enrollments/defaultClass/{c}", {}),
        ("get", "/enrollments/defaultClass/{courseId}/{schoolId}", f"/enrollments/defaultClass/{c}/{s}", {}),
        ("post", "/enrollments/enroll/{userId}/{courseId}", f"/enrollments/enroll/{u}/{c}", {"json": {}}),
        ("post", "/enrollments/enroll/{userId}/{courseId}/{schoolId}", f"/enrollments/enroll/{u}/{c}/{s}",
         {"json": {"role": "student", "metadata": {"goals": {"dailyXp": 30}}}}),
        ("get", "/enrollments/user/{userId}", f"/enrollments/user/{u}", {}),
        ("get", "/analytics/enrollment/{enrollmentId}", "/analytics/enrollment/{enrollment}", {}),
        ("post", "/enrollments/propagateGoals/{courseId}", f"/enrollments/propagateGoals/{c}", {}),
        ("post", "/enrollments/resetGoals/{courseId}", f"/enrollments/resetGoals/{c}", {"json": {}}),
        ("get", "/learning-reports/map-profile/{userId}", f"/learning-reports/map-profile/{u}", {}),
        ("get", "/time-saved/user/{userId}", f"/time-saved/user/{u}", {}),
        ("delete", "/enrollments/resetProgress/{userId}/{courseId}", f"/enrollments/resetProgress/{u}/{c}", {}),
        ("delete", "/enrollments/unenroll/{userId}/{courseId}/{schoolId}", f"/enrollments/unenroll/{u}/{c}/{s}", {}),
        ("post", "/enrollments/enroll/{userId}/{courseId}", f"/enrollments/enroll/{u}/{c}", {}),
        ("delete", "/enrollments/unenroll/{userId}/{courseId}", f"/enrollments/unenroll/{u}/{c}", {}),
        ("get", "/subject-track/", "/subject-track/", {}),
        ("put", "/subject-track/", "/subject-track/", {"json": track}),
        ("get", "/subject-track/groups", "/subject-track/groups", {}),
        ("post", "/subject-track/groups", "/subject-track/groups", {"json": {**group, "orgSourcedIds": [s]}}),
        ("put", "/subject-track/groups", "/subject-track/groups",
         {"json": {"subject": "Art", "grade": "5", "currentCourseId": c, "courseId": c, "isGlobal": True,
                   "orgSourcedIds": [s], "strategy": "fail"}}),
        ("delete", "/subject-track/groups", "/subject-track/groups", {"json": group}),
        ("delete", "/subject-track/{id}", "/subject-track/{track}", {}),
        ("get", "/users/", "/users/", {"params": {"roles": ["student", "teacher"], "limit": 5}}),
    ]


def test_every_operation_answers_its_spec_shape(sandbox, world) -> None:
    seen: dict[str, Any] = {}
    covered = set()
    with sandbox.client() as c:
        for method, spec_path, path, kwargs in _calls(world):
            path = path.replace("{enrollment}", seen.get("enrollment", "none")).replace("{track}", seen.get("track", "none"))
            answer = c.request(method, EB + path, **kwargs)
            assert answer.status_code < 300, (method, path, answer.status_code, answer.text[:300])
            body = SPEC.check(method, EB + spec_path, answer)
            covered.add((method, EB + spec_path))
            if spec_path.startswith("/enrollments/enroll/"):
                seen["enrollment"] = body["data"]["id"]
            if method == "put" and spec_path == "/subject-track/":
                seen["track"] = body["subjectTrack"]["id"]
    assert covered == {(m, p) for p, item in SPEC.doc["paths"].items() for m in item if m in METHODS}


# ----------------------------------------------------------------------------------------------
# users/: exclusive roles, OneRoster list semantics
# ----------------------------------------------------------------------------------------------


def _user(user_id: str, roles: list[str], org: str) -> dict[str, Any]:
    return {"sourcedId": user_id, "status": "active", "enabledUser": True, "givenName": "Mixed", "familyName": "Roles",
            "email": f"{user_id}@example.org", "userIds": [], "agents": [], "userProfiles": [],
            "roles": [{"roleType": "primary" if i == 0 else "secondary", "role": r,
                       "org": {"href": f"{ROSTERING}/orgs/{org}", "sourcedId": org, "type": "org"}}
                      for i, r in enumerate(roles)]}


def test_users_role_filter_is_exclusive(client, world) -> None:
    mixed = f"mixed-{uuid.uuid4()}"
    made = client.post(f"{ROSTERING}/users", json={"user": _user(mixed, ["student", "teacher"], world["school"])})
    assert made.status_code == 201, made.text

    def listed(**params: Any) -> list[dict[str, Any]]:
        answer = client.get(f"{EB}/users/", params={"limit": 3000, **params})
        return SPEC.check("get", f"{EB}/users/", answer)["users"]

    students = listed(roles="student")
    assert students and all({r["role"] for r in u["roles"]} == {"student"} for u in students)
    assert mixed not in {u["sourcedId"] for u in students}
    both = {u["sourcedId"] for u in listed(roles=["student", "teacher"])}
    assert mixed in both and world["teacher"] in both and world["student"] in both
    assert world["teacher"] not in {u["sourcedId"] for u in listed(roles="teacher", search="Mixed")}
    assert [u["sourcedId"] for u in listed(roles=["student", "teacher"], search="Mixed")] == [mixed]
    assert not listed(roles="student", orgSourcedIds="no-such-org")
    assert all(any(r["org"]["sourcedId"] == world["school"] for r in u["roles"])
               for u in listed(roles="student", orgSourcedIds=world["school"]))


def test_users_list_pages_with_headers_keeping_repeated_roles(client) -> None:
    first = client.get(f"{EB}/users/", params={"roles": ["student", "teacher"], "limit": 2, "sort": "familyName"})
    body = SPEC.check("get", f"{EB}/users/", first)
    total = int(first.headers["X-Total-Count"])
    assert body["totalCount"] == total > 2 and body["limit"] == 2 and len(body["users"]) == 2
    next_link = next(p for p in first.headers["Link"].split(", ") if 'rel="next"' in p)
    url = next_link[1:next_link.index(">")]
    assert "roles=student" in url and "roles=teacher" in url and "offset=2" in url
    second = client.get(url).json()
    assert second["offset"] == 2 and {u["sourcedId"] for u in second["users"]}.isdisjoint(
        u["sourcedId"] for u in body["users"])
    names = [u["familyName"] for u in client.get(f"{EB}/users/", params={"roles": "student", "sort": "familyName",
                                                                          "limit": 3000}).json()["users"]]
    assert names == sorted(names)
    sparse = client.get(f"{EB}/users/", params={"roles": "student", "fields": "sourcedId,email", "limit": 5}).json()
    required = set(SPEC.doc["components"]["schemas"]["User"]["required"])
    assert sparse["users"] and all(set(u) == {"sourcedId", "email"} | required for u in sparse["users"])
    filtered = client.get(f"{EB}/users/", params={"roles": "student", "filter": "familyName='Nobody-Here'"}).json()
    assert filtered["users"] == [] and filtered["totalCount"] == 0


# ----------------------------------------------------------------------------------------------
# Applications and their metrics; subject tracks and groups
# ----------------------------------------------------------------------------------------------


def test_application_metrics_keep_state(client, world) -> None:
    path = f"{EB}/applicationMetrics/{world['app']}"
    metric = {"applicationMetric": {"metric": "lessonsCompleted", "metricSource": "test"}}

    def names() -> set[tuple[str, str]]:
        data = SPEC.check("get", f"{EB}/applicationMetrics/{{applicationSourcedId}}", client.get(path))["data"]
        assert data["applicationSourcedId"] == world["app"]
        return {(m["metric"], m["metricSource"]) for m in data["metrics"]}

    assert ("lessonsCompleted", "test") not in names()
    assert client.post(path, json=metric).status_code == 201
    assert ("lessonsCompleted", "test") in names()
    assert_ims(client.post(path, json=metric), 409)
    assert client.request("DELETE", path, json=metric).status_code == 204
    assert ("lessonsCompleted", "test") not in names()
    assert_ims(client.request("DELETE", path, json=metric), 404)
    assert_ims(client.get(f"{EB}/applicationMetrics/no-such-app"), 404)
    apps = client.get(f"{EB}/applications/").json()["applications"]
    assert world["app"] in {a["sourcedId"] for a in apps}


def test_subject_tracks_upsert_by_key_and_expand(client, world, sandbox) -> None:
    org = records(sandbox, "orgs")
    school = next(o for o in org if o["sourcedId"] == world["school"])
    other_course = records(sandbox, "courses")[1]["sourcedId"]
    first = client.put(f"{EB}/subject-track/", json={"subject": "Music", "grade": "7", "courseId": world["course"],
                                                    "orgSourcedId": world["school"]})
    track = SPEC.check("put", f"{EB}/subject-track/", first)["subjectTrack"]
    assert track["org"]["name"] == school["name"] and track["course"]["sourcedId"] == world["course"]
    again = client.put(f"{EB}/subject-track/", json={"subject": "Music", "grade": "7", "courseId": other_course,
                                                    "orgSourcedId": world["school"]}).json()["subjectTrack"]
    assert again["id"] == track["id"] and again["course"]["sourcedId"] == other_course
    listed = [t for t in client.get(f"{EB}/subject-track/", params={"limit": 3000}).json()["subjectTrack"]
              if t["id"] == track["id"]]
    assert len(listed) == 1 and listed[0]["course"]["sourcedId"] == other_course
    assert all(t["course"]["title"] for t in client.get(f"{EB}/subject-track/").json()["subjectTrack"])
    gone = client.delete(f"{EB}/subject-track/{track['id']}")
    assert gone.status_code == 200 and gone.json() == {"data": None}
    assert_ims(client.delete(f"{EB}/subject-track/{track['id']}"), 404)
    assert track["id"] not in {t["id"] for t in client.get(f"{EB}/subject-track/", params={"limit": 3000})
                               .json()["subjectTrack"]}


def test_subject_track_groups_are_derived_from_tracks(client, world, sandbox) -> None:
    c, s = world["course"], world["school"]
    other = records(sandbox, "courses")[1]["sourcedId"]

    def group(course: str) -> dict[str, Any] | None:
        groups = SPEC.check("get", f"{EB}/subject-track/groups", client.get(f"{EB}/subject-track/groups"))["groups"]
        return next((g for g in groups if g["key"] == {"subject": "Drama", "grade": "6", "courseId": course,
                                                       "isGlobal": g["key"]["isGlobal"]}), None)

    body = {"subject": "Drama", "grade": "6", "courseId": c, "orgSourcedIds": [s]}
    assert client.post(f"{EB}/subject-track/groups", json=body).status_code == 204
    made = group(c)
    assert made and made["id"] == f"Drama|6|{c}" and made["key"]["isGlobal"] is False
    assert [t["org"]["sourcedId"] for t in made["tracks"]] == [s]
    assert_ims(client.post(f"{EB}/subject-track/groups", json=body), 409)
    replace = {"subject": "Drama", "grade": "6", "currentCourseId": c, "courseId": other, "isGlobal": True,
               "orgSourcedIds": [s], "strategy": "replace"}
    assert client.put(f"{EB}/subject-track/groups", json=replace).status_code == 204
    assert group(c) is None
    moved = group(other)
    assert moved["key"]["isGlobal"] is True and len(moved["tracks"]) == 2
    assert_ims(client.put(f"{EB}/subject-track/groups", json=replace), 404)  # no group at c any more
    assert client.request("DELETE", f"{EB}/subject-track/groups",
                          json={"subject": "Drama", "grade": "6", "courseId": other, "isGlobal": True}).status_code == 204
    assert [t["org"] for t in group(other)["tracks"]] != [None]  # only the global track went
    assert client.request("DELETE", f"{EB}/subject-track/groups",
                          json={"subject": "Drama", "grade": "6", "courseId": other}).status_code == 204
    assert group(other) is None
    assert_ims(client.request("DELETE", f"{EB}/subject-track/groups",
                              json={"subject": "Drama", "grade": "6", "courseId": other}), 404)


def test_group_replace_with_strategy_fail_refuses_to_take_over(client, world, sandbox) -> None:
    c, s = world["course"], world["school"]
    other = records(sandbox, "courses")[1]["sourcedId"]
    assert client.post(f"{EB}/subject-track/groups", json={"subject": "Chess", "grade": "1", "courseId": c,
                                                          "orgSourcedIds": []}).status_code == 204
    assert client.post(f"{EB}/subject-track/groups", json={"subject": "Chess", "grade": "1", "courseId": other,
                                                          "orgSourcedIds": [s]}).status_code == 204
    before = records(sandbox, "subjectTracks")
    take = {"subject": "Chess", "grade": "1", "currentCourseId": c, "courseId": c, "isGlobal": True,
            "orgSourcedIds": [s], "strategy": "fail"}
    assert_ims(client.put(f"{EB}/subject-track/groups", json=take), 409)
    assert records(sandbox, "subjectTracks") == before
    assert client.put(f"{EB}/subject-track/groups", json={**take, "strategy": "replace"}).status_code == 204
    chess = [t for t in records(sandbox, "subjectTracks") if t["subject"] == "Chess"]
    assert sorted((t["orgSourcedId"] or "", t["courseId"]) for t in chess) == sorted([("", c), (s, c)])


# ----------------------------------------------------------------------------------------------
# Learning reports
# ----------------------------------------------------------------------------------------------


def _line_item(client, course: str, meta: dict[str, Any]) -> str:
    item_id = f"ali-{uuid.uuid4()}"
    made = client.put(f"{GRADEBOOK}/assessmentLineItems/{item_id}", json={"assessmentLineItem": {
        "sourcedId": item_id, "status": "active", "title": f"{meta['assessmentType']} test", "metadata": meta,
        "course": {"href": f"{ROSTERING}/courses/{course}", "sourcedId": course, "type": "course"}}})
    assert made.status_code in (200, 201), made.text
    return item_id


def _result(client, item: str, student: str, score: float, meta: dict[str, Any]) -> str:
    result_id = f"ar-{uuid.uuid4()}"
    made = client.put(f"{GRADEBOOK}/assessmentResults/{result_id}", json={"assessmentResult": {
        "sourcedId": result_id, "status": "active", "score": score, "scoreDate": f"{meta.get('testDate', '2025-10-01')}T00:00:00.000Z",
        "scoreStatus": "fully graded", "metadata": meta,
        "assessmentLineItem": {"href": f"{GRADEBOOK}/assessmentLineItems/{item}", "sourcedId": item,
                               "type": "assessmentLineItem"},
        "student": {"href": f"{ROSTERING}/users/{student}", "sourcedId": student, "type": "user"}}})
    assert made.status_code in (200, 201), made.text
    return result_id


@pytest.fixture(scope="module")
def tested_student(client, sandbox, world) -> str:
    """A new student with two MAP results in Math (winter newer), a placement and a test-out."""
    student = f"map-{uuid.uuid4()}"
    user = _user(student, ["student"], world["school"])
    assert client.post(f"{ROSTERING}/users", json={"user": user}).status_code == 201
    fall = _line_item(client, world["course"], {"assessmentType": "MAP", "subject": "Math", "testWindow": "Fall"})
    winter = _line_item(client, world["course"], {"assessmentType": "MAP", "subject": "Math", "testWindow": "Winter"})
    _result(client, fall, student, 201, {"assessmentType": "MAP", "subject": "Math", "ritScore": 201, "percentile": 55,
                                         "gradeLevel": 4, "testDate": "2025-09-20", "ritGrade": 4})
    _result(client, winter, student, 214, {"assessmentType": "MAP", "subject": "Math", "ritScore": 214,
                                           "percentile": 70, "gradeLevel": 4, "testDate": "2026-01-15", "ritGrade": 6})
    other = _line_item(client, world["course"], {"assessmentType": "placement", "subject": "Math"})
    _result(client, other, student, 1, {"assessmentType": "placement", "subject": "Math", "grade": 5})
    _result(client, other, student, 1, {"assessmentType": "test-out", "subject": "Math", "grade": 7})
    _result(client, other, student, 1, {"assessmentType": "placement", "subject": "Reading", "grade": 9})
    return student


def test_map_profile_is_the_newest_map_result(client, tested_student) -> None:
    answer = client.get(f"{EB}/learning-reports/map-profile/{tested_student}")
    data = SPEC.check("get", f"{EB}/learning-reports/map-profile/{{userId}}", answer)["data"]
    assert (data["userId"], data["ritScore"], data["percentile"], data["gradeLevel"], data["testDate"]) == \
        (tested_student, 214, 70, "4", "2026-01-15")
    assert [(t["testWindow"], t["ritGrade"]) for t in data["tests"]] == [("Winter", 6), ("Fall", 4)]
    assert_ims(client.get(f"{EB}/learning-reports/map-profile/no-such-user"), 404)


def test_map_profile_of_a_seeded_student(client, sandbox) -> None:
    results = [r for r in records(sandbox, "assessmentResults")
               if (r.get("metadata") or {}).get("assessmentType") == "MAP" and r["status"] == "active"]
    if not results:
        pytest.skip("the seed writes no MAP results")
    student = results[0]["student"]["sourcedId"]
    data = client.get(f"{EB}/learning-reports/map-profile/{student}").json()["data"]
    mine = {r["sourcedId"] for r in results if r["student"]["sourcedId"] == student}
    assert {t["assessmentResultSourcedId"] for t in data["tests"]} == mine
    assert data["ritScore"] is not None


def test_highest_grade_mastered_takes_each_source(client, tested_student) -> None:
    path = f"{EB}/analytics/highestGradeMastered/{{studentId}}/{{subject}}"
    math = SPEC.check("get", path, client.get(f"{EB}/analytics/highestGradeMastered/{tested_student}/Math"))
    assert math["grades"] == {"ritGrade": 6, "edulasticGrade": None, "placementGrade": "5", "testOutGrade": "7",
                              "highestGradeOverall": "7"}
    reading = client.get(f"{EB}/analytics/highestGradeMastered/{tested_student}/Reading").json()["grades"]
    assert reading["ritGrade"] is None and reading["placementGrade"] == "9" and reading["highestGradeOverall"] == "9"
    science = client.get(f"{EB}/analytics/highestGradeMastered/{tested_student}/Science").json()["grades"]
    assert set(science.values()) == {None}
    assert_ims(client.get(f"{EB}/analytics/highestGradeMastered/no-such-student/Math"), 404)


def test_school_days_count_weekdays() -> None:
    monday = date(2025, 9, 1)
    assert school_days(monday, monday + timedelta(days=6)) == 5
    assert school_days(monday + timedelta(days=5), monday + timedelta(days=6)) == 0  # a weekend
    assert school_days(monday, monday + timedelta(days=13)) == 10
    assert school_days(monday + timedelta(days=1), monday) == 0
    assert school_year_of(date(2025, 7, 1)) == 2025 and school_year_of(date(2026, 6, 30)) == 2025


def test_time_saved_follows_the_formula(client, world) -> None:
    student = f"ts-{uuid.uuid4()}"
    assert client.post(f"{ROSTERING}/users", json={"user": _user(student, ["student"], world["school"])}).status_code == 201
    empty = SPEC.check("get", f"{EB}/time-saved/user/{{userId}}", client.get(f"{EB}/time-saved/user/{student}"))["data"]
    assert (empty["schoolDaysElapsed"], empty["totalHoursSaved"], empty["earliestStartDate"]) == (0, 0, None)
    today = date.today()
    begin = today - timedelta(days=20)
    assert client.post(f"{EB}/enrollments/enroll/{student}/{world['course']}",
                       json={"beginDate": begin.isoformat()}).status_code == 201
    data = client.get(f"{EB}/time-saved/user/{student}").json()["data"]
    year_start = date.fromisoformat(data["schoolYearStartDate"])
    expected = school_days(max(begin, year_start), today)
    calc = data["calculation"]
    assert data["earliestStartDate"] == begin.isoformat() and data["schoolDaysElapsed"] == expected
    assert data["totalHoursSaved"] == expected * calc["hoursSavedPerDay"]
    assert calc["hoursSavedPerDay"] == calc["standardSchoolHoursPerDay"] - calc["timebackHoursPerDay"]
    assert data["totalDaysSaved"] == round(data["totalHoursSaved"] / calc["standardSchoolHoursPerDay"], 2)
    assert_ims(client.get(f"{EB}/time-saved/user/no-such-user"), 404)


# ----------------------------------------------------------------------------------------------
# Caliper through EduBridge
# ----------------------------------------------------------------------------------------------


def activity(user: str, event_id: str | None = None, **over: Any) -> dict[str, Any]:
    event = {"@context": CONTEXT, "id": event_id or f"urn:uuid:{uuid.uuid4()}", "type": "ActivityEvent",
             "profile": "TimebackProfile",
             "actor": {"id": f"https://api.alpha-1edtech.ai{ROSTERING}/users/{user}", "type": "TimebackUser",
                       "email": "ada@example.org"},
             "action": "Completed",
             "object": {"id": "https://app.example.org/activities/q3", "type": "TimebackActivityContext",
                        "subject": "Math", "app": {"name": "Example Math"}},
             "generated": {"id": "https://app.example.org/metrics/q3/1", "type": "TimebackActivityMetricsCollection",
                           "items": [{"type": "xpEarned", "value": 12}]},
             "eventTime": "2025-09-15T14:03:12.000Z"}
    event.update(over)
    return event


def envelope(*events: dict[str, Any]) -> dict[str, Any]:
    return {"sensor": "https://app.example.org/sensors/main", "sendTime": "2025-09-15T14:05:00.000Z",
            "dataVersion": CONTEXT, "data": list(events)}


def _math_xp_on_the_day(client, student: str) -> float:
    """The student's Math XP on 2025-09-15 (UTC), as the analytics answer it."""
    got = client.get(f"{EB}/analytics/activity", params={"studentId": student, "startDate": "2025-09-15",
                                                         "endDate": "2025-09-15"})
    assert got.status_code == 200, got.text
    day = got.json()["facts"].get("2025-09-15", {})
    return day.get("Math", {}).get("activityMetrics", {}).get("xpEarned", 0)


def test_caliper_send_stores_like_the_caliper_host(client, sandbox, world) -> None:
    event = activity(world["student"])
    xp_before = _math_xp_on_the_day(client, world["student"])
    answer = client.post(f"{EB}/caliper/event", json=envelope(event))
    assert _math_xp_on_the_day(client, world["student"]) == xp_before + 12  # feeds the analytics at once
    assert SPEC.check("post", f"{EB}/caliper/event", answer) == {"success": True, "message": "1 event accepted for processing"}
    stored = client.get(f"/caliper/events/{event['id']}")
    assert stored.status_code == 200 and stored.json()["event"]["externalId"] == event["id"]
    again = client.post(f"{EB}/caliper/event", json=envelope(event)).json()
    assert again["success"] is True and "already stored" in again["message"]
    assert _math_xp_on_the_day(client, world["student"]) == xp_before + 12  # a resent event counts once
    before = sandbox.sandbox.store.count("caliperEvents")
    bad = activity(world["student"], action="Graded")
    refused = assert_ims(client.post(f"{EB}/caliper/event", json=envelope(activity(world["student"]), bad)), 400)
    assert any(bad["id"] in str(d) for d in refused.get("imsx_error_details", []))
    assert sandbox.sandbox.store.count("caliperEvents") == before


# ----------------------------------------------------------------------------------------------
# Bad input: 4xx in the IMS envelope, nothing written
# ----------------------------------------------------------------------------------------------


def _bad_cases(w: dict[str, Any]) -> list[tuple[str, str, str, dict[str, Any], int]]:
    u, c, s, a = w["student"], w["course"], w["school"], w["app"]
    return [
        ("enroll unknown user", "post", f"/enrollments/enroll/nobody/{c}", {"json": {}}, 404),
        ("enroll unknown course", "post", f"/enrollments/enroll/{u}/no-course", {"json": {}}, 404),
        ("enroll unknown school", "post", f"/enrollments/enroll/{u}/{c}/no-school", {"json": {}}, 404),
        ("enroll body an array", "post", f"/enrollments/enroll/{u}/{c}", {"json": [1, 2]}, 400),
        ("enroll body a string", "post", f"/enrollments/enroll/{u}/{c}", {"json": "student"}, 400),
        ("enroll role of wrong type", "post", f"/enrollments/enroll/{u}/{c}", {"json": {"role": 7}}, 400),
        ("enroll unknown role", "post", f"/enrollments/enroll/{u}/{c}", {"json": {"role": "janitor"}}, 400),
        ("enroll malformed JSON", "post", f"/enrollments/enroll/{u}/{c}",
         {"content": b"{", "headers": {"Content-Type": "application/json"}}, 400),
        ("enroll metadata not an object", "post", f"/enrollments/enroll/{u}/{c}", {"json": {"metadata": []}}, 400),
        ("unenroll unknown user", "delete", f"/enrollments/unenroll/nobody/{c}", {}, 404),
        ("unenroll unknown school", "delete", f"/enrollments/unenroll/{u}/{c}/no-school", {}, 404),
        ("unenroll when not enrolled", "delete", f"/enrollments/unenroll/{w['outsider']}/{c}", {}, 404),
        ("defaultClass unknown course", "get", "/enrollments/defaultClass/no-course", {}, 404),
        ("defaultClass unknown school", "get", f"/enrollments/defaultClass/{c}/no-school", {}, 404),
        ("user enrollments unknown user", "get", "/enrollments/user/nobody", {}, 404),
        ("resetGoals unknown course", "post", "/enrollments/resetGoals/no-course", {"json": {}}, 404),
        ("propagateGoals unknown course", "post", "/enrollments/propagateGoals/no-course", {}, 404),
        ("resetProgress unknown user", "delete", f"/enrollments/resetProgress/nobody/{c}", {}, 404),
        ("users without roles", "get", "/users/", {}, 400),
        ("users unknown role", "get", "/users/", {"params": {"roles": "wizard"}}, 400),
        ("users bad filter", "get", "/users/", {"params": {"roles": "student", "filter": "nope~~'x'"}}, 400),
        ("users bad limit", "get", "/users/", {"params": {"roles": "student", "limit": "zero"}}, 400),
        ("metric body missing", "post", f"/applicationMetrics/{a}", {}, 400),
        ("metric body of wrong type", "post", f"/applicationMetrics/{a}", {"json": {"applicationMetric": "x"}}, 400),
        ("metric unknown application", "post", "/applicationMetrics/no-app",
         {"json": {"applicationMetric": {"metric": "m", "metricSource": "s"}}}, 404),
        ("track unknown course", "put", "/subject-track/", {"json": {"subject": "M", "grade": "1", "courseId": "no"}}, 404),
        ("track unknown org", "put", "/subject-track/",
         {"json": {"subject": "M", "grade": "1", "courseId": c, "orgSourcedId": "no-org"}}, 404),
        ("track grade of wrong type", "put", "/subject-track/", {"json": {"subject": "M", "grade": 1, "courseId": c}}, 400),
        ("track missing subject", "put", "/subject-track/", {"json": {"grade": "1", "courseId": c}}, 400),
        ("group orgs not a list", "post", "/subject-track/groups",
         {"json": {"subject": "M", "grade": "1", "courseId": c, "orgSourcedIds": s}}, 400),
        ("group unknown org", "post", "/subject-track/groups",
         {"json": {"subject": "Q", "grade": "1", "courseId": c, "orgSourcedIds": [s, "no-org"]}}, 404),
        ("group bad strategy", "put", "/subject-track/groups",
         {"json": {"subject": "M", "grade": "1", "currentCourseId": c, "courseId": c, "orgSourcedIds": [],
                   "strategy": "merge"}}, 400),
        ("caliper send not an envelope", "post", "/caliper/event", {"json": {"sensor": 5}}, 400),
        ("highest grade unknown student", "get", "/analytics/highestGradeMastered/nobody/Math", {}, 404),
    ]


bad_sandbox = module_sandbox(name="bad_sandbox")  # a second one: the bad-input cases count its records


def _bad_ids() -> list[str]:
    return [case[0] for case in _bad_cases({"student": "", "course": "", "school": "", "app": "", "outsider": ""})]


@pytest.mark.parametrize("label", _bad_ids())
def test_bad_input_is_refused_without_writing(bad_sandbox, label) -> None:
    users = records(bad_sandbox, "users")
    course = records(bad_sandbox, "courses")[0]
    student = next(u for u in users if [r["role"] for r in u["roles"]] == ["student"])
    classes = {k["sourcedId"] for k in records(bad_sandbox, "classes") if k["course"]["sourcedId"] == course["sourcedId"]}
    enrolled = {e["user"]["sourcedId"] for e in records(bad_sandbox, "enrollments") if e["class"]["sourcedId"] in classes}
    outsider = next(u for u in users if u["sourcedId"] not in enrolled)
    w = {"student": student["sourcedId"], "outsider": outsider["sourcedId"], "course": course["sourcedId"],
         "school": course["org"]["sourcedId"], "app": records(bad_sandbox, "applications")[0]["sourcedId"]}
    _, method, path, kwargs, status = next(c for c in _bad_cases(w) if c[0] == label)
    before = bad_sandbox.sandbox.store.counts()
    with bad_sandbox.client() as c:
        answer = c.request(method, EB + path, **kwargs)
    assert_ims(answer, status)
    assert bad_sandbox.sandbox.store.counts() == before, label


def test_tokens_and_scopes_are_enforced(sandbox, world) -> None:
    assert_ims(httpx.get(f"{sandbox.base_url}{EB}/enrollments/user/{world['student']}"), 401)
    with sandbox.client("tbconform-readonly", "tbconform-readonly-secret") as readonly:
        assert readonly.get(f"{EB}/enrollments/user/{world['student']}").status_code == 200
        assert_ims(readonly.post(f"{EB}/enrollments/enroll/{world['student']}/{world['course']}", json={}), 403)
        assert_ims(readonly.delete(f"{EB}/subject-track/anything"), 403)
