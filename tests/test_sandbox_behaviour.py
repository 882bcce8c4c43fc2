"""Writes, soft deletes, paging headers and the catalog's quirks, against a running sandbox."""
from __future__ import annotations

import io
import zipfile

import httpx

from tbconform.mocks.sandbox import SandboxConfig
from tbconform.mocks.testing import run_sandbox
from tests.conftest import GRADEBOOK, RESOURCES, ROSTERING


def first(client: httpx.Client, path: str, key: str, **params) -> dict:
    return client.get(path, params={"limit": 1, **params}).json()[key][0]


def new_user(client: httpx.Client, org_id: str, **extra) -> str:
    user = {"givenName": "Zoë", "familyName": "Ñandú", "enabledUser": True, "email": "z@example.org",
            "roles": [{"roleType": "primary", "role": "student", "org": {"sourcedId": org_id}}], **extra}
    response = client.post(f"{ROSTERING}/users", json={"user": user})
    assert response.status_code == 201, response.text
    pairs = response.json()["sourcedIdPairs"]
    return pairs["allocatedSourcedId"]


def test_create_get_update_soft_delete_round_trip(fresh_sandbox):
    with fresh_sandbox.client() as c:
        school = first(c, f"{ROSTERING}/schools", "orgs")["sourcedId"]
        uid = new_user(c, school, sourcedId="my-user-1")
        assert uid == "my-user-1"
        got = c.get(f"{ROSTERING}/users/{uid}").json()["user"]
        assert got["enabledUser"] == "true" and got["status"] == "active"  # boolean stored as the wire string
        assert c.put(f"{ROSTERING}/users/{uid}", json={"user": {**got, "givenName": "Zed"}}).status_code in (200, 201)
        assert c.get(f"{ROSTERING}/users/{uid}").json()["user"]["givenName"] == "Zed"
        assert c.delete(f"{ROSTERING}/users/{uid}").status_code == 204
        assert c.get(f"{ROSTERING}/users/{uid}").status_code == 404  # gone from item endpoints ...
        listed = c.get(f"{ROSTERING}/users", params={"filter": f"sourcedId='{uid}'"}).json()["users"]
        assert [u["status"] for u in listed] == ["tobedeleted"]  # ... but a sync still sees the deletion
        assert c.put(f"{ROSTERING}/users/{uid}", json={"user": {**got, "givenName": "Zed"}}).status_code == 404
        assert c.delete(f"{ROSTERING}/users/{uid}").status_code == 404
        assert c.post(f"{ROSTERING}/users", json={"user": {**got, "sourcedId": uid}}).status_code == 409


def test_missing_reference_is_refused_naming_it(fresh_sandbox):
    with fresh_sandbox.client() as c:
        before = fresh_sandbox.sandbox.store.counts()
        response = c.post(f"{ROSTERING}/users", json={"user": {
            "givenName": "A", "familyName": "B", "enabledUser": "true",
            "roles": [{"roleType": "primary", "role": "student", "org": {"sourcedId": "no-such-org"}}]}})
        assert response.status_code == 422 and "no-such-org" in response.json()["imsx_description"]
        assert fresh_sandbox.sandbox.store.counts() == before


def test_gradebook_put_is_create_or_update(fresh_sandbox):
    with fresh_sandbox.client() as c:
        body = {"category": {"title": "Projects", "status": "active", "weight": 0.25}}
        created = c.put(f"{GRADEBOOK}/categories/cat-new", json=body)
        assert created.status_code == 201 and created.json()["category"]["sourcedId"] == "cat-new"
        updated = c.put(f"{GRADEBOOK}/categories/cat-new", json={"category": {"title": "Labs", "status": "active"}})
        assert updated.status_code == 201 and updated.json()["category"]["title"] == "Labs"


def test_trailing_slash_reaches_the_same_route(readonly_sandbox):
    with readonly_sandbox.client() as c:
        a = c.get(f"{ROSTERING}/users", params={"limit": 3}).json()
        b = c.get(f"{ROSTERING}/users/", params={"limit": 3}).json()
        assert a == b and len(a["users"]) == 3


def test_paging_headers_and_body_fields(readonly_sandbox):
    with readonly_sandbox.client() as c:
        response = c.get(f"{ROSTERING}/users", params={"limit": 5, "offset": 5})
        body = response.json()
        total = int(response.headers["X-Total-Count"])
        assert body["totalCount"] == total and body["limit"] == 5 and body["offset"] == 5 and body["pageNumber"] == 2
        assert body["pageCount"] == -(-total // 5)
        assert 'rel="next"' in response.headers["Link"] and "offset=10" in response.headers["Link"]
        assert 'rel="prev"' in response.headers["Link"]


def test_class_students_answered_under_both_keys(readonly_sandbox):
    with readonly_sandbox.client() as c:
        klass = first(c, f"{ROSTERING}/classes", "classes")["sourcedId"]
        body = c.get(f"{ROSTERING}/classes/{klass}/students").json()
        assert body["users"] and body["users"] == body["students"]
        assert all(any(r["role"] == "student" for r in u["roles"]) for u in body["users"])
        teachers = c.get(f"{ROSTERING}/classes/{klass}/teachers").json()
        assert len(teachers["users"]) == 1 and teachers["users"] == teachers["teachers"]


def test_grading_period_written_as_academic_session_read_as_grading_period(fresh_sandbox):
    with fresh_sandbox.client() as c:
        term = first(c, f"{ROSTERING}/terms", "terms")
        body = {"academicSession": {"title": "Q9", "startDate": "2026-01-05", "endDate": "2026-03-20",
                                    "type": "gradingPeriod", "schoolYear": 2026, "org": term["org"],
                                    "parent": {"sourcedId": term["sourcedId"]}}}
        created = c.post(f"{ROSTERING}/gradingPeriods", json=body)
        assert created.status_code == 201, created.text
        gid = created.json()["sourcedIdPairs"]["allocatedSourcedId"]
        got = c.get(f"{ROSTERING}/gradingPeriods/{gid}").json()
        assert got["gradingPeriod"]["title"] == "Q9" and got["gradingPeriod"]["schoolYear"] == 2026
        listed = c.get(f"{ROSTERING}/terms/{term['sourcedId']}/gradingPeriods").json()["gradingPeriods"]
        assert gid in {g["sourcedId"] for g in listed}


def test_adding_a_student_to_a_class_makes_an_enrollment_with_the_class_school(fresh_sandbox):
    with fresh_sandbox.client() as c:
        klass = first(c, f"{ROSTERING}/classes", "classes")
        uid = new_user(c, klass["school"]["sourcedId"])
        created = c.post(f"{ROSTERING}/classes/{klass['sourcedId']}/students",
                         json={"enrollment": {"user": {"sourcedId": uid}, "primary": False}})
        assert created.status_code == 201, created.text
        eid = created.json()["sourcedIdPairs"]["allocatedSourcedId"]
        enrollment = c.get(f"{ROSTERING}/enrollments/{eid}").json()["enrollment"]
        assert enrollment["role"] == "student" and enrollment["primary"] == "false"
        assert enrollment["school"]["sourcedId"] == klass["school"]["sourcedId"]
        students = c.get(f"{ROSTERING}/classes/{klass['sourcedId']}/students", params={"limit": 3000}).json()["users"]
        assert uid in {s["sourcedId"] for s in students}


def test_agents_credentials_demographics_and_export(fresh_sandbox):
    with fresh_sandbox.client() as c:
        student = first(c, f"{ROSTERING}/students", "users")
        sid = student["sourcedId"]
        agents = c.get(f"{ROSTERING}/users/{sid}/agents").json()["agents"]
        assert agents and {a["sourcedId"] for a in agents} == {a["sourcedId"] for a in student["agents"]}
        teacher = first(c, f"{ROSTERING}/teachers", "users")["sourcedId"]
        assert c.post(f"{ROSTERING}/users/{sid}/agents", json={"agentSourcedId": teacher}).status_code == 200
        assert sid in {u["sourcedId"] for u in c.get(f"{ROSTERING}/users/{teacher}/agentFor").json()["users"]}
        assert c.delete(f"{ROSTERING}/users/{sid}/agents/{teacher}").status_code == 204
        assert c.delete(f"{ROSTERING}/users/{sid}/agents/{teacher}").status_code == 404
        reg = c.post(f"{ROSTERING}/users/{sid}/credentials",
                     json={"applicationName": "Reader", "credentials": {"username": "kid", "password": "pa55"}}).json()
        secret = c.post(f"{ROSTERING}/users/{sid}/credentials/{reg['credentialId']}/decrypt", json={}).json()
        assert secret == {"password": "pa55"}
        assert "pa55" not in c.get(f"{ROSTERING}/users/{sid}").text
        demo = c.get(f"{ROSTERING}/users/{sid}/demographics").json()["user"]["demographics"]
        assert demo["sourcedId"] == sid and demo["birthDate"]
        resource = first(c, f"{RESOURCES}/resources", "resources")["sourcedId"]
        export = c.post(f"{RESOURCES}/resources/export/{resource}")
        assert export.status_code == 200 and export.headers["content-type"] == "application/zip"
        assert "imsmanifest.xml" in zipfile.ZipFile(io.BytesIO(export.content)).namelist()


def test_reset_restores_the_seeded_world(fresh_sandbox):
    with fresh_sandbox.client() as c:
        before = fresh_sandbox.sandbox.store.counts()
        new_user(c, first(c, f"{ROSTERING}/schools", "orgs")["sourcedId"])
        assert fresh_sandbox.sandbox.store.counts() != before
        assert httpx.post(fresh_sandbox.base_url + "/_sandbox/reset").status_code == 200
        assert fresh_sandbox.sandbox.store.counts() == before


def test_db_file_persists_across_restart(tmp_path):
    db = tmp_path / "sandbox.db"
    with run_sandbox(SandboxConfig(db=str(db))) as sb, sb.client() as c:
        uid = new_user(c, first(c, f"{ROSTERING}/schools", "orgs")["sourcedId"], sourcedId="persisted-1")
        counts = sb.sandbox.store.counts()
    with run_sandbox(SandboxConfig(db=str(db), seed=7)) as sb, sb.client() as c:
        assert c.get(f"{ROSTERING}/users/{uid}").json()["user"]["familyName"] == "Ñandú"
        assert sb.sandbox.store.counts() == counts  # not reseeded over existing data
